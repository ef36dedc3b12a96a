"""The command line: parse options, call the core, pick a renderer, map errors to exit codes.

No SQL and no arithmetic here. Heavy modules are imported inside the commands so that
``llmcost --help`` starts fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from llmcost.attribution import Period
from llmcost.commands import common, register_all
from llmcost.commands.common import (
    AnalyzeFormat,
    InputFormatOption,
    PricingOption,
    SinceOption,
    UntilOption,
    emit,
    handles_errors,
    parse_window,
    stderr,
)
from llmcost.errors import UsageError

app = typer.Typer(
    name="llmcost",
    help="What your LLM traffic costs, and how to spend less.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    common.set_debug(debug)


@app.command()
@handles_errors
def analyze(
    paths: Annotated[
        Optional[list[str]],
        typer.Argument(
            help="Log files, directories, globs or - for stdin (none: what --db holds)."
        ),
    ] = None,
    format: Annotated[
        Optional[AnalyzeFormat],
        typer.Option(
            "--format", "-f", help="Output format (default: from the -o suffix, else table)."
        ),
    ] = None,
    top: Annotated[
        int,
        typer.Option(
            help="How many rows in the top-N lists (and models per --breakdown period).", min=1
        ),
    ] = 10,
    since: SinceOption = None,
    until: UntilOption = None,
    db: Annotated[
        Optional[Path], typer.Option(help="DuckDB file to ingest into (default: in memory).")
    ] = None,
    pricing: PricingOption = None,
    input_format: InputFormatOption = None,
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Write the report to this file instead of stdout."),
    ] = None,
    by: Annotated[
        Optional[list[str]],
        typer.Option(
            "--by",
            help="Cost, calls and tokens per DIM[,DIM]: provider, model, priced_as, user, feature, "
            "session, api_key, project, team, tier, status, finish_reason, token_source, source, "
            "tag:KEY (any metadata key), or a name from llmcost.yaml's attribution section.",
        ),
    ] = None,
    period: Annotated[
        Optional[Period],
        typer.Option(help="Cost per day, ISO week (from Monday) or month, with totals."),
    ] = None,
    breakdown: Annotated[
        bool,
        typer.Option(
            "--breakdown",
            help="Split each --period row by model: its --top costliest models, the others "
            "summed on one row (the JSON has every model).",
        ),
    ] = False,
    as_of: Annotated[
        Optional[str],
        typer.Option(
            "--as-of",
            help="What-if: also price every call at the prices in force on this date "
            "(YYYY-MM-DD), shown beside the historical cost.",
        ),
    ] = None,
    config: common.ConfigOption = None,
    recount: Annotated[
        bool,
        typer.Option(
            "--recount",
            help="Recount every call's logged text with tiktoken and audit the token counts "
            "the logs reported (reported counts are kept, not overwritten).",
        ),
    ] = False,
) -> None:
    """Price every call in the logs and report where the money goes and how to save."""
    from llmcost import config as cfg
    from llmcost.api import analyze as run

    since_ts, until_ts = parse_window(since, until)
    err = stderr()
    if not paths and db is None:
        raise UsageError("nothing to analyze", hint="name log files, or --db FILE for stored calls")
    # before reading any log: an -o suffix that names no format is a usage error
    format = common.output_format(format, output, AnalyzeFormat, AnalyzeFormat.table)
    common.check_writable(output)

    with cfg.using(config), common.progress_bar() as progress:
        report = run(
            paths or [],
            db=db,
            progress=progress,
            pricing=pricing or [],
            input_format=input_format,
            since=since_ts,
            until=until_ts,
            top=top,
            on_file=common.file_printer(err),
            by=by,
            period=period.value if period else None,
            breakdown=breakdown,
            as_of=common.parse_day(as_of, "--as-of"),
            recount=recount,
            stage=progress.stage,
        )
    emit(report.to_dict(), format, output)


@app.command()
def formats() -> None:
    """List the input formats and how each is recognized."""
    from rich.console import Console
    from rich.table import Table

    from llmcost.formats import formats as known
    from llmcost.formats import shapes

    table = Table(title="File formats", title_justify="left")
    for col in ("name", "what", "recognized by"):
        table.add_column(col)
    for fmt in known():
        table.add_row(fmt.name, fmt.description, fmt.recognized_by)
    shape_table = Table(
        title="Record shapes inside JSON lines (first match wins)", title_justify="left"
    )
    for col in ("shape", "what"):
        shape_table.add_column(col)
    for shape in shapes():
        shape_table.add_row(shape.name, shape.description)
    console = Console()
    console.print(table)
    console.print(shape_table)


@app.command()
def version() -> None:
    """Print the llmcost version."""
    from llmcost import __version__

    print(__version__)


register_all(app)


def main() -> None:
    """Entry point for the console script and ``python -m llmcost``."""
    app()
