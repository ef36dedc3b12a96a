"""JSON lines: every line parsed by DuckDB, shaped by the registered ``LineShape``s.

One pass in SQL: read the lines (``read_csv`` with one VARCHAR column, so a bad line is a
row we can report, not an abort), parse each once with ``json_transform`` into the record
STRUCT, unwrap envelopes (``{request, response}``), pick the first matching shape, and
normalize usage by the usage object's style. Lines DuckDB cannot even decode (invalid
UTF-8) come back from its ``reject_errors`` table with their line numbers.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import nullcontext, suppress
from itertools import islice
from pathlib import Path

import duckdb

from llmcost.formats import UTF8_BOM, FileFormat, register_format, shapes
from llmcost.formats.lines import (
    BLANK_LINE,
    MAX_LINE_BYTES,
    RAW_KEEP_CHARS,
    line_reader,
    read_lines,
)
from llmcost.formats.openai import STREAM_CHUNK, STREAM_USAGE
from llmcost.formats.sql import RECORD_STRUCT, install_macros, prompt_columns
from llmcost.formats.stage import STAGE_COLUMNS, StageStats, drop_staged, stage_from_select
from llmcost.formats.usage import (
    AUTO_STYLE_SQL,
    bad_field_sql,
    column_sql,
    modifier_sql,
    tokens_sql,
    usage_string_sql,
    usage_strings_sql,
)
from llmcost.render import plural
from llmcost.streams import SUFFIXES


def _shape_case(attr: str) -> str:
    arms = " ".join(f"WHEN '{s.name}' THEN {getattr(s, attr)}" for s in shapes())
    return f"(CASE shape {arms} END)"


SLOW_SOURCE = f"""
  SELECT line, text, state, CASE WHEN state = 'ok' THEN json_transform(text, '{RECORD_STRUCT}') END AS p
  FROM (SELECT line, text,
          CASE WHEN {BLANK_LINE} THEN 'blank'
               WHEN NOT json_valid(text) THEN 'invalid'
               WHEN json_type(text) <> 'OBJECT' THEN 'notobject'
               ELSE 'ok' END AS state
        FROM lines)"""


# Bounds on a chunk's longest line the chunker checks, smallest first. DuckDB's JSON reader
# fails on a line longer than its maximum_object_size and reads a file on one thread when
# that size is near the file's: with a small bound, a chunk is split between its threads.
FAST_LINE_BOUNDS = (1024 * 1024, 16 * 1024 * 1024)
# DuckDB's JSON reader hands buffers of this size to its threads: a smaller file is read on
# one thread, so its lines are numbered as read (no plan check needed).
READER_BUFFER_BYTES = 32 * 1024 * 1024
# A file between this and READER_BUFFER_BYTES is given to the reader as two halves
# (it reads files in parallel); smaller, the split costs more than it saves.
HALVES_MIN_BYTES = 4 * 1024 * 1024


def fast_source(
    numbered: bool = False, line_offset: int = 0, max_line: int = MAX_LINE_BYTES
) -> str:
    """DuckDB's parallel JSON reader, parsing each line straight into the record struct.

    It turns a line that is not a JSON object into a row of NULLs and skips blank lines, so
    its rows match the file's lines only when there is no blank line and no all-NULL row:
    ``load_jsonl`` checks that and otherwise reads the chunk again the careful way.

    Line numbers: ``row_number() OVER ()`` (``numbered``) makes the whole staging query run
    on one thread, so by default the lines are numbered afterwards from the staged table's
    row order (``number_lines``), which only a plan ``create_keeping_order`` accepts.

    ``max_line``: DuckDB fails the whole read on a longer line, and reads a chunk on one
    thread when this is near the chunk's size; the chunker tells when all lines are short."""
    fields = json.loads(RECORD_STRUCT)
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in fields.items()) + "}"
    pack = ", ".join(f'"{k}" := "{k}"' for k in fields)
    anything = " OR ".join(f'"{k}" IS NOT NULL' for k in fields)
    line = f"row_number() OVER () + {int(line_offset)}" if numbered else "NULL::BIGINT"
    return f"""
  SELECT {line} AS line, NULL::VARCHAR AS text,
         CASE WHEN {anything} THEN 'ok' ELSE 'invalid' END AS state, struct_pack({pack}) AS p
  FROM read_json(?, format = 'newline_delimited', columns = {columns}, ignore_errors = true,
                 maximum_object_size = {int(max_line)})"""


