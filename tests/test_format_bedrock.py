"""AWS Bedrock: model invocation logs (formats/bedrock.py) and Converse bodies in JSON lines.

Expected numbers are worked out by hand from the records and the aws-bedrock price rows
(USD per million tokens) in force at each record's date.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import DATA, REAL, cassette_envelopes, load_priced_paths

BEDROCK = DATA / "formats" / "bedrock"


def load(*paths):
    return load_priced_paths(*paths)


def test_panther_records_one_call_duplicates_and_a_non_invocation_skipped():
    result, calls, con = load(BEDROCK / "panther_invocation_logs.jsonl")
    [f] = result.files
    assert f.format == "bedrock"
    # 4 records: ListModels is not an invocation (skipped); the three Converse records share
    # one requestId, so one call is stored and the two others are duplicates.
    assert (f.lines_read, f.ingested, f.skipped, f.duplicates, f.rejected) == (4, 1, 3, 2, 0)
    assert f.accounted
    [call] = calls
    assert call["request_id"] == "bb98d9a8-bd9a-47ca-976b-f165ef1f8b67"
    assert call["provider"] == "aws-bedrock"
    assert call["model"] == "anthropic.claude-3-haiku-20240307-v1:0"  # kept as logged
    assert call["model_key"] == "anthropic.claude-3-haiku"
    assert call["ts"].isoformat() == "2025-05-15T14:17:22+00:00"  # no zone: read as UTC
    assert call["user_id"] == "arn:aws:sts::111111111111:assumed-role/role_details/suspicious.user"
    assert json.loads(call["tags"]) == {
        "operation": "Converse",
        "region": "us-west-2",
        "account_id": "111111111111",
    }
    # The log's own counts are 0 (the body's totalTokens 2000 is not a count of input/output).
    assert (call["input_tokens"], call["output_tokens"], call["token_source"]) == (0, 0, "reported")
    assert call["cost_usd"] == 0
    assert call["latency_ms"] == 249
    prompt, completion = con.execute(
        "SELECT p.text, c.text FROM requests r JOIN texts p ON p.hash = r.prompt_hash "
        "JOIN texts c ON c.hash = r.completion_hash"
    ).fetchone()
    assert json.loads(prompt)[0]["content"][0]["text"] == "I have a very suspicious question."
    assert completion == "You shouldn't ask this question"


def test_crafted_records_cache_tokens_added_to_input_and_priced():
    result, calls, _ = load(BEDROCK / "crafted_invocation_logs.jsonl")
    [f] = result.files
    # 6 lines: 3 calls, a blank line and a record of another schemaType skipped, one rejected.
    assert (f.lines_read, f.ingested, f.skipped, f.rejected) == (6, 3, 2, 1)
    invoke, converse, nova = calls
    # inputTokenCount 3 EXCLUDES the 25037 cache-write tokens: canonical input is 25040.
    assert (invoke["input_tokens"], invoke["cache_read_tokens"], invoke["cache_write_tokens"]) == (
        25040,
        0,
        25037,
    )
    assert (invoke["cache_write_1h_tokens"], invoke["output_tokens"]) == (0, 13)
    assert invoke["model_key"] == "anthropic.claude-3-7-sonnet"  # us. inference profile
    assert (invoke["finish_reason"], invoke["max_tokens"]) == ("stop", 1024)
    # claude-3-7-sonnet on Bedrock from 2025-02-24: $3 in, $3.75 cache write, $15 out
    assert float(invoke["cost_usd"]) == pytest.approx(3 * 3e-6 + 25037 * 3.75e-6 + 13 * 15e-6)
    # An ARN model id (inference profile) resolves to the same price; 25037 cache reads at $0.30.
    assert converse["model"].startswith("arn:aws:bedrock:us-east-1:111122223333:inference-profile/")
    assert converse["model_key"] == "anthropic.claude-3-7-sonnet"
    assert (converse["input_tokens"], converse["cache_read_tokens"]) == (25041, 25037)
    assert (converse["finish_reason"], converse["max_tokens"], converse["latency_ms"]) == (
        "length",
        120,
        1830,
    )
    assert float(converse["cost_usd"]) == pytest.approx(4 * 3e-6 + 25037 * 0.3e-6 + 120 * 15e-6)
    # amazon.nova-lite: $0.06 in, $0.24 out; requestMetadata lands in tags.
    assert (nova["input_tokens"], nova["output_tokens"]) == (1000, 200)
    assert float(nova["cost_usd"]) == pytest.approx(1000 * 0.06e-6 + 200 * 0.24e-6)
    assert json.loads(nova["tags"])["team"] == "search"
    assert nova["user_id"].endswith("assumed-role/batch-jobs/nightly")


def test_crafted_rejects_and_skips_say_why():
    _, _, con = load(BEDROCK / "crafted_invocation_logs.jsonl")
    assert con.execute("SELECT line, reason FROM rejects").fetchall() == [
        (5, "input.inputTokenCount is not a non-negative integer: n/a")
    ]


def test_converse_response_in_json_lines(jsonl):
    """The Converse cassette's body, logged with its model: usage.inputTokens & co."""
    [envelope] = cassette_envelopes(REAL / "bedrock/cassette_nova_converse.yaml")
    path = jsonl(
        [{"timestamp": "2025-02-25T08:56:15Z", "model": "amazon.nova-lite-v1:0", **envelope}]
    )
    result, [call], con = load(path)
    assert result.files[0].format == "jsonl"
    assert (call["provider"], call["model_key"]) == ("aws-bedrock", "amazon.nova-lite")
    assert (call["input_tokens"], call["output_tokens"]) == (54, 18)
    assert call["finish_reason"] == "guardrail_intervened"
    assert float(call["cost_usd"]) == pytest.approx(54 * 0.06e-6 + 18 * 0.24e-6)
    completion = con.execute(
        "SELECT t.text FROM requests r JOIN texts t ON t.hash = r.completion_hash"
    ).fetchone()[0]
    assert completion == "{ADDRESS} is the capital of Japan {Account Number}."


