"""``llmcost ingest`` (append logs to a persistent database) and ``llmcost rejects``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from llmcost.commands import common
from llmcost.commands.common import InputFormatOption, handles_errors
from llmcost.render import plural

DB_HELP = "DuckDB database file (default: $LLMCOST_DB, else ~/.local/share/llmcost/llmcost.duckdb)."


def _db(path: Path | None) -> Path:
    from llmcost.store import default_db_path

    return path or default_db_path()


@handles_errors
def ingest(
    paths: Annotated[
        list[str], typer.Argument(help="Log files, directories, globs, or - for stdin.")
    ],
    db: Annotated[Optional[Path], typer.Option(help=DB_HELP)] = None,
    input_format: InputFormatOption = None,
) -> None:
    """Append new log lines to a persistent database (idempotent: nothing is counted twice).

    A file seen before is resumed where the last run stopped.
    An unchanged file adds nothing.
    A rotated or truncated file is read again; stored calls are recognized.
    A line still being written waits for the next run.
    So does a chunk-by-chunk stream: until its end, or 10 minutes of silence.
    Give the log directory, not only the live file: rotated files hold the rest.
    The whole run is one transaction.
    """
    from llmcost import store
    from llmcost.ingest import ingest_paths

    path = _db(db)
    err = common.stderr()
    con = store.connect(path)
    try:
        with common.progress_bar("ingesting") as progress:
            result = ingest_paths(
                con,
                paths,
                input_format,
                on_file=common.file_printer(err),
                progress=progress,
            )
        stored = con.execute("SELECT count(*) FROM requests").fetchone()[0]
    finally:
        con.close()
    read = result.total("lines_read")
    # files met but not read (no format recognized, not decompressible): the last line,
    # the one a cron log is read by, says so too
    not_read = sum(f.mode == "not read" for f in result.files)
    seen = common.stored_before(result.total("duplicates"), result.total("known_rejects"))
    err.print(
        f"{plural(read, 'line')} read = {plural(result.total('ingested'), 'new call')} + "
        f"{result.total('skipped'):,} skipped + {result.total('rejected'):,} rejected; "
        f"{plural(stored, 'call')} in {path}"
        + (f"; of the skipped: {seen}" if seen else "")
        + (f"; {plural(not_read, 'file')} not read (listed above)" if not_read else ""),
        soft_wrap=True,
    )
    if result.files and not_read == len(result.files):  # only files that hold no log
        from llmcost.errors import NoRecordsError
        from llmcost.ingest import known_formats

        raise NoRecordsError(
            f"no log was read: {'the file' if not_read == 1 else f'none of the {not_read:,} files'}"
            " named or met could be read as a log (listed above, with why)",
            hint=f"name log files: {known_formats()}",
        )


@handles_errors
def rejects(
    db: Annotated[Optional[Path], typer.Option(help=DB_HELP)] = None,
    source: Annotated[
        Optional[str], typer.Option(help="Only lines from this file (substring).")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many to show.", min=1)] = 50,
    raw: Annotated[
        bool, typer.Option("--raw", help="Print the rejected lines' text as JSON lines.")
    ] = False,
) -> None:
    """Show the records that were rejected, with file, line and reason."""
    import json

    from rich.text import Text

    from llmcost import store

    con = store.connect(_db(db), must_exist=True)
    try:
        # (a substring, as written: '_' and '%' in a file name are not wildcards)
        where = "WHERE contains(source, ?)" if source else ""
        params = [source] if source else []
        total = con.execute(f"SELECT count(*) FROM rejects {where}", params).fetchone()[0]
        rows = con.execute(
            f"SELECT source, line, reason, raw FROM rejects {where} ORDER BY source, line LIMIT ?",
            [*params, limit],
        ).fetchall()
        # shown apart among every file with a rejected line, not only the rows shown
        sources = [
            s
            for (s,) in con.execute(
                f"SELECT DISTINCT source FROM rejects {where}", params
            ).fetchall()
        ]
    finally:
        con.close()
    if raw:
        for src, line, reason, text in rows:
            print(json.dumps({"source": src, "line": line, "reason": reason, "raw": text}))
        return
    from llmcost.render import short_paths
    from llmcost.render.layout import Table
    from llmcost.render.terminal import FitTable

    short = short_paths(sources)
    table = Table(
        ["where", "reason", "start of the line"],
        [
            [f"{short[src]}:{line}", reason, (text or "")[:60].replace("\n", " ")]
            for src, line, reason, text in rows
        ],
        "lll",
        whole=("where",),  # file:line, never cut
        # why the line was rejected, whole on several lines: at 80 columns it was cut to
        # "no model (looke…" beside 45 columns of the line's text
        fold=("reason",),
    )
    console = common.stdout_console()
    shown = f" ({len(rows):,} shown: --limit for more)" if len(rows) < total else ""
    console.print(Text(plural(total, "rejected record") + shown, style="italic"))
    if rows:
        console.print(FitTable(table), crop=False)


def register(app: typer.Typer) -> None:
    app.command()(ingest)
    app.command()(rejects)
