"""Numbered JSON records from an export file, for the OTel, LiteLLM, Langfuse and Helicone
adapters.

Exports come as one JSON document (an object, or an array of records, pretty-printed or
not), as JSON lines, or as CSV. ``read_records`` turns any of them into the temp table
``rec_in(line, rec)``: one row per record (the elements of an array are records), ``rec``
the parsed JSON object. What cannot be read goes to ``rec_bad(line, reason, raw)``, blank
lines to ``rec_blank(line)``. ``line`` is the line number for JSON lines, the record number
for a document (1 for a single object), and for CSV the file's line where the record starts
(blank lines and quoted cells that span lines counted, as an editor shows it).

Each adapter turns ``rec_in`` into the temp table ``cand``: one row per record it read (a
call, a skip or a reject: ``line``, ``skip_reason``, ``reject_reason``, ``raw`` and the
staging columns); ``finish`` stages the calls, stores the rejects and does the accounting
(formats/lines.py). DuckDB parses everything; Python only picks the reader.
"""

from __future__ import annotations

import csv
import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from llmcost.formats.lines import (
    BLANK_CSV_REJECT,
    BLANK_LINE,
    MAX_LINE_BYTES,
    RAW_KEEP_CHARS,
    csv_records_after_read,
    read_lines,
)
from llmcost.formats.lines import finish as finish_lines
from llmcost.formats.sql import install_macros
from llmcost.formats.stage import StageStats

MAX_DOCUMENT_BYTES = 1024 * 1024 * 1024

