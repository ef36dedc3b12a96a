"""The staging contract every format adapter fulfils.

An adapter's ``load(con, path, source, ingest_id) -> StageStats`` must leave a temp table
``staged`` with the columns below (one row per billed call; ``line`` is where the call came
from: a line number, or a record number in a JSON document) and insert every rejected
record into ``rejects``. ``stage_from_select`` builds ``staged`` from any SELECT that
produces a subset of the columns; the others are NULL.
"""

from __future__ import annotations

from dataclasses import dataclass

STAGE_COLUMNS: dict[str, str] = {
    "line": "BIGINT",
    "request_id": "VARCHAR",
    "ts": "TIMESTAMPTZ",
    "provider": "VARCHAR",
    "model": "VARCHAR",
    "input_tokens": "BIGINT",  # ALL input, cache reads and writes included
    "cache_read_tokens": "BIGINT",
    "cache_write_tokens": "BIGINT",  # 5-minute writes
    "cache_write_1h_tokens": "BIGINT",
    "output_tokens": "BIGINT",  # ALL output, reasoning included
    "reasoning_tokens": "BIGINT",
    "token_source": "VARCHAR",  # NULL: 'reported' when any count is present
    "service_tier": "VARCHAR",
    "user_id": "VARCHAR",
    "session_id": "VARCHAR",
    "feature": "VARCHAR",
    "tags": "JSON",
    "latency_ms": "DOUBLE",
    "status": "VARCHAR",
    "finish_reason": "VARCHAR",
    "max_tokens": "BIGINT",
    "reported_cost_usd": "DOUBLE",
    "prompt_kind": "VARCHAR",  # 'messages' (JSON array of {role, content}) or 'text'
    "prompt_text": "VARCHAR",
    "system_text": "VARCHAR",
    "completion_text": "VARCHAR",
    "naive_ts": "BOOLEAN",  # the log's timestamp had no zone (read as UTC)
}


@dataclass
class StageStats:
    lines_read: int = 0  # records read (lines, or records of a document)
    skipped: int = 0  # blank lines and records that are not billed calls
    staged: int = 0
    rejected: int = 0
    naive_timestamps: int = 0


def stage_from_select(con, select_sql: str, params: list | None = None, *, source: str,
                      format: str) -> int:
    """Create ``staged`` from ``select_sql``; missing columns are NULL. Returns its row count."""
    con.execute("DROP TABLE IF EXISTS adapter_out")
    con.execute("CREATE TEMP TABLE adapter_out AS " + select_sql, params or [])
    present = {row[1] for row in con.execute("PRAGMA table_info('adapter_out')").fetchall()}
    unknown = present - set(STAGE_COLUMNS) - {"source", "format"}
    if unknown:
        raise ValueError(f"adapter produced unknown staging columns: {sorted(unknown)}")
    columns = ", ".join(
        f"CAST({name if name in present else 'NULL'} AS {kind}) AS {name}"
        for name, kind in STAGE_COLUMNS.items()
    )
    con.execute("DROP TABLE IF EXISTS staged")
    con.execute(
        f"CREATE TEMP TABLE staged AS SELECT {columns}, ? AS source, ? AS format FROM adapter_out",
        [source, format],
    )
    con.execute("DROP TABLE adapter_out")
    return con.execute("SELECT count(*) FROM staged").fetchone()[0]


def reject(con, ingest_id: int, source: str, rows: list[tuple[int, str, str]]) -> None:
    """Record rejected records: (line, reason, raw text)."""
    if rows:
        con.executemany(
            "INSERT INTO rejects VALUES (?, ?, ?, ?, ?)",
            [(ingest_id, source, line, reason, raw[:65536]) for line, reason, raw in rows],
        )
