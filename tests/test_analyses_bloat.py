"""Prompt bloat: system-prompt spend and the boilerplate share, by hand."""

from __future__ import annotations

import pytest

from tests.test_analyses_common import M, call, report

SYSTEM = "hello" + " hello" * 1199  # 1,200 o200k tokens


def test_system_prompt_spend_and_boilerplate(jsonl):
    records = [
        *[call(60 * i, system=SYSTEM, text=f"q{i}", inp=2000, out=10) for i in range(3)],
        call(500, text="no system prompt", inp=1000, out=10),
    ]
    b = report(jsonl, records)["bloat"]
    # each call: input $0.02, of which the system prompt is 1200/2000 = 60%
    [top] = b["top"]
    assert top["calls"] == 3
    assert top["system_tokens"] == 1200
    assert top["system_usd"] == pytest.approx(3 * 0.6 * 2000 * 10 * M)
    assert top["share_of_input"] == pytest.approx(0.6)
    assert b["input_usd"] == pytest.approx((3 * 2000 + 1000) * 10 * M)
    assert b["boilerplate_usd"] == pytest.approx(0.036)
    assert b["boilerplate_share"] == pytest.approx(0.036 / 0.07)


def test_a_one_off_system_prompt_is_estimated_from_text_length(jsonl):
    records = [call(0, system="x" * 400, text="y" * 400, inp=2000, out=10)]
    b = report(jsonl, records)["bloat"]
    [top] = b["top"]
    # about half of the prompt text is the system prompt (JSON framing makes it a bit less)
    assert 0.4 < top["share_of_input"] < 0.5
    assert b["boilerplate_usd"] == 0  # used once: not repeated boilerplate


def test_no_system_prompts(jsonl):
    b = report(jsonl, [call(0), call(10, text="x")])["bloat"]
    assert b["top"] == [] and "no system prompts" in b["note"]


def test_a_cached_system_prompt_costs_what_its_cache_reads_cost(jsonl):
    # claude-sonnet-4-5 (test prices): input $10/M, cache read $1/M, 5-minute write $12.5/M.
    # SYSTEM is estimated at 1,200 x 1.2 = 1,440 tokens. The first call writes it to the cache,
    # the next two read it; each call has 560 more tokens of its own. The system prompt opens
    # the prompt, so it is the cached part: 1,440 written, then 1,440 read twice. Before, it
    # was 72% (1,440 / 2,000) of each call's input cost: $0.0271 instead of $0.0209.
    claude = {"model": "claude-sonnet-4-5", "provider": "anthropic", "inp": 2000, "out": 10}
    records = [
        call(0, system=SYSTEM, text="q0", written=1440, **claude),
        call(60, system=SYSTEM, text="q1", cached=1440, **claude),
        call(120, system=SYSTEM, text="q2", cached=1440, **claude),
    ]
    b = report(jsonl, records)["bloat"]
    [top] = b["top"]
    system = 1440 * 12.5 * M + 2 * 1440 * 1 * M
    inputs = 1440 * 12.5 * M + 2 * 1440 * 1 * M + 3 * 560 * 10 * M
    assert top["system_tokens"] == 1440
    assert top["system_usd"] == pytest.approx(system)
    assert top["input_usd"] == pytest.approx(inputs)
    assert top["share_of_input"] == pytest.approx(system / inputs)
    assert b["boilerplate_usd"] == pytest.approx(system)