# SQL helpers of these adapters. They use json_extract(x, '$.k') rather than x -> 'k': in a
# macro that also holds a lambda, DuckDB may read `x -> 'k'` as a lambda. A lambda that
# calls a macro with a lambda sits in a macro of its own (DuckDB cannot bind two such
# lambdas in one macro).
MACROS = r"""
-- A provider name as the pricing tables spell it, from what gateways and semconvs write
-- (OTel gen_ai.provider.name / gen_ai.system, LiteLLM custom_llm_provider, Helicone provider).
CREATE OR REPLACE TEMP MACRO rec_provider(x) AS (
    CASE
      WHEN llm_blank(x) IS NULL THEN NULL
      WHEN lower(x) IN ('openai', 'openai_compatible', 'text-completion-openai') THEN 'openai'
      WHEN lower(x) IN ('anthropic', 'anthropic_text') THEN 'anthropic'
      WHEN regexp_matches(lower(x), '^(aws|bedrock|amazon|sagemaker)') THEN 'aws-bedrock'
      WHEN regexp_matches(lower(x), '^(azure|az\.ai)') THEN 'azure'
      WHEN regexp_matches(lower(x), '^(gcp|google|vertex|gemini)') THEN 'google'
      WHEN regexp_matches(lower(x), '^(mistral|codestral)') THEN 'mistral'
      WHEN regexp_matches(lower(x), '^deepseek') THEN 'deepseek'
      WHEN lower(x) IN ('xai', 'x_ai', 'x-ai', 'x.ai', 'grok') THEN 'xai'
      ELSE lower(trim(x))
    END);
-- That name when it is a provider we price, else the model's (gen_ai.system may name a
-- framework such as strands-agents).
CREATE OR REPLACE TEMP MACRO rec_provider_for(x, model) AS (
    coalesce(CASE WHEN rec_provider(x) IN ('openai', 'anthropic', 'aws-bedrock', 'azure',
                                           'google', 'mistral', 'deepseek', 'xai')
                  THEN rec_provider(x) END,
             llm_provider_of(model), rec_provider(x)));
-- A JSON value, or the JSON object/array a JSON string holds (metadata stored as a string).
CREATE OR REPLACE TEMP MACRO rec_json(x) AS (
    CASE WHEN x IS NULL OR json_type(x) = 'NULL' THEN NULL
         WHEN json_type(x) = 'VARCHAR'
              AND left(ltrim(json_extract_string(x, '$')), 1) IN ('{', '[')
              AND json_valid(json_extract_string(x, '$'))
           THEN json(json_extract_string(x, '$'))
         ELSE x END);
-- A request's tool definitions as the JSON-lines reader keeps them: a non-empty JSON list
-- (one kept as a JSON string too), minified as DuckDB writes it, so the same tools logged
-- by any reader have the same tools_hash; else NULL.
CREATE OR REPLACE TEMP MACRO rec_tools(j) AS (
    CASE WHEN json_type(rec_json(j)) = 'ARRAY' AND CAST(rec_json(j) AS VARCHAR) <> '[]'
         THEN CAST(rec_json(j) AS VARCHAR) END);
-- A request's tool_choice as the JSON-lines reader keeps it ("auto", {"type": …}; one kept
-- as a JSON string too), else NULL.
CREATE OR REPLACE TEMP MACRO rec_tool_choice(j) AS (CAST(rec_json(j) AS VARCHAR));
-- llm_ts without the overflow of a 19+-digit number (read as not understood instead).
CREATE OR REPLACE TEMP MACRO rec_ts(s) AS (
    llm_ts(CASE WHEN regexp_full_match(trim(s), '\d{17,}') AND TRY_CAST(trim(s) AS BIGINT) IS NULL
                THEN NULL ELSE s END));
-- A JSON object of the [{k, v}] entries whose value is not NULL.
CREATE OR REPLACE TEMP MACRO rec_obj(entries) AS (
    CAST(map_from_entries(list_filter(entries, lambda e: e.v IS NOT NULL)) AS JSON));
-- The top-level scalar entries of a JSON object (short ones), as a JSON object: user
-- metadata worth keeping as tags; '{}' for anything else.
CREATE OR REPLACE TEMP MACRO rec_scalars(o) AS (
    CASE WHEN json_type(o) = 'OBJECT' THEN CAST(map_from_entries(list_filter(
        map_entries(json_transform(o, '"MAP(VARCHAR, JSON)"')),
        lambda e: json_type(e.value) NOT IN ('OBJECT', 'ARRAY', 'NULL')
                  AND length(CAST(e.value AS VARCHAR)) <= 200)) AS JSON)
    ELSE '{}'::JSON END);
-- The text of a message's content: a string, or the text of its text blocks.
CREATE OR REPLACE TEMP MACRO rec_content_text(t) AS (
    CASE
      WHEN t IS NULL OR json_type(t) = 'NULL' THEN NULL
      WHEN json_type(t) = 'VARCHAR' THEN json_extract_string(t, '$')
      WHEN json_type(t) = 'ARRAY' THEN llm_join(list_transform(json_extract(t, '$[*]'),
          lambda b: CASE
            WHEN json_type(b) = 'VARCHAR' THEN json_extract_string(b, '$')
            WHEN coalesce(json_extract_string(b, '$.type'), 'text')
                 IN ('text', 'input_text', 'output_text')
              THEN coalesce(json_extract_string(b, '$.text'), json_extract_string(b, '$.content'))
          END))
      ELSE CAST(t AS VARCHAR)
    END);
-- Chat messages as [{role, content}] with content as text (Responses API items: their type).
CREATE OR REPLACE TEMP MACRO rec_messages(ms) AS (
    CAST(to_json(list_transform(json_extract(ms, '$[*]'), lambda m: json_object(
        'role', coalesce(json_extract_string(m, '$.role'), json_extract_string(m, '$.type')),
        'content', coalesce(rec_content_text(json_extract(m, '$.content')),
                            rec_content_text(json_extract(m, '$.parts')),
                            json_extract_string(m, '$.output'),
                            json_extract_string(m, '$.arguments'))))) AS VARCHAR));
CREATE OR REPLACE TEMP MACRO rec_messages_text(ms) AS (
    llm_join(list_transform(json_extract(ms, '$[*]'),
      lambda m: coalesce(rec_content_text(json_extract(m, '$.content')),
                         rec_content_text(json_extract(m, '$.parts'))))));
-- (a functionCall part's args after the text, as the Gemini reader keeps them)
CREATE OR REPLACE TEMP MACRO rec_candidates_text(g) AS (
    llm_gemini_answer(json_extract(g, '$.candidates')));
-- The tool calls of an answer logged as a chat message, as Langfuse logs a generation's
-- output: OpenAI's {id, type, function: {name, arguments}} (its OpenAI integration: {role,
-- tool_calls, content}; a LangChain message's additional_kwargs), else LangChain's {name,
-- args, id} (its LangChain integration writes both: OpenAI's raw arguments are preferred to
-- LangChain's re-serialized args). Not a message whose content holds tool_use blocks
-- (langchain-anthropic): those blocks are its calls, read with the content.
CREATE OR REPLACE TEMP MACRO rec_message_calls(m) AS (
    CASE
      WHEN list_contains(json_extract_string(m, '$.content[*].type'), 'tool_use') THEN []
      WHEN json_extract(m, '$.tool_calls[0].function') IS NOT NULL
        THEN json_extract(m, '$.tool_calls[*]')
      WHEN len(json_extract(m, '$.additional_kwargs.tool_calls[*]')) > 0
        THEN json_extract(m, '$.additional_kwargs.tool_calls[*]')
      ELSE coalesce(json_extract(m, '$.tool_calls[*]'), [])
    END);
-- Their arguments as the model wrote them (a string's value, an object's JSON), and a legacy
-- function_call's.
CREATE OR REPLACE TEMP MACRO rec_message_args(m) AS (
    list_concat(
      list_transform(rec_message_calls(m), lambda t: coalesce(
          json_extract_string(t, '$.function.arguments'), json_extract_string(t, '$.args'))),
      [coalesce(json_extract_string(m, '$.function_call.arguments'),
                json_extract_string(m, '$.additional_kwargs.function_call.arguments'))]));
CREATE OR REPLACE TEMP MACRO rec_message_tool_calls(m) AS (
    len(rec_message_calls(m)) > 0
    OR json_type(coalesce(json_extract(m, '$.function_call'),
                          json_extract(m, '$.additional_kwargs.function_call'))) = 'OBJECT');
-- 'tool_calls' when a logged response answered with tool calls (an OpenAI chat completion's
-- tool_calls, a Responses object's function calls, an Anthropic message's tool_use blocks, a
-- Gemini response's functionCall parts, a chat message's tool calls):
-- a forced tool choice ends with 'stop', a Responses object says only 'completed'.
CREATE OR REPLACE TEMP MACRO rec_tool_answer(c) AS (
    CASE WHEN json_type(c) = 'OBJECT' AND (
           llm_chat_tool_calls(json_extract(c, '$.choices'))
           OR llm_responses_tool_calls(json_extract(c, '$.output'))
           OR list_contains(json_extract_string(c, '$.content[*].type'), 'tool_use')
           OR llm_gemini_tool_calls(json_extract(c, '$.candidates'))
           OR rec_message_tool_calls(c))
         THEN 'tool_calls' END);
-- The answer's text in a logged response: a string, an OpenAI chat completion, a Responses
-- object, a Gemini response, a list of messages, an Anthropic message; else the JSON. Tool
-- calls are part of the answer (billed as output): their arguments are kept after the text.
-- An embeddings or image-generation response (OpenAI's data list of vectors or images,
-- Gemini's and Titan's embedding) has no text answer: its JSON is no completion to count.
CREATE OR REPLACE TEMP MACRO rec_completion(c) AS (
    CASE
      WHEN c IS NULL OR json_type(c) = 'NULL' OR CAST(c AS VARCHAR) IN ('{}', '[]') THEN NULL
      WHEN json_type(c) = 'OBJECT' AND (
             json_extract(c, '$.data[0].embedding') IS NOT NULL
             OR json_extract(c, '$.data[0].b64_json') IS NOT NULL
             OR json_extract(c, '$.data[0].url') IS NOT NULL
             OR json_extract(c, '$.embedding') IS NOT NULL
             OR json_extract(c, '$.embeddings') IS NOT NULL) THEN NULL
      WHEN json_type(c) = 'VARCHAR' THEN json_extract_string(c, '$')
      WHEN json_type(json_extract(c, '$.choices')) = 'ARRAY'
        THEN llm_chat_answer(json_extract(c, '$.choices'))
      WHEN json_type(json_extract(c, '$.output')) = 'ARRAY'
        THEN llm_responses_answer(json_extract(c, '$.output'))
      WHEN json_type(json_extract(c, '$.candidates')) = 'ARRAY' THEN rec_candidates_text(c)
      WHEN json_type(c) = 'ARRAY' THEN rec_messages_text(c)
      WHEN json_extract(c, '$.content') IS NOT NULL OR rec_message_tool_calls(c)
        THEN llm_join(list_concat([rec_content_text(json_extract(c, '$.content'))],
               list_transform(json_extract(c, '$.content[*]'), lambda b:
                 CASE WHEN b ->> 'type' = 'tool_use' THEN CAST(b -> 'input' AS VARCHAR) END),
               rec_message_args(c)))
      WHEN json_extract(c, '$.text') IS NOT NULL THEN rec_content_text(json_extract(c, '$.text'))
      ELSE CAST(c AS VARCHAR)
    END);
"""


