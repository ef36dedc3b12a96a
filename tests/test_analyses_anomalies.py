"""Anomalies against a robust trailing baseline, and the month-end forecast, by hand."""

from __future__ import annotations

import json
import math
import random
import re
import statistics
from pathlib import Path

import pytest

from tests.test_analyses_common import PRICES, call, report

DAY = 86400
PRICING_ARGS = [x for p in PRICES for x in ("--pricing", str(p))]
NOON = 12 * 3600
DOLLAR = {"inp": 100_000, "out": 0}  # big-model: 100,000 input tokens at $10/M = $1


def test_a_spike_day_user_and_feature(jsonl):
    # 2026-03-02 .. 2026-03-11: $1 a day; 2026-03-12: $5 (five calls)
    records = [call(d * DAY + NOON, feature="f", text=f"d{d}", **DOLLAR) for d in range(10)]
    records += [call(10 * DAY + NOON + i, feature="f", text=f"s{i}", **DOLLAR) for i in range(5)]
    a = report(jsonl, records)["anomalies"]
    # baseline of the spike day: median $1, MAD 0 -> sigma = max(0, 10% of $1, 1% of the
    # average day $15/11) = $0.10; threshold 1 + 3.5 x 0.10 = $1.35; the $1 days before are
    # below it (and days 1-7 have under 7 days of history)
    [day] = a["days"]
    assert day["day"] == "2026-03-12"
    assert day["cost_usd"] == pytest.approx(5)
    assert day["baseline_usd"] == pytest.approx(1)
    assert day["threshold_usd"] == pytest.approx(1.35)
    assert day["excess_usd"] == pytest.approx(4)
    assert day["history_days"] == 10
    assert {(x["scope"], x["key"]) for x in a["users_and_features"]} == {
        ("user", "u1"),
        ("feature", "f"),
    }
    assert a["count"] == 3
    assert a["days_checked"] == 4  # 2026-03-09 .. 2026-03-12 have 7+ days of history


def test_forecast(jsonl):
    # March 2026 (31 days): $1 at noon on each of the first 11 days (T0 is 2026-03-02)
    records = [call((d - 2) * DAY + NOON, text=f"d{d}", **DOLLAR) for d in range(1, 12)]
    f = report(jsonl, records)["anomalies"]["forecast"]
    assert f["month"] == "2026-03"
    assert f["month_to_date_usd"] == pytest.approx(11)
    # the last call is at noon of day 11: 10.5 days elapsed, 20.5 to go at $1 a day
    assert f["days_elapsed"] == 10.5
    assert f["daily_mean_usd"] == pytest.approx(1)
    assert f["history_days"] == 10  # complete days before the last one
    assert f["projection_usd"] == pytest.approx(11 + 20.5)
    assert f["low_usd"] == f["high_usd"] == pytest.approx(31.5)  # no spread in the history


def test_forecast_range_from_daily_spread(jsonl):
    # 2026-03-01 .. 2026-03-11, alternating $1 and $3 days
    costs = [1 if d % 2 == 0 else 3 for d in range(11)]
    records = [
        call((d - 1) * DAY + NOON + i, text=f"d{d}-{i}", **DOLLAR)
        for d, dollars in enumerate(costs)
        for i in range(dollars)
    ]
    f = report(jsonl, records)["anomalies"]["forecast"]
    history = costs[:10]  # complete days before the last one
    mean = sum(history) / 10  # $2
    sd = statistics.stdev(history)
    remaining = 31 - 10.5  # the last call is at noon of 2026-03-11
    assert f["daily_sd_usd"] == pytest.approx(sd)
    assert f["projection_usd"] == pytest.approx(sum(costs) + remaining * mean)
    assert f["high_usd"] - f["projection_usd"] == pytest.approx(1.2816 * sd * remaining**0.5)
    assert f["projection_usd"] - f["low_usd"] == pytest.approx(1.2816 * sd * remaining**0.5)


