"""Batch eligibility: configured and shape-detected offline sources at batch prices, by hand."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SAMPLES
from tests.test_analyses_common import M, call, offered, report

DAY, HOUR = 86400, 3600
COST = 1000 * 10 * M + 100 * 20 * M  # big-model, 1000 in / 100 out: $0.012; batch: half


def _log() -> list[dict]:
    records = []
    for day in range(3):
        # a nightly job: 02:00, five calls a minute apart, no user -> scheduled, userless, bursty
        for i in range(5):
            records.append(
                call(day * DAY + 2 * HOUR + 60 * i, feature="nightly", user=None, text=f"n{day}{i}")
            )
        # interactive chat: users, spread over the day
        for hour in (9, 13, 17):
            records.append(call(day * DAY + hour * HOUR, feature="chat", text=f"c{day}{hour}"))
    # a model without batch prices inside the nightly job: not repriced
    records.append(call(2 * HOUR + 400, feature="nightly", user=None, model="other-model"))
    # "report" is configured offline; one of its calls is already on the batch tier
    records.append(call(11 * HOUR, feature="report", text="r1"))
    records.append(call(15 * HOUR, feature="report", text="r2"))
    records.append(call(16 * HOUR, feature="report", text="r3", tier="batch"))
    return records


def test_offline_sources_at_batch_prices(jsonl):
    rep = report(jsonl, _log(), config="savings:\n  offline_features: [report]\n")
    b = rep["batch"]
    sources = {s["source"]: s for s in b["sources"]}
    assert set(sources) == {"nightly", "report"}  # chat is interactive
    nightly = sources["nightly"]
    assert nightly["why"] == "shape: scheduled + no user + bursty"
    assert (nightly["calls"], nightly["batchable_calls"], nightly["unbatchable_calls"]) == (
        16,
        15,
        1,
    )
    assert nightly["savings_usd"] == pytest.approx(15 * COST / 2)
    report_ = sources["report"]
    assert report_["why"].startswith("configured offline")
    assert (report_["batchable_calls"], report_["already_batch_calls"]) == (2, 1)
    assert report_["savings_usd"] == pytest.approx(2 * COST / 2)
    assert b["usd"] == pytest.approx(17 * COST / 2)


def test_one_signal_is_not_enough(jsonl):
    # calls without a user at varied hours, far apart: userless only
    records = [
        call(d * DAY + h * HOUR, feature="odd", user=None, text=f"{d}{h}")
        for d in range(3)
        for h in (1, 9, 20)
    ]
    records += [call(d * DAY + 12 * HOUR, feature="chat", text=f"c{d}") for d in range(3)]
    assert report(jsonl, records)["batch"]["sources"] == []


def test_no_user_ids_anywhere_is_no_signal(jsonl):
    # a log without user ids: "no user" says nothing; scheduled alone is not enough
    records = [call(d * DAY + 2 * HOUR, feature="job", user=None, text=f"{d}") for d in range(4)]
    assert report(jsonl, records)["batch"]["sources"] == []


def test_offline_features_through_the_cli_config(cli, tmp_path):
    config = tmp_path / "team.yaml"
    config.write_text("savings:\n  offline_features: [classify-ticket]\n")
    result = cli("analyze", SAMPLES / "demo.jsonl", "--format", "json", "--config", config)
    assert result.exit_code == 0, result.stderr
    sources = {s["source"]: s for s in json.loads(result.stdout)["batch"]["sources"]}
    assert sources["classify-ticket"]["why"].startswith("configured offline")
    assert sources["nightly-summaries"]["why"].startswith("shape:")


def test_burst_share_counts_runs_in_time_order(jsonl):
    # runs of calls at most 120 s apart, in time order: 0-180 s (4 calls: not a burst),
    # 1000-1300 s (5 calls, one gap of exactly 120 s: a burst), 5000 s (alone), and the last
    # run 9000-9240 s (5 calls: a burst). 10 of 15 calls are in bursts. The log is not in
    # time order.
    times = [0, 60, 120, 180, 1000, 1120, 1180, 1240, 1300, 5000, *range(9000, 9241, 60)]
    records = [call(t, feature="job", text=f"j{t}") for t in reversed(times)]
    rep = report(jsonl, records, config="savings:\n  offline_features: [job]\n")
    [job] = rep["batch"]["sources"]
    assert (job["source"], job["calls"]) == ("job", 15)
    assert job["burst_share"] == round(10 / 15, 3)


def test_calls_on_flex_are_not_batched_again(jsonl):
    # Hand-worked, "job" configured offline. gpt-5-mini (pricing/openai.yaml: in $0.25/M,
    # out $2/M; flex and batch both half price): a flex call already pays batch prices.
    # big-model (test prices) has no flex row, so its flex call is priced at the standard
    # price, and was "saved" half of it by batching. Flex is a discounted asynchronous tier
    # like batch: both are left out now, only the standard calls are repriced.
    records = [
        call(0, model="gpt-5-mini", feature="job", text="a", inp=10000, out=1000, tier="flex"),
        call(10, model="gpt-5-mini", feature="job", text="b", inp=10000, out=1000),
        call(20, feature="job", text="c", inp=1000, out=100, tier="flex"),
        call(30, feature="job", text="d", inp=1000, out=100),
    ]
    rep = report(jsonl, records, config="savings:\n  offline_features: [job]\n")
    [job] = rep["batch"]["sources"]
    mini, big = 10000 * 0.25 * M + 1000 * 2 * M, 1000 * 10 * M + 100 * 20 * M
    assert (job["batchable_calls"], job["already_batch_calls"]) == (2, 2)
    assert job["cost_usd"] == pytest.approx(mini + big)
    assert job["savings_usd"] == pytest.approx((mini + big) / 2)
    assert offered(rep, "batch")["details"]["usd_before_overlap"] == pytest.approx((mini + big) / 2)
