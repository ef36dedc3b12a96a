"""SQL building blocks shared by the JSON-based adapters.

Every log line is parsed once into one STRUCT (``RECORD_STRUCT``): the union of the fields
that the shapes we read can carry. Scalars are read as VARCHAR (so ``"412"`` and ``412``
both work and a wrong type can be reported), nested things as JSON.
"""

from __future__ import annotations

import json

_VARCHAR = [
    "id",
    "request_id",
    "responseId",
    "response_id",
    "object",
    "type",
    "role",
    "model",
    "modelVersion",
    "model_version",
    "modelId",
    "provider",
    "timestamp",
    "ts",
    "time",
    "created_at",
    "created",
    "createTime",
    "create_time",
    "start_time",
    "startTime",
    "user_id",
    "user",
    "session_id",
    "conversation_id",
    "feature",
    "input_tokens",
    "output_tokens",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "reasoning_tokens",
    "latency_ms",
    "duration",
    "duration_ms",
    "status",
    "finish_reason",
    "stop_reason",
    "max_tokens",
    "max_output_tokens",
    "max_completion_tokens",
    "service_tier",
    "cost",
    "cost_usd",
    "response_cost",
    "stopReason",
]
_JSON = [
    "system",
    "instructions",
    "systemInstruction",
    "messages",
    "prompt",
    "input",
    "contents",
    "response",
    "completion",
    "output",
    "request",
    "choices",
    "content",
    "candidates",
    "usage",
    "usageMetadata",
    "usage_metadata",
    "metadata",
    "tags",
    "error",
    "incomplete_details",
    "generationConfig",
    # last, and in this order: llm_record_id hashes a record without them as before
    "tools",
    "functions",
    "tool_choice",
    # flat records' top-level audio counts (the canonical names, as the export writes them)
    "input_audio_tokens",
    "cache_read_audio_tokens",
    "output_audio_tokens",
]

RECORD_STRUCT = json.dumps({**{k: "VARCHAR" for k in _VARCHAR}, **{k: "JSON" for k in _JSON}})

