"""OpenTelemetry GenAI spans in OTLP JSON: one document, or one per line (file exporter).

A document is ``{"resourceSpans": [{resource, scopeSpans: [{scope, spans: […]}]}]}``;
attribute values are wrapped (``{"stringValue": …}``, ``{"intValue": "412"}`` with the int
as a string, ``{"doubleValue": …}``, ``{"arrayValue": {"values": […]}}``) or plain; times
are nanosecond strings. A structured value (``{"kvlistValue": {"values": [{"key", "value"}]}}``
or an arrayValue of them: the semconv's messages, system instructions and tool definitions
in structured form, a span event's message or tool calls) is read as the JSON it stands for,
as the same value written as a JSON string is. Each span is one record: ``line`` is the span's line for JSON
lines, its ordinal in the file for a document.

Attribute names read (current semconv first, then deprecated ones, OpenLLMetry's, and
OpenInference's): tokens ``gen_ai.usage.input_tokens``/``prompt_tokens``,
``llm.usage.prompt_tokens``, ``llm.token_count.prompt`` (and the output, total, cache and
reasoning counterparts listed in ``_TOKENS``); model ``gen_ai.response.model`` over
``gen_ai.request.model``/``llm.model_name`` (a model attribute that is not a string, an
``intValue``, an ``arrayValue`` or a ``stringValue`` holding a number or an object, is no
name: the span is rejected naming it); provider
``gen_ai.provider.name``/``gen_ai.system``/``llm.provider``/``llm.system``.

Which spans are calls. A span is a model call when it carries token counts, or its
operation is a model operation (``gen_ai.operation.name`` chat / text_completion /
generate_content / embeddings, OpenInference kind LLM/EMBEDDING, OpenLLMetry
``llm.request.type``). Other spans (HTTP, workflow, tool, non-GenAI) are skipped. A call
span that has another call span below it (same trace, down the parentSpanId chain) is a
wrapper (an SDK span around the instrumented client span, a LangChain span around the
OpenAI span) or an aggregate (an agent span summing its calls): it is skipped and the
innermost span is counted, so one model call is counted once. Fields the inner span lacks
(the response model, texts, user, finish reason) are taken from the nearest wrapper with
the same input and output counts; an inner span with no counts at all (a streamed client
span) takes the counts too, from the nearest wrapper that has them and no other call below
it (an aggregate's sum is no one call's count). ``request_id`` is ``gen_ai.response.id`` (else
traceId:spanId), so one call exported twice is stored once. A line that is not an OTLP
document is rejected; metrics documents are skipped.

Log records (``resourceLogs`` → ``scopeLogs`` → ``logRecords``, in the same file as the spans
when the collector writes both signals to one file). Instrumentations emit the GenAI events
as log records: the event's name in ``eventName`` (or the ``event.name`` attribute older SDKs
wrote), its fields in the body (a kvlistValue), linked to the span they were emitted in by
traceId/spanId. A message or choice event (``gen_ai.user.message`` …, ``gen_ai.choice``) or
an operation details event whose span is in the file is read as the same event on that span
(the texts below), and the record is skipped: the span is the call, counted once. A span that
carries GenAI events itself keeps them alone (the same events twice would be its texts
twice). A ``gen_ai.client.inference.operation.details`` record whose span is not in the file
is read as that span: its attributes are the inference span's (model, usage, messages), its
time the start. Every other log record is skipped, its reason saying what it is. The join is
within one file read (an OTLP file is read whole, not in chunks): message events whose spans
are in another file give no call their texts.

Token convention. Canonical input includes cache reads and writes, output includes
reasoning. The current semconv says ``gen_ai.usage.input_tokens`` SHOULD include cache
tokens (docs_gen-ai_anthropic.md: Anthropic's ``input_tokens + cache_read_input_tokens +
cache_creation_input_tokens``), and OpenInference's ``llm.token_count.prompt`` does too;
but older Anthropic instrumentations (OpenLLMetry before its semconv-ai 0.5, Strands)
reported Anthropic's raw ``input_tokens``, EXCLUDING cache. The rule, per span:

1. cache tokens (read + write) are added to input when input < cache tokens (an input
   that includes its cache cannot be smaller), or when the span's total tokens equal
   input + cache + output and not input + output;
2. likewise reasoning is added to output when output < reasoning, or when the total
   equals input + output + reasoning and not input + output;
3. otherwise the counts follow the current semconv (cache inside input, reasoning inside
   output). ``llm.anthropic.usage.total_input_tokens`` (old OpenLLMetry) is the whole input.

Texts: ``gen_ai.input.messages``/``gen_ai.output.messages`` (JSON strings, parts
flattened to text), else OpenLLMetry's ``gen_ai.prompt.N.*``/``gen_ai.completion.N.*`` or
OpenInference's ``llm.input_messages.N.message.*``, else span events
(``gen_ai.user.message`` …, ``gen_ai.choice``: its message's content, then its tool calls'
arguments, from ``message.tool_calls`` or ``tool_calls`` beside the message;
``gen_ai.content.prompt``/``completion``). The prompt's history is kept as the chat messages
a Chat Completions request holds, to be recounted as that API frames them: an assistant's
``tool_call`` parts (or a ``gen_ai.assistant.message`` event's ``tool_calls``) are its
``tool_calls``, each ``tool_call_response`` part (or ``gen_ai.tool.message`` event) a tool
message with the ``tool_call_id`` it answers; so are OpenLLMetry's indexed
``gen_ai.prompt.N.tool_calls.M.*`` and ``tool_call_id``, and OpenInference's
``message.tool_calls.M.tool_call.*`` and ``message.tool_call_id``. The finish reason is the first of
``gen_ai.response.finish_reasons``, else the first output message's ``finish_reason``, else
the first ``gen_ai.choice`` event's (by its ``index``). Attribution: user from
``user.id``/``enduser.id``/``gen_ai.user.id``/``gen_ai.user``/``llm.user``, session from
``session.id``/``gen_ai.conversation.id``, feature from ``traceloop.workflow.name``; tags
keep ``service.name`` and the other resource/span names worth grouping by.

Tools: the request's tool definitions are ``gen_ai.tool.definitions`` (a JSON list, the
semconv's Tool Definitions schema: ``{"type": "function", "name", "description",
"parameters"}``), else OpenInference's ``llm.tools.N.tool.json_schema`` or OpenLLMetry's
older ``llm.request.functions.N.*``; kept beside the prompt, as the JSON-lines reader keeps
a request's ``tools``, to be counted with it. The semconv writes every function flat, as
the Responses API does; a span that says it is a Chat Completions call (``openai.api.type``
``chat_completions``, else a ``chatcmpl-`` response id or OpenLLMetry's ``openai.chat`` span)
gets them nested under ``function``, as that API takes them, so they are framed as it frames
them (a span that does not say keeps the flat shape, and its framing). The semconv has no
``tool_choice`` attribute; OpenInference's ``llm.invocation_parameters`` may hold one.
"""

from __future__ import annotations

from pathlib import Path

from llmcost.formats import FileFormat, register_format
from llmcost.formats.records import finish, head_json_keys, read_records
from llmcost.formats.stage import StageStats

# Attribute keys per canonical field, in order of preference.
_TOKENS = {
    "in": [
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.prompt_tokens",
        "llm.usage.prompt_tokens",
        "llm.token_count.prompt",
    ],
    "out": [
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
        "llm.usage.completion_tokens",
        "llm.token_count.completion",
    ],
    "total": ["gen_ai.usage.total_tokens", "llm.usage.total_tokens", "llm.token_count.total"],
    "cr": [
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "llm.usage.cache_read_input_tokens",
        "llm.anthropic.usage.cache_read_input_tokens",
        "llm.token_count.prompt_details.cache_read",
    ],
    "cw": [
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
        "gen_ai.usage.cache_write_input_tokens",
        "llm.usage.cache_creation_input_tokens",
        "llm.anthropic.usage.cache_creation_input_tokens",
        "llm.token_count.prompt_details.cache_write",
    ],
    "r": [
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",
        "llm.usage.reasoning_tokens",
        "llm.token_count.completion_details.reasoning",
    ],
    "in_all": ["llm.anthropic.usage.total_input_tokens"],
}
_MODEL = [
    "gen_ai.response.model",
    "gen_ai.request.model",
    "llm.response.model",
    "llm.model_name",
    "llm.request.model",
]
_PROVIDER = ["gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"]
_USER = ["user.id", "enduser.id", "gen_ai.user.id", "gen_ai.user", "llm.user", "langfuse.user.id"]
_SESSION = ["session.id", "gen_ai.conversation.id", "langfuse.session.id"]
_MAX_TOKENS = [
    "gen_ai.request.max_tokens",
    "gen_ai.request.max_completion_tokens",
    "gen_ai.request.max_output_tokens",
    "llm.request.max_tokens",
]
_TIER = ["openai.response.service_tier", "gen_ai.openai.response.service_tier",
         "openai.request.service_tier", "gen_ai.openai.request.service_tier"]  # fmt: skip
