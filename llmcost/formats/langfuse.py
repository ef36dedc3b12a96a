"""Langfuse: trace exports (``{trace, observations[]}``) and observation lists.

Accepted: a trace export document, a trace with its ``observations`` (GET /traces/{id}), an
API page (``{data: […]}``), or observations as a JSON array, JSON lines or a CSV export
(schema: fern ``ObservationsView``). Each observation is a record (``line`` = its line for
JSON lines, its ordinal for a document). Only ``GENERATION`` (and ``EMBEDDING``)
observations are model calls; spans, events, agents and tools are skipped.

Usage. ``usageDetails`` keys depend on the integration. Some write disjoint parts that sum
to ``total`` (Langfuse's SDKs: ``input`` without the cached tokens plus
``input_cached_tokens``/``cache_read_input_tokens``/``cache_creation_input_tokens``,
``output`` without ``output_reasoning_tokens``); others write details nested inside the
main counts (OTel ingestion: ``input`` includes ``prompt_details.cache_read``, ``output``
includes ``completion_details.reasoning``). ``total`` tells them apart: when it equals
input + output (and not the sum of every key) the details are nested; otherwise — the sum
of all keys, or no total, which Langfuse defines as that sum — they are disjoint and are
added up. Keys are classified by name: cache reads (``cache_read``/``cached``), cache writes
(``cache_creation``/``cache_write``, ``1h`` for the one-hour part), reasoning, and other
input/output parts; those naming ``audio`` (``input_audio``, ``output_audio``; a cached one
is a cache read) are also the call's audio counts, billed at audio prices. The legacy ``usage`` object (``input``/``output``/``total``,
``unit``; counts in another unit than TOKENS are not tokens) and
``promptTokens``/``completionTokens`` are read when ``usageDetails`` is empty.

Cost: ``costDetails.total`` (else ``totalCost``, ``calculatedTotalCost``,
``usage.totalCost``) is the cost Langfuse reported; an empty ``costDetails`` says Langfuse
priced nothing (no model definition of its matched), and the ``totalCost`` 0 then beside it
is no reported cost. Model names are kept as logged (Vertex resource paths are resolved by
pricing). ``level`` ERROR marks an error; user and session
come from the observation or its trace; ``metadata.feature``, else the trace's name, is the
feature; tags keep the trace and observation names, environment, release, prompt name and
version, trace and project ids, the trace's tags, the time to first token
(``completionStartTime``) and the metadata's short top-level values.

Prompt: chat messages are kept as text messages. An OpenAI Responses API input (items such as
``function_call``, ``function_call_output``, ``reasoning``) is kept as logged, and its
``instructions`` (in ``modelParameters`` with OTel ingestion, beside ``input`` in an input
object, or already the list's leading system message with Langfuse's OpenAI integration) are
the system prompt: the prompt the JSON-lines reader stores for the same request.

Answer: the output as formats/records.py ``rec_completion`` reads it: a provider's response
object, a text, or the chat message the integrations log (its content, then its tool calls'
arguments: OpenAI's, or LangChain's ``args``); one with tool calls reads finish_reason
'tool_calls' (Langfuse keeps no finish reason). Several choices, which the OpenAI
integration logs as the list of their messages, some with tool calls: every choice's
content, then every call's arguments, as the JSON-lines reader keeps the response's.

Tools: the request's function tools are kept beside the prompt, as the JSON-lines reader
keeps a request's ``tools``, to be counted with it: from the input object Langfuse's OpenAI
integration logs (``{messages, tools}`` or legacy ``{messages, functions}``), else
``modelParameters.tools``, else OpenInference's ``llm.tools.N.tool.json_schema`` in the
metadata's ``attributes`` (OTel ingestion); the ``tool_choice`` from ``modelParameters`` (or
the integration's legacy ``function_call``). The observation's own ``toolDefinitions`` field
is not read: the exports we have leave it empty (``{}``).
"""

