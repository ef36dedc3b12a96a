"""Coding-agent transcripts: Claude Code (formats/claude_code.py) and Codex CLI (formats/codex.py).

Prices per million tokens: claude-sonnet-4 $3 in, $0.30 cache read, $3.75 cache write, $15 out;
claude-opus-4 $15 / $1.50 / $18.75 / $75; claude-haiku-4-5 $1 / $0.10 / $1.25 / $5;
claude-sonnet-4-5 $3 / $0.30 / $3.75 (5m) / $6 (1h) / $15; gpt-5 (gpt-5-codex) $1.25 in,
$0.125 cached, $10 out.
"""

from __future__ import annotations

import json

import pytest

from llmcost import store
from tests.conftest import DATA, REAL, load_priced_paths, write_jsonl

CLAUDE = REAL / "claude_code"
CRAFTED = DATA / "formats" / "claude_code" / "crafted_streamed_session.jsonl"
CODEX = DATA / "formats" / "codex"
TOKENS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens",
          "output_tokens")  # fmt: skip


def load(*paths):
    return load_priced_paths(*paths, fill=False)


def tokens(call):
    return tuple(call[c] for c in TOKENS)


# ------------------------------------------------------------------------------- Claude Code


def test_ccusage_fixtures_tokens_and_costs():
    result, calls, _ = load(
        CLAUDE / "ccusage_project_alpha.jsonl", CLAUDE / "ccusage_project_beta.jsonl"
    )
    assert [f.format for f in result.files] == ["claude-code", "claude-code"]
    assert [(f.lines_read, f.ingested, f.skipped, f.rejected) for f in result.files] == [
        (3, 3, 0, 0),
        (2, 2, 0, 0),
    ]
    by_id = {c["request_id"]: c for c in calls}
    a1 = by_id["msg-alpha-1:req-alpha-1"]
    # input_tokens 100 EXCLUDES 10 cache reads and 25 cache writes: canonical input 135
    assert tokens(a1) == (135, 10, 25, None, 50)
    assert float(a1["cost_usd"]) == pytest.approx(
        100 * 3e-6 + 10 * 0.3e-6 + 25 * 3.75e-6 + 50 * 15e-6
    )
    assert (a1["reported_cost_usd"], a1["session_id"], a1["provider"]) == (
        0.12,
        "session-alpha",
        "anthropic",
    )
    a2 = by_id["msg-alpha-2:req-alpha-2"]
    assert tokens(a2) == (270, 20, 50, None, 75)
    assert json.loads(a2["tags"])["speed"] == "fast"
    assert float(a2["cost_usd"]) == pytest.approx(
        200 * 15e-6 + 20 * 1.5e-6 + 50 * 18.75e-6 + 75 * 75e-6
    )
    b2 = by_id["msg-beta-2:req-beta-2"]
    assert tokens(b2) == (115, 25, 10, None, 35)
    assert float(b2["cost_usd"]) == pytest.approx(
        80 * 1e-6 + 25 * 0.1e-6 + 10 * 1.25e-6 + 35 * 5e-6
    )
    assert sum(c["input_tokens"] for c in calls) == 135 + 270 + 340 + 70 + 115
    assert sum(c["output_tokens"] for c in calls) == 50 + 75 + 125 + 25 + 35


def test_representative_transcript_only_assistant_lines_are_calls():
    result, calls, _ = load(CLAUDE / "claude_code_log_representative.jsonl")
    [f] = result.files
    # 12 lines: 5 assistant messages; 6 user lines and a summary are skipped, not rejected.
    assert (f.lines_read, f.ingested, f.skipped, f.rejected) == (12, 5, 7, 0)
    assert [c["output_tokens"] for c in calls] == [120, 85, 95, 35, 110]
    assert [c["finish_reason"] for c in calls] == [
        "stop",
        "tool_calls",
        "stop",
        "tool_calls",
        "stop",
    ]
    assert {c["feature"] for c in calls} == {"tmp"}  # the last part of cwd
    assert calls[0]["ts"].isoformat() == "2025-06-14T10:00:30+00:00"


def test_streamed_messages_counted_once():
    """The crafted session: msg_s1 on 3 lines (+1 later copy), msg_s2 on 2 lines without
    requestId, a synthetic message, system/snapshot/summary/user lines, a non-object, and 2
    bad lines."""
    result, calls, con = load(CRAFTED)
    [f] = result.files
    assert (f.lines_read, f.ingested, f.skipped, f.rejected) == (15, 2, 11, 2)
    assert f.accounted
    s1, s2 = sorted(calls, key=lambda c: c["request_id"])
    assert s1["request_id"] == "msg_s1:req_s1"
    # the final line's output (412), the first line's timestamp; 20000 writes, 6000 of them 1h
    assert tokens(s1) == (4 + 20000, 0, 14000, 6000, 412)
    assert s1["ts"].isoformat() == "2025-10-20T14:00:03+00:00"
    assert s1["source_line"] == 5
    assert s2["request_id"] == "msg_s2"
    assert tokens(s2) == (6 + 20000 + 1500, 20000, 1500, 0, 230)
    assert float(s1["cost_usd"]) == pytest.approx(
        4 * 3e-6 + 14000 * 3.75e-6 + 6000 * 6e-6 + 412 * 15e-6
    )
    assert float(s2["cost_usd"]) == pytest.approx(
        6 * 3e-6 + 20000 * 0.3e-6 + 1500 * 3.75e-6 + 230 * 15e-6
    )
    assert sum(c["output_tokens"] for c in calls) == 642  # not 1 + 1 + 412 + 1 + 230 + 412
    assert con.execute("SELECT line, reason FROM rejects ORDER BY line").fetchall() == [
        (13, "not valid JSON (truncated or malformed line)"),
        (14, "usage field output_tokens is not a non-negative integer: many"),
    ]