_MODEL_OPERATIONS = ("chat", "text_completion", "generate_content", "completion", "embeddings")

# A wrapped attribute value, read once: {stringValue | intValue | doubleValue | boolValue |
# arrayValue: {values}}; anything else is a plain (unwrapped) JSON value.
_WRAPPED = (
    '{"stringValue": "VARCHAR", "intValue": "VARCHAR", "doubleValue": "VARCHAR", '
    '"boolValue": "VARCHAR", "arrayValue": {"values": "JSON"}, "kvlistValue": "JSON"}'
)
_KV = '[{"key": "VARCHAR", "value": "JSON"}]'
# One parse per document, then one per span (or log record).
_DOC = (
    '{"resourceSpans": [{"resource": {"attributes": ' + _KV + "}, "
    '"scopeSpans": [{"scope": {"name": "VARCHAR"}, "spans": ["JSON"]}]}]}'
)
_LOG_DOC = (
    '{"resourceLogs": [{"resource": {"attributes": ' + _KV + "}, "
    '"scopeLogs": [{"scope": {"name": "VARCHAR"}, "logRecords": ["JSON"]}]}]}'
)
_SPAN = (
    '{"traceId": "VARCHAR", "spanId": "VARCHAR", "parentSpanId": "VARCHAR", "name": "VARCHAR", '
    '"startTimeUnixNano": "VARCHAR", "endTimeUnixNano": "VARCHAR", "status": {"code": "VARCHAR"}, '
    '"attributes": ' + _KV + ', "events": [{"name": "VARCHAR", "attributes": ' + _KV + "}]}"
)
# A log record (opentelemetry-proto logs.proto): the event's name is ``eventName``, or the
# ``event.name`` attribute older SDKs wrote; its body an AnyValue.
_LOG = (
    '{"traceId": "VARCHAR", "spanId": "VARCHAR", "eventName": "VARCHAR", '
    '"timeUnixNano": "VARCHAR", "observedTimeUnixNano": "VARCHAR", "attributes": ' + _KV + ", "
    '"body": "JSON"}'
)


MACROS = r"""
-- A structured value: a kvlistValue, or an arrayValue holding other than strings. The
-- semconv's messages, system instructions and tool definitions "SHOULD be recorded in
-- structured form" on a span, and "MUST" on an event.
CREATE OR REPLACE TEMP MACRO otel_structured(w) AS (
    w.kvlistValue IS NOT NULL
    OR len(list_filter(json_extract(w.arrayValue."values", '$[*]'),
                       lambda e: NOT json_exists(e, '$.stringValue'))) > 0);
-- A wrapped scalar as JSON text (an int64 is a string in OTLP JSON; an empty value is
-- null); a plain value as it is.
CREATE OR REPLACE TEMP MACRO otel_scalar_json(v) AS (
    CASE WHEN json_exists(v, '$.stringValue') OR json_exists(v, '$.bytesValue')
           THEN CAST(to_json(coalesce(json_extract_string(v, '$.stringValue'),
                                      json_extract_string(v, '$.bytesValue'))) AS VARCHAR)
         WHEN json_exists(v, '$.intValue')
           THEN coalesce(CAST(TRY_CAST(json_extract_string(v, '$.intValue') AS HUGEINT)
                              AS VARCHAR),
                         CAST(to_json(json_extract_string(v, '$.intValue')) AS VARCHAR))
         WHEN json_exists(v, '$.doubleValue')
           THEN CASE WHEN json_type(v, '$.doubleValue') IN ('DOUBLE', 'BIGINT', 'UBIGINT')
                     THEN CAST(json_extract(v, '$.doubleValue') AS VARCHAR)
                     -- (NaN and the infinities are strings in OTLP JSON, and in JSON)
                     ELSE CAST(to_json(json_extract_string(v, '$.doubleValue')) AS VARCHAR)
                END
         WHEN json_exists(v, '$.boolValue')
           THEN CASE WHEN lower(json_extract_string(v, '$.boolValue')) = 'true'
                     THEN 'true' ELSE 'false' END
         WHEN v IS NULL OR CAST(v AS VARCHAR) = '{}' THEN 'null'
         ELSE CAST(v AS VARCHAR) END);
-- An attribute value as text: the wrapped scalar, an array's strings as a JSON array, or
-- the plain value; a structured one is NULL here, and read by _unwrap_structured.
CREATE OR REPLACE TEMP MACRO otel_str(v, w) AS (
    CASE WHEN w.stringValue IS NOT NULL THEN w.stringValue
         WHEN w.intValue IS NOT NULL THEN w.intValue
         WHEN w.doubleValue IS NOT NULL THEN w.doubleValue
         WHEN w.boolValue IS NOT NULL THEN w.boolValue
         WHEN otel_structured(w) THEN NULL  -- read by _unwrap_structured
         WHEN w.arrayValue IS NOT NULL THEN CAST(to_json(
             json_extract_string(w.arrayValue."values", '$[*].stringValue')) AS VARCHAR)
         WHEN json_type(v) = 'VARCHAR' THEN json_extract_string(v, '$')
         ELSE CAST(v AS VARCHAR) END);
-- What an attribute value that must be a name (a model) is when it is not a string, with
-- its article as llm_json_a says it ('a number', 'an array', 'true'): an intValue or a
-- doubleValue is a number, however it is written; NULL for a string (wrapped or plain). A
-- stringValue read as VARCHAR casts a number or an object to text ('123', '{"a":1}'): what
-- it holds is found in the raw JSON.
CREATE OR REPLACE TEMP MACRO otel_not_string(v, w) AS (
    CASE WHEN w.stringValue IS NOT NULL
           THEN CASE WHEN json_type(v, '$.stringValue') <> 'VARCHAR'
                     THEN 'a stringValue holding ' || llm_json_a(json_extract(v, '$.stringValue'))
                END
         WHEN w.intValue IS NOT NULL OR w.doubleValue IS NOT NULL THEN 'a number'
         WHEN w.boolValue IS NOT NULL THEN lower(w.boolValue)
         WHEN w.arrayValue IS NOT NULL THEN 'an array'
         WHEN json_type(v) IN ('VARCHAR', 'NULL') THEN NULL
         ELSE llm_json_a(v) END);
-- An array attribute's first element (gen_ai.response.finish_reasons).
CREATE OR REPLACE TEMP MACRO otel_first(v, w) AS (
    CASE WHEN w.arrayValue IS NOT NULL
           THEN json_extract_string(w.arrayValue."values", '$[0].stringValue')
         WHEN json_type(v) = 'ARRAY' THEN json_extract_string(v, '$[0]') END);
-- The JSON a string attribute holds (gen_ai.input.messages is recorded as a JSON string).
CREATE OR REPLACE TEMP MACRO otel_json(s) AS (
    CASE WHEN left(ltrim(s), 1) IN ('{', '[') AND json_valid(s) THEN json(s) END);
-- Tool definitions as a Chat Completions request writes them: the semconv writes every
-- function flat ({"type": "function", "name", …}, as the Responses API does); a chat span's
-- are nested under "function", so they are framed as that API frames them. (->> in
-- parentheses beside AND: DuckDB 1.5 binds it looser than AND.)
CREATE OR REPLACE TEMP MACRO otel_chat_tools(j) AS (
    CASE WHEN json_type(j) = 'ARRAY' THEN to_json(list_transform(json_extract(j, '$[*]'),
        lambda t: CASE WHEN (t ->> 'type') = 'function' AND (t ->> 'name') IS NOT NULL
                            AND json_extract(t, '$.function') IS NULL
                       THEN json_object('type', 'function',
                                        'function', json_merge_patch(t, '{"type": null}'))
                       ELSE t END))
         ELSE j END);
-- A message part as text; tool calls as {"type": "tool_call", "name", "arguments"} in a
-- prompt, and in an answer (``answer``) as their arguments alone, as the model wrote them
-- (a string's value, an object's JSON): what the other readers keep of an answer's calls.
CREATE OR REPLACE TEMP MACRO otel_part_text(p, answer) AS (
    CASE
      WHEN json_type(p) = 'VARCHAR' THEN json_extract_string(p, '$')
      WHEN json_extract_string(p, '$.type') = 'text'
           OR (json_extract_string(p, '$.type') IS NULL
               AND json_type(json_extract(p, '$.content')) = 'VARCHAR')
        THEN coalesce(json_extract_string(p, '$.content'), json_extract_string(p, '$.text'))
      WHEN json_extract_string(p, '$.type') IN ('reasoning', 'thinking') THEN NULL
      WHEN json_extract_string(p, '$.type') = 'tool_call' AND answer
        THEN json_extract_string(p, '$.arguments')
      WHEN json_extract_string(p, '$.type') = 'tool_call'
        THEN CAST(json_object('type', 'tool_call', 'name', json_extract_string(p, '$.name'),
                              'arguments', rec_json(json_extract(p, '$.arguments'))) AS VARCHAR)
      WHEN json_extract_string(p, '$.type') = 'tool_call_response'
        THEN coalesce(llm_text(json_extract(p, '$.response')),
                      llm_text(json_extract(p, '$.result')))
      ELSE CAST(p AS VARCHAR)
    END);
CREATE OR REPLACE TEMP MACRO otel_msg_text(m, answer) AS (
    CASE
      WHEN json_type(json_extract(m, '$.content')) = 'VARCHAR'
        THEN json_extract_string(m, '$.content')
      WHEN json_type(json_extract(m, '$.parts')) = 'ARRAY'
        THEN llm_join(list_transform(json_extract(m, '$.parts[*]'),
                                     lambda p: otel_part_text(p, answer)))
      WHEN json_type(json_extract(m, '$.content')) = 'ARRAY'
        THEN llm_join(list_transform(json_extract(m, '$.content[*]'),
                                     lambda p: otel_part_text(p, answer)))
      ELSE llm_text(json_extract(m, '$.content'))
    END);
-- A message's parts: its parts, or its content when that is a list of parts.
CREATE OR REPLACE TEMP MACRO otel_parts(m) AS (
    CASE WHEN json_type(json_extract(m, '$.parts')) = 'ARRAY' THEN json_extract(m, '$.parts[*]')
         WHEN json_type(json_extract(m, '$.content')) = 'ARRAY'
           THEN json_extract(m, '$.content[*]') END);
CREATE OR REPLACE TEMP MACRO otel_parts_of(m, kind) AS (
    coalesce(list_filter(otel_parts(m), lambda p: json_extract_string(p, '$.type') = kind), []));
-- A prompt message's tool_call parts as a Chat Completions request holds its calls
-- ({id, type, function: {name, arguments}}), and its text without them.
CREATE OR REPLACE TEMP MACRO otel_chat_calls(m) AS (
    list_transform(otel_parts_of(m, 'tool_call'), lambda p: json_object(
        'id', trim(json_extract_string(p, '$.id')), 'type', 'function',
        'function', json_object('name', json_extract_string(p, '$.name'),
                                'arguments', json_extract(p, '$.arguments')))));
CREATE OR REPLACE TEMP MACRO otel_prompt_text(m) AS (
    CASE WHEN otel_parts(m) IS NOT NULL
           THEN llm_join(list_transform(otel_parts(m), lambda p:
               CASE WHEN coalesce(json_extract_string(p, '$.type'), '')
                         NOT IN ('tool_call', 'tool_call_response')
                    THEN otel_part_text(p, false) END))
         ELSE otel_msg_text(m, false) END);
-- A prompt message as the chat messages a Chat Completions request holds (what the recount
-- frames): its text and its tool calls (tool_calls); each tool_call_response part a tool
-- message answering its call (tool_call_id), after any other text the message has. (The
-- semconv's example id has a stray leading space: ids are trimmed, so a result still names
-- its call.)
CREATE OR REPLACE TEMP MACRO otel_chat_msgs(m) AS (
    list_concat(
      CASE WHEN len(otel_parts_of(m, 'tool_call_response')) = 0
                OR otel_prompt_text(m) IS NOT NULL
           THEN [CASE WHEN len(otel_parts_of(m, 'tool_call')) > 0
                      THEN json_object('role', json_extract_string(m, '$.role'),
                                       'content', otel_prompt_text(m),
                                       'tool_calls', otel_chat_calls(m))
                      ELSE json_object('role', json_extract_string(m, '$.role'),
                                       'content', otel_prompt_text(m)) END]
           ELSE [] END,
      list_transform(otel_parts_of(m, 'tool_call_response'), lambda p: json_object(
          'role', coalesce(json_extract_string(m, '$.role'), 'tool'),
          'tool_call_id', trim(json_extract_string(p, '$.id')),
          'content', otel_part_text(p, false)))));
-- gen_ai.input.messages as chat messages, content as text (otel_chat_msgs).
CREATE OR REPLACE TEMP MACRO otel_msgs(j) AS (
    CASE WHEN json_type(j) = 'ARRAY' THEN CAST(to_json(flatten(list_transform(
        json_extract(j, '$[*]'), lambda m: otel_chat_msgs(m)))) AS VARCHAR) END);
CREATE OR REPLACE TEMP MACRO otel_msgs_text(j) AS (
    CASE WHEN json_type(j) = 'ARRAY' THEN array_to_string(list_filter(list_transform(
        json_extract(j, '$[*]'), lambda m: otel_msg_text(m, true)), lambda t: t IS NOT NULL),
        '\n') END);
"""


