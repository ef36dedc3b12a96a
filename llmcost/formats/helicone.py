"""Helicone request exports: CSV, a JSON array, or JSON lines (its export tool's formats).

Columns and keys follow Helicone's ``HeliconeRequest`` and its export CSV
(tests/data/real/helicone/EXCERPT_*): ``request_id``/``response_id``,
``request_created_at``, ``response_model``/``model``/``request_model``, ``provider``
(``OPENAI``, ``ANTHROPIC``, …), ``prompt_tokens``, ``completion_tokens``, ``total_tokens``,
``prompt_cache_read_tokens``, ``prompt_cache_write_tokens``, ``prompt_audio_tokens``,
``completion_audio_tokens``, ``cost`` / ``costUSD`` (USD), ``request_user_id``/
``helicone_user``, ``request_properties``/``properties`` (custom properties: tags; a
``Feature`` property is the feature, ``Helicone-Session-Id`` the session),
``response_status``, ``delay_ms``/``latency`` (ms), ``request_body``/``response_body``.
The request body's ``tools`` (legacy ``functions``) and ``tool_choice`` are the call's tool
definitions and choice, kept as the JSON-lines reader keeps them; an export without bodies
has none.

Token convention: Helicone stores ``prompt_tokens`` WITHOUT the cached tokens (its OpenAI
body processor subtracts ``prompt_tokens_details.cached_tokens`` and the audio tokens; for
Anthropic it keeps ``input_tokens``, which never held them) and prices the cache reads and
writes separately; its ``total_tokens`` is prompt + completion only. So input =
``prompt_tokens`` + cache reads + cache writes + prompt audio, output =
``completion_tokens`` + completion audio.

Requests answered from Helicone's response cache (``cache_reference_id`` set to another
request) reached no provider and are skipped. The export tool writes object cells of its
CSV with their quotes doubled twice; such cells are read too. Its JSON array may end in a
trailing comma, which DuckDB reads.
"""

from __future__ import annotations

import json
from pathlib import Path

from llmcost.formats import FileFormat, register_format
from llmcost.formats.records import (
    finish,
    head_csv_columns,
    head_json_keys,
    read_records,
)
from llmcost.formats.stage import StageStats

NO_CACHE_REFERENCE = "00000000-0000-0000-0000-000000000000"

MACROS = r"""
-- A JSON cell: an object, the JSON a string holds, or that string with its quotes un-doubled
-- (the export tool's CSV cells).
CREATE OR REPLACE TEMP MACRO hc_json(x) AS (
    CASE WHEN json_type(rec_json(x)) <> 'VARCHAR' THEN rec_json(x)
         WHEN json_valid(replace(json_extract_string(x, '$'), '""', '"'))
           THEN json(replace(json_extract_string(x, '$'), '""', '"'))
    END);
CREATE OR REPLACE TEMP MACRO hc_object(x) AS (
    CASE WHEN json_type(hc_json(x)) = 'OBJECT' THEN hc_json(x) ELSE '{}'::JSON END);
-- A request or response body; not the placeholder of a body kept in object storage.
CREATE OR REPLACE TEMP MACRO hc_body(x) AS (
    CASE WHEN json_type(hc_json(x)) = 'OBJECT'
              AND json_extract(hc_json(x), '$.helicone_message') IS NULL THEN hc_json(x) END);
"""

# Each record is parsed once into these fields: scalars as text, the rest as JSON.
_TOKEN_KEYS = [
    "prompt_tokens",
    "completion_tokens",
    "prompt_cache_read_tokens",
    "prompt_cache_write_tokens",
    "prompt_audio_tokens",
    "completion_audio_tokens",
]
_ROW = json.dumps(
    {
        **dict.fromkeys(
            ["request_id", "response_id", "request_created_at", "response_status",
             "cache_reference_id", "response_model", "model", "request_model", "model_override",
             "provider", "request_user_id", "helicone_user", "delay_ms", "latency", "costUSD",
             "cost", *_TOKEN_KEYS],
            "VARCHAR",
        ),
        **dict.fromkeys(["request_properties", "properties", "request_body", "response_body"],
                        "JSON"),
    }
)  # fmt: skip


def _f(name: str) -> str:
    """A top-level field of the record, NULL when blank."""
    return f'llm_blank(f."{name}")'


