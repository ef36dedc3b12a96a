"""The terminal report: Rich tables, a heat grid, clear headings.

Tables are fitted to the width they are printed at: numbers, dates and ``file:line``
cells are always shown whole; free-text columns (prompt previews, names, reasons) give
up width first, shortened with an ellipsis.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.rule import Rule
from rich.segment import Segment
from rich.table import Table as RichTable
from rich.text import Text

from llmcost.pricing import BEDROCK_REGIONS, BEDROCK_VENDORS, HOST_PREFIXES, NAME_PREFIX_PROVIDERS
from llmcost.render.layout import Table, sections

_HEAT = ["grey35", "yellow4", "yellow", "dark_orange", "red"]
# A left-aligned cell that must stay whole: file:line, a date or a time, numbers ("1,725/16,000").
_WHOLE_CELL = re.compile(r"^(\S+:\d+|\d{4}-\d\d-\d\d[ T0-9:]*|[-+−$<]?[\d,.]+[%k]?(/[\d,.]+)*|—)$")
_MIN_FREE = 8  # a free-text column is never shrunk below this (or its header)
_COMFORT = 16  # ... nor below this while an optional column can be left out instead


def _is_whole(t: Table, j: int, align: str) -> bool:
    """Whether column ``j`` holds numbers (right-aligned) or file:line / date cells."""
    if t.columns[j] in t.fold:
        return False
    if align[j] == "r" or t.columns[j] in t.whole:
        return True
    if t.columns[j] in t.names:  # cut as names are, told apart: a Bedrock id ends ":0" as
        return False  # file:line cells do, yet is no place to copy whole
    cells = [row[j] for row in t.rows if row[j]]
    return bool(cells) and all(_WHOLE_CELL.match(str(c)) for c in cells)


def _natural_width(t: Table, j: int) -> int:
    """Column ``j``'s width with nothing shortened: its widest cell or header."""
    return max(cell_len(str(c)) for c in [t.columns[j], *(row[j] for row in t.rows)])


def _longest_word(header) -> int:
    """The width a header cannot wrap below (it wraps at its spaces)."""
    return max(cell_len(w) for w in str(header).split() or [""])


# What comes before the part of a name that names the model: a gateway's or provider's
# segments ("bedrock/", "openrouter/anthropic/"), a Bedrock model ARN's
# "arn:...:inference-profile/" (a user's ARN is kept: its start says what it is), a Bedrock
# cross-region inference profile's region ("us.", "apac.") and its vendor ("anthropic.")
_GATEWAYS = sorted({*NAME_PREFIX_PROVIDERS, *HOST_PREFIXES}, key=len, reverse=True)
_NAME_PREFIX = re.compile(
    rf"^(?:(?:{'|'.join(map(re.escape, _GATEWAYS))}"
    r"|arn:aws[\w-]*:bedrock:[^/\s]*:(?:inference-profile|foundation-model))/)*"
    rf"(?:(?:{'|'.join(BEDROCK_REGIONS)})\.)?"
    rf"(?:(?:{'|'.join(BEDROCK_VENDORS)})\.)?"
)


def _reads_as(form: str, other: str) -> bool:
    """Whether ``other`` could be read in ``form`` (its parts between ellipses, in order:
    the first at its start, the last at its end)."""
    first, *middle, last = form.split("…")
    if not (other.startswith(first) and other.endswith(last)):
        return False
    rest = other[len(first) : len(other) - len(last)]
    for part in middle:
        at = rest.find(part)
        if at < 0:
            return False
        rest = rest[at + len(part) :]
    return True


