"""Codex CLI session logs: ``~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl``.

No real rollout is bundled here. The format below was established from public sources
(see tests/data/formats/codex/README.md): ccusage's Codex loader
(ryoppippi/ccusage apps/codex/src/data-loader.ts and apps/codex/CLAUDE.md), the ccusage
issues about repeated token_count events (#876, #884, #1288) and forked sessions (#1370),
and several independent parsers. Each line is ``{timestamp, type, payload}``:

- ``session_meta``: ``payload.id`` (the session), ``cwd``, ``cli_version``, ``originator``,
  ``model_provider``; a forked session also has ``forked_from_id`` and may replay its
  parent's ``session_meta`` and token history.
- ``turn_context``: ``payload.model`` — the model of the turns that follow.
- ``event_msg`` with ``payload.type: "token_count"``: ``payload.info`` is null (a rate-limit
  refresh) or ``{total_token_usage, last_token_usage, model_context_window}``, each usage
  ``{input_tokens, cached_input_tokens, output_tokens, reasoning_output_tokens,
  total_tokens}``.
- ``response_item``, other ``event_msg`` types, ``compacted``: not calls.

Token convention (OpenAI): ``input_tokens`` INCLUDES ``cached_input_tokens`` and
``output_tokens`` INCLUDES ``reasoning_output_tokens`` (``total_tokens`` = input + output).

A call is a token_count event whose running total advanced: Codex re-emits token_count with
an unchanged ``total_token_usage`` (UI and rate-limit refreshes), and those repeats are
skipped. The call's usage is ``last_token_usage``; without it, the difference of the running
totals (or the total itself after a reset). The request id is a hash of the session in force
(the last ``session_meta`` read) and the running total, so a parent's history replayed into a
fork under the parent's ``session_meta`` is recognized as already stored. The model is the
model of the last ``turn_context`` before the event; an event with no model is rejected
(naming the last turn_context before it when there is one: ``turn_context.model is null
(line 3)``), and one whose model is not a string (``"model": 123``) is rejected naming the
line that gave it. A turn_context without a model does not keep an earlier one's model: Codex
writes a whole ``TurnContextItem`` each turn, its ``model`` a required string
(openai/codex codex-rs/protocol/src/protocol.rs), so it is not a "no change" but a turn whose
model the log does not say (ccusage keeps the earlier model; a switched model would be
mispriced).
"""

from __future__ import annotations

import json
from pathlib import Path

from llmcost.formats import FileFormat, register_format
from llmcost.formats.lines import (
    INVALID_JSON,
    LINE_STATE,
    stage_lines,
    token_reason,
)

STRUCT = json.dumps({"timestamp": "VARCHAR", "type": "VARCHAR", "payload": "JSON"})

_FIELDS = {  # canonical part -> Codex usage key
    "in": "input_tokens",
    "cached": "cached_input_tokens",
    "write": "cache_write_input_tokens",
    "out": "output_tokens",
    "reason": "reasoning_output_tokens",
    "total": "total_tokens",
}


def _fields(obj: str, prefix: str) -> str:
    return ", ".join(
        f"llm_tok({obj} ->> '$.{key}') AS {prefix}_{part}" for part, key in _FIELDS.items()
    )


def _lag(part: str) -> str:
    return f"lag(t_{part}) OVER (PARTITION BY has_total ORDER BY line) AS p_{part}"


_BAD_TOKENS = token_reason(
    *(
        (f"{which}.{key}", f"{obj} ->> '$.{key}'")
        for which, obj in (("total_token_usage", "tot"), ("last_token_usage", "last"))
        for key in _FIELDS.values()
    )
)

_WHOLE_FILE = "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
_SO_FAR = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"


def _chosen(part: str) -> str:
    """The call's count of one part: last_token_usage, else the running-total delta."""
    return f"""CASE WHEN last IS NOT NULL THEN l_{part}
         WHEN p_total IS NULL OR reset THEN t_{part}
         ELSE t_{part} - coalesce(p_{part}, 0) END"""


