"""OpenTelemetry GenAI events emitted as OTLP log records, beside the spans or alone.

Instrumentations (opentelemetry-instrumentation-openai-v2 and others) write a call's messages
and choices as log records (the event's name in ``eventName``, or the ``event.name``
attribute of older SDKs; its fields in the body, a kvlistValue) linked to the call's span by
traceId/spanId, and the latest semconv's ``gen_ai.client.inference.operation.details`` event
carries the whole call. The crafted file tests/data/formats/otel/spans_and_logs.jsonl (its
README says how it was built) mixes resourceSpans and resourceLogs lines as the collector's
file exporter writes them. gpt-4o-mini: $0.15 in, $0.60 out per million tokens.
"""

from __future__ import annotations

import json

import pytest

from llmcost.formats import detect
from tests.conftest import DATA, cost, load_priced, tokens

OTEL = DATA / "formats" / "otel"
MIXED = OTEL / "spans_and_logs.jsonl"
SYSTEM = "You are a support agent. Use the tools you are given."
USER = "Where is order A-1187?"
DETAILS = "gen_ai.client.inference.operation.details"
CALL = {"id": "call_9RtYbK2mXqLp", "type": "function",
        "function": {"name": "lookup_order", "arguments": '{"order_id":"A-1187"}'}}  # fmt: skip


def _price(n_in: int, n_out: int) -> float:
    return n_in * 0.15e-6 + n_out * 0.60e-6


def test_spans_carry_the_usage_and_their_log_records_the_texts(cli):
    """Calls A and B: their spans carry the usage, their messages and choices are log records
    (A's named by eventName, B's by the event.name attribute) in lines before and after the
    spans' line: each call has both, once. Call D is an operation details record whose span
    the file does not hold: a call of its own. The file's other log records are no call."""
    result, rows, rejects, texts = load_priced(MIXED)
    assert result.format == "otel"
    # 3 + 2 + 5 + 3 + 1 records: 3 calls (2 spans, 1 details record), 11 log records skipped
    assert (result.lines_read, result.ingested, result.skipped, result.rejected) == (14, 3, 11, 0)
    assert rejects == []
    assert [(r["source_line"], r["request_id"], tokens(r)[0], tokens(r)[4], r["finish_reason"])
            for r in rows] == [
        (2, "chatcmpl-CD8yqQ2y3kZs1o0Wm7bT", 412, 27, "tool_calls"),
        (2, "chatcmpl-CD8yrK4vW1tQe7nBz2Lx", 468, 19, "stop"),
        (5, "chatcmpl-CD8ysT0pXw3mNc5Rb8Qd", 52, 9, "stop"),
    ]  # fmt: skip
    a, b, d = rows
    assert json.loads(texts[a["prompt_hash"]]) == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": USER},
    ]
    assert texts[a["system_hash"]] == SYSTEM
    assert texts[a["completion_hash"]] == CALL["function"]["arguments"]  # the tool call's
    assert json.loads(texts[b["prompt_hash"]]) == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": USER},
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": CALL["id"],
         "content": '{"order_id":"A-1187","status":"shipped","eta":"Tuesday"}'},
    ]  # fmt: skip
    assert texts[b["completion_hash"]] == (
        "Order A-1187 shipped on 5 September and should arrive on Tuesday."
    )
    assert json.loads(texts[d["prompt_hash"]]) == [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "Is A-1187 shipped?"},
    ]
    assert (texts[d["system_hash"]], texts[d["completion_hash"]]) == ("Answer in one word.", "Yes.")
    assert (d["provider"], d["model"]) == ("openai", "gpt-4o-mini-2024-07-18")
    assert d["ts"].isoformat() == "2026-09-07T14:41:16.927616+00:00"  # the record's time
    total = _price(412 + 468 + 52, 27 + 19 + 9)
    assert sum(cost(r) for r in rows) == pytest.approx(total)
    out = cli("analyze", MIXED, "--format", "json")
    assert out.exit_code == 0, out.stderr
    summary = json.loads(out.stdout)["summary"]
    assert (summary["requests"], summary["unpriced_requests"]) == (3, 0)
    assert summary["total_cost_usd"] == pytest.approx(total)