def _attr(key: str) -> str:
    """The column of ``otel_attrs`` holding attribute ``key`` (as text)."""
    return f'"{key}"'


def _first(keys: list[str]) -> str:
    return "coalesce(" + ", ".join(_attr(k) for k in keys) + ")"


def _not_string(key: str) -> str:
    """The column of ``otel_attrs`` saying what attribute ``key`` (a model) is when it is not
    a string ('a number'); NULL for a string."""
    return f'"{key}:not_string"'


def _name_fault(keys: list[str]) -> str:
    """Why the model ``_first(keys)`` picks is no name (its attribute was an intValue, an
    arrayValue...), naming the attribute; NULL when it is a string."""
    arms = " ".join(
        f"WHEN {_attr(k)} IS NOT NULL THEN 'attribute {k} is ' || {_not_string(k)} "
        "|| ', not a name'"
        for k in keys
    )
    return f"(CASE {arms} END)"


def _tok(field: str) -> str:
    return "coalesce(" + ", ".join(f"llm_tok({_attr(k)})" for k in _TOKENS[field]) + ")"


def _bad_tokens() -> str:
    arms = " ".join(
        f"WHEN llm_bad_tok({_attr(k)}) THEN 'attribute {k} ' || llm_tok_fault({_attr(k)}) || ': ' "
        f"|| left({_attr(k)}, 40)"
        for keys in _TOKENS.values()
        for k in keys
    )
    return f"(CASE {arms} END)"


def _has_tokens() -> str:
    return "(" + " OR ".join(f"{_attr(k)} IS NOT NULL" for k in sum(_TOKENS.values(), [])) + ")"


_OTHER_KEYS = [
    "gen_ai.operation.name",
    "openinference.span.kind",
    "llm.request.type",
    "gen_ai.response.id",
    "gen_ai.response.finish_reason",
    "llm.response.finish_reason",
    "traceloop.workflow.name",
    "traceloop.association.properties.feature",
    "error.type",
    "gen_ai.agent.name",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "llm.invocation_parameters",
    "gen_ai.prompt",
    "gen_ai.completion",
    "gen_ai.tool.definitions",
    "openai.api.type",
]


def _keys() -> list[str]:
    keys = [k for ks in _TOKENS.values() for k in ks]
    keys += _MODEL + _PROVIDER + _USER + _SESSION + _MAX_TOKENS + _TIER + _OTHER_KEYS
    return list(dict.fromkeys(keys))


