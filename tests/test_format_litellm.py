"""LiteLLM SpendLogs rows and StandardLoggingPayload logs: real payloads and crafted files.

Expected numbers are worked out by hand from the rows and the price row in force on the
call's date (USD per million tokens). Crafted files: tests/data/formats/litellm (README.md).
"""

from __future__ import annotations

import json

import pytest

from llmcost.formats import detect
from tests.conftest import (
    DATA,
    REAL,
    cost,
    load_priced,
    logged_tools,
    recorded_call,
    tokens,
    write_jsonl,
)

LITELLM = DATA / "formats" / "litellm"


load = load_priced


@pytest.mark.parametrize(
    "name, request_id",
    [
        ("spend_logs_payload.json", "chatcmpl-2283081b-dc89-41f6-93e6-d4f914774027"),
        ("standard_logging_payload.json", "chatcmpl-2299b6a2-82a3-465a-b47c-04e685a2227f"),
    ],
)
def test_real_litellm_payloads(name, request_id):
    """Both payloads log the same gpt-4o call: 10 prompt + 20 completion tokens, $0.000225."""
    result, [call], rejects, _ = load(REAL / "litellm" / name)
    assert result.format == "litellm"
    assert (result.lines_read, result.ingested, result.rejected) == (1, 1, 0)
    assert result.naive_timestamps == 1  # "2025-01-24 09:20:46.847371", read as UTC
    assert call["request_id"] == request_id
    assert (call["provider"], call["model"]) == ("openai", "gpt-4o")
    assert call["ts"].isoformat() == "2025-01-24T09:20:46.847371+00:00"
    assert tokens(call)[0::4] == (10, 20)
    assert call["reported_cost_usd"] == pytest.approx(0.000225)
    # gpt-4o from 2024-10-02: $2.50 in, $10 out -- agrees with LiteLLM's spend
    assert cost(call) == pytest.approx(10 * 2.5e-6 + 20 * 10e-6) == pytest.approx(0.000225)
    assert call["status"] == "ok"


def test_standard_logging_payload_texts():
    _, [call], _, texts = load(REAL / "litellm/standard_logging_payload.json")
    assert json.loads(texts[call["prompt_hash"]]) == [{"role": "user", "content": "Hello, world!"}]
    assert texts[call["completion_hash"]] == "hi"
    assert call["finish_reason"] == "stop"
    assert call["latency_ms"] == pytest.approx(7.394075393676758)  # response_time 0.00739 s


def test_request_tools_are_kept_and_counted(tmp_path, jsonl):
    """The request's tools, in a payload's model_parameters (LiteLLM's optional params) or a
    SpendLogs row's proxy_server_request, are kept as the JSON-lines reader keeps the same
    request's (same tools_hash) and counted with the prompt when the counts are missing:
    the recorded call's 75 prompt tokens (26 without its tool); with its tool_choice (the
    proxy's request here forces the function: 7 + the name's 3 tokens)."""
    case = recorded_call("chat_tools_with_system")
    request = case["request"]
    payload = json.loads((REAL / "litellm/standard_logging_payload.json").read_text())
    spend_row = json.loads((REAL / "litellm/spend_logs_payload.json").read_text())
    for record in (payload, spend_row):
        record.update(
            prompt_tokens=None,
            completion_tokens=None,
            total_tokens=None,
            model=request["model"],
            response={},
            messages=request["messages"],
        )
    payload["model_parameters"] = {"tools": request["tools"], "tool_choice": "auto"}
    forced = {"type": "function", "function": {"name": "get_current_weather"}}
    # a string, as the table keeps it
    spend_row["proxy_server_request"] = json.dumps({**request, "tool_choice": forced})
    spend_row["metadata"] = "{}"
    path = write_jsonl(tmp_path / "litellm.jsonl", [payload, spend_row])
    [(jsonl_hash, _, _, _)] = logged_tools(jsonl([{"request": request}]))
    logged = logged_tools(path)
    assert [(h, json.loads(t)) for h, t, _, _ in logged] == [(jsonl_hash, request["tools"])] * 2
    assert [(n, source) for _, _, n, source in logged] == [(75, "counted"), (85, "counted")]
    assert case["usage"]["prompt_tokens"] == 75


def test_spend_logs_csv_cache_conventions_and_accounting():
    result, rows, rejects, _ = load(LITELLM / "spend_logs.csv")
    # 6 rows: 4 calls, a LiteLLM cache hit skipped, a row without a model rejected
    assert (result.lines_read, result.ingested, result.skipped, result.rejected) == (6, 4, 1, 1)
    assert result.naive_timestamps == 4
    assert rejects == [(7, "no model (looked for model, model_group, response.model)")]
    read, write_outside, write_inside, failed = rows
    assert [r["source_line"] for r in rows] == [2, 3, 4, 6]
    # prompt_tokens 2200 already holds the 2000 cached tokens
    assert tokens(read) == (2200, 2000, 0, None, 100, None)
    # a LiteLLM that added only the reads: prompt_tokens 4 < cache writes 1163
    assert tokens(write_outside) == (4 + 1163, 0, 1163, None, 187, None)
    # a LiteLLM that adds the writes too (prompt_tokens_details.cache_creation_tokens)
    assert tokens(write_inside) == (1167, 0, 1163, None, 187, None)
    assert (failed["status"], failed["input_tokens"], failed["model"]) == ("error", 0, "gpt-4o")
    assert read["user_id"] == "customer-42"  # end_user before the key owner
    tags = json.loads(read["tags"])
    assert tags["team_id"] == "team-a" and tags["api_key_alias"] == "search-svc"
    assert tags["request_tags"] == ["feature:search"]
    assert read["session_id"] == "s-1"
    assert read["latency_ms"] == pytest.approx(1500)
    # claude-3-5-sonnet: $3 in, $0.30 cache read, $3.75 cache write, $15 out
    assert cost(read) == pytest.approx(200 * 3e-6 + 2000 * 0.3e-6 + 100 * 15e-6)
    assert (
        cost(write_outside)
        == cost(write_inside)
        == pytest.approx(4 * 3e-6 + 1163 * 3.75e-6 + 187 * 15e-6)
    )
    assert write_outside["reported_cost_usd"] == pytest.approx(cost(write_outside))
    assert cost(failed) == 0


