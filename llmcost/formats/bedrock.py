"""AWS Bedrock model invocation logs (CloudWatch Logs or S3 delivery): one JSON record per line.

A record (``schemaType: "ModelInvocationLog"``) carries ``timestamp``, ``requestId``,
``modelId`` (a plain model id, a cross-region inference profile ``us.anthropic.…``, or an
ARN: kept as logged, pricing resolves it), ``operation`` (InvokeModel, Converse, …),
``region``, ``identity.arn`` (→ user_id) and the token counts ``input.inputTokenCount``,
``input.cacheReadInputTokenCount``, ``input.cacheWriteInputTokenCount`` and
``output.outputTokenCount``, with the request and response bodies in
``input.inputBodyJson`` / ``output.outputBodyJson`` when text logging is on.

Token convention: Bedrock's ``inputTokenCount`` EXCLUDES the cache reads and writes (as the
Anthropic API's ``input_tokens`` does: for a cache-writing Claude call the invocation metrics
read inputTokenCount 3, cacheWriteInputTokenCount 25037, matching the message's
input_tokens 3 and cache_creation_input_tokens 25037), so canonical input adds them back.
The 1-hour share of the cache writes is only in an Anthropic response body
(``usage.cache_creation.ephemeral_1h_input_tokens``), and so is the thinking part of the
output (``usage.output_tokens_details.thinking_tokens``: ``outputTokenCount``, like the
API's ``output_tokens``, already holds it): it is the call's reasoning_tokens.

Records of other schema types, and operations that are not model invocations, are skipped.
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
from llmcost.formats.sql import prompt_columns

_V = "VARCHAR"
STRUCT = json.dumps(
    {
        "schemaType": _V,
        "timestamp": _V,
        "requestId": _V,
        "modelId": _V,
        "operation": _V,
        "region": _V,
        "accountId": _V,
        "errorCode": _V,
        "identity": {"arn": _V},
        "input": {
            "inputTokenCount": _V,
            "cacheReadInputTokenCount": _V,
            "cacheWriteInputTokenCount": _V,
            "inputBodyJson": "JSON",
        },
        "output": {"outputTokenCount": _V, "outputBodyJson": "JSON"},
        "requestMetadata": "JSON",
    }
)

_BAD_TOKENS = token_reason(
    ("input.inputTokenCount", "b.input.inputTokenCount"),
    ("input.cacheReadInputTokenCount", "b.input.cacheReadInputTokenCount"),
    ("input.cacheWriteInputTokenCount", "b.input.cacheWriteInputTokenCount"),
    ("output.outputTokenCount", "b.output.outputTokenCount"),
)

# a modelId the struct read as VARCHAR that was not a string in the line (a number, a list)
_BAD_MODEL = "llm_name_fault('modelId', b.modelId, text -> '$.modelId')"

RECORDS_SQL = f"""
WITH parsed AS (
  SELECT line, text, {LINE_STATE} AS state FROM lines
), rec AS (
  SELECT *, CASE WHEN state = 'ok' THEN json_transform(text, '{STRUCT}') END AS b FROM parsed
), f AS (
  SELECT line, text, state, b,
    b.input.inputBodyJson AS ib, b.output.outputBodyJson AS ob,
    llm_tok(b.input.inputTokenCount) AS n_in,
    llm_tok(b.input.cacheReadInputTokenCount) AS n_read,
    llm_tok(b.input.cacheWriteInputTokenCount) AS n_write,
    llm_tok(json_extract_string(b.output.outputBodyJson,
                                '$.usage.cache_creation.ephemeral_1h_input_tokens')) AS n_write_1h,
    llm_tok(json_extract_string(b.output.outputBodyJson,
                                '$.usage.output_tokens_details.thinking_tokens')) AS n_think,
    llm_tok(b.output.outputTokenCount) AS n_out
  FROM rec
), g AS (
  SELECT *,
    CASE WHEN json_type(ib, '$.messages') = 'ARRAY' THEN json_extract(ib, '$.messages') END AS msgs,
    coalesce(ib ->> '$.inputText', ib ->> '$.prompt') AS prompt_plain,
    CASE json_type(ib, '$.system')
      WHEN 'VARCHAR' THEN ib ->> '$.system'
      WHEN 'ARRAY' THEN llm_join(json_extract_string(ib, '$.system[*].text'))
    END AS sys_text
  FROM f
)
SELECT line, text,
  CASE
    WHEN state = 'blank' THEN 'blank line'
    WHEN state = 'ok' AND b.schemaType IS DISTINCT FROM 'ModelInvocationLog'
      THEN 'not a model invocation record (schemaType ' || coalesce(b.schemaType, 'missing') || ')'
    WHEN state = 'ok' AND b.operation IS NOT NULL AND NOT (b.operation ILIKE 'invoke%'
                                                         OR b.operation ILIKE 'converse%')
      THEN 'operation ' || b.operation || ' is not a model invocation'
  END AS skip_reason,
  CASE
    WHEN state = 'invalid' THEN {INVALID_JSON}
    WHEN state = 'notobject' THEN 'JSON ' || llm_json_kind(text) || ', not an object'
    WHEN llm_blank(b.modelId) IS NULL THEN 'no modelId'
    WHEN {_BAD_MODEL} IS NOT NULL THEN {_BAD_MODEL}
    WHEN {_BAD_TOKENS} IS NOT NULL THEN {_BAD_TOKENS}
    ELSE 'timestamp ' || llm_ts_fault(b.timestamp, llm_ts(b.timestamp))
  END AS reject_reason,
  coalesce(llm_blank(b.requestId), md5(text)) AS request_id,
  llm_ts(b.timestamp) AS ts,
  llm_ts_naive(b.timestamp) AS naive_ts,
  'aws-bedrock' AS provider,
  b.modelId AS model,
  CASE WHEN n_in IS NOT NULL THEN n_in + coalesce(n_read, 0) + coalesce(n_write, 0) END
    AS input_tokens,
  n_read AS cache_read_tokens,
  CASE WHEN n_write IS NOT NULL THEN greatest(n_write - coalesce(n_write_1h, 0), 0) END
    AS cache_write_tokens,
  CASE WHEN n_write IS NOT NULL THEN n_write_1h END AS cache_write_1h_tokens,
  n_out AS output_tokens,
  CASE WHEN n_out IS NOT NULL THEN n_think END AS reasoning_tokens,
  'standard' AS service_tier,
  llm_blank(b.identity.arn) AS user_id,
  json_merge_patch(
    json_object('operation', b.operation, 'region', b.region, 'account_id', b.accountId),
    CASE WHEN json_type(b.requestMetadata) = 'OBJECT' THEN b.requestMetadata ELSE '{{}}' END
  ) AS tags,
  TRY_CAST(json_extract_string(ob, '$.metrics.latencyMs') AS DOUBLE) AS latency_ms,
  CASE WHEN llm_blank(b.errorCode) IS NOT NULL THEN 'error' ELSE 'ok' END AS status,
  -- (an answer with tool calls is one whatever its stop reason: a forced tool choice)
  llm_finish(CASE WHEN len(json_extract(ob, '$.output.message.content[*].toolUse')) > 0
                    OR list_contains(json_extract_string(ob, '$.content[*].type'), 'tool_use')
                  THEN 'tool_calls'
                  ELSE coalesce(ob ->> '$.stop_reason', ob ->> '$.stopReason',
                                ob ->> '$.results[0].completionReason') END) AS finish_reason,
  llm_tok(coalesce(ib ->> '$.max_tokens', ib ->> '$.inferenceConfig.maxTokens',
                   ib ->> '$.textGenerationConfig.maxTokenCount', ib ->> '$.max_gen_len'))
    AS max_tokens,
  {prompt_columns()},
  sys_text AS system_text,
  -- a tool call's input (a tool_use or toolUse block's) is part of the answer, after the text
  coalesce(
    llm_join(list_transform(json_extract(ob, '$.content[*]'),
             lambda c: CASE WHEN c ->> 'type' = 'text' THEN c ->> 'text'
                            WHEN c ->> 'type' = 'tool_use' THEN CAST(c -> 'input' AS VARCHAR)
                       END)),
    llm_join(list_concat(json_extract_string(ob, '$.output.message.content[*].text'),
                         json_extract_string(ob, '$.output.message.content[*].toolUse.input'))),
    llm_join(json_extract_string(ob, '$.results[*].outputText')),
    ob ->> '$.generation'
  ) AS completion_text
FROM g
"""


def load_bedrock(con, path: Path, source: str, ingest_id: int, line_offset: int = 0):
    """Stage the invocation records of ``path``; see the module docstring."""
    return stage_lines(
        con, path, source, ingest_id, RECORDS_SQL, format="bedrock", line_offset=line_offset
    )


def _sniff(head: bytes, path: Path) -> bool:
    return b'"schemaType"' in head and b"ModelInvocationLog" in head


register_format(
    FileFormat(
        name="bedrock",
        description="AWS Bedrock model invocation logs (CloudWatch / S3 delivery), one JSON "
        "record per line",
        recognized_by='"schemaType": "ModelInvocationLog" in the first 64 KB',
        sniff=_sniff,
        load=load_bedrock,
        priority=30,
        line_based=True,
    )
)