def _items_sql(doc: str, resources: str, scopes: str, items: str, where: str = "") -> str:
    """The CTEs that take OTLP documents (``doc``, e.g. ``_DOC``) apart down to their items
    (``resources`` → ``scopes`` → ``items``: resourceSpans → scopeSpans → spans), ending in
    ``item(line, ri, si, pi, sn, sv, env, scope_name, raw)``: the item's record line, its
    place, its resource's service name, version and environment (wrapped), its scope."""
    return f"""
WITH docs AS (
  SELECT line, json_transform(rec, '{doc}') AS d FROM rec_in {where}
), res AS (
  SELECT line, generate_subscripts(d.{resources}, 1) AS ri, unnest(d.{resources}) AS rs
  FROM docs WHERE d.{resources} IS NOT NULL
), res_ctx AS (
  SELECT line, ri, rs.{scopes} AS scopes,
    list_filter(rs.resource.attributes, lambda a: a.key = 'service.name')[1].value AS sn,
    list_filter(rs.resource.attributes, lambda a: a.key = 'service.version')[1].value AS sv,
    list_filter(rs.resource.attributes, lambda a: a.key IN ('deployment.environment.name',
                                                             'deployment.environment'))[1].value
      AS env
  FROM res
), scope AS (
  SELECT line, ri, sn, sv, env, generate_subscripts(scopes, 1) AS si, unnest(scopes) AS ss
  FROM res_ctx WHERE scopes IS NOT NULL
), item AS (
  SELECT line, ri, si, sn, sv, env, ss.scope.name AS scope_name,
    generate_subscripts(ss.{items}, 1) AS pi, unnest(ss.{items}) AS raw
  FROM scope WHERE ss.{items} IS NOT NULL
)"""


_RESOURCE_NAMES = f"""
    otel_str(sn, json_transform(sn, '{_WRAPPED}')) AS service_name,
    otel_str(sv, json_transform(sv, '{_WRAPPED}')) AS service_version,
    otel_str(env, json_transform(env, '{_WRAPPED}')) AS environment"""


def _spans_sql() -> str:
    """``otel_spans``: one row per span (parsed once), with its line and resource/scope."""
    return f"""
CREATE TEMP TABLE otel_spans AS
{_items_sql(_DOC, "resourceSpans", "scopeSpans", "spans")}
SELECT *, lower(span.traceId) AS trace_id, lower(span.spanId) AS span_id,
  lower(llm_blank(span.parentSpanId)) AS parent_id
FROM (
  SELECT row_number() OVER (ORDER BY line, ri, si, pi) AS sid, line, raw,
    json_transform(raw, '{_SPAN}') AS span, scope_name, {_RESOURCE_NAMES}
  FROM item)
"""


# The GenAI events an instrumentation may emit as log records (opentelemetry-instrumentation-
# openai-v2 and others: the event's name, its body the event's fields) whose texts are read as
# the same events on their span are: the older semconv's messages and choices
# (model/gen-ai/deprecated/events-deprecated.yaml), and the current one's operation details,
# which carries the whole call (gen-ai-events.md).
_MESSAGE_EVENTS = (
    "gen_ai.system.message",
    "gen_ai.user.message",
    "gen_ai.assistant.message",
    "gen_ai.tool.message",
    "gen_ai.choice",
)
_DETAILS_EVENT = "gen_ai.client.inference.operation.details"


def _logs_sql() -> str:
    """``otel_logs``: one row per log record, numbered after the spans (``sid``), with its
    event's name and ``span_sid``, the span of this file it was emitted in (its traceId and
    spanId), if any. Only the records that hold resourceLogs are parsed again."""
    only_logs = """WHERE contains(CAST(rec AS VARCHAR), '"resourceLogs"')"""
    return f"""
CREATE TEMP TABLE otel_logs AS
{_items_sql(_LOG_DOC, "resourceLogs", "scopeLogs", "logRecords", only_logs)}
, parsed AS (
  SELECT (SELECT coalesce(max(sid), 0) FROM otel_spans)
           + row_number() OVER (ORDER BY line, ri, si, pi) AS sid,
    line, raw, json_transform(raw, '{_LOG}') AS lr, scope_name, {_RESOURCE_NAMES}
  FROM item
), named AS (
  SELECT *, lower(llm_blank(lr.traceId)) AS trace_id, lower(llm_blank(lr.spanId)) AS span_id,
    list_filter(lr.attributes, lambda a: a.key = 'event.name')[1].value AS ev
  FROM parsed
)
SELECT n.* EXCLUDE (ev),
  coalesce(llm_blank(lr.eventName), llm_blank(otel_str(ev, json_transform(ev, '{_WRAPPED}'))))
    AS ename,
  s.span_sid
FROM named n
LEFT JOIN (SELECT trace_id, span_id, min(sid) AS span_sid FROM otel_spans GROUP BY ALL) s
  ON s.trace_id = n.trace_id AND s.span_id = n.span_id
"""


def _detached_sql() -> str:
    """An operation details record whose span is not in the file is read as that span: its
    attributes are the span's (the event has the inference span's attributes), its time the
    span's start (the observed time when the record has none); it has no end, no status."""
    return f"""
INSERT INTO otel_spans BY NAME
SELECT sid, line, raw, scope_name, service_name, service_version, environment, trace_id,
  span_id, NULL AS parent_id,
  json_transform(json_object(
    'traceId', trace_id, 'spanId', span_id,
    'startTimeUnixNano', CASE WHEN TRY_CAST(lr.timeUnixNano AS HUGEINT) > 0 THEN lr.timeUnixNano
                              ELSE lr.observedTimeUnixNano END,
    'attributes', json_extract(raw, '$.attributes')), '{_SPAN}') AS span
FROM otel_logs WHERE ename = '{_DETAILS_EVENT}' AND span_sid IS NULL
"""


def _attrs_sql() -> str:
    """``otel_kv_long``: span attributes, one row each (a structured value's text is filled
    by ``_unwrap_structured``)."""
    models = ", ".join(f"'{k}'" for k in _MODEL)
    return f"""
CREATE TEMP TABLE otel_kv_long AS
SELECT sid, k, otel_str(v, w) AS vs, otel_first(v, w) AS v0,
  CASE WHEN k IN ({models}) THEN otel_not_string(v, w) END AS nk,
  CASE WHEN otel_structured(w) THEN v END AS sv
FROM (SELECT sid, a.key AS k, a.value AS v, json_transform(a.value, '{_WRAPPED}') AS w
      FROM (SELECT sid, unnest(span.attributes) AS a FROM otel_spans
            WHERE span.attributes IS NOT NULL));
"""


def _pivot_sql() -> str:
    """``otel_attrs``: one row a span, one column per attribute the adapter reads."""
    pivot = ",\n  ".join(f"max(vs) FILTER (WHERE k = '{k}') AS \"{k}\"" for k in _keys())
    not_names = "".join(
        f",\n  max(nk) FILTER (WHERE k = '{k}') AS {_not_string(k)}" for k in _MODEL
    )
    return f"""
CREATE TEMP TABLE otel_attrs AS
SELECT sid, {pivot}{not_names},
  max(v0) FILTER (WHERE k = 'gen_ai.response.finish_reasons') AS "finish_reasons.0",
  max(vs) FILTER (WHERE k = 'gen_ai.response.finish_reasons') AS "finish_reasons"
FROM otel_kv_long WHERE k IS NOT NULL GROUP BY sid;
"""


def _events_sql() -> str:
    """``otel_ev_kv``: the GenAI span events' attributes, one row each (a structured value's
    text is filled by ``_unwrap_structured``), and those of the GenAI events emitted as log
    records in a span of the file (``from_log``), read as the same events on that span."""
    names = ", ".join(f"'{e}'" for e in (*_MESSAGE_EVENTS, _DETAILS_EVENT))
    return f"""
CREATE TEMP TABLE otel_ev_kv AS
WITH span_events AS (
  SELECT sid, ei, e.name AS ename, e.attributes AS attrs, false AS from_log
  FROM (SELECT sid, generate_subscripts(span.events, 1) AS ei, unnest(span.events) AS e
        FROM otel_spans WHERE span.events IS NOT NULL)
  WHERE e.name LIKE 'gen_ai.%' AND e.attributes IS NOT NULL
), log_events AS (
  -- a record's event is its body's fields (a kvlistValue: what the span event holds as its
  -- attributes) and its attributes, in the order the file has them; only for a span that
  -- carries no GenAI events itself (the same call's events twice would be its texts twice)
  SELECT span_sid AS sid, sid AS ei, ename,
    list_concat(json_transform(json_extract(raw, '$.body.kvlistValue.values'), '{_KV}'),
                lr.attributes) AS attrs,
    true AS from_log
  FROM otel_logs
  WHERE ename IN ({names}) AND span_sid IS NOT NULL
    AND span_sid NOT IN (SELECT sid FROM span_events)
)
SELECT sid, ei, ename, from_log, k, otel_str(v, w) AS vs,
  CASE WHEN otel_structured(w) THEN v END AS sv
FROM (SELECT sid, ei, ename, from_log, a.key AS k, a.value AS v,
        json_transform(a.value, '{_WRAPPED}') AS w
      FROM (SELECT sid, ei, ename, from_log, unnest(attrs) AS a
            FROM (SELECT * FROM span_events UNION ALL SELECT * FROM log_events)
            WHERE attrs IS NOT NULL))
"""


