"""Claude Code transcripts: ``~/.claude/projects/<project>/<session>.jsonl``.

Only assistant lines whose message carries ``usage`` are calls (``type: "assistant"``, or no
``type`` and ``message.role: "assistant"`` as in ccusage's fixtures). Everything else (user
and system lines, summaries, file-history snapshots, lines that are not JSON objects) is
skipped, not rejected; so are messages of model ``<synthetic>`` (written by Claude Code
itself, no API call).

Streaming writes one line per content block of a message, each repeating ``message.id`` and
``requestId`` with the same input and cache counts while ``output_tokens`` grows: a message
is ONE call. Lines are grouped by ``message.id`` + ``requestId`` (newer versions may omit
``requestId``: the message id alone is unique); the line with the largest output count (the
first on ties) is kept, with the first line's timestamp, and the others are skipped as
repeats. The key is also the call's request_id, so a message copied into another transcript
(a resumed session) is recognized as already stored.

Usage is Anthropic-style: ``input_tokens`` EXCLUDES ``cache_read_input_tokens`` and
``cache_creation_input_tokens`` (canonical input adds them); the 1-hour writes are
``cache_creation.ephemeral_1h_input_tokens``. ``sessionId`` → session_id, the last part of
``cwd`` → feature, ``costUSD`` (older versions) → reported_cost_usd; cwd, version, git
branch, sidechain, ``usage.speed`` and the project directory go to tags.
"""

from __future__ import annotations

import json
from pathlib import Path

from llmcost.formats import FileFormat, register_format
from llmcost.formats.lines import INVALID_JSON, LINE_STATE, stage_lines
from llmcost.formats.usage import (
    bad_field_sql,
    column_sql,
    modifier_sql,
    tokens_sql,
    usage_string_sql,
    usage_strings_sql,
)

_V = "VARCHAR"
STRUCT = json.dumps(
    {
        "type": _V,
        "timestamp": _V,
        "sessionId": _V,
        "requestId": _V,
        "cwd": _V,
        "version": _V,
        "gitBranch": _V,
        "isSidechain": _V,
        "isApiErrorMessage": _V,
        "costUSD": _V,
        "agentId": _V,
        "message": {
            "id": _V,
            "role": _V,
            "model": _V,
            "stop_reason": _V,
            "usage": "JSON",
            "content": "JSON",
        },
    }
)

_STYLE = "'anthropic'"
# a model the struct read as VARCHAR that was not a string in the line (a number, a list)
_BAD_MODEL = "llm_name_fault('message.model', c.message.model, text -> '$.message.model')"

