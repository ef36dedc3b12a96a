"""LiteLLM: proxy SpendLogs rows and the StandardLoggingPayload its callbacks write.

SpendLogs (``LiteLLM_SpendLogs``, schema.prisma) come as a JSON array, JSON lines or a CSV
export: ``request_id``, ``startTime``/``endTime`` (naive timestamps, read as UTC),
``model``, ``model_group``, ``custom_llm_provider``, ``prompt_tokens``/
``completion_tokens``, ``spend`` (the cost LiteLLM computed), ``user``, ``end_user``,
``team_id``, ``api_key`` (hashed), ``session_id``, ``status``, ``cache_hit``, and
``metadata`` — a JSON object stored as a STRING, whose ``usage_object`` holds the cache and
reasoning details. A StandardLoggingPayload (one JSON object per line, or a document) has
``id``, ``response_cost``, ``startTime`` (epoch seconds, or a timestamp), ``metadata``
(``user_api_key_*``), ``messages``, ``response`` (the OpenAI-format response, with
``usage``), ``model_parameters`` and ``hidden_params``. The request's ``tools`` (legacy
``functions``) and ``tool_choice`` are read from ``model_parameters`` or the proxy's
``proxy_server_request``
(a SpendLogs row keeps it only when the proxy stores prompts) and kept as the JSON-lines
reader keeps them.

Token convention. LiteLLM normalizes every provider to OpenAI's: ``prompt_tokens``
includes the cached tokens (``prompt_tokens_details.cached_tokens``, for Anthropic also
``cache_read_input_tokens``), and ``completion_tokens`` includes reasoning. LiteLLM
versions disagree on Anthropic cache WRITES: most add ``cache_creation_input_tokens`` to
``prompt_tokens``, some (mid-2025) add only the reads. So, per row: input = prompt_tokens
when it is at least reads + writes; prompt_tokens + writes when it holds only the reads;
prompt_tokens + reads + writes when it holds neither (raw Anthropic counts). Output adds
reasoning only when completion_tokens is smaller than it. (The rule is the macros
``llm_prompt_input`` / ``llm_completion_output`` of formats/sql.py: a log line with this
usage object is read by the same rule, formats/usage.py.)
The audio parts are ``prompt_tokens_details.audio_tokens`` and
``completion_tokens_details.audio_tokens`` of the usage object (inside prompt/completion).

Attribution: user = ``end_user`` (the caller's customer), else the key's user; tags keep
``model_group``, ``call_type``, the hashed ``api_key`` and its alias, team, organization,
``api_base``, ``request_tags`` and the short values of ``spend_logs_metadata``; the
feature is ``spend_logs_metadata.feature`` when set. ``spend``/``response_cost`` is the
reported cost. Rows answered from LiteLLM's own response cache (``cache_hit`` true) never
reached a provider and are skipped, not counted as calls.
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
from llmcost.formats.stage import StageStats

# Each row is parsed once into these fields: scalars as text, the rest as JSON.
_ROW = json.dumps(
    {
        **dict.fromkeys(
            ["request_id", "id", "call_type", "api_key", "spend", "response_cost",
             "prompt_tokens", "completion_tokens", "startTime", "start_time", "endTime",
             "end_time", "request_duration_ms", "response_time", "model", "model_group",
             "custom_llm_provider", "user", "end_user", "team_id", "organization_id",
             "session_id", "status", "cache_hit", "api_base"],
            "VARCHAR",
        ),
        **dict.fromkeys(
            ["metadata", "response", "messages", "request_tags", "model_parameters",
             "hidden_params", "proxy_server_request"],
            "JSON",
        ),
    }
)  # fmt: skip

# Paths in the usage object (SpendLogs metadata.usage_object, else the response's usage).
_USAGE = {
    "cached": "$.prompt_tokens_details.cached_tokens",
    "cache_read": "$.cache_read_input_tokens",
    "cache_creation": "$.cache_creation_input_tokens",
    "cache_creation_details": "$.prompt_tokens_details.cache_creation_tokens",
    "write_1h": "$.prompt_tokens_details.cache_creation_token_details.ephemeral_1h_input_tokens",
    "write_1h_anthropic": "$.cache_creation.ephemeral_1h_input_tokens",
    "reasoning": "$.completion_tokens_details.reasoning_tokens",
    # the audio parts of prompt and completion (LiteLLM writes Gemini's AUDIO counts there too)
    "audio_in": "$.prompt_tokens_details.audio_tokens",
    "audio_out": "$.completion_tokens_details.audio_tokens",
}


def _f(name: str) -> str:
    """A top-level field of the row, NULL when blank (LiteLLM writes "" for unset)."""
    return f'llm_blank(f."{name}")'


def _j(obj: str, path: str) -> str:
    """A value inside a JSON column, NULL when blank."""
    return f"llm_blank(json_extract_string({obj}, '{path}'))"


def _u(key: str) -> str:
    return f"llm_tok({_j('u', _USAGE[key])})"


def _bad_tokens() -> str:
    pairs = [(k, _f(k)) for k in ("prompt_tokens", "completion_tokens")]
    pairs += [(f"usage{path[1:]}", _j("u", path)) for path in _USAGE.values()]
    arms = " ".join(
        f"WHEN llm_bad_tok({raw}) THEN '{label} ' || llm_tok_fault({raw}) || ': ' "
        f"|| left({raw}, 40)"
        for label, raw in pairs
    )
    return f"(CASE {arms} END)"


# a model the struct read as VARCHAR that was not a string in the record (a number, a list)
_BAD_MODEL = (
    "llm_names_fault(model, ['response.model', 'model', 'model_group'], "
    "[json_extract(resp, '$.model'), json_extract(rec, '$.model'), "
    "json_extract(rec, '$.model_group')])"
)


def _calls_sql() -> str:
    """``cand``: one row per record, a call or a reason why not."""
    return f"""
