"""OpenTelemetry GenAI spans (OTLP JSON): real instrumentations and crafted edge cases.

Expected numbers are worked out by hand from the span attributes and the price row in force
at the span's start time (USD per million tokens). Crafted files: tests/data/formats/otel
(README.md there says what each one holds and which spec it follows).
"""

from __future__ import annotations

import gzip
import json
import shutil

import pytest

from llmcost.formats import detect
from tests.conftest import DATA, REAL, cost, load_priced, logged_tools, recorded_call, tokens

OTEL = DATA / "formats" / "otel"


load = load_priced


def _write_otlp(path, spans: list[dict]):
    """``spans`` as an OTLP JSON file at ``path`` (one resource, one scope); returns ``path``."""
    resource = {"resource": {"attributes": []}, "scopeSpans": [{"spans": spans}]}
    path.write_text(json.dumps({"resourceSpans": [resource]}))
    return path


def _chat_span(trace_id: str, span_id: str, model: str, attrs: dict) -> dict:
    """An OpenAI chat span of ``model`` with ``attrs`` (string attributes) and no counts."""
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.system": "openai",
             "gen_ai.request.model": model, **attrs}  # fmt: skip
    return {
        "traceId": trace_id,
        "spanId": span_id,
        "name": f"chat {model}",
        "startTimeUnixNano": "1762000000000000000",
        "endTimeUnixNano": "1762000001000000000",
        "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()],
    }


def test_same_call_from_two_instrumentations_gives_the_same_row():
    """OpenLLMetry and opentelemetry-instrumentation-openai-v2 traced the same gpt-4o-mini
    call: the columns both spans carry agree; only OpenLLMetry carries the cache and
    reasoning details."""
    r1, [llmetry], rej1, texts1 = load(REAL / "otel/openllmetry_chat.otlp.json")
    r2, [v2], rej2, texts2 = load(REAL / "otel/otel_openai_v2_chat.otlp.json")
    assert (r1.format, r2.format) == ("otel", "otel")
    # OpenLLMetry also wrote its workflow span: read, skipped, not a call
    assert (r1.lines_read, r1.ingested, r1.skipped, r1.rejected) == (2, 1, 1, 0)
    assert (r2.lines_read, r2.ingested, r2.skipped, r2.rejected) == (1, 1, 0, 0)
    assert rej1 == rej2 == []
    same = ("request_id", "provider", "model", "input_tokens", "output_tokens", "max_tokens",
            "finish_reason", "status", "prompt_hash", "system_hash", "completion_hash")  # fmt: skip
    assert {c: llmetry[c] for c in same} == {c: v2[c] for c in same}
    assert llmetry["request_id"] == "chatcmpl-CD8yqQ2y3kZs1o0Wm7bT"
    assert (llmetry["provider"], llmetry["model"]) == ("openai", "gpt-4o-mini-2024-07-18")
    assert llmetry["max_tokens"] == 1024
    assert llmetry["finish_reason"] == "tool_calls"  # "tool_call" (semconv) and "tool_calls"
    assert tokens(llmetry) == (412, 256, None, None, 27, 8)
    assert tokens(v2) == (412, None, None, None, 27, None)
    # startTimeUnixNano 1788788050235448000 and 1788792074027616000 (two captures)
    assert llmetry["ts"].isoformat() == "2026-09-07T13:34:10.235448+00:00"
    assert v2["ts"].isoformat() == "2026-09-07T14:41:14.027616+00:00"
    assert llmetry["latency_ms"] == pytest.approx(22.993)  # (…258441000 - …235448000) / 1e6
    assert llmetry["feature"] == "support_triage"  # traceloop.workflow.name
    assert json.loads(llmetry["tags"])["service.name"] == "capture"
    prompt = json.loads(texts1[llmetry["prompt_hash"]])
    assert prompt == [
        {"role": "system", "content": "You are a support agent. Use the tools you are given."},
        {"role": "user", "content": "Where is order A-1187?"},
    ]
    # The answer is one tool call: its arguments, as the other readers keep an answer's calls
    # (it was the whole part {"type": "tool_call", "name": …, "arguments": …}, a JSON the
    # model never wrote, counted as output when a span has no counts).
    assert texts2[v2["completion_hash"]] == '{"order_id":"A-1187"}'
    # gpt-4o-mini: $0.15 in, $0.075 cache read, $0.60 out
    assert cost(llmetry) == pytest.approx((412 - 256) * 0.15e-6 + 256 * 0.075e-6 + 27 * 0.6e-6)
    assert cost(v2) == pytest.approx(412 * 0.15e-6 + 27 * 0.6e-6)


def test_a_span_that_is_not_a_model_call_is_skipped():
    result, rows, rejects, _ = load(REAL / "otel/otlp_proto_example_trace.json")
    assert result.format == "otel"
    assert (result.lines_read, result.ingested, result.skipped, result.rejected) == (1, 0, 1, 0)
    assert rows == [] and rejects == []