# Macros every adapter may use. Created once per connection by ``install_macros``.
MACROS = r"""
-- A token count: a non-negative integer below 10^15 (exact as a DOUBLE, far beyond any
-- call, and no BIGINT cast or sum over calls can overflow); anything else is NULL, and
-- where the log had a value, llm_bad_tok tells the record is to be rejected.
CREATE OR REPLACE TEMP MACRO llm_tok(x) AS (
    CASE WHEN TRY_CAST(x AS DOUBLE) >= 0 AND TRY_CAST(x AS DOUBLE) < 1e15
              AND TRY_CAST(x AS DOUBLE) = floor(TRY_CAST(x AS DOUBLE))
         THEN CAST(TRY_CAST(x AS DOUBLE) AS BIGINT) END);
CREATE OR REPLACE TEMP MACRO llm_bad_tok(x) AS (x IS NOT NULL AND llm_tok(x) IS NULL);
-- What is wrong with a value llm_bad_tok refuses, for the reject reason.
CREATE OR REPLACE TEMP MACRO llm_tok_fault(x) AS (
    CASE WHEN TRY_CAST(x AS DOUBLE) >= 1e15 AND TRY_CAST(x AS DOUBLE) = floor(TRY_CAST(x AS DOUBLE))
         THEN 'is too large for a token count (10^15 or more)'
         ELSE 'is not a non-negative integer' END);
-- OpenAI-style counts with cache details (cr: reads, cw: writes) → ALL input. OpenAI's
-- prompt_tokens holds both; gateways that add Anthropic's cache fields to OpenAI's keys
-- (LiteLLM) disagree by version on the writes: most add them to prompt_tokens, some only
-- the reads, and a raw Anthropic count holds neither. Told by which fit inside it.
CREATE OR REPLACE TEMP MACRO llm_prompt_input(prompt, cr, cw) AS (
    CASE
      WHEN prompt IS NULL THEN NULL
      WHEN prompt >= coalesce(cr, 0) + coalesce(cw, 0) THEN prompt
      WHEN prompt >= coalesce(cr, 0) THEN prompt + coalesce(cw, 0)
      ELSE prompt + coalesce(cr, 0) + coalesce(cw, 0)
    END);
-- completion_tokens → ALL output: it holds the reasoning, unless it is smaller than that
-- (a gateway that passed a provider's reasoning-less count through).
CREATE OR REPLACE TEMP MACRO llm_completion_output(completion, r) AS (
    completion + CASE WHEN completion < r THEN r ELSE 0 END);
-- An id for a record the log gave none: its whole content (the record as parsed, the same
-- whichever reader parsed it), so the same call logged twice is one call. The struct's last
-- keys were read later (tools and functions, then tool_choice, then the audio counts): a
-- record without them is hashed without those keys, as it was before they were read, so
-- the ids of records already stored do not change.
CREATE OR REPLACE TEMP MACRO llm_record_json(p) AS (
    CASE WHEN p.input_audio_tokens IS NULL AND p.cache_read_audio_tokens IS NULL
              AND p.output_audio_tokens IS NULL
         THEN left(CAST(to_json(p) AS VARCHAR), -length(',"input_audio_tokens":null,'
                   || '"cache_read_audio_tokens":null,"output_audio_tokens":null}')) || '}'
    END);
CREATE OR REPLACE TEMP MACRO llm_record_id(p) AS (
    CASE WHEN llm_record_json(p) IS NULL THEN md5(CAST(to_json(p) AS VARCHAR))
         WHEN p.tools IS NULL AND p.functions IS NULL AND p.tool_choice IS NULL
         THEN md5(left(llm_record_json(p),
                       -length(',"tools":null,"functions":null,"tool_choice":null}')) || '}')
         WHEN p.tool_choice IS NULL
         THEN md5(left(llm_record_json(p), -length(',"tool_choice":null}')) || '}')
         ELSE md5(llm_record_json(p)) END);
CREATE OR REPLACE TEMP MACRO llm_blank(x) AS (CASE WHEN trim(x) = '' THEN NULL ELSE x END);
-- A time that a log writes for "not set": epoch 0 (0, "0", 0.0 in any unit, or as ISO
-- 1970-01-01T00:00:00Z) and the zero value of Go's time.Time and .NET's DateTime
-- (0001-01-01T00:00:00). llm_ts reads it as no timestamp, as if the log had left it out: a
-- call on 1970-01-01 would be priced at 1970's prices (none) and be a day 56 years back.
CREATE OR REPLACE TEMP MACRO llm_ts_unset(t) AS (
    t = TIMESTAMPTZ '1970-01-01 00:00:00+00' OR t = TIMESTAMPTZ '0001-01-01 00:00:00+00');
-- The time in text t, plus the decimal fraction of digits f (none: 0) of a unit of u seconds.
CREATE OR REPLACE TEMP MACRO llm_ts_plus(t, f, u) AS (
    TRY_CAST(t AS TIMESTAMPTZ)
    + to_microseconds(CAST(round(coalesce(TRY_CAST('0.' || f AS DOUBLE), 0) * u * 1e6) AS BIGINT)));
-- ISO 8601's basic format, a date and time without dashes or colons (20261128T103000Z,
-- 20261128T103000,5+0200, 20261128T1030), in the extended one; any other text as it is. Only
-- a whole basic date and time, with its T, is: the two formats mixed are not ISO 8601, and
-- a bare 20261128 is a number (epoch seconds, before 2000: rejected).
CREATE OR REPLACE TEMP MACRO llm_ts_extended(s) AS (
    regexp_replace(regexp_replace(regexp_replace(s,
      '^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)([.,]\d+)?(Z|[+-]\d\d(?:\d\d)?)?$',
      '\1-\2-\3T\4:\5:\6\7\8'),
      '^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)([.,]\d+)?(Z|[+-]\d\d(?:\d\d)?)?$',
      '\1-\2-\3T\4:\5\6\7'),
      '^(\d{4})(\d\d)(\d\d)T(\d\d)([.,]\d+)?(Z|[+-]\d\d(?:\d\d)?)?$', '\1-\2-\3T\4\5\6'));
-- The extended forms DuckDB does not read:
-- - a decimal fraction of the lowest-order part, which ISO 8601 allows on any, with a
--   comma or a dot: of the minute (10:00,5 is 10:00:30, not 10:00:00.5), of the hour
--   (T10,25 is 10:15), and the hour alone (T10); the fraction is added to the time without
--   it (to the microsecond), its zone kept;
-- - a comma as the decimal sign of the second (23:59:59,5);
-- - a leap second (23:59:60, 23:59:60.5; in a zone's time, any minute's :60), read as the
--   last microsecond of its minute, 23:59:59.999999. The call stays in the minute, hour and
--   day it was logged in, after the second before it; the next second, 00:00:00, would move
--   it to the next day, and a leap second is the last of June 30 or December 31: to another
--   month, a budget's other period, even another year.
-- What follows a fraction of a minute or an hour is its zone (Z, +02:00, ' UTC'), or the
-- text is not read: 10:00,5:30 is no time.
CREATE OR REPLACE TEMP MACRO llm_ts_other(e) AS (
    CASE
      WHEN regexp_matches(e, '^\d{4}-\d\d-\d\d[T ]\d\d:\d\d[.,]\d+(?:[ +A-Za-z-].*)?$')
        THEN llm_ts_plus(regexp_replace(e, '^(.{16})[.,](\d+)', '\1'),
                         regexp_extract(e, '^.{16}[.,](\d+)', 1), 60)
      WHEN regexp_matches(e, '^\d{4}-\d\d-\d\dT\d\d(?:[.,]\d+)?(?:[ +A-Za-z-].*)?$')
        THEN llm_ts_plus(regexp_replace(e, '^(.{13})(?:[.,](\d+))?', '\1:00'),
                         regexp_extract(e, '^.{13}[.,](\d+)', 1), 3600)
      ELSE TRY_CAST(regexp_replace(regexp_replace(e, '(\d\d:\d\d):60([.,]\d+)?', '\1:59.999999'),
                                   '(\d\d:\d\d:\d\d),(\d)', '\1.\2') AS TIMESTAMPTZ)
    END);
-- ISO 8601 as DuckDB reads it, and forms of it that DuckDB does not (llm_ts_other): only a
-- text DuckDB did not read is rewritten (COALESCE evaluates its second argument only for the
-- rows whose first is NULL), so a log of times DuckDB reads pays nothing for them.
CREATE OR REPLACE TEMP MACRO llm_ts_iso(s) AS (
    coalesce(TRY_CAST(s AS TIMESTAMPTZ), llm_ts_other(llm_ts_extended(s))));
CREATE OR REPLACE TEMP MACRO llm_ts(s) AS (
    CASE
      WHEN s IS NULL THEN NULL
      -- (a text of 1969, 1970 or year 1 may be a time not set: only those are parsed twice)
      WHEN TRY_CAST(s AS DOUBLE) IS NULL
        THEN CASE WHEN left(ltrim(s), 4) IN ('1970', '1969', '0001')
                       AND llm_ts_unset(llm_ts_iso(trim(s))) THEN NULL
                  ELSE llm_ts_iso(trim(s)) END
      WHEN TRY_CAST(s AS DOUBLE) = 0 THEN NULL
      WHEN abs(TRY_CAST(s AS DOUBLE)) < 1e11 THEN to_timestamp(TRY_CAST(s AS DOUBLE))
      WHEN abs(TRY_CAST(s AS DOUBLE)) < 1e14 THEN to_timestamp(TRY_CAST(s AS DOUBLE) / 1000)
      WHEN abs(TRY_CAST(s AS DOUBLE)) < 1e17
        THEN make_timestamp(TRY_CAST(trim(s) AS BIGINT))::TIMESTAMPTZ
      ELSE make_timestamp(TRY_CAST(trim(s) AS BIGINT) // 1000)::TIMESTAMPTZ
    END);
-- What is wrong with a timestamp s that llm_ts read as t, for the reject reason ('timestamp
-- ' || it), else NULL: s is not a time, or is one before 2000 (no model was called then: a
-- clock that was not set, a wrong unit, a negative epoch), or in 2100 or later (no log is
-- written that far ahead: a wrong unit, a year mistyped, a date out of Python's range such
-- as 99999-01-01 or 'infinity'). Fixed years, not today's date: a line is rejected or not
-- whenever it is read. A time not set (llm_ts_unset) is not wrong: the call has no
-- timestamp, as if the log had left it out.
CREATE OR REPLACE TEMP MACRO llm_ts_fault(s, t) AS (
    -- (BETWEEN, inclusive, to the last microsecond of 2099: t, often llm_ts(s) itself, is
    -- computed once, where two comparisons would compute it twice for every line)
    CASE WHEN t BETWEEN TIMESTAMPTZ '2000-01-01 00:00:00+00'
                    AND TIMESTAMPTZ '2099-12-31 23:59:59.999999+00' OR s IS NULL THEN NULL
         WHEN t >= TIMESTAMPTZ '2100-01-01 00:00:00+00' THEN 'after 2099: ' || left(s, 40)
         -- a date without dashes is a number, epoch seconds: say what it was not read as
         WHEN t IS NOT NULL AND regexp_full_match(trim(s), '(19|20)\d{6}')
              AND TRY_STRPTIME(trim(s), '%Y%m%d') IS NOT NULL
           THEN 'before 2000: ' || trim(s) || ' (a number: epoch seconds; a date is written '
                || strftime(TRY_STRPTIME(trim(s), '%Y%m%d'), '%Y-%m-%d') || ')'
         WHEN t IS NOT NULL THEN 'before 2000: ' || left(s, 40)
         WHEN TRY_CAST(s AS DOUBLE) = 0 OR llm_ts_unset(llm_ts_iso(trim(s)))
           THEN NULL
         ELSE 'not understood: ' || left(s, 40) END);
-- (a text of 1970, 1969 or year 1 is not set, or before 2000: either way not a call's time)
CREATE OR REPLACE TEMP MACRO llm_ts_naive(s) AS (
    s IS NOT NULL AND TRY_CAST(s AS DOUBLE) IS NULL AND right(trim(s), 1) NOT IN ('Z', 'z')
    AND NOT regexp_matches(trim(s), '([+-]\d\d(:?\d\d)?|UTC)$')
    AND left(ltrim(s), 4) NOT IN ('1970', '1969', '0001'));
CREATE OR REPLACE TEMP MACRO llm_jtype(j) AS (
    -- json_type(j) without parsing j: DuckDB writes JSON values minified, so the first
    -- character tells arrays, objects and strings apart (anything else is short: parse it)
    CASE left(j, 1) WHEN '[' THEN 'ARRAY' WHEN '{' THEN 'OBJECT' WHEN '"' THEN 'VARCHAR'
         ELSE json_type(j) END);
-- A JSON value's type in JSON's words (json_type says VARCHAR, UBIGINT, DOUBLE...): string,
-- number, array, object, true, false or null; llm_json_a with its article ('a number').
CREATE OR REPLACE TEMP MACRO llm_json_kind(j) AS (
    CASE json_type(j) WHEN 'VARCHAR' THEN 'string' WHEN 'ARRAY' THEN 'array'
         WHEN 'OBJECT' THEN 'object' WHEN 'NULL' THEN 'null'
         WHEN 'BOOLEAN' THEN json_extract_string(j, '$') ELSE 'number' END);
CREATE OR REPLACE TEMP MACRO llm_json_a(j) AS (
    CASE llm_json_kind(j) WHEN 'string' THEN 'a string' WHEN 'number' THEN 'a number'
         WHEN 'array' THEN 'an array' WHEN 'object' THEN 'an object'
         ELSE llm_json_kind(j) END);
-- A value that must be a string (a model name) was read as VARCHAR from a struct, which casts
-- a number or an array to text silently: what is wrong with it, found in the raw JSON.
-- llm_not_string(field, v): v is the raw value at that field (NULL or null: nothing wrong).
CREATE OR REPLACE TEMP MACRO llm_not_string(field, v) AS (
    CASE WHEN v IS NOT NULL AND json_type(v) NOT IN ('VARCHAR', 'NULL')
         THEN field || ' is ' || llm_json_a(v) || ', not a name' END);
-- A VARCHAR read from a struct that may have been another JSON value (a number, an array,
-- true...): only a text that is valid JSON by itself ('123', '["gpt-4o"]') may be.
CREATE OR REPLACE TEMP MACRO llm_maybe_not_string(x) AS (coalesce(json_valid(x), false));
-- llm_not_string for a value read as VARCHAR (from a struct, or by ->>), its raw JSON raw
-- looked at only when the VARCHAR may not have been a string.
CREATE OR REPLACE TEMP MACRO llm_name_fault(field, value, raw) AS (
    CASE WHEN llm_maybe_not_string(value) THEN llm_not_string(field, raw) END);
-- llm_not_string for the first of the fields whose value (vals, raw JSON) is set (not
-- null, not a blank string): the one a coalesce over them picks ('' when it is a string).
CREATE OR REPLACE TEMP MACRO llm_first_not_string(fields, vals) AS (
    list_filter(list_transform(list_zip(fields, vals),
        lambda c: CASE WHEN c[2] IS NOT NULL AND json_type(c[2]) <> 'NULL'
                            AND NOT (json_type(c[2]) = 'VARCHAR' AND trim(c[2] ->> '$') = '')
                       THEN coalesce(llm_not_string(c[1], c[2]), '') END),
      lambda r: r IS NOT NULL)[1]);
-- The same for a value picked by a coalesce over those fields, read as VARCHAR: its raw
-- JSON values are looked at only when it may not have been a string.
CREATE OR REPLACE TEMP MACRO llm_names_fault(value, fields, vals) AS (
    CASE WHEN llm_maybe_not_string(value)
         THEN nullif(llm_first_not_string(fields, vals), '') END);
CREATE OR REPLACE TEMP MACRO llm_model_fault_of(v) AS (llm_first_not_string(
    CASE WHEN json_type(v[1]) = 'OBJECT'
         THEN ['response.model', 'response.modelVersion', 'response.model_version']
         ELSE ['model', 'modelVersion', 'model_version'] END
    || CASE WHEN json_type(v[2]) = 'OBJECT' THEN ['request.model', 'request.modelId']
            ELSE ['model', 'modelId'] END || ['model', 'modelId'],
    CASE WHEN json_type(v[1]) = 'OBJECT' THEN [v[3], v[4], v[5]] ELSE [v[8], v[9], v[10]] END
    || CASE WHEN json_type(v[2]) = 'OBJECT' THEN [v[6], v[7]] ELSE [v[8], v[11]] END
    || [v[8], v[11]]));
-- The JSON-lines reader's model (formats/jsonl.py: the response's model, modelVersion or
-- model_version, the request's model or modelId, then the record's) when it is not a
-- string: what it is, from the line's text t (the fast reader keeps none: with t NULL, a
-- model that may not be a string is a reason to read the line again, the careful way).
CREATE OR REPLACE TEMP MACRO llm_line_model_fault(t, model) AS (
    CASE WHEN NOT llm_maybe_not_string(model) THEN NULL
         WHEN t IS NULL THEN 'model may not be a string (the line is read again)'
         ELSE nullif(llm_model_fault_of(json_extract(t, [
             '$.response', '$.request', '$.response.model', '$.response.modelVersion',
             '$.response.model_version', '$.request.model', '$.request.modelId', '$.model',
             '$.modelVersion', '$.model_version', '$.modelId'])), '') END);
CREATE OR REPLACE TEMP MACRO llm_text(j) AS (
    CASE WHEN json_type(j) = 'VARCHAR' THEN j ->> '$'
         WHEN j IS NULL OR json_type(j) = 'NULL' THEN NULL
         ELSE CAST(j AS VARCHAR) END);
CREATE OR REPLACE TEMP MACRO llm_join(l) AS (
    CASE WHEN l IS NULL OR len(list_filter(l, lambda x: x IS NOT NULL)) = 0 THEN NULL
         ELSE array_to_string(list_filter(l, lambda x: x IS NOT NULL), '') END);
CREATE OR REPLACE TEMP MACRO llm_finish(x) AS (
    CASE
      WHEN x IS NULL THEN NULL
      WHEN lower(x) IN ('length', 'max_tokens', 'max_output_tokens', 'max_tokens_reached',
                        'model_length', 'max_token') THEN 'length'
      WHEN lower(x) IN ('stop', 'end_turn', 'stop_sequence', 'completed', 'eos', 'finish_reason_stop')
        THEN 'stop'
      WHEN lower(x) IN ('tool_use', 'tool_calls', 'function_call') THEN 'tool_calls'
      WHEN lower(x) IN ('content_filter', 'safety', 'refusal', 'recitation', 'blocklist',
                        'prohibited_content', 'spii') THEN 'content_filter'
      ELSE lower(x)
    END);
CREATE OR REPLACE TEMP MACRO llm_tier(x) AS (
    CASE
      WHEN x IS NULL OR lower(x) IN ('default', 'auto', 'standard', 'standard_only', 'on_demand')
        THEN 'standard'
      WHEN lower(x) IN ('batch', 'batches') THEN 'batch'
      WHEN lower(x) IN ('flex') THEN 'flex'
      WHEN lower(x) IN ('priority', 'scale') THEN 'priority'
      ELSE lower(x)
    END);
CREATE OR REPLACE TEMP MACRO llm_provider_of(m) AS (
    CASE
      WHEN m IS NULL THEN NULL
      WHEN regexp_matches(lower(m), '(^|/)(gpt-|o1|o3|o4|chatgpt|text-embedding|davinci|babbage|ft:gpt)')
        THEN 'openai'
      WHEN regexp_matches(lower(m), '(^|/|\.)claude') THEN 'anthropic'
      WHEN regexp_matches(lower(m), '(^|/)gemini|gemma') THEN 'google'
      WHEN regexp_matches(lower(m), 'mistral|mixtral|codestral|ministral|magistral|pixtral')
        THEN 'mistral'
      WHEN regexp_matches(lower(m), 'deepseek') THEN 'deepseek'
      WHEN regexp_matches(lower(m), '(^|/)grok') THEN 'xai'
      WHEN regexp_matches(lower(m), '^(amazon\.|us\.amazon|nova-)') THEN 'aws-bedrock'
      ELSE NULL
    END);
-- A response's answer, per API, from the part of it that holds the answer: its text, then
-- its tool calls' arguments (a tool call is part of what the answer was billed for); and
-- whether it answered with tool calls (a forced tool choice ends with 'stop', a Responses
-- object says only 'completed', a Gemini one STOP). The shapes of a logged response
-- (formats/openai.py, anthropic.py, gemini.py, claude_code.py) and the answers of the
-- gateways' records (formats/records.py) read them alike.
CREATE OR REPLACE TEMP MACRO llm_chat_answer(choices) AS (
    llm_join(list_concat(
      json_extract_string(choices, '$[*].message.content'),
      json_extract_string(choices, '$[*].message.tool_calls[*].function.arguments'),
      json_extract_string(choices, '$[*].message.function_call.arguments'))));
CREATE OR REPLACE TEMP MACRO llm_chat_tool_calls(choices) AS (
    len(json_extract(choices, '$[0].message.tool_calls[*]')) > 0);
CREATE OR REPLACE TEMP MACRO llm_responses_answer(output) AS (
    llm_join(list_concat(
      json_extract_string(output, '$[*].content[*].text'),
      json_extract_string(output, '$[*].arguments'),
      list_transform(json_extract(output, '$[*]'), lambda i:
        CASE WHEN i ->> 'type' = 'custom_tool_call' THEN i ->> 'input' END))));
CREATE OR REPLACE TEMP MACRO llm_responses_tool_calls(output) AS (
    list_has_any(json_extract_string(output, '$[*].type'), ['function_call', 'custom_tool_call']));
CREATE OR REPLACE TEMP MACRO llm_gemini_answer(candidates) AS (
    llm_join(list_concat(
      list_transform(json_extract(candidates, '$[0].content.parts[*]'), lambda p:
        CASE WHEN coalesce(p ->> 'thought', 'false') <> 'true' THEN p ->> 'text' END),
      json_extract_string(candidates, '$[0].content.parts[*].functionCall.args'),
      json_extract_string(candidates, '$[0].content.parts[*].function_call.args'))));
CREATE OR REPLACE TEMP MACRO llm_gemini_tool_calls(candidates) AS (
    len(json_extract(candidates, '$[0].content.parts[*].functionCall')) > 0
    OR len(json_extract(candidates, '$[0].content.parts[*].function_call')) > 0);
-- an Anthropic message's content blocks: text blocks, then a tool_use block's input
CREATE OR REPLACE TEMP MACRO llm_anthropic_answer(content) AS (
    llm_join(list_transform(json_extract(content, '$[*]'), lambda b:
      CASE WHEN b ->> 'type' = 'text' THEN b ->> 'text'
           WHEN b ->> 'type' = 'tool_use' THEN CAST(b -> 'input' AS VARCHAR) END)));
"""


