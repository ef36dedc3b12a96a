"""OpenAI Batch API files: the output (and error) file, or the input file of a batch.

OUTPUT lines (``BatchRequestOutput``): ``{id, custom_id, response: {status_code, request_id,
body}, error}`` where ``body`` is the endpoint's response (a chat completion, a Responses API
object, embeddings). Every line is a call priced at the batch rates (service_tier 'batch').
A failed line (``error`` set, or ``status_code`` >= 400) is kept with status 'error': with no
usage it bills nothing (0 tokens), but it is counted; its model is 'unknown' when the line
does not name one (an error line carries no response body).

INPUT lines (``BatchRequestInput``): ``{custom_id, method, url, body}``: a batch before it
runs. There is no usage yet: the tokens are left NULL and the prompt is staged, so the
tokenizer counts the input (token_source 'counted'); the output stays unknown. Ingest either
the input file (a forecast) or the output file of a batch, not both: they cannot be matched
across batches (custom_id is unique only within one batch).

The two are told apart line by line by their keys (``response``/``error`` vs ``url``/``body``).
Spec: openai-openapi ``BatchRequestInput`` / ``BatchRequestOutput``.
"""

from __future__ import annotations

import json
from pathlib import Path

from llmcost.formats import FileFormat, register_format
from llmcost.formats.lines import INVALID_JSON, LINE_STATE, stage_lines
from llmcost.formats.sql import prompt_columns
from llmcost.formats.usage import AUTO_STYLE_SQL, bad_field_sql, column_sql, tokens_sql

_V = "VARCHAR"
STRUCT = json.dumps(
    {
        "id": _V,
        "custom_id": _V,
        "method": _V,
        "url": _V,
        "response": {"status_code": _V, "request_id": _V, "body": "JSON"},
        "error": "JSON",
        "body": "JSON",
    }
)


def _bad_model(body: str, field: str) -> str:
    """A model ->> read as text that was not a string in the body (a number, a list)."""
    return f"llm_name_fault('{field}', {body} ->> '$.model', {body} -> '$.model')"