_ORDER_KEEPING = {"READ_JSON", "PROJECTION", "FILTER"}


def create_keeping_order(con, create_sql: str, params: list) -> bool:
    """Run a CREATE TABLE AS; whether DuckDB wrote the rows in the order it read them: the
    plan it ran (profiled, not planned a second time) is a batch insert (DuckDB's
    order-preserving write) over a scan, projections and filters. A join (which DuckDB may
    plan for an IN list) or an aggregate would lose the order."""
    con.execute("SET enable_profiling = 'no_output'")
    try:
        con.execute(create_sql, params)
        plan = json.loads(con.get_profiling_information(format="json"))
    finally:
        # (a failed statement aborts the transaction, and the RESET with it: let the
        # statement's error through, not the RESET's)
        with suppress(duckdb.Error):
            con.execute("RESET enable_profiling")

    def operators(node):
        yield node["name"] if "name" in node else node["operator_name"]
        for child in node.get("children", []):
            yield from operators(child)

    # DuckDB 2 lists the plan under "operator" and names a node "name"; 1.5 (Python 3.10)
    # hangs the plan under the root's "children" and names a node "operator_name".
    tops = plan["operator"] if "operator" in plan else plan["children"]
    names = [name for node in tops for name in operators(node)]
    root, *rest = [name for name in names if name != "RESULT_COLLECTOR"]
    return root == "BATCH_CREATE_TABLE_AS" and set(rest) <= _ORDER_KEEPING