def test_anthropic_cache_tokens_inside_or_outside_input():
    """Current semconv (input includes cache), old OpenLLMetry (excludes it: input < cache),
    Strands (excludes it: total = input + cache + output). Ints come wrapped as strings,
    wrapped as numbers, as doubles, and unwrapped."""
    result, rows, rejects, _ = load(OTEL / "anthropic_cache_conventions.otlp.json")
    assert (result.ingested, result.rejected) == (3, 0)
    current, old, strands = rows
    assert tokens(current) == (1300, 1000, 200, None, 250, None)
    assert tokens(old) == (100 + 1000 + 200, 1000, 200, None, 250, None)
    assert tokens(strands) == (4299 + 35574 + 17787, 35574, 17787, None, 631, None)
    assert old["provider"] == "anthropic"  # gen_ai.system "Anthropic"
    assert strands["provider"] == "anthropic"  # gen_ai.system names the framework
    assert current["ts"].isoformat() == "2025-06-10T12:00:00+00:00"
    assert (current["user_id"], current["session_id"]) == ("user-7", "sess-1")
    assert current["finish_reason"] == "stop"  # end_turn
    # claude-sonnet-4: $3 in, $0.30 cache read, $3.75 cache write, $15 out
    per_call = 100 * 3e-6 + 1000 * 0.3e-6 + 200 * 3.75e-6 + 250 * 15e-6
    assert cost(current) == cost(old) == pytest.approx(per_call)
    assert cost(strands) == pytest.approx(
        4299 * 3e-6 + 35574 * 0.3e-6 + 17787 * 3.75e-6 + 631 * 15e-6
    )


def test_wrapper_and_agent_spans_count_each_call_once():
    """A LangChain span around the OpenAI span (same usage) is one call, counted on the inner
    span with the texts and attribution only the wrapper has; an agent span summing two
    calls is not a third call."""
    result, rows, rejects, texts = load(OTEL / "wrapper_and_agent.otlp.json")
    # 7 spans: 3 calls; the wrapper, the agent, the HTTP span and the tool span skipped
    assert (result.lines_read, result.ingested, result.skipped, result.rejected) == (7, 3, 4, 0)
    assert rejects == []
    inner, a, b = rows
    assert [r["request_id"] for r in rows] == [
        "chatcmpl-crafted-inner",
        "chatcmpl-crafted-a",
        "chatcmpl-crafted-b",
    ]
    assert [r["source_line"] for r in rows] == [2, 5, 7]  # span ordinals in the document
    assert inner["model"] == "gpt-4o-mini-2024-07-18"  # the inner span's response model
    assert (inner["user_id"], inner["feature"]) == ("user-1", "geo_quiz")  # from the wrapper
    assert json.loads(texts[inner["prompt_hash"]]) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert texts[inner["completion_hash"]] == "Paris."
    assert texts[inner["system_hash"]] == "Be brief."
    assert [(r["input_tokens"], r["output_tokens"]) for r in rows] == [
        (100, 20),
        (200, 30),
        (100, 20),
    ]
    # gpt-4o-mini: $0.15 in, $0.60 out; the agent's 300/50 are not counted again
    total = sum(cost(r) for r in rows)
    assert total == pytest.approx((100 + 200 + 100) * 0.15e-6 + (20 + 30 + 20) * 0.6e-6)


def test_a_call_span_without_usage_takes_its_wrappers_counts_when_it_is_the_only_call():
    """A streamed client span often carries no usage while the SDK span around it does: the
    call is counted once, with the wrapper's counts (they were lost). An agent's sum over two
    calls without usage is no one call's count: those stay unknown."""
    result, rows, rejects, texts = load(OTEL / "usage_on_the_wrapper.otlp.json")
    assert (result.lines_read, result.ingested, result.skipped, rejects) == (5, 3, 2, [])
    assert [(r["source_line"], r["input_tokens"], r["output_tokens"]) for r in rows] == [
        (2, 1000, 200),
        (4, None, None),
        (5, None, None),
    ]
    assert cost(rows[0]) == pytest.approx(1000 * 0.15e-6 + 200 * 0.6e-6)


def test_openinference_attributes():
    result, [call], rejects, texts = load(OTEL / "openinference.otlp.json")
    assert (result.lines_read, result.ingested, result.skipped) == (2, 1, 1)  # CHAIN skipped
    assert (call["provider"], call["model"]) == ("anthropic", "claude-3-5-haiku-20241022")
    # llm.token_count.prompt includes the cache details (2048 >= 1500 + 500; total 2060)
    assert tokens(call) == (2048, 1500, 500, None, 12, None)
    assert call["max_tokens"] == 1024  # llm.invocation_parameters
    assert call["session_id"] == "conv-9"
    assert json.loads(texts[call["prompt_hash"]]) == [
        {"role": "system", "content": "You answer in French."},
        {"role": "user", "content": "Hello"},
    ]
    assert texts[call["completion_hash"]] == "Bonjour"
    # claude-3-5-haiku: $0.80 in, $0.08 cache read, $1.00 cache write, $4 out
    assert cost(call) == pytest.approx(48 * 0.8e-6 + 1500 * 0.08e-6 + 500 * 1e-6 + 12 * 4e-6)


def test_deprecated_attribute_names_and_event_texts():
    result, [call], rejects, texts = load(OTEL / "deprecated_names.otlp.json")
    assert rejects == []
    assert (call["provider"], call["model"]) == ("openai", "gpt-4o")  # request model only
    assert tokens(call) == (57, None, None, None, 9, None)  # stringValue "57" and "9"
    assert call["user_id"] == "legacy-user"  # llm.user
    assert call["status"] == "error"  # STATUS_CODE_ERROR
    assert call["finish_reason"] == "length"
    assert call["max_tokens"] == 256
    assert json.loads(texts[call["prompt_hash"]]) == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Summarize the report."},
    ]
    assert texts[call["completion_hash"]] == "The report"  # gen_ai.choice message
    # gpt-4o from 2024-10-02: $2.50 in, $10 out
    assert cost(call) == pytest.approx(57 * 2.5e-6 + 9 * 10e-6)


