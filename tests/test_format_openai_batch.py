"""OpenAI Batch API files (formats/openai_batch.py): output priced at batch rates, failed
requests counted, input files counted by the tokenizer.

gpt-4o-mini (from 2024-07-18): $0.15 in, $0.60 out per million; batch is half of that.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import REAL, load_priced_paths


def load(*paths):
    return load_priced_paths(*paths)


def test_output_file_priced_at_half_the_standard_price():
    result, calls, _ = load(REAL / "openai/batch_output.jsonl")
    [f] = result.files
    assert (f.format, f.lines_read, f.ingested, f.skipped, f.rejected) == (
        "openai-batch",
        2,
        2,
        0,
        0,
    )
    first, second = calls
    assert first["request_id"] == "07bc45ab4e7e26ac23a0c949973327e7"  # response.request_id
    assert first["model"] == "gpt-4o-mini-2024-07-18"
    assert first["ts"].isoformat() == "2024-12-23T20:36:42+00:00"  # body.created 1734986202
    assert (first["input_tokens"], first["output_tokens"], first["cache_read_tokens"]) == (
        20,
        10,
        0,
    )
    assert (first["service_tier"], first["price_tier"], first["status"]) == ("batch", "batch", "ok")
    standard = 20 * 0.15e-6 + 10 * 0.60e-6
    assert float(first["cost_usd"]) == pytest.approx(standard / 2, abs=1e-15)  # $0.0000045
    assert float(second["cost_usd"]) == pytest.approx((22 * 0.15e-6 + 10 * 0.60e-6) / 2)
    assert second["finish_reason"] == "length"
    tags = json.loads(first["tags"])
    assert tags["custom_id"] == "request-1"
    assert tags["batch_request_id"] == "batch_req_6769ca596b38819093d7ae9f522de924"


def test_failed_requests_are_counted_with_no_cost(jsonl):
    ok = (REAL / "openai/batch_output.jsonl").read_text().splitlines()[0]
    path = jsonl(
        [
            ok,
            {
                "id": "batch_req_expired",
                "custom_id": "request-3",
                "response": None,
                "error": {"code": "batch_expired", "message": "This request could not be executed"},
            },
            {
                "id": "batch_req_400",
                "custom_id": "request-4",
                "response": {
                    "status_code": 400,
                    "request_id": "req_bad",
                    "body": {"error": {"message": "Invalid model", "code": "model_not_found"}},
                },
                "error": None,
            },
        ]
    )
    result, calls, _ = load(path)
    [f] = result.files
    assert (f.lines_read, f.ingested, f.rejected) == (3, 3, 0)
    ok_call, expired, bad = calls
    assert ok_call["status"] == "ok"
    for call, code in ((expired, "batch_expired"), (bad, "model_not_found")):
        assert call["status"] == "error"
        assert (call["input_tokens"], call["output_tokens"]) == (0, 0)  # nothing billed
        assert call["model"] == "unknown"  # an error line does not name its model
        assert json.loads(call["tags"])["error_code"] == code
        assert not call["cost_usd"]
    assert expired["request_id"] == "batch_req_expired"  # no response: the line's id
    assert bad["request_id"] == "req_bad"


def test_input_file_tokens_counted_from_the_prompts():
    """The input file of the batch above: no usage, so the prompts are tokenized; the counts
    equal what the API then reported (prompt_tokens 20 and 22 in batch_output.jsonl)."""
    result, calls, _ = load(REAL / "openai/batch_input.jsonl")
    [f] = result.files
    assert (f.format, f.lines_read, f.ingested, f.skipped, f.rejected) == (
        "openai-batch",
        3,  # two requests and the file's trailing blank line
        2,
        1,
        0,
    )
    first, second = calls
    assert (first["input_tokens"], second["input_tokens"]) == (20, 22)
    assert first["output_tokens"] is None  # the answer is not known before the batch runs
    assert (first["token_source"], first["service_tier"], first["max_tokens"]) == (
        "counted",
        "batch",
        10,
    )
    assert first["model"] == "gpt-4o-mini"
    assert float(first["cost_usd"]) == pytest.approx(20 * 0.075e-6)


def test_a_line_that_is_neither_input_nor_output_is_rejected(jsonl):
    ok = (REAL / "openai/batch_output.jsonl").read_text().splitlines()[0]
    path = jsonl([ok, {"custom_id": "request-9", "note": "no body, no response"}, "{not json"])
    result, calls, con = load(path)
    assert result.files[0].format == "openai-batch"
    assert (result.files[0].ingested, result.files[0].rejected) == (1, 2)
    reasons = dict(con.execute("SELECT line, reason FROM rejects").fetchall())
    assert reasons[2].startswith("neither a batch output line")
    assert reasons[3] == "not valid JSON (truncated or malformed line)"


def test_a_batch_line_of_another_provider_keeps_its_provider(jsonl):
    # OpenAI-compatible batch APIs take the same file: the provider was always 'openai'
    ok = json.loads((REAL / "openai/batch_output.jsonl").read_text().splitlines()[0])
    other = json.loads(json.dumps(ok))
    other["id"], other["response"]["request_id"] = "batch_req_ds", "req_ds"
    other["response"]["body"]["model"] = "deepseek-chat"
    result, calls, _ = load(jsonl([ok, other]))
    assert [(c["model"], c["provider"]) for c in calls] == [
        (ok["response"]["body"]["model"], "openai"),
        ("deepseek-chat", "deepseek"),
    ]


def test_input_lines_keep_their_tools(jsonl):
    """An input line's body.tools (legacy: body.functions) are kept beside its prompt (a
    text of kind 'tools', the request's tools_hash): they are billed as prompt tokens. A line
    without tools, or with an empty list, has none."""
    messages = [{"role": "user", "content": "Hi"}]
    tools = [{"type": "function", "function": {"name": "get_time"}}]
    functions = [{"name": "get_time", "parameters": {}}]
    bodies = [{"tools": tools}, {"functions": functions}, {}, {"tools": []}]
    lines = [
        {
            "custom_id": f"r{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": messages, **body},
        }
        for i, body in enumerate(bodies)
    ]
    _, _, con = load_priced_paths(jsonl(lines), fill=False)
    stored = con.execute(
        "SELECT t.kind, t.text FROM requests r LEFT JOIN texts t ON t.hash = r.tools_hash "
        "ORDER BY r.source_line"
    ).fetchall()
    compact = lambda value: json.dumps(value, separators=(",", ":"))  # noqa: E731
    assert stored == [
        ("tools", compact(tools)),
        ("tools", compact(functions)),
        (None, None),
        (None, None),
    ]


def test_an_input_file_read_with_its_output_file_is_pointed_out(tmp_path):
    # The two real files of one batch: four calls where the batch ran two. They are not
    # merged (custom_id is unique only within a batch), but the report says so.
    from llmcost.report import analyze

    both = analyze([REAL / "openai/batch_input.jsonl", REAL / "openai/batch_output.jsonl"])
    assert both["summary"]["requests"] == 4
    [note] = [n for n in both["notes"] if "custom_id" in n]
    assert note.startswith("2 Batch API custom_ids appear in both a batch input file and")
    assert "counted twice" in note
    for alone in ("batch_input.jsonl", "batch_output.jsonl"):
        notes = analyze([REAL / "openai" / alone])["notes"]
        assert not [n for n in notes if "custom_id" in n], alone


def test_an_input_files_system_prompts_are_its_calls_system_prompts(cli, jsonl):
    # The real input file sends "You are a helpful assistant." and "You are an unhelpful
    # assistant." with one user message: two query families, not one near-duplicate pair.
    # The reader kept no system prompt, so the report said "no system prompts in the logs"
    # and offered a semantic cache of the second call on the first.
    result = cli("analyze", REAL / "openai/batch_input.jsonl", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    families = report["expensive"]["families"]
    assert sorted(f["preview"] for f in families) == [
        "You are a helpful assistant.",
        "You are an unhelpful assistant.",
    ]
    assert report["cache"]["near_duplicates"]["requests"] == 0
    assert report["summary"]["input_tokens"] == 20 + 22  # the counts are unchanged
    # a Responses API line's instructions are its system prompt
    line = {
        "custom_id": "r-1",
        "method": "POST",
        "url": "/v1/responses",
        "body": {"model": "gpt-4o-mini", "instructions": "Answer in French.", "input": "Hi"},
    }
    result = cli("analyze", jsonl([line]), "--format", "json")
    [family] = json.loads(result.stdout)["expensive"]["families"]
    assert family["preview"] == "Answer in French."