from __future__ import annotations

import json
from pathlib import Path

from llmcost.formats import FileFormat, register_format
from llmcost.formats.records import (
    finish,
    head_csv_columns,
    head_json_keys,
    plain_head,
    read_records,
)
from llmcost.formats.sql import prompt_columns
from llmcost.formats.stage import StageStats

_PATTERNS = {
    "total": "^(total|total_tokens|totaltokens)$",
    "in_main": "^(input|input_tokens|prompt|prompt_tokens|prompttokens)$",
    "out_main": "^(output|output_tokens|completion|completion_tokens|completiontokens)$",
    "cr": "cache_read|cached",
    "cw": "(cache_creation|cache_write)",
    "cw_1h": "cache.*1h|1h.*cache",
    "cw_5m": "cache.*5m|5m.*cache",
    "r": "reasoning",
    "audio": "audio",
    "in_side": "^(input|prompt)",
    "out_side": "^(output|completion)",
}

# The class of a usageDetails key (lower-cased), by name.
MACROS = rf"""
CREATE OR REPLACE TEMP MACRO lf_class(k) AS (
    CASE
      WHEN regexp_matches(k, '{_PATTERNS["total"]}') THEN 'total'
      WHEN regexp_matches(k, '{_PATTERNS["in_main"]}') THEN 'in_main'
      WHEN regexp_matches(k, '{_PATTERNS["out_main"]}') THEN 'out_main'
      WHEN regexp_matches(k, '{_PATTERNS["cr"]}')
           AND NOT regexp_matches(k, '{_PATTERNS["out_side"]}')
        THEN CASE WHEN regexp_matches(k, '{_PATTERNS["audio"]}') THEN 'cr_audio' ELSE 'cr' END
      WHEN regexp_matches(k, '{_PATTERNS["cw_1h"]}') THEN 'cw_1h'
      WHEN regexp_matches(k, '{_PATTERNS["cw_5m"]}') THEN 'cw_5m'
      WHEN regexp_matches(k, '{_PATTERNS["cw"]}') THEN 'cw'
      WHEN regexp_matches(k, '{_PATTERNS["r"]}')
           AND NOT regexp_matches(k, '{_PATTERNS["in_side"]}') THEN 'r'
      WHEN regexp_matches(k, '{_PATTERNS["in_side"]}')
        THEN CASE WHEN regexp_matches(k, '{_PATTERNS["audio"]}') THEN 'in_audio' ELSE 'in_other' END
      WHEN regexp_matches(k, '{_PATTERNS["out_side"]}')
        THEN CASE WHEN regexp_matches(k, '{_PATTERNS["audio"]}') THEN 'out_audio' ELSE 'out_other' END
      ELSE 'other'
    END);
CREATE OR REPLACE TEMP MACRO lf_sum(entries, cls) AS (
    list_sum(list_transform(list_filter(entries, lambda e: e.c = cls), lambda e: llm_tok(e.v))));
"""


# Each observation is parsed once into these fields (scalars as text, the rest as JSON).
_OBSERVATION = json.dumps(
    {
        **dict.fromkeys(
            ["id", "traceId", "projectId", "type", "name", "startTime", "endTime",
             "completionStartTime", "model",
             "release", "providedModelName", "level", "latency", "userId", "sessionId",
             "environment",
             "version", "promptName", "promptVersion", "traceName", "totalCost",
             "calculatedTotalCost", "promptTokens", "completionTokens", "inputUsage",
             "outputUsage"],
            "VARCHAR",
        ),
        **dict.fromkeys(
            ["usageDetails", "usage", "costDetails", "modelParameters", "metadata", "input",
             "output", "tags"],
            "JSON",
        ),
    }
)  # fmt: skip
_TRACE = json.dumps(
    {**dict.fromkeys(["id", "name", "userId", "sessionId", "release", "environment"], "VARCHAR"),
     "tags": "JSON"}
)  # fmt: skip