def test_file_exporter_lines_are_accounted():
    """One OTLP document per line: spans are the records, bad lines are rejected with their
    line number, a metrics document and a blank line are skipped."""
    path = OTEL / "file_exporter.jsonl"
    result, rows, rejects, _ = load(path)
    assert result.format == "otel"
    # 1 + 3 spans, a truncated line, a blank line, a metrics line, a non-OTLP object
    assert (result.lines_read, result.ingested, result.skipped, result.rejected) == (8, 2, 3, 3)
    assert result.accounted
    assert [(r["source_line"], r["input_tokens"], r["output_tokens"]) for r in rows] == [
        (1, 1000, 100),
        (3, 2000, 200),
    ]
    assert [r["ts"].isoformat() for r in rows] == [
        "2025-06-10T12:00:00+00:00",
        "2025-06-10T12:00:01+00:00",
    ]
    assert rejects == [
        (2, "not valid JSON (truncated or malformed line)"),
        (3, "attribute gen_ai.usage.input_tokens is not a non-negative integer: lots"),
        (6, "not an OTLP traces or logs document (no resourceSpans or resourceLogs)"),
    ]
    assert sum(cost(r) for r in rows) == pytest.approx(3000 * 0.15e-6 + 300 * 0.6e-6)


def test_gzipped_export_is_detected_and_read(tmp_path):
    gz = tmp_path / "traces.jsonl.gz"
    with (OTEL / "file_exporter.jsonl").open("rb") as src, gzip.open(gz, "wb") as out:
        shutil.copyfileobj(src, out)
    result, rows, rejects, _ = load(gz)
    assert result.format == "otel"
    assert (result.ingested, result.rejected) == (2, 3)


def test_detection_does_not_take_plain_json_lines(jsonl):
    plain = jsonl([{"model": "gpt-4o", "usage": {"input_tokens": 1, "output_tokens": 1}}])
    assert detect(plain, plain.read_bytes()).name == "jsonl"
    doc = OTEL / "wrapper_and_agent.otlp.json"
    assert detect(doc, doc.read_bytes()[:4096]).name == "otel"


def test_formats_command_lists_otel(cli):
    result = cli("formats")
    assert result.exit_code == 0
    assert "otel" in result.stdout and "resourceSpans" in result.stdout


def test_a_broken_document_is_one_rejected_record(tmp_path):
    path = tmp_path / "cut.otlp.json"
    path.write_text('{\n  "resourceSpans": [\n    {"resource": {}, "scopeSpans": [\n')
    result, rows, rejects, _ = load(path)
    assert result.format == "otel"
    assert (result.lines_read, result.ingested, result.rejected) == (1, 0, 1)
    [(line, reason)] = rejects
    assert line == 1 and reason.startswith("not a valid JSON document: Malformed JSON")


def test_the_deprecated_gen_ai_prompt_and_completion_attributes_are_the_texts(tmp_path):
    """gen_ai.prompt / gen_ai.completion (deprecated in the semconv registry, "use Event
    API", but still emitted) hold the messages as a string: they were not read, so a span
    without counts had no text to count and its cost stayed unknown. Messages as JSON are
    read as messages; other text (the registry's own example is a Python repr) as the text."""
    from tests.conftest import load_priced_paths

    def span(span_id: str, prompt: str, completion: str) -> dict:
        return _chat_span(
            "a" * 32, span_id, "gpt-4o", {"gen_ai.prompt": prompt, "gen_ai.completion": completion}
        )

    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is the capital of France?"},
    ]
    answer = [{"role": "assistant", "content": "The capital of France is Paris."}]
    repr_prompt = "[{'role': 'user', 'content': 'What is the capital of France?'}]"
    spans = [
        span("1" * 16, json.dumps(messages), json.dumps(answer)),
        span("2" * 16, repr_prompt, "The capital of France is Paris."),
    ]
    path = _write_otlp(tmp_path / "old.otlp.json", spans)
    _, calls, rejects, texts = load(path)
    assert rejects == []
    assert json.loads(texts[calls[0]["prompt_hash"]]) == messages
    assert texts[calls[0]["system_hash"]] == "Be brief."
    assert texts[calls[0]["completion_hash"]] == "The capital of France is Paris."
    assert json.loads(texts[calls[1]["prompt_hash"]]) == [{"role": "user", "content": repr_prompt}]
    assert texts[calls[1]["completion_hash"]] == "The capital of France is Paris."
    # (both spans are on the document's one line: ordered as the first read, by prompt)
    order = [c["prompt_hash"] for c in calls]
    _, calls, _ = load_priced_paths(path)
    calls.sort(key=lambda c: order.index(c["prompt_hash"]))
    assert [c["token_source"] for c in calls] == ["counted", "counted"]
    assert [(c["input_tokens"], c["output_tokens"]) for c in calls] == [(21, 7), (27, 7)]
    assert cost(calls[0]) == pytest.approx(21 * 2.5e-6 + 7 * 10e-6)  # gpt-4o: $2.50 / $10