def _as_span_events(line: str) -> list[dict]:
    """The file's spans with their log records moved onto them as span events: the event's
    name, and its body's fields then its attributes as the event's attributes."""
    docs = [json.loads(x) for x in line.splitlines()]
    spans = [s for d in docs if "resourceSpans" in d
             for s in d["resourceSpans"][0]["scopeSpans"][0]["spans"]]  # fmt: skip
    by_id = {s["spanId"]: s for s in spans}
    records = [r for d in docs if "resourceLogs" in d
               for r in d["resourceLogs"][0]["scopeLogs"][0]["logRecords"]]  # fmt: skip
    for record in records:
        names = [a["value"]["stringValue"] for a in record["attributes"]
                 if a["key"] == "event.name"]  # fmt: skip
        name = record.get("eventName") or (names[0] if names else "")
        span = by_id.get(record["spanId"])
        if span is None or not name.startswith("gen_ai.") or "body" not in record:
            continue
        attrs = [a for a in record["attributes"] if a["key"] != "event.name"]
        body = record["body"]["kvlistValue"]["values"]
        span.setdefault("events", []).append(
            {"timeUnixNano": record["timeUnixNano"], "name": name, "attributes": body + attrs}
        )
    return spans


def test_log_records_give_the_texts_the_span_events_give(tmp_path):
    """The same events on the spans (the form read before) and as log records: the same
    texts, finish reasons and counts, call for call."""
    spans = _as_span_events(MIXED.read_text())
    assert [len(s["events"]) for s in spans] == [3, 5]
    doc = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": spans}]}]}
    events = tmp_path / "events.otlp.json"
    events.write_text(json.dumps(doc))
    _, from_events, _, _ = load_priced(events)
    _, from_logs, _, _ = load_priced(MIXED)
    same = ("request_id", "input_tokens", "output_tokens", "finish_reason", "prompt_hash",
            "system_hash", "completion_hash")  # fmt: skip
    assert all(r["prompt_hash"] and r["completion_hash"] for r in from_events)
    assert [{c: r[c] for c in same} for r in from_events] == [
        {c: r[c] for c in same} for r in from_logs[:2]
    ]


def test_log_records_that_are_no_call_are_skipped_saying_what(monkeypatch):
    """Every log record is read and accounted: each one that is no call is skipped with what
    it is (never dropped, never a call of its own)."""
    from llmcost.formats import otel

    seen = []
    real_finish = otel.finish

    def finish(con, **kw):
        seen.extend(con.execute(
            "SELECT line, skip_reason FROM cand WHERE skip_reason IS NOT NULL ORDER BY ALL"
        ).fetchall())  # fmt: skip
        return real_finish(con, **kw)

    monkeypatch.setattr(otel, "finish", finish)
    load_priced(MIXED)
    texts = "GenAI event log record {}: texts of its span's call"
    assert seen == sorted(
        [(1, texts.format(e)) for e in ("gen_ai.system.message", "gen_ai.user.message",
                                        "gen_ai.choice")]
        + [(3, texts.format(e)) for e in ("gen_ai.system.message", "gen_ai.user.message",
                                          "gen_ai.assistant.message", "gen_ai.tool.message",
                                          "gen_ai.choice")]
        + [(4, "OTLP log record, not a GenAI call event"),
           (4, "OTLP log record gen_ai.evaluation.result, not a GenAI call event"),
           (4, "GenAI event log record gen_ai.user.message without its span in the file "
               "(texts of no call read)")]
    )  # fmt: skip


