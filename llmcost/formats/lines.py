"""Shared plumbing of the line-based adapters (Bedrock, OpenAI Batch, Claude Code, Codex, custom).

Each adapter writes ONE SELECT over the temp table ``lines(line, text)`` that gives, per line,
``skip_reason`` (a record that is not a billed call: blank, a summary, a repeat), or
``reject_reason`` (a record that should be a call but cannot be read), and the staging
columns (formats/stage.py). ``finish`` stages the rows with neither reason, stores the
rejects with their line and reason, and does the accounting: staged + skipped + rejected =
lines read, always.
"""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from llmcost.formats.sql import install_macros
from llmcost.formats.stage import STAGE_COLUMNS, StageStats, stage_from_select
from llmcost.streams import SUFFIXES, read_errors

MAX_LINE_BYTES = 512 * 1024 * 1024
RAW_KEEP_CHARS = 65536  # how much of a rejected record is kept in `rejects.raw`

# One VARCHAR column per line: a bad line is a row we can report, not an abort. The
# delimiter is the two control bytes STX ETX, which no JSON text holds (DuckDB takes a
# delimiter as written: '\\x02' in the SQL was the four characters \, x, 0, 2, and cut
# every line that quotes a C or regex escape there).
_READ_LINES = (
    "SELECT text FROM read_csv(?, columns = {'text': 'VARCHAR'}, delim = '\x02\x03', "
    "quote = '', escape = '', header = false, auto_detect = false, new_line = '\\n', "
    f"max_line_size = {MAX_LINE_BYTES}, buffer_size = {MAX_LINE_BYTES * 2}, "
    "strict_mode = false, null_padding = true, ignore_errors = true, store_rejects = true, "
    "rejects_scan = 'llm_reject_scans', rejects_table = 'llm_reject_errors')"
)

# DuckDB's CSV reader ends a line at a CR as well as at the LF it is told (new_line, in any
# mode): a CRLF file had twice its lines, every other one empty, and a CR inside a line cut
# it in two, so every line number past it was wrong. A file that holds a CR is read from a
# copy where each CR is a control byte the file does not hold, turned back into a CR in the
# text read. (Not \x02 or \x03, the reader's delimiter, nor tab, LF, VT, FF or CR.)
_CR_STAND_INS = bytes([1, *range(4, 9), *range(14, 32)])
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CR_STAND_INS)
_BLOCK = 1 << 20


@dataclass(frozen=True)
class LineReader:
    """How DuckDB reads a file one line a row: ``sql`` (one ``text`` column; its parameter
    is ``path``) and ``text(raw)``, a line's raw text as the file has it."""

    sql: str
    path: Path
    stand_in: str | None = None

    def text(self, raw: str) -> str:
        return raw.replace(self.stand_in, "\r") if self.stand_in else raw


@contextmanager
def line_reader(path: Path) -> Iterator[LineReader]:
    """The ``LineReader`` of ``path`` (plain, or gzip named .gz as DuckDB reads it), its
    lines ended by LF only (see ``_CR_STAND_INS``)."""
    opener = gzip.open if path.suffix == ".gz" else open
    has_cr, controls = False, set()
    try:
        with opener(path, "rb") as fh:
            while block := fh.read(_BLOCK):
                has_cr = has_cr or b"\r" in block
                controls.update(block.translate(None, _NOT_CONTROL))
    except read_errors():  # a damaged gzip: DuckDB's reading says what it can of it
        has_cr = False
    free = [b for b in _CR_STAND_INS if b not in controls]
    if not has_cr or not free:  # (a file holding every control byte keeps DuckDB's reading)
        yield LineReader(_READ_LINES, path)
        return
    stand_in = bytes([free[0]])
    with tempfile.TemporaryDirectory(prefix="llmcost-lines-") as tmp:
        copy = Path(tmp) / "lines.txt"
        with opener(path, "rb") as fh, copy.open("wb") as out:
            while block := fh.read(_BLOCK):
                out.write(block.replace(b"\r", stand_in))
        sql = f"SELECT replace(text, chr({free[0]}), chr(13)) AS text FROM ({_READ_LINES})"
        yield LineReader(sql, copy, stand_in.decode())