def test_streamed_repeat_and_skip_reasons():
    """Every skip names its reason (the adapter's records SQL over the crafted session)."""
    from llmcost.formats.claude_code import RECORDS_SQL
    from llmcost.formats.lines import read_lines

    con = store.connect()
    read_lines(con, CRAFTED, "s", 1)
    reasons = dict(
        con.execute(
            f"SELECT line, skip_reason FROM ({RECORDS_SQL}) WHERE skip_reason IS NOT NULL",
            [CRAFTED.parent.name],
        ).fetchall()
    )
    assert reasons[1] == "not an assistant message with usage (summary line)"
    assert reasons[3] == "streamed repeat of message msg_s1:req_s1 (counted once)"
    assert reasons[7] == "streamed repeat of message msg_s2 (counted once)"
    assert reasons[9] == "synthetic message (written by Claude Code, no API call)"
    assert reasons[11] == "JSON array, not an object"
    assert reasons[15] == "streamed repeat of message msg_s1:req_s1 (counted once)"


def test_a_resumed_session_copying_messages_is_not_counted_twice(tmp_path):
    lines = CRAFTED.read_text().splitlines()
    resumed = write_jsonl(tmp_path / "resumed.jsonl", [lines[4], lines[7]])  # msg_s1, msg_s2
    result, calls, _ = load(CRAFTED, resumed)
    assert [(f.format, f.ingested, f.duplicates) for f in result.files] == [
        ("claude-code", 2, 0),
        ("claude-code", 0, 2),
    ]
    assert len(calls) == 2


# ------------------------------------------------------------------------------------ Codex


def test_codex_rollout_calls_from_token_count_events():
    result, calls, con = load(CODEX / "crafted_rollout.jsonl")
    [f] = result.files
    # 14 lines: 3 calls; 9 skipped (meta, context, items, a rate-limit-only token_count, a
    # repeated running total, a blank line); a truncated line and a bad count rejected.
    assert (f.format, f.lines_read, f.ingested, f.skipped, f.rejected) == ("codex", 14, 3, 9, 2)
    first, second, third = calls
    assert (first["model"], first["model_key"], first["provider"]) == (
        "gpt-5-codex",
        "gpt-5",
        "openai",
    )
    # OpenAI convention: input 12000 includes the 3000 cached; output 800 includes 500 reasoning
    assert (first["input_tokens"], first["cache_read_tokens"], first["output_tokens"],
            first["reasoning_tokens"]) == (12000, 3000, 800, 500)  # fmt: skip
    assert float(first["cost_usd"]) == pytest.approx(9000 * 1.25e-6 + 3000 * 0.125e-6 + 800 * 10e-6)
    # last_token_usage of the second turn
    assert (second["input_tokens"], second["cache_read_tokens"], second["output_tokens"]) == (
        18000,
        11000,
        1200,
    )
    # no last_token_usage: the running total's growth (45000 - 30000 …), on the new model
    assert third["model"] == "gpt-5"
    assert (third["input_tokens"], third["cache_read_tokens"], third["output_tokens"],
            third["reasoning_tokens"]) == (15000, 14000, 600, 100)  # fmt: skip
    assert float(third["cost_usd"]) == pytest.approx(
        1000 * 1.25e-6 + 14000 * 0.125e-6 + 600 * 10e-6
    )
    assert {c["session_id"] for c in calls} == {"0199a213-81c0-7800-8aa1-bbab2a035a53"}
    assert {c["feature"] for c in calls} == {"shop-api"}
    assert con.execute("SELECT line, reason FROM rejects ORDER BY line").fetchall() == [
        (12, "not valid JSON (truncated or malformed line)"),
        (13, "last_token_usage.output_tokens is not a non-negative integer: lots"),
    ]


@pytest.mark.parametrize("order", [("crafted_rollout", "crafted_fork_rollout"),
                                   ("crafted_fork_rollout", "crafted_rollout")])  # fmt: skip
def test_codex_fork_replay_is_not_counted_twice(order):
    result, calls, _ = load(*(CODEX / f"{name}.jsonl" for name in order))
    assert sum(f.ingested for f in result.files) == 4  # 3 in the parent, 1 new in the fork
    assert sum(f.duplicates for f in result.files) == 2  # the replayed parent history
    assert all(f.accounted for f in result.files)
    assert sum(c["input_tokens"] for c in calls) == 12000 + 18000 + 15000 + 22000
    fork_own = [c for c in calls if json.loads(c["tags"]).get("forked_from_id")]
    assert [c["input_tokens"] for c in fork_own if c["source_line"] == 7] == [22000]