def _f(name: str, obj: str = "f") -> str:
    """A field of the parsed observation (``f``) or trace (``t``), NULL when blank."""
    return f"llm_blank({obj}.{name})"


def _j(obj: str, path: str) -> str:
    """A value inside a JSON column, NULL when blank."""
    return f"llm_blank(json_extract_string({obj}, '{path}'))"


def _observations_sql() -> str:
    """``lf_obs``: one row per observation, with its trace (parsed small) when it has one."""
    return f"""
CREATE TEMP TABLE lf_obs AS
WITH parsed AS (
  SELECT line, rec,
    json_transform(rec, '{{"trace": "JSON", "observations": "JSON", "data": "JSON"}}') AS r
  FROM rec_in
), src AS (
  SELECT line, rec,
    CASE WHEN json_type(r.observations) = 'ARRAY' AND json_type(r.trace) = 'OBJECT' THEN r.trace
         WHEN json_type(r.observations) = 'ARRAY' THEN rec
         WHEN json_type(r.trace) = 'OBJECT' THEN r.trace END AS trace,
    CASE WHEN json_type(r.observations) = 'ARRAY' THEN json_extract(r.observations, '$[*]')
         WHEN json_type(r.trace, '$.observations') = 'ARRAY'
           THEN json_extract(r.trace, '$.observations[*]')
         WHEN json_type(r.data) = 'ARRAY' THEN json_extract(r.data, '$[*]') END AS obs
  FROM parsed
)
SELECT row_number() OVER (ORDER BY line, oi) AS n, * FROM (
  SELECT line, json_transform(trace, '{_TRACE}') AS t, generate_subscripts(obs, 1) AS oi,
    unnest(obs) AS o
  FROM src WHERE obs IS NOT NULL
  UNION ALL
  SELECT line, NULL, 1, rec FROM src WHERE obs IS NULL)
"""


_OI_TOOL = r"^llm\.tools\.(\d+)\.tool\.json_schema$"


# a model the struct read as VARCHAR that was not a string in the observation (a number, ...)
_BAD_MODEL = (
    "llm_names_fault(model, ['model', 'providedModelName'], "
    "[json_extract(o, '$.model'), json_extract(o, '$.providedModelName')])"
)


