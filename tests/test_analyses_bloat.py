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
