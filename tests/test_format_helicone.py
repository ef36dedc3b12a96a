"""Helicone request exports (CSV, JSON array, JSON lines).

No real Helicone export file was found: the files in tests/data/formats/helicone are
crafted, column for column, from Helicone's export tool and its HeliconeRequest type
(tests/data/real/helicone/EXCERPT_*; README.md there). Expected numbers are worked out by
hand from the rows and the price row in force on the request's date (USD per million).
"""

from __future__ import annotations

import json

import pytest

from llmcost.formats import detect
from tests.conftest import (
    DATA,
    cost,
    load_priced,
    load_priced_paths,
    logged_tools,
    recorded_call,
    tokens,
    write_jsonl,
)

HELICONE = DATA / "formats" / "helicone"


load = load_priced


def test_export_csv():
    """The export tool's 12 CSV columns; its object cells carry doubled-twice quotes."""
    result, rows, rejects, texts = load(HELICONE / "export.csv")
    assert result.format == "helicone"
    assert (result.lines_read, result.ingested, result.skipped, result.rejected) == (4, 3, 0, 1)
    assert rejects == [(5, "prompt_tokens is not a non-negative integer: n/a")]
    mini, sonnet, failed = rows
    assert [r["source_line"] for r in rows] == [2, 3, 4]
    assert (mini["request_id"], mini["model"], mini["provider"]) == (
        "resp-csv-1",
        "gpt-4o-mini-2024-07-18",
        "openai",
    )
    assert mini["ts"].isoformat() == "2025-04-01T09:00:00+00:00"
    assert tokens(mini)[0::4] == (1200, 300)
    assert (mini["user_id"], mini["feature"], mini["latency_ms"]) == ("user-a", "search", 1200)
    assert json.loads(mini["tags"]) == {"Feature": "search", "Environment": "prod"}
    assert json.loads(texts[mini["prompt_hash"]]) == [
        {"role": "user", "content": "Find flights to Oslo"}
    ]
    assert json.loads(texts[sonnet["prompt_hash"]]) == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Hi"},
    ]
    assert sonnet["provider"] == "anthropic"  # the CSV has no provider column: from the model
    assert failed["status"] == "error"  # response_status 500
    # gpt-4o-mini: $0.15 in, $0.60 out; claude-3-5-sonnet: $3 in, $15 out
    assert cost(mini) == pytest.approx(1200 * 0.15e-6 + 300 * 0.6e-6) == pytest.approx(0.00036)
    assert cost(sonnet) == pytest.approx(50 * 3e-6 + 120 * 15e-6) == pytest.approx(0.00195)
    assert [r["reported_cost_usd"] for r in rows] == [0.00036, 0.00195, 0.0]


def test_export_json_lines_cache_tokens_outside_prompt_tokens():
    """Helicone's prompt_tokens exclude the cache reads and writes: input adds them."""
    result, rows, rejects, texts = load(HELICONE / "export.jsonl")
    # 5 lines: 2 calls, a blank line, a Helicone cache hit (skipped), a garbage line
    assert (result.lines_read, result.ingested, result.skipped, result.rejected) == (5, 2, 2, 1)
    assert rejects == [(4, "not valid JSON")]
    assert result.naive_timestamps == 1  # "2025-06-02 11:00:00.000"
    gpt4o, sonnet = rows
    assert gpt4o["model"] == "gpt-4o-2024-08-06"  # response_model first
    assert tokens(gpt4o) == (800 + 1200, 1200, 0, None, 150, None)
    assert (gpt4o["session_id"], gpt4o["feature"]) == ("sess-h1", "summarize")  # properties
    assert (gpt4o["max_tokens"], gpt4o["finish_reason"]) == (800, "stop")
    assert texts[gpt4o["system_hash"]] == "Summarize."
    assert texts[gpt4o["completion_hash"]] == "Short."
    assert (sonnet["provider"], sonnet["source_line"]) == ("anthropic", 3)
    assert tokens(sonnet) == (20 + 3000, 0, 3000, None, 400, None)
    assert sonnet["prompt_hash"] is None  # the body placeholder is not a prompt
    # gpt-4o: $2.50 in, $1.25 cache read, $10 out
    assert cost(gpt4o) == pytest.approx(800 * 2.5e-6 + 1200 * 1.25e-6 + 150 * 10e-6)
    assert gpt4o["reported_cost_usd"] == pytest.approx(cost(gpt4o))
    # claude-sonnet-4: $3 in, $3.75 cache write, $15 out
    assert cost(sonnet) == pytest.approx(20 * 3e-6 + 3000 * 3.75e-6 + 400 * 15e-6)