def _unwrap_structured(con, table: str) -> None:
    """Fill ``vs`` of the structured values of ``table`` (their OTLP JSON in ``sv``) with the
    plain JSON they stand for: a kvlistValue ``{"values": [{"key", "value"}]}`` an object,
    an arrayValue a list, each value unwrapped (opentelemetry-proto common.proto's
    AnyValue). A DuckDB macro cannot recurse: the values are taken apart into a tree of
    nodes (a recursive CTE, top down), then put back together one depth at a time, from the
    deepest."""
    if not con.execute(f"SELECT count(*) FROM {table} WHERE sv IS NOT NULL").fetchone()[0]:
        return
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE otel_any_nodes AS
WITH RECURSIVE node(id, path, in_kv, key, v) AS (
  SELECT rowid, CAST([] AS INTEGER[]), false, CAST(NULL AS VARCHAR), sv FROM {table}
  WHERE sv IS NOT NULL
  UNION ALL
  SELECT id, list_append(path, i), m.in_kv, m.key, m.v FROM (
    SELECT id, path, generate_subscripts(ms, 1) AS i, unnest(ms) AS m FROM (
      SELECT id, path, CASE WHEN json_exists(v, '$.kvlistValue')
          THEN list_transform(coalesce(json_extract(v, '$.kvlistValue.values[*]'), []),
                 lambda e: {{'in_kv': true, 'key': json_extract_string(e, '$.key'),
                             'v': json_extract(e, '$.value')}})
          ELSE list_transform(coalesce(json_extract(v, '$.arrayValue.values[*]'), []),
                 lambda e: {{'in_kv': false, 'key': CAST(NULL AS VARCHAR), 'v': e}}) END AS ms
      FROM node WHERE json_exists(v, '$.kvlistValue') OR json_exists(v, '$.arrayValue')))
)
SELECT id, path, in_kv, key,
  CASE WHEN json_exists(v, '$.kvlistValue') THEN 'kv'
       WHEN json_exists(v, '$.arrayValue') THEN 'array' END AS kind,
  CASE WHEN json_exists(v, '$.kvlistValue') THEN '{{}}'
       WHEN json_exists(v, '$.arrayValue') THEN '[]' ELSE otel_scalar_json(v) END AS text
FROM node""")
    deepest = con.execute("SELECT max(len(path)) FROM otel_any_nodes").fetchone()[0]
    for depth in range(deepest, 0, -1):
        con.execute(
            """
UPDATE otel_any_nodes p
SET text = CASE p.kind WHEN 'kv' THEN '{' || c.body || '}' ELSE '[' || c.body || ']' END
FROM (SELECT id, list_slice(path, 1, len(path) - 1) AS parent,
        string_agg(CASE WHEN in_kv THEN CAST(to_json(key) AS VARCHAR) || ':' ELSE '' END
                   || text, ',' ORDER BY path[-1]) AS body
      FROM otel_any_nodes WHERE len(path) = ? GROUP BY ALL) c
WHERE p.id = c.id AND p.path = c.parent""",
            [depth],
        )
    con.execute(f"""
UPDATE {table} t SET vs = n.text FROM otel_any_nodes n
WHERE len(n.path) = 0 AND t.rowid = n.id""")
    con.execute("DROP TABLE otel_any_nodes")


def _texts_sql() -> str:
    """``otel_texts``: messages kept as indexed attributes or as span events, per span."""
    pattern = (
        r"^(gen_ai\.prompt|gen_ai\.completion|llm\.input_messages|llm\.output_messages)"
        r"\.(\d+)\.(?:message\.)?(.+)$"
    )
    return rf"""
CREATE TEMP TABLE otel_texts AS
WITH idx AS (
  SELECT sid, vs AS val,
    CASE WHEN regexp_extract(k, '{pattern}', 1) IN ('gen_ai.prompt', 'llm.input_messages')
         THEN 'in' ELSE 'out' END AS side,
    TRY_CAST(regexp_extract(k, '{pattern}', 2) AS INTEGER) AS n,
    regexp_extract(k, '{pattern}', 3) AS field
  FROM otel_kv_long WHERE regexp_matches(k, '{pattern}')
), msg AS (
  SELECT sid, side, n,
    max(val) FILTER (WHERE field = 'role') AS role,
    coalesce(max(val) FILTER (WHERE field = 'content'),
             string_agg(val, '' ORDER BY field)
               FILTER (WHERE regexp_matches(field, '^contents\.\d+\.message_content\.text$')))
      AS content,
    llm_blank(max(val) FILTER (WHERE field = 'tool_call_id')) AS call_id
  FROM idx GROUP BY sid, side, n
), tool_parts AS (
  -- OpenLLMetry's tool_calls.M.id / name / arguments, OpenInference's
  -- tool_calls.M.tool_call.id / function.name / function.arguments
  SELECT sid, side, n,
    TRY_CAST(regexp_extract(field, '^tool_calls\.(\d+)\.', 1) AS INTEGER) AS t,
    max(val) FILTER (WHERE regexp_matches(field, '^tool_calls\.\d+\.(tool_call\.)?id$'))
      AS tid,
    max(val) FILTER (WHERE regexp_matches(field,
                                          '^tool_calls\.\d+\.(tool_call\.)?(function\.)?name$'))
      AS tname,
    max(val) FILTER (WHERE regexp_matches(field,
                                          '^tool_calls\.\d+\.(tool_call\.)?(function\.)?arguments$'))
      AS targs
  FROM idx WHERE regexp_matches(field, '^tool_calls\.\d+\.') GROUP BY ALL
), tools AS (
  -- an answer's calls as their arguments alone, as otel_part_text keeps them; a prompt's
  -- as a Chat Completions request holds them (what the recount frames)
  SELECT sid, side, n, string_agg(targs, '' ORDER BY t) AS args,
    to_json(list(json_object('id', tid, 'type', 'function',
                             'function', json_object('name', tname, 'arguments', targs))
                 ORDER BY t)) AS calls
  FROM tool_parts GROUP BY ALL
), full_msg AS (
  -- (an answer keeps its text and its calls' arguments after it)
  SELECT m.sid, m.side, m.n, m.role, m.call_id, t.calls, t.calls IS NOT NULL AS has_tools,
    CASE WHEN m.side = 'out' THEN llm_join([m.content, t.args]) ELSE m.content END AS content
  FROM msg m LEFT JOIN tools t USING (sid, side, n)
), by_idx AS (
  SELECT sid,
    CAST(to_json(list(CASE
        WHEN calls IS NOT NULL
          THEN json_object('role', role, 'content', content, 'tool_calls', calls)
        WHEN call_id IS NOT NULL
          THEN json_object('role', role, 'tool_call_id', call_id, 'content', content)
        ELSE json_object('role', role, 'content', content) END ORDER BY n)
                 FILTER (WHERE side = 'in')) AS VARCHAR) AS idx_prompt,
    string_agg(content, '\n' ORDER BY n) FILTER (WHERE side = 'out') AS idx_completion,
    bool_or(has_tools) FILTER (WHERE side = 'out') AS idx_tool_answer
  FROM full_msg GROUP BY sid
), ev AS (
  SELECT sid, ei, ename, json_group_object(k, to_json(vs)) AS ea
  FROM otel_ev_kv GROUP BY sid, ei, ename
), choice AS (
  -- a gen_ai.choice's answer: its message's content, then its tool calls' arguments as the
  -- model wrote them (a string's value, an object's JSON; what the other readers keep of an
  -- answer's calls). The tool calls are in the message (message.tool_calls: the semconv's
  -- example, opentelemetry-instrumentation-openai-v2) or beside it (tool_calls: the
  -- semconv's event model, OpenLLMetry); an answer of tool calls alone has no content.
  SELECT sid, ei, ename, ea, m,
    coalesce(json_extract_string(m, '$.content'), json_extract_string(ea, '$.content'))
      AS content,
    list_concat(json_extract_string(m, '$.tool_calls[*].function.arguments'),
                json_extract_string(otel_json(json_extract_string(ea, '$.tool_calls')),
                                    '$[*].function.arguments')) AS call_args,
    len(list_concat(json_extract(m, '$.tool_calls[*]'),
                    json_extract(otel_json(json_extract_string(ea, '$.tool_calls')), '$[*]')))
      > 0 AS has_calls
  FROM (SELECT *, CASE WHEN ename = 'gen_ai.choice'
                       THEN otel_json(json_extract_string(ea, '$.message')) END AS m FROM ev)
), prompt_event AS (
  -- a history message: an assistant's tool calls (tool_calls, as a Chat Completions request
  -- holds them: id, type, function name and arguments) and a tool result's call (id) are
  -- kept beside its content, for the recount to frame them as that API does
  SELECT *,
    coalesce(json_extract_string(ea, '$.role'),
             regexp_extract(ename, '^gen_ai\.(\w+)\.message$', 1)) AS role,
    CASE WHEN ename = 'gen_ai.assistant.message'
         THEN json_extract(otel_json(json_extract_string(ea, '$.tool_calls')), '$[*]') END
      AS calls
  FROM choice
), by_event AS (
  SELECT sid,
    CAST(to_json(list(CASE
        WHEN len(calls) > 0
          THEN json_object('role', role, 'content', json_extract_string(ea, '$.content'),
                           'tool_calls', calls)
        WHEN ename = 'gen_ai.tool.message' AND json_extract_string(ea, '$.id') IS NOT NULL
          THEN json_object('role', role, 'tool_call_id', trim(json_extract_string(ea, '$.id')),
                           'content', json_extract_string(ea, '$.content'))
        ELSE json_object('role', role, 'content', json_extract_string(ea, '$.content')) END
      ORDER BY ei)
      FILTER (WHERE regexp_matches(ename, '^gen_ai\.(system|user|assistant|tool)\.message$')))
      AS VARCHAR) AS ev_prompt,
    string_agg(llm_join(list_concat([content], call_args)), '\n' ORDER BY ei)
      FILTER (WHERE ename = 'gen_ai.choice') AS ev_completion,
    bool_or(has_calls) FILTER (WHERE ename = 'gen_ai.choice') AS ev_tool_answer,
    -- the first choice's finish_reason (the span's gen_ai.response.finish_reasons is read
    -- first, and from it its first reason)
    first(llm_blank(json_extract_string(ea, '$.finish_reason'))
          ORDER BY TRY_CAST(json_extract_string(ea, '$.index') AS INTEGER) NULLS LAST, ei)
      FILTER (WHERE ename = 'gen_ai.choice') AS ev_finish,
    first(otel_json(coalesce(json_extract_string(ea, '$."gen_ai.input.messages"'),
                             json_extract_string(ea, '$."gen_ai.prompt"'))) ORDER BY ei)
      FILTER (WHERE ename IN ('gen_ai.client.inference.operation.details',
                              'gen_ai.content.prompt'))
      AS ev_input,
    first(otel_json(coalesce(json_extract_string(ea, '$."gen_ai.output.messages"'),
                             json_extract_string(ea, '$."gen_ai.completion"'))) ORDER BY ei)
      FILTER (WHERE ename IN ('gen_ai.client.inference.operation.details',
                              'gen_ai.content.completion'))
      AS ev_output,
    -- the details event's system instructions (the system prompt, kept apart from
    -- gen_ai.input.messages as on a span)
    first(otel_json(json_extract_string(ea, '$."gen_ai.system_instructions"')) ORDER BY ei)
      FILTER (WHERE ename = 'gen_ai.client.inference.operation.details') AS ev_sys_instr
  FROM prompt_event GROUP BY sid
)
SELECT coalesce(i.sid, e.sid) AS sid, idx_prompt, idx_completion, idx_tool_answer, ev_prompt,
  ev_completion, ev_tool_answer, ev_finish, ev_input, ev_output, ev_sys_instr
