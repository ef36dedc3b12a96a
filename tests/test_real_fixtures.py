"""Real provider responses (tests/data/real, see SOURCES.md): exact token columns and costs.

Every expected number below is worked out by hand from the response body and the price
table row in force at the call's date (USD per million tokens).
"""

from __future__ import annotations

import json

import pytest

from llmcost.report import analyze
from tests.conftest import REAL, anthropic_txt_responses, cassette_envelopes, tokens


def calls(path, **kwargs) -> list[dict]:
    """The priced calls of a log, as dicts (through the public analyze path)."""
    from llmcost import costing, store
    from llmcost.ingest import ingest_paths
    from llmcost.pricing import load_pricing
    from llmcost.report import fill_tokens

    con = store.connect()
    ingest_paths(con, [str(path)])
    book = load_pricing()
    fill_tokens(con, book)
    costing.prepare(con, book)
    cur = con.execute("SELECT * FROM priced ORDER BY source_line")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def test_openai_chat_completion(jsonl):
    [call] = calls(jsonl(cassette_envelopes(REAL / "openai/cassette_chat_completion.yaml")))
    assert call["model"] == "gpt-4o-mini-2024-07-18"
    assert call["provider"] == "openai"
    assert call["ts"].isoformat() == "2024-11-11T23:43:50+00:00"  # created 1731368630
    assert tokens(call) == (12, 0, None, None, 5, 0)
    assert call["finish_reason"] == "stop"
    # gpt-4o-mini from 2024-07-18: $0.15 in, $0.60 out
    assert float(call["cost_usd"]) == pytest.approx(12 * 0.15e-6 + 5 * 0.60e-6, abs=1e-12)


def test_openai_responses_with_reasoning(jsonl):
    [call] = calls(jsonl(cassette_envelopes(REAL / "openai/cassette_responses_reasoning.yaml")))
    assert call["model"] == "gpt-5.4-2026-03-05"
    # reasoning (9) is already inside output_tokens (288): not added again
    assert tokens(call) == (44, 0, None, None, 288, 9)
    assert call["max_tokens"] == 300
    # gpt-5.4 from 2026-03-05: $2.50 in, $15 out
    assert float(call["cost_usd"]) == pytest.approx(44 * 2.5e-6 + 288 * 15e-6, abs=1e-12)


def test_anthropic_cache_write_then_read(jsonl):
    write, read = calls(
        jsonl(anthropic_txt_responses(REAL / "anthropic/prompt_caching_responses.txt"))
    )
    # Anthropic input_tokens exclude the cache tokens: canonical input adds them back.
    assert tokens(write) == (4 + 1163, 0, 1163, None, 187, None)
    assert tokens(read)[:2] == (read["input_tokens"], read["cache_read_tokens"])
    raw_read = anthropic_txt_responses(REAL / "anthropic/prompt_caching_responses.txt")[1]["usage"]
    assert read["input_tokens"] == (
        raw_read["input_tokens"]
        + raw_read["cache_read_input_tokens"]
        + raw_read["cache_creation_input_tokens"]
    )
    assert read["cache_read_tokens"] == raw_read["cache_read_input_tokens"] > 0
    # claude-3-5-sonnet: $3 in, $3.75 5-minute cache write, $0.30 cache read, $15 out
    assert float(write["cost_usd"]) == pytest.approx(
        4 * 3e-6 + 1163 * 3.75e-6 + 187 * 15e-6, abs=1e-12
    )
    assert float(read["cost_usd"]) == pytest.approx(
        raw_read["input_tokens"] * 3e-6
        + raw_read["cache_read_input_tokens"] * 0.3e-6
        + raw_read["cache_creation_input_tokens"] * 3.75e-6
        + raw_read["output_tokens"] * 15e-6,
        abs=1e-12,
    )
    assert write["ts"] is None  # bare responses carry no time: priced at today's prices


def test_anthropic_thinking(jsonl):
    body = json.loads(
        json.loads((REAL / "anthropic/cassette_thinking_non_streaming.json").read_text())["body"]
    )
    [call] = calls(jsonl([body]))
    assert call["model"] == "claude-sonnet-4-6"
    # thinking is part of Anthropic's output_tokens; kept as the reasoning share
    assert tokens(call) == (52, 0, 0, 0, 221, 65)
    assert call["service_tier"] == "standard"
    assert float(call["cost_usd"]) == pytest.approx(52 * 3e-6 + 221 * 15e-6, abs=1e-12)


def test_gemini_thoughts_added_to_output(jsonl):
    [call] = calls(jsonl(cassette_envelopes(REAL / "gemini/cassette_generate_content.yaml")))
    assert call["model"] == "gemini-2.5-flash"
    assert call["provider"] == "google"
    assert call["ts"].isoformat().startswith("2025-10-10T15:55:50")
    # candidatesTokenCount 433 does NOT include thoughtsTokenCount 1477
    assert tokens(call) == (8, None, None, None, 433 + 1477, 1477)
    # gemini-2.5-flash (GA 2025-06-17): $0.30 in, $2.50 out (thinking billed as output)
    assert float(call["cost_usd"]) == pytest.approx(8 * 0.3e-6 + 1910 * 2.5e-6, abs=1e-12)