def test_forecast_counts_the_calls_without_a_price(jsonl, cli):
    # The test_forecast log, plus two calls a day of a model no table prices on days 10-11:
    # the month to date is still the $11 of the priced calls, and now says that 4 calls are
    # not in it (before: "$11.00" alone, as if the whole month were counted).
    records = [call((d - 2) * DAY + NOON, text=f"d{d}", **DOLLAR) for d in range(1, 12)]
    records += [
        call((d - 2) * DAY + NOON - i, model="mystery-model", text=f"m{d}{i}")
        for d in (10, 11)
        for i in (1, 2)
    ]
    f = report(jsonl, records)["anomalies"]["forecast"]
    assert f["month_to_date_usd"] == pytest.approx(11)
    assert f["unpriced_requests"] == 4
    assert f["projection_usd"] == pytest.approx(11 + 20.5)
    text = " ".join(cli("analyze", str(jsonl(records)), *PRICING_ARGS).stdout.split())
    assert (
        "Month to date (2026-03, 10.5 of 31 days): $11.00 + 4 unpriced; month-end projection "
        "of the priced calls $31.50" in text
    )


def test_forecast_tells_calls_without_token_counts_from_unpriced_ones(jsonl, cli):
    # The test_forecast log, plus two calls of a model no table prices and three failed
    # big-model calls whose log has no usage (a 429: their cost is unknown, not billed) and
    # one big-model call with no usage and no text that did not fail, on day 11. Before, the
    # month to date read "$11.00 + 6 unpriced", as if big-model had lost its price; then the
    # 4 were calls without tokens and the 2 the unpriced ones. The 3 failed calls are not
    # billed, as the summary's total says: in no count of calls without tokens beside a cost
    # (attribution.without_tokens, as Cost by day), so the line says the one call left.
    records = [call((d - 2) * DAY + NOON, text=f"d{d}", **DOLLAR) for d in range(1, 12)]
    records += [call(9 * DAY + NOON - i, model="mystery-model", text=f"m{i}") for i in (1, 2)]
    for i in (3, 4, 5):
        failed = call(9 * DAY + NOON - i, status="error", text=f"e{i}")
        del failed["usage"]
        records.append(failed)
    bare = call(9 * DAY + NOON - 6)
    del bare["usage"], bare["messages"]
    records.append(bare)
    f = report(jsonl, records)["anomalies"]["forecast"]
    assert f["month_to_date_usd"] == pytest.approx(11)
    assert (f["unpriced_requests"], f["unknown_token_requests"]) == (2, 1)
    assert f["error_unknown_token_requests"] == 3
    assert f["projection_usd"] == pytest.approx(11 + 20.5)
    for fmt in ("table", "markdown", "html"):
        out = cli("analyze", str(jsonl(records)), *PRICING_ARGS, "--format", fmt)
        assert (
            "Month to date (2026-03, 10.5 of 31 days): $11.00 + 2 unpriced + 1 without tokens; "
            "month-end projection of the calls with a cost $31.50"
            in " ".join(re.sub(r"<[^>]+>", " ", out.stdout).split())
        ), fmt
    # the failed calls alone beside the cost: the month to date is the total's, all known
    # (it read '$11.00 + 3 without tokens; month-end projection of the calls with a cost')
    only_failed = [r for r in records if r["model"] != "mystery-model" and r is not bare]
    f = report(jsonl, only_failed)["anomalies"]["forecast"]
    assert (f["unknown_token_requests"], f["error_unknown_token_requests"]) == (0, 3)
    for fmt in ("table", "markdown", "html"):
        out = cli("analyze", str(jsonl(only_failed)), *PRICING_ARGS, "--format", fmt)
        assert (
            "Month to date (2026-03, 10.5 of 31 days): $11.00; month-end projection $31.50"
            in " ".join(re.sub(r"<[^>]+>", " ", out.stdout).split())
        ), fmt


def test_forecast_leaves_a_day_of_calls_without_a_cost_out_of_its_fit(jsonl, cli):
    # The test_forecast log, but the 5th's call is of a model no table prices: a day whose
    # cost is unknown. It was a $0 day of the history: mean 9 / 10 = $0.90, projection
    # 10 + 20.5 x 0.90 = $28.45. Left out, the mean is of the 9 days with a cost: $1, and
    # the projection 10 + 20.5 x 1 = $30.50.
    records = [
        call((d - 2) * DAY + NOON, text=f"d{d}", **DOLLAR)
        if d != 5
        else call((d - 2) * DAY + NOON, model="mystery-model", text=f"d{d}")
        for d in range(1, 12)
    ]
    f = report(jsonl, records)["anomalies"]["forecast"]
    assert (f["month_to_date_usd"], f["unpriced_requests"]) == (pytest.approx(10), 1)
    assert f["projection_usd"] == pytest.approx(10 + 20.5)
    assert f["daily_mean_usd"] == pytest.approx(1)
    assert (f["history_days"], f["history_days_without_cost"]) == (9, 1)
    assert "(1 complete day left out: no call with a cost, unknown, not $0)" in f["method"]
    text = " ".join(cli("analyze", str(jsonl(records)), *PRICING_ARGS).stdout.split())
    assert "the mean of the last 9 complete days (1 complete day left out" in text