RECORDS_SQL = f"""
WITH parsed AS (
  SELECT line, text, {LINE_STATE} AS state FROM lines
), rec AS (
  SELECT *, CASE WHEN state = 'ok' THEN json_transform(text, '{STRUCT}') END AS c FROM parsed
), f AS (
  SELECT *, c.message.usage AS u,
    (c.type = 'assistant' OR (c.type IS NULL AND c.message.role = 'assistant'))
      AND json_type(c.message.usage) = 'OBJECT' AS is_call
  FROM rec
), fr AS (
  SELECT *, {usage_strings_sql()} AS u_raw FROM f
), fu AS (
  SELECT *, {tokens_sql("u_raw")} AS u_tok FROM fr
), g AS (
  SELECT *,
    CASE
      WHEN state = 'blank' THEN 'blank line'
      WHEN state = 'notobject' THEN 'JSON ' || llm_json_kind(text) || ', not an object'
      WHEN state = 'ok' AND NOT is_call
        THEN 'not an assistant message with usage (' || coalesce(c.type, 'no type') || ' line)'
      WHEN state = 'ok' AND c.message.model = '<synthetic>'
        THEN 'synthetic message (written by Claude Code, no API call)'
    END AS pre_skip,
    CASE
      WHEN state = 'invalid' THEN {INVALID_JSON}
      WHEN llm_blank(c.message.model) IS NULL THEN 'no message.model'
      WHEN {_BAD_MODEL} IS NOT NULL THEN {_BAD_MODEL}
      WHEN {bad_field_sql(_STYLE, "u_raw")} IS NOT NULL THEN {bad_field_sql(_STYLE, "u_raw")}
      ELSE 'timestamp ' || llm_ts_fault(c.timestamp, llm_ts(c.timestamp))
    END AS pre_reject,
    coalesce(llm_blank(c.message.id) || coalesce(':' || llm_blank(c.requestId), ''), md5(text))
      AS call_key,
    {column_sql("output", _STYLE)} AS n_out
  FROM fu
), h AS (
  SELECT *, pre_skip IS NULL AND pre_reject IS NULL AS clean FROM g
), ranked AS (
  SELECT *,
    row_number() OVER (PARTITION BY clean, call_key ORDER BY n_out DESC NULLS LAST, line)
      AS nth,
    min(llm_ts(c.timestamp)) OVER (PARTITION BY clean, call_key) AS first_ts,
    bool_or(llm_ts_naive(c.timestamp)) OVER (PARTITION BY clean, call_key) AS any_naive
  FROM h
)
SELECT line, text,
  coalesce(pre_skip,
           CASE WHEN clean AND nth > 1
                THEN 'streamed repeat of message ' || call_key || ' (counted once)' END)
    AS skip_reason,
  CASE WHEN pre_skip IS NULL THEN pre_reject END AS reject_reason,
  call_key AS request_id,
  first_ts AS ts,
  any_naive AS naive_ts,
  'anthropic' AS provider,
  c.message.model AS model,
  {column_sql("input", _STYLE)} AS input_tokens,
  {column_sql("cache_read", _STYLE)} AS cache_read_tokens,
  {column_sql("cache_write", _STYLE)} AS cache_write_tokens,
  {column_sql("cache_write_1h", _STYLE)} AS cache_write_1h_tokens,
  n_out AS output_tokens,
  {column_sql("reasoning", _STYLE)} AS reasoning_tokens,
  llm_tier({usage_string_sql("$.service_tier")}) AS service_tier,
  {modifier_sql("inference_geo")} AS inference_geo,
  {modifier_sql("speed")} AS speed,
  llm_blank(c.sessionId) AS session_id,
  llm_blank(regexp_extract(c.cwd, '([^/\\\\]+)[/\\\\]*$', 1)) AS feature,
  json_merge_patch('{{}}', json_object(
    'project', ?, 'cwd', c.cwd, 'version', c.version, 'git_branch', c.gitBranch,
    'sidechain', TRY_CAST(c.isSidechain AS BOOLEAN), 'agent_id', c.agentId,
    'speed', {usage_string_sql("$.speed")})) AS tags,
  CASE WHEN TRY_CAST(c.isApiErrorMessage AS BOOLEAN) THEN 'error' ELSE 'ok' END AS status,
  llm_finish(c.message.stop_reason) AS finish_reason,
  TRY_CAST(c.costUSD AS DOUBLE) AS reported_cost_usd,
  CASE json_type(c.message.content)
    WHEN 'VARCHAR' THEN c.message.content ->> '$'
    WHEN 'ARRAY' THEN llm_anthropic_answer(c.message.content)
  END AS completion_text
FROM ranked
"""


def load_claude_code(con, path: Path, source: str, ingest_id: int):
    """Stage the assistant calls of one transcript; see the module docstring."""
    return stage_lines(
        con, path, source, ingest_id, RECORDS_SQL, format="claude-code", params=[path.parent.name]
    )


def _sniff(head: bytes, path: Path) -> bool:
    """Keys only Claude Code writes: sessionId and message with parentUuid/isSidechain (every
    transcript line) or costUSD (older versions, ccusage's fixtures)."""
    if b'"sessionId"' not in head or b'"message"' not in head:
        return False
    return any(key in head for key in (b'"parentUuid"', b'"isSidechain"', b'"costUSD"'))


register_format(
    FileFormat(
        name="claude-code",
        description="Claude Code transcripts (~/.claude/projects/**/*.jsonl): assistant "
        "messages with usage, streamed repeats counted once",
        recognized_by='"sessionId" and "message" with "parentUuid", "isSidechain" or "costUSD"',
        sniff=_sniff,
        load=load_claude_code,
        priority=30,
    )
)