def test_tool_definitions_are_kept_and_counted(tmp_path, jsonl):
    """A span's tool definitions (gen_ai.tool.definitions; OpenInference's
    llm.tools.N.tool.json_schema; OpenLLMetry's older llm.request.functions.N.*) were not
    read: a span without counts was counted without them (12 and 26 tokens for recorded calls
    the API billed 36 and 75). They are kept as the JSON-lines reader keeps the same
    request's tools (same tools_hash) and counted with the prompt, with OpenInference's
    invocation parameters' tool_choice."""
    responses = recorded_call("responses_tool_no_params")
    chat = recorded_call("chat_tools_with_system")
    [function] = [t["function"] for t in chat["request"]["tools"]]
    system, user = chat["request"]["messages"]

    def span(span_id: str, attrs: dict) -> dict:
        return _chat_span("b" * 32, span_id, "gpt-4o-mini", attrs)

    question = [
        {"role": "user", "parts": [{"type": "text", "content": responses["request"]["input"]}]}
    ]
    oi_messages = {
        f"llm.input_messages.{i}.message.{field}": m[field]
        for i, m in enumerate([system, user])
        for field in ("role", "content")
    }
    old_prompt = {
        f"gen_ai.prompt.{i}.{field}": m[field]
        for i, m in enumerate([system, user])
        for field in ("role", "content")
    }
    spans = [
        span("1" * 16, {"gen_ai.input.messages": json.dumps(question),
                        "gen_ai.tool.definitions": json.dumps(responses["request"]["tools"])}),
        span("2" * 16, {**oi_messages,
                        "llm.tools.0.tool.json_schema": json.dumps(chat["request"]["tools"][0]),
                        "llm.invocation_parameters": json.dumps({"tool_choice": "none"})}),
        span("3" * 16, {**old_prompt, **{f"llm.request.functions.0.{k}": v if isinstance(v, str)
                                         else json.dumps(v) for k, v in function.items()}}),
    ]  # fmt: skip
    path = _write_otlp(tmp_path / "tools.otlp.json", spans)
    logged = logged_tools(path)
    chat_functions = {**chat["request"], "functions": [function]}
    del chat_functions["tools"]
    same_in_jsonl = [
        logged_tools(jsonl([{"request": request}]))[0][0]
        for request in (responses["request"], chat["request"], chat_functions)
    ]
    assert [h for h, _, _, _ in logged] == same_in_jsonl
    assert json.loads(logged[0][1]) == responses["request"]["tools"]
    assert json.loads(logged[2][1]) == [function]
    assert [(n, source) for _, _, n, source in logged] == [
        (responses["usage"]["input_tokens"], "counted"),  # 36
        (chat["usage"]["prompt_tokens"] + 1, "counted"),  # 75, and tool_choice "none": 1
        (chat["usage"]["prompt_tokens"], "counted"),  # legacy functions render the same
    ]


def test_the_real_openllmetry_span_keeps_its_tool_definitions(jsonl):
    """OpenLLMetry's span of a Chat Completions call (openai.chat, id chatcmpl-…) writes its
    tool flat, as the semconv says; it is kept nested, as the chat request sent it (the same
    tools_hash as that request logged as JSON lines), and recounted with the chat framing:
    68, as chat_prompt_tokens counts the request. It was framed as a Responses API tool (66).
    (The span's 412 is the canned usage of the capture server it was recorded against:
    api_base http://127.0.0.1:8080, fingerprint fp_capture0.)"""
    from llmcost import audit, store, tokens
    from llmcost.ingest import ingest_paths
    from llmcost.pricing import load_pricing

    path = REAL / "otel" / "openllmetry_chat.otlp.json"
    _, [call], _, texts = load(path)
    [tool] = json.loads(texts[call["tools_hash"]])
    assert tool["type"] == "function" and tool["function"]["name"] == "lookup_order"
    messages = json.loads(texts[call["prompt_hash"]])
    request = {"model": "gpt-4o-mini", "messages": messages, "tools": [tool]}
    [(as_lines, _, _, _)] = logged_tools(jsonl([{"request": request}]))
    assert call["tools_hash"] == as_lines
    con = store.connect()
    ingest_paths(con, [str(path)])
    audit.recount(con, load_pricing())
    recounted = con.execute(f"SELECT counted_input FROM {audit.RECOUNTS_TABLE}").fetchone()[0]
    assert recounted == tokens.chat_prompt_tokens(messages, "o200k_base", tools=[tool]) == 68