def test_a_month_of_no_call_with_a_cost_has_no_month_to_date_nor_projection(jsonl, cli):
    # Calls on 2026-03-01 .. 03-03, all of a model no table prices: the month to date read
    # "$0.00 + 3 unpriced" and its projection "$0.00", a month known to cost nothing.
    records = [call((d - 2) * DAY + NOON, model="mystery-model", text=f"d{d}") for d in range(1, 4)]
    f = report(jsonl, records)["anomalies"]["forecast"]
    assert (f["month_to_date_usd"], f["projection_usd"], f["low_usd"]) == (None, None, None)
    assert (f["unpriced_requests"], f["history_days"], f["history_days_without_cost"]) == (
        3,
        0,
        2,
    )
    assert f["range_note"] == "no projection: no call of 2026-03 has a cost"
    for fmt in ("table", "markdown"):
        out = cli("analyze", str(jsonl(records)), *PRICING_ARGS, "--format", fmt)
        assert (
            "Month to date (2026-03, 2.5 of 31 days): unpriced; no projection: no call of "
            "2026-03 has a cost." in " ".join(out.stdout.split())
        ), fmt


def test_forecast_from_too_few_days_gives_no_range_and_says_why(jsonl, cli):
    # Two days of log ($1 at noon on 2026-03-01 and 2026-03-02): one complete day before the
    # last, whose spread is nothing (a sample of one has no standard deviation). Before, the
    # report read "80% range $31.50 – $31.50": zero width, as if the month-end were certain.
    # The projection stands (MTD $2 + 29.5 days x $1); the range needs 7 complete days.
    records = [call((d - 1) * DAY + NOON, text=f"d{d}", **DOLLAR) for d in range(2)]
    f = report(jsonl, records)["anomalies"]["forecast"]
    assert f["history_days"] == 1
    assert f["projection_usd"] == pytest.approx(2 + 29.5)
    assert f["low_usd"] is None and f["high_usd"] is None
    assert f["range_note"] == "no 80% range: 1 complete day of history, and a range needs 7"
    assert "the cost of the one complete day before the last" in f["method"]
    for fmt in ("table", "markdown"):
        out = cli("analyze", str(jsonl(records)), *PRICING_ARGS, "--format", fmt)
        text = " ".join(out.stdout.split())
        assert (
            "month-end projection $31.50 (no 80% range: 1 complete day of history, and a range "
            "needs 7)." in text
        ), fmt
        assert "80% range $" not in text
    # six complete days: still no range; seven: a range
    six = [call((d - 1) * DAY + NOON, text=f"d{d}", **DOLLAR) for d in range(7)]
    assert report(jsonl, six)["anomalies"]["forecast"]["low_usd"] is None
    seven = [call((d - 1) * DAY + NOON, text=f"d{d}", **DOLLAR) for d in range(8)]
    assert report(jsonl, seven)["anomalies"]["forecast"]["low_usd"] == pytest.approx(31.5)


def test_forecast_of_a_log_that_starts_late_in_the_month_uses_its_own_rate(jsonl):
    # $1 at 06:00 and at 18:00 on 2026-03-29 (T0 is 2026-03-02): no complete day before the
    # last call's, so the rate is the day's own: $2 over the 0.75 day logged, $2.667 a day,
    # for the 2.25 days left of March. Before, the $2 was spread over the 28.75 days since
    # the 1st, which the log does not cover ($0.07 a day: a projection of $2.16).
    records = [call(27 * DAY + h * 3600, text=f"h{h}", **DOLLAR) for h in (6, 18)]
    f = report(jsonl, records)["anomalies"]["forecast"]
    assert (f["history_days"], f["days_elapsed"]) == (0, 28.75)
    assert f["daily_mean_usd"] == pytest.approx(2 / 0.75)
    assert f["projection_usd"] == pytest.approx(2 + 2.25 * 2 / 0.75)
    assert "per day logged" in f["method"]