def _two_halves(path: Path, workdir: Path) -> list[str]:
    """A file DuckDB would read on one thread (under one reader buffer) as two files it reads
    on two, the same lines in the same order; a larger file as it is."""
    size = _size(path)
    if not HALVES_MIN_BYTES <= size <= READER_BUFFER_BYTES or _named_compressed(path):
        return [str(path)]
    data = path.read_bytes()
    cut = data.find(b"\n", len(data) // 2) + 1
    if not 0 < cut < len(data):
        return [str(path)]
    halves = [workdir / "first.jsonl", workdir / "second.jsonl"]
    halves[0].write_bytes(memoryview(data)[:cut])
    halves[1].write_bytes(memoryview(data)[cut:])
    return [str(h) for h in halves]


def number_lines(con, table: str, line_offset: int) -> None:
    """Number the rows of ``table`` (made by an order-keeping CREATE TABLE AS over
    ``fast_source``): its rowid follows the file."""
    # rowid order, not rowid values: inside a transaction DuckDB numbers new rows from a base
    con.execute(
        f"""UPDATE {table} SET line = n.line FROM (
              SELECT rowid AS rid, row_number() OVER (ORDER BY rowid) + ? AS line FROM {table}
            ) n WHERE {table}.rowid = n.rid""",
        [int(line_offset)],
    )


def staging_sql(source: str = SLOW_SOURCE) -> str:
    """The SELECT that turns ``source(line, text, state, p)`` into staged canonical rows."""
    shape_pick = " ".join(f"WHEN {s.match} THEN '{s.name}'" for s in shapes())
    fixed_styles = " ".join(
        f"WHEN '{s.name}' THEN '{s.usage_style}'" for s in shapes() if s.usage_style
    )
    return f"WITH structs AS ({source}\n" + _first_char_types(f"""), layered AS (
  SELECT *,
    CASE WHEN json_type(p.response) = 'OBJECT' THEN json_transform(p.response, '{RECORD_STRUCT}')
         ELSE p END AS r,
    CASE WHEN json_type(p.request) = 'OBJECT' THEN json_transform(p.request, '{RECORD_STRUCT}')
         ELSE p END AS q,
    coalesce(p.metadata, p.tags) AS meta
  FROM structs
), shaped AS (
  SELECT *, CASE WHEN state <> 'ok' THEN NULL {shape_pick} END AS shape FROM layered
), used AS (
  SELECT *, {_shape_case("usage")} AS u FROM shaped
), raw AS (
  SELECT *, {usage_strings_sql()} AS u_raw FROM used
), styled AS (
  SELECT *, coalesce(CASE shape {fixed_styles or "WHEN NULL THEN NULL"} END, {AUTO_STYLE_SQL})
    AS usage_style, {tokens_sql("u_raw")} AS u_tok FROM raw
), fields AS (
  SELECT line, text, state, shape, usage_style, {_shape_case("skip")} AS skip_reason, p,
    llm_blank(coalesce(r.model, r.modelVersion, r.model_version, q.model, q.modelId, p.model,
                       p.modelId)) AS model,
    llm_line_model_fault(text, model) AS bad_model,  -- (the model just above)
    coalesce(p.timestamp, p.ts, p.time, p.created_at, p.created, p.start_time, p.startTime,
             {_shape_case("ts")}) AS ts_raw,
    {column_sql("input")} AS input_tokens,
    {column_sql("cache_read")} AS cache_read_tokens,
    {column_sql("cache_write")} AS cache_write_tokens,
    {column_sql("cache_write_1h")} AS cache_write_1h_tokens,
    {column_sql("output")} AS output_tokens,
    {column_sql("reasoning")} AS reasoning_tokens,
    {column_sql("web_search")} AS web_search_requests,
    {column_sql("input_audio")} AS input_audio_tokens,
    {column_sql("cache_read_audio")} AS cache_read_audio_tokens,
    {column_sql("output_audio")} AS output_audio_tokens,
    {bad_field_sql(raw="u_raw")} AS bad_usage,
    llm_blank(coalesce({_shape_case("request_id")}, p.request_id, p.id)) AS log_id,
    lower(llm_blank(coalesce(p.provider, q.provider, {_shape_case("provider")}))) AS provider_given,
    -- the tier the call ran on (the response's, or its usage's: Anthropic writes it there)
    -- before the one the request asked for
    llm_tier(coalesce(p.service_tier, {_shape_case("service_tier")},
                      {usage_string_sql("$.service_tier")}, q.service_tier)) AS service_tier,
    -- where the call ran and whether in fast mode, as its usage says (price modifiers)
    {modifier_sql("inference_geo")} AS inference_geo, {modifier_sql("speed")} AS speed,
    llm_blank(coalesce(p.user_id, p.user, meta ->> '$.user_id', meta ->> '$.user', q.user,
                       q.metadata ->> '$.user_id')) AS user_id,
    llm_blank(coalesce(p.session_id, p.conversation_id, meta ->> '$.session_id',
                       meta ->> '$.conversation_id')) AS session_id,
    llm_blank(coalesce(p.feature, meta ->> '$.feature', meta ->> '$.route')) AS feature,
    meta AS tags,
    coalesce(TRY_CAST(p.latency_ms AS DOUBLE), TRY_CAST(p.duration_ms AS DOUBLE),
             TRY_CAST(p.duration AS DOUBLE) * 1000) AS latency_ms,
    -- a pattern, not IN: DuckDB plans this IN list as a join, which loses the row order
    CASE WHEN regexp_full_match(lower(coalesce(p.status, r.status, '')),
                                'error|failed|failure|fail|cancelled|timeout')
           OR TRY_CAST(p.status AS INTEGER) >= 400
           OR coalesce(json_type(p.error), 'NULL') NOT IN ('NULL', 'BOOLEAN')
           OR coalesce(json_type(r.error), 'NULL') NOT IN ('NULL', 'BOOLEAN')
         THEN 'error' ELSE 'ok' END AS status,
    llm_finish(llm_blank(coalesce(p.finish_reason, {_shape_case("finish_reason")})))
      AS finish_reason,
    llm_tok(coalesce(q.max_tokens, q.max_completion_tokens, q.max_output_tokens,
                     q.generationConfig ->> '$.maxOutputTokens', p.max_tokens)) AS max_tokens,
    TRY_CAST(coalesce(p.cost_usd, p.cost, p.response_cost) AS DOUBLE) AS reported_cost_usd,
    coalesce(q.system, q.instructions, q.systemInstruction) AS sys_json,
    CASE WHEN json_type(q.messages) = 'ARRAY' THEN q.messages
         WHEN json_type(q.input) = 'ARRAY' THEN q.input
         -- a Responses API input string is one user message (framed as a chat prompt)
         WHEN shape = 'openai_responses' AND json_type(q.input) = 'VARCHAR'
           THEN json_array(json_object('role', 'user', 'content', q.input ->> '$')) END AS msgs,
    CASE WHEN json_type(q.contents) = 'ARRAY'
           THEN array_to_string(json_extract_string(q.contents, '$[*].parts[*].text'), '\n')
         WHEN json_type(q.prompt) = 'VARCHAR' THEN q.prompt ->> '$'
         WHEN json_type(q.input) = 'VARCHAR' THEN q.input ->> '$' END AS prompt_plain,
    {_shape_case("completion")} AS completion_text,
    -- the function tools the request sent (legacy: functions); a Responses API object
    -- repeats its request's tools
    coalesce(q.tools, q.functions, r.tools) AS tools_json,
    CASE WHEN q.tools IS NOT NULL OR q.functions IS NOT NULL THEN q.tool_choice
         ELSE r.tool_choice END AS tool_choice_json,
    -- a streamed chunk's piece of the answer, its delta (text, tool-call arguments): a
    -- stream is made one call with them as its answer (_keep_stream_chunks)
    CASE WHEN r.object = 'chat.completion.chunk' THEN json_extract(r.choices, '$[0].delta') END
      AS stream_delta
  FROM styled
), texts AS (
  SELECT *,
    CASE json_type(sys_json)
      WHEN 'VARCHAR' THEN sys_json ->> '$'
      WHEN 'ARRAY' THEN llm_join(json_extract_string(sys_json, '$[*].text'))
      WHEN 'OBJECT' THEN llm_join(json_extract_string(sys_json, '$.parts[*].text'))
    END AS sys_text,
    -- the first message's role and content, in one parse of the (long) message list
    -- (json_extract_string gives a string's value and any other value's JSON text)
    json_extract_string(msgs, ['$[0].role', '$[0].content']) AS first_message
  FROM fields
)
SELECT line, text, state, shape, usage_style, skip_reason, model, ts_raw,
  llm_ts(ts_raw) AS ts, llm_ts_naive(ts_raw) AS naive_ts,
  input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens,
  output_tokens, reasoning_tokens, web_search_requests, bad_usage,
  bad_model,
  input_audio_tokens, cache_read_audio_tokens, output_audio_tokens,
  coalesce(provider_given, llm_provider_of(model)) AS provider,
  service_tier, inference_geo, speed, user_id, session_id, feature, tags, latency_ms, status,
  finish_reason, max_tokens, reported_cost_usd,
  {prompt_columns()},
  CASE WHEN first_message[1] IN ('system', 'developer') THEN first_message[2]
       ELSE sys_text END AS system_text,
  completion_text, stream_delta,
  -- kept beside a prompt only (they are counted with it), a non-empty list as logged
  CASE WHEN prompt_text IS NOT NULL AND json_type(tools_json) = 'ARRAY'
            AND CAST(tools_json AS VARCHAR) <> '[]' THEN CAST(tools_json AS VARCHAR) END
    AS tools_text,
  CASE WHEN json_type(tool_choice_json) NOT IN ('NULL')
       THEN CAST(tool_choice_json AS VARCHAR) END AS tool_choice,
  md5(prompt_text) AS prompt_hash, md5(system_text) AS system_hash,
  md5(completion_text) AS completion_hash, md5(tools_text) AS tools_hash,
  -- no id in the log: the call's identity is its whole content
  CASE WHEN log_id IS NOT NULL THEN log_id ELSE llm_record_id(p) END AS request_id
FROM texts
""")


def _first_char_types(sql: str) -> str:
    """``json_type`` parses its whole argument (a message list can be kilobytes); the JSON
    values here were written by DuckDB, minified, so their first character tells the type."""
    return sql.replace("json_type(", "llm_jtype(")


def reject_reason_sql() -> str:
    return """CASE
      WHEN state = 'invalid' AND left(ltrim(text), 1) IN ('{', '[')
        THEN 'not valid JSON (truncated or malformed line)'
      WHEN state = 'invalid' THEN 'not valid JSON'
      WHEN state = 'notobject' THEN 'JSON ' || llm_json_kind(text) || ', not an object'
      WHEN model IS NULL THEN 'no model (looked for model, modelVersion, modelId, request.model, response.model)'
      WHEN bad_model IS NOT NULL THEN bad_model
      WHEN bad_usage IS NOT NULL THEN bad_usage
      ELSE 'timestamp ' || llm_ts_fault(ts_raw, ts)
    END"""


def _stage_lines(
    con,
    source: str,
    ingest_id: int,
    format: str,
    undecodable: int,
    fast: tuple[Path, int, int, int] | None = None,
) -> StageStats | None:
    """From the temp table ``lines(line, text)`` (or, ``fast``, the file read by DuckDB's
    JSON reader: (path, line offset, lines, longest line allowed)) to ``staged`` and
    ``rejects``. In fast mode, None when the reader did not give one object per line (then
    nothing was written)."""
    drop_staged(con)
    if fast:
        path, offset, expected, max_line = fast
        with tempfile.TemporaryDirectory(prefix="llmcost-") as workdir:
            files = _two_halves(path, Path(workdir))
            parallel = len(files) > 1 or _size(path) > READER_BUFFER_BYTES
            create = "CREATE TEMP TABLE staged_all AS "
            if parallel and create_keeping_order(
                con, create + staging_sql(fast_source(max_line=max_line)), [files]
            ):
                number_lines(con, "staged_all", offset)
            else:  # one thread, or (not seen with DuckDB 2.0) a plan that lost the order
                con.execute("DROP TABLE IF EXISTS staged_all")
                numbered = fast_source(True, offset, max_line)
                con.execute(create + staging_sql(numbered), [str(path)])
        # The fast reader keeps no raw text: lines it could not read as objects (all-NULL
        # rows) or that must be rejected (a reject keeps its raw line) are read again the
        # careful way, and only those.
        rows, bad = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE state <> 'ok' OR bad_model IS NOT NULL OR "
            f"{_MAY_BE_A_CALL} "
            f"AND ({reject_reason_sql()}) IS NOT NULL) FROM staged_all"
        ).fetchone()
        if rows != expected or bad > max(100, rows // 10):
            con.execute("DROP TABLE staged_all")
            return None
        if bad:
            _redo_bad_lines(con, path, offset)
    else:
        con.execute("CREATE TEMP TABLE staged_all AS " + staging_sql())
        con.execute("DROP TABLE lines")
    _keep_stream_chunks(con)
    stage_staged_all(con, ingest_id, source, format)
    lines_read, skipped, staged, naive = con.execute(
        """SELECT count(*), count(*) FILTER (WHERE state = 'blank' OR skip_reason IS NOT NULL),
                  (SELECT count(*) FROM staged), (SELECT count(*) FROM staged WHERE naive_ts)
           FROM staged_all"""
    ).fetchone()
    if naive:  # a call logged twice (one request_id) is stored once, its first line
        naive = con.execute(
            """SELECT count(*) FILTER (WHERE naive_ts) FROM (SELECT naive_ts FROM staged
               QUALIFY row_number() OVER (PARTITION BY request_id ORDER BY line) = 1)"""
        ).fetchone()[0]
    lines_read += undecodable  # staged_all is dropped with the staged view, after storing
    rejected = lines_read - skipped - staged
    return StageStats(lines_read, skipped, staged, rejected, naive)


def stage_staged_all(con, ingest_id: int, source: str, format: str) -> tuple[int, int]:
    """``staged`` from the rows of ``staged_all`` that are calls, and their rejected lines
    into ``rejects``; returns (staged, rejected)."""
    columns = ", ".join(c for c in STAGE_COLUMNS if c != "token_source")
    staged = stage_from_select(
        con,
        f"""SELECT {columns} FROM staged_all WHERE state = 'ok' AND skip_reason IS NULL
          AND ({reject_reason_sql()}) IS NULL""",
        source=source,
        format=format,
        materialize=False,  # staged_all already holds the texts: do not copy them again
    )
    rejected = con.execute(
        f"""INSERT INTO rejects
        SELECT ?, ?, line, reason, left(text, {RAW_KEEP_CHARS}) FROM (
          SELECT line, text, ({reject_reason_sql()}) AS reason FROM staged_all
          WHERE state <> 'blank' AND skip_reason IS NULL) WHERE reason IS NOT NULL""",
        [ingest_id, source],
    ).fetchone()[0]
    return staged, rejected


# A stream's usage chunk is skipped until its stream is made a call from it (it may be
# rejected then): the lines the careful reader reads again, for their raw text, include it.
_MAY_BE_A_CALL = f"(skip_reason IS NULL OR skip_reason = '{STREAM_USAGE}')"


def _keep_stream_chunks(con) -> None:
    """An OpenAI stream logged chunk by chunk is one call, its answer in all its chunks:
    they are kept until the whole file is read (a stream may cross a chunk's end), then made
    one call (formats.pending_streams): its usage chunk, or, when it has none
    (stream_options include_usage is off by default), its last chunk."""
    if not con.execute(
        f"SELECT 1 FROM staged_all WHERE skip_reason IN ('{STREAM_CHUNK}', '{STREAM_USAGE}') "
        "LIMIT 1"
    ).fetchall():
        return
    from llmcost.formats import pending_streams

    pending_streams.collect(con, (STREAM_CHUNK, STREAM_USAGE))


def load_jsonl(
    con,
    path: Path,
    source: str,
    ingest_id: int,
    line_offset: int = 0,
    plain_lines: int | None = None,
    line_bound: int = 0,
) -> StageStats:
    """Stage the lines of ``path`` (numbered from ``line_offset + 1``) into ``staged``.

    The fast way first (DuckDB's JSON reader); when the chunk has a blank line or a line
    that is not a JSON object, it is read again line by line so every line keeps its
    number and its exact reason."""
    install_macros(con)
    # plain_lines: the chunker already counted the lines and found them all decodable (a
    # blank line shows in the fast reader's row count); line_bound: and none longer than
    # that (one of FAST_LINE_BOUNDS), 0 when unknown
    lines = plain_lines if plain_lines is not None else _fast_lines(con, path)
    # (DuckDB allocates buffers of this size for each thread: no more than the file needs)
    max_line = line_bound or min(MAX_LINE_BYTES, _size(path) + 1)
    with _room_for_long_lines(con, needed=not line_bound):
        if lines:
            fast = (path, line_offset, lines, max_line)
            stats = _stage_lines(con, source, ingest_id, "jsonl", 0, fast=fast)
            if stats is not None:
                return stats
        undecodable = read_lines(con, path, source, ingest_id, line_offset)
        return _stage_lines(con, source, ingest_id, "jsonl", undecodable)


def _room_for_long_lines(con, needed: bool):
    """The memory ceiling is lifted while a chunk with a line of megabytes is read."""
    from llmcost import store

    return store.memory_lifted(con) if needed else nullcontext()


def _named_compressed(path: Path) -> bool:
    """DuckDB will decompress the file (it goes by the name: ingest gives a format read
    whole a file named for its compression, and a line-based one plain chunks)."""
    return path.suffix in SUFFIXES


def _size(path: Path) -> int:
    return path.stat().st_size if not _named_compressed(path) else MAX_LINE_BYTES


def _redo_bad_lines(con, path: Path, offset: int) -> None:
    """Replace the fast reader's rows for unreadable or rejected lines with the careful
    reading of those lines (their raw text, their exact reason)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE bad_line_numbers AS SELECT line FROM staged_all
        WHERE state <> 'ok' OR bad_model IS NOT NULL
          OR {_MAY_BE_A_CALL} AND ({reject_reason_sql()}) IS NOT NULL"""
    )
    con.execute("DELETE FROM staged_all WHERE line IN (SELECT line FROM bad_line_numbers)")
    con.execute("DROP TABLE IF EXISTS lines")
    with line_reader(path) as reader:
        con.execute(
            "CREATE TEMP TABLE lines AS SELECT line, text FROM (SELECT row_number() OVER () + ? "
            "AS line, text FROM (" + reader.sql + ")) "
            "WHERE line IN (SELECT line FROM bad_line_numbers)",
            [offset, str(reader.path)],
        )
    con.execute("DROP TABLE IF EXISTS llm_reject_errors")
    con.execute("DROP TABLE IF EXISTS llm_reject_scans")
    con.execute("INSERT INTO staged_all " + staging_sql())
    con.execute("DROP TABLE lines")
    con.execute("DROP TABLE bad_line_numbers")