def test_spend_logs_json_array():
    result, rows, rejects, _ = load(LITELLM / "spend_logs.json")
    assert (result.lines_read, result.ingested, result.rejected) == (2, 2, 0)
    chat, responses = rows
    assert [r["source_line"] for r in rows] == [1, 2]  # record numbers in the array
    assert chat["ts"].isoformat() == "2025-05-10T12:00:00+00:00"
    assert result.naive_timestamps == 0
    assert tokens(chat) == (1000, 400, None, None, 100, None)  # metadata given as an object
    assert (responses["input_tokens"], responses["output_tokens"]) == (300, 0)  # "300", "0"
    assert json.loads(responses["tags"])["call_type"] == "aresponses"
    # gpt-4o-mini: $0.15 in, $0.075 cache read, $0.60 out; gpt-4.1: $2 in
    assert cost(chat) == pytest.approx(600 * 0.15e-6 + 400 * 0.075e-6 + 100 * 0.6e-6)
    assert cost(responses) == pytest.approx(300 * 2e-6)


def test_standard_logging_payload_lines():
    result, rows, rejects, texts = load(LITELLM / "standard_logging_payload.jsonl")
    # 5 lines: 2 calls, a truncated line, a blank line, a LiteLLM cache hit
    assert (result.lines_read, result.ingested, result.skipped, result.rejected) == (5, 2, 2, 1)
    assert rejects == [(2, "not valid JSON (truncated or malformed line)")]
    o3, gemini = rows
    assert o3["model"] == "o3-mini-2025-01-31"  # the response's model
    assert o3["ts"].isoformat() == "2025-03-10T12:00:00+00:00"  # startTime 1741608000.0
    assert tokens(o3) == (500, 0, None, None, 1200, 1000)  # reasoning inside completion
    assert (o3["user_id"], o3["feature"], o3["max_tokens"]) == ("cust-7", "triage", 1200)
    assert o3["finish_reason"] == "length"
    assert texts[o3["system_hash"]] == "Classify the ticket."
    assert (gemini["provider"], gemini["source_line"]) == ("google", 4)  # vertex_ai
    assert gemini["ts"].isoformat() == "2025-07-01T08:00:00.250000+00:00"
    assert tokens(gemini) == (40, None, None, None, 900, 700)
    # o3-mini: $1.10 in, $4.40 out; gemini-2.5-flash: $0.30 in, $2.50 out
    assert cost(o3) == pytest.approx(500 * 1.1e-6 + 1200 * 4.4e-6) == pytest.approx(0.00583)
    assert cost(gemini) == pytest.approx(40 * 0.3e-6 + 900 * 2.5e-6) == pytest.approx(0.002262)


def test_an_embedding_response_is_no_answer(tmp_path):
    """The payload of an embeddings call logs the embedding response: its vector was kept as
    the call's answer, so audit recounted output the call never had (0 reported, the JSON's
    tokens recounted: an 'off' call and a hint of a logging bug)."""
    payload = json.loads((REAL / "litellm/standard_logging_payload.json").read_text())
    usage = {"prompt_tokens": 8, "total_tokens": 8}
    payload.update(
        call_type="aembedding",
        model="text-embedding-3-small",
        messages=["The food was good"],
        prompt_tokens=8,
        completion_tokens=0,
        total_tokens=8,
        response={
            "object": "list",
            "model": "text-embedding-3-small",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.0123, -0.0456] * 8}],
            "usage": usage,
        },
    )
    _, [call], _, _ = load(write_jsonl(tmp_path / "payload.jsonl", [payload]))
    assert (call["input_tokens"], call["output_tokens"]) == (8, 0)
    assert call["completion_hash"] is None


def test_detection(jsonl):
    for name in ("spend_logs.csv", "spend_logs.json", "standard_logging_payload.jsonl"):
        path = LITELLM / name
        assert detect(path, path.read_bytes()[:65536]).name == "litellm"
    plain = jsonl([{"model": "gpt-4o", "cost": 0.1, "usage": {"prompt_tokens": 1}}])
    assert detect(plain, plain.read_bytes()).name == "jsonl"


def test_formats_command_lists_litellm(cli):
    result = cli("formats")
    assert result.exit_code == 0 and "litellm" in result.stdout


def test_a_csv_row_that_cannot_be_split_is_rejected_with_its_line(tmp_path):
    lines = (LITELLM / "spend_logs.csv").read_text().splitlines()
    path = tmp_path / "spend.csv"
    # line 3 has 3 cells for 32 columns: it is rejected, the rows around it are read
    path.write_text("\n".join([lines[0], lines[1], "req-cut,acompletion,key", lines[3]]) + "\n")
    result, rows, rejects, _ = load(path)
    assert result.format == "litellm"
    assert [r["request_id"] for r in rows] == ["req-cache-read", "req-write-in-prompt"]
    assert [r["source_line"] for r in rows] == [2, 4]
    assert [line for line, _ in rejects] == [3]
    assert rejects[0][1].startswith("bad CSV row:")
    assert result.accounted