def test_an_openai_stream_without_a_usage_chunk_is_still_a_call(jsonl):
    """The same chunks without the final usage chunk (include_usage is off by default): the
    call was lost (every chunk skipped); its last chunk is now the call, the pieces its
    answer, the output counted from them (5, as the API reported) and the input unknown."""
    from llmcost import costing, store
    from llmcost.ingest import ingest_paths
    from llmcost.pricing import load_pricing
    from llmcost.report import fill_tokens

    text = (REAL / "openai/cassette_chat_completion_streaming.yaml").read_text()
    chunks = [
        line.strip()[len("data: ") :]
        for line in text.splitlines()
        if line.strip().startswith("data: {")
    ]
    chunks = [c for c in chunks if json.loads(c)["usage"] is None]
    con = store.connect()
    # a one-shot read (as analyze without --db): into a database a later ingest goes on
    # with, a stream ending the file waits for it (its usage chunk may follow)
    [result] = ingest_paths(con, [str(jsonl(chunks))], resumable=False).files
    assert (result.ingested, result.skipped, result.rejected) == (1, len(chunks) - 1, 0)
    fill_tokens(con, load_pricing())
    costing.prepare(con, load_pricing())
    row = con.execute(
        "SELECT r.source_line, r.input_tokens, r.output_tokens, r.token_source, r.finish_reason,"
        " t.text FROM requests r JOIN texts t ON t.hash = r.completion_hash"
    ).fetchone()
    assert row == (len(chunks), None, 5, "counted", "stop", '"This is a test."')


def _stream_chunks(usage: bool) -> list[str]:
    text = (REAL / "openai/cassette_chat_completion_streaming.yaml").read_text()
    chunks = [
        line.strip()[len("data: ") :]
        for line in text.splitlines()
        if line.strip().startswith("data: {")
    ]
    return [c for c in chunks if usage or json.loads(c)["usage"] is None]


@pytest.mark.parametrize("usage", [False, True])
def test_a_stream_cut_by_a_chunk_of_the_file_is_one_call(jsonl, monkeypatch, usage):
    """A file is read in chunks of whole lines (128 MB; 700 bytes here, about three stream
    chunks): a stream with chunks on both sides of a cut was a call on each side, the first
    stored kept: its answer '"This' (without a usage chunk), or, with one, a call without
    its reported usage (12 in, 5 out) in place of the usage chunk's. The stream is one call,
    whichever chunks of the file hold its pieces."""
    from llmcost import store
    from llmcost.ingest import ingest_paths

    chunks = _stream_chunks(usage)
    # a second stream, interleaved, and a blank line (that chunk read the careful way)
    other = [c.replace('"chatcmpl-', '"chatcmpl-2') for c in _stream_chunks(False)]
    lines = [line for pair in zip(chunks, other) for line in pair] + chunks[len(other) :]
    lines.insert(5, "")
    monkeypatch.setenv("LLMCOST_CHUNK_BYTES", "700")
    con = store.connect()
    # one-shot (a stream ending the file would wait for a later ingest: test_ingest.py)
    [result] = ingest_paths(con, [str(jsonl(lines))], resumable=False).files
    assert (result.ingested, result.skipped, result.rejected) == (2, len(lines) - 2, 0)
    calls = con.execute(
        "SELECT r.request_id, r.source_line, r.input_tokens, r.output_tokens, t.text"
        " FROM requests r LEFT JOIN texts t ON t.hash = r.completion_hash ORDER BY 1"
    ).fetchall()
    # lines 1-15: the two streams' seven content chunks, one after the other, the blank 5th;
    # line 16, with usage: the first stream's usage chunk (its call), with its chunks' answer
    # (it was None: the call made from the usage chunk alone)
    first = (16, 12, 5) if usage else (14, None, None)
    first = (*first, '"This is a test."')
    assert calls == [
        ("chatcmpl-2ASYMZ4oSykiIFK4lXLReDiKyAjsQl", 15, None, None, '"This is a test."'),
        ("chatcmpl-ASYMZ4oSykiIFK4lXLReDiKyAjsQl", *first),
    ]


def test_openai_stream_chunks_count_once(jsonl):
    """Logged stream chunks: one call (the chunk with usage); the others are skipped."""
    text = (REAL / "openai/cassette_chat_completion_streaming.yaml").read_text()
    chunks = [
        line.strip()[len("data: ") :]
        for line in text.splitlines()
        if line.strip().startswith("data: {")
    ]
    path = jsonl(chunks)
    report = analyze([path])
    assert report["summary"]["requests"] == 1
    assert report["inputs"][0]["skipped"] == len(chunks) - 1
    assert report["inputs"][0]["rejected"] == 0
    [model] = report["by_model"]
    assert (model["model"], model["input_tokens"], model["output_tokens"]) == ("gpt-4-0613", 12, 5)
    # gpt-4: $30 in, $60 out
    assert model["cost_usd"] == pytest.approx(12 * 30e-6 + 5 * 60e-6, abs=1e-12)


