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
    "web_search_requests": "BIGINT",  # server-side web searches (per-search fees)
    "input_audio_tokens": "BIGINT",  # audio part of input_tokens (cached audio included)
    "cache_read_audio_tokens": "BIGINT",  # audio part of cache_read_tokens
    "output_audio_tokens": "BIGINT",  # audio part of output_tokens
    "token_source": "VARCHAR",  # NULL: 'reported' when any count is present
    "service_tier": "VARCHAR",
    "inference_geo": "VARCHAR",  # where the call ran, as its usage says (us | global)
    "speed": "VARCHAR",  # fast | standard (Anthropic fast mode), as its usage says
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
    # the request's tool definitions (tools, or legacy functions): a JSON list, as logged
    "tools_text": "VARCHAR",
    # the tool_choice of a request with tools, as logged (JSON: "auto", {"type": …})
    "tool_choice": "VARCHAR",
    "naive_ts": "BOOLEAN",  # the log's timestamp had no zone (read as UTC)
    # md5 of the texts; filled from the texts when the adapter does not give them
    "prompt_hash": "VARCHAR",
    "system_hash": "VARCHAR",
    "completion_hash": "VARCHAR",
    "tools_hash": "VARCHAR",
}
_HASHED = {
    "prompt_hash": "prompt_text",
    "system_hash": "system_text",
    "completion_hash": "completion_text",
    "tools_hash": "tools_text",
}


@dataclass
class StageStats:
    lines_read: int = 0  # records read (lines, or records of a document)
    skipped: int = 0  # blank lines and records that are not billed calls
    staged: int = 0
    rejected: int = 0
    naive_timestamps: int = 0


def stage_from_select(con, select_sql: str, params: list | None = None, *, source: str,
                      format: str, materialize: bool = True) -> int:
    """Create ``staged`` from ``select_sql``; missing columns are NULL. Returns its row count.

    ``materialize=False`` makes ``staged`` a view (for an adapter whose SELECT reads a
    table it already built: the large texts are then not copied once more)."""
    con.execute("DROP VIEW IF EXISTS adapter_out")
    # A view, so the adapter's SELECT is materialized once, as ``staged`` (text is large).
    con.execute("CREATE TEMP VIEW adapter_out AS " + _inline(select_sql, params or []))
    present = {row[0] for row in con.execute("DESCRIBE adapter_out").fetchall()}
    unknown = present - set(STAGE_COLUMNS) - {"source", "format"}
    if unknown:
        con.execute("DROP VIEW adapter_out")
        raise ValueError(f"adapter produced unknown staging columns: {sorted(unknown)}")
    def value(name: str) -> str:
        if name in present:
            return name
        if name in _HASHED and _HASHED[name] in present:
            return f"md5({_HASHED[name]})"
        return "NULL"

    columns = ", ".join(
        f"CAST({value(name)} AS {kind}) AS {name}" for name, kind in STAGE_COLUMNS.items()
    )
    drop_staged(con, ("staged",))
    quoted = lambda v: "'" + v.replace("'", "''") + "'"  # noqa: E731
    body = f"SELECT {columns}, {quoted(source)} AS source, {quoted(format)} AS format"
    if materialize:
        con.execute(f"CREATE TEMP TABLE staged AS {body} FROM adapter_out")
        con.execute("DROP VIEW adapter_out")
    else:
        con.execute(f"CREATE TEMP VIEW staged AS {body} FROM ({_inline(select_sql, params or [])})")
        con.execute("DROP VIEW adapter_out")
    return con.execute("SELECT count(*) FROM staged").fetchone()[0]


def drop_staged(con, names: tuple[str, ...] = ("staged", "staged_all")) -> None:
    """Drop ``staged`` (a table or a view) and what a view of it may read."""
    kinds = dict(
        con.execute(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_catalog = 'temp' AND table_schema = 'main'"
        ).fetchall()
    )
    for name in names:
        if name in kinds:
            kind = "VIEW" if kinds[name] == "VIEW" else "TABLE"
            con.execute(f"DROP {kind} {name}")


def _inline(sql: str, params: list) -> str:
    """Views cannot take parameters: bind each ``?`` as a SQL literal (strings quoted)."""
    if not params:
        return sql
    parts = sql.split("?")
    if len(parts) - 1 != len(params):
        raise ValueError("stage_from_select: parameter count does not match the placeholders")
    out = [parts[0]]
    for value, rest in zip(params, parts[1:]):
        if value is None:
            literal = "NULL"
        elif isinstance(value, bool):
            literal = "TRUE" if value else "FALSE"
        elif isinstance(value, (int, float)):
            literal = repr(value)
        else:
            literal = "'" + str(value).replace("'", "''") + "'"
        out.append(literal + rest)
    return "".join(out)


def reject(con, ingest_id: int, source: str, rows: list[tuple[int, str, str]]) -> None:
    """Record rejected records: (line, reason, raw text)."""
    if rows:
        con.executemany(
            "INSERT INTO rejects VALUES (?, ?, ?, ?, ?)",
            [(ingest_id, source, line, reason, raw[:65536]) for line, reason, raw in rows],
        )