@pytest.mark.parametrize(
    ("attrs", "framing"),
    [
        ({"gen_ai.response.id": "chatcmpl-AhjSMl7oZ79yIPHLRYgmgXSixTJr7"}, "chat"),
        ({"openai.api.type": "chat_completions"}, "chat"),
        ({"openai.api.type": "responses"}, "responses"),
        ({}, "responses"),  # nothing tells the API: the flat shape's
    ],
)
def test_a_chat_span_s_flat_tool_definitions_get_the_chat_framing(tmp_path, attrs, framing):
    """The recorded Chat Completions call with a system message and a tool (billed 75
    prompt tokens), traced as the semconv writes it: the tool flat in
    gen_ai.tool.definitions. A span that says it is a chat call (its openai.api.type, or an
    OpenAI chat id) is counted with the chat framing, 75 as the API billed; it was counted
    with the Responses API's (73), as a span that tells nothing still is."""
    chat = recorded_call("chat_tools_with_system")
    flat = [{"type": "function", **t["function"]} for t in chat["request"]["tools"]]
    parts = [
        {"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]}
        for m in chat["request"]["messages"]
    ]
    span = _chat_span(
        "c" * 32,
        "1" * 16,
        "gpt-4o-mini",
        {
            "gen_ai.input.messages": json.dumps(parts),
            "gen_ai.tool.definitions": json.dumps(flat),
            **attrs,
        },
    )
    path = _write_otlp(tmp_path / "chat.otlp.json", [span])
    [(_, text, counted, source)] = logged_tools(path)
    reported = chat["usage"]["prompt_tokens"]
    assert source == "counted"
    if framing == "chat":
        assert json.loads(text) == chat["request"]["tools"]
        assert counted == reported == 75
    else:
        assert json.loads(text) == flat
        assert counted == reported - 2


def test_tool_call_answers_keep_their_arguments_only(tmp_path):
    """An answer's tool calls, in gen_ai.output.messages parts (arguments an object or a
    string) and in OpenLLMetry's indexed gen_ai.completion.N.tool_calls.M.* attributes (with
    text before them): the answer is the text and the arguments, not each part's JSON, and
    reads 'tool_calls' though the span says 'stop' (a forced tool choice) or nothing. Spans
    written from the semconv's message parts (ToolCallRequestPart: type, id, name,
    arguments) and OpenLLMetry's attribute names, without counts."""
    parts = [
        {"role": "assistant", "finish_reason": "stop", "parts": [
            {"type": "tool_call", "id": "call_1", "name": "lookup", "arguments": {"id": 7}},
            {"type": "tool_call", "id": "call_2", "name": "lookup", "arguments": '{"id": 8}'},
        ]},
    ]  # fmt: skip
    indexed = {
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.content": "Looking it up.",
        "gen_ai.completion.0.tool_calls.0.name": "lookup",
        "gen_ai.completion.0.tool_calls.0.arguments": '{"id": 9}',
        "gen_ai.completion.0.tool_calls.1.name": "lookup",
        "gen_ai.completion.0.tool_calls.1.arguments": '{"id": 10}',
    }
    spans = [
        _chat_span("b" * 32, "1" * 16, "gpt-4o",
                   {"gen_ai.output.messages": json.dumps(parts),
                    "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [
                        {"type": "text", "content": "Find 7 and 8."}]}])}),
        _chat_span("b" * 32, "2" * 16, "gpt-4o",
                   {**indexed, "gen_ai.prompt.0.role": "user",
                    "gen_ai.prompt.0.content": "Find 9 and 10."}),
    ]  # fmt: skip
    path = _write_otlp(tmp_path / "tools.otlp.json", spans)
    _, calls, rejects, texts = load(path)
    assert rejects == []
    answers = sorted((str(c["finish_reason"]), texts[c["completion_hash"]]) for c in calls)
    assert answers == [
        ("tool_calls", 'Looking it up.{"id": 9}{"id": 10}'),
        ("tool_calls", '{"id":7}{"id": 8}'),
    ]
    # counted from the arguments, and an estimate: the framing of each call is not logged
    from tests.conftest import load_priced_paths

    _, calls, _ = load_priced_paths(path)
    for call in calls:
        assert call["token_source"] == "estimated"
        assert call["output_tokens"] > 0


def _event(name: str, attrs: dict) -> dict:
    """A span event ``name`` with ``attrs`` (ints as intValue, the rest as stringValue)."""
    return {"timeUnixNano": "1762000000500000000", "name": name, "attributes": [
        {"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}}
        for k, v in attrs.items()]}  # fmt: skip


def test_tool_calls_in_gen_ai_choice_events_are_the_answer(tmp_path):
    """A gen_ai.choice event (semconv v1.36 and before, model/gen-ai/deprecated/
    events-deprecated.yaml) whose answer is only tool calls was read as no answer: the span
    has no output count, its completion was NULL, and the call was priced on its input alone.
    The tool calls are its text: their function.arguments, whether in the message
    (message.tool_calls, as the semconv's example and opentelemetry-instrumentation-openai-v2
    write them; arguments a JSON string, "provided as is") or beside it (tool_calls, as the
    semconv's event model and OpenLLMetry write them; arguments an object here), after any
    content; the answer reads 'tool_calls', and its counted output is an estimate."""
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'},
    }
    beside = {"id": "call_2", "type": "function",
              "function": {"name": "get_weather", "arguments": {"location": "Lyon"}}}  # fmt: skip
    spans = [
        _chat_span("d" * 32, "1" * 16, "gpt-4o", {"gen_ai.usage.input_tokens": "20"}),
        _chat_span("d" * 32, "2" * 16, "gpt-4o", {"gen_ai.usage.input_tokens": "30"}),
    ]
    spans[0]["events"] = [
        _event("gen_ai.user.message", {"content": "Weather in Paris?"}),
        _event("gen_ai.choice", {"index": 0, "finish_reason": "tool_calls", "message": json.dumps(
            {"role": "assistant", "tool_calls": [call]})}),
    ]  # fmt: skip
    spans[1]["events"] = [
        _event("gen_ai.user.message", {"content": "And in Lyon?"}),
        _event("gen_ai.choice", {"index": 0, "finish_reason": "tool_calls",
                                 "message": json.dumps({"role": "assistant",
                                                        "content": "Checking."}),
                                 "tool_calls": json.dumps([beside])}),
    ]  # fmt: skip
    path = _write_otlp(tmp_path / "choice.otlp.json", spans)
    _, calls, rejects, texts = load(path)
    assert rejects == []
    answers = [(c["finish_reason"], texts[c["completion_hash"]]) for c in calls]
    assert answers == [
        ("tool_calls", '{"location": "Paris"}'),
        ("tool_calls", 'Checking.{"location":"Lyon"}'),
    ]
    from llmcost import tokens as tok
    from tests.conftest import load_priced_paths

    _, calls, _ = load_priced_paths(path)
    calls.sort(key=lambda c: c["input_tokens"])
    expected = tok.count_texts([a[1] for a in answers], "o200k_base")
    assert [(c["input_tokens"], c["output_tokens"], c["token_source"]) for c in calls] == [
        (20, expected[0], "estimated"),
        (30, expected[1], "estimated"),
    ]
    # gpt-4o: $2.50 in, $10 out
    assert [cost(c) for c in calls] == pytest.approx(
        [n_in * 2.5e-6 + n_out * 10e-6 for n_in, n_out in zip((20, 30), expected)]
    )