# What `llmcost audit` finds in the real logs whose counts are exact recounts (OpenAI
# tokenizers), per call that differs: (request id, reported input, recounted input,
# reported output, recounted output). Each is the log's claim, not ours to follow:
AUDITED_TOKENS = {
    # LiteLLM's mock_response (its id is chatcmpl-<uuid>, its answer "hi"): the usage is the
    # mock's fixed 10 / 20 / 30. The framed prompt [user "Hello, world!"] is 11 tokens for
    # gpt-4o (3 + role + 4 + 3 of priming), "hi" is 1.
    "litellm/standard_logging_payload.json": [
        ("chatcmpl-2299b6a2-82a3-465a-b47c-04e685a2227f", 10, 11, 20, 1)
    ],
    # The Batch API billed 10 for "Hello! How can I assist you today?", 9 tokens as o200k_base
    # encodes it (the model may have sampled a longer split of the same text); the other
    # answer is 10 and 10, the prompts 20 and 22 as billed (tests/test_tokens.py). An output
    # file holds no prompt: the input side is not compared.
    "openai/batch_output.jsonl": [("07bc45ab4e7e26ac23a0c949973327e7", None, None, 10, 9)],
    # The same gpt-4o-mini call through two instrumentations, recorded against a capture
    # server (api_base http://127.0.0.1:8080, fingerprint fp_capture0) whose usage is canned:
    # 412 in and 27 out (8 of them reasoning, for a model without reasoning) for a system and
    # a user message and one tool call. OpenLLMetry logs the tool: 68 with it, as the chat
    # request counts (test_format_otel.py); the v2 span does not: 32. The answer is a tool
    # call: its output is not compared (it was: 27 - 8 = 19, or 27, against the tool call's
    # part {"type": "tool_call", ...} recounted as 21, a JSON the model never wrote), and the
    # audit counts it apart (tool_call_answers; tests/test_tool_answers.py).
    "otel/openllmetry_chat.otlp.json": [("chatcmpl-CD8yqQ2y3kZs1o0Wm7bT", 412, 68, None, None)],
    "otel/otel_openai_v2_chat.otlp.json": [("chatcmpl-CD8yqQ2y3kZs1o0Wm7bT", 412, 32, None, None)],
}
# The real logs' calls answered with tool calls (their output left out of the comparison).
TOOL_CALL_ANSWERS = {"otel/openllmetry_chat.otlp.json": 1, "otel/otel_openai_v2_chat.otlp.json": 1}


@pytest.mark.parametrize("name", sorted(AUDITED_TOKENS))
def test_audit_token_disagreements_of_the_real_logs(name):
    from llmcost import audit

    result = audit.run([REAL / name], threshold_pct=0, top=100)["audit"]["tokens"]
    found = [
        (c["request_id"], c["reported_input"], c["recounted_input"])
        + (c["reported_output"], c["recounted_output"])
        for c in result["off_calls"]
    ]
    assert found == AUDITED_TOKENS[name]
    assert {m["token_source"] for m in result["by_model"]} == {"counted"}
    assert result["tool_call_answers"]["calls"] == TOOL_CALL_ANSWERS.get(name, 0)


def test_audit_cost_disagreements_of_the_real_logs():
    """The only costs the real logs claim that we do not reproduce within 1%: ccusage's
    fixture costUSD values (0.12, 0.34, 0.56; 0.03, 0.04) are round test values, 35 to 200
    times the list price of their few hundred tokens (the computed costs are worked out by
    hand in test_format_agents.py). LiteLLM (response_cost, spend) and Langfuse
    (costDetails.total) agree with ours within 1%."""
    from llmcost import audit

    names = [
        "claude_code/ccusage_project_alpha.jsonl",
        "claude_code/ccusage_project_beta.jsonl",
        "langfuse/google-gemini.trace.json",
        "langfuse/openai-agents.trace.json",
        "litellm/spend_logs_payload.json",
        "litellm/standard_logging_payload.json",
    ]
    cost = audit.run([REAL / n for n in names], threshold_pct=1, top=100)["audit"]["cost"]
    assert cost["requests_with_reported_cost"] == 10 and cost["unpriced_requests"] == 0
    off = {
        d["request_id"]: (round(d["reported_cost_usd"], 9), round(d["computed_cost_usd"], 9))
        for d in cost["disagreements"]
    }
    assert off == {
        "msg-alpha-1:req-alpha-1": (0.12, 0.00114675),
        "msg-alpha-2:req-alpha-2": (0.34, 0.0095925),
        "msg-alpha-3:req-alpha-3": (0.56, 0.002787),
        "msg-beta-1:req-beta-1": (0.03, 0.00018275),
        "msg-beta-2:req-beta-2": (0.04, 0.00027),
    }
    agree = {m["model"]: m for m in cost["by_model"] if not m["model"].startswith("claude")}
    assert {m: a["off_calls"] for m, a in agree.items()} == {
        "gemini-2.5-flash": 0,
        "gpt-4.1-2025-04-14": 0,
        "gpt-4o": 0,
    }
