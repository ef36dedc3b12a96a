"""``llmcost diff``: the cost change between two JSON reports, ready for a pull request."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from llmcost.commands import common
from llmcost.commands.common import handles_errors


class DiffFormat(str, Enum):
    markdown = "markdown"
    table = "table"
    json = "json"


@handles_errors
def diff(
    base: Annotated[Path, typer.Argument(help="The report before (`analyze --format json`).")],
    head: Annotated[Path, typer.Argument(help="The report after.")],
    format: Annotated[
        Optional[DiffFormat],
        typer.Option(
            "--format", "-f", help="Output format (default: from the -o suffix, else markdown)."
        ),
    ] = None,
    top: Annotated[int, typer.Option(help="Rows per table (largest changes first).", min=1)] = 10,
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Cost change by model, feature and user between two reports (absolute and %).

    Markdown by default: for a pull request, or to append to $GITHUB_STEP_SUMMARY.
    """

    from rich.console import Console

    from llmcost import budgets
    from llmcost.render import budget as view

    format = common.output_format(format, output, DiffFormat, DiffFormat.markdown)
    common.check_writable(output)
    result = budgets.compare(
        budgets.load_report(base, "base report"), budgets.load_report(head, "head report"), top
    )
    if format is DiffFormat.table:
        if output:
            with common.output_file(output) as fh:
                view.terminal(view.diff_sections(result), Console(file=fh, width=160))
        else:
            view.terminal(view.diff_sections(result), common.stdout_console())
        return
    if format is DiffFormat.json:
        from llmcost.render.json import render

        text = render(result)
    else:
        text = view.markdown(view.diff_sections(result))
    if output:
        common.write_output(output, text)
    else:
        common.write_stdout(text)


def register(app: typer.Typer) -> None:
    app.command()(diff)
