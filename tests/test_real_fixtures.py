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
    # line 16, with usage: the first stream's usage chunk (its call)
    first = (16, 12, 5, None) if usage else (14, None, None, '"This is a test."')
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