def _fast_lines(con, path: Path) -> int:
    """The number of lines of a plain chunk the fast reader may read (0: read it carefully):
    not compressed, no blank line, every line decodable."""
    if _named_compressed(path):
        return 0
    with line_reader(path) as reader:
        lines, blank = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {BLANK_LINE}) FROM ({reader.sql})",
            [str(reader.path)],
        ).fetchone()
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'llm_reject_errors'"
    ).fetchone()[0]
    undecodable = (
        con.execute("SELECT count(*) FROM llm_reject_errors").fetchone()[0] if exists else 0
    )
    con.execute("DROP TABLE IF EXISTS llm_reject_errors")
    con.execute("DROP TABLE IF EXISTS llm_reject_scans")
    return lines if blank == 0 and undecodable == 0 else 0


def load_json_document(con, path: Path, source: str, ingest_id: int) -> StageStats:
    """Stage a JSON document: an array of records, or objects written one after another
    (pretty-printed). ``line`` is then the record's ordinal (1-based)."""
    install_macros(con)
    con.execute("DROP TABLE IF EXISTS lines")
    head = b""
    if not _named_compressed(path):
        head = path.open("rb").read(4096).removeprefix(UTF8_BOM).lstrip()
    layout = "array" if head[:1] == b"[" else "auto"
    read = (
        "SELECT row_number() OVER () AS line, json AS text FROM read_json_objects(?, "
        f"format = '{layout}', maximum_object_size = {MAX_LINE_BYTES})"
    )
    if _readable(read, path):
        return _load_document(con, read, path, source, ingest_id)
    # Cut short or broken inside: the records whole before the break are read (as the lines
    # of a cut JSON-lines file are); the record it broke in is rejected with its number.
    array = read.replace("'auto'", "'array'")
    with tempfile.TemporaryDirectory(prefix="llmcost-doc-") as tmp:
        whole = Path(tmp) / "complete.json"
        kept, reason, raw = _complete_records(path, whole)
        if kept and _readable(array, whole):
            stats = _load_document(con, array, whole, source, ingest_id)
        else:  # nothing before the break, or not even that reads: the document is one reject
            stage_from_select(
                con, "SELECT NULL::BIGINT AS line WHERE false", source=source, format="json"
            )
            stats = StageStats()
            if kept or not reason:
                kept, reason, raw = 0, "not a readable JSON document", ""
            raw = raw or path.open("rb").read(RAW_KEEP_CHARS).decode("utf-8", "replace")
    if not reason:  # every record was whole (DuckDB stopped at something after them)
        return stats
    con.execute(
        "INSERT INTO rejects VALUES (?, ?, ?, ?, ?)",
        [ingest_id, source, kept + 1, reason, raw[:RAW_KEEP_CHARS]],
    )
    stats.lines_read += 1
    stats.rejected += 1
    return stats


