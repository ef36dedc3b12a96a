"""One call, every log format: the same drawn call written the way each log format (and
the provider behind it) really writes it reads as the same canonical counts and cost.

Canonical (DESIGN.md): input_tokens = ALL input, cache reads and writes included;
output_tokens = ALL output, reasoning included; cache_read_tokens, cache_write_tokens and
reasoning_tokens are the parts. A format that has no field for a part (Helicone and
Bedrock's own counts have no reasoning count, Codex no cache writes) does not get that part
drawn into its field: reasoning is then only inside the output, and the part reads as NULL.

Each template follows the format's own examples and the specs, cited at each writer; never
what llmcost happens to do.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmcost.pricing import PriceBook, parse_table

ACME = """\
provider: acme
version: 2026-11-01
source: https://acme.example/pricing
models:
  acme-large:
    prices:
      - from: 2025-01-01
        input: 3.0
        output: 15.0
        cache_read: 0.3
        cache_write: 3.75
        cache_write_1h: 6.0
        batch: 0.5
"""

MODEL = "acme-large"
T0 = 1_751_356_800  # 2025-07-01T08:00:00Z


@dataclass(frozen=True)
class Call:
    uncached: int
    read: int
    write: int  # all cache writes, the one-hour ones included
    visible: int
    reasoning: int
    hour: int = 0  # the one-hour part of the writes


@st.composite
def _call(draw) -> Call:
    # every real call reads at least one input token (a Codex event whose running total did
    # not advance is, rightly, a repeat)
    write = draw(st.integers(0, 2_000_000))
    return Call(
        uncached=draw(st.integers(1, 2_000_000)),
        read=draw(st.integers(0, 2_000_000)),
        write=write,
        visible=draw(st.integers(0, 2_000_000)),
        reasoning=draw(st.integers(0, 200_000)),
        hour=draw(st.sampled_from([0, write, write // 3])),
    )


CALL = _call()


@dataclass(frozen=True)
class Has:
    """Which parts a format/variant has fields for."""

    write: bool = True
    reasoning: bool = True
    batch: bool = False
    hour: bool = False  # the one-hour writes apart (else every write reads as 5-minute)
    cache: bool = True  # False: the format cannot say a call read or wrote the cache


def _s(value, as_strings: bool):
    return str(value) if as_strings else value


def _iso(n: int) -> str:
    return f"2025-07-01T08:{n // 60:02d}:{n % 60:02d}.000Z"


# ------------------------------------------------------------------------------ writers
# Each writer: (calls, as_strings) -> [(file name, file text, [Has per call, in file order])]


def _litellm(calls: list[Call], as_strings: bool):
    """LiteLLM normalizes to OpenAI's usage: prompt_tokens include the cached reads (and, for
    Anthropic, the writes: cache_creation_input_tokens), completion_tokens the reasoning
    (completion_tokens_details.reasoning_tokens). Templates: tests/data/real/litellm/
    standard_logging_payload.json and spend_logs_payload.json (SpendLogs: metadata is a JSON
    STRING holding usage_object, schema shared/reference/formats/litellm/EXCERPT_schema.prisma);
    counts as strings as in tests/data/formats/litellm/spend_logs.json."""

    def usage(c: Call) -> dict:
        prompt, completion = c.uncached + c.read + c.write, c.visible + c.reasoning
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": c.read},
            "completion_tokens_details": {"reasoning_tokens": c.reasoning},
            "cache_read_input_tokens": c.read,
            "cache_creation_input_tokens": c.write,
        }

    payloads, rows = [], []
    for n, c in enumerate(calls):
        u = usage(c)
        payloads.append(
            {"id": f"slp-{n}", "trace_id": f"t-{n}", "call_type": "completion",
             "cache_hit": False, "stream": False, "status": "success",
             "custom_llm_provider": "anthropic", "startTime": T0 + n, "endTime": T0 + n + 1,
             "model": MODEL, "metadata": {"user_api_key_hash": "h"}, "response_cost": 0.01,
             "total_tokens": u["total_tokens"], "prompt_tokens": u["prompt_tokens"],
             "completion_tokens": u["completion_tokens"],
             "messages": [{"role": "user", "content": "hi"}],
             "response": {"id": f"chatcmpl-{n}", "model": MODEL,
                          "choices": [{"finish_reason": "stop",
                                       "message": {"role": "assistant", "content": "ok"}}],
                          "usage": u},
             "model_parameters": {}, "hidden_params": {}}
        )  # fmt: skip
        meta = {"usage_object": {k: _s(v, as_strings) if isinstance(v, int) else v
                                 for k, v in u.items()}}  # fmt: skip
        rows.append(
            {"request_id": f"sl-{n}", "call_type": "acompletion", "api_key": "k",
             "spend": 0.01, "total_tokens": _s(u["total_tokens"], as_strings),
             "prompt_tokens": _s(u["prompt_tokens"], as_strings),
             "completion_tokens": _s(u["completion_tokens"], as_strings),
             "startTime": f"2025-07-01 08:00:{n % 60:02d}.000000",
             "endTime": f"2025-07-01 08:00:{n % 60:02d}.500000", "model": MODEL,
             "custom_llm_provider": "anthropic", "user": "", "end_user": "", "team_id": "",
             "status": "success", "cache_hit": "None", "metadata": json.dumps(meta),
             "request_tags": "[]", "messages": "{}", "response": "{}"}
        )  # fmt: skip
    has = [Has()] * len(calls)
    out = [
        ("slp.jsonl", "".join(json.dumps(p) + "\n" for p in payloads), has),
        ("spend_logs.json", json.dumps(rows, indent=1), has),
    ]
    if as_strings:  # the SpendLogs CSV export (tests/data/formats/litellm/spend_logs.csv)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        # another request id: the same id in two exports is one call, stored once
        writer.writerows({**r, "request_id": f"csv-{r['request_id']}"} for r in rows)
        out.append(("spend_logs.csv", buf.getvalue(), has))
    return out


def _langfuse(calls: list[Call], as_strings: bool):
    """Langfuse observations (fern ObservationsView, shared/reference/formats/langfuse/
    fern_apis_server_definition_commons.yml: usageDetails is a map of counts whose ``total``
    is the sum of all the other keys or the ingested total). Two real shapes:
    - OTel ingestion (tests/data/real/langfuse/openai-agents.trace.json, google-gemini…):
      ``input`` holds ``prompt_details.cache_read``, ``output`` holds
      ``completion_details.reasoning``, total = input + output (no cache-write key seen);
    - the Langfuse SDKs (tests/data/formats/langfuse/README.md): disjoint parts, ``input``
      without the cache (``cache_read_input_tokens``, ``cache_creation_input_tokens``),
      ``output`` without ``output_reasoning_tokens``; total = the sum of all keys.
    usageDetails values are integers in the spec (map<string, integer>): no strings."""
    out = []
    for n, c in enumerate(calls):
        base = {"traceId": f"trace-{n}", "type": "GENERATION", "name": "llm",
                "startTime": _iso(n), "endTime": _iso(n), "parentObservationId": None,
                "level": "DEFAULT", "model": MODEL, "modelParameters": {},
                "input": None, "output": None, "costDetails": {}, "metadata": {},
                "environment": "production"}  # fmt: skip
        inp, outp = c.uncached + c.read, c.visible + c.reasoning
        nested = {"input": inp, "output": outp, "total": inp + outp,
                  "prompt_details.cache_read": c.read,
                  "completion_details.reasoning": c.reasoning}  # fmt: skip
        disjoint = {"input": c.uncached, "cache_read_input_tokens": c.read,
                    "cache_creation_input_tokens": c.write, "output": c.visible,
                    "output_reasoning_tokens": c.reasoning}  # fmt: skip
        disjoint["total"] = sum(disjoint.values())
        # Langfuse's OpenAI integration (tests/data/formats/langfuse/observations.jsonl,
        # gen-disjoint): input without input_cached_tokens, output without the reasoning
        openai_sdk = {"input": c.uncached, "input_cached_tokens": c.read,
                      "output": c.visible, "output_reasoning_tokens": c.reasoning}  # fmt: skip
        openai_sdk["total"] = sum(openai_sdk.values())
        out.append(({**base, "id": f"otel-{n}", "usageDetails": nested}, Has(write=False)))
        out.append(({**base, "id": f"sdk-{n}", "usageDetails": disjoint}, Has()))
        out.append(({**base, "id": f"oai-{n}", "usageDetails": openai_sdk}, Has(write=False)))
    text = "".join(json.dumps(r) + "\n" for r, _ in out)
    return [("observations.jsonl", text, [h for _, h in out])]


def _otel(calls: list[Call], as_strings: bool):
    """OTel GenAI spans (shared/reference/formats/otel/docs_registry_attributes_gen-ai.md
    [16]-[19]: gen_ai.usage.input_tokens SHOULD include cache_read.input_tokens and
    cache_creation.input_tokens, output_tokens SHOULD include reasoning.output_tokens;
    docs_gen-ai_anthropic.md [10]-[13]: for Anthropic input_tokens + cache_read_input_tokens
    + cache_creation_input_tokens).
    OTLP JSON writes an int attribute as {"intValue": "412"} (a string: int64 in the
    protobuf JSON mapping; tests/data/real/otel/*.otlp.json); a plain number is read too.
    One document per line, as the collector's file exporter writes
    (tests/data/formats/otel/file_exporter.jsonl). Each call also as an OpenInference span
    (shared/reference/formats/otel/spec_llm_spans.md: llm.token_count.prompt/completion/
    total, completion_details.reasoning; prompt_details.cache_read/cache_write as in
    tests/data/formats/otel/openinference.otlp.json): the prompt count is the whole prompt
    (total = prompt + completion), its details parts of it."""

    def attr(key, value):
        if isinstance(value, int):
            return {"key": key, "value": {"intValue": str(value) if as_strings else value}}
        return {"key": key, "value": {"stringValue": value}}

    lines = []
    for n, c in enumerate(calls):
        attrs = [
            attr("gen_ai.operation.name", "chat"),
            attr("gen_ai.provider.name", "anthropic"),
            attr("gen_ai.request.model", MODEL),
            attr("gen_ai.response.id", f"msg-{n}"),
            attr("gen_ai.usage.input_tokens", c.uncached + c.read + c.write),
            attr("gen_ai.usage.cache_read.input_tokens", c.read),
            attr("gen_ai.usage.cache_creation.input_tokens", c.write),
            attr("gen_ai.usage.output_tokens", c.visible + c.reasoning),
            attr("gen_ai.usage.reasoning.output_tokens", c.reasoning),
        ]
        prompt, completion = c.uncached + c.read + c.write, c.visible + c.reasoning
        openinference = [
            attr("openinference.span.kind", "LLM"),
            attr("llm.system", "anthropic"),
            attr("llm.model_name", MODEL),
            attr("llm.token_count.prompt", prompt),
            attr("llm.token_count.prompt_details.cache_read", c.read),
            attr("llm.token_count.prompt_details.cache_write", c.write),
            attr("llm.token_count.completion", completion),
            attr("llm.token_count.completion_details.reasoning", c.reasoning),
            attr("llm.token_count.total", prompt + completion),
        ]
        start = (T0 + n) * 1_000_000_000
        for k, attributes in enumerate((attrs, openinference)):
            span = {"traceId": f"{2 * n + k + 1:032x}", "spanId": f"{2 * n + k + 1:016x}",
                    "name": f"chat {MODEL}", "kind": "SPAN_KIND_CLIENT",
                    "startTimeUnixNano": str(start),
                    "endTimeUnixNano": str(start + 500_000_000),
                    "attributes": attributes, "status": {}}  # fmt: skip
            doc = {"resourceSpans": [{"resource": {"attributes": [attr("service.name", "app")]},
                   "scopeSpans": [{"scope": {"name": "crafted"}, "spans": [span]}]}]}  # fmt: skip
            lines.append(json.dumps(doc) + "\n")
    return [("spans.otlp.jsonl", "".join(lines), [Has()] * (2 * len(calls)))]


def _helicone(calls: list[Call], as_strings: bool):
    """Helicone exports (HeliconeRequest, tests/data/real/helicone/EXCERPT_*): prompt_tokens
    WITHOUT the cache (prompt_cache_read_tokens, prompt_cache_write_tokens apart; see
    tests/data/formats/helicone/export.jsonl: prompt 800, cache read 1200, total 950 =
    prompt + completion); completion_tokens is the provider's (reasoning inside), no
    reasoning column. JSON lines with numbers; the CSV export (strings) when as_strings."""
    rows = []
    for n, c in enumerate(calls):
        completion = c.visible + c.reasoning
        rows.append(
            {"response_id": f"hr-{n}", "response_created_at": _iso(n), "response_status": 200,
             "response_model": MODEL, "request_id": f"hc-{n}", "request_created_at": _iso(n),
             "request_path": "https://api.anthropic.com/v1/messages",
             "request_user_id": "u", "request_model": MODEL, "provider": "ANTHROPIC",
             "delay_ms": 1000, "total_tokens": c.uncached + completion,
             "prompt_tokens": c.uncached, "prompt_cache_write_tokens": c.write,
             "prompt_cache_read_tokens": c.read, "completion_tokens": completion,
             "costUSD": 0.01, "model": MODEL,
             "cache_reference_id": "00000000-0000-0000-0000-000000000000"}
        )  # fmt: skip
    has = [Has(reasoning=False)] * len(calls)
    if not as_strings:
        return [("export.jsonl", "".join(json.dumps(r) + "\n" for r in rows), has)]
    # the export tool's CSV has only these columns (tests/data/real/helicone/
    # EXCERPT_examples_export_typescript_README.md.csv_columns.md), no cache counts: the
    # calls are written without cache (prompt_tokens is then all the input)
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL)
    writer.writerow(["response_id", "response_created_at", "response_status",
                     "request_created_at", "request_body", "request_properties",
                     "request_user_id", "model", "prompt_tokens", "completion_tokens",
                     "latency", "cost"])  # fmt: skip
    for n, c in enumerate(calls):
        body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
        writer.writerow([f"resp-csv-{n}", _iso(n), "200", _iso(n), body, "{}", "u", MODEL,
                         str(c.uncached), str(c.visible + c.reasoning), "1200", "0.01"])  # fmt: skip
    return [("export.csv", buf.getvalue(), [Has(reasoning=False, cache=False)] * len(calls))]


def _bedrock(calls: list[Call], as_strings: bool):
    """Bedrock model invocation logs (tests/data/real/bedrock/panther_invocation_log_tests.yml,
    tests/data/formats/bedrock/crafted_invocation_logs.jsonl): inputTokenCount EXCLUDES the
    cache reads and writes (cacheReadInputTokenCount, cacheWriteInputTokenCount), as the
    Anthropic body's input_tokens does; outputTokenCount is all output (Anthropic's
    output_tokens includes thinking, shared/reference/formats/anthropic/
    src_anthropic_types_usage.py); no reasoning count of its own: the thinking count and the
    one-hour writes are only in the Anthropic response body (outputBodyJson.usage, see
    _anthropic_usage). Numbers (CloudWatch JSON)."""
    lines = []
    for n, c in enumerate(calls):
        rec = {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
               "timestamp": _iso(n), "accountId": "111122223333",
               "identity": {"arn": "arn:aws:sts::111122223333:assumed-role/app/s"},
               "region": "us-east-1", "requestId": f"req-{n}", "operation": "InvokeModel",
               "modelId": f"us.anthropic.{MODEL}-v1:0",
               "input": {"inputContentType": "application/json",
                         "inputTokenCount": c.uncached, "cacheReadInputTokenCount": c.read,
                         "cacheWriteInputTokenCount": c.write},
               "output": {"outputContentType": "application/json",
                          "outputTokenCount": c.visible + c.reasoning,
                          "outputBodyJson": {"id": f"msg_bdrk_{n}", "type": "message",
                                             "role": "assistant", "model": MODEL,
                                             "content": [{"type": "text", "text": "ok"}],
                                             "stop_reason": "end_turn",
                                             "usage": _anthropic_usage(c)}}}  # fmt: skip
        lines.append(json.dumps(rec, separators=(",", ":")) + "\n")
    return [("invocations.jsonl", "".join(lines), [Has(hour=True)] * len(calls))]


def _openai_batch(calls: list[Call], as_strings: bool):
    """OpenAI Batch output lines (BatchRequestOutput, shared/reference/formats/openai/
    openapi.yaml.BatchRequestInput_Output.yaml; tests/data/real/openai/batch_output.jsonl):
    the body is the endpoint's response: a chat completion (CompletionUsage: prompt_tokens
    include prompt_tokens_details.cached_tokens, completion_tokens include
    completion_tokens_details.reasoning_tokens, openapi.yaml.CompletionUsage…) or a Responses
    object (ResponseUsage: input_tokens include input_tokens_details.cached_tokens,
    output_tokens include output_tokens_details.reasoning_tokens). Cache writes: both have
    cache_write_tokens in the input details (CompletionUsage.prompt_tokens_details,
    ResponseUsage.input_tokens_details), inside the input (as the usage reports' input_tokens
    "including cached and cache-write tokens", openapi.yaml.UsageCompletionsResult.yaml).
    Priced at the batch rate."""
    lines, has = [], []
    for n, c in enumerate(calls):
        inp, outp = c.uncached + c.read + c.write, c.visible + c.reasoning
        chat = {"id": f"chatcmpl-{n}", "object": "chat.completion", "created": T0 + n,
                "model": MODEL,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "ok"}}],
                "usage": {"prompt_tokens": inp, "completion_tokens": outp,
                          "total_tokens": inp + outp,
                          "prompt_tokens_details": {"cached_tokens": c.read, "audio_tokens": 0,
                                                    "cache_write_tokens": c.write},
                          "completion_tokens_details": {"reasoning_tokens": c.reasoning,
                                                        "audio_tokens": 0}}}  # fmt: skip
        resp = {"id": f"resp_{n}", "object": "response", "created_at": T0 + n,
                "status": "completed", "model": MODEL, "output": [],
                "usage": {"input_tokens": inp, "output_tokens": outp,
                          "total_tokens": inp + outp,
                          "input_tokens_details": {"cached_tokens": c.read,
                                                   "cache_write_tokens": c.write},
                          "output_tokens_details": {"reasoning_tokens": c.reasoning}}}  # fmt: skip
        for kind, body in (("chat", chat), ("resp", resp)):
            lines.append(
                json.dumps({"id": f"batch_req_{kind}{n}", "custom_id": f"{kind}-{n}",
                            "response": {"status_code": 200, "request_id": f"{kind}{n}",
                                         "body": body}, "error": None}) + "\n"
            )  # fmt: skip
            has.append(Has(batch=True))
    return [("batch_output.jsonl", "".join(lines), has)]


def _claude_code(calls: list[Call], as_strings: bool):
    """Claude Code transcripts (tests/data/real/claude_code/*.jsonl; ccusage's types,
    shared/reference/formats/claude_code/rust_crates_ccusage_src_types.rs): the message's
    usage is the Anthropic API's (shared/reference/formats/anthropic/
    src_anthropic_types_usage.py, see _anthropic_usage)."""
    lines = []
    for n, c in enumerate(calls):
        # streamed: one line per content block, the same message.id and requestId, the same
        # input and cache counts, output_tokens growing to the final count
        # (tests/data/formats/claude_code/crafted_streamed_session.jsonl and its README)
        first = {**_anthropic_usage(c), "output_tokens": min(1, c.visible + c.reasoning)}
        first["output_tokens_details"] = {"thinking_tokens": min(1, c.reasoning)}
        for uuid, block, stop, usage in (
            (f"u0-{n}", {"type": "thinking", "thinking": "."}, None, first),
            (f"u-{n}", {"type": "text", "text": "ok"}, "end_turn", _anthropic_usage(c)),
        ):
            rec = {"type": "assistant", "timestamp": _iso(n), "parentUuid": None,
                   "isSidechain": False, "userType": "external", "cwd": "/home/dev/proj",
                   "sessionId": "sess-1", "version": "1.0.0", "uuid": uuid,
                   "requestId": f"req_{n}",
                   "message": {"id": f"msg_{n}", "type": "message", "role": "assistant",
                               "model": MODEL, "content": [block], "stop_reason": stop,
                               "stop_sequence": None, "usage": usage}}  # fmt: skip
            lines.append(json.dumps(rec) + "\n")
    return [("session.jsonl", "".join(lines), [Has(hour=True)] * len(calls))]


def _anthropic_usage(c: Call) -> dict:
    """The Anthropic API's usage (shared/reference/formats/anthropic/src_anthropic_types_usage.py,
    src_anthropic_types_cache_creation.py, src_anthropic_types_output_tokens_details.py):
    input_tokens without the cache; cache_creation_input_tokens all writes, split by TTL in
    cache_creation; output_tokens "the inclusive, authoritative total", the thinking part of
    it in output_tokens_details.thinking_tokens."""
    return {
        "input_tokens": c.uncached,
        "cache_creation_input_tokens": c.write,
        "cache_read_input_tokens": c.read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": c.write - c.hour,
            "ephemeral_1h_input_tokens": c.hour,
        },
        "output_tokens": c.visible + c.reasoning,
        "output_tokens_details": {"thinking_tokens": c.reasoning},
        "service_tier": "standard",
    }


def _codex(calls: list[Call], as_strings: bool):
    """Codex CLI rollouts (tests/data/formats/codex/README.md and crafted_rollout.jsonl,
    after ccusage's Codex loader): token_count events with last_token_usage and a running
    total_token_usage, OpenAI's convention: input_tokens include cached_input_tokens,
    output_tokens include reasoning_output_tokens, total = input + output. No cache writes."""
    lines = [
        {"timestamp": _iso(0), "type": "session_meta",
         "payload": {"id": "0199a213-81c0-7800-8aa1-bbab2a035a53", "timestamp": _iso(0),
                     "cwd": "/home/dev/proj", "originator": "codex_cli_rs",
                     "cli_version": "0.46.0", "model_provider": "openai"}},
        {"timestamp": _iso(0), "type": "turn_context",
         "payload": {"cwd": "/home/dev/proj", "model": MODEL, "effort": "medium"}},
    ]  # fmt: skip
    total = dict.fromkeys(
        ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens",
         "total_tokens"), 0
    )  # fmt: skip
    for n, c in enumerate(calls):
        inp, outp = c.uncached + c.read, c.visible + c.reasoning
        last = {"input_tokens": inp, "cached_input_tokens": c.read, "output_tokens": outp,
                "reasoning_output_tokens": c.reasoning, "total_tokens": inp + outp}  # fmt: skip
        total = {k: total[k] + v for k, v in last.items()}
        lines.append(
            {"timestamp": _iso(n + 1), "type": "event_msg",
             "payload": {"type": "token_count",
                         "info": {"model_context_window": 272000,
                                  "total_token_usage": total, "last_token_usage": last},
                         "rate_limits": None}}
        )  # fmt: skip
        # Codex re-emits the event unchanged (UI and rate-limit refreshes), and a null one
        lines.append({**lines[-1], "timestamp": _iso(n + 1)})
        lines.append({"timestamp": _iso(n + 1), "type": "event_msg",
                      "payload": {"type": "token_count", "info": None, "rate_limits": {}}})  # fmt: skip
    text = "".join(json.dumps(r) + "\n" for r in lines)
    return [("rollout-2025-07-01T08-00-00-x.jsonl", text, [Has(write=False)] * len(calls))]


WRITERS = {
    "litellm": _litellm,
    "langfuse": _langfuse,
    "otel": _otel,
    "helicone": _helicone,
    "bedrock": _bedrock,
    "openai-batch": _openai_batch,
    "claude-code": _claude_code,
    "codex": _codex,
}


def _expected(c: Call, has: Has) -> tuple:
    if not has.cache:
        c = Call(c.uncached, 0, 0, c.visible, c.reasoning)
    write = c.write if has.write else 0
    hour = c.hour if has.write and has.hour else 0
    inp = c.uncached + c.read + write
    cost = (
        c.uncached * Decimal(3)
        + c.read * Decimal("0.3")
        + (write - hour) * Decimal("3.75")
        + hour * Decimal(6)
        + (c.visible + c.reasoning) * Decimal(15)
    ) / Decimal(1_000_000)
    if has.batch:
        cost *= Decimal("0.5")
    return (
        inp,
        c.read,
        write - hour,
        hour,
        c.visible + c.reasoning,
        c.reasoning if has.reasoning else None,
        cost,
    )


def _book() -> PriceBook:
    table, _ = parse_table(ACME, "acme.yaml")
    return PriceBook([table])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=st.lists(CALL, min_size=1, max_size=8), as_strings=st.booleans())
def test_one_call_reads_the_same_in_every_log_format(tmp_path_factory, drawn, as_strings):
    """Every format's record of one call: all input (cache reads and writes inside), the
    cache parts, all output (reasoning inside), the reasoning part, and the cost, to the
    last digit."""
    from llmcost import costing, store
    from llmcost.ingest import ingest_paths

    tmp = tmp_path_factory.mktemp("formats")
    files = {}
    for fmt, writer in WRITERS.items():
        for name, text, has in writer(drawn, as_strings):
            path = tmp / f"{fmt}-{name}"
            path.write_text(text)
            files[str(path)] = (fmt, has)
    con = store.connect()
    ingest_paths(con, list(files))
    costing.prepare(con, _book())
    got: dict[str, list] = {}
    for source, fmt, *row in con.execute(
        """SELECT source, format, input_tokens, coalesce(cache_read_tokens, 0),
                  coalesce(cache_write_tokens, 0), coalesce(cache_write_1h_tokens, 0),
                  output_tokens, reasoning_tokens, cost_usd
           FROM priced ORDER BY source, source_line"""
    ).fetchall():
        got.setdefault(source, []).append((fmt, *row))
    rejects = con.execute("SELECT source, line, reason FROM rejects").fetchall()
    assert rejects == []
    for path, (fmt, has) in files.items():
        rows = got.get(path, [])
        expected = [
            (fmt, *_expected(c, h)) for c, h in zip(_interleave(drawn, len(has) // len(drawn)), has)
        ]
        assert len(rows) == len(has), (path, rows)
        for row, want in zip(rows, expected):
            # a part a format has no field for reads as NULL or 0, never a guess
            if want[6] is None:
                assert row[6] in (None, 0), (path, row, want)
                row = (*row[:6], None, row[7])
            assert row == want, (path, row, want)


def _interleave(drawn: list[Call], per: int) -> list[Call]:
    """Each call ``per`` times in a row (writers with variants write them call by call)."""
    return [c for c in drawn for _ in range(per)]


# ------------------------------------------------------------------ usage reports (buckets)

SCALE = 1000  # a bucket sums many calls: counts past 2**32 are real for an organization's day


def _usage_reports(calls: list[Call]):
    """Usage reports, one bucket per call (a day each), counts ×SCALE.
    OpenAI organization usage/completions (shared/reference/formats/openai/
    openapi.yaml.UsageCompletionsResult.yaml): input_tokens "including cached and cache-write
    tokens", input_cached_tokens, input_cache_write_tokens, input_uncached_tokens (without
    the cache writes); output_tokens all output (no reasoning count).
    Anthropic usage_report/messages (tests/data/real/anthropic/admin_usage_report_messages.json):
    uncached_input_tokens, cache_read_input_tokens, cache_creation {ephemeral_5m_input_tokens,
    ephemeral_1h_input_tokens}, output_tokens; the three input parts are disjoint."""
    day = 86_400
    openai = {"object": "page", "has_more": False, "next_page": None, "data": []}
    anthropic = {"data": [], "has_more": False, "next_page": None}
    for n, c in enumerate(calls):
        u, r, w, h = (x * SCALE for x in (c.uncached, c.read, c.write, c.hour))
        out = (c.visible + c.reasoning) * SCALE
        start = T0 - T0 % day + n * day
        openai["data"].append(
            {"object": "bucket", "start_time": start, "end_time": start + day,
             "results": [{"object": "organization.usage.completions.result",
                          "input_tokens": u + r + w, "input_cached_tokens": r,
                          "input_cache_write_tokens": w, "input_uncached_tokens": u,
                          "output_tokens": out, "num_model_requests": 1 + n,
                          "project_id": None, "user_id": None, "api_key_id": None,
                          "model": MODEL, "batch": False, "service_tier": "default"}]}
        )  # fmt: skip
        iso = f"2025-07-{1 + n:02d}T00:00:00Z"
        anthropic["data"].append(
            {"starting_at": iso, "ending_at": f"2025-07-{2 + n:02d}T00:00:00Z",
             "results": [{"api_key_id": None, "workspace_id": None, "model": MODEL,
                          "service_tier": "standard", "context_window": "0-200k",
                          "uncached_input_tokens": u, "cache_read_input_tokens": r,
                          "cache_creation": {"ephemeral_5m_input_tokens": w - h,
                                             "ephemeral_1h_input_tokens": h},
                          "output_tokens": out,
                          "server_tool_use": {"web_search_requests": 0}}]}
        )  # fmt: skip
    return [
        ("openai_usage.json", json.dumps(openai, indent=2), Has(hour=False)),
        ("anthropic_usage.json", json.dumps(anthropic, indent=2), Has(hour=True)),
    ]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=st.lists(CALL, min_size=1, max_size=8))
def test_usage_report_buckets_hold_the_drawn_counts(tmp_path_factory, drawn):
    """A usage bucket (an aggregate, not a call): all input (cache reads and writes inside),
    the cache parts and all output, as each provider's report writes them."""
    from llmcost import store
    from llmcost.ingest import ingest_paths

    tmp = tmp_path_factory.mktemp("buckets")
    files = {}
    for name, text, has in _usage_reports(drawn):
        path = tmp / name
        path.write_text(text)
        files[str(path)] = has
    con = store.connect()
    ingest_paths(con, list(files))
    assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == 0
    for path, has in files.items():
        rows = con.execute(
            """SELECT format, model, input_tokens, coalesce(cache_read_tokens, 0),
                      coalesce(cache_write_tokens, 0), coalesce(cache_write_1h_tokens, 0),
                      output_tokens
               FROM usage_buckets WHERE source = ? ORDER BY bucket_start""",
            [path],
        ).fetchall()
        expected = []
        for c in drawn:
            hour = c.hour if has.hour else 0
            expected.append(
                ("usage-report", MODEL, *(x * SCALE for x in (
                    c.uncached + c.read + c.write, c.read, c.write - hour, hour,
                    c.visible + c.reasoning)))
            )  # fmt: skip
        assert rows == expected, path
