"""Markdown, for pasting into an issue, a pull request or a CI summary."""

from __future__ import annotations

from llmcost.render.layout import Table, sections


def _escape(cell: str) -> str:
    return str(cell).replace("|", "\\|").replace("\n", " ")


def table(t: Table) -> list[str]:
    align = t.align or ("l" + "r" * (len(t.columns) - 1))
    rule = ["---:" if a == "r" else "---" for a in align]
    out = ["| " + " | ".join(_escape(c) for c in t.columns) + " |", "| " + " | ".join(rule) + " |"]
    out.extend("| " + " | ".join(_escape(c) for c in row) + " |" for row in t.rows)
    return out


def render(report: dict) -> str:
    out = ["# LLM cost report", ""]
    for section in sections(report):
        out.append(f"## {section.title}")
        out.append("")
        for line in section.lines:
            out.append(f"- {line}")
        if section.lines:
            out.append("")
        for t in section.tables:
            out.extend(table(t))
            out.append("")
    return "\n".join(out).rstrip() + "\n"
