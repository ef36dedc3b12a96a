"""``llmcost export``: one row per call with its price row and cost split (CSV, Parquet, JSONL)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from llmcost.commands import common
from llmcost.commands.common import (
    InputFormatOption,
    PricingOption,
    SinceOption,
    UntilOption,
    handles_errors,
    parse_window,
)
from llmcost.export import ExportFormat
from llmcost.render import money, plural


@handles_errors
def export(
    paths: Annotated[
        Optional[list[str]],
        typer.Argument(
            help="Log files, directories, globs or - for stdin (none: the calls stored in --db)."
        ),
    ] = None,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="File to write; a directory (or a path ending in /) gets Parquet partitioned "
            "by day; - is stdout (CSV, JSONL).",
        ),
    ] = ...,
    format: Annotated[
        Optional[ExportFormat],
        typer.Option("--format", "-f", help="Output format (default: from the -o extension)."),
    ] = None,
    db: Annotated[
        Optional[Path],
        typer.Option(
            help="DuckDB file to ingest into and export from (default: in memory; without "
            "PATHs: $LLMCOST_DB, else ~/.local/share/llmcost/llmcost.duckdb)."
        ),
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    pricing: PricingOption = None,
    input_format: InputFormatOption = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Write into a non-empty -o directory, replacing the days this export covers "
            "(other days are kept: export one day at a time into a growing folder).",
        ),
    ] = False,
) -> None:
    """Write the per-call cost log: every call with the model it was priced as, the price
    row used (table version, effective date, tier) and its cost split into input, cache
    read, cache write, output and total (exact decimals)."""
    from llmcost.api import export_calls as run
    from llmcost.errors import InputError
    from llmcost.store import default_db_path

    since_ts, until_ts = parse_window(since, until)
    if not paths and db is None:
        db = default_db_path()
        if not db.exists():
            raise InputError(
                f"no logs named and no database at {db}",
                hint="name log files, or --db FILE made by `llmcost ingest`",
            )
    err = common.stderr()
    result = run(
        paths or [],
        output,
        format.value if format else None,
        db=db,
        pricing=pricing or [],
        input_format=input_format,
        since=since_ts,
        until=until_ts,
        overwrite=overwrite,
        on_file=common.file_printer(err),
    )
    where = "stdout" if output == "-" else output
    layout = ", one folder per day" if result.partitioned else ""
    # a call of a priced model whose log has no token counts (nor text to count) has no cost
    unknown = result.rows - result.priced_rows - result.unpriced_rows
    empty = result.rows - result.priced_rows
    err.print(
        f"{plural(result.rows, 'call')} → {where} ({result.format}{layout}): "
        + (
            f"{result.priced_rows:,} with a cost totalling {money(float(result.total_cost_usd))}"
            if result.priced_rows
            else "none with a cost"  # (no total: '0 with a cost totalling $0.00' read as $0)
        )
        # every call priced: no '0 of unpriced models (cost left empty)' of no call
        + ("" if not empty else ", ")
        # a priced model's call dated before its first price is no call of an unpriced model
        + (f"{result.unpriced_rows - result.undated_rows:,} of unpriced models" if empty else "")
        + (
            f", {result.undated_rows:,} dated when "
            + ("its model" if result.undated_rows == 1 else "their models")
            + " had no price in force"
            if result.undated_rows
            else ""
        )
        + (f", {unknown:,} without token counts" if unknown else "")
        + (" (cost left empty)" if empty else ""),
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.command()(export)