RECORDS_SQL = f"""
WITH parsed AS (
  SELECT line, text, {LINE_STATE} AS state FROM lines
), rec AS (
  SELECT *, CASE WHEN state = 'ok' THEN json_transform(text, '{STRUCT}') END AS e FROM parsed
), f AS (
  SELECT line, text, state, e.timestamp AS ts_raw, e.type AS kind, e.payload AS p,
    -- (->> in parentheses after AND: DuckDB 1.5 binds it looser than AND)
    e.type = 'event_msg' AND (e.payload ->> '$.type') = 'token_count' AS is_token_count,
    CASE WHEN json_type(e.payload, '$.info') = 'OBJECT' THEN e.payload -> '$.info' END AS info,
    CASE WHEN e.type = 'session_meta' THEN e.payload END AS meta,
    -- every turn_context, with or without a model: its model; what is wrong with it when it
    -- is not a string (a number, an array); or, without one, what it has instead. The calls
    -- of its turns are rejected for either, naming its line. One without a model does not
    -- leave an earlier turn's model in force: Codex writes a whole turn_context each turn,
    -- its model a required string, and a model switch shows there; one without a model
    -- says nothing about its turn's model.
    CASE WHEN e.type = 'turn_context'
         THEN {{'model': llm_blank(e.payload ->> '$.model'),
               'fault': llm_not_string('turn_context.model', e.payload -> '$.model')
                        || ' (line ' || line || ')',
               'without': CASE WHEN llm_blank(e.payload ->> '$.model') IS NULL
                            THEN CASE json_type(e.payload, '$.model')
                                   WHEN 'NULL' THEN 'turn_context.model is null'
                                   WHEN 'VARCHAR' THEN 'turn_context.model is blank'
                                   ELSE 'turn_context has no model' END
                                 || ' (line ' || line || ')' END}} END AS tc,
    CASE WHEN e.type IN ('turn_context', 'session_meta') THEN llm_blank(e.payload ->> '$.cwd')
    END AS any_cwd
  FROM rec
), g AS (
  SELECT *,
    CASE WHEN json_type(info, '$.total_token_usage') = 'OBJECT'
         THEN info -> '$.total_token_usage' END AS tot,
    CASE WHEN json_type(info, '$.last_token_usage') = 'OBJECT'
         THEN info -> '$.last_token_usage' END AS last,
    first_value(meta IGNORE NULLS) OVER (ORDER BY line {_WHOLE_FILE}) AS file_meta,
    first_value(CASE WHEN meta IS NOT NULL THEN line END IGNORE NULLS)
      OVER (ORDER BY line {_WHOLE_FILE}) AS file_meta_line,
    last_value(meta ->> '$.id' IGNORE NULLS) OVER (ORDER BY line {_SO_FAR}) AS session_so_far,
    last_value(tc IGNORE NULLS) OVER (ORDER BY line {_SO_FAR}) AS turn,
    last_value(any_cwd IGNORE NULLS) OVER (ORDER BY line {_SO_FAR}) AS cwd
  FROM f
), h AS (
  SELECT *, {_fields("tot", "t")}, {_fields("last", "l")},
    is_token_count AND tot IS NOT NULL AS has_total
  FROM g
), lagged AS (
  SELECT *, {", ".join(_lag(part) for part in _FIELDS)} FROM h
), judged AS (
  SELECT *,
    p_total IS NOT NULL
      AND t_in IS NOT DISTINCT FROM p_in AND t_cached IS NOT DISTINCT FROM p_cached
      AND t_out IS NOT DISTINCT FROM p_out AND t_reason IS NOT DISTINCT FROM p_reason
      AND t_total IS NOT DISTINCT FROM p_total AS unchanged,
    p_total IS NOT NULL AND (t_total < p_total OR t_in < p_in OR t_out < p_out) AS reset,
    coalesce(info ->> '$.model', turn.model, file_meta ->> '$.model') AS model,
    CASE WHEN info ->> '$.model' IS NOT NULL
           THEN llm_not_string('token_count info.model', info -> '$.model')
         WHEN turn.model IS NOT NULL THEN turn.fault
         ELSE llm_not_string('session_meta.model', file_meta -> '$.model')
              || ' (line ' || file_meta_line || ')' END AS model_fault
  FROM lagged
)
SELECT line, text,
  CASE
    WHEN state = 'blank' THEN 'blank line'
    WHEN state = 'notobject' THEN 'JSON ' || llm_json_kind(text) || ', not an object'
    WHEN state = 'ok' AND NOT coalesce(is_token_count, FALSE)
      THEN 'not a token_count event (' || coalesce(kind, 'no type')
           || CASE WHEN kind = 'event_msg' THEN ': ' || coalesce(p ->> '$.type', '?') ELSE '' END
           || ')'
    WHEN state = 'ok' AND info IS NULL THEN 'token_count without usage (a rate-limit update)'
    WHEN state = 'ok' AND tot IS NULL AND last IS NULL
      THEN 'token_count without total_token_usage or last_token_usage'
    WHEN state = 'ok' AND unchanged
      THEN 'token_count repeats the running total (not a new call)'
  END AS skip_reason,
  CASE
    WHEN state = 'invalid' THEN {INVALID_JSON}
    WHEN {_BAD_TOKENS} IS NOT NULL THEN {_BAD_TOKENS}
    WHEN model IS NULL
      THEN coalesce(turn.without, 'no model (no turn_context before this token_count)')
    WHEN model_fault IS NOT NULL THEN model_fault
    ELSE 'timestamp ' || llm_ts_fault(ts_raw, llm_ts(ts_raw))
  END AS reject_reason,
  CASE WHEN tot IS NOT NULL
       THEN md5(concat_ws('|', 'codex', session_so_far, t_in, t_cached, t_out, t_reason, t_total))
       ELSE md5(text) END AS request_id,
  llm_ts(ts_raw) AS ts,
  llm_ts_naive(ts_raw) AS naive_ts,
  coalesce(lower(llm_blank(file_meta ->> '$.model_provider')), 'openai') AS provider,
  model,
  {_chosen("in")} AS input_tokens,
  {_chosen("cached")} AS cache_read_tokens,
  {_chosen("write")} AS cache_write_tokens,
  {_chosen("out")} AS output_tokens,
  {_chosen("reason")} AS reasoning_tokens,
  llm_blank(file_meta ->> '$.id') AS session_id,
  llm_blank(regexp_extract(cwd, '([^/\\\\]+)[/\\\\]*$', 1)) AS feature,
  json_merge_patch('{{}}', json_object(
    'cwd', cwd, 'cli_version', file_meta ->> '$.cli_version',
    'originator', file_meta ->> '$.originator',
    'forked_from_id', file_meta ->> '$.forked_from_id')) AS tags
FROM judged
"""


def load_codex(con, path: Path, source: str, ingest_id: int):
    """Stage the model calls of one Codex session log; see the module docstring."""
    return stage_lines(con, path, source, ingest_id, RECORDS_SQL, format="codex")


def _sniff(head: bytes, path: Path) -> bool:
    if b'"payload"' not in head:
        return False
    return b'"session_meta"' in head or b'"turn_context"' in head or b'"token_count"' in head


register_format(
    FileFormat(
        name="codex",
        description="Codex CLI session logs (~/.codex/sessions/**/rollout-*.jsonl): token_count "
        "events, repeated running totals counted once",
        recognized_by='"payload" with "session_meta", "turn_context" or "token_count"',
        sniff=_sniff,
        load=load_codex,
        priority=30,
    )
)