# A line of nothing but JSON's whitespace (a tab-indented empty line, a CRLF file's empty
# line) is blank: DuckDB's trim() takes spaces only.
BLANK_LINE = "(text IS NULL OR trim(text, e' \\t\\r') = '')"

# A CSV record DuckDB rejected that is a line of only spaces and tabs: blank, skipped as an
# empty line is (DuckDB skips that one, and rejects this one as a row of too few columns).
# Its text may hold the line break before it ('\n   ' in a CRLF file).
BLANK_CSV_REJECT = "coalesce(trim(csv_line, e' \\t\\r\\n') = '', false)"

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
    reader, undecodable = _numbered_lines(con, path, "lines")
    if undecodable:
        con.executemany(
            "INSERT INTO rejects VALUES (?, ?, ?, ?, ?)",
            [
                (
                    ingest_id,
                    source,
                    line + line_offset,
                    f"cannot decode line: {msg.split('.')[0]}",
                    reader.text(raw or "")[:RAW_KEEP_CHARS],
                )
                for line, raw, msg in undecodable
            ],
        )
    if line_offset:
        con.execute("UPDATE lines SET line = line + ?", [line_offset])
    return len(undecodable)


def _numbered_lines(con, path: Path, table: str) -> tuple[LineReader, list[tuple]]:
    """Create the temp table ``table(line, text)`` of ``path``'s decodable lines, numbered as
    the file numbers them; return the reader and the undecodable (line, raw, message)."""
    for name in ("llm_reject_errors", "llm_reject_scans", table, "bad_lines"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    with line_reader(path) as reader:
        con.execute(
            f"CREATE TEMP TABLE {table} AS "
            f"SELECT row_number() OVER () AS line, text FROM ({reader.sql})",
            [str(reader.path)],
        )
    undecodable = con.execute(
        "SELECT line, csv_line, error_message FROM llm_reject_errors ORDER BY line"
    ).fetchall()
    if undecodable:
        con.execute("CREATE TEMP TABLE bad_lines (line BIGINT)")
        con.executemany("INSERT INTO bad_lines VALUES (?)", [(u[0],) for u in undecodable])
        # The k-th decoded row's real line: k + (undecodable lines i with line_i - i < k).
        con.execute(
            f"""UPDATE {table} SET line = {table}.line + (
                 SELECT count(*) FROM (SELECT line - row_number() OVER (ORDER BY line) AS g
                                       FROM bad_lines) b WHERE b.g < {table}.line)"""
        )
        con.execute("DROP TABLE bad_lines")
    return reader, undecodable


# Where a CSV record starts. DuckDB's CSV reader numbers a rejected row by the LFs before it
# outside quoted cells (a blank line counts, a cell's own line breaks do not) and skips blank
# lines; an editor counts every LF. So the file is also read one line a row, and each line's
# start is found to be inside a quoted cell or not, as DuckDB's reader decides it: a quote
# opens a quoted cell only at a cell's start (a quote inside an unquoted cell is text), "" in
# a quoted cell is a quote, a lone one closes it. Per line, two RE2 full matches say whether
# it ends inside a quoted cell when it starts outside (at a record's start) and when it starts
# inside; a line without a quote changes nothing. Chaining these per-line maps is a running
# sum over windows (a map that forgets its start, then the parity of the flips after it), so
# the whole file is numbered in a few vectorised passes, never a row at a time in Python.


def _csv_patterns(delimiter: str) -> tuple[str, str]:
    """RE2 patterns: a line that ends inside a quoted cell, from outside and from inside."""
    d = f"\\x{{{ord(delimiter):x}}}"
    cell = f'(?:"(?:[^"]|"")*"[^{d}"]*|[^"{d}][^{d}]*|)'
    open_cell = '"(?:[^"]|"")*'
    from_out = f"(?:{cell}{d})*{open_cell}"
    from_in = f'(?:[^"]|"")*|(?:[^"]|"")*"[^{d}"]*{d}(?:{cell}{d})*{open_cell}'
    return from_out, from_in


def csv_record_lines(con, path: Path, delimiter: str = ",") -> None:
    """Create the temp table ``csv_records(n, line, blank)``: one row per line of ``path``
    that starts a CSV record (the header, a row, a blank line), ``n`` the number DuckDB's
    CSV reader gives it in its rejects, ``line`` the file's line (what an editor shows).

    Uses (and drops) DuckDB's rejects tables: keep the CSV's own before it
    (csv_records_after_read does)."""
    _, undecodable = _numbered_lines(con, path, "csv_lines")
    if undecodable:  # still lines of the file: their quotes count as far as they were read
        con.executemany(
            "INSERT INTO csv_lines VALUES (?, ?)",
            [(line, raw or "x") for line, raw, _ in undecodable],
        )
    from_out, from_in = (p.replace("'", "''") for p in _csv_patterns(delimiter))
    con.execute("DROP TABLE IF EXISTS csv_records")
    # o / i: the line ends inside a quoted cell when it starts outside / inside one. o = i
    # sets the state whatever it was; o and not i flips it; not o and i keeps it.
    con.execute(
        f"""CREATE TEMP TABLE csv_records AS
        WITH m AS (
          SELECT line, text,
            CASE WHEN strpos(text, '"') > 0 THEN regexp_full_match(text, '{from_out}')
                 ELSE false END AS o,
            CASE WHEN strpos(text, '"') > 0 THEN regexp_full_match(text, '{from_in}')
                 ELSE true END AS i
          FROM csv_lines),
        f AS (
          SELECT *, sum(CASE WHEN o AND NOT i THEN 1 ELSE 0 END) OVER w AS flips
          FROM m WINDOW w AS (ORDER BY line ROWS UNBOUNDED PRECEDING)),
        s AS (
          SELECT line, text,
            max(CASE WHEN o = i THEN line * 2 + o::INT END) OVER w AS set_at,
            max(CASE WHEN o = i THEN flips END) OVER w AS flips_at_set, flips
          FROM f WINDOW w AS (ORDER BY line ROWS UNBOUNDED PRECEDING)),
        e AS (
          SELECT line, text,
            (coalesce(set_at % 2, 0) + flips - coalesce(flips_at_set, 0)) % 2 = 1 AS ends_inside
          FROM s)
        SELECT row_number() OVER (ORDER BY line) AS n, line, blank FROM (
          SELECT line, text IS NULL OR text IN ('', chr(13)) AS blank,
                 coalesce(lag(ends_inside) OVER (ORDER BY line), false) AS starts_inside
          FROM e)
        WHERE NOT starts_inside ORDER BY line"""
    )
    con.execute("DROP TABLE csv_lines")
    for table in ("llm_reject_errors", "llm_reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


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


def csv_records_after_read(con, path: Path, read: str, delimiter: str = ",") -> None:
    """After DuckDB read the CSV ``path`` into the table ``read`` (its rejects in
    ``llm_reject_errors``): the temp tables ``csv_rejects(line, csv_line, error_message)``, a
    copy of those rejects, and ``csv_records`` (see csv_record_lines).

    A file whose lines are its header and the records read and rejected (no blank line, no
    cell across lines: an LF count, a block at a time) numbers its records as its rows + 1;
    only another is read again line by line (csv_record_lines: 1.3 s more on a 100 MB CSV)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE csv_rejects AS "
        "SELECT line, csv_line, error_message, rowid AS seen FROM llm_reject_errors"
    )
    records = con.execute(
        f"SELECT (SELECT count(*) FROM {read}) + (SELECT count(DISTINCT line) FROM csv_rejects)"
    ).fetchone()[0]
    if _one_line_per_record(path, records):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE csv_records AS "
            "SELECT line AS n, line, false AS blank FROM range(1, ? + 2) t(line)",
            [records],
        )
    else:
        csv_record_lines(con, path, delimiter)


def _one_line_per_record(path: Path, records: int) -> bool:
    """Whether the plain file ``path`` holds its header and ``records`` records on as many
    lines (DuckDB decompresses a file named for it: those lines are not these bytes)."""
    if path.suffix in SUFFIXES:
        return False
    lines, last = 0, b"\n"
    with path.open("rb") as fh:
        while block := fh.read(1 << 24):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n") == records + 1