def install(con) -> None:
    install_macros(con)
    con.execute(MACROS)


def plain_head(head: bytes) -> bytes:
    """The first bytes as the text starts: a gzip head is inflated as far as it goes."""
    if head[:2] == b"\x1f\x8b":
        try:
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head)
        except zlib.error:
            return b""
    return head.removeprefix(b"\xef\xbb\xbf")


def head_json_keys(head: bytes, *keys: bytes) -> bool:
    """True when the (inflated) head is JSON naming every one of ``keys`` as a key."""
    text = plain_head(head)
    if text.lstrip()[:1] not in (b"{", b"["):
        return False
    return all(re.search(b'"' + re.escape(k) + b'"\\s*:', text) for k in keys)


def head_csv_columns(head: bytes, *columns: str) -> bool:
    """True when the (inflated) head's first line is a CSV header naming all ``columns``."""
    first = plain_head(head).split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    if first[:1] in ("{", "["):
        return False
    names = {c.strip().strip('"').strip() for c in first.split(",")}
    return all(c in names for c in columns)


@dataclass
class Records:
    document: bool  # one JSON document: `line` is a record number, not a line number
    undecodable: int = 0  # lines already rejected by the line reader


def read_records(con, path: Path, source: str, ingest_id: int, *, csv: bool = False) -> Records:
    """Fill ``rec_in(line, rec)``, ``rec_bad(line, reason, raw)`` and ``rec_blank(line)``."""
    install(con)
    for table in ("rec_in", "rec_bad", "rec_blank"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("CREATE TEMP TABLE rec_bad (line BIGINT, reason VARCHAR, raw VARCHAR)")
    con.execute("CREATE TEMP TABLE rec_blank (line BIGINT)")
    if csv:
        _read_csv(con, path)
        return Records(document=False)
    layout = _layout(path)
    if layout == "document":
        _read_document(con, path)
        return Records(document=True)
    undecodable = read_lines(con, path, source, ingest_id)
    if layout is None and _first_line_opens_a_document(con):
        con.execute("DROP TABLE lines")
        con.execute("DELETE FROM rejects WHERE ingest_id = ? AND source = ?", [ingest_id, source])
        _read_document(con, path)
        return Records(document=True)
    # One parse per line: TRY_CAST gives NULL for a line that is not JSON, and a valid JSON
    # text is an object or an array exactly when it starts with '{' or '['.
    con.execute(
        f"""CREATE TEMP TABLE rec_lines AS
        SELECT line, text, TRY_CAST(text AS JSON) AS j, left(ltrim(text), 1) AS c0
        FROM lines WHERE NOT {BLANK_LINE}"""
    )
    con.execute(f"INSERT INTO rec_blank SELECT line FROM lines WHERE {BLANK_LINE}")
    con.execute("DROP TABLE lines")
    con.execute(
        """CREATE TEMP TABLE rec_in AS
        SELECT line, j AS rec FROM rec_lines WHERE j IS NOT NULL AND c0 = '{'
        UNION ALL
        SELECT line, unnest(json_extract(j, '$[*]')) AS rec FROM rec_lines
        WHERE j IS NOT NULL AND c0 = '['"""
    )
    con.execute(
        f"""INSERT INTO rec_bad
        SELECT line, CASE
            WHEN j IS NULL AND c0 IN ('{{', '[') THEN 'not valid JSON (truncated or malformed line)'
            WHEN j IS NULL THEN 'not valid JSON'
            ELSE 'JSON ' || llm_json_kind(j) || ', not an object' END,
          left(text, {RAW_KEEP_CHARS})
        FROM rec_lines WHERE j IS NULL OR c0 NOT IN ('{{', '[')"""
    )
    con.execute("DROP TABLE rec_lines")
    _reject_non_objects(con)
    return Records(document=False, undecodable=undecodable)


def _layout(path: Path) -> str | None:
    """'document' when the first non-blank line opens a JSON value it does not close
    (pretty-printed), 'lines' when it is a whole value or not JSON, None when the head
    holds no whole line."""
    with path.open("rb") as fh:
        text = plain_head(fh.read(64 * 1024))
    *complete, _partial = text.split(b"\n")
    for line in complete:
        if line.strip():
            if line.strip()[:1] not in (b"{", b"["):
                return "lines"
            try:
                json.loads(line)
                return "lines"
            except ValueError:
                return "document"
    return None


def _first_line_opens_a_document(con) -> bool:
    first = con.execute(
        "SELECT trim(text) FROM lines WHERE trim(text) <> '' ORDER BY line LIMIT 1"
    ).fetchone()
    text = first[0] if first else ""
    return text[:1] in ("{", "[") and not con.execute("SELECT json_valid(?)", [text]).fetchone()[0]


def _reject_non_objects(con) -> None:
    """Array elements that are not objects are bad records too."""
    # (array elements come out of json_extract minified: the first byte tells the type)
    con.execute(
        f"""INSERT INTO rec_bad SELECT line, 'JSON ' || llm_json_kind(rec) || ', not an object',
          left(CAST(rec AS VARCHAR), {RAW_KEEP_CHARS}) FROM rec_in
        WHERE left(CAST(rec AS VARCHAR), 1) <> '{{'"""
    )
    con.execute("DELETE FROM rec_in WHERE left(CAST(rec AS VARCHAR), 1) <> '{'")


def _read_document(con, path: Path) -> None:
    """The whole file as one JSON value: an array's elements, or the one object."""
    read = (
        "SELECT json AS doc FROM read_json_objects(?, format = 'unstructured', "
        f"maximum_object_size = {MAX_DOCUMENT_BYTES})"
    )
    con.execute("CREATE TEMP TABLE rec_in (line BIGINT, rec JSON)")
    try:  # on a throwaway connection: a failed statement would abort the ingest transaction
        duckdb.connect().execute(f"SELECT count(*) FROM ({read})", [str(path)])
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0].removeprefix("Invalid Input Error: ")
        con.execute(
            "INSERT INTO rec_bad VALUES (1, ?, NULL)",
            [f"not a valid JSON document: {message[:300]}"],
        )
        return
    from llmcost import store

    with store.memory_lifted(con):  # read whole: a document is one value until split
        _split_document(con, read, path)
    _reject_non_objects(con)


