"""``llmcost audit``: what the logs claim (tokens, cost) against a recount and the price tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from llmcost.commands import common
from llmcost.commands.common import InputFormatOption, PricingOption, ReportFormat, handles_errors


@handles_errors
def audit(
    paths: Annotated[
        Optional[list[str]],
        typer.Argument(
            help="Log files, directories, globs or - for stdin (none: what --db holds)."
        ),
    ] = None,
    db: Annotated[
        Optional[Path], typer.Option(help="DuckDB file to ingest into (default: in memory).")
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            help="A call is off when its reported tokens (or cost) differ from the recount "
            "(or computed cost) by more than this percentage.",
            min=0,
        ),
    ] = 10.0,
    top: Annotated[int, typer.Option(help="How many calls in the worst-calls lists.", min=1)] = 10,
    format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ReportFormat.table,
    pricing: PricingOption = None,
    input_format: InputFormatOption = None,
) -> None:
    """Audit the logs: reported vs recounted prompt/completion tokens per model (mean and
    worst deltas, calls off by more than --threshold, what it means in dollars), and the
    cost the logs claim vs the cost computed from the pricing tables."""
    from llmcost.audit import run
    from llmcost.errors import UsageError

    if not paths and db is None:
        raise UsageError("nothing to audit", hint="name log files, or --db FILE for stored calls")
    err = common.stderr()
    with common.progress_bar() as progress:
        result = run(
            paths or [],
            db=db,
            pricing=pricing or [],
            input_format=input_format,
            threshold_pct=threshold,
            top=top,
            on_file=common.file_printer(err),
            progress=progress,
        )
    if format is ReportFormat.json:
        from llmcost.render.json import render

        common.write_stdout(render(result))
        return
    from llmcost.render.layout import audit_sections

    sections = audit_sections(result)
    if not sections:  # cannot happen after a recount, but say so rather than print nothing
        err.print("nothing to audit: no call has logged text or a logged cost")
        return
    if format is ReportFormat.markdown:
        from llmcost.render.markdown import render_sections

        common.write_stdout(render_sections("LLM log audit", sections))
        return
    from rich.rule import Rule
    from rich.text import Text

    from llmcost.render.terminal import FitTable, print_wrapped

    console = common.stdout_console()
    for section in sections:
        console.print(Rule(Text(section.title, style="bold cyan"), align="left"))
        for line in section.lines:  # as analyze's: the rest of a line indented under it
            print_wrapped(console, line)
        for t in section.tables:
            console.print(FitTable(t), crop=False)


def register(app: typer.Typer) -> None:
    app.command()(audit)