def install_macros(con) -> None:
    """Create the helper macros on ``con`` (idempotent)."""
    con.execute(MACROS)


def jstr(json_expr: str, path: str) -> str:
    """SQL for the string value at ``path`` ('$.a.b') inside a JSON expression."""
    return f"json_extract_string({json_expr}, '{path}')"


def prompt_columns(system: str = "sys_text") -> str:
    """SQL for the columns ``prompt_kind`` and ``prompt_text`` from ``msgs`` (a JSON message
    list), ``prompt_plain`` (a text prompt) and ``system`` (a system prompt the log keeps
    apart): the system prompt becomes the list's first message, or the text's first line."""
    return f"""CASE WHEN msgs IS NOT NULL THEN 'messages' WHEN prompt_plain IS NOT NULL THEN 'text' END
    AS prompt_kind,
  CASE
    WHEN msgs IS NOT NULL AND {system} IS NOT NULL
      THEN '[' || json_object('role', 'system', 'content', {system})
           || CASE WHEN json_array_length(msgs) > 0 THEN ',' || substr(CAST(msgs AS VARCHAR), 2)
                   ELSE ']' END
    WHEN msgs IS NOT NULL THEN CAST(msgs AS VARCHAR)
    WHEN prompt_plain IS NOT NULL THEN concat_ws('\n', {system}, prompt_plain)
  END AS prompt_text"""