def _split_document(con, read: str, path: Path) -> None:
    con.execute(
        f"""INSERT INTO rec_in
        WITH docs AS (SELECT row_number() OVER () AS d, doc FROM ({read})),
        items AS (
          SELECT d, 0 AS i, doc AS rec FROM docs WHERE json_type(doc) <> 'ARRAY'
          UNION ALL
          SELECT d, generate_subscripts(json_extract(doc, '$[*]'), 1) AS i,
                 unnest(json_extract(doc, '$[*]')) AS rec
          FROM docs WHERE json_type(doc) = 'ARRAY'
        )
        SELECT row_number() OVER (ORDER BY d, i) AS line, rec FROM items""",
        [str(path)],
    )


def _read_csv(con, path: Path) -> None:
    """CSV with a header: each row as a JSON object of strings (empty cells are null).

    The columns are named from the header line and all read as text, with no dialect
    sniffing: a row DuckDB cannot split is a reject with its line, never an abort."""
    with path.open("rb") as fh:
        first = plain_head(fh.read(64 * 1024)).split(b"\n", 1)[0]
    header = next(csv.reader([first.decode("utf-8", "replace").rstrip("\r")]), [])
    names = [h.strip() or f"column{i}" for i, h in enumerate(header)]
    names = [n if names.index(n) == i else f"{n}_{i}" for i, n in enumerate(names)]
    columns = (
        "{" + ", ".join(f"'{n.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for n in names) + "}"
    )
    con.execute("DROP TABLE IF EXISTS llm_reject_errors")
    con.execute("DROP TABLE IF EXISTS llm_reject_scans")
    con.execute(
        f"""CREATE TEMP TABLE rec_raw AS
        SELECT row_number() OVER () AS k, to_json(t) AS rec
        FROM read_csv(?, columns = {columns}, header = true, auto_detect = false, delim = ',',
                      quote = '"', escape = '"', max_line_size = {MAX_LINE_BYTES},
                      buffer_size = {MAX_LINE_BYTES * 2}, store_rejects = true,
                      rejects_scan = 'llm_reject_scans', rejects_table = 'llm_reject_errors') t""",
        [str(path)],
    )
    csv_records_after_read(con, path, "rec_raw")
    # DuckDB numbers a rejected row by the line breaks outside quoted cells before it, and
    # skips blank lines; csv_records gives each record's line in the file.
    con.execute(
        f"""INSERT INTO rec_bad
        SELECT DISTINCT ON (e.line) coalesce(r.line, e.line), 'bad CSV row: ' || error_message,
          left(csv_line, {RAW_KEEP_CHARS})
        FROM csv_rejects e LEFT JOIN csv_records r ON r.n = e.line
        WHERE NOT {BLANK_CSV_REJECT} ORDER BY e.line"""
    )
    con.execute(
        f"""INSERT INTO rec_blank SELECT line FROM csv_records WHERE blank AND n > 1
        UNION SELECT coalesce(r.line, e.line) FROM csv_rejects e
          LEFT JOIN csv_records r ON r.n = e.line WHERE {BLANK_CSV_REJECT}"""
    )
    # The k-th good row is the k-th record after the header that is neither blank nor rejected.
    con.execute(
        """CREATE TEMP TABLE rec_in AS
        WITH good AS (
          SELECT row_number() OVER (ORDER BY n) AS k, line FROM csv_records
          WHERE n > 1 AND NOT blank AND n NOT IN (SELECT line FROM csv_rejects))
        SELECT coalesce(g.line, r.k + 1) AS line, r.rec
        FROM rec_raw r LEFT JOIN good g ON g.k = r.k ORDER BY r.k"""
    )
    for table in ("rec_raw", "csv_records", "csv_rejects"):
        con.execute(f"DROP TABLE {table}")


def finish(con, *, source: str, ingest_id: int, fmt: str, records: Records) -> StageStats:
    """Stage ``cand``'s calls, store its rejects and ``rec_bad``, and count every record."""
    stats = finish_lines(
        con,
        """SELECT * EXCLUDE (raw), CAST(raw AS VARCHAR) AS text FROM cand
        UNION ALL BY NAME SELECT line, NULL AS skip_reason, reason AS reject_reason,
          CAST(raw AS VARCHAR) AS text FROM rec_bad
        UNION ALL BY NAME SELECT line, 'blank line' AS skip_reason, NULL AS reject_reason
          FROM rec_blank""",
        source=source,
        ingest_id=ingest_id,
        format=fmt,
        extra_read=records.undecodable,
    )
    for table in ("cand", "rec_in", "rec_bad", "rec_blank"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return stats