def test_a_sparse_log_is_not_checked_and_says_why(jsonl):
    """On the real fixtures (a few calls a month over two years) every day with a call was
    an anomaly: its 14 days before were nearly all idle, median $0 and MAD $0, so the
    threshold was about $0. A history of idle days cannot say what a usual day costs: a day
    is checked when 7 of the 14 days before it had calls, and the days with calls that were
    not are counted, with why, so that no anomaly is not read as 'all normal'.

    $1 every tenth day for 60 days, then $1 on day 61 and $5 on day 62."""
    records = [call(d * DAY + NOON, text=f"d{d}", **DOLLAR) for d in range(0, 61, 10)]
    records += [call(61 * DAY + NOON, text="a", **DOLLAR)]
    records += [call(62 * DAY + NOON + i, text=f"s{i}", **DOLLAR) for i in range(5)]
    rep = report(jsonl, records)
    a = rep["anomalies"]
    assert a["days"] == [] and a["users_and_features"] == [] and a["count"] == 0
    assert a["days_checked"] == 0 and a["series_checked"] == 0
    # 63 days: 7 with under 7 days of log before them (day 0 has calls), 56 with too few
    # days with calls before them (days 10, 20 .. 60, 61 and 62 have calls)
    assert a["days_not_checked"] == {"short_history": 7, "few_days_with_calls": 56}
    assert a["days_with_calls_not_checked"] == {"short_history": 1, "few_days_with_calls": 8}
    assert (a["min_history_days"], a["min_days_with_calls"]) == (7, 7)
    assert a["not_checked_note"] == (
        "9 days with calls not checked: 8 with fewer than 7 days with calls among the 14 "
        "before each (not enough days with calls: a history of idle days cannot say what a "
        "usual day costs), 1 with fewer than 7 days of log before each; no anomaly found "
        "there does not mean all was usual"
    )
    assert "7 of them with calls" in a["rule"]
    from llmcost.render.markdown import render

    md = render(rep)
    assert "Anomalies: none looked for, no day has the history it needs" in md
    assert "- 9 days with calls not checked: 8 with fewer than 7 days with calls" in md


def test_a_user_of_few_days_is_not_checked_on_a_dense_log(jsonl):
    """A dense log (u1: $1 every day) with a user who calls now and then (u2: $0.10 every
    fifth day): u2's median of the days before is $0, and each of its days was an anomaly
    of its own. Only u1's spike (and the day's) is one; u2's days are not checked."""
    dense = [call(d * DAY + NOON, text=f"d{d}", **DOLLAR) for d in range(20)]
    dense += [call(20 * DAY + NOON + i, text=f"s{i}", **DOLLAR) for i in range(5)]
    rare = [
        call(d * DAY + NOON + 60, user="u2", text=f"r{d}", inp=10_000, out=0)
        for d in range(0, 21, 5)
    ]
    a = report(jsonl, dense + rare)["anomalies"]
    assert [d["day"] for d in a["days"]] == ["2026-03-22"]
    assert [(x["scope"], x["key"]) for x in a["users_and_features"]] == [("user", "u1")]
    assert a["days"][0]["history_days_with_calls"] == 14
    assert a["days_with_calls_not_checked"] == {"short_history": 7, "few_days_with_calls": 0}


def test_forecast_of_idle_days_has_no_range(jsonl):
    """A log of a few calls a month read 'month-end projection $0.000059 (80% range $0.000059
    – $0.000059)' (the real fixtures): its 28 complete days before the last were idle, a
    spread of $0, a range of no width. The range needs 7 complete days with calls, as the
    anomaly check does; the projection (month to date + the mean of those days) stands.

    $1 on March 1st, 10th and 20th (T0 is 2026-03-02), then on the 30th."""
    records = [call((d - 2) * DAY + NOON, text=f"d{d}", **DOLLAR) for d in (1, 10, 20, 30)]
    f = report(jsonl, records)["anomalies"]["forecast"]
    assert (f["history_days"], f["history_days_with_calls"]) == (28, 2)
    assert f["low_usd"] is None and f["high_usd"] is None
    assert f["range_note"] == (
        "no 80% range: 2 of the 28 complete days of history had calls, and a range needs 7: "
        "the spread of idle days is no measure of it"
    )
    assert f["projection_usd"] == pytest.approx(4 + 1.5 * 2 / 28)


