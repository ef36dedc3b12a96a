"""The command line: parse options, call the core, pick a renderer, map errors to exit codes.

No SQL and no arithmetic here. Heavy modules are imported inside the commands so that
``llmcost --help`` starts fast.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from llmcost.errors import LlmcostError, UsageError

app = typer.Typer(
    name="llmcost",
    help="What your LLM traffic costs, and how to spend less.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_debug = False


class ReportFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


def _stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _parse_when(value: str | None, option: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date or time",
                         hint=f"use ISO 8601, e.g. {option} 2026-11-01 or 2026-11-01T12:00") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _parse_day(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date", hint=f"e.g. {option} 2026-11-01") from None


def handles_errors(fn):
    """Turn LlmcostError into a message on stderr and its exit code (tracebacks with --debug)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LlmcostError as exc:
            if _debug or os.environ.get("LLMCOST_DEBUG"):
                raise
            _report_error(exc)
            raise typer.Exit(int(exc.exit_code)) from None

    return wrapper


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    global _debug
    _debug = debug


@app.command()
@handles_errors
def analyze(
    paths: Annotated[list[str], typer.Argument(help="Log files, directories or globs.")],
    format: Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")] = ReportFormat.table,
    top: Annotated[int, typer.Option(help="How many rows in the top-N lists.", min=1)] = 10,
    since: Annotated[Optional[str], typer.Option(help="Only calls at or after this time (ISO 8601, UTC if no zone).")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only calls before this time.")] = None,
    db: Annotated[Optional[Path], typer.Option(help="DuckDB file to ingest into (default: in memory).")] = None,
    pricing: Annotated[Optional[list[Path]], typer.Option("--pricing", help="Extra pricing YAML overriding the built-in tables (repeatable).")] = None,
    input_format: Annotated[Optional[str], typer.Option(help="Skip detection and read every file as this format (see `llmcost formats`).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report to this file instead of stdout.")] = None,
) -> None:
    """Price every call in the logs and report where the money goes and how to save."""
    from llmcost.report import analyze as run

    since_ts, until_ts = _parse_when(since, "--since"), _parse_when(until, "--until")
    err = _stderr()

    def on_file(result) -> None:
        err.print(
            f"[dim]{result.source}: {result.format}, {result.lines_read:,} lines → "
            f"{result.ingested:,} calls, {result.skipped:,} skipped, {result.rejected:,} rejected[/dim]"
        )

    report = run(paths, db=db, pricing=pricing or [], input_format=input_format,
                 since=since_ts, until=until_ts, top=top, on_file=on_file)
    _emit(report, format, output)


def _emit(report: dict, format: ReportFormat, output: Path | None) -> None:
    if format is ReportFormat.json:
        from llmcost.render.json import render

        text = render(report)
    elif format is ReportFormat.markdown:
        from llmcost.render.markdown import render

        text = render(report)
    else:
        from rich.console import Console

        from llmcost.render.terminal import render

        if output:
            with output.open("w", encoding="utf-8") as fh:
                render(report, Console(file=fh, width=160, force_terminal=False))
            return
        render(report, Console(highlight=False))
        return
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


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
    shape_table = Table(title="Record shapes inside JSON lines (first match wins)", title_justify="left")
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


def main() -> None:
    """Entry point for the console script and ``python -m llmcost``."""
    app()


def _report_error(exc: LlmcostError) -> None:
    err = _stderr()
    err.print(f"[bold red]error:[/bold red] {exc.message}", soft_wrap=True)
    if exc.hint:
        err.print(f"[yellow]hint:[/yellow] {exc.hint}", soft_wrap=True)