def _readable(read: str, path: Path) -> bool:
    """DuckDB reads the document whole (tried on a throwaway connection: a failed statement
    would abort the ingest transaction)."""
    try:
        duckdb.connect().execute(f"SELECT count(*) FROM ({read})", [str(path)])
        return True
    except duckdb.Error:
        return False


def _load_document(con, read: str, path: Path, source: str, ingest_id: int) -> StageStats:
    from llmcost import store

    with store.memory_lifted(con):  # read whole: a document is one value until split
        con.execute(f"CREATE TEMP TABLE lines AS {read}", [str(path)])
    return _stage_lines(con, source, ingest_id, "json", 0)


def _complete_records(path: Path, target: Path) -> tuple[int, str, str]:
    """The records of a JSON document (an array, or objects one after another) that are
    whole before the place it breaks, written to ``target`` as an array; the file is read
    as a stream. Returns how many, why the next one is rejected, and its text."""
    import codecs

    from llmcost import streams

    with streams.opened(path, streams.compression(path)) as (stream, _):
        text = codecs.iterdecode(_blocks(stream), "utf-8", errors="replace")
        with target.open("w", encoding="utf-8") as out:
            out.write("[")
            try:
                return _copy_records(text, out)
            finally:
                out.write("\n]")


def _blocks(stream) -> Iterator[bytes]:
    """The stream's bytes in blocks; a compressed file broken off gives what it held."""
    from llmcost import streams

    view = memoryview(bytearray(1 << 20))
    while True:
        size, broken = streams.read_into(stream, view, [])
        if size:
            yield bytes(view[:size])
        if broken or size < len(view):
            return


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # Python reads NaN and Infinity; DuckDB does not


