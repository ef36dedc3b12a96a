"""Self-hosting break-even against one always-on GPU replica, by hand."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from llmcost.analyses.selfhost import substitute
from tests.test_analyses_common import PRICES, call, offered, report

MONTH = 30.44 * 86400  # the log spans exactly one month: volumes are used as they are
PRICING_ARGS = [x for p in PRICES for x in ("--pricing", str(p))]
CONFIG = """\
savings:
  gpu_hour_usd: 1
  selfhost:
    small: {gpus: 1, input_tps: 1000, output_tps: 100}
"""


def test_substitute_classes():
    assert substitute("gpt-4o-mini")[0] == "small"
    assert substitute("claude-haiku-4-5")[0] == "small"
    assert substitute("gemini-2.5-flash")[0] == "small"
    assert substitute("gpt-4o")[0] == "large"
    assert substitute("gemini-2.5-pro")[0] == "large"
    assert substitute("claude-opus-4-1") is None  # frontier: no open-weight substitute here
    assert substitute("gpt-5") is None


def test_break_even(jsonl):
    # gpt-4o-mini (test prices in 1 / out 2): 360M input + 36M output tokens in the month
    records = [
        call(0, model="gpt-4o-mini", inp=180_000_000, out=18_000_000, text="a"),
        call(MONTH, model="gpt-4o-mini", inp=180_000_000, out=18_000_000, text="b"),
        # small-model has no open-weight substitute in the class table: not a workload
        call(10, model="small-model", inp=1000, out=10, text="c"),
    ]
    rep = report(jsonl, records, config=CONFIG)
    [w] = rep["selfhost"]["workloads"]
    # API: 360 + 36 x 2 = $432 a month. GPU time: 360M / 1000 + 36M / 100 = 720,000 s = 200 h
    # -> one replica, 730 h x $1 = $730 a month: not worth it yet
    assert w["monthly_api_usd"] == pytest.approx(432)
    assert (w["replicas"], w["gpus"]) == (1, 1)
    assert w["selfhost_monthly_usd"] == 730
    assert w["monthly_saving_usd"] == 0
    # break-even at 730 / 432 times the volume: 1.6898 x 396M tokens
    assert w["breakeven_multiple"] == pytest.approx(730 / 432, abs=1e-3)
    assert w["breakeven_monthly_tokens"] == pytest.approx(730 / 432 * 396e6, rel=1e-6)
    assert offered(rep, "self_hosting") is None


def test_heavy_workload_saves(jsonl):
    # 3.6 billion input tokens a month: $3,600 on the API; 1,000 GPU-hours -> 2 replicas, $1,460
    records = [
        call(0, model="gpt-4o-mini", inp=1_800_000_000, out=0, text="a"),
        call(MONTH, model="gpt-4o-mini", inp=1_800_000_000, out=0, text="b"),
    ]
    rep = report(jsonl, records, config=CONFIG)
    [w] = rep["selfhost"]["workloads"]
    assert w["replicas"] == 2
    assert w["selfhost_monthly_usd"] == 1460
    assert w["monthly_saving_usd"] == pytest.approx(3600 - 1460)
    assert w["breakeven_monthly_tokens"] == pytest.approx(730 / 3600 * 3.6e9, rel=1e-6)
    item = offered(rep, "self_hosting")
    assert item["usd"] == pytest.approx(3600 - 1460)  # the log is one month long


def test_never_breaks_even_when_the_api_is_cheaper_per_gpu_hour(jsonl):
    # output-heavy at $2/M: 100 tokens/s of output earn the API $0.72 an hour < $1 for the GPU
    records = [
        call(0, model="gpt-4o-mini", inp=0, out=36_000_000, text="a"),
        call(MONTH, model="gpt-4o-mini", inp=0, out=36_000_000, text="b"),
    ]
    [w] = report(jsonl, records, config=CONFIG)["selfhost"]["workloads"]
    assert w["breakeven_monthly_tokens"] is None


def test_no_timestamps_no_monthly_figure(jsonl, cli):
    # The heavy workload of test_heavy_workload_saves, but no call says when it was made.
    # Before, the section read "volumes scaled to a month from 1 day of log": the log's
    # 3.6 billion tokens taken as one day's, x 30.44 ($109,584 on the API a month), and the
    # savings offered a self-hosting saving from that made-up span. With no timestamp there
    # is no span: no workload, no saving, and the section says why.
    records = [
        call(0, model="gpt-4o-mini", inp=1_800_000_000, out=0, text="a"),
        call(10, model="gpt-4o-mini", inp=1_800_000_000, out=0, text="b"),
    ]
    for r in records:
        del r["timestamp"]
    rep = report(jsonl, records, config=CONFIG)
    s = rep["selfhost"]
    assert s["workloads"] == [] and s["log_days"] is None and s["usd"] is None
    assert s["note"].startswith("no timestamps: ")
    assert offered(rep, "self_hosting") is None
    Path("llmcost.yaml").write_text(CONFIG)
    for fmt in ("table", "markdown"):
        out = cli("analyze", str(jsonl(records)), *PRICING_ARGS, "--format", fmt)
        assert out.exit_code == 0, out.stderr
        text = " ".join(out.stdout.split())
        assert "no span to scale its volume to a month" in text, fmt
        assert "of log." not in text and "Self-hosting an open-weight model" not in text


def test_untimed_calls_are_left_out_of_the_monthly_volume(jsonl, cli):
    # The heavy workload of test_heavy_workload_saves (two calls a month apart: 3.6 billion
    # tokens a month) and a third call of 1.8 billion tokens that says not when it was made.
    # Before, the untimed call was counted as if it fell inside the month: 5.4 billion
    # tokens, $5,400 on the API a month, three replicas, a saving of $3,210 instead of
    # $2,140. It has no place in the span: the month is the timed calls', and the section
    # says how many calls were left out of it.
    records = [
        call(0, model="gpt-4o-mini", inp=1_800_000_000, out=0, text="a"),
        call(MONTH, model="gpt-4o-mini", inp=1_800_000_000, out=0, text="b"),
        call(10, model="gpt-4o-mini", inp=1_800_000_000, out=0, text="c"),
    ]
    del records[2]["timestamp"]
    rep = report(jsonl, records, config=CONFIG)
    s = rep["selfhost"]
    [w] = s["workloads"]
    assert w["calls"] == 2
    assert w["monthly_input_tokens"] == 3_600_000_000
    assert w["monthly_api_usd"] == pytest.approx(3600)
    assert (w["replicas"], w["selfhost_monthly_usd"]) == (2, 1460)
    assert w["monthly_saving_usd"] == pytest.approx(3600 - 1460)
    assert s["untimed_calls"] == 1 and s["usd"] == pytest.approx(3600 - 1460)
    assert offered(rep, "self_hosting")["usd"] == pytest.approx(3600 - 1460)
    assert s["note"] is None  # (the note says why there is no table)
    Path("llmcost.yaml").write_text(CONFIG)
    path = str(jsonl(records))
    for fmt in ("table", "markdown", "html"):
        out = cli("analyze", path, *PRICING_ARGS, "--format", fmt, "-o", f"r.{fmt}")
        assert out.exit_code == 0, out.stderr
        text = " ".join(html.unescape(Path(f"r.{fmt}").read_text()).split())
        assert (
            "1 call without a timestamp is left out of the monthly figures: a call that says "
            "not when it was made has no place in the log's span" in text
        ), fmt
        assert "volumes scaled to a month from 30.44 days of log" in text, fmt


def test_timed_calls_only_have_no_untimed_note(jsonl):
    records = [
        call(0, model="gpt-4o-mini", inp=1_800_000_000, out=0, text="a"),
        call(MONTH, model="gpt-4o-mini", inp=1_800_000_000, out=0, text="b"),
    ]
    s = report(jsonl, records, config=CONFIG)["selfhost"]
    assert s["untimed_calls"] == 0 and s["note"] is None
    assert s["log_days"] == pytest.approx(30.44)


def test_a_model_whose_calls_carry_no_tokens_is_no_workload(jsonl):
    """The Panther Bedrock log's one call of claude-3-haiku reports 0 tokens: it was offered
    as a self-hosting workload of 0 tokens a month, $1,825 to self-host, breaking even
    "never". A workload of no tokens is not offered, and the note says why none is."""
    rep = report(jsonl, [call(0, model="gpt-4o-mini", inp=0, out=0, text="a")], config=CONFIG)
    assert rep["selfhost"]["workloads"] == []
    assert "carry no tokens" in rep["selfhost"]["note"]
    records = [
        call(0, model="gpt-4o-mini", inp=0, out=0, text="a"),
        call(MONTH, model="gpt-4o", inp=1000, out=10, text="b"),
    ]
    rep = report(jsonl, records, config=CONFIG)
    assert [w["model"] for w in rep["selfhost"]["workloads"]] == ["gpt-4o"]
    assert rep["selfhost"]["note"] is None


def test_the_monthly_volume_is_the_last_month_of_a_longer_log(jsonl, cli, tmp_path):
    # Two months of log (60.88 days): gpt-4o-mini ($1/M in) once at the start, 100M input
    # tokens ($100), then retired; gpt-4.1-mini ($2/M in) twice in the last month, 50M each
    # ($200). The month to self-host is the last one: gpt-4.1-mini's 100M tokens, $200, and
    # no gpt-4o-mini. Before, both were spread over the two months: gpt-4.1-mini at half its
    # month ($100, 50M tokens), the retired gpt-4o-mini at $50 a month.
    prices = tmp_path / "mini.yaml"
    prices.write_text(
        "provider: openai\nversion: 2026-01-01\nsource: https://example.test/mini\n"
        "models:\n  gpt-4.1-mini:\n    prices:\n      - {from: 2025-01-01, input: 2, output: 8}\n"
    )
    config = tmp_path / "llmcost.yaml"
    config.write_text(CONFIG)
    records = [
        call(0, model="gpt-4o-mini", inp=100_000_000, out=0, text="a"),
        call(MONTH + 86400, model="gpt-4.1-mini", inp=50_000_000, out=0, text="b"),
        call(2 * MONTH, model="gpt-4.1-mini", inp=50_000_000, out=0, text="c"),
    ]
    args = ("analyze", str(jsonl(records)), *PRICING_ARGS, "--pricing", str(prices))
    args += ("--config", str(config))
    s = json.loads(cli(*args, "-f", "json").stdout)["selfhost"]
    [w] = s["workloads"]
    assert w["model"] == "gpt-4.1-mini" and s["models"] == 1
    assert w["monthly_input_tokens"] == 100_000_000
    assert w["monthly_api_usd"] == pytest.approx(200)
    assert (s["log_days"], s["volume_days"]) == (60.88, 30.44)
    assert s["volume_window"] == "last month of the log"
    assert s["volume_since"] == "2026-04-01T10:33:36+00:00"  # 2026-03-02 + 30.44 days
    text = " ".join(cli(*args).stdout.split())
    assert (
        "volumes of the last 30.44 days of the log (from 2026-04-01 10:33 UTC; the log spans "
        "60.88 days)" in text
    ), text