def test_the_report_says_when_it_lists_some_of_the_anomalies():
    """The demo read 'Anomalies: 28' above a table of 10 rows, as if the 10 were the 28: the
    lists hold the top N of each kind (--top), and the report says so."""
    from llmcost.render.layout import _anomalies

    found = {"scope": "user", "key": "u1", "day": "2026-11-04", "cost_usd": 1.0,
             "baseline_usd": 0.1, "excess_usd": 0.9}  # fmt: skip
    a = {"days": [], "users_and_features": [found], "count": 28, "days_checked": 14,
         "rule": "r", "forecast": None, "timezone": "UTC"}  # fmt: skip
    lines = _anomalies(a).lines
    assert "Listed: the 1 with the largest excess" in " ".join(lines)
    assert not any(x.startswith("Listed:") for x in _anomalies({**a, "count": 1}).lines)


def _one_big_call_a_week(last: list[float]) -> list[dict]:
    """u1 only: three $1 calls a day on 2026-03-02 .. 2026-03-15, but $1, $1 and $12 on the
    4th and the 11th; then the calls ``last`` (dollars) on the 16th."""
    sizes = [[1, 1, 12] if d in (2, 9) else [1, 1, 1] for d in range(14)] + [last]
    return [
        call(d * DAY + NOON + i, text=f"d{d}-{i}", inp=round(usd * 100_000), out=0)
        for d, day in enumerate(sizes)
        for i, usd in enumerate(day)
    ]


def test_a_day_over_by_one_call_of_a_usual_size_is_no_anomaly(jsonl):
    """The reviewer's 12-day logs of a few calls a day: 'a day at 4x its median from a single
    large call'. A MAD of days that were nearly all $3 is $0, and the 4th's and the 11th's
    $12 call (a size the log has) made each an anomaly: $14 against $3 + 3.5 x $0.30.

    The spread of a day's cost is at least its calls': a sum of N calls of sizes C has the
    variance E[N] Var(C) + Var(N) E[C]^2, here 3 calls a day (Var(N) = 0), C of the 42 calls
    before the 16th (40 x $1, 2 x $12); and the day must stay above the threshold without its
    largest call, unless that call is of a size never seen (5 sigmas of the log sizes)."""
    mean = (40 + 2 * 12) / 42
    var = (40 + 2 * 12**2) / 42 - mean**2
    threshold = 3 + 3.5 * math.sqrt(3 * var)  # $17.20
    usual = report(jsonl, _one_big_call_a_week([1, 1, 12]))["anomalies"]
    assert usual["count"] == 0  # was 4: the 11th and the 16th, each as a day and as u1's
    # the level went up: three $12 calls, $24 without the largest
    up = report(jsonl, _one_big_call_a_week([12, 12, 12]))["anomalies"]
    [day] = up["days"]
    assert (day["day"], day["cost_usd"], day["baseline_usd"]) == ("2026-03-16", 36, 3)
    assert day["threshold_usd"] == pytest.approx(threshold)
    assert (day["calls"], day["largest_call_usd"]) == (3, 12)
    assert [(x["scope"], x["key"]) for x in up["users_and_features"]] == [("user", "u1")]
    # one call of $40: $2 without it, but 40 is above e^(mean + 5 sd) of the log sizes ($15.8)
    logs = [0.0] * 40 + [math.log(12)] * 2
    cut = statistics.fmean(logs) + 5 * statistics.pstdev(logs)
    assert math.exp(cut) < 40
    big = report(jsonl, _one_big_call_a_week([1, 1, 40]))["anomalies"]
    assert [(x["day"], x["cost_usd"]) for x in big["days"]] == [("2026-03-16", 42)]
    assert "5 sigmas above the usual log size of a call" in big["rule"]
    # savings.anomaly_call_k: 10 puts the cut at $224: the $40 call is no news then
    config = "savings:\n  anomaly_call_k: 10\n"
    assert report(jsonl, _one_big_call_a_week([1, 1, 40]), config)["anomalies"]["count"] == 0