def _details_attrs() -> list[dict]:
    """The attributes of call D's operation details record in the mixed file."""
    last = json.loads(MIXED.read_text().splitlines()[-1])
    [record] = last["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    assert record["eventName"] == DETAILS
    return record["attributes"]


def test_an_operation_details_record_alone_is_the_call_its_span_would_be(tmp_path):
    """A logs-only export (one pretty-printed document) holding an operation details record:
    detected as OTel, and the call it describes, as a span with the same attributes is."""
    record = {"timeUnixNano": "1762000000000000000", "eventName": DETAILS,
              "attributes": _details_attrs()}  # fmt: skip
    logs = tmp_path / "logs.otlp.json"
    logs.write_text(json.dumps({"resourceLogs": [{"resource": {"attributes": []}, "scopeLogs": [
        {"scope": {"name": "opentelemetry.util.genai.handler"}, "logRecords": [record]}]}]},
        indent=2))  # fmt: skip
    assert detect(logs, logs.read_bytes()).name == "otel"
    span = {"traceId": "ab" * 16, "spanId": "cd" * 8, "startTimeUnixNano": "1762000000000000000",
            "attributes": _details_attrs()}  # fmt: skip
    spans = tmp_path / "span.otlp.json"
    spans.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}))
    result, [call], rejects, texts = load_priced(logs)
    assert (result.format, result.lines_read, result.ingested, rejects) == ("otel", 1, 1, [])
    _, [as_span], _, _ = load_priced(spans)
    same = ("request_id", "ts", "provider", "model", "input_tokens", "output_tokens",
            "finish_reason", "prompt_hash", "system_hash", "completion_hash")  # fmt: skip
    assert {c: call[c] for c in same} == {c: as_span[c] for c in same}
    assert texts[call["completion_hash"]] == "Yes."
    assert cost(call) == pytest.approx(_price(52, 9))


def test_an_operation_details_record_of_a_span_in_the_file_gives_it_its_texts(tmp_path):
    """The details record's span is in the file, with the usage and no messages: one call,
    the record's messages its texts, as the same event on the span gives them."""
    attrs = [a for a in _details_attrs() if a["key"] != "gen_ai.response.id"]
    messages = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions")
    span = {"traceId": "ab" * 16, "spanId": "cd" * 8, "startTimeUnixNano": "1762000000000000000",
            "attributes": [a for a in attrs if a["key"] not in messages]}  # fmt: skip
    record = {"traceId": "ab" * 16, "spanId": "cd" * 8, "timeUnixNano": "1762000000500000000",
              "eventName": DETAILS, "attributes": attrs}  # fmt: skip
    path = tmp_path / "both.jsonl"
    path.write_text(
        json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}) + "\n"
        + json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}) + "\n"
    )  # fmt: skip
    result, [call], rejects, texts = load_priced(path)
    assert (result.lines_read, result.ingested, result.skipped, rejects) == (2, 1, 1, [])
    assert call["request_id"] == "ab" * 16 + ":" + "cd" * 8
    assert json.loads(texts[call["prompt_hash"]])[-1] == {
        "role": "user", "content": "Is A-1187 shipped?"}  # fmt: skip
    assert texts[call["completion_hash"]] == "Yes."
    # the record's gen_ai.system_instructions are the call's system prompt (they were read
    # from a span's own attributes only)
    assert texts[call["system_hash"]] == "Answer in one word."
    assert cost(call) == pytest.approx(_price(52, 9))
    event = {"name": record["eventName"], "attributes": attrs}
    on_span = tmp_path / "event.otlp.json"
    on_span.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
        {**span, "events": [event]}]}]}]}))  # fmt: skip
    _, [as_event], _, _ = load_priced(on_span)
    same = ("request_id", "input_tokens", "output_tokens", "finish_reason", "prompt_hash",
            "system_hash", "completion_hash")  # fmt: skip
    assert {c: call[c] for c in same} == {c: as_event[c] for c in same}


def test_a_span_with_its_own_events_keeps_them_once(tmp_path):
    """A span that carries its message events itself, and the same events as log records:
    its prompt holds each message once."""
    [a, _] = _as_span_events(MIXED.read_text())
    lines = MIXED.read_text().splitlines()
    spans = {"resourceSpans": [{"scopeSpans": [{"spans": [a]}]}]}
    path = tmp_path / "twice.jsonl"
    path.write_text(lines[0] + "\n" + json.dumps(spans) + "\n")
    result, [call], rejects, texts = load_priced(path)
    assert (result.lines_read, result.ingested, result.skipped, rejects) == (4, 1, 3, [])
    assert json.loads(texts[call["prompt_hash"]]) == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": USER},
    ]