CREATE TEMP TABLE cand AS
WITH base AS (
  SELECT *, rec_json(f.metadata) AS meta, rec_json(f.response) AS resp,
    rec_json(f.messages) AS msgs, rec_json(f.proxy_server_request) AS psr
  FROM (SELECT line, rec, json_transform(rec, '{_ROW}') AS f FROM rec_in)
), used AS (
  SELECT *, coalesce(json_extract(meta, '$.usage_object'), json_extract(resp, '$.usage')) AS u
  FROM base
), counts AS (
  SELECT *,
    coalesce(llm_tok({_f("prompt_tokens")}), llm_tok({_j("u", "$.prompt_tokens")})) AS prompt,
    coalesce(llm_tok({_f("completion_tokens")}), llm_tok({_j("u", "$.completion_tokens")}))
      AS completion,
    coalesce({_u("cached")}, {_u("cache_read")}) AS cr,
    coalesce({_u("cache_creation")}, {_u("cache_creation_details")}) AS cw,
    coalesce({_u("write_1h")}, {_u("write_1h_anthropic")}) AS cw_1h,
    {_u("reasoning")} AS r,
    {_u("audio_in")} AS a_in, {_u("audio_out")} AS a_out,
    {_bad_tokens()} AS bad_usage,
    coalesce({_f("startTime")}, {_f("start_time")}) AS ts_raw,
    coalesce({_f("endTime")}, {_f("end_time")}) AS end_raw,
    llm_blank(coalesce(json_extract_string(resp, '$.model'), {_f("model")},
                       {_f("model_group")})) AS model
  FROM used
)
SELECT line,
  CASE WHEN lower(coalesce({_f("cache_hit")}, '')) = 'true'
       THEN 'answered from the LiteLLM response cache (no provider call)' END AS skip_reason,
  CASE WHEN model IS NULL THEN 'no model (looked for model, model_group, response.model)'
       WHEN {_BAD_MODEL} IS NOT NULL THEN {_BAD_MODEL}
       WHEN bad_usage IS NOT NULL THEN bad_usage
       ELSE 'timestamp ' || llm_ts_fault(ts_raw, rec_ts(ts_raw))
  END AS reject_reason,
  CAST(rec AS VARCHAR) AS raw,
  coalesce({_f("request_id")}, {_f("id")}, md5(CAST(rec AS VARCHAR))) AS request_id,
  rec_ts(ts_raw) AS ts, llm_ts_naive(ts_raw) AS naive_ts, model,
  rec_provider_for(coalesce({_f("custom_llm_provider")},
                            {_j("f.hidden_params", "$.custom_llm_provider")}), model) AS provider,
  llm_prompt_input(prompt, cr, cw) AS input_tokens,
  cr AS cache_read_tokens,
  CASE WHEN cw IS NOT NULL THEN greatest(cw - coalesce(cw_1h, 0), 0) END AS cache_write_tokens,
  cw_1h AS cache_write_1h_tokens,
  llm_completion_output(completion, r) AS output_tokens,
  r AS reasoning_tokens,
  CASE WHEN prompt IS NOT NULL THEN a_in END AS input_audio_tokens,
  CASE WHEN completion IS NOT NULL THEN a_out END AS output_audio_tokens,
  coalesce({_f("end_user")}, {_j("meta", "$.user_api_key_end_user_id")}, {_f("user")},
           {_j("meta", "$.user_api_key_user_id")}) AS user_id,
  coalesce({_f("session_id")}, {_j("meta", "$.session_id")}) AS session_id,
  coalesce({_j("meta", "$.spend_logs_metadata.feature")},
           {_j("meta", "$.requester_metadata.feature")}) AS feature,
  json_merge_patch(rec_scalars(json_extract(meta, '$.spend_logs_metadata')), rec_obj([
    {{'k': 'model_group', 'v': to_json({_f("model_group")})}},
    {{'k': 'call_type', 'v': to_json({_f("call_type")})}},
    {{'k': 'api_key',
      'v': to_json(coalesce({_f("api_key")}, {_j("meta", "$.user_api_key_hash")}))}},
    {{'k': 'api_key_alias', 'v': to_json({_j("meta", "$.user_api_key_alias")})}},
    {{'k': 'team_id',
      'v': to_json(coalesce({_f("team_id")}, {_j("meta", "$.user_api_key_team_id")}))}},
    {{'k': 'team_name', 'v': to_json({_j("meta", "$.user_api_key_team_alias")})}},
    {{'k': 'organization_id',
      'v': to_json(coalesce({_f("organization_id")}, {_j("meta", "$.user_api_key_org_id")}))}},
    {{'k': 'user',
      'v': to_json(coalesce({_f("user")}, {_j("meta", "$.user_api_key_user_id")}))}},
    {{'k': 'end_user', 'v': to_json({_f("end_user")})}},
    {{'k': 'api_base', 'v': to_json({_f("api_base")})}},
    {{'k': 'request_tags', 'v': CASE WHEN json_array_length(rec_json(f.request_tags)) > 0
                                    THEN rec_json(f.request_tags) END}}
  ])) AS tags,
  coalesce(TRY_CAST({_f("request_duration_ms")} AS DOUBLE),
           TRY_CAST({_f("response_time")} AS DOUBLE) * 1000,
           date_diff('microsecond', rec_ts(ts_raw), rec_ts(end_raw)) / 1000.0) AS latency_ms,
  CASE WHEN lower(coalesce({_f("status")}, '')) IN ('failure', 'error', 'failed')
       THEN 'error' ELSE 'ok' END AS status,
  llm_finish(coalesce(rec_tool_answer(resp), {_j("resp", "$.choices[0].finish_reason")}))
    AS finish_reason,
  coalesce(llm_tok({_j("f.model_parameters", "$.max_tokens")}),
           llm_tok({_j("f.model_parameters", "$.max_completion_tokens")}),
           llm_tok({_j("psr", "$.max_tokens")}),
           llm_tok({_j("psr", "$.max_completion_tokens")})) AS max_tokens,
  TRY_CAST(coalesce({_f("spend")}, {_f("response_cost")}) AS DOUBLE) AS reported_cost_usd,
  CASE WHEN json_type(msgs) = 'ARRAY' THEN 'messages' END AS prompt_kind,
  CASE WHEN json_type(msgs) = 'ARRAY' THEN CAST(msgs AS VARCHAR) END AS prompt_text,
  CASE WHEN json_extract_string(msgs, '$[0].role') IN ('system', 'developer')
       THEN llm_text(json_extract(msgs, '$[0].content')) END AS system_text,
  rec_completion(resp) AS completion_text,
  -- the request's function tools (legacy: functions): LiteLLM keeps them in the payload's
  -- model_parameters (its optional params) and in the proxy's request body; kept beside a
  -- prompt as the JSON-lines reader keeps them (the same tools, the same tools_hash)
  CASE WHEN json_type(msgs) = 'ARRAY'
       THEN coalesce(rec_tools(json_extract(f.model_parameters, '$.tools')),
                     rec_tools(json_extract(psr, '$.tools')),
                     rec_tools(json_extract(f.model_parameters, '$.functions')),
                     rec_tools(json_extract(psr, '$.functions'))) END AS tools_text,
  coalesce(rec_tool_choice(json_extract(f.model_parameters, '$.tool_choice')),
           rec_tool_choice(json_extract(psr, '$.tool_choice'))) AS tool_choice
FROM counts
"""


def load_litellm(con, path: Path, source: str, ingest_id: int) -> StageStats:
    with path.open("rb") as fh:
        csv = head_csv_columns(fh.read(64 * 1024), "request_id", "spend")
    records = read_records(con, path, source, ingest_id, csv=csv)
    con.execute("DROP TABLE IF EXISTS cand")
    con.execute(_calls_sql())
    return finish(con, source=source, ingest_id=ingest_id, fmt="litellm", records=records)


def _sniff(head: bytes, path: Path) -> bool:
    if head_csv_columns(head, "request_id", "spend", "startTime"):
        return True
    text = plain_head(head)
    return head_json_keys(text, b"call_type", b"startTime") and (
        head_json_keys(text, b"spend") or head_json_keys(text, b"response_cost")
    )


register_format(
    FileFormat(
        name="litellm",
        description="LiteLLM proxy SpendLogs rows (JSON, JSON lines or CSV export) and "
        "StandardLoggingPayload callback logs",
        recognized_by='JSON with "call_type", "startTime" and "spend" or "response_cost"; '
        "or a CSV header with request_id, spend, startTime",
        sniff=_sniff,
        load=load_litellm,
        priority=40,
    )
)