RECORDS_SQL = f"""
WITH parsed AS (
  SELECT line, text, {LINE_STATE} AS state FROM lines
), rec AS (
  SELECT *, CASE WHEN state = 'ok' THEN json_transform(text, '{STRUCT}') END AS b FROM parsed
), kinds AS (
  SELECT *,
    CASE WHEN state <> 'ok' THEN NULL
         WHEN json_exists(text, '$.response') OR json_exists(text, '$.error') THEN 'output'
         WHEN json_type(b.body) = 'OBJECT' AND b.url IS NOT NULL THEN 'input'
    END AS kind,
    b.response.body AS rb, b.body AS q
  FROM rec
), used AS (
  SELECT *, CASE WHEN kind = 'output' AND json_type(rb, '$.usage') = 'OBJECT'
                 THEN json_extract(rb, '$.usage') END AS u
  FROM kinds
), styled AS (
  SELECT *, {AUTO_STYLE_SQL} AS usage_style, {tokens_sql()} AS u_tok,
    CASE WHEN kind = 'output' AND (coalesce(json_type(b.error), 'NULL') <> 'NULL'
                                   OR TRY_CAST(b.response.status_code AS INTEGER) >= 400
                                   OR json_type(rb, '$.error') = 'OBJECT')
         THEN 'error' ELSE 'ok' END AS status
  FROM used
), f AS (
  SELECT *,
    {column_sql("input")} AS n_in,
    {column_sql("cache_read")} AS n_read,
    {column_sql("cache_write")} AS n_write,
    {column_sql("output")} AS n_out,
    {column_sql("reasoning")} AS n_reasoning,
    {bad_field_sql()} AS bad_usage,
    coalesce(rb ->> '$.created', rb ->> '$.created_at') AS created_raw,
    CASE WHEN json_type(q, '$.messages') = 'ARRAY' THEN json_extract(q, '$.messages')
         WHEN json_type(q, '$.input') = 'ARRAY' THEN json_extract(q, '$.input')
         -- a Responses API input string is one user message (framed as a chat prompt)
         WHEN json_type(q, '$.input') = 'VARCHAR' AND b.url LIKE '%/responses'
           THEN json_array(json_object('role', 'user', 'content', q ->> '$.input')) END AS msgs,
    CASE WHEN json_type(q, '$.input') = 'VARCHAR' THEN q ->> '$.input'
         WHEN json_type(q, '$.prompt') = 'VARCHAR' THEN q ->> '$.prompt' END AS prompt_plain,
    CASE WHEN json_type(q, '$.instructions') = 'VARCHAR' THEN q ->> '$.instructions' END
      AS instructions,
    -- the function tools the request sends (legacy: functions); the body is parsed for
    -- them only when it names them
    CASE WHEN kind = 'input' AND (contains(CAST(q AS VARCHAR), '"tools"')
                                  OR contains(CAST(q AS VARCHAR), '"functions"'))
           THEN coalesce(json_extract(q, '$.tools'), json_extract(q, '$.functions')) END
      AS tools_json,
    CASE WHEN kind = 'input' AND contains(CAST(q AS VARCHAR), '"tool_choice"')
           THEN CAST(json_extract(q, '$.tool_choice') AS VARCHAR) END AS tool_choice
  FROM styled
)
SELECT line, text,
  CASE WHEN state = 'blank' THEN 'blank line' END AS skip_reason,
  CASE
    WHEN state = 'invalid' THEN {INVALID_JSON}
    WHEN state = 'notobject' THEN 'JSON ' || llm_json_kind(text) || ', not an object'
    WHEN kind IS NULL
      THEN 'neither a batch output line (response/error) nor a batch input line (url/body)'
    WHEN kind = 'input' AND llm_blank(q ->> '$.model') IS NULL THEN 'no body.model'
    WHEN kind = 'input' AND {_bad_model("q", "body.model")} IS NOT NULL
      THEN {_bad_model("q", "body.model")}
    WHEN kind = 'output' AND {_bad_model("rb", "response.body.model")} IS NOT NULL
      THEN {_bad_model("rb", "response.body.model")}
    WHEN bad_usage IS NOT NULL THEN bad_usage
    ELSE 'timestamp ' || llm_ts_fault(created_raw, llm_ts(created_raw))
  END AS reject_reason,
  CASE WHEN kind = 'output' THEN coalesce(llm_blank(b.response.request_id), llm_blank(b.id),
                                          md5(text))
       ELSE md5(text) END AS request_id,
  llm_ts(created_raw) AS ts,
  -- the provider the model names (a batch file of an OpenAI-compatible API), else OpenAI
  coalesce(llm_provider_of(CASE WHEN kind = 'input' THEN q ->> '$.model'
                                ELSE rb ->> '$.model' END), 'openai') AS provider,
  CASE WHEN kind = 'input' THEN q ->> '$.model'
       ELSE coalesce(llm_blank(rb ->> '$.model'), 'unknown') END AS model,
  CASE WHEN kind = 'output' AND u IS NULL AND status = 'error' THEN 0 ELSE n_in END
    AS input_tokens,
  n_read AS cache_read_tokens,
  n_write AS cache_write_tokens,
  CASE WHEN kind = 'output' AND u IS NULL AND status = 'error' THEN 0
       WHEN n_in IS NOT NULL THEN coalesce(n_out, 0) END AS output_tokens,
  n_reasoning AS reasoning_tokens,
  'batch' AS service_tier,
  json_object('custom_id', b.custom_id, 'batch_request_id', b.id, 'url', b.url,
              'status_code', TRY_CAST(b.response.status_code AS INTEGER),
              'error_code', coalesce(b.error ->> '$.code', rb ->> '$.error.code')) AS tags,
  CASE WHEN kind = 'output' THEN status ELSE 'ok' END AS status,
  llm_finish(coalesce(
    json_extract_string(rb, '$.choices[0].finish_reason'),
    -- (->> in parentheses beside AND: DuckDB 1.5 binds it looser than AND)
    CASE WHEN (rb ->> '$.object') = 'response' AND (rb ->> '$.status') = 'incomplete'
           THEN rb ->> '$.incomplete_details.reason'
         WHEN (rb ->> '$.object') = 'response' AND (rb ->> '$.status') = 'completed' THEN 'stop'
    END)) AS finish_reason,
  llm_tok(coalesce(q ->> '$.max_tokens', q ->> '$.max_completion_tokens',
                   q ->> '$.max_output_tokens')) AS max_tokens,
  {prompt_columns("instructions")},
  -- the system prompt: the messages' first when it is one (as the JSON-lines reader takes
  -- it), else the Responses API's instructions; without it the query families, prompt
  -- bloat and prompt-caching views saw none, and calls of two system prompts were taken
  -- for near-duplicates of one
  CASE WHEN json_extract_string(msgs, '$[0].role') IN ('system', 'developer')
         THEN llm_text(json_extract(msgs, '$[0].content'))
       ELSE instructions END AS system_text,
  CASE WHEN prompt_text IS NOT NULL AND json_type(tools_json) = 'ARRAY'
            AND CAST(tools_json AS VARCHAR) <> '[]' THEN CAST(tools_json AS VARCHAR) END
    AS tools_text,
  tool_choice,
  coalesce(
    llm_join(json_extract_string(rb, '$.choices[*].message.content')),
    llm_join(json_extract_string(rb, '$.output[*].content[*].text'))
  ) AS completion_text
FROM f
"""


def load_batch(con, path: Path, source: str, ingest_id: int, line_offset: int = 0):
    """Stage the lines of a batch output (or input) file; see the module docstring."""
    return stage_lines(
        con, path, source, ingest_id, RECORDS_SQL, format="openai-batch", line_offset=line_offset
    )


def _sniff(head: bytes, path: Path) -> bool:
    if b'"custom_id"' not in head:
        return False
    output = b'"response"' in head and (b'"status_code"' in head or b'"error"' in head)
    return output or (b'"url"' in head and b'"body"' in head)


register_format(
    FileFormat(
        name="openai-batch",
        description="OpenAI Batch API output file (priced at batch rates; failed requests "
        "counted) or input file (a forecast: input tokens counted from the prompts)",
        recognized_by='"custom_id" with "response" (output) or "url" + "body" (input)',
        sniff=_sniff,
        load=load_batch,
        priority=30,
        line_based=True,
    )
)