def _random_log(seed: int, spike: tuple[int, str] | None = None) -> list[dict]:
    """The reviewer's 30-day logs: 80-120 calls a day of lognormal sizes (sigma 1), four
    users (40/30/20/10% of the calls) and three features (50/30/20%), no anomaly; ``spike``
    (day, user): that user's calls of that day are 5x the size."""
    rng = random.Random(seed)
    records = []
    for d in range(30):
        for i in range(rng.randint(80, 120)):
            user = rng.choices(["u1", "u2", "u3", "u4"], [4, 3, 2, 1])[0]
            feature = rng.choices(["chat", "search", "summary"], [5, 3, 2])[0]
            inp, out = (max(1, round(rng.lognormvariate(math.log(m), 1))) for m in (2000, 300))
            if spike == (d, user):
                inp, out = 5 * inp, 5 * out
            t = d * DAY + 3600 + 30 * i
            who = {"user": user, "feature": feature, "text": f"{d}-{i}"}
            records.append(call(t, model="small-model", inp=inp, out=out, **who))
    return records


def test_noise_is_no_anomaly_and_a_spike_in_it_is():
    """Random logs with no anomaly got 1-7 flags each out of 184 checks (users and features at
    2x their median): this one read 7, on four days (2026-03-10 the day itself). It reads
    none now, and the same log with u1's calls 5x the size on 2026-03-29 reads that day only:
    the day, u1 and the features u1's calls went to."""
    import json
    from pathlib import Path

    from llmcost.report import analyze

    def flags(records):
        path = Path("log.jsonl")  # the test's own directory (conftest's _isolate)
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        a = analyze([path], pricing=PRICES, top=100)["anomalies"]
        return a, {(x["scope"], x["key"], x["day"]) for x in a["days"] + a["users_and_features"]}

    a, noise = flags(_random_log(1))
    assert noise == set()
    assert a["series_checked"] == 8 and a["days_checked"] == 23  # 184 checks
    _, spike = flags(_random_log(1, spike=(27, "u1")))
    assert spike == {
        ("day", "all calls", "2026-03-29"),
        ("user", "u1", "2026-03-29"),
        ("feature", "chat", "2026-03-29"),
        ("feature", "search", "2026-03-29"),
        ("feature", "summary", "2026-03-29"),
    }


def test_a_day_of_calls_without_a_cost_is_no_zero_day_in_a_baseline(jsonl):
    # 2026-03-02 .. 03-08: one $1 call a day (big-model); 03-09 .. 03-15: calls of
    # mystery-model only (no price: their cost is unknown); 03-16: three $1 calls, $3.
    # Its baseline read the unknown days as $0 days of no call: median $0.50, MAD $0.50,
    # and 0.5 calls a day with a MAD of 0.5, threshold 0.5 + 3.5 x 1.4826 x 0.5 = $3.09,
    # and the spike was not found. The 7 days with a cost are its baseline now: median $1,
    # MAD 0, one call a day (MAD 0), sigma max(0, 10% of $1, 1% of the average day with a
    # cost $10/8, the calls' 0) = $0.10, threshold $1.35; $2 without the largest call.
    records = [call(d * DAY + NOON, text=f"d{d}", **DOLLAR) for d in range(7)]
    records += [call(d * DAY + NOON, model="mystery-model", text=f"m{d}") for d in range(7, 14)]
    records += [call(14 * DAY + NOON + i, text=f"spike{i}", **DOLLAR) for i in range(3)]
    a = report(jsonl, records)["anomalies"]
    [day] = a["days"]
    assert day["day"] == "2026-03-16"
    assert (day["cost_usd"], day["baseline_usd"]) == (pytest.approx(3), pytest.approx(1))
    assert day["threshold_usd"] == pytest.approx(1.35)
    assert [(x["scope"], x["key"]) for x in a["users_and_features"]] == [("user", "u1")]


def test_days_without_a_cost_are_no_days_of_history(jsonl):
    # 2026-03-02 .. 03-08: one $1 call a day; 03-09 .. 03-15: calls of mystery-model only (no
    # price: no day with a cost); 03-16: five $1 calls. The 7 unpriced days are no days the
    # baseline was computed from: history_days is 7 for the day checked and for the forecast,
    # not 14. With one priced day fewer (6 + 7 days of log), the day after has 6 days of
    # history: below min_history_days (7), it is not checked, though 13 days of log precede it.
    def log(priced_days: int) -> list[dict]:
        records = [call(d * DAY + NOON, text=f"d{d}", **DOLLAR) for d in range(priced_days)]
        records += [
            call(d * DAY + NOON, model="mystery-model", text=f"m{d}")
            for d in range(priced_days, priced_days + 7)
        ]
        spike = (priced_days + 7) * DAY + NOON
        return records + [call(spike + i, text=f"spike{i}", **DOLLAR) for i in range(5)]

    a = report(jsonl, log(7))["anomalies"]
    [day] = a["days"]
    assert (day["day"], day["history_days"], day["history_days_with_calls"]) == ("2026-03-16", 7, 7)
    f = a["forecast"]
    assert (f["history_days"], f["history_days_without_cost"]) == (7, 7)
    a = report(jsonl, log(6))["anomalies"]
    assert (a["min_history_days"], a["days_checked"], a["days"]) == (7, 0, [])
    assert a["days_with_calls_not_checked"] == {"short_history": 7, "few_days_with_calls": 0}
    assert (a["forecast"]["history_days"], a["forecast"]["history_days_without_cost"]) == (6, 7)