FROM by_idx i FULL JOIN by_event e ON e.sid = i.sid
"""


def _tools_sql() -> str:
    """``otel_tools``: tool definitions kept as indexed attributes, per span: OpenInference's
    ``llm.tools.N.tool.json_schema`` (each a JSON definition) and OpenLLMetry's older
    ``llm.request.functions.N.name``/``description``/``parameters``."""
    oi = r"^llm\.tools\.(\d+)\.tool\.json_schema$"
    fn = r"^llm\.request\.functions\.(\d+)\.(name|description|parameters)$"
    return f"""
CREATE TEMP TABLE otel_tools AS
WITH oi AS (
  SELECT sid, TRY_CAST(regexp_extract(k, '{oi}', 1) AS INTEGER) AS i, json(vs) AS d
  FROM otel_kv_long WHERE regexp_matches(k, '{oi}') AND json_valid(vs)
), fn_parts AS (
  SELECT sid, TRY_CAST(regexp_extract(k, '{fn}', 1) AS INTEGER) AS i,
    max(vs) FILTER (WHERE regexp_extract(k, '{fn}', 2) = 'name') AS name,
    max(vs) FILTER (WHERE regexp_extract(k, '{fn}', 2) = 'description') AS description,
    max(vs) FILTER (WHERE regexp_extract(k, '{fn}', 2) = 'parameters') AS parameters
  FROM otel_kv_long WHERE regexp_matches(k, '{fn}') GROUP BY ALL
), fn AS (
  SELECT sid, i, rec_obj([{{'k': 'name', 'v': to_json(name)}},
                          {{'k': 'description', 'v': to_json(description)}},
                          {{'k': 'parameters', 'v': CASE WHEN json_valid(parameters)
                                                         THEN json(parameters) END}}]) AS d
  FROM fn_parts WHERE name IS NOT NULL
)
SELECT sid, '[' || string_agg(CAST(d AS VARCHAR), ',' ORDER BY i) || ']' AS idx_tools
FROM (SELECT * FROM oi UNION ALL BY NAME
      SELECT * FROM fn WHERE sid NOT IN (SELECT sid FROM oi))
GROUP BY sid
"""


def _fields_sql() -> str:
    """``otel_fields``: the canonical columns of every span that may be a call."""
    ops = ", ".join(f"'{o}'" for o in _MODEL_OPERATIONS)
    t = {f: _tok(f) for f in _TOKENS}
    return f"""