def test_export_json_array_with_the_tools_trailing_comma():
    result, [call], rejects, _ = load(HELICONE / "export.json")
    assert (result.lines_read, result.ingested, result.rejected) == (1, 1, 0)
    assert (call["model"], call["input_tokens"], call["output_tokens"]) == ("gpt-4.1", 1000, 200)
    assert call["latency_ms"] == 1500
    assert cost(call) == pytest.approx(1000 * 2e-6 + 200 * 8e-6) == pytest.approx(0.0036)


def test_request_body_tools_are_kept_and_counted(tmp_path, jsonl):
    """The request body's tools are the call's tool definitions: kept as the JSON-lines reader
    keeps the same request's (same tools_hash), and counted with the prompt when the export
    has no counts: the recorded call's 75 prompt tokens (26 without its tool); with its
    tool_choice (a forced function: 7 + the name's 3 tokens)."""
    case = recorded_call("chat_tools_with_system")
    request = case["request"]
    row = {
        "request_id": "h-tools",
        "request_created_at": "2026-10-01T10:00:00Z",
        "provider": "OPENAI",
        "model": request["model"],
        "prompt_tokens": None,
        "completion_tokens": None,
        "request_body": request,
        "response_body": {},
    }
    forced = {"type": "function", "function": {"name": "get_current_weather"}}
    forced_row = {
        **row,
        "request_id": "h-forced",
        "request_body": {**request, "tool_choice": forced},
    }
    [(tools_hash, text, input_tokens, source), forced_call] = logged_tools(
        write_jsonl(tmp_path / "helicone.jsonl", [row, forced_row])
    )
    [(jsonl_hash, _, jsonl_input, _)] = logged_tools(jsonl([{"request": request}]))
    assert tools_hash == jsonl_hash and json.loads(text) == request["tools"]
    assert (input_tokens, source) == (jsonl_input, "counted")
    assert input_tokens == case["usage"]["prompt_tokens"] == 75
    assert forced_call == (tools_hash, text, 75 + 7 + 3, "counted")


def test_embeddings_and_image_responses_have_no_answer_to_count(tmp_path):
    """Helicone stores no completion_tokens for an embeddings call (its usage has none): the
    output was counted from the response body's JSON, the 1536 floats of the vector (9,000+
    tokens of output for an 8-token call), and an image's base64 likewise. Such a response
    has no text answer: output stays unknown, as the JSON-lines reader leaves it."""
    vector = [round(0.0001 * i - 0.07, 8) for i in range(1536)]
    embedding = {
        "request_id": "h-emb",
        "request_created_at": "2025-03-10T12:00:00Z",
        "response_status": 200,
        "provider": "OPENAI",
        "model": "text-embedding-3-small",
        "prompt_tokens": 8,
        "completion_tokens": None,
        "total_tokens": 8,
        "cost": 1.6e-07,
        "request_body": {"model": "text-embedding-3-small", "input": "The food was good"},
        "response_body": {
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": vector}],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 8, "total_tokens": 8},
        },
    }
    image = {
        **embedding,
        "request_id": "h-img",
        "model": "dall-e-3",
        "prompt_tokens": 0,
        "request_body": {"model": "dall-e-3", "prompt": "a cat", "response_format": "b64_json"},
        "response_body": {"created": 1741608000, "data": [{"b64_json": "iVBORw0K" + "A" * 4000}]},
    }
    result, rows, _ = load_priced_paths(write_jsonl(tmp_path / "h.jsonl", [embedding, image]))
    assert result.total("ingested") == 2
    emb, img = rows
    assert (emb["input_tokens"], emb["output_tokens"], emb["token_source"]) == (8, None, "reported")
    assert (emb["completion_hash"], img["completion_hash"]) == (None, None)
    assert img["output_tokens"] is None
    # text-embedding-3-small: $0.02 per million input tokens
    assert cost(emb) == pytest.approx(8 * 0.02e-6) == emb["reported_cost_usd"]


def test_detection(jsonl):
    for name in ("export.csv", "export.json", "export.jsonl"):
        path = HELICONE / name
        assert detect(path, path.read_bytes()[:65536]).name == "helicone", name
    plain = jsonl([{"model": "gpt-4o", "prompt_tokens": 3, "completion_tokens": 1}])
    assert detect(plain, plain.read_bytes()).name == "jsonl"


def test_formats_command_lists_helicone(cli):
    result = cli("formats")
    assert result.exit_code == 0 and "helicone" in result.stdout