def _valued_span(span_id: str, attrs: dict, events: list, structured: bool) -> dict:
    """A gpt-4o-mini chat span with ``attrs`` and span ``events`` ((name, attrs) pairs):
    strings as stringValue, ints as intValue, and objects and lists as a JSON string, or
    in structured form (``_any_value``) when ``structured``."""

    def value(v) -> dict:
        if isinstance(v, str):
            return {"stringValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        return _any_value(v) if structured else {"stringValue": json.dumps(v)}

    span = _chat_span("e" * 32, span_id, "gpt-4o-mini", {})
    span["attributes"] += [{"key": k, "value": value(v)} for k, v in attrs.items()]
    span["events"] = [
        {"name": name, "attributes": [{"key": k, "value": value(v)} for k, v in a.items()]}
        for name, a in events
    ]
    return span


def _any_value(value) -> dict:
    """``value`` as an OTLP JSON AnyValue: objects as kvlistValue, lists as arrayValue, ints
    as intValue strings (proto3 JSON writes an int64 as a string)."""
    if isinstance(value, dict):
        return {"kvlistValue": {"values": [{"key": k, "value": _any_value(v)}
                                           for k, v in value.items()]}}  # fmt: skip
    if isinstance(value, list):
        return {"arrayValue": {"values": [_any_value(v) for v in value]}}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": value}


def _history_spans(counts: dict, structured: bool = False) -> list[dict]:
    """The recorded chat call with two parallel tool calls and their results in its history
    (billed 99 prompt tokens), traced twice as gpt-4o-mini spans with ``counts``: as span
    events (gen_ai.system/user/assistant/tool.message: the assistant's tool_calls as the
    event model has them, each tool result's id) and as gen_ai.input.messages (tool_call
    parts with their arguments as objects, tool_call_response parts)."""
    chat = recorded_call("chat_parallel_tool_calls_and_results")
    system, user, assistant, *results = chat["request"]["messages"]
    calls = assistant["tool_calls"]
    events = [
        ("gen_ai.system.message", {"content": system["content"]}),
        ("gen_ai.user.message", {"content": user["content"]}),
        ("gen_ai.assistant.message", {"tool_calls": calls}),
        *[("gen_ai.tool.message", {"content": r["content"], "id": r["tool_call_id"]})
          for r in results],
    ]  # fmt: skip
    parts = [
        {"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]}
        for m in (system, user)
    ]
    parts.append({"role": "assistant", "parts": [
        {"type": "tool_call", "id": c["id"], "name": c["function"]["name"],
         "arguments": json.loads(c["function"]["arguments"])} for c in calls]})  # fmt: skip
    parts += [{"role": "tool", "parts": [
        {"type": "tool_call_response", "id": r["tool_call_id"], "response": r["content"]}]}
        for r in results]  # fmt: skip
    return [
        _valued_span("1" * 16, counts, events, structured),
        _valued_span("2" * 16, {**counts, "gen_ai.input.messages": parts}, [], structured),
    ]


def test_tool_calls_and_results_in_the_prompt_history_are_counted(tmp_path, cli):
    """A prompt's history with tool calls and their results, as span events (the semconv's
    gen_ai.assistant.message carries tool_calls, gen_ai.tool.message the id of the call it
    answers: model/gen-ai/deprecated/events-deprecated.yaml) and as gen_ai.input.messages
    (tool_call and tool_call_response parts: the registry's example). The events' calls were
    dropped (the prompt recounted 46 of the 99 billed) and the parts' calls were kept as
    their JSON in the assistant's text, the results as anonymous tool messages (87): both
    are now the chat messages the request held (tool_calls, tool_call_id), recounted 99."""
    from tests.conftest import load_priced_paths

    chat = recorded_call("chat_parallel_tool_calls_and_results")
    billed = chat["usage"]["prompt_tokens"]
    path = _write_otlp(tmp_path / "history.otlp.json", _history_spans({}))
    _, calls, con = load_priced_paths(path)
    assert [(c["input_tokens"], c["token_source"]) for c in calls] == [
        (billed, "counted"),
        (billed, "counted"),
    ]
    for call in calls:
        text = con.execute("SELECT text FROM texts WHERE hash = ?", [call["prompt_hash"]])
        messages = json.loads(text.fetchone()[0])
        assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "tool"]
        assert [c["id"] for c in messages[2]["tool_calls"]] == [
            r["tool_call_id"] for r in chat["request"]["messages"][3:]
        ]
        assert [m["tool_call_id"] for m in messages[3:]] == [
            r["tool_call_id"] for r in chat["request"]["messages"][3:]
        ]
    # the same spans with the counts the API reported: the audit's recount agrees
    reported = {"gen_ai.usage.input_tokens": str(billed),
                "gen_ai.usage.output_tokens": str(chat["usage"]["completion_tokens"])}  # fmt: skip
    path = _write_otlp(tmp_path / "reported.otlp.json", _history_spans(reported))
    result = cli("audit", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    counted = json.loads(result.stdout)["audit"]["tokens"]["totals"]["counted"]
    assert (counted["calls"], counted["input_delta_tokens"]) == (2, 0)


def test_a_finish_reason_on_the_answer_is_read(tmp_path):
    """A span without gen_ai.response.finish_reasons whose answer carries its finish reason:
    on the gen_ai.choice event ("finish_reason ... The reason the model stopped generating
    tokens", required: model/gen-ai/deprecated/events-deprecated.yaml) or on the output
    message (gen_ai.output.messages: "finish_reason": "stop" in the registry's example). It
    was not read, so an answer cut at max_tokens ('length') was no truncated answer in the
    waste section. The span's own attribute still comes first."""
    from llmcost.report import analyze

    counts = {"gen_ai.usage.input_tokens": "1000", "gen_ai.usage.output_tokens": "256",
              "gen_ai.request.max_tokens": "256"}  # fmt: skip
    cut = [{"role": "assistant", "finish_reason": "length",
            "parts": [{"type": "text", "content": "Once upon a"}]}]  # fmt: skip
    spans = [
        _chat_span("f" * 32, "1" * 16, "gpt-4o", counts),
        _chat_span("f" * 32, "2" * 16, "gpt-4o",
                   {**counts, "gen_ai.output.messages": json.dumps(cut)}),
        _chat_span("f" * 32, "3" * 16, "gpt-4o",
                   {**counts, "gen_ai.response.finish_reasons": "stop"}),
    ]  # fmt: skip
    for span in (spans[0], spans[2]):
        span["events"] = [
            _event("gen_ai.choice", {"index": 1, "finish_reason": "stop",
                                     "message": json.dumps({"content": "The end."})}),
            _event("gen_ai.choice", {"index": 0, "finish_reason": "length",
                                     "message": json.dumps({"content": "Once upon a"})}),
        ]  # fmt: skip
    path = _write_otlp(tmp_path / "cut.otlp.json", spans)
    _, calls, rejects, _ = load(path)
    assert rejects == []
    by_span = {json.loads(c["tags"])["span_id"]: c["finish_reason"] for c in calls}
    assert by_span == {"1" * 16: "length", "2" * 16: "length", "3" * 16: "stop"}
    truncated = analyze([path])["waste"]["truncated"]
    assert truncated["calls"] == 2
    # gpt-4o: $2.50 in, $10 out
    assert truncated["usd"] == pytest.approx(2 * (1000 * 2.5e-6 + 256 * 10e-6))


def test_structured_attribute_values_are_read(tmp_path):
    """The semconv's content attributes are of type any: gen_ai.input.messages,
    gen_ai.output.messages, gen_ai.system_instructions and gen_ai.tool.definitions "SHOULD
    be recorded in structured form" on a span, and on an event "MUST be recorded in
    structured form" (docs/registry/attributes/gen-ai.md): in OTLP JSON an arrayValue of
    kvlistValue ({"kvlistValue": {"values": [{"key", "value"}]}}, opentelemetry-proto's
    common.proto). They were read as lists of NULL strings or as the wrapper's JSON: the
    prompt, answer, system text and tools were lost or wrong. Spans with every one of them,
    and with span events holding structured values (a gen_ai.assistant.message's
    tool_calls, a gen_ai.choice's message and tool_calls), are read as their twins written
    with JSON strings are, and recounted alike."""
    from tests.conftest import load_priced_paths

    chat = recorded_call("chat_tools_with_system")
    system, user = chat["request"]["messages"]
    content = {
        "gen_ai.response.id": "chatcmpl-structured",  # a chat call: its tools nested
        "gen_ai.system_instructions": [{"type": "text", "content": system["content"]}],
        "gen_ai.input.messages": [{"role": "user",
                                   "parts": [{"type": "text", "content": user["content"]}]}],
        "gen_ai.output.messages": [{"role": "assistant", "finish_reason": "stop",
                                    "parts": [{"type": "text", "content": "Sunny."}]}],
        "gen_ai.tool.definitions": [{"type": "function", **t["function"]}
                                    for t in chat["request"]["tools"]],
    }  # fmt: skip
    call = {"id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'}}  # fmt: skip
    choice = [
        ("gen_ai.user.message", {"content": "Weather in Paris?"}),
        ("gen_ai.choice", {"index": 0, "finish_reason": "tool_calls",
                           "message": {"role": "assistant"}, "tool_calls": [call]}),
    ]  # fmt: skip
    read = []
    for structured in (False, True):
        spans = [
            *_history_spans({}, structured),
            _valued_span("3" * 16, content, [], structured),
            _valued_span("4" * 16, {}, choice, structured),
        ]
        path = _write_otlp(tmp_path / f"structured_{structured}.otlp.json", spans)
        _, calls, con = load_priced_paths(path)
        texts = dict(con.execute("SELECT hash, text FROM texts").fetchall())
        read.append([
            (texts.get(c["prompt_hash"]), texts.get(c["system_hash"]),
             texts.get(c["completion_hash"]), texts.get(c["tools_hash"]), c["finish_reason"],
             c["input_tokens"])
            for c in sorted(calls, key=lambda c: json.loads(c["tags"])["span_id"])
        ])  # fmt: skip
    as_strings, structured = read
    assert structured == as_strings
    events, parts, whole, answer = as_strings
    assert (events[-1], parts[-1]) == (99, 99)  # the history call's billed prompt
    assert whole[1:] == (system["content"], "Sunny.",
                         json.dumps(chat["request"]["tools"], separators=(",", ":")),
                         "stop", chat["usage"]["prompt_tokens"])  # fmt: skip
    assert answer[2:5] == ('{"location": "Paris"}', None, "tool_calls")


def test_indexed_tool_calls_and_results_in_the_prompt_history_are_counted(tmp_path):
    """The tool-call history of test_tool_calls_and_results_in_the_prompt_history_are_counted
    (billed 99) as OpenLLMetry writes a prompt (gen_ai.prompt.N.tool_calls.M.id / name /
    arguments, gen_ai.prompt.N.tool_call_id: its openai instrumentation's _set_prompts) and
    as OpenInference does (llm.input_messages.N.message.tool_calls.M.tool_call.function.name
    and .arguments, message.tool_call_id: spec_llm_spans.md). OpenLLMetry's calls were the
    assistant's text as their JSON and the results were anonymous (recounted 87);
    OpenInference's calls were dropped (46). Both are the chat messages the request held,
    recounted 99; and an OpenInference answer's tool call (llm.output_messages.N.message.
    tool_calls.M.tool_call.function.arguments) is its answer, reading 'tool_calls'."""
    from tests.conftest import load_priced_paths

    chat = recorded_call("chat_parallel_tool_calls_and_results")
    messages = chat["request"]["messages"]
    llmetry, openinference = {}, {}
    for i, m in enumerate(messages):
        oi = f"llm.input_messages.{i}.message"
        llmetry[f"gen_ai.prompt.{i}.role"] = openinference[f"{oi}.role"] = m["role"]
        if m.get("content"):
            llmetry[f"gen_ai.prompt.{i}.content"] = openinference[f"{oi}.content"] = m["content"]
        if m.get("tool_call_id"):
            llmetry[f"gen_ai.prompt.{i}.tool_call_id"] = m["tool_call_id"]
            openinference[f"{oi}.tool_call_id"] = m["tool_call_id"]
        for j, c in enumerate(m.get("tool_calls", [])):
            llmetry |= {f"gen_ai.prompt.{i}.tool_calls.{j}.id": c["id"],
                        f"gen_ai.prompt.{i}.tool_calls.{j}.name": c["function"]["name"],
                        f"gen_ai.prompt.{i}.tool_calls.{j}.arguments":
                            c["function"]["arguments"]}  # fmt: skip
            call = f"{oi}.tool_calls.{j}.tool_call"
            openinference |= {f"{call}.id": c["id"],
                              f"{call}.function.name": c["function"]["name"],
                              f"{call}.function.arguments": c["function"]["arguments"]}  # fmt: skip
    answer = "llm.output_messages.0.message"
    openinference |= {f"{answer}.role": "assistant",
                      f"{answer}.tool_calls.0.tool_call.function.name": "get_current_weather",
                      f"{answer}.tool_calls.0.tool_call.function.arguments":
                          '{"location": "Boston, MA"}'}  # fmt: skip
    spans = [
        _chat_span("e" * 32, "1" * 16, "gpt-4o-mini", llmetry),
        _chat_span("e" * 32, "2" * 16, "gpt-4o-mini", openinference),
    ]
    _, calls, con = load_priced_paths(_write_otlp(tmp_path / "indexed.otlp.json", spans))
    calls.sort(key=lambda c: json.loads(c["tags"])["span_id"])
    # (the OpenInference span's answer is a tool call: its output, and so the call, is an
    # estimate; its prompt is counted)
    assert [(c["input_tokens"], c["token_source"]) for c in calls] == [
        (99, "counted"),
        (99, "estimated"),
    ]
    for call in calls:
        text = con.execute("SELECT text FROM texts WHERE hash = ?", [call["prompt_hash"]])
        prompt = json.loads(text.fetchone()[0])
        assert [c["id"] for c in prompt[2]["tool_calls"]] == [
            c["id"] for c in messages[2]["tool_calls"]
        ]
        assert [m["tool_call_id"] for m in prompt[3:]] == [m["tool_call_id"] for m in messages[3:]]
    [answer_text] = con.execute(
        "SELECT text FROM texts WHERE hash = ?", [calls[1]["completion_hash"]]
    ).fetchone()
    assert (answer_text, calls[1]["finish_reason"]) == ('{"location": "Boston, MA"}', "tool_calls")