def test_converse_cache_tokens_are_added_to_input(jsonl):
    body = {
        "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
        "stopReason": "end_turn",
        "usage": {
            "inputTokens": 4,
            "outputTokens": 12,
            "totalTokens": 2063,
            "cacheReadInputTokens": 0,
            "cacheWriteInputTokens": 2047,
        },
    }
    path = jsonl([{"model": "anthropic.claude-3-7-sonnet-20250219-v1:0", "response": body}])
    _, [call], _ = load(path)
    assert (call["input_tokens"], call["cache_write_tokens"], call["output_tokens"]) == (
        2051,
        2047,
        12,
    )
    assert call["finish_reason"] == "stop"


def test_a_call_logged_three_times_counts_its_timestamp_once(cli):
    """The Panther log holds one call (three Converse records of one requestId, stored once)
    and said "3 timestamps had no time zone": the duplicates' were counted too."""
    result, _, _ = load(BEDROCK / "panther_invocation_logs.jsonl")
    [f] = result.files
    assert (f.ingested, f.naive_timestamps) == (1, 1)
    text = cli("analyze", BEDROCK / "panther_invocation_logs.jsonl", "--format", "markdown")
    assert "1 timestamp had no time zone: read as UTC" in text.stdout


def test_the_thinking_count_of_an_anthropic_body_is_the_reasoning(tmp_path):
    """outputTokenCount holds the thinking (as the API's output_tokens does); the body's
    usage.output_tokens_details.thinking_tokens says how much of it was reasoning
    (shared/reference/formats/anthropic/src_anthropic_types_output_tokens_details.py:
    "Always ≤ output_tokens"). It was left out: reasoning_tokens read NULL."""
    usage = {"input_tokens": 12, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
             "output_tokens": 900, "output_tokens_details": {"thinking_tokens": 700}}  # fmt: skip
    record = {
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
        "timestamp": "2025-06-02T10:00:00Z", "requestId": "think-1", "operation": "InvokeModel",
        "modelId": "us.anthropic.claude-sonnet-4-20250514-v1:0",
        "input": {"inputTokenCount": 12, "cacheReadInputTokenCount": 0,
                  "cacheWriteInputTokenCount": 0},
        "output": {"outputTokenCount": 900,
                   "outputBodyJson": {"type": "message", "role": "assistant",
                                      "content": [{"type": "text", "text": "ok"}],
                                      "stop_reason": "end_turn", "usage": usage}},
    }  # fmt: skip
    path = tmp_path / "invocations.jsonl"
    path.write_text(json.dumps(record) + "\n")
    _, [call], _ = load(path)
    assert (call["input_tokens"], call["output_tokens"], call["reasoning_tokens"]) == (12, 900, 700)


# A Converse answer with a tool call, written from the Converse API's documented response
# (output.message.content[] holding {text} and {toolUse: {toolUseId, name, input}},
# stopReason tool_use): no real recording of one is at hand.
CONVERSE_TOOL_USE = {
    "output": {
        "message": {
            "role": "assistant",
            "content": [
                {"text": "Let me look that up."},
                {
                    "toolUse": {
                        "toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q",
                        "name": "top_song",
                        "input": {"sign": "WZPZ"},
                    }
                },
            ],
        }
    },
    "stopReason": "tool_use",
    "usage": {"inputTokens": 375, "outputTokens": 36, "totalTokens": 411},
    "metrics": {"latencyMs": 2133},
}


def _answers(con):
    return con.execute(
        "SELECT r.finish_reason, t.text FROM requests r "
        "JOIN texts t ON t.hash = r.completion_hash ORDER BY r.source_line"
    ).fetchall()


def test_converse_tool_use_keeps_its_input(jsonl):
    # Before: the call read 'tool_calls' but its answer was the text alone, the input lost
    # (so a recount, or a fill without usage, saw a fraction of the answer).
    path = jsonl(
        [{"model": "anthropic.claude-3-haiku-20240307-v1:0", "response": CONVERSE_TOOL_USE}]
    )
    _, [call], con = load(path)
    assert (call["input_tokens"], call["output_tokens"]) == (375, 36)
    assert _answers(con) == [("tool_calls", 'Let me look that up.{"sign":"WZPZ"}')]


def test_invocation_log_tool_calls_keep_their_input(tmp_path):
    # The same answers in model invocation logs: a Converse body's toolUse blocks and an
    # InvokeModel (Anthropic) body's tool_use blocks. Before: the text alone was kept.
    [converse, invoke] = [
        json.loads(line)
        for line in (BEDROCK / "crafted_invocation_logs.jsonl").read_text().splitlines()[:2]
    ][::-1]
    converse["output"]["outputBodyJson"] = CONVERSE_TOOL_USE
    invoke["output"]["outputBodyJson"]["content"].append(
        {"type": "tool_use", "id": "toolu_01", "name": "lookup", "input": {"clause": 7}}
    )
    path = tmp_path / "invocations.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (invoke, converse)))
    _, _, con = load(path)
    assert _answers(con) == [
        ("tool_calls", 'Clause 7 limits liability.{"clause":7}'),
        ("tool_calls", 'Let me look that up.{"sign":"WZPZ"}'),
    ]
