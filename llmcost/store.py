"""The only module that opens DuckDB: schema, numbered migrations, connection helpers."""

from __future__ import annotations

import os
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from llmcost.errors import InputError, UsageError, unwritable

# Each migration is (number, name, SQL). Never edit a released migration: add a new one.
MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "canonical request record, texts, ingests, rejects",
        """
        CREATE SEQUENCE IF NOT EXISTS ingest_seq START 1;
        CREATE TABLE requests (
            request_id            VARCHAR NOT NULL,
            ts                    TIMESTAMPTZ,
            provider              VARCHAR,
            model                 VARCHAR NOT NULL,
            input_tokens          BIGINT,   -- ALL input, cache reads and writes included
            cache_read_tokens     BIGINT,
            cache_write_tokens    BIGINT,   -- 5-minute TTL writes
            cache_write_1h_tokens BIGINT,
            output_tokens         BIGINT,   -- ALL output, reasoning included
            reasoning_tokens      BIGINT,
            token_source          VARCHAR,  -- reported | counted | estimated
            service_tier          VARCHAR,  -- standard | batch | flex | priority
            prompt_hash           VARCHAR,
            system_hash           VARCHAR,
            completion_hash       VARCHAR,
            user_id               VARCHAR,
            session_id            VARCHAR,
            feature               VARCHAR,
            tags                  JSON,
            latency_ms            DOUBLE,
            status                VARCHAR,  -- ok | error
            finish_reason         VARCHAR,
            max_tokens            BIGINT,
            reported_cost_usd     DOUBLE,
            source                VARCHAR,
            source_line           BIGINT,
            format                VARCHAR,
            ingest_id             BIGINT
        );
        -- texts: each distinct text once. kind = 'messages' (JSON array of chat messages
        -- [{role, content, name?}]) | 'text' (plain text).
        CREATE TABLE texts (
            hash   VARCHAR PRIMARY KEY,
            kind   VARCHAR NOT NULL,
            text   VARCHAR NOT NULL
        );
        CREATE TABLE ingests (
            ingest_id   BIGINT PRIMARY KEY,
            started_at  TIMESTAMPTZ,
            source      VARCHAR,
            format      VARCHAR,
            size_bytes  BIGINT,
            head_hash   VARCHAR,   -- hash of the first bytes: detects rotation/truncation
            lines_read  BIGINT,
            ingested    BIGINT,
            skipped     BIGINT,
            rejected    BIGINT
        );
        CREATE TABLE rejects (
            ingest_id  BIGINT,
            source     VARCHAR,
            line       BIGINT,
            reason     VARCHAR,
            raw        VARCHAR
        );
        """,
    ),
    (
        2,
        "incremental ingest bookkeeping; aggregate usage-report buckets",
        """
        ALTER TABLE ingests ADD COLUMN end_offset BIGINT;  -- bytes consumed, for grown files
        ALTER TABLE ingests ADD COLUMN end_line BIGINT;    -- lines consumed
        ALTER TABLE ingests ADD COLUMN mode VARCHAR;       -- new | appended | unchanged | rotated
        -- Provider usage reports are aggregates (N requests per bucket), not calls: they are
        -- kept apart so per-call analyses never mistake a bucket for one call.
        CREATE TABLE usage_buckets (
            bucket_id             VARCHAR NOT NULL,
            bucket_start          TIMESTAMPTZ,
            bucket_end            TIMESTAMPTZ,
            provider              VARCHAR,
            model                 VARCHAR,
            project_id            VARCHAR,
            api_key_id            VARCHAR,
            workspace_id          VARCHAR,
            service_tier          VARCHAR,
            requests              BIGINT,
            input_tokens          BIGINT,   -- ALL input, cache included (canonical)
            cache_read_tokens     BIGINT,
            cache_write_tokens    BIGINT,
            cache_write_1h_tokens BIGINT,
            output_tokens         BIGINT,
            reported_cost_usd     DOUBLE,
            source                VARCHAR,
            source_line           BIGINT,
            format                VARCHAR,
            ingest_id             BIGINT
        );
        """,
    ),
    (
        3,
        "web-search request counts (per-search fees)",
        """
        ALTER TABLE requests ADD COLUMN web_search_requests BIGINT;  -- server-side searches billed
        """,
    ),
    (
        4,
        "usage buckets: web searches and the context window (long-context rates)",
        """
        ALTER TABLE usage_buckets ADD COLUMN web_search_requests BIGINT;
        ALTER TABLE usage_buckets ADD COLUMN context_window VARCHAR;  -- as reported: 0-200k
        """,
    ),
    (
        5,
        "price modifiers the usage reports: where the call ran, fast mode",
        """
        ALTER TABLE requests ADD COLUMN inference_geo VARCHAR;  -- usage.inference_geo: us | global
        ALTER TABLE requests ADD COLUMN speed VARCHAR;          -- usage.speed: fast | standard
        ALTER TABLE usage_buckets ADD COLUMN inference_geo VARCHAR;
        ALTER TABLE usage_buckets ADD COLUMN speed VARCHAR;
        """,
    ),
    (
        6,
        "the function tool definitions a request sent (billed as prompt tokens)",
        """
        -- texts(tools_hash, kind 'tools'): the request's tools (or legacy functions), a JSON list
        ALTER TABLE requests ADD COLUMN tools_hash VARCHAR;
        """,
    ),
    (
        7,
        "the tool_choice a request with tools sent (a forced tool changes the prompt's tokens)",
        """
        -- as logged, JSON: "auto", "none", "required", {"type": "function", …}, {"type": "any"}
        ALTER TABLE requests ADD COLUMN tool_choice VARCHAR;
        """,
    ),
    (
        8,
        "the last line an ingest read, when streams still being written are held back",
        """
        -- end_offset/end_line: where the next ingest of the file starts; before read_line
        -- when an OpenAI stream logged chunk by chunk had not ended (its chunks are read
        -- again, with what follows them, by the next ingest)
        ALTER TABLE ingests ADD COLUMN read_line BIGINT;
        """,
    ),
    (
        9,
        "audio tokens (billed at audio prices)",
        """
        ALTER TABLE requests ADD COLUMN input_audio_tokens BIGINT;       -- part of input_tokens
        ALTER TABLE requests ADD COLUMN cache_read_audio_tokens BIGINT;  -- part of cache_read_tokens
        ALTER TABLE requests ADD COLUMN output_audio_tokens BIGINT;      -- part of output_tokens
        """,
    ),
    (
        10,
        "usage buckets: audio tokens (billed at audio prices)",
        """
        -- as in requests: audio parts of input_tokens, cache_read_tokens and output_tokens
        ALTER TABLE usage_buckets ADD COLUMN input_audio_tokens BIGINT;
        ALTER TABLE usage_buckets ADD COLUMN cache_read_audio_tokens BIGINT;
        ALTER TABLE usage_buckets ADD COLUMN output_audio_tokens BIGINT;
        """,
    ),
    (
        11,
        "the lines of the streams an ingest held back",
        """
        -- the held streams' own lines, as runs ('2-3, 5-6'), between end_line and read_line:
        -- a call logged while a stream was being written lies between its chunks
        ALTER TABLE ingests ADD COLUMN held_lines VARCHAR;
        """,
    ),
]