def _j(obj: str, path: str) -> str:
    """A value inside a JSON column, NULL when blank."""
    return f"llm_blank(json_extract_string({obj}, '{path}'))"


def _bad_tokens() -> str:
    arms = " ".join(
        f"WHEN llm_bad_tok({_f(k)}) THEN '{k} ' || llm_tok_fault({_f(k)}) || ': ' "
        f"|| left({_f(k)}, 40)"
        for k in _TOKEN_KEYS
    )
    return f"(CASE {arms} END)"


# a model the struct read as VARCHAR that was not a string in the record (a number, a list)
_BAD_MODEL = (
    "llm_names_fault(model, ['response_model', 'model', 'request_model', 'model_override', "
    "'response_body.model', 'request_body.model'], [json_extract(rec, '$.response_model'), "
    "json_extract(rec, '$.model'), json_extract(rec, '$.request_model'), "
    "json_extract(rec, '$.model_override'), json_extract(resp, '$.model'), "
    "json_extract(req, '$.model')])"
)


def _calls_sql() -> str:
    """``cand``: one row per record, a call or a reason why not."""
    tok = {k: f"llm_tok({_f(k)})" for k in _TOKEN_KEYS}
    return f"""
CREATE TEMP TABLE cand AS
WITH base AS (
  SELECT line, rec, f,
    json_merge_patch(hc_object(f.properties), hc_object(f.request_properties)) AS props,
    hc_body(f.request_body) AS req,
    hc_body(f.response_body) AS resp,
    {_f("request_created_at")} AS ts_raw,
    TRY_CAST({_f("response_status")} AS INTEGER) AS http_status,
    {_bad_tokens()} AS bad_usage
  FROM (SELECT line, rec, json_transform(rec, '{_ROW}') AS f FROM rec_in)
), props AS (
  SELECT *,
    list_transform(map_entries(json_transform(props, '"MAP(VARCHAR, VARCHAR)"')),
                   lambda e: {{'k': lower(e.key), 'v': e.value}}) AS pl,
    coalesce({_f("response_model")}, {_f("model")}, {_f("request_model")},
             {_f("model_override")}, {_j("resp", "$.model")}, {_j("req", "$.model")}) AS model
  FROM base
), msgs AS (
  SELECT *,
    CASE WHEN json_type(json_extract(req, '$.messages')) = 'ARRAY'
         THEN json_extract(req, '$.messages') END AS m,
    CASE WHEN json_type(json_extract(req, '$.system')) = 'VARCHAR'
           THEN json_extract_string(req, '$.system')
         WHEN json_type(json_extract(req, '$.system')) = 'ARRAY'
           THEN rec_content_text(json_extract(req, '$.system')) END AS sys
  FROM props
)
SELECT line,
  CASE WHEN coalesce({_f("cache_reference_id")}, '{NO_CACHE_REFERENCE}') <> '{NO_CACHE_REFERENCE}'
       THEN 'answered from the Helicone response cache (no provider call)' END AS skip_reason,
  CASE WHEN model IS NULL THEN 'no model (looked for response_model, model, request_model)'
       WHEN {_BAD_MODEL} IS NOT NULL THEN {_BAD_MODEL}
       WHEN bad_usage IS NOT NULL THEN bad_usage
       ELSE 'timestamp ' || llm_ts_fault(ts_raw, rec_ts(ts_raw)) END AS reject_reason,
  CAST(rec AS VARCHAR) AS raw,
  coalesce({_f("request_id")}, {_f("response_id")}, md5(CAST(rec AS VARCHAR))) AS request_id,
  rec_ts(ts_raw) AS ts, llm_ts_naive(ts_raw) AS naive_ts, model,
  rec_provider_for({_f("provider")}, model) AS provider,
  {tok["prompt_tokens"]} + coalesce({tok["prompt_cache_read_tokens"]}, 0)
    + coalesce({tok["prompt_cache_write_tokens"]}, 0) + coalesce({tok["prompt_audio_tokens"]}, 0)
    AS input_tokens,
  {tok["prompt_cache_read_tokens"]} AS cache_read_tokens,
  {tok["prompt_cache_write_tokens"]} AS cache_write_tokens,
  {tok["completion_tokens"]} + coalesce({tok["completion_audio_tokens"]}, 0) AS output_tokens,
  CASE WHEN {tok["prompt_tokens"]} IS NOT NULL THEN {tok["prompt_audio_tokens"]} END
    AS input_audio_tokens,
  CASE WHEN {tok["completion_tokens"]} IS NOT NULL THEN {tok["completion_audio_tokens"]} END
    AS output_audio_tokens,
  coalesce({_f("request_user_id")}, {_f("helicone_user")}, {_j("req", "$.user")}) AS user_id,
  list_filter(pl, lambda e: e.k IN ('helicone-session-id', 'session', 'session_id'))[1].v
    AS session_id,
  list_filter(pl, lambda e: e.k IN ('feature', 'helicone-property-feature'))[1].v AS feature,
  CASE WHEN CAST(props AS VARCHAR) <> '{{}}' THEN props END AS tags,
  coalesce(TRY_CAST({_f("delay_ms")} AS DOUBLE), TRY_CAST({_f("latency")} AS DOUBLE))
    AS latency_ms,
  CASE WHEN http_status >= 400 OR http_status < 0 THEN 'error' ELSE 'ok' END AS status,
  llm_finish(coalesce(rec_tool_answer(resp), {_j("resp", "$.choices[0].finish_reason")},
                      {_j("resp", "$.stop_reason")},
                      {_j("resp", "$.candidates[0].finishReason")})) AS finish_reason,
  coalesce(llm_tok({_j("req", "$.max_tokens")}), llm_tok({_j("req", "$.max_completion_tokens")}),
           llm_tok({_j("req", "$.max_output_tokens")})) AS max_tokens,
  TRY_CAST(coalesce({_f("costUSD")}, {_f("cost")}) AS DOUBLE) AS reported_cost_usd,
  CASE WHEN m IS NOT NULL THEN 'messages'
       WHEN json_type(json_extract(req, '$.prompt')) = 'VARCHAR' THEN 'text' END AS prompt_kind,
  CASE WHEN m IS NOT NULL AND sys IS NOT NULL
         THEN '[' || json_object('role', 'system', 'content', sys)
              || CASE WHEN json_array_length(m) > 0 THEN ',' || substr(rec_messages(m), 2)
                      ELSE ']' END
       WHEN m IS NOT NULL THEN rec_messages(m)
       ELSE json_extract_string(req, '$.prompt') END AS prompt_text,
  coalesce(sys, CASE WHEN json_extract_string(m, '$[0].role') IN ('system', 'developer')
                     THEN rec_content_text(json_extract(m, '$[0].content')) END) AS system_text,
  rec_completion(resp) AS completion_text,
  -- the request's function tools (legacy: functions), kept beside a prompt as the JSON-lines
  -- reader keeps them (the same tools, the same tools_hash)
  CASE WHEN m IS NOT NULL OR json_type(json_extract(req, '$.prompt')) = 'VARCHAR'
       THEN coalesce(rec_tools(json_extract(req, '$.tools')),
                     rec_tools(json_extract(req, '$.functions'))) END AS tools_text,
  rec_tool_choice(json_extract(req, '$.tool_choice')) AS tool_choice
FROM msgs
"""


def load_helicone(con, path: Path, source: str, ingest_id: int) -> StageStats:
    with path.open("rb") as fh:
        csv = head_csv_columns(fh.read(64 * 1024), "request_created_at")
    records = read_records(con, path, source, ingest_id, csv=csv)
    con.execute(MACROS)
    con.execute("DROP TABLE IF EXISTS cand")
    con.execute(_calls_sql())
    return finish(con, source=source, ingest_id=ingest_id, fmt="helicone", records=records)


def _sniff(head: bytes, path: Path) -> bool:
    return head_csv_columns(head, "request_created_at", "prompt_tokens") or head_json_keys(
        head, b"request_created_at", b"prompt_tokens"
    )


register_format(
    FileFormat(
        name="helicone",
        description="Helicone request exports (CSV, JSON array or JSON lines)",
        recognized_by='"request_created_at" and "prompt_tokens" as JSON keys or CSV columns',
        sniff=_sniff,
        load=load_helicone,
        priority=40,
    )
)