def test_the_note_says_when_days_without_a_cost_made_the_history_short(jsonl):
    # 6 days of one $1 call, 7 days of calls of mystery-model only (no price), then a day of
    # five $1 calls. The last day has 6 days with a cost before it (below min_history_days,
    # 7) though 13 days of log precede it: the note read 'fewer than 7 days of log before
    # each' of it too. The first 6 days are young (0 to 5 days of log); the unpriced days
    # have no call with a cost, no day with calls here (as 'active' counts them).
    records = [call(d * DAY + NOON, text=f"d{d}", **DOLLAR) for d in range(6)]
    records += [call(d * DAY + NOON, model="mystery-model", text=f"m{d}") for d in range(6, 13)]
    records += [call(13 * DAY + NOON + i, text=f"spike{i}", **DOLLAR) for i in range(5)]
    a = report(jsonl, records)["anomalies"]
    assert a["days_with_calls_not_checked"] == {"short_history": 7, "few_days_with_calls": 0}
    assert a["days_with_calls_short_of_days_with_a_cost"] == 1
    assert a["not_checked_note"] == (
        "7 days with calls not checked: 6 with fewer than 7 days of log before each, 1 with "
        "fewer than 7 days with a cost before each (days whose calls have no cost, unpriced or "
        "without token counts, are no history); no anomaly found there does not mean all was "
        "usual"
    )
    # 7 unpriced days, then a $1 day: 7 days of log before it, none with a cost
    records = [call(d * DAY + NOON, model="mystery-model", text=f"m{d}") for d in range(7)]
    records.append(call(7 * DAY + NOON, text="d7", **DOLLAR))
    a = report(jsonl, records)["anomalies"]
    assert a["days_with_calls_short_of_days_with_a_cost"] == 1
    assert a["not_checked_note"] == (
        "1 day with calls not checked: fewer than 7 days with a cost before it (days whose "
        "calls have no cost, unpriced or without token counts, are no history); no anomaly "
        "found there does not mean all was usual"
    )
    # a young log only: said as before
    a = report(jsonl, [call(d * DAY + NOON, text=f"d{d}", **DOLLAR) for d in range(3)])
    assert a["anomalies"]["days_with_calls_short_of_days_with_a_cost"] == 0
    assert a["anomalies"]["not_checked_note"] == (
        "3 days with calls not checked: fewer than 7 days of log before each; no anomaly found "
        "there does not mean all was usual"
    )