def default_db_path() -> Path:
    """``$LLMCOST_DB``, else ``$XDG_DATA_HOME/llmcost/llmcost.duckdb`` (~/.local/share/...)."""
    env = os.environ.get("LLMCOST_DB")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "llmcost" / "llmcost.duckdb"


# DuckDB's memory ceiling (env LLMCOST_MEMORY_LIMIT, any DuckDB size: '800MB', '4GB').
# Past it, DuckDB spills to disk instead of growing: a log of gigabytes is read in bounded
# memory. DuckDB's own default is 80% of RAM, which it then holds on to.
DEFAULT_MEMORY_LIMIT = "1.5GB"


def connect(
    path: str | Path | None = None, *, must_exist: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open (and migrate) the store; in memory when ``path`` is None. ``must_exist``: a
    database only read (no log to add to it) is not created where a path was mistyped."""
    if path is not None and must_exist and not Path(path).is_file():
        raise InputError(
            f"{path}: no such database",
            hint="check the path, or fill it with `llmcost ingest LOGS --db FILE` first",
        )
    if path is not None:
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise unwritable(path, exc) from None
        if Path(path).is_dir():
            raise unwritable(path, IsADirectoryError(21, "is a directory"))
    try:
        con = duckdb.connect(str(path) if path else ":memory:")
    except duckdb.IOException as exc:
        raise UsageError(
            f"{path}: cannot open the database ({str(exc).splitlines()[0]})",
            hint="check the path and its permissions; another llmcost may hold it open",
        ) from None
    con.execute("SET TimeZone = 'UTC'")  # days, hours and naive timestamps are UTC
    bound_memory(con, spill_here=path is None)
    migrate(con)
    return con


def memory_limit() -> str:
    """The memory ceiling asked for: $LLMCOST_MEMORY_LIMIT, else DEFAULT_MEMORY_LIMIT."""
    return os.environ.get("LLMCOST_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)


def bound_memory(con: duckdb.DuckDBPyConnection, spill_here: bool = False) -> None:
    """Set DuckDB's memory ceiling; ``spill_here``: spill to this process's temp directory."""
    limit = memory_limit()
    try:
        con.execute(f"SET memory_limit = '{limit.replace(chr(39), '')}'")
    except duckdb.Error:
        raise UsageError(
            f"LLMCOST_MEMORY_LIMIT={limit!r} is not a size",
            hint="write it the way DuckDB does, e.g. 800MB or 4GB",
        ) from None
    if spill_here:  # an in-memory database; a file database spills next to its file
        con.execute(f"SET temp_directory = '{_spill_dir()}'")


@contextmanager
def memory_lifted(con: duckdb.DuckDBPyConnection):
    """DuckDB's own ceiling (80% of RAM) for a statement that must hold one huge value at
    once: a JSON document read whole, a line of tens of megabytes (every string function
    copies it). The bounded ceiling is set again afterwards."""
    con.execute("RESET memory_limit")
    # DuckDB 1.5 (Python 3.10) reports the default after a RESET but keeps allocating under
    # the old ceiling: the default is set again by its value, which 2.0 takes as a no-op.
    default = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute(f"SET memory_limit = '{default}'")
    try:
        yield
    finally:
        with suppress(duckdb.Error):  # an aborted transaction refuses it: keep the first error
            bound_memory(con)


class _ArrowStream:
    """A polars frame seen as an Arrow C stream: DuckDB reads it (as often as a query scans
    it) without converting it to a pyarrow Table, so pyarrow, numpy and their ~0.1 s of
    imports are not loaded for a frame."""

    __slots__ = ("frame",)

    def __init__(self, frame) -> None:
        self.frame = frame

    def __arrow_c_stream__(self, requested_schema=None):
        return self.frame.__arrow_c_stream__(requested_schema)


def register_frame(con: duckdb.DuckDBPyConnection, name: str, frame) -> None:
    """Make a polars DataFrame readable in SQL as ``name`` (``con.unregister`` removes it)."""
    if _DUCKDB_MAJOR < 2:
        # DuckDB 1.5 (Python 3.10) scans an Arrow stream through pyarrow's Acero, which
        # warns on stderr, once per column, of a buffer not aligned to its type: an empty
        # polars column's is (a dangling pointer). Acero is told to copy such a buffer to
        # an aligned one instead (a user's own setting is kept); DuckDB 2 does not use it.
        os.environ.setdefault("ACERO_ALIGNMENT_HANDLING", "reallocate")
    con.register(name, _ArrowStream(frame))


_DUCKDB_MAJOR = int(duckdb.__version__.split(".")[0])


_spill: list[str] = []


def _spill_dir() -> str:
    """A private temp directory for this process's spills, removed at exit (DuckDB's default
    for an in-memory database is ``.tmp`` in the current directory)."""
    if not _spill:
        import atexit
        import shutil
        import tempfile

        _spill.append(tempfile.mkdtemp(prefix="llmcost-spill-"))
        atexit.register(shutil.rmtree, _spill[0], ignore_errors=True)
    return _spill[0]


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration not yet applied, each in its own transaction."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(number INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ DEFAULT now())"
    )
    done = {row[0] for row in con.execute("SELECT number FROM schema_migrations").fetchall()}
    applied = []
    for number, name, sql in MIGRATIONS:
        if number in done:
            continue
        con.execute("BEGIN")
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations (number, name) VALUES (?, ?)", [number, name])
        con.execute("COMMIT")
        applied.append(number)
    return applied