_SPACE, _SPACE_OR_COMMA = re.compile(r"\s*"), re.compile(r"[\s,]*")  # between records


def _copy_records(text: Iterator[str], out) -> tuple[int, str, str]:
    decoder = json.JSONDecoder(parse_constant=_no_constant)
    buffer, at, ended, array, kept = "", 0, False, None, 0
    while True:
        at = (_SPACE_OR_COMMA if array else _SPACE).match(buffer, at).end()
        if at == len(buffer) and not ended:
            buffer, at = buffer[at:] + next(text, ""), 0
            ended = not buffer
            continue
        if array is None:  # the first character says: an array, or objects in a row
            array = buffer[at : at + 1] == "["
            at += array
            continue
        if at == len(buffer) and not array:
            return kept, "", ""  # every record whole: nothing to reject
        if at == len(buffer):
            return kept, f"the JSON document ends after record {kept:,}: no closing ]", ""
        if array and buffer[at] == "]":
            after = (buffer[at + 1 :] + "".join(islice(text, 1))).strip()
            if not after:
                return kept, "", ""
            return kept, f"text after the JSON array of {plural(kept, 'record')}", after
        try:
            end = decoder.raw_decode(buffer, at)[1]
            if end == len(buffer) and not ended:
                raise json.JSONDecodeError("it may go on", buffer, end)
        except ValueError as exc:
            message = getattr(exc, "msg", str(exc))
            # the record runs to the end of what is held (an unterminated string too)
            at_end = isinstance(exc, json.JSONDecodeError) and (
                exc.pos >= len(buffer) - 1 or message.startswith("Unterminated string")
            )
            if at_end and not ended and len(buffer) - at <= MAX_LINE_BYTES:
                more = "".join(islice(text, max(1, (len(buffer) - at) >> 20)))
                buffer, at, ended = buffer[at:] + more, 0, not more
                continue
            why = (
                f"the JSON document ends inside record {kept + 1:,} (cut short?)"
                if at_end and ended
                else f"record {kept + 1:,} of the JSON document is not valid JSON"
            )
            return kept, f"{why}: {message}; nothing after it is read", buffer[at:]
        out.write(("," if kept else "") + "\n" + buffer[at:end])
        kept, at = kept + 1, end