CREATE TEMP TABLE otel_fields AS
WITH base AS (
  SELECT s.sid, s.line, s.span, s.trace_id, s.span_id, s.parent_id, s.scope_name,
    s.service_name, s.service_version, s.environment, a.* EXCLUDE (sid),
    {_has_tokens()} AS has_tokens,
    {_attr("gen_ai.operation.name")} AS op,
    upper({_attr("openinference.span.kind")}) AS oi_kind,
    {_attr("llm.request.type")} AS llm_type,
    {t["in"]} AS t_in, {t["out"]} AS t_out, {t["total"]} AS t_total,
    {t["cr"]} AS t_cr, {t["cw"]} AS t_cw, {t["r"]} AS t_r, {t["in_all"]} AS t_in_all,
    {_bad_tokens()} AS bad_usage
  FROM otel_spans s LEFT JOIN otel_attrs a USING (sid)
), calls AS (
  SELECT *,
    has_tokens OR op IN ({ops}) OR oi_kind IN ('LLM', 'EMBEDDING')
      OR llm_type IN ('chat', 'completion', 'embedding') AS is_call,
    coalesce(t_cr, 0) + coalesce(t_cw, 0) AS t_cache
  FROM base
), conv AS (
  SELECT *,
    t_cache > 0 AND (t_in < t_cache OR (t_total IS NOT NULL
        AND t_total NOT IN (t_in + t_out, t_in + t_out + coalesce(t_r, 0))
        AND t_total IN (t_in + t_cache + t_out, t_in + t_cache + t_out + coalesce(t_r, 0))))
      AS cache_outside,
    coalesce(t_r, 0) > 0 AND (t_out < t_r OR (t_total IS NOT NULL
        AND t_total NOT IN (t_in + t_out, t_in + t_cache + t_out)
        AND t_total IN (t_in + t_out + t_r, t_in + t_cache + t_out + t_r)))
      AS reasoning_outside
  FROM calls WHERE is_call
)
SELECT sid, line, span, trace_id, span_id, parent_id, bad_usage, t_in, t_out,
  llm_blank({_first(_MODEL)}) AS model,
  llm_blank({_first(["gen_ai.response.model", "llm.response.model"])}) AS response_model,
  {_name_fault(_MODEL)} AS model_fault,
  {_name_fault(["gen_ai.response.model", "llm.response.model"])} AS response_model_fault,
  llm_blank(span.startTimeUnixNano) AS ts_raw,
  rec_ts(llm_blank(span.startTimeUnixNano)) AS ts,
  (TRY_CAST(span.endTimeUnixNano AS HUGEINT) - TRY_CAST(span.startTimeUnixNano AS HUGEINT)) / 1e6
    AS latency_ms,
  rec_provider_for({_first(_PROVIDER)}, llm_blank({_first(_MODEL)})) AS provider,
  coalesce(t_in_all, t_in + CASE WHEN cache_outside THEN t_cache ELSE 0 END) AS input_tokens,
  t_cr AS cache_read_tokens, t_cw AS cache_write_tokens,
  t_out + CASE WHEN reasoning_outside THEN t_r ELSE 0 END AS output_tokens,
  t_r AS reasoning_tokens,
  llm_blank({_attr("gen_ai.response.id")}) AS response_id,
  llm_tier({_first(_TIER)}) AS service_tier,
  llm_blank({_first(_USER)}) AS user_id,
  llm_blank({_first(_SESSION)}) AS session_id,
  llm_blank({_first(["traceloop.workflow.name", "traceloop.association.properties.feature"])})
    AS feature,
  CASE WHEN span.status.code IN ('STATUS_CODE_ERROR', '2')
         OR {_attr("error.type")} IS NOT NULL THEN 'error' ELSE 'ok' END AS status,
  coalesce("finish_reasons.0", "gen_ai.response.finish_reason", "llm.response.finish_reason",
           "finish_reasons") AS finish_raw,
  coalesce({", ".join(f"llm_tok({_attr(k)})" for k in _MAX_TOKENS)},
           llm_tok(json_extract_string(otel_json("llm.invocation_parameters"), '$.max_tokens')),
           llm_tok(json_extract_string(otel_json("llm.invocation_parameters"),
                                       '$.max_completion_tokens'))) AS max_tokens,
  otel_json("gen_ai.input.messages") AS in_msgs,
  otel_json("gen_ai.output.messages") AS out_msgs,
  otel_json("gen_ai.system_instructions") AS sys_instr,
  llm_blank("gen_ai.prompt") AS old_prompt, llm_blank("gen_ai.completion") AS old_completion,
  -- a Chat Completions span (openai.api.type, else an OpenAI chat id or OpenLLMetry's span
  -- name) gets its flat tool definitions nested, as that API takes them
  CASE WHEN CASE lower({_attr("openai.api.type")})
              WHEN 'chat_completions' THEN true WHEN 'responses' THEN false
              ELSE starts_with({_attr("gen_ai.response.id")}, 'chatcmpl-')
                   OR span.name = 'openai.chat' END
       THEN otel_chat_tools(otel_json("gen_ai.tool.definitions"))
       ELSE otel_json("gen_ai.tool.definitions") END AS tool_defs,
  rec_tool_choice(json_extract(otel_json("llm.invocation_parameters"), '$.tool_choice'))
    AS tool_choice,
  rec_obj([
    {{'k': 'service.name', 'v': service_name}}, {{'k': 'service.version', 'v': service_version}},
    {{'k': 'deployment.environment', 'v': environment}},
    {{'k': 'span.name', 'v': span.name}}, {{'k': 'scope', 'v': scope_name}},
    {{'k': 'operation', 'v': op}}, {{'k': 'agent', 'v': {_attr("gen_ai.agent.name")}}},
    {{'k': 'trace_id', 'v': trace_id}}, {{'k': 'span_id', 'v': span_id}}]) AS tags
FROM conv
"""


def _calls_sql(document: bool) -> str:
    """``cand``: one row per record read — every span, and documents that hold none."""
    line = "s.sid" if document else "s.line"
    return f"""