def _cuts(name: str, width: int):
    """The forms of ``name`` that fit ``width`` cells, best first: with its gateway, region
    and vendor prefix left out ("…claude-3-7-sonnet-2…" for
    "us.anthropic.claude-3-7-sonnet-20250219-v1:0": the prefix says least of what the model
    is), else cut at the end, else in the middle ever further from it."""
    prefix = _NAME_PREFIX.match(name).end()
    if 0 < prefix < len(name):
        core = name[prefix:]
        # the prefix left out, else only its first part kept ("us.…claude-3-7-…" beside
        # "eu.…claude-3-7-…": two regions' profiles of one model)
        first = re.match(r"[^./]*[./]", name).group()
        for lead in ["", first] if len(first) < prefix else [""]:
            room = width - cell_len(lead) - 1
            if room < 2:
                continue
            if cell_len(core) <= room:
                yield f"{lead}…{core}"
                continue
            for form in _cuts(core, room):
                if not form.startswith("…"):  # a prefix left out once
                    yield f"{lead}…{form}"
    keep = width - 1  # characters kept beside the ellipsis (names are mostly ASCII)
    for k in [keep] + sorted(range(keep), key=lambda k: (abs(k - keep // 2), -k)):
        head, tail = name[:k], name[len(name) - (keep - k) :] if keep > k else ""
        if cell_len(head + tail) <= keep:
            yield f"{head}…{tail}"


def name_forms(names, width: int) -> dict[str, str] | None:
    """Each of ``names`` as shown in ``width`` cells: whole if it fits, else without its
    gateway, region and vendor prefix ("…claude-3-7-sonnet…" for a Bedrock inference
    profile: "us.anthropic.cl…" lost the model), else cut at the end
    ("claude-sonnet-4-5-2…") or, when another cut name would read the same, cut in the
    middle so that what tells it apart stays ("gemi…flash", "gemi…05-20"): a cut form is
    never one that another cut name could be read as (the same start and the same end,
    and what is between in order). None when some name has no such form at this width."""
    long = sorted({n for n in map(str, names) if cell_len(n) > width})
    forms = {n: n for n in map(str, names) if cell_len(n) <= width}
    if width < 2:
        return forms if not long else None
    for name in long:
        for form in _cuts(name, width):
            if not any(o != name and _reads_as(form, o) for o in long):
                forms[name] = form
                break
        else:
            return None
    return forms


def _names_floor(t: Table, j: int, floor: int, natural: int) -> int:
    """The narrowest width, from ``floor``, at which a names column tells its names apart."""
    cells = [row[j] for row in t.rows if row[j]]
    for width in range(floor, natural):
        if name_forms(cells, width) is not None:
            return width
    return natural


def _is_names(t: Table, j: int, whole: list[bool]) -> bool:
    return t.columns[j] in t.names and not whole[j]


def fit_widths(
    t: Table, width: int, min_free: int = _MIN_FREE, gap: int = 2
) -> tuple[list[int], list[bool]] | None:
    """Column widths (content, no padding) for ``t`` within ``width`` cells, and which
    columns are whole; None when even the whole columns and shortest free text do not fit.

    Free-text columns shrink first, the widest first, down to ``min_free`` (or their
    header); then the headers of whole columns wrap onto a second line. A whole column is
    never narrower than its widest cell."""
    align = t.align or ("l" + "r" * (len(t.columns) - 1))
    n = len(t.columns)
    widths = [_natural_width(t, j) for j in range(n)]
    whole = [_is_whole(t, j, align) for j in range(n)]
    room = width - gap * (n - 1)
    floors = [
        max(cell_len(str(row[j])) for row in t.rows) if whole[j] and t.rows else 0 for j in range(n)
    ]
    for j in range(n):
        if not whole[j]:
            floors[j] = min(widths[j], max(min_free, _longest_word(t.columns[j])))
        if _is_names(t, j, whole):  # never so narrow that two names read the same
            floors[j] = _names_floor(t, j, floors[j], widths[j])
    comfort = [min(widths[j], max(floors[j], _COMFORT)) if not whole[j] else 0 for j in range(n)]
    widths = _shrink_free(widths, whole, comfort, room)
    # whole columns: let a long header wrap at its spaces, never a cell
    excess = sum(widths) - room
    for j in range(n):
        if excess <= 0:
            break
        if whole[j]:
            cut = min(widths[j] - max(floors[j], _longest_word(t.columns[j])), excess)
            if cut > 0:
                widths[j] -= cut
                excess -= cut
    widths = _shrink_free(widths, whole, floors, room)
    excess = sum(widths) - room
    if excess > 0:
        return None
    return widths, whole


def plan(t: Table, width: int) -> tuple[Table, tuple[list[int], list[bool]] | None, int]:
    """The columns to show, their widths and the gap between them: every column if free
    text keeps ``_COMFORT`` cells, else without the table's optional columns (first to go
    first), else without all of them and free text down to ``_MIN_FREE``, with two spaces
    between columns, then one, else without its spare columns too (first to go first);
    widths None when nothing fits."""
    candidates = [t] + [_without(t, t.optional[: k + 1]) for k in range(len(t.optional))]
    for shown in candidates:
        fitted = fit_widths(shown, width, _COMFORT)
        if fitted is not None:
            return shown, fitted, 2
    spare = [_without(candidates[-1], t.spare[: k + 1]) for k in range(len(t.spare))]
    for shown in [candidates[-1], *spare]:
        for gap in (2, 1):
            fitted = fit_widths(shown, width, _MIN_FREE, gap)
            if fitted is not None:
                return shown, fitted, gap
    return t, None, 2


def _without(t: Table, names) -> Table:
    align = t.align or ("l" + "r" * (len(t.columns) - 1))
    keep = [j for j, c in enumerate(t.columns) if c not in names]
    return Table(
        [t.columns[j] for j in keep],
        [[row[j] for j in keep] for row in t.rows],
        "".join(align[j] for j in keep),
        None if t.heat is None else [[h[j] for j in keep] for h in t.heat],
        whole=t.whole,
        names=t.names,
        fold=t.fold,
    )


def _shrink_free(widths: list[int], whole: list[bool], floors: list[int], room: int) -> list[int]:
    """Take width from the free-text columns, the widest first (level with the next
    widest, then both), none below its floor, until the columns fit in ``room``."""
    widths = list(widths)
    excess = sum(widths) - room
    while excess > 0:
        free = [j for j in range(len(widths)) if not whole[j] and widths[j] > floors[j]]
        if not free:
            break
        top = max(widths[j] for j in free)
        below = max([widths[j] for j in free if widths[j] < top] + [0])
        # the widest columns give the cut in equal shares: the first of two equal columns
        # took it all (to its floor) while the second kept its width
        tied = [j for j in free if widths[j] == top]
        step = min(top - max(below, floors[j]) for j in tied)
        share, extra = divmod(min(step * len(tied), excess), len(tied))
        for i, j in enumerate(tied):
            cut = share + int(i >= len(tied) - extra)  # a cell left over: from the last ones
            widths[j] -= cut
            excess -= cut
    return widths


class FitTable:
    """A layout ``Table`` rendered to fit the width it is printed at; ``style`` gives a
    cell's Rich style from its text (a check's FAIL in red)."""

    def __init__(self, t: Table, style=None) -> None:
        self.t, self.style = t, style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        t, width = self.t, options.max_width
        if t.heat is not None:
            for table in _heat_tables(t, width):
                yield from _unpadded(table, console, options)
            return
        shown, fitted, gap = plan(t, width)
        if fitted is None:  # too many whole columns: print wider than the screen, uncut
            shown = t
        left_out = [c for c in t.columns if c not in shown.columns]
        legend = t.legend(shown.columns) if t.legend else []
        if legend and left_out:  # said in the line that explains the columns, not twice
            legend[-1] += (
                f" ({', '.join(left_out)}: left out at this width; --format json has them)"
            )
        for line in legend:
            yield from WrappedLine(line).__rich_console__(console, options)
        if fitted is None:
            yield from _unpadded(
                _rich_table(t, None, overflow=True, cell_style=self.style), console, options
            )
            return
        yield from _unpadded(
            _rich_table(shown, fitted, gap=gap, cell_style=self.style), console, options
        )
        if left_out and not legend:  # wrapped at its spaces, none left at a line's end
            yield from WrappedLine(
                f"({', '.join(left_out)} left out at this width; a wider terminal or "
                "--format json shows every column)",
                style="dim",
            ).__rich_console__(console, options)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, options.max_width)


def _unpadded(table: RichTable, console: Console, options: ConsoleOptions) -> RenderResult:
    """``table``'s lines without the spaces Rich pads its cells with at their ends (a
    left-aligned last column, a header shorter than its column): no line of the report
    ends in a space. A table wider than the screen (``table.width``) is not cropped."""
    options = options.update_width(max(options.max_width, table.width or 0))
    for line in console.render_lines(table, options, pad=False, new_lines=False):
        while line and not line[-1].control and not line[-1].text.rstrip():
            line.pop()  # a segment of spaces only
        if line and not line[-1].control:
            last = line[-1]
            line[-1] = Segment(last.text.rstrip(), last.style)
        yield from line
        yield Segment.line()


def _rich_table(
    t: Table, fitted, overflow: bool = False, gap: int = 2, cell_style=None
) -> RichTable:
    align = t.align or ("l" + "r" * (len(t.columns) - 1))
    if t.heat is not None:
        gap = 0
    if fitted is None:
        widths = [_natural_width(t, j) for j in range(len(t.columns))]
        whole = [True] * len(widths)
    else:
        widths, whole = fitted
    rt = RichTable(
        show_edge=False,
        box=None,
        pad_edge=False,
        expand=False,
        padding=(0, 1 if gap else 0, 0, 1 if gap == 2 else 0),
        header_style="bold",
        width=(sum(widths) + gap * (len(widths) - 1)) if overflow else None,
    )
    for j, (name, a) in enumerate(zip(t.columns, align)):
        fold = name in t.fold  # wrapped onto several lines, never cut
        rt.add_column(
            Text(name, no_wrap=False, overflow="fold"),  # a header may wrap at its spaces
            justify="right" if a == "r" else "left",
            overflow="fold" if fold else "ellipsis",
            no_wrap=not fold,  # never wider than a whole column: only free text is shortened
            width=widths[j],
        )
    forms = {  # names cut by hand, told apart (Rich's ellipsis would cut them alike)
        j: name_forms([row[j] for row in t.rows], widths[j])
        for j in range(len(t.columns))
        if _is_names(t, j, whole) and widths[j] < _natural_width(t, j)
    }
    for i, row in enumerate(t.rows):
        cells = []
        for j, cell in enumerate(row):
            if forms.get(j):
                cell = forms[j].get(str(cell), cell)
            if t.heat is not None and j > 0:
                weight = t.heat[i][j]
                style = (
                    _HEAT[min(int(weight * len(_HEAT)), len(_HEAT) - 1)]
                    if cell != "·"
                    else "grey23"
                )
                cells.append(Text(cell, style=style))
            else:  # Text, not str: a cell from a log is not Rich markup (and no parse)
                cells.append(Text(cell, style=cell_style(cell) if cell_style else ""))
        rt.add_row(*cells)
    return rt


def _heat_tables(t: Table, width: int):
    """The heat grid whole, or in two halves (hours 00–11, 12–23) when it is too wide."""
    widths = [max(4 if j else 0, _natural_width(t, j)) for j in range(len(t.columns))]
    if sum(widths) <= width:
        yield _rich_table(t, (widths, [True] * len(widths)))
        return
    half = (len(t.columns) - 1) // 2
    for part in (range(1, half + 1), range(half + 1, len(t.columns))):
        keep = [0, *part]
        sub = _without(t, [c for j, c in enumerate(t.columns) if j not in keep])
        yield _rich_table(sub, ([widths[j] for j in keep], [True] * len(keep)))


def wrapped(line: str, console: Console, width: int | None = None) -> list[Text]:
    """A line of text (not markup) wrapped to ``width`` (the console's) at its spaces, the
    lines after the first indented by two so they read as its continuation ("Not counted: ...
    --format json lists each\n  with its file, line and reason)"). A word is never broken:
    a path, a URL or a number wider than the terminal stays whole on a line of its own
    (copied as one), not folded in the middle."""
    width = width or console.width
    first, *rest = Text(line, overflow="ignore").wrap(console, width)
    if not rest:
        return [first]
    tail = line[len(first.plain) :].strip()
    return [
        first,
        *(
            Text("  ") + part
            for part in Text(tail, overflow="ignore").wrap(console, max(width - 2, 1))
        ),
    ]


def print_wrapped(console: Console, line: str, style: str = "") -> None:
    """``line`` printed as ``wrapped`` lays it out (in ``style``), in one print: a live
    progress bar redraws between two."""
    parts = wrapped(line, console)
    for part in parts:
        part.rstrip()
    text = Text("\n").join(parts)
    if style:
        text.stylize(style)
    console.print(text, no_wrap=True, overflow="ignore", crop=False)


class WrappedLine:
    """A line laid out as ``wrapped`` does, at the width it is printed at: a path in a note
    stays whole ("…/llm-gateway-production-eu-west-1/2026/…" was folded at its 80th column)."""

    def __init__(self, line: str, style: str = "") -> None:
        self.line, self.style = line, style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for part in wrapped(self.line, console, options.max_width):
            part.rstrip()
            if self.style:
                part.stylize(self.style)
            part.no_wrap, part.overflow = True, "ignore"  # laid out already: not folded again
            yield part

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, options.max_width)


def renderable(report: dict) -> Group:
    parts = [Text("LLM cost report", style="bold underline")]
    for section in sections(report):
        parts.append(Rule(Text(section.title, style="bold cyan"), align="left"))
        for line in section.lines:
            parts.append(WrappedLine(line))
        for t in section.tables:
            parts.append(FitTable(t))
    return Group(*parts)


def render(report: dict, console: Console) -> None:
    console.print(renderable(report), crop=False)
