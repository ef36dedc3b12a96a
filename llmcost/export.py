"""Per-call export: one row per call with its price row and cost split, written by DuckDB.

The per-request cost log a finance or data team joins against their own data: the canonical
columns, the model the call was priced as, the price row used (table version, effective
date, service tier) and the cost in parts, as exact decimals (``DECIMAL(38, 12)`` in
Parquet; plain decimal text in CSV and JSON lines). One ``COPY`` writes the file: no Python
loop over rows. Parquet written to a directory is partitioned by day (hive style,
``day=2026-11-03/data_0.parquet``), so DuckDB, Spark or Trino can read it directly.
"""

from __future__ import annotations

import datetime as dt
import errno
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path

from llmcost.errors import NoRecordsError, UsageError, stdout_may_close, unwritable


class ExportFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"


_BY_SUFFIX = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}

# What each row carries, in order. `day` is the partition key (the call's date, session
# time zone = UTC), kept as a column in single files.
CALL_COLUMNS = [
    "request_id",
    "ts",
    "day",
    "provider",
    "model",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "input_audio_tokens",  # the audio part of input_tokens (billed at the audio price)
    "cache_read_audio_tokens",  # the audio part of cache_read_tokens
    "output_audio_tokens",  # the audio part of output_tokens
    "token_source",
    "service_tier",
    "inference_geo",  # where the call ran, as its usage says (us | global)
    "speed",  # fast | standard (fast mode), as its usage says
    "user_id",
    "session_id",
    "feature",
    "tags",
    "latency_ms",
    "status",
    "finish_reason",
    "max_tokens",
    "reported_cost_usd",
    "prompt_hash",
    "system_hash",
    "completion_hash",
    "source",
    "source_line",
    "format",
]
PRICE_COLUMNS = [
    "model_key",  # the pricing-table model the call was priced as
    "priced_provider",
    "model_resolution",  # how the logged name was matched (or why it was not)
    "is_priced",
    "pricing_version",  # the table version of the price row used
    "price_from",  # the date that price row took effect
    "price_tier",  # standard | batch | flex | priority
    "price_above_tokens",  # long-context tier threshold (0: the base prices)
    "price_inference_geo",  # the row's prices are those for this inference_geo (e.g. us x1.1)
    "price_speed",  # the row's prices are those for this speed (fast mode)
    "price_source",
]
# The cost parts of the `calls` view, then the fixed fee; their sum is cost_usd.
COST_PARTS = ["cost_input", "cost_cache_read", "cost_cache_write", "cost_output"]


@dataclass
class ExportResult:
    path: str
    format: str
    rows: int
    priced_rows: int
    unpriced_rows: int
    total_cost_usd: Decimal
    partitioned: bool
    first_ts: dt.datetime | None = None
    last_ts: dt.datetime | None = None
    # of unpriced_rows: calls of a model the tables price, on a date no price of it covers
    undated_rows: int = 0


def format_for(output: str | Path, fmt: str | ExportFormat | None) -> str:
    """The export format: ``fmt`` if given, else told by ``output``'s extension."""
    if fmt is not None:
        value = fmt.value if isinstance(fmt, ExportFormat) else str(fmt).lower()
        if value not in ExportFormat.__members__:
            raise UsageError(
                f"unknown export format {fmt!r}", hint="use --format csv, parquet or jsonl"
            )
        return value
    if Path(str(output)).is_dir() or str(output).endswith(("/", "\\")):
        return "parquet"  # a directory: Parquet partitioned by day
    suffix = Path(str(output)).suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    raise UsageError(
        f"cannot tell the export format from {str(output)!r}",
        hint="add --format csv, parquet or jsonl (or end -o with .csv, .parquet, .jsonl)",
    )


