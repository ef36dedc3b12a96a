"""Shared plumbing of the line-based adapters (Bedrock, OpenAI Batch, Claude Code, Codex, custom).

Each adapter writes ONE SELECT over the temp table ``lines(line, text)`` that gives, per line,
``skip_reason`` (a record that is not a billed call: blank, a summary, a repeat), or
``reject_reason`` (a record that should be a call but cannot be read), and the staging
columns (formats/stage.py). ``finish`` stages the rows with neither reason, stores the
rejects with their line and reason, and does the accounting: staged + skipped + rejected =
lines read, always.
"""

from __future__ import annotations

from pathlib import Path

from llmcost.formats.sql import install_macros
from llmcost.formats.stage import STAGE_COLUMNS, StageStats, stage_from_select

MAX_LINE_BYTES = 512 * 1024 * 1024
RAW_KEEP_CHARS = 65536  # how much of a rejected record is kept in `rejects.raw`

# One VARCHAR column per line: a bad line is a row we can report, not an abort.
_READ_LINES = (
    "SELECT text FROM read_csv(?, columns = {'text': 'VARCHAR'}, delim = '\\x02', "
    "quote = '', escape = '', header = false, auto_detect = false, new_line = '\\n', "
    f"max_line_size = {MAX_LINE_BYTES}, buffer_size = {MAX_LINE_BYTES * 2}, "
    "strict_mode = false, null_padding = true, ignore_errors = true, store_rejects = true, "
    "rejects_scan = 'llm_reject_scans', rejects_table = 'llm_reject_errors')"
)

# A line of nothing but JSON's whitespace (a tab-indented empty line, a CRLF file's empty
# line) is blank: DuckDB's trim() takes spaces only.
BLANK_LINE = "(text IS NULL OR trim(text, e' \\t\\r') = '')"

# The JSON state of each line, for adapters to build their reasons on.
LINE_STATE = f"""CASE WHEN {BLANK_LINE} THEN 'blank'
         WHEN NOT json_valid(text) THEN 'invalid'
         WHEN json_type(text) <> 'OBJECT' THEN 'notobject'
         ELSE 'ok' END"""

# Reasons shared by the adapters, keyed by LINE_STATE.
INVALID_JSON = """CASE WHEN left(ltrim(text), 1) IN ('{', '[')
           THEN 'not valid JSON (truncated or malformed line)' ELSE 'not valid JSON' END"""


def read_lines(con, path: Path, source: str, ingest_id: int, line_offset: int = 0) -> int:
    """Create the temp table ``lines(line, text)`` numbered from ``line_offset + 1``.

    Lines DuckDB cannot decode (invalid UTF-8) go straight to ``rejects`` with their real
    numbers; the others are renumbered around them. Returns how many were undecodable.
    """
    install_macros(con)
    for table in ("llm_reject_errors", "llm_reject_scans", "lines", "bad_lines"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(
        f"CREATE TEMP TABLE lines AS SELECT row_number() OVER () AS line, text FROM ({_READ_LINES})",
        [str(path)],
    )
    undecodable = con.execute(
        "SELECT line, csv_line, error_message FROM llm_reject_errors ORDER BY line"
    ).fetchall()
    if undecodable:
        con.executemany(
            "INSERT INTO rejects VALUES (?, ?, ?, ?, ?)",
            [
                (
                    ingest_id,
                    source,
                    line + line_offset,
                    f"cannot decode line: {msg.split('.')[0]}",
                    (raw or "")[:RAW_KEEP_CHARS],
                )
                for line, raw, msg in undecodable
            ],
        )
        con.execute("CREATE TEMP TABLE bad_lines (line BIGINT)")
        con.executemany("INSERT INTO bad_lines VALUES (?)", [(u[0],) for u in undecodable])
        # The k-th decoded row's real line: k + (undecodable lines i with line_i - i < k).
        con.execute(
            """UPDATE lines SET line = lines.line + (
                 SELECT count(*) FROM (SELECT line - row_number() OVER (ORDER BY line) AS g
                                       FROM bad_lines) b WHERE b.g < lines.line)"""
        )
        con.execute("DROP TABLE bad_lines")
    if line_offset:
        con.execute("UPDATE lines SET line = line + ?", [line_offset])
    return len(undecodable)


def stage_lines(
    con,
    path: Path,
    source: str,
    ingest_id: int,
    records_sql: str,
    *,
    format: str,
    line_offset: int = 0,
    params: list | None = None,
) -> StageStats:
    """The whole load of a JSON-lines adapter: ``read_lines`` then ``finish``."""
    undecodable = read_lines(con, path, source, ingest_id, line_offset)
    return finish(
        con,
        records_sql,
        source=source,
        ingest_id=ingest_id,
        format=format,
        params=params,
        extra_read=undecodable,
    )


def finish(
    con,
    records_sql: str,
    *,
    source: str,
    ingest_id: int,
    format: str,
    params: list | None = None,
    extra_read: int = 0,
) -> StageStats:
    """Stage, reject and count the records of ``records_sql``.

    ``records_sql`` must give ``line``, ``text`` (kept as the reject's raw text),
    ``skip_reason``, ``reject_reason`` and any staging columns. ``extra_read`` counts records
    already rejected before (undecodable lines).
    """
    con.execute("DROP TABLE IF EXISTS records")
    con.execute("CREATE TEMP TABLE records AS " + records_sql, params or [])
    present = {row[1] for row in con.execute("PRAGMA table_info('records')").fetchall()}
    columns = ", ".join(c for c in STAGE_COLUMNS if c in present)
    stage_from_select(
        con,
        f"SELECT {columns} FROM records WHERE skip_reason IS NULL AND reject_reason IS NULL",
        source=source,
        format=format,
    )
    con.execute(
        f"""INSERT INTO rejects
        SELECT ?, ?, line, reject_reason, left(text, {RAW_KEEP_CHARS}) FROM records
        WHERE skip_reason IS NULL AND reject_reason IS NOT NULL""",
        [ingest_id, source],
    )
    # a call logged twice (one request_id) is stored once, its first line (ingest): so are
    # its timestamps counted, not once a line
    read, skipped, rejected, naive_count = con.execute(
        """SELECT count(*), count(*) FILTER (WHERE skip_reason IS NOT NULL),
                  count(*) FILTER (WHERE skip_reason IS NULL AND reject_reason IS NOT NULL),
                  (SELECT count(*) FILTER (WHERE naive_ts) FROM (
                     SELECT naive_ts FROM staged
                     QUALIFY row_number() OVER (PARTITION BY request_id ORDER BY line) = 1))
           FROM records"""
    ).fetchone()
    staged = con.execute("SELECT count(*) FROM staged").fetchone()[0]
    con.execute("DROP TABLE records")
    con.execute("DROP TABLE IF EXISTS lines")
    return StageStats(
        lines_read=read + extra_read,
        skipped=skipped,
        staged=staged,
        rejected=rejected + extra_read,
        naive_timestamps=naive_count or 0,
    )


def empty_stage(con, source: str, format: str) -> None:
    """An empty ``staged`` table (an adapter that stores no calls)."""
    stage_from_select(con, "SELECT NULL::BIGINT AS line WHERE false", source=source, format=format)


def token_reason(*pairs: tuple[str, str]) -> str:
    """SQL: the first (label, raw value) whose value is not a non-negative integer, as a reason."""
    arms = " ".join(
        f"WHEN llm_bad_tok({raw}) THEN '{label} ' || llm_tok_fault({raw}) || ': ' "
        f"|| left(CAST({raw} AS VARCHAR), 40)"
        for label, raw in pairs
    )
    return f"(CASE {arms} END)"