def test_an_anomaly_is_a_share_of_the_days_bill(jsonl, cli):
    """On a 180-day log of 100 users and 40 features (24,000 days of a series checked) with
    no anomaly, 9 to 16 days were flagged: a small user or feature $0.04-$0.32 above its
    baseline, on days of $0.63. A flag's excess must now be at least savings.anomaly_min_share
    (10%) of the day's total, and the report says how many checks the count is of.

    u1 makes ten $1 calls a day (feature main), u2 one $0.10 call (feature side), 16 days.
    On the 15th (2026-03-16) u2 makes six: its baseline is median $0.10, MAD 0, calls all of
    one size (no spread); sigma is the floor, 1% of the average day ($172.10 / 16 days):
    threshold 0.10 + 3.5 x 0.1075625 = $0.4765, and $0.60 ($0.50 without its largest call)
    is above it, but its $0.50 excess is 4.7% of the day's $10.60: no flag (was 2, u2 and
    side). On the 16th u1 makes twenty: the day's $20.10 against median $10.10 and sigma
    $1.01 (10% of the median) has its $10 excess 50% of the day: found, as u1 and main."""
    records = []
    for d in range(16):
        n1 = 20 if d == 15 else 10
        n2 = 6 if d == 14 else 1
        records += [
            call(d * DAY + NOON + i, feature="main", text=f"a{d}-{i}", **DOLLAR) for i in range(n1)
        ]
        records += [
            call(
                d * DAY + NOON + 100 + i,
                user="u2",
                feature="side",
                text=f"b{d}-{i}",
                inp=10_000,
                out=0,
            )
            for i in range(n2)
        ]
    log = str(jsonl(records))
    result = cli("analyze", log, *PRICING_ARGS, "--format", "json")
    a = json.loads(result.stdout)["anomalies"]
    flags = [(x["day"], x["scope"], x["key"]) for x in a["days"] + a["users_and_features"]]
    assert sorted(flags) == [
        ("2026-03-17", "day", "all calls"),
        ("2026-03-17", "feature", "main"),
        ("2026-03-17", "user", "u1"),
    ]
    assert a["users_and_features"][0]["excess_usd"] == pytest.approx(10)
    # 5 series (the total, 2 users, 2 features), each checked on its 8th to 16th day
    assert (a["count"], a["checks"]) == (3, 45)
    assert "by at least 10% of the day's total cost" in a["rule"]
    text = " ".join(cli("analyze", log, *PRICING_ARGS).stdout.split())
    assert "Anomalies: 3 of 45 checks (" in text
    # savings.anomaly_min_share: 0 gives the rule of before: u2's $0.50 is one again
    Path("llmcost.yaml").write_text("savings:\n  anomaly_min_share: 0\n")
    again = json.loads(cli("analyze", log, *PRICING_ARGS, "--format", "json").stdout)
    small = [x for x in again["anomalies"]["users_and_features"] if x["day"] == "2026-03-16"]
    assert {(x["scope"], x["key"]) for x in small} == {("user", "u2"), ("feature", "side")}
    assert small[0]["threshold_usd"] == pytest.approx(0.1 + 3.5 * 172.1 / 16 / 100)


def test_forecast_prices_the_remaining_days_at_the_prices_in_force_at_the_end(jsonl, cli, tmp_path):
    # March 2026: each day a big-model call of 100,000 input tokens and a small-model one of
    # as many; big-model's price doubles on the 8th ($10 -> $20/M: $1 -> $2 a call),
    # small-model's stays $1/M ($0.10). The month to date is what was billed: 7 x $1.10 +
    # 4 x $2.10 = $16.10. The 20.5 days to come are at the new price, $2.10 a day, whatever
    # the 10 complete days before the last cost then: $16.10 + 20.5 x $2.10 = $59.15
    # (before: the mean of the billed days, (7 x $1.10 + 3 x $2.10) / 10 = $1.40, projected
    # $44.80, below what the 20.5 days at $2.10 alone add to the month to date).
    doubled = tmp_path / "doubled.yaml"
    doubled.write_text(
        "provider: openai\nversion: 2026-03-08\nsource: https://example.test/doubled\n"
        "models:\n  big-model:\n    prices:\n"
        "      - {from: 2026-03-08, input: 20, output: 40}\n"
        "      - {from: 2025-01-01, input: 10, output: 20}\n"
    )
    records = [call((d - 2) * DAY + NOON, text=f"d{d}", **DOLLAR) for d in range(1, 12)]
    records += [
        call((d - 2) * DAY + NOON + 1, model="small-model", text=f"s{d}", **DOLLAR)
        for d in range(1, 12)
    ]
    log = str(jsonl(records))
    args = ("analyze", log, *PRICING_ARGS, "--pricing", str(doubled))
    f = json.loads(cli(*args, "--format", "json").stdout)["anomalies"]["forecast"]
    assert f["month_to_date_usd"] == pytest.approx(16.1)
    assert f["history_days"] == 10
    assert f["daily_mean_usd"] == pytest.approx(2.1)
    assert f["daily_sd_usd"] == pytest.approx(0)  # one price: every day alike
    assert f["projection_usd"] == pytest.approx(16.1 + 20.5 * 2.1)
    assert f["low_usd"] == f["high_usd"] == pytest.approx(59.15)
    assert f["prices_as_of"] == "2026-03-11"
    # the big-model calls of the 1st to the 7th (the small-model ones cost the same)
    assert f["history_requests_repriced"] == 7
    assert f["history_requests_without_end_price"] == 0
    text = " ".join(cli(*args).stdout.split())
    assert "month-end projection $59.15" in text
    assert "remaining days at the prices in force on 2026-03-11" in text
