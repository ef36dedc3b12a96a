"""Renderers: one module per output format; they format a report dict and run no queries."""

from __future__ import annotations

import os
import re
from collections import Counter


def money(value: float | None) -> str:
    """Dollars for people: cents for most amounts, more digits for tiny ones; an amount that
    is not zero never reads as zero ("<$0.000001", "−<$0.000001" when negative). A negative
    amount has its minus before the dollar sign ("−$0.03", not "$-0.03")."""
    if value is None:
        return "—"
    if value == 0:
        return "$0.00"
    if value < 0:
        return "−" + money(-value)
    if value < 0.01:
        if value >= 0.0001:
            return f"${value:.4f}"
        if f"{value:.6f}" == "0.000000":
            return "<$0.000001"
        return f"${value:.6f}"
    return f"${value:,.2f}"


def _dollars(value: float, digits: int) -> str:
    """``value`` in dollars with ``digits`` decimals, its minus before the dollar sign."""
    return ("−" if value < 0 else "") + f"${abs(value):,.{digits}f}"


def money_beside(value: float | None, other: float | None) -> str:
    """``value`` in dollars, beside ``other`` (a limit and the actual amount): with as many more
    digits as it takes for two different amounts not to read the same ("Limit $0.02,
    Actual $0.02, FAIL" for $0.0218 over $0.02)."""
    text = money(value)
    if other is None or value == other or text != money(other):
        return text
    for digits in range(3, 9):
        text = _dollars(value, digits)
        if text != _dollars(other, digits):
            break
    return text


def money_to_delta(values, delta: float | None) -> list[str]:
    """Each of ``values`` (amounts compared, ``delta`` their difference) in dollars as
    ``money`` writes it, with as many digits as ``delta`` is written with when it has more:
    "Reported $0.01, Computed $0.0090, Δ +$0.0045, +50.0%" read as a tenth of a cent apart
    for $0.0135 and $0.009; now "$0.0135". Zero stays "$0.00"."""
    texts = [money(v) for v in values]
    shown = money(abs(delta)) if delta else ""
    if not shown or "<" in shown:  # no difference, or one below a millionth of a dollar
        return texts
    digits = len(shown.rpartition(".")[2])
    return [
        _dollars(v, digits)
        if v and "<" not in text and len(text.rpartition(".")[2]) < digits
        else text
        for v, text in zip(values, texts)
    ]


def money_apart(values) -> list[str]:
    """Each of ``values`` in dollars as ``money`` writes it, those that would read the same
    as a different amount given as many more digits as tell them apart: one table's two
    price tiers of 11 tokens ($15 and $22.50 per million) both read "$0.0002"; now
    "$0.00017" and "$0.00025"."""
    texts = [money(v) for v in values]
    for text in set(texts):
        same = [i for i, t in enumerate(texts) if t == text]
        amounts = {values[i] for i in same}
        if len(amounts) < 2:
            continue
        shown = len(text.rpartition(".")[2]) if "." in text else 0
        for digits in range(max(shown + 1, 3), 13):
            apart = {_dollars(v, digits) for v in amounts}
            if len(apart) == len(amounts):
                break
        for i in same:
            texts[i] = _dollars(values[i], digits)
    return texts


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def plural(n: float | None, one: str, many: str | None = None) -> str:
    """``n`` (as ``count`` writes it; a float as short as it goes) and the words that agree
    with it: ``one`` for 1, else ``many`` (default ``one`` + "s"): plural(1, "call") is
    "1 call", plural(2, "call") "2 calls", plural(1, "line was", "lines were") "1 line was"."""
    number = f"{n:,g}" if isinstance(n, float) else count(n)
    return f"{number} {one if n == 1 else (many or one + 's')}"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

# Markdown output is pasted where GitHub (or GitLab) renders it: a pull-request comment, a
# CI job summary. Text from the logs (prompts, names, reject reasons, file names) must show
# there as text and do nothing else.
_MARKDOWN_SAFE = str.maketrans(
    {
        "\\": "\\\\",  # so that the escapes below hold (a logged '\\`' would be '\\' then '`')
        "`": "\\`",  # no code span (it would run to the next backtick of the cell or line)
        "&": "&amp;",  # HTML: no tags, no entities
        "<": "&lt;",
        ">": "&gt;",
        "@": "@\u200d",  # a zero-width joiner after @: no @mention that pings someone
        "[": "\\[",  # no link or image ([text](url), ![](url)), no task box
        "|": "\\|",  # no table-cell break
        "\r": " ",  # no line break (a new list item, a new table row)
        "\n": " ",
    }
)


# A list item's text is read as blocks: one starting like a heading, a list item, a rule or a
# fence ('# x', '- x', '1. x', '---', '~~~') would be one inside the item. Its first mark is
# escaped (a table cell is inline text only: the escape changes nothing there).
_BLOCK_START = re.compile(
    r"(?:#{1,6}|[-+*])(?=\s|$)|([-*_])(?:[ \t]*\1){2,}[ \t]*$|~{3,}|\d{1,9}(?=[.)](?:\s|$))"
)


def overlay_names(report: dict) -> str:
    """The user's price files a report was priced with (``pricing_overlays``), each with the
    version it gives: 'llmcost.yaml, contract.yaml (2027-01)', or "" without any."""
    return ", ".join(
        o["file"] + (f" ({o['version']})" if o.get("version") else "")
        for o in report.get("pricing_overlays") or []
    )


def md_escape(text) -> str:
    """``text`` made safe for one Markdown line or table cell, readable as it was: HTML
    escaped, @mentions broken with an invisible joiner, backslashes, backticks, ``[`` and
    ``|`` backslash-escaped, line breaks turned into spaces, a leading block mark escaped and
    leading blanks (an indented code block after ``- ``) dropped. ``#123`` references stay
    as they are."""
    text = str(text).translate(_MARKDOWN_SAFE).lstrip(" \t")
    start = _BLOCK_START.match(text)
    if start is None:
        return text
    cut = start.end() if text[0].isdigit() else 0
    return f"{text[:cut]}\\{text[cut:]}"


def short_paths(paths) -> dict[str, str]:
    """Each path as short as it stays unambiguous among ``paths``: its file name when no
    other path has that name, else relative to the working directory when under it, else
    its shortest ending (whole directories) no other path of that name ends with
    (/var/log/a/app.jsonl and /srv/b/app.jsonl: a/app.jsonl and b/app.jsonl)."""
    name = {p: p.rsplit("/", 1)[-1] for p in paths if p}
    taken = Counter(name.values())
    cwd = os.getcwd().rstrip("/") + "/"
    namesakes: dict[str, list[str]] = {}
    for p, n in name.items():
        namesakes.setdefault(n, []).append(p)

    def short(p: str, n: str) -> str:
        if taken[n] == 1:
            return n
        if p.startswith(cwd):
            return p.removeprefix(cwd)
        parts = p.split("/")
        others = [q for q in namesakes[n] if q != p]
        for k in range(2, len(parts)):
            end = "/".join(parts[-k:])
            if not any(q == end or q.endswith("/" + end) for q in others):
                return end
        return p

    return {p: short(p, n) for p, n in name.items()}