def _calls_sql(document: bool) -> str:
    """``cand``: one row per observation object, a call or a reason why not."""
    line = "n" if document else "line"
    tok = "llm_tok({})".format
    costs = [
        f"TRY_CAST({_j('cd', '$.total')} AS DOUBLE)",
        f"TRY_CAST({_f('totalCost')} AS DOUBLE)",
        f"TRY_CAST({_f('calculatedTotalCost')} AS DOUBLE)",
        f"TRY_CAST({_j('lu', '$.totalCost')} AS DOUBLE)",
    ]
    reported = f"coalesce({', '.join(costs)})"
    # costDetails {} says Langfuse priced nothing (no model definition matched): the API's
    # totalCost is then its sum, 0, which is no cost it reported
    unpriced = f"coalesce({', '.join(f'nullif({c}, 0)' for c in costs[1:])})"
    return f"""
CREATE TEMP TABLE cand AS
WITH base AS (
  SELECT *, upper(coalesce({_f("type")}, '')) AS otype,
    rec_json(f.usageDetails) AS ud, rec_json(f.usage) AS lu, rec_json(f.costDetails) AS cd,
    rec_json(f.modelParameters) AS mp, rec_json(f.metadata) AS meta
  FROM (SELECT n, line, t, o, json_transform(o, '{_OBSERVATION}') AS f FROM lf_obs
        WHERE left(CAST(o AS VARCHAR), 1) = '{{')
), entries AS (  -- usageDetails as [{{k, v, c (the key's class)}}]
  SELECT *,
    CASE WHEN json_type(ud) = 'OBJECT' THEN list_transform(
        map_entries(json_transform(ud, '"MAP(VARCHAR, VARCHAR)"')),
        lambda e: {{'k': lower(e.key), 'v': e.value, 'c': lf_class(lower(e.key))}}) END AS e
  FROM base
), parts AS (
  SELECT *,
    lf_sum(e, 'total') AS total, lf_sum(e, 'in_main') AS in_main,
    lf_sum(e, 'out_main') AS out_main, lf_sum(e, 'cw') AS cw_all,
    -- cached audio is a cache read (and audio); in_audio/out_audio are parts beside the main
    lf_sum(e, 'cr_audio') AS cr_audio, lf_sum(e, 'in_audio') AS in_audio,
    lf_sum(e, 'out_audio') AS out_audio,
    CASE WHEN lf_sum(e, 'cr') IS NOT NULL OR lf_sum(e, 'cr_audio') IS NOT NULL
         THEN coalesce(lf_sum(e, 'cr'), 0) + coalesce(lf_sum(e, 'cr_audio'), 0) END AS cr,
    lf_sum(e, 'cw_1h') AS cw_1h, lf_sum(e, 'cw_5m') AS cw_5m, lf_sum(e, 'r') AS r,
    lf_sum(e, 'in_other') AS in_other, lf_sum(e, 'out_other') AS out_other,
    list_filter(e, lambda x: llm_bad_tok(x.v))[1] AS bad,
    CASE WHEN upper(coalesce({_j("lu", "$.unit")}, 'TOKENS')) <> 'TOKENS'
         THEN {_j("lu", "$.unit")} END AS other_unit
  FROM entries
), usage AS (
  SELECT *,
    coalesce(cw_all, CASE WHEN cw_5m IS NOT NULL OR cw_1h IS NOT NULL
                          THEN coalesce(cw_5m, 0) + coalesce(cw_1h, 0) END) AS cw
  FROM parts
), counted AS (
  SELECT *,
    coalesce(in_main, 0) + coalesce(cr, 0) + coalesce(cw, 0) + coalesce(in_other, 0)
      + coalesce(in_audio, 0) AS in_disjoint,
    coalesce(out_main, 0) + coalesce(r, 0) + coalesce(out_other, 0) + coalesce(out_audio, 0)
      AS out_disjoint,
    CASE WHEN in_audio IS NOT NULL OR cr_audio IS NOT NULL
         THEN coalesce(in_audio, 0) + coalesce(cr_audio, 0) END AS audio_in,
    in_main IS NOT NULL OR out_main IS NOT NULL OR cr IS NOT NULL OR cw IS NOT NULL
      AS has_details,
    coalesce({tok(_j("lu", "$.input"))}, {tok(_j("lu", "$.promptTokens"))},
             {tok(_f("promptTokens"))}, {tok(_f("inputUsage"))}) AS legacy_in,
    coalesce({tok(_j("lu", "$.output"))}, {tok(_j("lu", "$.completionTokens"))},
             {tok(_f("completionTokens"))}, {tok(_f("outputUsage"))}) AS legacy_out
  FROM usage
), fields AS (
  SELECT *,
    -- nested: total = input + output (and not the sum of every key)
    total IS NOT NULL AND total = coalesce(in_main, 0) + coalesce(out_main, 0)
      AND total <> in_disjoint + out_disjoint AS nested,
    coalesce({_f("model")}, {_f("providedModelName")}) AS model,
    {_f("startTime")} AS ts_raw,
    rec_json(f.input) AS inp, rec_json(f.output) AS outp
  FROM counted
), request AS (  -- a Responses API request: its input (alone or beside its instructions)
  SELECT *,
    CASE WHEN json_type(inp) = 'OBJECT' AND json_extract(inp, '$.input') IS NOT NULL
         THEN json_extract(inp, '$.input') ELSE inp END AS items,
    coalesce({_j("inp", "$.instructions")}, {_j("mp", "$.instructions")}) AS instructions
  FROM fields
), tokens AS (
  SELECT *,
    CASE WHEN other_unit IS NOT NULL THEN NULL
         WHEN has_details AND nested THEN in_main
         WHEN has_details THEN in_disjoint
         ELSE legacy_in END AS input_tokens,
    CASE WHEN other_unit IS NOT NULL THEN NULL
         WHEN has_details AND nested THEN out_main
         WHEN has_details THEN out_disjoint
         ELSE legacy_out END AS output_tokens,
    -- Responses API items (function_call, function_call_output, reasoning, …) are kept as
    -- logged, as the JSON-lines reader keeps them, for the fill to frame them as the API does
    CASE WHEN json_type(items) = 'ARRAY'
              AND len(list_filter(json_extract_string(items, '$[*].type'),
                                  lambda t: t <> 'message')) > 0
           THEN CAST(items AS VARCHAR)
         WHEN json_type(items) = 'ARRAY' THEN rec_messages(items)
         WHEN json_type(json_extract(inp, '$.messages')) = 'ARRAY'
           THEN rec_messages(json_extract(inp, '$.messages'))
         -- a Responses API input string is one user message (framed as a chat prompt)
         WHEN instructions IS NOT NULL AND json_type(items) = 'VARCHAR'
           THEN CAST(json_array(json_object('role', 'user', 'content', items ->> '$')) AS VARCHAR)
    END AS msgs,
    CASE WHEN json_type(items) = 'VARCHAR' THEN json_extract_string(items, '$')
         WHEN json_type(json_extract(inp, '$.contents')) = 'VARCHAR'
           THEN json_extract_string(inp, '$.contents')
         WHEN json_type(json_extract(inp, '$.contents')) = 'ARRAY'
           THEN array_to_string(json_extract_string(inp, '$.contents[*].parts[*].text'), '\n')
         WHEN json_type(json_extract(inp, '$.prompt')) = 'VARCHAR'
           THEN json_extract_string(inp, '$.prompt') END AS prompt_plain
  FROM request
), oi_tools AS (  -- OpenInference's llm.tools.N.tool.json_schema (OTel ingestion metadata)
  SELECT n, '[' || string_agg(CAST(json(a.value) AS VARCHAR), ','
                              ORDER BY TRY_CAST(regexp_extract(a.key, '{_OI_TOOL}', 1) AS INTEGER))
            || ']' AS tools
  FROM (SELECT n, unnest(map_entries(json_transform(json_extract(meta, '$.attributes'),
                                                    '"MAP(VARCHAR, VARCHAR)"'))) AS a
        FROM base WHERE contains(CAST(meta AS VARCHAR), '"llm.tools.')
          AND json_type(json_extract(meta, '$.attributes')) = 'OBJECT')
  WHERE regexp_matches(a.key, '{_OI_TOOL}') AND json_valid(a.value)
  GROUP BY n
), prompt AS (  -- the instructions are the system prompt, unless the input starts with it
  SELECT *, json_extract_string(msgs, '$[0].role') IN ('system', 'developer') AS leads,
    CASE WHEN NOT coalesce(leads, false) THEN instructions END AS sys_text,
    -- the function tools the request sent: Langfuse's OpenAI integration logs the input as
    -- {{messages, tools | functions}}; other integrations put them in modelParameters, OTel
    -- ingestion (OpenInference) in the metadata's attributes
    CASE WHEN msgs IS NOT NULL OR prompt_plain IS NOT NULL
         THEN coalesce(rec_tools(json_extract(inp, '$.tools')),
                       rec_tools(json_extract(inp, '$.functions')),
                       rec_tools(json_extract(mp, '$.tools')),
                       rec_tools(json_extract(mp, '$.functions')),
                       rec_tools(oi_tools.tools)) END AS tools_text,
    coalesce(rec_tool_choice(json_extract(mp, '$.tool_choice')),
             rec_tool_choice(json_extract(inp, '$.function_call'))) AS tool_choice,
    -- several choices, logged as the list of their messages by the OpenAI integration, some
    -- answered with tool calls: the answer is kept as the JSON-lines reader keeps the
    -- response's (every content, then every call's arguments), and reads 'tool_calls'
    json_type(outp) = 'ARRAY' AND len(list_filter(json_extract(outp, '$[*]'),
                                                  lambda m: rec_message_tool_calls(m))) > 0
      AS several_calls
  FROM tokens LEFT JOIN oi_tools USING (n)
)
SELECT {line} AS line,
  CASE WHEN otype NOT IN ('GENERATION', 'EMBEDDING')
       THEN 'observation of type ' || coalesce(nullif(otype, ''), 'unknown')
            || ', not a model call' END AS skip_reason,
  CASE WHEN model IS NULL THEN 'no model (looked for model, providedModelName)'
       WHEN {_BAD_MODEL} IS NOT NULL THEN {_BAD_MODEL}
       WHEN bad IS NOT NULL
         THEN 'usageDetails.' || bad.k || ' ' || llm_tok_fault(bad.v) || ': ' || left(bad.v, 40)
       ELSE 'timestamp ' || llm_ts_fault(ts_raw, rec_ts(ts_raw)) END AS reject_reason,
  CAST(o AS VARCHAR) AS raw,
  coalesce({_f("id")}, md5(CAST(o AS VARCHAR))) AS request_id,
  rec_ts(ts_raw) AS ts, llm_ts_naive(ts_raw) AS naive_ts, model,
  llm_provider_of(model) AS provider,
  input_tokens,
  CASE WHEN input_tokens IS NOT NULL THEN cr END AS cache_read_tokens,
  CASE WHEN input_tokens IS NOT NULL AND cw IS NOT NULL
       THEN greatest(cw - coalesce(cw_1h, 0), 0) END AS cache_write_tokens,
  CASE WHEN input_tokens IS NOT NULL THEN cw_1h END AS cache_write_1h_tokens,
  output_tokens,
  CASE WHEN output_tokens IS NOT NULL THEN r END AS reasoning_tokens,
  CASE WHEN input_tokens IS NOT NULL THEN audio_in END AS input_audio_tokens,
  CASE WHEN input_tokens IS NOT NULL THEN cr_audio END AS cache_read_audio_tokens,
  CASE WHEN output_tokens IS NOT NULL THEN out_audio END AS output_audio_tokens,
  coalesce({_f("userId")}, {_f("userId", "t")}) AS user_id,
  coalesce({_f("sessionId")}, {_f("sessionId", "t")}) AS session_id,
  coalesce({_j("meta", "$.feature")}, {_f("name", "t")}, {_f("traceName")}) AS feature,
  json_merge_patch(rec_scalars(meta), rec_obj([
    {{'k': 'trace_name', 'v': to_json(coalesce({_f("name", "t")}, {_f("traceName")}))}},
    {{'k': 'name', 'v': to_json({_f("name")})}},
    {{'k': 'environment', 'v': to_json(coalesce({_f("environment")}, {_f("environment", "t")}))}},
    {{'k': 'prompt_name', 'v': to_json({_f("promptName")})}},
    {{'k': 'prompt_version', 'v': to_json({_f("promptVersion")})}},
    {{'k': 'release', 'v': to_json(coalesce({_f("release", "t")}, {_f("release")}))}},
    {{'k': 'version', 'v': to_json({_f("version")})}},
    {{'k': 'trace_id', 'v': to_json(coalesce({_f("traceId")}, {_f("id", "t")}))}},
    {{'k': 'project_id', 'v': to_json({_f("projectId")})}},
    {{'k': 'tags', 'v': CASE WHEN json_array_length(coalesce(t.tags, f.tags)) > 0
                            THEN coalesce(t.tags, f.tags) END}},
    {{'k': 'time_to_first_token_ms',
      'v': to_json(date_diff('microsecond', rec_ts(ts_raw),
                             rec_ts({_f("completionStartTime")})) / 1000.0)}}
  ])) AS tags,
  coalesce(date_diff('microsecond', rec_ts(ts_raw), rec_ts({_f("endTime")})) / 1000.0,
           TRY_CAST({_f("latency")} AS DOUBLE) * 1000) AS latency_ms,
  CASE WHEN upper(coalesce({_f("level")}, '')) = 'ERROR' THEN 'error' ELSE 'ok' END AS status,
  coalesce({tok(_j("mp", "$.max_tokens"))}, {tok(_j("mp", "$.maxOutputTokens"))},
           {tok(_j("mp", "$.max_output_tokens"))}, {tok(_j("mp", "$.max_completion_tokens"))},
           {tok(_j("mp", "$.maxTokens"))}) AS max_tokens,
  CASE WHEN CAST(cd AS VARCHAR) = '{{}}' THEN {unpriced} ELSE {reported} END
    AS reported_cost_usd,
  {prompt_columns()},
  CASE WHEN leads THEN json_extract_string(msgs, '$[0].content') ELSE sys_text END
    AS system_text,
  CASE WHEN several_calls THEN llm_join(list_concat(
           list_transform(json_extract(outp, '$[*]'),
                          lambda m: rec_content_text(json_extract(m, '$.content'))),
           flatten(list_transform(json_extract(outp, '$[*]'), lambda m: rec_message_args(m)))))
       ELSE rec_completion(outp) END AS completion_text,
  tools_text, tool_choice,
  -- (only an answer with tool calls is told: Langfuse keeps no finish reason)
  CASE WHEN several_calls THEN 'tool_calls' ELSE rec_tool_answer(outp) END AS finish_reason
FROM prompt
"""