CREATE TEMP TABLE cand AS
WITH RECURSIVE up(sid, anc, depth) AS (
  SELECT f.sid, p.sid, 1 FROM otel_fields f
  JOIN otel_spans p ON p.trace_id = f.trace_id AND p.span_id = f.parent_id
  UNION ALL
  SELECT up.sid, p.sid, up.depth + 1 FROM up
  JOIN otel_spans a ON a.sid = up.anc
  JOIN otel_spans p ON p.trace_id = a.trace_id AND p.span_id = a.parent_id
  WHERE up.depth < 64
), wrappers AS (
  SELECT DISTINCT up.anc AS sid FROM up JOIN otel_fields f ON f.sid = up.anc
), below AS (  -- how many call spans each wrapper has below it
  SELECT anc AS sid, count(*) AS calls FROM up GROUP BY anc
), fill AS (
  -- the nearest wrapper with the same counts fills what the inner span lacks; an inner
  -- span with no counts at all (a streamed client span) takes them from the nearest
  -- wrapper that has counts and no other call below it (an aggregate's sum is not its)
  SELECT up.sid, arg_min(up.anc, up.depth) AS anc,
    bool_or(i.t_in IS NULL AND i.t_out IS NULL) AS counts_from_wrapper FROM up
  JOIN otel_fields i ON i.sid = up.sid JOIN otel_fields w ON w.sid = up.anc
  JOIN below b ON b.sid = up.anc
  WHERE (i.t_in IS NOT NULL OR i.t_out IS NOT NULL)
          AND i.t_in IS NOT DISTINCT FROM w.t_in AND i.t_out IS NOT DISTINCT FROM w.t_out
     OR i.t_in IS NULL AND i.t_out IS NULL AND (w.t_in IS NOT NULL OR w.t_out IS NOT NULL)
          AND b.calls = 1
     OR i.t_in IS NULL AND i.t_out IS NULL AND w.t_in IS NULL AND w.t_out IS NULL
  GROUP BY up.sid
), texts AS (
  SELECT f.sid,
    coalesce(f.in_msgs, x.ev_input) AS in_msgs, coalesce(f.out_msgs, x.ev_output) AS out_msgs,
    coalesce(f.sys_instr, x.ev_sys_instr) AS sys_instr,
    x.idx_prompt, x.idx_completion, x.idx_tool_answer, x.ev_prompt, x.ev_completion, x.ev_tool_answer, x.ev_finish,
    f.old_prompt, f.old_completion
  FROM otel_fields f LEFT JOIN otel_texts x USING (sid)
), shaped AS (
  SELECT t.sid,
    CASE WHEN t.sys_instr IS NOT NULL THEN llm_join(list_transform(
        coalesce(json_extract(t.sys_instr, '$[*]'), [t.sys_instr]),
        lambda p: otel_part_text(p, false)))
    END AS sys_text,
    -- the deprecated gen_ai.prompt / gen_ai.completion attributes: messages as JSON, or a
    -- text (the prompt then one user message)
    coalesce(otel_msgs(t.in_msgs), t.idx_prompt, t.ev_prompt, otel_msgs(otel_json(t.old_prompt)),
             CASE WHEN t.old_prompt IS NOT NULL THEN CAST(json_array(json_object(
                 'role', 'user', 'content', t.old_prompt)) AS VARCHAR) END)
      AS msgs,
    coalesce(otel_msgs_text(t.out_msgs), t.idx_completion, t.ev_completion,
             otel_msgs_text(otel_json(t.old_completion)), t.old_completion) AS completion_text,
    -- an answer with tool calls (a forced tool choice may end with 'stop')
    coalesce(list_contains(list_concat(
               json_extract_string(t.out_msgs, '$[*].parts[*].type'),
               json_extract_string(t.out_msgs, '$[*].content[*].type')), 'tool_call'), false)
      OR coalesce(t.idx_tool_answer, false) OR coalesce(t.ev_tool_answer, false) AS tool_answer,
    -- the answer's own finish reason, when the span has no gen_ai.response.finish_reasons:
    -- the first output message's finish_reason, else the first gen_ai.choice event's
    coalesce(llm_blank(json_extract_string(t.out_msgs, '$[0].finish_reason')), t.ev_finish)
      AS answer_finish
  FROM texts t
), own AS (
  SELECT f.* REPLACE (coalesce(f.finish_raw, s.answer_finish) AS finish_raw),
    s.completion_text, s.tool_answer,
    CASE WHEN s.sys_text IS NOT NULL AND s.msgs IS NOT NULL
           AND json_extract_string(s.msgs, '$[0].role') IS DISTINCT FROM 'system'
           THEN '[' || json_object('role', 'system', 'content', s.sys_text)
                || CASE WHEN json_array_length(s.msgs) > 0 THEN ',' || substr(s.msgs, 2)
                        ELSE ']' END
         ELSE s.msgs END AS prompt_text,
    CASE WHEN json_extract_string(s.msgs, '$[0].role') IN ('system', 'developer')
           THEN json_extract_string(s.msgs, '$[0].content') ELSE s.sys_text END AS system_text,
    coalesce(rec_tools(f.tool_defs), rec_tools(ot.idx_tools)) AS tools_text, f.tool_choice
  FROM otel_fields f JOIN shaped s USING (sid) LEFT JOIN otel_tools ot USING (sid)
), merged AS (
  SELECT o.sid, o.line, o.span, o.ts_raw, o.ts, o.latency_ms, o.status, o.tags,
    c.bad_usage, c.input_tokens, c.cache_read_tokens, c.cache_write_tokens, c.output_tokens,
    c.reasoning_tokens,
    coalesce(o.response_model, w.response_model, o.model, w.model) AS model,
    CASE WHEN o.response_model IS NOT NULL THEN o.response_model_fault
         WHEN w.response_model IS NOT NULL THEN w.response_model_fault
         WHEN o.model IS NOT NULL THEN o.model_fault ELSE w.model_fault END AS model_fault,
    coalesce(o.provider, w.provider) AS provider,
    coalesce(o.response_id, w.response_id) AS response_id,
    coalesce(o.service_tier, w.service_tier) AS service_tier,
    coalesce(o.user_id, w.user_id) AS user_id,
    coalesce(o.session_id, w.session_id) AS session_id,
    coalesce(o.feature, w.feature) AS feature,
    coalesce(o.finish_raw, w.finish_raw) AS finish_raw,
    coalesce(o.max_tokens, w.max_tokens) AS max_tokens,
    coalesce(o.prompt_text, w.prompt_text) AS prompt_text,
    coalesce(o.system_text, w.system_text) AS system_text,
    coalesce(o.completion_text, w.completion_text) AS completion_text,
    CASE WHEN o.completion_text IS NOT NULL THEN o.tool_answer ELSE w.tool_answer END
      AS tool_answer,
    coalesce(o.tools_text, w.tools_text) AS tools_text,
    coalesce(o.tool_choice, w.tool_choice) AS tool_choice,
    o.trace_id, o.span_id
  FROM own o LEFT JOIN fill ON fill.sid = o.sid LEFT JOIN own w ON w.sid = fill.anc
  -- the span whose counts are the call's: its own, or its wrapper's when it has none
  JOIN own c ON c.sid = CASE WHEN fill.counts_from_wrapper AND w.sid IS NOT NULL
                             AND (w.t_in IS NOT NULL OR w.t_out IS NOT NULL)
                             THEN w.sid ELSE o.sid END
)
SELECT {line} AS line,
  CASE WHEN m.sid IS NULL THEN 'not a model call span'
       WHEN m.sid IN (SELECT sid FROM wrappers)
         THEN 'wraps an inner model call span (counted there)' END AS skip_reason,
  CASE WHEN m.model IS NULL THEN 'model call span without a model (gen_ai.request.model)'
       WHEN m.model_fault IS NOT NULL THEN m.model_fault
       WHEN m.bad_usage IS NOT NULL THEN m.bad_usage
       ELSE 'timestamp ' || llm_ts_fault(m.ts_raw, m.ts) END AS reject_reason,
  CAST(s.raw AS VARCHAR) AS raw,
  coalesce(m.response_id, s.trace_id || ':' || s.span_id, md5(s.raw)) AS request_id,
  m.ts, FALSE AS naive_ts, m.provider, m.model, m.input_tokens, m.cache_read_tokens,
  m.cache_write_tokens, m.output_tokens, m.reasoning_tokens, m.service_tier, m.user_id,
  m.session_id, m.feature, m.tags, m.latency_ms, m.status,
  llm_finish(CASE WHEN m.tool_answer OR lower(m.finish_raw) = 'tool_call' THEN 'tool_calls'
                  ELSE m.finish_raw END) AS finish_reason,
  m.max_tokens,
  CASE WHEN m.prompt_text IS NOT NULL THEN 'messages' END AS prompt_kind,
  m.prompt_text, m.system_text, m.completion_text,
  -- the tools are kept beside a prompt only (they are counted with it)
  CASE WHEN m.prompt_text IS NOT NULL THEN m.tools_text END AS tools_text, m.tool_choice
FROM otel_spans s LEFT JOIN merged m USING (sid)
"""


def _log_records_sql(document: bool) -> str:
    """The log records that are no call themselves (an operation details record without its
    span is one, read with the spans): skipped, each saying what it is and where it went."""
    line = "l.sid" if document else "l.line"
    names = ", ".join(f"'{e}'" for e in (*_MESSAGE_EVENTS, _DETAILS_EVENT))
    return f"""
INSERT INTO cand (line, skip_reason, raw)
SELECT {line},
  CASE WHEN l.ename IN ({names}) AND l.span_sid IS NOT NULL THEN
         'GenAI event log record ' || l.ename || CASE
           WHEN l.span_sid IN (SELECT sid FROM otel_ev_kv WHERE NOT from_log)
             THEN ' of a span that carries its GenAI events itself (read there)'
           WHEN l.span_sid NOT IN (SELECT sid FROM otel_fields)
             THEN ' of a span that is not a model call'
           ELSE ': texts of its span''s call' END
       WHEN l.ename IN ({names})
         THEN 'GenAI event log record ' || l.ename || ' without its span in the file '
              || '(texts of no call read)'
       ELSE 'OTLP log record' || coalesce(' ' || l.ename, '') || ', not a GenAI call event' END,
  CAST(l.raw AS VARCHAR)
FROM otel_logs l WHERE l.sid NOT IN (SELECT sid FROM otel_spans)
"""


def _documents_sql() -> str:
    """Records that hold no span and no log record: an empty document, metrics, or not OTLP
    at all."""
    return """
INSERT INTO cand (line, skip_reason, reject_reason, raw)
SELECT line,
  CASE WHEN json_type(json_extract(rec, '$.resourceSpans')) = 'ARRAY'
         THEN 'OTLP document without spans'
       WHEN json_type(json_extract(rec, '$.resourceLogs')) = 'ARRAY'
         THEN 'OTLP logs document without log records'
       WHEN json_extract(rec, '$.resourceMetrics') IS NOT NULL
         THEN 'OTLP metrics, not spans or log records' END,
  'not an OTLP traces or logs document (no resourceSpans or resourceLogs)',
  CAST(rec AS VARCHAR)
FROM rec_in r WHERE NOT EXISTS (SELECT 1 FROM otel_spans s WHERE s.line = r.line)
  AND NOT EXISTS (SELECT 1 FROM otel_logs l WHERE l.line = r.line)
"""


def load_otel(con, path: Path, source: str, ingest_id: int) -> StageStats:
    records = read_records(con, path, source, ingest_id)
    con.execute(MACROS)
    tables = ("otel_spans", "otel_logs", "otel_kv_long", "otel_attrs", "otel_ev_kv",
              "otel_texts", "otel_tools")  # fmt: skip
    for table in (*tables, "otel_fields", "cand"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(_spans_sql())
    con.execute(_logs_sql())
    con.execute(_detached_sql())
    con.execute(_attrs_sql())
    _unwrap_structured(con, "otel_kv_long")
    con.execute(_pivot_sql())
    con.execute(_events_sql())
    _unwrap_structured(con, "otel_ev_kv")
    con.execute(_texts_sql())
    con.execute(_tools_sql())
    con.execute(_fields_sql())
    con.execute(_calls_sql(records.document))
    con.execute(_log_records_sql(records.document))
    con.execute(_documents_sql())
    for table in (*tables, "otel_fields"):
        con.execute(f"DROP TABLE {table}")
    return finish(con, source=source, ingest_id=ingest_id, fmt="otel", records=records)


def _sniff(head: bytes, path: Path) -> bool:
    # the collector's file exporter may write a call's log records before its span
    return head_json_keys(head, b"resourceSpans") or head_json_keys(head, b"resourceLogs")


register_format(
    FileFormat(
        name="otel",
        description="OpenTelemetry GenAI spans, OTLP JSON (one document, or one per line as "
        "the collector's file exporter writes), and their GenAI events as log records; "
        "OpenLLMetry and OpenInference attributes too",
        recognized_by='a "resourceSpans" or "resourceLogs" key in the first 64 KiB',
        sniff=_sniff,
        load=load_otel,
        priority=20,
    )
)
