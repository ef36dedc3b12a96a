"""Markdown, for pasting into an issue, a pull request or a CI summary.

Every title, line and cell goes through ``render.md_escape``: prompt previews, names and
reject reasons come from the logs, and must not ping anyone, inject HTML or break a table.
"""

from __future__ import annotations

from llmcost.render import md_escape
from llmcost.render.layout import Table, sections


def table(t: Table) -> list[str]:
    align = t.align or ("l" + "r" * (len(t.columns) - 1))
    rule = ["---:" if a == "r" else "---" for a in align]
    out = [
        "| " + " | ".join(md_escape(c) for c in t.columns) + " |",
        "| " + " | ".join(rule) + " |",
    ]
    out.extend("| " + " | ".join(md_escape(c) for c in row) + " |" for row in t.rows)
    return out


def render(report: dict) -> str:
    return render_sections("LLM cost report", sections(report))


def render_sections(title: str, report_sections: list) -> str:
    """A Markdown document: ``title``, then each section's title, lines and tables."""
    out = [f"# {md_escape(title)}", ""]
    for section in report_sections:
        out.append(f"## {md_escape(section.title)}")
        out.append("")
        for line in section.lines:
            out.append(f"- {md_escape(line)}")
        if section.lines:
            out.append("")
        for t in section.tables:
            legend = t.legend(t.columns) if t.legend else []  # every column is shown
            if legend:
                out.extend(f"- {md_escape(line)}" for line in legend)
                out.append("")
            out.extend(table(t))
            out.append("")
    return "\n".join(out).rstrip() + "\n"