def _sniff_lines(head: bytes, path: Path) -> bool:
    """JSON lines: one of the first non-blank lines is a whole JSON object by itself (a
    garbage first line does not hide a log)."""
    if _opens_array(head):
        return False  # its records are lines of it, each but the last ending in a comma
    lines = [line.strip() for line in head.split(b"\n")[:-1] if line.strip()][:20]
    if not lines and head.lstrip()[:1] == b"{":
        return True  # a single line longer than the sniffed head
    for line in lines:
        if line.startswith(b"{"):
            try:
                if isinstance(json.loads(line), dict):
                    return True
            except ValueError:
                continue
    return False


def _opens_array(head: bytes) -> bool:
    """The text opens a JSON array of records, '[' then '{' (or ']'), blanks aside: not a
    TOML or INI file's '[section]'. A first line that is a whole JSON value by itself
    (``[{…}]`` then more lines) opens JSON lines, not one array."""
    text = head.lstrip()
    if text[:1] != b"[" or text[1:].lstrip()[:1] not in (b"{", b"]", b""):
        return False
    first, _, rest = text.partition(b"\n")
    if not rest.strip():
        return True
    try:
        json.loads(first)
    except ValueError:
        return True
    return False


def _sniff_document(head: bytes, path: Path) -> bool:
    """A JSON document: an array, or an object spread over several lines."""
    start = head.lstrip()[:1]
    if start == b"[":
        return _opens_array(head)
    first = head.lstrip().split(b"\n", 1)[0].strip()
    return start == b"{" and not first.endswith(b"}") and not _sniff_lines(head, path)


register_format(
    FileFormat(
        name="jsonl",
        description="JSON lines: flat records, {request, response} envelopes, or bare "
        "OpenAI / Anthropic / Gemini response objects, one per line (mixed is fine)",
        recognized_by="one of its first 20 lines is a JSON object; a file named on the command "
        "line that no format recognizes, when any line of it is one (or half its lines open one)",
        sniff=_sniff_lines,
        load=load_jsonl,
        line_based=True,
        priority=90,
    )
)

register_format(
    FileFormat(
        name="json",
        description="JSON document: an array of the records jsonl reads, or such objects "
        "pretty-printed one after another",
        recognized_by="starts with '[' and a '{' (or is '[]'), or with a '{' that does not "
        "close on its line",
        sniff=_sniff_document,
        load=load_json_document,
        priority=91,
    )
)