def select_sql(con, text_times: bool) -> str:
    """The SELECT over ``calls`` that the export writes, one row per call, in time order.

    ``text_times``: ``ts`` as an ISO 8601 UTC string (CSV and JSON lines), else TIMESTAMPTZ.
    Cost parts are NULL when the call has no cost (unpriced model or unknown tokens), never 0.
    """
    present = [r[0] for r in con.execute("DESCRIBE calls").fetchall()]
    # Cost parts the costing step may add later (e.g. web search) are carried along too.
    parts = COST_PARTS + [
        c for c in present if c.startswith("cost_") and c not in COST_PARTS and c != "cost_usd"
    ]
    ts = "strftime(timezone('UTC', c.ts), '%Y-%m-%dT%H:%M:%S.%fZ') AS ts" if text_times else "c.ts"
    columns = []
    for name in CALL_COLUMNS:
        if name == "ts":
            columns.append(ts)
        elif name == "day":
            columns.append("CAST(c.ts AS DATE) AS day")
        elif name == "service_tier":
            columns.append("c.tier_wanted AS service_tier")
        else:
            columns.append(f"c.{name}")
    for name in PRICE_COLUMNS:
        if name == "model_resolution":
            columns.append("m.how AS model_resolution")
        else:
            columns.append(f"c.{name}")
    for name in parts:
        columns.append(f"CASE WHEN c.cost_usd IS NOT NULL THEN c.{name} END AS {name}")
    columns.append("CASE WHEN c.cost_usd IS NOT NULL THEN c.per_request END AS cost_per_request")
    columns.append("c.cost_usd")
    return (
        "SELECT " + ",\n  ".join(columns) + "\nFROM calls c LEFT JOIN model_map m "
        "ON m.model = c.model AND m.logged_provider IS NOT DISTINCT FROM c.provider\n"
        "ORDER BY c.ts NULLS LAST, c.source, c.source_line, c.request_id"
    )


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def check_target(
    output: str | Path, fmt: str, overwrite: bool = False, partition: bool | None = None
) -> bool:
    """Check that ``output`` can be written (before any log is read); returns whether the
    export is partitioned by day (``output`` is a directory, or ends with ``/``)."""
    target = str(output)
    to_stdout = target == "-"
    path = Path(target)
    if partition is None:
        partition = not to_stdout and (path.is_dir() or target.endswith(("/", "\\")))
    if to_stdout and fmt == "parquet":
        raise UsageError("Parquet cannot go to stdout", hint="give -o a file or a directory")
    if partition:
        if path.exists() and not path.is_dir():
            raise UsageError(f"{target} is a file, not a directory", hint="give -o a directory")
        if path.is_dir() and any(path.iterdir()) and not overwrite:
            raise UsageError(
                f"{target} is not empty",
                hint="export into an empty directory, or add --overwrite to replace the days "
                "this export writes (the other days are kept)",
            )
    elif path.is_dir():
        raise UsageError(f"{target} is a directory", hint="give -o a file name")
    elif not to_stdout and not path.parent.is_dir():
        raise unwritable(path, FileNotFoundError(errno.ENOENT, "no such directory"))
    return partition


def copy_calls(
    con, output: str | Path, fmt: str, *, overwrite: bool = False, partition: bool | None = None
) -> ExportResult:
    """Write the ``calls`` view to ``output`` with one DuckDB COPY.

    ``output`` ``-`` writes CSV or JSON lines to stdout. A directory (existing, or a path
    ending in ``/``) is written partitioned by day; it must be empty unless ``overwrite``.
    """
    import duckdb  # not at module top: `llmcost --help` stays fast

    stats = con.execute(
        """SELECT count(*), count(*) FILTER (WHERE cost_usd IS NOT NULL),
             count(*) FILTER (WHERE NOT is_priced), coalesce(sum(cost_usd), 0), min(ts), max(ts),
             -- a priced model's call with no price in force on its date (before its first)
             count(*) FILTER (WHERE NOT is_priced AND model_key IS NOT NULL)
           FROM calls"""
    ).fetchone()
    if stats[0] == 0:
        # a provider's usage report holds aggregates, stored apart as buckets: "check the
        # input and the --since/--until window" sent its reader looking for a wrong window
        # (with no call stored at all: else the window is what left them out)
        buckets, stored = con.execute(
            "SELECT (SELECT count(*) FROM usage_buckets), (SELECT count(*) FROM requests)"
        ).fetchone()
        if buckets and not stored:
            from llmcost.render import plural

            raise NoRecordsError(
                f"no calls to export: the input holds {plural(buckets, 'usage-report bucket')} "
                "(aggregates of many calls each), and export writes one row per call",
                hint="`llmcost analyze` prices usage reports (its 'Provider usage reports' "
                "section); export needs per-call logs",
            )
        raise NoRecordsError(
            "no calls to export", hint="check the input and the --since/--until window"
        )
    partition = check_target(output, fmt, overwrite, partition)
    target = str(output)
    to_stdout = target == "-"
    path = Path(target)
    if partition:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise unwritable(path, exc) from None
    options = {
        "csv": "FORMAT csv, HEADER true",
        "parquet": "FORMAT parquet, COMPRESSION zstd",
        "jsonl": "FORMAT json",
    }[fmt]
    if partition:
        options += ", PARTITION_BY (day), OVERWRITE_OR_IGNORE true"
    select = select_sql(con, text_times=fmt != "parquet")
    tmp = None
    if to_stdout:
        tmp = tempfile.NamedTemporaryFile(suffix="." + fmt, delete=False)
        tmp.close()
        target = tmp.name
    try:
        if partition and overwrite:
            _clear(con, path)
        try:
            con.execute(f"COPY ({select}) TO {_sql_string(target)} ({options})")
        except duckdb.IOException as exc:
            raise UsageError(
                f"{target}: cannot write ({str(exc).splitlines()[0]})",
                hint="check the path and its permissions",
            ) from None
        if tmp is not None:
            with open(tmp.name, "rb") as fh, stdout_may_close():
                sys.stdout.flush()
                shutil.copyfileobj(fh, sys.stdout.buffer)
                sys.stdout.buffer.flush()
    finally:
        if tmp is not None:
            Path(tmp.name).unlink(missing_ok=True)
    return ExportResult(
        path=str(output),
        format=fmt,
        rows=stats[0],
        priced_rows=stats[1],
        unpriced_rows=stats[2],
        total_cost_usd=Decimal(stats[3]),
        partitioned=bool(partition),
        first_ts=stats[4],
        last_ts=stats[5],
        undated_rows=stats[6],
    )


NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # DuckDB's (and Hive's) folder for a NULL day


def _clear(con, directory: Path) -> None:
    """Remove the day folders this export is about to write (other days are kept), so a
    re-export of a day replaces it instead of adding a second file next to the first."""
    days = [d for (d,) in con.execute("SELECT DISTINCT CAST(ts AS DATE) FROM calls").fetchall()]
    for day in days:
        folder = directory / f"day={day.isoformat() if day is not None else NULL_PARTITION}"
        if folder.is_dir():
            shutil.rmtree(folder)


def _whole_days(since: dt.datetime | None, until: dt.datetime | None) -> None:
    """A partitioned export with ``overwrite`` replaces every day folder it writes: a window
    that starts or ends inside a day (UTC) would replace that day with part of its calls."""
    for flag, value in (("--since", since), ("--until", until)):
        if value is None:
            continue
        utc = value.astimezone(dt.timezone.utc) if value.tzinfo else value
        if utc.time() != dt.time(0):
            raise UsageError(
                f"{flag} {value.isoformat()} is inside a day (UTC): --overwrite replaces whole "
                "day folders, and that day's calls outside the window would be lost",
                hint=f"give {flag} a date (e.g. {flag} {utc.date().isoformat()}): the export "
                "then covers whole days",
            )


def export(
    paths: Iterable[str | Path],
    output: str | Path,
    format: str | ExportFormat | None = None,
    *,
    db: str | Path | None = None,
    pricing: Iterable[str | Path] = (),
    input_format: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    as_of: dt.date | None = None,
    attribution: dict | None = None,
    overwrite: bool = False,
    on_file: Callable | None = None,
    progress=None,
) -> ExportResult:
    """Ingest ``paths`` (into ``db`` or memory; none: what ``db`` holds), price every call,
    and write one row per call to ``output`` (see ``copy_calls``)."""
    from llmcost import report

    fmt = format_for(output, format)
    if check_target(output, fmt, overwrite) and overwrite:
        _whole_days(since, until)
    paths = [str(p) for p in paths]
    if not paths and db is None:
        raise UsageError("nothing to export", hint="name log files, or --db FILE for stored calls")
    options = report.Options(
        paths=paths,
        db=Path(db) if db else None,
        pricing=[Path(p) for p in pricing],
        input_format=input_format,
        since=since,
        until=until,
        as_of=as_of,
        attribution=attribution,
    )
    con = prepare_calls(options, on_file=on_file, progress=progress)
    try:
        return copy_calls(con, output, fmt, overwrite=overwrite)
    finally:
        con.close()


def prepare_calls(options, on_file: Callable | None = None, progress=None):
    """A connection whose ``calls`` view holds every priced call of ``options``' inputs
    and window (the same view ``analyze`` reports on). The caller closes it."""
    from llmcost import attribution as attribution_views
    from llmcost import costing, report, store
    from llmcost.ingest import ingest_paths
    from llmcost.pricing import load_pricing

    wanted = attribution_views.request_for(options)
    book = load_pricing(options.pricing)
    con = store.connect(options.db, must_exist=not options.paths)
    try:
        if options.paths:
            kwargs = {"on_file": on_file, "resumable": options.db is not None}
            if progress is not None:
                kwargs["progress"] = progress
            ingest_paths(con, options.paths, options.input_format, **kwargs)
        report.fill_tokens(con, book)
        costing.prepare(con, book, options.as_of)
        report.window_view(
            con, options.since, options.until, attribution_views.calls_columns(wanted.mapping)
        )
    except BaseException:
        con.close()
        raise
    return con
