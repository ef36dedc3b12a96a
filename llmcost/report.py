"""The core of `llmcost analyze`: ingest, count missing tokens, price, run the analyses.

Everything here is callable without the CLI; ``analyze`` returns the same dict that
``--format json`` prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from llmcost import __version__, costing, store
from llmcost import attribution as _attribution
from llmcost.analyses import Context, analyses
from llmcost.errors import NoRecordsError
from llmcost.ingest import FileResult, IngestResult, dated_ahead, ingest_paths
from llmcost.pricing import PriceBook, load_pricing
from llmcost.render import plural, short_paths

# Told what is being done after reading (the CLI's spinner): a short text.
Stage = Callable[[str], None] | None


@dataclass
class Options:
    paths: list[str] = field(default_factory=list)
    db: Path | None = None
    pricing: list[Path] = field(default_factory=list)
    input_format: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    top: int = 10
    as_of: dt.date | None = None
    by: list[str] = field(default_factory=list)  # attribution dimensions (--by)
    period: str | None = None  # daily | weekly | monthly (--period)
    breakdown: bool = False  # per model within each period (--breakdown)
    attribution: dict | None = None  # field mapping; None: the llmcost.yaml section
    recount: bool = False  # recount every call's text for the audit (--recount)
    tz: str = "UTC"  # the zone of days and hours (by_day, peaks, anomalies): report's --tz


def fill_tokens(con, book: PriceBook, stage: Stage = None) -> dict | None:
    """Count tokens with tiktoken for calls whose log has text but no counts."""
    missing = con.execute(
        "SELECT DISTINCT model, provider FROM requests WHERE input_tokens IS NULL "
        "OR output_tokens IS NULL"
    ).fetchall()
    if not missing:
        return None
    if stage:
        stage("counting tokens of the calls logged without counts")
    from llmcost import tokens  # tiktoken is loaded only when something must be counted

    choices = {}
    for model, provider in missing:
        resolution = book.resolve(model, provider)
        encoding = None
        if resolution.priced:
            encoding = book.models[(resolution.provider, resolution.model_key)].encoding
        choices[model] = tokens.encoding_for(model, encoding, provider)
    result = tokens.fill_missing_tokens(con, choices)
    return {k: v for k, v in vars(result).items()}


def window_view(
    con, since: dt.datetime | None, until: dt.datetime | None, columns: str = "*"
) -> None:
    clauses, params = [], []
    if since is not None:
        clauses.append("ts >= CAST(? AS TIMESTAMPTZ)")
        params.append(since.isoformat())
    if until is not None:
        clauses.append("ts < CAST(? AS TIMESTAMPTZ)")
        params.append(until.isoformat())
    where = " AND ".join(clauses) or "TRUE"
    # A view cannot hold parameters: inline the two validated ISO timestamps as literals.
    for value in params:
        where = where.replace("?", "'" + value.replace("'", "") + "'", 1)
    # A table, not a view: every analysis reads it, and the priced view joins prices on
    # each read. Priced once here, it is read many times.
    con.execute(f"CREATE OR REPLACE TEMP TABLE calls AS SELECT {columns} FROM priced WHERE {where}")


def build(
    con,
    book: PriceBook,
    options: Options,
    ingest: IngestResult | None = None,
    stage: Stage = None,
    empty_window: bool = False,
) -> dict:
    """Price what is in the store and run every analysis over the window. ``stage`` is
    told what is being done (counting tokens, pricing, each analysis). ``empty_window``: a
    window without calls is a report of none (a scheduled report's quiet day), not an
    error."""
    stage = stage or (lambda text: None)
    if options.recount:  # before the fill: only what the logs reported is audited
        from llmcost import audit

        stage("recounting every call's tokens for the audit")
        audit.recount(con, book)
    tokens = fill_tokens(con, book, stage)
    stage("pricing")
    costing.prepare(con, book, options.as_of)
    wanted = _attribution.request_for(options)
    window_view(con, options.since, options.until, _attribution.calls_columns(wanted.mapping))
    # Usage-report buckets alone make a report too (analyses.buckets; per-call views empty).
    if (
        not empty_window
        and con.execute("SELECT count(*) FROM calls").fetchone()[0] == 0
        and con.execute("SELECT count(*) FROM usage_buckets").fetchone()[0] == 0
    ):
        if options.since or options.until:
            raise _none_in_window(con, options) or no_records(con, " in the chosen period")
        raise no_records(
            con,
            # a database read without a log; logs named that held no file (an empty
            # directory) are no database to fill with `llmcost ingest`
            stored=not (ingest and ingest.files) and not options.paths,
            not_read=ingest.files if ingest else (),
            no_file_in=options.paths if not (ingest and ingest.files) else (),
        )
    ctx = Context(top=options.top, book=book, options=options)
    report: dict = {
        "llmcost_version": __version__,
        "pricing_version": book.version,
        # the user's own prices laid over the tables (llmcost.yaml, --pricing): [] if none
        "pricing_overlays": book.overlays,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "window": {
            "since": options.since.isoformat() if options.since else None,
            "until": options.until.isoformat() if options.until else None,
            "as_of": options.as_of.isoformat() if options.as_of else None,
            # the zone of every day and hour of the report (by_day, peaks, anomalies, the
            # forecast's month): `report --tz`, UTC else
            "tz": options.tz,
        },
        "inputs": [_input(f) for f in ingest.files] if ingest else [],
        # every file the store's calls and rejected lines came from (a report of a database
        # read no input: its file:line places are told apart among these)
        "sources": _sources(con),
        "tokens_counted": tokens,
        "notes": (_notes(ingest) if ingest and ingest.files else _held_in_store(con))
        + _batch_read_twice(con),
    }
    todo = analyses()
    for n, analysis in enumerate(todo, 1):
        stage(f"analyzing ({n}/{len(todo)}): {analysis.name.replace('_', ' ')}")
        result = analysis.run(con, ctx)
        if result is not None:  # None: a view the report did not ask for (e.g. --by)
            report[analysis.name] = result
    if options.as_of:
        costing.add_as_of(con, report, options.as_of)
    if "summary" in report:  # usage reports alone: its $0 is of no call, not of the reports
        report["summary"]["usage_reports_only"] = not report["summary"]["requests"] and bool(
            (report.get("usage_reports") or {}).get("buckets")
        )
    return report


def no_records(
    con,
    where: str = "",
    stored: bool = False,
    not_read: Iterable[FileResult] = (),
    no_file_in: Iterable[str] = (),
) -> NoRecordsError:
    """The error of a run that found no usable call, with the commonest reasons its lines
    were rejected (each with the first place it was met) and the files it did not read
    (``not_read``: the run's files; those not read are named, with why): no report is
    written to say so. ``stored``: the run read no log, only a database (`report`, `check
    --db`): it holds no call, and the input format is not what to check first.
    ``no_file_in``: the paths named, when none held a file (an empty directory)."""
    reasons = con.execute(
        """SELECT reason, count(*), arg_min((source, line), (source, line))
           FROM rejects GROUP BY reason ORDER BY count(*) DESC, reason LIMIT 3"""
    ).fetchall()
    short = short_paths(s for (s,) in con.execute("SELECT DISTINCT source FROM rejects").fetchall())
    reasons = [(reason, n, f"{short[source]}:{line}") for reason, n, (source, line) in reasons]
    rejected = con.execute("SELECT count(*) FROM rejects").fetchone()[0]
    buckets = con.execute("SELECT count(*) FROM usage_buckets").fetchone()[0]
    message = f"no usable LLM call records were found{where}" + (" in the database" * stored)
    if buckets:
        message += f" (only {plural(buckets, 'usage-report bucket')}: aggregates, not calls)"
    empty = list(no_file_in)
    if empty:
        message += f": no file in {', '.join(empty)}"
    skipped = [f for f in not_read if f.mode == "not read"]
    if skipped:
        message += f"; {plural(len(skipped), 'file was', 'files were')} not read:" + "".join(
            f"\n  {f.source}: {f.error or 'no log format recognized in its first lines'}"
            for f in skipped[:5]
        )
        if len(skipped) > 5:
            message += f"\n  … and {len(skipped) - 5:,} more (listed above)"
    if rejected:
        message += f"; {plural(rejected, 'line was', 'lines were')} rejected, most often because:"
        message += "".join(
            f"\n  {reason} ({plural(n, 'line')}, first at {first})" for reason, n, first in reasons
        )
    hint = "check the input format: `llmcost formats` lists what can be read"
    if skipped:
        from llmcost.ingest import known_formats

        hint = f"name log files: {known_formats()}"
    if empty:
        hint = "name log files, or a directory that holds them (read recursively)"
    if stored:
        hint = "fill it with `llmcost ingest LOGS --db FILE` first" + (
            " (and check the input format: `llmcost formats` lists what can be read)"
            if rejected
            else ""
        )
    if buckets:
        hint = (
            "usage and cost reports hold no per-call counts or texts; `llmcost analyze` prices"
            " them and compares the cost they report"
        )
    return NoRecordsError(message, hint=hint)


def _none_in_window(con, options: Options) -> NoRecordsError | None:
    """The error of a window that holds none of the calls read: it names the calls and
    their span, not the lines rejected (which were not why)."""
    n, first, last = con.execute(
        """SELECT count(*), strftime(timezone('UTC', min(ts)), '%Y-%m-%d %H:%M'),
             strftime(timezone('UTC', max(ts)), '%Y-%m-%d %H:%M') FROM priced"""
    ).fetchone()
    if not n:
        return None
    span = f": they run from {first} to {last} UTC" if first else ""
    asked = " ".join(
        f"--{name} {value.isoformat()}"
        for name, value in (("since", options.since), ("until", options.until))
        if value
    )
    return NoRecordsError(
        f"none of the {plural(n, 'call')} read is in the chosen period ({asked}){span}",
        hint="widen --since/--until, or leave them out to report every call",
    )


def _sources(con) -> list[str]:
    """The files the stored calls and rejected lines came from."""
    return [
        source
        for (source,) in con.execute(
            """SELECT DISTINCT source FROM requests WHERE source IS NOT NULL
               UNION SELECT DISTINCT source FROM rejects WHERE source IS NOT NULL
               ORDER BY source"""
        ).fetchall()
    ]


def _input(f: FileResult) -> dict:
    return {
        "source": f.source,
        "format": f.format,
        "lines_read": f.lines_read,
        "ingested": f.ingested,
        "skipped": f.skipped,
        "duplicates": f.duplicates,
        "rejected": f.rejected,
        "dated_ahead": f.dated_ahead,  # of the calls, those dated after the run's clock
        "error": f.error,  # why the file was not read to its end (or at all)
        "note": f.note,  # its text is not UTF-8: how it was read, or how to convert it
    }


def _held_in_store(con) -> list[str]:
    """A report of the store alone (``llmcost report``): the lines of each file its last
    ingest read but holds for the next (streams still being written: not in the report).
    A file gone since (rotated under another name, read whole there) holds nothing."""
    rows = con.execute(
        """SELECT source, end_line + 1, read_line, held_lines FROM ingests
           WHERE end_offset IS NOT NULL
           QUALIFY row_number() OVER (PARTITION BY source ORDER BY ingest_id DESC) = 1
             AND read_line > end_line
           ORDER BY source"""
    ).fetchall()
    # the streams' own lines: a call stored between their chunks is in the report (an
    # ingest before the stores kept them names the span they lie in)
    notes = []
    for source, first, last, held in rows:
        if not Path(source).is_file():
            continue
        runs = held or f"{first:,}-{last:,}"
        one = ", " not in runs and "-" not in runs
        notes.append(
            f"{source}: {'line' if one else 'lines'} {runs} (a stream logged chunk by chunk "
            f"still being written when it was last read) {'waits' if one else 'wait'} for the "
            f"next ingest, and {'is' if one else 'are'} not in this report"
        )
    return notes


def _batch_read_twice(con) -> list[str]:
    """A Batch API input file read with its output file: each request of the window is then
    a call twice, estimated from its input and billed from its output (formats.openai_batch:
    custom_id is unique only within a batch, so they are not merged, only pointed out)."""
    [(both,)] = con.execute(
        """SELECT count(*) FROM (
             SELECT r.tags ->> '$.custom_id' AS custom_id FROM calls c
             JOIN requests r USING (request_id)
             -- (->> in parentheses after AND: DuckDB 1.5 binds it looser than AND)
             WHERE r.format = 'openai-batch' AND (r.tags ->> '$.custom_id') IS NOT NULL
             GROUP BY custom_id
             HAVING bool_or(r.tags ->> '$.url' IS NOT NULL) AND bool_or(r.tags ->> '$.url' IS NULL))"""
    ).fetchall()
    if not both:
        return []
    return [
        f"{plural(both, 'Batch API custom_id')} {'appears' if both == 1 else 'appear'} in both"
        " a batch input file and a batch output file: if they are one batch, each of those"
        " requests is counted twice (estimated from its input, billed from its output); read"
        " the output file alone (or the input file alone, for a forecast)"
    ]


def _notes(ingest: IngestResult | None) -> list[str]:
    files = ingest.files if ingest else []
    unknown = [f for f in files if f.format == "unrecognized"]
    notes = [f"{f.source}: {f.error}" for f in files if f.error and f not in unknown]
    notes += [f"{f.source}: {f.note}" for f in files if f.note]
    # files of no log format llmcost knows, named or met in a directory: counted and named
    for named, why in ((True, "not a log llmcost reads (no line is a JSON object, and no log "
                        "format recognizes it)"),
                       (False, "no log format recognized in {its} first lines")):  # fmt: skip
        these = [f.source for f in unknown if bool(f.error) == named]
        if not these:
            continue
        one = len(these) == 1
        shown = ", ".join(these[:5]) + (f" and {len(these) - 5:,} more" if these[5:] else "")
        notes.append(
            f"{plural(len(these), 'file')} {'named' if named else 'met in the directories read'}"
            f" {'was' if one else 'were'} not read, {why.format(its='its' if one else 'their')}: "
            f"{shown} (`llmcost formats` lists what can be read)"
        )
    notes += [
        f"{f.source}: an unfinished last line ({plural(f.pending_bytes, 'byte')}) waits for the next "
        "ingest into this database"  # (only a stored file's: see ingest_paths' resumable)
        for f in files
        if f.pending_bytes
    ]
    notes += [f"{f.source}: {f.held()}" for f in files if f.held_streams]
    if ingest and ingest.total("dated_ahead"):
        notes.append(dated_ahead(ingest.total("dated_ahead"), ingest.latest_ahead()))
    if ingest and ingest.total("naive_timestamps"):
        notes.append(
            f"{plural(ingest.total('naive_timestamps'), 'timestamp')} had no time zone: read as UTC"
        )
    return notes


def analyze(
    paths: Iterable[str | Path],
    *,
    db: str | Path | None = None,
    pricing: Iterable[str | Path] = (),
    input_format: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    top: int = 10,
    as_of: dt.date | None = None,
    on_file: Callable[[FileResult], None] | None = None,
    progress=None,
    by: Iterable[str] | str | None = None,
    period: str | None = None,
    breakdown: bool = False,
    attribution: dict | None = None,
    recount: bool = False,
    stage: Stage = None,
) -> dict:
    """Ingest ``paths`` (into ``db`` or memory), price every call and return the report.
    ``progress`` is ``ingest_paths``'s; ``stage`` is told each step after reading."""
    options = Options(
        paths=[str(p) for p in paths],
        db=Path(db) if db else None,
        pricing=[Path(p) for p in pricing],
        input_format=input_format,
        since=since,
        until=until,
        top=top,
        as_of=as_of,
        by=_attribution.parse_by(by),
        period=period,
        breakdown=breakdown,
        attribution=attribution,
        recount=recount,
    )
    _attribution.request_for(options)  # fail on a bad --by/--period before reading any log
    book = load_pricing(options.pricing)
    con = store.connect(options.db, must_exist=not options.paths)
    try:
        ingest = ingest_paths(
            con,
            options.paths,
            options.input_format,
            on_file=on_file,
            progress=progress,
            resumable=options.db is not None,  # in memory: no later run reads the rest
        )
        return build(con, book, options, ingest, stage)
    finally:
        con.close()