def _leftovers_sql(document: bool) -> str:
    """Records that hold no observation object (an empty trace, an observation id)."""
    line = "n" if document else "line"
    return f"""
INSERT INTO cand (line, skip_reason, raw)
SELECT {line}, 'observation given by id only (no details)', CAST(o AS VARCHAR)
FROM lf_obs WHERE left(CAST(o AS VARCHAR), 1) <> '{{'
UNION ALL
SELECT line, 'trace without observations', CAST(rec AS VARCHAR) FROM rec_in r
WHERE NOT EXISTS (SELECT 1 FROM lf_obs l WHERE l.line = r.line)
"""


def load_langfuse(con, path: Path, source: str, ingest_id: int) -> StageStats:
    with path.open("rb") as fh:
        csv = head_csv_columns(fh.read(64 * 1024), "type", "startTime")
    records = read_records(con, path, source, ingest_id, csv=csv)
    con.execute(MACROS)
    for table in ("lf_obs", "cand"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(_observations_sql())
    con.execute(_calls_sql(records.document))
    con.execute(_leftovers_sql(records.document))
    con.execute("DROP TABLE lf_obs")
    return finish(con, source=source, ingest_id=ingest_id, fmt="langfuse", records=records)


def _sniff(head: bytes, path: Path) -> bool:
    if head_csv_columns(head, "traceId", "type", "startTime"):
        return True
    text = plain_head(head)
    trace_export = head_json_keys(text, b"trace", b"observations")
    observation = head_json_keys(text, b"traceId", b"type", b"startTime") and (
        head_json_keys(text, b"usageDetails") or head_json_keys(text, b"parentObservationId")
    )
    return trace_export or observation


register_format(
    FileFormat(
        name="langfuse",
        description="Langfuse trace exports ({trace, observations}) and observation lists "
        "(JSON, JSON lines or CSV); GENERATION observations are the calls",
        recognized_by='JSON with "trace" and "observations", or observations with "traceId", '
        '"type", "startTime" and "usageDetails"/"parentObservationId"; or such a CSV header',
        sniff=_sniff,
        load=load_langfuse,
        priority=40,
    )
)
