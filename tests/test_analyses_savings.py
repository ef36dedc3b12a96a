"""The Savings summary: one kind per call, ranked by dollars; and the demo log end to end."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from llmcost.analyses.savings import KINDS
from llmcost.report import analyze
from tests.conftest import SAMPLES
from tests.test_analyses_common import PRICES, M, call, offered, report

DEMO = SAMPLES / "demo.jsonl"
PRICING_ARGS = [x for p in PRICES for x in ("--pricing", str(p))]


def test_each_call_counts_once(jsonl):
    # "job" is offline (batch at half price). c2 repeats c1 10 s later from the same user and
    # session: a retry, an exact repeat and a batch candidate at once. c3 failed but was billed.
    records = [
        call(0, feature="job", session="s", text="summarise ticket 1", inp=1000, out=100),
        call(10, feature="job", session="s", text="summarise ticket 1", inp=1000, out=100),
        call(
            20, feature="job", session="s", text="zzz", inp=1000, out=0, status="error", finish=None
        ),
    ]
    rep = report(jsonl, records, config="savings:\n  offline_features: [job]\n")
    c1 = c2 = 1000 * 10 * M + 100 * 20 * M  # $0.012
    c3 = 1000 * 10 * M  # $0.010
    retries, failed = offered(rep, "retries"), offered(rep, "failed_calls")
    assert (retries["usd"], retries["calls"]) == (pytest.approx(c2), 1)
    assert (failed["usd"], failed["calls"]) == (pytest.approx(c3), 1)
    # the exact repeat is the retry, already counted: nothing left for the response cache
    cache = offered(rep, "response_cache")
    assert cache["usd"] == 0
    assert cache["details"]["usd_before_overlap"] == pytest.approx(c2)
    # batch keeps only c1: c2 and c3 are gone
    batch = offered(rep, "batch")
    assert batch["usd"] == pytest.approx(c1 / 2)
    assert batch["details"]["usd_before_overlap"] == pytest.approx((c1 + c2 + c3) / 2)
    # c3 failed: its missing answer does not make it a simple call to downgrade
    assert offered(rep, "downgrade") is None
    total = rep["savings_total"]
    assert total["usd"] == pytest.approx(c2 + c3 + c1 / 2)
    assert total["calls"] == 3
    assert [s["usd"] for s in rep["savings"]] == sorted(
        (s["usd"] for s in rep["savings"]), reverse=True
    )


def test_the_largest_price_change_wins(jsonl):
    # a short classification call on the offline job: batch saves half, the sibling 90%
    records = [call(0, feature="classify-job", inp=1000, out=10, user=None)]
    rep = report(jsonl, records, config="savings:\n  offline_features: [classify-job]\n")
    cost = 1000 * 10 * M + 10 * 20 * M
    assert offered(rep, "downgrade")["usd"] == pytest.approx(cost * 0.9)
    assert offered(rep, "batch")["usd"] == 0
    assert rep["savings_total"]["usd"] == pytest.approx(cost * 0.9)


def test_the_total_is_called_a_floor_not_up_to(jsonl, cli):
    # The sum is a floor of what the kinds save together (savings.py), but the report said
    # "Up to $X", a ceiling. Hand-worked: the short offline call of the test above costs
    # $0.0102; the sibling saves 90% ($0.00918, the total), batch 50%. Together (the sibling
    # at its batch price, $0.00051) they would save 95%, $0.00969: more than the total.
    records = [call(0, feature="classify-job", inp=1000, out=10, user=None)]
    config = "savings:\n  offline_features: [classify-job]\n"
    rep = report(jsonl, records, config=config)
    cost = 1000 * 10 * M + 10 * 20 * M
    assert rep["savings_total"]["usd"] == pytest.approx(cost * 0.9)
    assert offered(rep, "batch")["details"]["usd_before_overlap"] == pytest.approx(cost / 2)
    assert rep["savings_total"]["usd"] < cost - (1000 * 1 * M + 10 * 2 * M) / 2
    Path("llmcost.yaml").write_text(config)
    log = str(jsonl(records))
    for fmt in ("table", "markdown", "html"):
        out = cli("analyze", log, "--format", fmt, *PRICING_ARGS).stdout
        text = " ".join((html.unescape(out) if fmt == "html" else out).split())
        assert "Up to" not in text, fmt
        assert "Savings found: $0.0092 (90.0% of $0.01) on 1 call, ranked by dollars." in text, fmt
        assert (
            "A floor of what these kinds save together: each call's saving is counted once, "
            "and savings that could stack on one call (batch with caching, say) are not added"
        ) in text, fmt


def test_demo_log(cli):
    result = cli("analyze", DEMO, "--format", "json")
    assert result.exit_code == 0, result.stderr
    rep = json.loads(result.stdout)
    total_cost = rep["summary"]["total_cost_usd"]
    savings, total = rep["savings"], rep["savings_total"]
    assert savings and all(
        {"kind", "usd", "calls", "assumption", "details"} <= set(s) for s in savings
    )
    assert {s["kind"] for s in savings} <= set(KINDS)
    assert [s["usd"] for s in savings] == sorted((s["usd"] for s in savings), reverse=True)
    for s in savings:
        assert 0 <= s["usd"] <= s["details"]["usd_before_overlap"] + 1e-9
        assert s["calls"] <= s["details"]["calls_before_overlap"]
    assert total["usd"] == pytest.approx(sum(s["usd"] for s in savings))
    assert 0 < total["usd"] < total_cost
    assert total["calls"] <= rep["summary"]["requests"]
    # what the demo log was built to contain (sample_logs/README.md)
    assert rep["batch"]["sources"][0]["source"] == "nightly-summaries"
    assert rep["waste"]["retries"]["after_success"] >= 70  # the 80-call retry storm
    assert rep["waste"]["failed"]["calls"] == rep["summary"]["error_requests"]
    assert rep["waste"]["truncated"]["calls"] == rep["summary"]["truncated_requests"]
    assert rep["cache"]["exact_repeats"]["requests"] > 300  # about 15% repeats
    assert rep["cache"]["prompt_caching"]["usd"] > 0
    assert rep["downgrade"]["coverage"][0]["savings_usd"] <= rep["downgrade"]["total_savings_usd"]
    assert rep["anomalies"]["forecast"]["month"] == "2026-11"
    assert (
        rep["anomalies"]["forecast"]["projection_usd"]
        > rep["anomalies"]["forecast"]["month_to_date_usd"]
    )
    assert rep["selfhost"]["workloads"]  # small volumes: nowhere near break-even
    assert all(w["monthly_saving_usd"] == 0 for w in rep["selfhost"]["workloads"])


def test_markdown_puts_savings_right_after_the_summary(cli):
    out = cli("analyze", DEMO, "--format", "markdown").stdout
    headings = [line for line in out.splitlines() if line.startswith("## ")]
    assert headings[:2] == ["## Summary", "## Savings"]
    for heading in (
        "## Cache-hit potential: provider prompt caching",
        "## Cache-hit potential: near-duplicate prompts",
        "## Model-downgrade savings",
        "## Batch eligibility",
        "## Output waste",
        "## Prompt bloat",
        "## Anomalies and forecast (UTC)",  # analyze's days are UTC ones, and say so
        "## Self-hosting break-even",
    ):
        assert heading in headings


def test_no_savings_at_all(jsonl):
    # one call of a model without sibling, batch or cache price, nor open-weight substitute
    rep = report(jsonl, [call(0, model="other-model")])
    assert rep["savings"] == []
    assert rep["savings_total"]["usd"] == 0
    from llmcost.render.markdown import render

    assert "no saving found" in render(rep)


def test_a_failed_call_leaves_nothing_to_cache(jsonl):
    # Hand-worked (big-model: in $10/M, out $20/M). q fails (billed 1000 in), is sent again
    # 10 s later and answered, then asked a third time: only the third call could be answered
    # from a cache. Likewise the reworded question after a failed call is no near-duplicate
    # hit. Before, the answered call was an "exact repeat" of the failed one: the failed call
    # AND the call that had to be paid were both counted as saved.
    question = "please check why the export of tickets from the billing queue stops at row ten"
    records = [
        call(0, text="same question", inp=1000, out=0, status="error", finish=None),
        call(10, text="same question", inp=1000, out=100),
        call(900, text="same question", inp=1000, out=100),
        call(2000, text=question + " today", inp=1000, out=0, status="error", finish=None),
        call(2010, text=question + " tonight", inp=1000, out=100),
    ]
    rep = report(jsonl, records)
    answered, failed = 1000 * 10 * M + 100 * 20 * M, 1000 * 10 * M
    assert rep["cache"]["exact_repeats"]["requests"] == 1
    assert offered(rep, "response_cache")["usd"] == pytest.approx(answered)
    assert rep["cache"]["near_duplicates"]["requests"] == 0
    assert offered(rep, "semantic_cache") is None
    assert offered(rep, "failed_calls")["usd"] == pytest.approx(2 * failed)
    # the failed calls and the third call: never the two calls that had to be paid
    assert rep["savings_total"]["usd"] == pytest.approx(2 * failed + answered)
    assert rep["savings_total"]["usd"] <= rep["summary"]["total_cost_usd"] - 2 * answered


def test_the_share_says_it_leaves_out_unpriced_calls(jsonl, cli):
    # Hand-worked: two big-model calls (in $10/M, out $20/M), one failed and billed $0.01;
    # three calls of a model no table prices. The share is of the $0.022 the priced calls cost,
    # and the text now says that three calls are not in it (before: "45.5% of $0.022" alone).
    records = [
        call(0, text="a", inp=1000, out=100),
        call(10, text="b", inp=1000, out=0, status="error", finish=None),
        *[call(20 + i, model="mystery-model", text=f"m{i}") for i in range(3)],
    ]
    total = report(jsonl, records)["savings_total"]
    assert total["total_cost_usd"] == pytest.approx(0.022)
    assert total["usd"] == pytest.approx(0.01)
    assert total["share_of_cost"] == pytest.approx(0.01 / 0.022)
    assert total["calls_without_cost"] == 3
    text = cli("analyze", str(jsonl(records)), *PRICING_ARGS).stdout
    assert (
        "Savings found: $0.01 (45.5% of $0.02, the cost of the priced calls; 3 calls without a "
        "price not included) on 1 call" in " ".join(text.split())
    )


def test_self_hosting_is_taken_for_all_of_a_model_or_not_at_all(jsonl):
    # Hand-worked at the shipped prices: gpt-4o-mini in $0.15/M, out $0.60/M, batch half;
    # self-hosted on one GPU at $2.50/h = $1,825 a month. One day of log (30.44 days a month):
    # A (offline job) 300M in + 10k out = $45.006; B (chat) 200M in + 10k out = $30.006.
    # Self-hosting both saves $75.012 - $1,825 / 30.44 = $15.058; batching A saves $22.503.
    # Before, A went to batch and B kept its share of the self-hosting saving (B x (1 - GPU
    # share) = $6.02): $28.53, more than any plan can save — the GPUs cost the same for B alone.
    Path("llmcost.yaml").write_text("savings:\n  offline_features: [job]\n")
    records = [
        call(0, model="gpt-4o-mini", feature="job", text="a", inp=300_000_000, out=10_000),
        call(3600, model="gpt-4o-mini", feature="chat", text="b", inp=200_000_000, out=10_000),
    ]
    rep = analyze([jsonl(records)])
    a_cost, b_cost = 300 * 0.15 + 10_000 * 0.6 * M, 200 * 0.15 + 10_000 * 0.6 * M
    alone = a_cost + b_cost - 730 * 2.5 / 30.44
    assert rep["summary"]["total_cost_usd"] == pytest.approx(a_cost + b_cost)
    hosting = offered(rep, "self_hosting")
    assert hosting["details"]["usd_before_overlap"] == pytest.approx(alone)
    assert (hosting["usd"], hosting["calls"]) == (0, 0)  # batching A alone saves more
    assert offered(rep, "batch")["usd"] == pytest.approx(a_cost / 2)
    assert rep["savings_total"]["usd"] == pytest.approx(a_cost / 2)
    assert rep["savings_total"]["calls"] == 1


def test_a_prompt_family_is_cached_whole_or_not_at_all(jsonl):
    # big-model (test prices: in $10/M, out $20/M, cache read $1/M, no write premium; the
    # sibling small-model in $1/M, out $2/M). Three calls 60 s apart share a 1,200-token
    # system prompt: caching saves 2 reads x 1,152 (OpenAI's steps of 128 past 1,024) x $9/M
    # = $0.020736, $0.006912 a call. Calls 1 and 2 are simple (10-token answers): $0.01368
    # each on small-model; call 3 used reasoning (complex). Before, call 3 kept its share of
    # the family's saving, though
    # with calls 1 and 2 moved to small-model nothing writes the cache that it would read.
    system = "hello" + " hello" * 1199
    records = [
        call(0, system=system, text="q1", inp=1500, out=10),
        call(60, system=system, text="q2", inp=1500, out=10),
        call(120, system=system, text="q3", inp=1500, out=10, reasoning=5),
    ]
    rep = report(jsonl, records)
    downgrade = 1500 * 9 * M + 10 * 18 * M
    caching = offered(rep, "prompt_caching")
    assert caching["details"]["usd_before_overlap"] == pytest.approx(2 * 1152 * 9 * M)
    assert (caching["usd"], caching["calls"]) == (0, 0)
    assert offered(rep, "downgrade")["usd"] == pytest.approx(2 * downgrade)
    assert rep["savings_total"]["usd"] == pytest.approx(2 * downgrade)


def test_an_empty_frame_loads_without_a_word_on_stderr(capfd):
    # A report with nothing to save loads empty frames; DuckDB 1.5 scanned them through
    # pyarrow's Acero, which wrote "An input buffer was poorly aligned" to stderr per column.
    import polars as pl

    from llmcost import store
    from llmcost.analyses.savings import load_frame

    con = store.connect()
    empty = pl.DataFrame(schema={"model": pl.String, "keep": pl.Boolean, "tokens": pl.Float64})
    load_frame(con, "sv_empty", empty)
    described = con.execute("DESCRIBE sv_empty").fetchall()
    assert [(name, kind) for name, kind, *_ in described] == [
        ("model", "VARCHAR"),
        ("keep", "BOOLEAN"),
        ("tokens", "DOUBLE"),
    ]
    assert con.execute("SELECT count(*) FROM sv_empty").fetchone() == (0,)
    assert capfd.readouterr() == ("", "")
