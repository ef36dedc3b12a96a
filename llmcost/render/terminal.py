"""The terminal report: Rich tables, a heat grid, clear headings."""

from __future__ import annotations

from rich.console import Console, Group
from rich.rule import Rule
from rich.table import Table as RichTable
from rich.text import Text

from llmcost.render.layout import Table, sections

_FLEX = {"Prompt", "System prompt", "Why", "Reason"}
_HEAT = ["grey35", "yellow4", "yellow", "dark_orange", "red"]


def _table(t: Table) -> RichTable:
    align = t.align or ("l" + "r" * (len(t.columns) - 1))
    compact = t.heat is not None
    rt = RichTable(
        show_edge=False,
        box=None,
        pad_edge=False,
        expand=False,
        padding=(0, 0 if compact else 1),
        header_style="bold",
    )
    for name, a in zip(t.columns, align):
        rt.add_column(
            name,
            justify="right" if a == "r" else "left",
            overflow="ellipsis",
            no_wrap=True,
            min_width=4 if compact and name != t.columns[0] else None,
            ratio=1 if name in _FLEX else None,
        )
    for i, row in enumerate(t.rows):
        cells = []
        for j, cell in enumerate(row):
            if t.heat is not None and j > 0:
                weight = t.heat[i][j]
                style = (
                    _HEAT[min(int(weight * len(_HEAT)), len(_HEAT) - 1)]
                    if cell != "·"
                    else "grey23"
                )
                cells.append(Text(cell, style=style))
            else:  # Text, not str: a cell from a log is not Rich markup (and no parse)
                cells.append(Text(cell))
        rt.add_row(*cells)
    return rt


def renderable(report: dict) -> Group:
    parts = [Text("LLM cost report", style="bold underline")]
    for section in sections(report):
        parts.append(Rule(Text(section.title, style="bold cyan"), align="left"))
        for line in section.lines:
            parts.append(Text(line))
        for t in section.tables:
            parts.append(_table(t))
    return Group(*parts)


def render(report: dict, console: Console) -> None:
    console.print(renderable(report))
