"""`llmcost report`: period windows (month/year boundaries, DST, --tz), the comparison with
the period before, alerts and exit codes, and the README's crontab line run as written.

tests/data/ci/period.jsonl, costs worked by hand (gpt-4o $2.50/$10, gpt-4o-mini $0.15/$0.60
per M input/output tokens):

  p6 2026-10-31T23:30Z gpt-4o-mini alice search  1M in         0.15  (Paris: Nov 1 00:30)
  p4 2026-11-13T12:00Z gpt-4o-mini carol search  2M in         0.30
  p1 2026-11-14T22:30Z gpt-4o      alice chat    100k/10k      0.35  (Paris: Nov 14 23:30)
  p2 2026-11-14T23:30Z gpt-4o      bob   chat    200k/20k      0.70  (Paris: Nov 15 00:30)
  p3 2026-11-15T10:00Z gpt-4o-mini alice search  1M/100k       0.21
  p5 2026-11-15T23:30Z gpt-4o      carol summarize 40k/1k      0.11  (Paris: Nov 16 00:30)

"yesterday" at 2026-11-16T06:00Z: in UTC, Nov 15 = p3 + p5 = 0.32 against Nov 14 = p1 + p2
= 1.05; in Europe/Paris, Nov 15 = p2 + p3 = 0.91 against Nov 14 = p1 = 0.35 (+160%).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from llmcost import periods, store
from llmcost.budgets import Alerts, anomaly_items, day_over_day, evaluate_alerts
from llmcost.errors import UsageError
from tests.conftest import DATA, write_jsonl
from tests.test_check import readme_block, shell_env

PERIOD_LOG = DATA / "ci" / "period.jsonl"
NOW = "2026-11-16T06:00:00Z"


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.timezone.utc)


# ---------------------------------------------------------------- windows, pure


@pytest.mark.parametrize(
    "period, tz, now, current, previous",
    [
        # a month boundary, UTC
        ("yesterday", "UTC", utc(2026, 3, 1, 5),
         (utc(2026, 2, 28), utc(2026, 3, 1)), (utc(2026, 2, 27), utc(2026, 2, 28))),
        # spring forward in Paris: Sunday 29 March 2026 has 23 hours
        ("yesterday", "Europe/Paris", utc(2026, 3, 30, 4),
         (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)), (utc(2026, 3, 27, 23), utc(2026, 3, 28, 23))),
        # fall back: Sunday 25 October 2026 has 25 hours
        ("yesterday", "Europe/Paris", utc(2026, 10, 26, 6),
         (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)), (utc(2026, 10, 23, 22), utc(2026, 10, 24, 22))),
        # the local date decides "today": 02:00 UTC on Nov 1 is still Oct 31 in New York
        ("yesterday", "America/New_York", utc(2026, 11, 1, 2),
         (utc(2026, 10, 30, 4), utc(2026, 10, 31, 4)), (utc(2026, 10, 29, 4), utc(2026, 10, 30, 4))),
        # a year boundary
        ("last-7d", "UTC", utc(2027, 1, 3, 12),
         (utc(2026, 12, 27), utc(2027, 1, 3)), (utc(2026, 12, 20), utc(2026, 12, 27))),
        # 01:00 on March 2 in Tokyo (UTC+9): the 30 days are Jan 31 .. Mar 1, local
        ("last-30d", "Asia/Tokyo", utc(2026, 3, 1, 16),
         (utc(2026, 1, 30, 15), utc(2026, 3, 1, 15)), (utc(2025, 12, 31, 15), utc(2026, 1, 30, 15))),
        ("previous-month", "UTC", utc(2026, 1, 15, 12),
         (utc(2025, 12, 1), utc(2026, 1, 1)), (utc(2025, 11, 1), utc(2025, 12, 1))),
        ("previous-month", "America/New_York", utc(2026, 11, 1, 2),
         (utc(2026, 9, 1, 4), utc(2026, 10, 1, 4)), (utc(2026, 8, 1, 4), utc(2026, 9, 1, 4))),
        # month to date on March 31: the whole of February before (it has no 31st)
        ("month-to-date", "UTC", utc(2026, 3, 31, 10),
         (utc(2026, 3, 1), utc(2026, 3, 31, 10)), (utc(2026, 2, 1), utc(2026, 3, 1))),
        # mid-month in Paris: Mar 1 00:00 CET .. now, against Feb 1 .. Feb 15 12:00 CET
        ("month-to-date", "Europe/Paris", utc(2026, 3, 15, 11),
         (utc(2026, 2, 28, 23), utc(2026, 3, 15, 11)), (utc(2026, 1, 31, 23), utc(2026, 2, 15, 11))),
        ("month-to-date", "UTC", utc(2026, 1, 10),
         (utc(2026, 1, 1), utc(2026, 1, 10)), (utc(2025, 12, 1), utc(2025, 12, 10))),
    ],
)  # fmt: skip
def test_named_periods(period, tz, now, current, previous):
    p = periods.resolve(period, tz=tz, now=now)
    assert (p.current.since, p.current.until) == current
    assert (p.previous.since, p.previous.until) == previous
    assert p.current.tz == tz


def test_dst_days_are_23_and_25_hours_long():
    spring = periods.resolve("yesterday", tz="Europe/Paris", now=utc(2026, 3, 30, 4)).current
    autumn = periods.resolve("yesterday", tz="Europe/Paris", now=utc(2026, 10, 26, 6)).current
    assert spring.until - spring.since == dt.timedelta(hours=23)
    assert autumn.until - autumn.since == dt.timedelta(hours=25)
    assert spring.describe() == "2026-03-29 → 2026-03-30 (Europe/Paris)"


def test_since_and_until_are_read_in_the_zone():
    p = periods.resolve(
        since="2026-11-01", until="2026-11-08", tz="Asia/Tokyo", now=utc(2027, 1, 1)
    )
    assert (p.current.since, p.current.until) == (utc(2026, 10, 31, 15), utc(2026, 11, 7, 15))
    assert (p.previous.since, p.previous.until) == (utc(2026, 10, 24, 15), utc(2026, 10, 31, 15))
    explicit = periods.resolve(
        since="2026-11-01T12:00+00:00", tz="Asia/Tokyo", now=utc(2026, 11, 2)
    )
    assert (explicit.current.since, explicit.current.until) == (
        utc(2026, 11, 1, 12),
        utc(2026, 11, 2),
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"period": "yesterday", "tz": "Mars/Olympus"}, "not a known time zone"),
        ({"since": "2026-11-08", "until": "2026-11-01"}, "is not after"),
        ({"period": "yesterday", "since": "2026-11-01"}, "not both"),
        ({}, "no period given"),
        ({"since": "last tuesday"}, "is not a date"),
        ({"period": "fortnight"}, "unknown period"),
    ],
)
def test_bad_windows(kwargs, message):
    with pytest.raises(UsageError, match=message):
        periods.resolve(kwargs.pop("period", None), now=utc(2026, 11, 16), **kwargs)


def test_day_over_day_skips_days_after_a_zero_day():
    daily = [
        {"day": "2026-11-12", "cost_usd": 0.0},
        {"day": "2026-11-13", "cost_usd": 0.30},
        {"day": "2026-11-14", "cost_usd": 1.05},
        {"day": "2026-11-15", "cost_usd": 0.32},
    ]
    jump = day_over_day(daily, "2026-11-13")
    assert jump["day"] == "2026-11-14" and jump["change_pct"] == pytest.approx(250.0)
    assert day_over_day(daily, "2026-11-15")["change_pct"] == pytest.approx(
        (0.32 - 1.05) / 1.05 * 100
    )
    assert day_over_day(daily[:2], "2026-11-13") is None


def test_a_cost_alert_never_reads_as_the_same_amount():
    [alert] = evaluate_alerts(Alerts(max_cost=1.669), {"summary": {"total_cost_usd": 1.67}})
    assert alert["message"] == "period cost $1.670 is above $1.669"  # not $1.67 above $1.67


def test_anomaly_alerts_read_whatever_list_the_analysis_gives():
    report = {
        "summary": {"total_cost_usd": 1.0},
        "anomalies": {"days": [{"day": "2026-11-14", "cost_usd": 9.5}], "users": [], "note": "x"},
    }
    assert anomaly_items(report) == [{"day": "2026-11-14", "cost_usd": 9.5}]
    [alert] = evaluate_alerts(Alerts(anomalies=True), report)
    assert alert["alert"] == "anomalies" and alert["message"] == "1 anomaly: 2026-11-14: $9.50"
    # the shape of llmcost.analyses.anomalies: days, then users and features
    report["anomalies"] = {
        "days": [],
        "users_and_features": [{"scope": "user", "key": "u7", "day": "2026-11-14",
                                "cost_usd": 4.0, "baseline_usd": 0.5}],
        "count": 1,
    }  # fmt: skip
    [alert] = evaluate_alerts(Alerts(anomalies=True), report)
    assert alert["message"] == "1 anomaly: user u7 on 2026-11-14: $4.00 (usually $0.50)"
    assert evaluate_alerts(Alerts(anomalies=False), report) == []
    assert evaluate_alerts(Alerts(anomalies=True), {"summary": {"total_cost_usd": 1.0}}) == []


# ---------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return ingested(PERIOD_LOG, tmp_path_factory.mktemp("db") / "llm.duckdb")


def ingested(log: Path, path: Path | None = None) -> Path:
    """A database at ``path`` (else llm.duckdb beside ``log``) holding ``log``, ingested as
    cron would."""
    from llmcost.ingest import ingest_paths

    path = path or log.parent / "llm.duckdb"
    con = store.connect(path)
    try:
        ingest_paths(con, [str(log)])
    finally:
        con.close()
    return path


def report_json(cli, db, *args):
    result = cli("report", "--db", db, "--now", NOW, "-f", "json", *args)
    return result, (json.loads(result.stdout) if result.stdout else None)


def test_yesterday_in_utc(cli, db):
    result, r = report_json(cli, db, "--period", "yesterday")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # quiet when nothing is wrong: cron mails nothing
    assert r["summary"]["total_cost_usd"] == 0.32 and r["summary"]["requests"] == 2
    p = r["report_period"]
    assert (p["since"], p["until"]) == ("2026-11-15T00:00:00+00:00", "2026-11-16T00:00:00+00:00")
    assert p["previous"]["total_cost_usd"] == 1.05
    # (unpriced_requests: the day's calls without a price, as in analyze's by_day, and
    # unknown_token_requests: a priced model's calls without token counts, and
    # error_unknown_token_requests: its failed calls without usage, not billed)
    assert p["daily"] == [
        {"day": "2026-11-15", "requests": 2, "cost_usd": 0.32, "unpriced_requests": 0,
         "unknown_token_requests": 0, "error_unknown_token_requests": 0}
    ]  # fmt: skip
    assert r["comparison"]["total"]["change_usd"] == -0.73
    assert r["comparison"]["total"]["change_pct"] == pytest.approx(-73 / 1.05)
    assert r["alerts"] == []


def test_yesterday_in_paris(cli, db):
    result, r = report_json(cli, db, "--period", "yesterday", "--tz", "Europe/Paris")
    assert result.exit_code == 0
    assert r["summary"]["total_cost_usd"] == 0.91
    p = r["report_period"]
    assert p["local_since"] == "2026-11-15T00:00:00+01:00"
    assert p["since"] == "2026-11-14T23:00:00+00:00"
    assert p["daily"] == [
        {"day": "2026-11-15", "requests": 2, "cost_usd": 0.91, "unpriced_requests": 0,
         "unknown_token_requests": 0, "error_unknown_token_requests": 0}
    ]  # fmt: skip
    assert p["day_over_day"]["previous_cost_usd"] == 0.35
    assert p["day_over_day"]["change_pct"] == pytest.approx(160.0)
    # the hour x weekday grid is local: p2 at 00:30 and p3 at 11:00 on Sunday (6)
    assert [(c["weekday"], c["hour"], c["cost_usd"]) for c in p["grid"]] == [
        (6, 0, 0.70),
        (6, 11, 0.21),
    ]
    c = r["comparison"]
    assert c["total"]["base_usd"] == 0.35 and c["total"]["change_pct"] == pytest.approx(160.0)
    assert [(m["model"], m["change_usd"], m["state"]) for m in c["by_model"]["rows"]] == [
        ("gpt-4o", 0.35, ""),
        ("gpt-4o-mini", 0.21, "new"),
    ]
    assert [(u["user_id"], u["change_usd"]) for u in c["by_user"]["rows"]] == [
        ("bob", 0.70),
        ("alice", -0.14),
    ]


def test_month_boundary_depends_on_the_zone(cli, db):
    now = "2026-12-02T12:00:00Z"
    result = cli("report", "--db", db, "--now", now, "-f", "json", "--period", "previous-month")
    utc_month = json.loads(result.stdout)
    assert utc_month["summary"]["total_cost_usd"] == 1.67  # p6 is in October, UTC
    assert utc_month["comparison"]["total"]["base_usd"] == 0.15
    # October in UTC holds p6, the store's first call: logged only from then on
    previous = utc_month["report_period"]["previous"]
    assert previous["partly_logged_since"] == "2026-10-31T23:30:00+00:00"
    result = cli(
        "report", "--db", db, "--now", now, "-f", "json", "--period", "previous-month",
        "--tz", "Europe/Paris",
    )  # fmt: skip
    paris = json.loads(result.stdout)
    assert paris["summary"]["total_cost_usd"] == 1.82  # p6 is Nov 1 00:30 in Paris
    assert paris["report_period"]["label"] == "November 2026"
    assert paris["comparison"] is None  # no call in October, Paris time
    assert paris["report_period"]["previous"]["partly_logged_since"] is None  # not at all
    md = cli(
        "report", "--db", db, "--now", now, "-f", "markdown", "--period", "previous-month",
        "--tz", "Europe/Paris",
    ).stdout  # fmt: skip
    # October in Paris ends at 2026-10-31 23:00 UTC, before the store's first call (p6, at
    # 23:30 UTC): it was not logged, where this said "no calls to compare with" (untrue of
    # a month no log covers; see test_a_period_before_logging_began_is_not_logged_…)
    assert "- Before (October 2026): not logged (before 2026-11-01, when logging began)" in md
    assert paris["report_period"]["previous"]["not_logged"] is True


def test_last_7d_days_and_largest_rise(cli, db):
    result, r = report_json(cli, db, "--period", "last-7d")
    assert r["summary"]["total_cost_usd"] == 1.67
    assert [(d["day"], d["cost_usd"]) for d in r["report_period"]["daily"]] == [
        ("2026-11-13", 0.30),
        ("2026-11-14", 1.05),
        ("2026-11-15", 0.32),
    ]
    assert r["report_period"]["day_over_day"]["day"] == "2026-11-14"
    assert r["report_period"]["day_over_day"]["change_pct"] == pytest.approx(250.0)


def test_alerts_exit_1_and_say_why_on_stderr(cli, db):
    args = ("--db", db, "--now", NOW, "--period", "yesterday", "-o", "r.md")
    paris = cli("report", *args, "--tz", "Europe/Paris", "--alert-cost", "0.5")
    assert paris.exit_code == 1
    assert paris.stderr.strip() == "ALERT: period cost $0.91 is above $0.50"
    assert cli("report", *args, "--alert-cost", "0.5").exit_code == 0  # UTC: $0.32

    jump = cli("report", *args, "--tz", "Europe/Paris", "--alert-jump", "150")
    assert jump.exit_code == 1
    assert jump.stderr.strip() == (
        "ALERT: 2026-11-15 cost $0.91, up 160.0% on 2026-11-14 ($0.35); the limit is 150%"
    )
    assert cli("report", *args, "--tz", "Europe/Paris", "--alert-jump", "170").exit_code == 0


def test_alerts_from_the_config_and_in_the_report(cli, db, tmp_path):
    (tmp_path / "llmcost.yaml").write_text("alerts:\n  max_cost: 0.25\n")
    result, r = report_json(cli, db, "--period", "yesterday")
    assert result.exit_code == 1
    assert r["alerts"][0]["alert"] == "max_cost" and r["alerts"][0]["actual"] == 0.32
    md = cli("report", "--db", db, "--now", NOW, "--period", "yesterday", "-f", "markdown").stdout
    assert md.startswith("## 🚨 LLM cost report — yesterday (2026-11-15)")
    assert "- 🚨 Alert: period cost $0.32 is above $0.25" in md
    # a flag overrides the file
    assert (
        cli(
            "report", "--db", db, "--now", NOW, "--period", "yesterday", "--alert-cost", "1"
        ).exit_code
        == 0
    )


def test_markdown_and_table_show_the_comparison(cli, db, tmp_path):
    out = tmp_path / "yesterday.md"  # format taken from the suffix
    result = cli(
        "report",
        "--db",
        db,
        "--now",
        NOW,
        "--period",
        "yesterday",
        "--tz",
        "Europe/Paris",
        "-o",
        out,
    )
    assert result.exit_code == 0 and result.stdout == ""
    md = out.read_text()
    assert md.startswith("## LLM cost report — yesterday (2026-11-15)\n")
    assert "- Period: 2026-11-15 → 2026-11-16 (Europe/Paris)" in md
    assert "- Cost: $0.91 over 2 calls" in md
    assert (
        "- Before (the day before, 2026-11-14 → 2026-11-15 (Europe/Paris)): $0.35 over 1 call" in md
    )
    assert "### By user vs the day before" in md
    assert "| bob | $0.00 | $0.70 | +$0.70 | new | 0 → 1 |" in md
    assert "### Cost by model" in md  # the analyze sections follow
    assert "- Largest day-over-day rise: 2026-11-15 $0.91, +160.0% on 2026-11-14 ($0.35)" in md
    table = cli("report", "--db", db, "--now", NOW, "--period", "yesterday")
    assert "LLM cost report — yesterday (2026-11-15)" in table.stdout
    assert "Cost: $0.32 over 2 calls" in table.stdout
    # in UTC yesterday cost less than the day before: a fall is not called a rise
    assert "Largest day-over-day rise" not in table.stdout
    assert "No day-over-day rise (the closest: 2026-11-15 $0.32, −69.5% on" in table.stdout


def test_rejected_lines_of_a_period_are_those_among_its_calls(cli, tmp_path):
    """A rejected line has no time: cron's 'yesterday' counts the lines rejected among
    yesterday's calls (dated by the call logged before each in its file, else after it, else
    by its ingest's start), not every line rejected since the database was made."""
    from llmcost import store
    from llmcost.ingest import ingest_paths

    def call(n: int, ts: str) -> str:
        return json.dumps({"request_id": f"r{n}", "timestamp": ts, "model": "gpt-4o",
                           "input_tokens": 10, "output_tokens": 1})  # fmt: skip

    log = tmp_path / "app.jsonl"
    lines = [
        "not json (line 1, before Nov 14's call: dated by it)",
        call(1, "2026-11-14T12:00:00Z"),
        "not json (line 3, after Nov 14's call)",
        call(2, "2026-11-15T10:00:00Z"),
        "not json (line 5)",  # after Nov 15's call, with line 6: yesterday's
        "{}",
    ]
    log.write_text("".join(line + "\n" for line in lines))
    only_bad = tmp_path / "bad.jsonl"
    # a file without a call (its line is no call: dated by its ingest); a file of no JSON
    # object at all is no log, and not read
    only_bad.write_text('{"note": "not a call (a file without a call: dated by its ingest)"}\n')
    path = tmp_path / "llm.duckdb"
    con = store.connect(path)
    try:
        ingest_paths(con, [str(log), str(only_bad)])
        with log.open("a") as fh:  # the next ingest: its lines dated by its own calls
            fh.write("not json (line 7)\n" + call(3, "2026-11-16T01:00:00Z") + "\n")
        ingest_paths(con, [str(log)])
        con.execute("UPDATE ingests SET started_at = TIMESTAMPTZ '2026-11-15 06:15:00Z'")
        assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == 6
    finally:
        con.close()

    result, r = report_json(cli, path, "--period", "yesterday")
    assert result.exit_code == 0, result.stderr
    assert [(x["source"][-9:], x["line"]) for x in r["rejected"]["samples"]] == [
        ("app.jsonl", 5),
        ("app.jsonl", 6),
        ("bad.jsonl", 1),
    ]
    assert r["rejected"]["count"] == 3
    assert r["rejected"]["period"] == {
        "since": "2026-11-15T00:00:00+00:00",
        "until": "2026-11-16T00:00:00+00:00",
    }
    md = cli("report", "--db", path, "--now", NOW, "--period", "yesterday", "-f", "markdown")
    assert (
        "- 3 lines were rejected in this period (dated by the call logged before or after "
        "each): kept with their reason, not counted in any total." in md.stdout
    )
    for now, lines in (("2026-11-15T06:00Z", [1, 3]), ("2026-11-17T06:00Z", [7])):
        other = cli("report", "--db", path, "--now", now, "--period", "yesterday", "-f", "json")
        assert [x["line"] for x in json.loads(other.stdout)["rejected"]["samples"]] == lines


def test_a_period_day_with_unpriced_calls_never_reads_as_their_cost_alone(cli, tmp_path):
    """The period's Cost by day read "$0.01" for a day of one priced call and one call of a
    model without a price, where the report's own Cost by day (and analyze's) read
    "$0.01 + 1 unpriced": the same day, two figures."""

    log = tmp_path / "app.jsonl"
    write_jsonl(
        log,
        [
            {"request_id": "a", "timestamp": "2026-11-15T10:00:00Z", "model": "gpt-4o",
             "input_tokens": 4000, "output_tokens": 0},
            {"request_id": "b", "timestamp": "2026-11-15T11:00:00Z", "model": "acme-llm-7b",
             "input_tokens": 10, "output_tokens": 5},
        ],
    )  # fmt: skip
    path = ingested(log)
    result, r = report_json(cli, path, "--period", "yesterday")
    assert r["report_period"]["daily"] == [
        {"day": "2026-11-15", "requests": 2, "cost_usd": 0.01, "unpriced_requests": 1,
         "unknown_token_requests": 0, "error_unknown_token_requests": 0}
    ]  # fmt: skip
    for fmt in ("markdown", "table"):
        out = cli("report", "--db", path, "--now", NOW, "--period", "yesterday", "-f", fmt)
        # the headline too: not "$0.01 over 2 calls" as if both were in it
        assert "Cost: $0.01 over 2 calls (1 without a price, not counted as $0)" in out.stdout
        period_days = out.stdout.split("Cost by day (UTC)")[1].split("LLM cost report")[0]
        assert "2026-11-15" in period_days, period_days
        assert "$0.01 + 1 unpriced" in period_days, period_days


def test_the_period_before_says_its_calls_without_a_price(cli, tmp_path):
    """The Before line read "$0.01 over 2 calls — change +$0.0095" for a day before of one
    priced call and one of a model without a price, as if both were in its $0.01: the JSON's
    comparison.notes said 'before: 1 call without a price', the terminal, Markdown and HTML
    did not. The line says it as the Cost line does (report_period.previous adds the count)."""

    log = tmp_path / "app.jsonl"
    write_jsonl(
        log,
        [
            # (logging began before the day before: it is wholly logged)
            {"request_id": "z", "timestamp": "2026-11-10T10:00:00Z", "model": "gpt-4o",
             "input_tokens": 10, "output_tokens": 0},
            {"request_id": "a", "timestamp": "2026-11-14T10:00:00Z", "model": "gpt-4o",
             "input_tokens": 4000, "output_tokens": 0},
            {"request_id": "b", "timestamp": "2026-11-14T11:00:00Z", "model": "acme-llm-7b",
             "input_tokens": 10, "output_tokens": 5},
            {"request_id": "c", "timestamp": "2026-11-15T10:00:00Z", "model": "gpt-4o",
             "input_tokens": 8000, "output_tokens": 0},
        ],
    )  # fmt: skip
    path = ingested(log)
    _, r = report_json(cli, path, "--period", "yesterday")
    previous = r["report_period"]["previous"]
    assert (previous["requests"], previous["unpriced_requests"]) == (2, 1)
    assert previous["total_cost_usd"] == 0.01
    for fmt in ("markdown", "table", "html"):
        out = cli("report", "--db", path, "--now", NOW, "--period", "yesterday", "-f", fmt)
        text = re.sub(r"<[^>]+>|\s+", " ", out.stdout)
        assert "$0.01 over 2 calls (1 without a price, not counted as $0) — change" in text, fmt


def test_the_cost_lines_say_calls_without_tokens_apart_from_unpriced_ones(cli, tmp_path):
    """The Cost and Before lines lumped a priced model's calls without token counts in with
    the calls without a price: '$0.01 over 3 calls (2 without a price, not counted as $0)'
    of a gpt-4o call at 4,000 x $2.50/M = $0.01, a call of acme-llm-7b (no price) and a
    gpt-4o call whose log has no usage and no text (gpt-4o has a price). A failed gpt-4o
    call without usage is in neither count (not billed), on either side."""

    def day(date: str, tag: str) -> list[dict]:
        return [
            {"request_id": f"{tag}a", "timestamp": f"{date}T10:00:00Z", "model": "gpt-4o",
             "input_tokens": 4000, "output_tokens": 0},
            {"request_id": f"{tag}b", "timestamp": f"{date}T11:00:00Z", "model": "acme-llm-7b",
             "input_tokens": 10, "output_tokens": 5},
            {"request_id": f"{tag}c", "timestamp": f"{date}T12:00:00Z", "model": "gpt-4o"},
            {"request_id": f"{tag}d", "timestamp": f"{date}T13:00:00Z", "model": "gpt-4o",
             "status": "error"},
        ]  # fmt: skip

    log = tmp_path / "app.jsonl"
    # (logging began before the day before: it is wholly logged)
    first = {"request_id": "z", "timestamp": "2026-11-10T10:00:00Z", "model": "gpt-4o",
             "input_tokens": 10, "output_tokens": 0}  # fmt: skip
    write_jsonl(log, [first, *day("2026-11-14", "p"), *day("2026-11-15", "c")])
    path = ingested(log)
    _, r = report_json(cli, path, "--period", "yesterday")
    previous = r["report_period"]["previous"]
    assert (previous["unpriced_requests"], previous["unknown_token_requests"]) == (1, 2)
    assert previous["error_unknown_token_requests"] == 1
    said = "(1 without a price and 1 without token counts, not counted as $0)"
    for fmt in ("markdown", "table", "html"):
        out = cli("report", "--db", path, "--now", NOW, "--period", "yesterday", "-f", fmt)
        text = re.sub(r"<[^>]+>|\s+", " ", out.stdout)
        assert f"Cost: $0.01 over 4 calls {said}" in text, fmt
        assert f"$0.01 over 4 calls {said} — change" in text, fmt


def test_a_period_day_leaves_out_failed_calls_without_usage_as_the_total_does(cli, tmp_path):
    """The period's Cost by day counted a rate-limited call without usage (not billed: the
    Cost line leaves it out) among its day's 'without tokens': a day of a gpt-4o call
    (4,000 x $2.50/M = $0.01), a 429 of gpt-4o and a 429 of gpt-4o-mini read '$0.01 + 2
    without tokens' under 'Cost: $0.01 over 3 calls'. It reads '$0.01', as analyze's Cost by
    day does; a day of such calls only keeps them ('no tokens'), and so does the day's row
    of one model of them only beside another model's cost: the day counts as one group."""
    log = tmp_path / "app.jsonl"
    write_jsonl(
        log,
        [
            {"request_id": "a", "timestamp": "2026-11-14T10:00:00Z", "model": "gpt-4o",
             "status": 429},
            {"request_id": "b", "timestamp": "2026-11-15T10:00:00Z", "model": "gpt-4o",
             "input_tokens": 4000, "output_tokens": 0},
            {"request_id": "c", "timestamp": "2026-11-15T11:00:00Z", "model": "gpt-4o",
             "status": 429},
            {"request_id": "d", "timestamp": "2026-11-15T12:00:00Z", "model": "gpt-4o-mini",
             "status": 429},
        ],
    )  # fmt: skip
    path = ingested(log)
    result, r = report_json(cli, path, "--period", "last-7d")
    assert result.exit_code == 0, result.stderr
    daily = r["report_period"]["daily"]
    assert [(d["day"], d["cost_usd"], d["unknown_token_requests"]) for d in daily] == [
        ("2026-11-14", None, 1),
        ("2026-11-15", 0.01, 0),
    ]
    assert [d["error_unknown_token_requests"] for d in daily] == [1, 2]
    for fmt in ("markdown", "table", "html"):
        out = cli("report", "--db", path, "--now", NOW, "--period", "last-7d", "-f", fmt)
        text = re.sub(r"<[^>]+>|\s+", " ", out.stdout)
        days = text.split("Cost by day (UTC)")[1]
        # the day's row and nothing after its cost ('+ 2 without tokens' before)
        assert re.search(r"2026-11-15 \W*3 \W*\$0\.01 \W*(Summary|LLM cost report)", days), (
            fmt,
            days[:300],
        )
        assert re.search(r"2026-11-14 \W*1 \W*no tokens \W*2026-11-15", days), (fmt, days[:300])


def test_a_period_day_of_no_call_with_a_cost_is_null_never_zero(cli, tmp_path):
    """The period's Cost by day read '$0.00 + 2 unpriced' for a day of one call of
    acme-llm-7b (no price) and one gpt-4o call with no usage and no text (gpt-4o has a
    price: its tokens are unknown), cost_usd 0.0 in the JSON, and the largest change read
    that day's '$0.00, −100.0%' on the day before. Such a day is null now, read as by_day
    reads it ('unpriced + 1 without tokens', 'no tokens'), and no day-over-day change is
    known to or from it. 2026-11-13: gpt-4o 4,000 x $2.50/M = $0.01 and a call without
    tokens ('$0.01 + 1 without tokens')."""

    log = tmp_path / "app.jsonl"
    write_jsonl(
        log,
        [
            {"request_id": "a", "timestamp": "2026-11-13T10:00:00Z", "model": "gpt-4o",
             "input_tokens": 4000, "output_tokens": 0},
            {"request_id": "b", "timestamp": "2026-11-13T11:00:00Z", "model": "gpt-4o"},
            {"request_id": "c", "timestamp": "2026-11-14T10:00:00Z", "model": "acme-llm-7b",
             "input_tokens": 10, "output_tokens": 5},
            {"request_id": "d", "timestamp": "2026-11-14T11:00:00Z", "model": "gpt-4o"},
            {"request_id": "e", "timestamp": "2026-11-15T10:00:00Z", "model": "gpt-4o"},
        ],
    )  # fmt: skip
    path = ingested(log)
    result, r = report_json(cli, path, "--period", "last-7d")
    assert result.exit_code == 0, result.stderr
    p = r["report_period"]
    assert [
        (d["day"], d["cost_usd"], d["unpriced_requests"], d["unknown_token_requests"])
        for d in p["daily"]
    ] == [("2026-11-13", 0.01, 0, 1), ("2026-11-14", None, 1, 1), ("2026-11-15", None, 0, 1)]
    assert p["day_over_day"] is None  # no day of a cost after a day of a cost
    assert [d["cost_usd"] for d in p["daily_by_model"] if d["day"] == "2026-11-14"] == [
        None,
        None,
    ]
    out = cli("report", "--db", path, "--now", NOW, "--period", "last-7d", "-f", "markdown")
    assert "| 2026-11-13 | 2 | $0.01 + 1 without tokens |" in out.stdout
    assert "| 2026-11-14 | 2 | unpriced + 1 without tokens |" in out.stdout
    assert "| 2026-11-15 | 1 | no tokens |" in out.stdout
    assert "day-over-day" not in out.stdout  # not '2026-11-14 $0.00, −100.0% on 2026-11-13'


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--period", "yesterday", "--tz", "Nowhere/Land"], 2, "not a known time zone"),
        (["--period", "yesterday", "--since", "2026-11-01"], 2, "not both"),
        ([], 2, "no period given"),
    ],
)
def test_exit_codes(cli, db, args, code, message):
    result = cli("report", "--db", db, *args)
    assert result.exit_code == code
    assert message in result.stderr


@pytest.mark.parametrize("suffix", ["html", "md", "json"])
def test_a_period_without_calls_is_a_report_of_none(cli, db, tmp_path, suffix):
    """cron's quiet day: a file showing 0 calls and $0, exit 0, nothing on stderr."""
    out = tmp_path / f"empty.{suffix}"
    for now, before in (("2026-11-17T06:00Z", "$0.32"), ("2027-01-10", "no calls")):
        result = cli("report", "--db", db, "--now", now, "--period", "yesterday", "-o", out)
        assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
        text = out.read_text()
        if suffix == "json":
            r = json.loads(text)
            assert (r["summary"]["requests"], r["summary"]["total_cost_usd"]) == (0, 0.0)
            assert r["by_model"] == [] and r["report_period"]["daily"] == []
            assert r["alerts"] == []
        else:
            assert "Cost: $0.00 over 0 calls" in text and "No calls in this period." in text
            assert "Cost by model" not in text  # no empty tables
            assert before in text


def test_a_period_report_of_a_database_without_any_call_finds_no_records(cli, tmp_path):
    from llmcost import store

    path = tmp_path / "empty.duckdb"
    store.connect(path).close()
    result = cli("report", "--db", path, "--period", "yesterday")
    assert result.exit_code == 3
    assert "no usable LLM call records were found" in result.stderr
    # no log was read: not "check the input format" but what fills the database; so for
    # the CI gate run on a database (check --db)
    for args in (["report", "--period", "yesterday"], ["check", "--max-cost", "1"]):
        result = cli(*args, "--db", path)
        assert result.exit_code == 3
        assert result.stderr == (
            "error: no usable LLM call records were found in the database\n"
            "hint: fill it with `llmcost ingest LOGS --db FILE` first\n"
        )


def test_a_missing_database_is_a_usage_error(cli, tmp_path):
    result = cli("report", "--db", tmp_path / "nope.duckdb", "--period", "yesterday")
    assert result.exit_code == 2
    assert "no such database" in result.stderr and "llmcost ingest" in result.stderr


# ---------------------------------------------------------------- the README crontab, as written


def test_readme_crontab_runs_as_written(tmp_path):
    block = readme_block("Scheduled reports", "crontab")
    assignments = dict(
        line.split("=", 1) for line in block.splitlines() if re.match(r"[A-Z_]+=", line)
    )
    [job] = [
        line
        for line in block.splitlines()
        if line.strip() and not line.startswith("#") and not re.match(r"[A-Z_]+=", line)
    ]
    minute, hour, dom, month, dow, command = job.split(None, 5)
    assert (minute, hour, dom, month, dow) == ("15", "6", "*", "*", "*")
    assert "MAILTO" in assignments
    # cron turns an unescaped % into a newline; the line must escape every one of them
    assert re.search(r"(?<!\\)%", command) is None
    command = command.replace("\\%", "%")
    # The example's absolute paths, moved into a temporary directory.
    moved = {
        "/var/log/llm": tmp_path / "logs",
        "/var/lib/llmcost": tmp_path / "lib",
        "/srv/reports": tmp_path / "reports",
    }
    for old, new in moved.items():
        assert old in block
        new.mkdir()
        command = command.replace(old, str(new))
        assignments = {k: v.replace(old, str(new)) for k, v in assignments.items()}
    env = shell_env({k: v for k, v in assignments.items() if k != "MAILTO"})
    env["LLMCOST_DB"] = assignments["LLMCOST_DB"]

    # Calls at noon yesterday and the day before, Paris time (the line reports in Paris).
    paris = ZoneInfo("Europe/Paris")
    today = dt.datetime.now(paris).date()

    def at_noon(days_ago: int) -> str:
        day = today - dt.timedelta(days=days_ago)
        return dt.datetime.combine(day, dt.time(12), tzinfo=paris).isoformat()

    log = tmp_path / "logs" / "app.jsonl"
    calls = [
        {"timestamp": at_noon(2), "provider": "openai", "model": "gpt-4o", "input_tokens": 100_000, "output_tokens": 10_000},
        {"timestamp": at_noon(1), "provider": "openai", "model": "gpt-4o", "input_tokens": 100_000, "output_tokens": 10_000},
    ]  # fmt: skip
    write_jsonl(log, calls)

    def run():
        return subprocess.run(
            ["sh", "-c", command], env=env, capture_output=True, text=True, cwd=tmp_path
        )

    quiet = run()
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "" and quiet.stderr == ""  # nothing for cron to mail
    [html] = (tmp_path / "reports").glob("llm-cost-*.html")
    assert re.fullmatch(r"llm-cost-\d{4}-\d{2}-\d{2}\.html", html.name)
    assert "<svg" in html.read_text() and "$0.35 over 1 call" in html.read_text()

    # A runaway call yesterday: 20M input tokens of gpt-4o = $50, the day costs $50.35.
    calls.append({"timestamp": at_noon(1), "provider": "openai", "model": "gpt-4o",
                  "input_tokens": 20_000_000, "output_tokens": 0})  # fmt: skip
    write_jsonl(log, calls)
    loud = run()
    assert loud.returncode == 1
    alerts = (loud.stdout + loud.stderr).splitlines()
    assert "ALERT: period cost $50.35 is above $50.00" in alerts
    assert any(a.startswith("ALERT: ") and "up 14285.7%" in a for a in alerts)
    assert (tmp_path / "lib" / "ingest.log").exists()


def test_html_file_from_the_report_command(cli, db, tmp_path):
    out = tmp_path / "r.html"
    result = cli("report", "--db", db, "--now", NOW, "--period", "last-7d", "-o", out)
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert "LLM cost report — last 7 days" in text
    assert text.count("<svg") >= 4  # daily by model, heat map, features, users


def test_a_period_report_tells_each_step_to_its_spinner(db):
    from llmcost import periods, store
    from llmcost.analyses import analyses
    from llmcost.pricing import load_pricing

    windows = periods.resolve("yesterday", now=periods.parse_now(NOW))
    told: list[str] = []
    con = store.connect(db)
    try:
        periods.run(con, load_pricing(), windows, stage=told.append)
    finally:
        con.close()
    n = len(analyses())
    assert told[0] == "pricing" and told[1] == f"analyzing (1/{n}): {analyses()[0].name}"
    assert told[-1] == "comparing with the period before" and len(told) == n + 2


def test_a_period_report_checks_its_days_against_the_stored_days_before_it(cli, tmp_path):
    """cron's `report --period yesterday --alert-anomalies` could never fire: the anomalies
    were looked for among the period's own days only, and one day has no week of history
    ('not enough history', exit 0) though the database held two weeks of it. The month to
    date was the period's cost alone too: 'Month to date (2026-11, 14.5 of 30 days): $5.00'
    for a day of $5 after fourteen of $1. The days before the period are the history now,
    and only the period's days are checked.

    gpt-4o at $2.50/M input: $1 a day (400k input tokens) on 2026-11-01 .. 14, $5 on the 15th.
    """

    def call(n: int, day: int, tokens: int) -> dict:
        return {"request_id": f"r{n}", "timestamp": f"2026-11-{day:02d}T12:00:00Z",
                "model": "gpt-4o", "input_tokens": tokens, "output_tokens": 0,
                "metadata": {"feature": "chat"}}  # fmt: skip

    log = write_jsonl(
        tmp_path / "app.jsonl",
        [call(day, day, 400_000) for day in range(1, 15)] + [call(15, 15, 2_000_000)],
    )
    path = ingested(log)
    result, r = report_json(cli, path, "--period", "yesterday", "--alert-anomalies")
    assert r["summary"]["total_cost_usd"] == 5.0
    a = r["anomalies"]
    assert a["days_checked"] == 1  # the period's one day; the days before it are history
    [day] = a["days"]
    assert (day["day"], day["cost_usd"], day["baseline_usd"]) == ("2026-11-15", 5.0, 1.0)
    assert [(x["scope"], x["key"]) for x in a["users_and_features"]] == [("feature", "chat")]
    assert result.exit_code == 1
    assert result.stderr.startswith("ALERT: 2 anomalies: 2026-11-15: $5.00 (usually $1.00)")
    f = a["forecast"]
    # (the period runs to midnight: 15 days of November are over, 15 to go at $1 a day)
    assert (f["month"], f["days_elapsed"], f["history_days"]) == ("2026-11", 15, 14)
    assert f["month_to_date_usd"] == pytest.approx(19.0)  # from the 1st, not the period's $5
    assert f["projection_usd"] == pytest.approx(19.0 + 15 * 1.0)
    # a report of every day finds the same day, and the same month to date
    everything = cli("report", "--db", path, "--since", "2026-11-01", "--until", "2026-11-16",
                     "-f", "json")  # fmt: skip
    full = json.loads(everything.stdout)["anomalies"]
    assert [d["day"] for d in full["days"]] == ["2026-11-15"]
    assert full["forecast"]["month_to_date_usd"] == pytest.approx(19.0)
    # A month that is over projects nothing more: November's report on December 2nd read
    # 'Month to date (2026-11, 14.5 of 30 days): $19.00; month-end projection $34.50' when
    # the log (or its ingest) stopped on the 15th; November ended at $19.
    result, r = report_json(cli, path, "--period", "previous-month", "--now", "2026-12-02T06:00Z")
    f = r["anomalies"]["forecast"]
    assert (f["month"], f["days_elapsed"], f["days_in_month"]) == ("2026-11", 30, 30)
    assert f["month_to_date_usd"] == f["projection_usd"] == pytest.approx(19.0)


def test_a_period_reports_forecast_tells_calls_without_tokens_from_unpriced(cli, tmp_path):
    """A period's forecast reads the month from the 1st (the stored calls before the period
    too): a call of an unpriced model on the 3rd and a gpt-4o call without token counts on
    the 5th were '2 unpriced' in its month to date; they are 1 unpriced, 1 without tokens.

    gpt-4o at $2.50/M input: $1 a day (400k input tokens) on 2026-11-01 .. 15."""
    calls = [{"request_id": f"r{day}", "timestamp": f"2026-11-{day:02d}T12:00:00Z",
              "model": "gpt-4o", "input_tokens": 400_000, "output_tokens": 0}
             for day in range(1, 16)]  # fmt: skip
    calls.append({"request_id": "acme", "timestamp": "2026-11-03T13:00:00Z",
                  "model": "acme-7b", "input_tokens": 10, "output_tokens": 10})  # fmt: skip
    calls.append({"request_id": "none", "timestamp": "2026-11-05T13:00:00Z", "model": "gpt-4o"})
    path = ingested(write_jsonl(tmp_path / "app.jsonl", calls))
    result, r = report_json(cli, path, "--period", "yesterday")  # the 15th
    assert (r["summary"]["unpriced_requests"], r["summary"]["unknown_token_requests"]) == (0, 0)
    f = r["anomalies"]["forecast"]
    assert f["month_to_date_usd"] == pytest.approx(15.0)
    assert (f["unpriced_requests"], f["unknown_token_requests"]) == (1, 1)


def test_the_first_days_report_projects_the_month_at_that_whole_days_cost(cli, tmp_path):
    """The first nightly report after cron was set up (the store's only day, calls at 08:00
    and 18:00) took the day's rate from its midnight to its last call: $2 over 18 hours read
    as $2.67 a day, 'month-end projection $79.33' for a month of $2 days ($60). The period
    ran to its midnight without another call, so the day is whole: its cost is the rate.

    gpt-4o at $2.50/M input: $1 a call (400k input tokens) at 08:00 and 18:00 on 2026-11-01.
    """
    log = write_jsonl(
        tmp_path / "app.jsonl",
        [{"request_id": f"r{h}", "timestamp": f"2026-11-01T{h:02d}:00:00Z", "model": "gpt-4o",
          "input_tokens": 400_000, "output_tokens": 0} for h in (8, 18)],
    )  # fmt: skip
    result = cli("report", "--db", ingested(log), "--period", "yesterday", "--now",
                 "2026-11-02T06:00Z", "-f", "json")  # fmt: skip
    f = json.loads(result.stdout)["anomalies"]["forecast"]
    assert (f["days_elapsed"], f["history_days"]) == (1, 0)
    assert f["daily_mean_usd"] == pytest.approx(2.0)
    assert f["projection_usd"] == pytest.approx(2.0 + 29 * 2.0)
    # analyze of the same log has no end past its last call: the day so far is its rate
    # (README: a log that starts late in the month is projected at its own rate)
    f = json.loads(cli("analyze", log, "-f", "json").stdout)["anomalies"]["forecast"]
    assert f["daily_mean_usd"] == pytest.approx(2 / 0.75)


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_a_period_report_shows_its_days_once_in_its_zone(cli, db, fmt):
    """A period report printed two Cost by day tables: the period's, in --tz days, and
    analyze's, in UTC days, under no zone: in Paris 2026-11-15 read $0.91 in one and $0.32 in
    the other (and in UTC the same table twice). The period's days are the report's days."""
    out = cli("report", "--db", db, "--now", NOW, "--period", "yesterday", "--tz",
              "Europe/Paris", "-f", fmt).stdout  # fmt: skip
    assert out.count("Cost by day") == 1, out
    assert "Cost by day (Europe/Paris)" in out
    assert "$0.32" not in out  # the UTC day's cost


@pytest.mark.parametrize("suffix", ["html", "md", "json"])
def test_a_period_without_calls_says_when_the_last_stored_call_was(cli, db, tmp_path, suffix):
    """A day of no call read '$0.00 over 0 calls' and nothing else, the same whether the
    service was idle or the logs were no longer ingested (a moved log directory: ingest
    reads nothing and fails not). The last call stored before the period's end tells which."""
    out = tmp_path / f"empty.{suffix}"
    result = cli("report", "--db", db, "--now", "2026-11-20T06:00Z", "--period", "yesterday",
                 "-o", out)  # fmt: skip
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    text = out.read_text()
    if suffix == "json":
        r = json.loads(text)["report_period"]
        assert r["last_call_before_end"] == "2026-11-15T23:30:00+00:00"  # p5
    else:
        line = "Last call stored before the period's end: 2026-11-15 23:30 UTC"
        assert (line.replace("'", "&#x27;") if suffix == "html" else line) in text
    # a period with calls has none
    result, r = report_json(cli, db, "--period", "yesterday")
    assert r["report_period"]["last_call_before_end"] is None


def test_a_period_report_says_the_stored_calls_without_a_time_are_in_none(cli, tmp_path):
    """Calls logged without a time (a Batch API input file, raw response bodies) are stored
    but fall in no period: every period report left them out without a word ('Cost: $0.03
    over 18 calls' of a database of 22)."""

    log = write_jsonl(
        tmp_path / "app.jsonl",
        [
            {"request_id": "a", "timestamp": "2026-11-15T10:00:00Z", "model": "gpt-4o",
             "input_tokens": 4000, "output_tokens": 0},
            {"request_id": "b", "model": "gpt-4o", "input_tokens": 4000, "output_tokens": 0},
        ],
    )  # fmt: skip
    path = ingested(log)
    result, r = report_json(cli, path, "--period", "yesterday")
    assert (r["summary"]["requests"], r["report_period"]["undated_calls"]) == (1, 1)
    md = cli("report", "--db", path, "--now", NOW, "--period", "yesterday", "-f", "markdown")
    assert "- Not in any period: 1 stored call logged without a time\n" in md.stdout


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "json"])
def test_a_change_from_under_a_cent_reads_as_where_it_came_from(cli, tmp_path, fmt):
    """A day of $2.50 after a day of $0.000015 read 'change +$2.50 (+16666566.7%)': right
    arithmetic, and nothing a reader of a cron report can use. A change in dollars from under
    a cent reads 'from $0.000015', the same in every format; the JSON keeps its percentage.

    gpt-4o-mini at $0.15/M input: 100 tokens = $0.000015 on 2026-11-14; gpt-4o at $2.50/M:
    1M tokens = $2.50 on the 15th.
    """

    log = write_jsonl(
        tmp_path / "app.jsonl",
        [
            {"request_id": "a", "timestamp": "2026-11-14T12:00:00Z", "model": "gpt-4o-mini",
             "input_tokens": 100, "output_tokens": 0, "user_id": "u"},
            {"request_id": "b", "timestamp": "2026-11-15T12:00:00Z", "model": "gpt-4o",
             "input_tokens": 1_000_000, "output_tokens": 0, "user_id": "u"},
        ],
    )  # fmt: skip
    path = ingested(log)
    result = cli("report", "--db", path, "--now", NOW, "--period", "yesterday", "-f", fmt)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    if fmt == "json":
        t = json.loads(out)["comparison"]["total"]
        assert (t["base_usd"], t["head_usd"]) == (0.000015, 2.5)
        assert t["change_pct"] == pytest.approx((2.5 - 0.000015) / 0.000015 * 100)
        return
    assert "16666566" not in out, out  # no percentage from under a cent, anywhere
    assert "change +$2.50 (from $0.000015)" in out
    assert "2026-11-15 $2.50 after $0.000015 on 2026-11-14" in out  # the day-over-day rise
    # the user's row in the By user table: from under a cent too
    row = r"\bu\b.{0,40}?\$0\.000015.{0,40}?\$2\.50.{0,40}?\+\$2\.50.{0,40}?from \$0\.000015"
    assert re.search(row, out), out


def test_every_day_and_hour_of_a_paris_report_is_a_paris_one(cli, db):
    """`report --tz Europe/Paris` kept UTC days and hours in analyze's sections: by_day read
    2026-11-15 as p3 + p5 ($0.32, UTC) under the period's Paris day of p2 + p3 ($0.91), and
    the costliest hour was '2026-11-14 23h' (p2, Saturday 23:30 UTC: Sunday 00:30 in Paris).
    Every day and hour is of --tz now, and the JSON says which zone (window.tz)."""
    result, r = report_json(cli, db, "--period", "yesterday", "--tz", "Europe/Paris")
    assert result.exit_code == 0, result.stderr
    assert r["window"]["tz"] == r["peaks"]["timezone"] == r["anomalies"]["timezone"]
    assert r["window"]["tz"] == "Europe/Paris"
    assert [(d["day"], d["requests"], d["cost_usd"]) for d in r["by_day"]] == [
        ("2026-11-15", 2, 0.91)
    ]
    p = r["peaks"]
    # Sunday (6) 00:00 (p2, 0.70) and 11:00 (p3, 0.21), Paris time
    assert [(c["weekday"], c["hour"], c["cost_usd"]) for c in p["grid"]] == [
        (6, 0, 0.7),
        (6, 11, 0.21),
    ]
    assert p["costliest_hour"]["hour"] == "2026-11-15T00:00:00+01:00"
    assert p["busiest_minute"]["minute"] == "2026-11-15T00:30:00+01:00"
    table = cli("report", "--db", db, "--now", NOW, "--period", "yesterday", "--tz",
                "Europe/Paris").stdout  # fmt: skip
    assert "Peak times (Europe/Paris)" in table and "Costliest hour: 2026-11-15 00h" in table
    # UTC as before: the UTC day, the UTC hour
    result, r = report_json(cli, db, "--period", "yesterday")
    assert r["window"]["tz"] == "UTC" and r["by_day"][0]["cost_usd"] == 0.32
    assert r["peaks"]["costliest_hour"]["hour"] == "2026-11-15T10:00:00+00:00"  # p3


def test_a_zone_whose_hours_start_at_half_past(cli, db):
    """Kolkata is UTC+5:30: its clock hours start at half past a UTC hour, and p2 (23:30 UTC)
    is 05:00 on the 15th there."""
    result, r = report_json(cli, db, "--period", "yesterday", "--tz", "Asia/Kolkata")
    assert r["peaks"]["costliest_hour"]["hour"] == "2026-11-15T05:00:00+05:30"


def test_the_anomaly_check_reads_the_days_of_the_report_zone(cli, tmp_path):
    """A Paris report's anomaly check read UTC days: $1 a day at noon UTC for two weeks, then
    $5 at 23:30 UTC on the 15th (00:30 on the 16th in Paris): 'yesterday' in Paris on the
    17th is the 16th, of $5, and the anomaly found was '2026-11-15: $6.00', a UTC day that is
    not the report's. The days are Paris days: the 16th is the anomaly, of $5 against $1."""

    def call(n: int, when: str, tokens: int) -> dict:
        return {"request_id": f"r{n}", "timestamp": when, "model": "gpt-4o",
                "input_tokens": tokens, "output_tokens": 0}  # fmt: skip

    log = write_jsonl(
        tmp_path / "app.jsonl",
        [call(day, f"2026-11-{day:02d}T12:00:00Z", 400_000) for day in range(1, 16)]
        + [call(99, "2026-11-15T23:30:00Z", 2_000_000)],
    )
    path = ingested(log)
    args = ("--period", "yesterday", "--now", "2026-11-17T06:00Z", "--alert-anomalies")
    result, r = report_json(cli, path, *args, "--tz", "Europe/Paris")
    assert r["summary"]["total_cost_usd"] == 5.0
    a = r["anomalies"]
    assert a["days_checked"] == 1
    [day] = a["days"]
    assert (day["day"], day["cost_usd"], day["baseline_usd"]) == ("2026-11-16", 5.0, 1.0)
    assert result.exit_code == 1
    assert result.stderr.startswith("ALERT: 1 anomaly: 2026-11-16: $5.00 (usually $1.00)")
    # the forecast's month to date is of Paris's November, to the last call, Paris time
    f = a["forecast"]
    assert f["as_of"] == "2026-11-16T00:30:00+01:00"
    assert f["days_elapsed"] == 16  # (the period runs to Paris midnight on the 17th)


def test_a_month_of_the_report_zone_is_forecast_whole(cli, db):
    """November in Paris holds p6 (Oct 31 23:30 UTC): its report on December 2nd read
    'Month to date (2026-11, 29.96 of 30 days): $1.67', November in UTC cut at the period's
    end (Paris midnight, 23:00 UTC), beside a period cost of $1.82."""
    result, r = report_json(cli, db, "--period", "previous-month", "--now", "2026-12-02T06:00Z",
                            "--tz", "Europe/Paris")  # fmt: skip
    f = r["anomalies"]["forecast"]
    assert r["summary"]["total_cost_usd"] == 1.82
    assert (f["month"], f["days_elapsed"], f["days_in_month"]) == ("2026-11", 30, 30)
    assert f["month_to_date_usd"] == pytest.approx(1.82)


def test_a_rise_from_under_a_cent_is_no_percent_rise():
    """Day-over-day picked the day after a sub-cent day as the largest rise ($0.000059 ->
    $0.40, +677,866%) over a real one (+50%), and --alert-jump fired on it. A rise from under
    SMALL_BASE_USD never outranks a real rise by percent, and fires no percent alert."""
    daily = [
        {"day": "2026-11-12", "cost_usd": 1.0},
        {"day": "2026-11-13", "cost_usd": 1.5},
        {"day": "2026-11-14", "cost_usd": 0.000059},
        {"day": "2026-11-15", "cost_usd": 0.40},
    ]
    jump = day_over_day(daily, "2026-11-13")
    assert (jump["day"], jump["change_pct"], jump["small_base"]) == ("2026-11-13", 50.0, False)
    # no real rise: the rise in dollars after the sub-cent day, marked, alerting on nothing
    jump = day_over_day(daily, "2026-11-14")
    assert (jump["day"], jump["small_base"]) == ("2026-11-15", True)
    report = {"summary": {"total_cost_usd": 0.4}, "report_period": {"day_over_day": jump}}
    assert evaluate_alerts(Alerts(max_day_over_day_pct=100), report) == []
    # a real rise above the limit still fires
    report["report_period"]["day_over_day"] = day_over_day(daily[:2], "2026-11-13")
    [alert] = evaluate_alerts(Alerts(max_day_over_day_pct=40), report)
    assert alert["alert"] == "max_day_over_day_pct"
    # a fall on every real day, a rise after a sub-cent day: the rise is the largest
    daily[1]["cost_usd"] = 0.5
    assert day_over_day(daily[1:], "2026-11-14")["day"] == "2026-11-15"


def test_the_jump_alert_of_a_cron_report_ignores_a_rise_from_under_a_cent(cli, tmp_path):
    """gpt-4o at $2.50/M input: $1.00 on the 12th, $1.50 on the 13th (+50%); gpt-4o-mini at
    $0.15/M: 100 tokens = $0.000015 on the 14th; gpt-4o $0.40 on the 15th."""

    def call(n: int, day: int, model: str, tokens: int) -> dict:
        return {"request_id": f"r{n}", "timestamp": f"2026-11-{day:02d}T12:00:00Z",
                "model": model, "input_tokens": tokens, "output_tokens": 0}  # fmt: skip

    log = write_jsonl(
        tmp_path / "app.jsonl",
        [call(1, 12, "gpt-4o", 400_000), call(2, 13, "gpt-4o", 600_000),
         call(3, 14, "gpt-4o-mini", 100), call(4, 15, "gpt-4o", 160_000)],
    )  # fmt: skip
    path = ingested(log)
    week = ("--since", "2026-11-13", "--until", "2026-11-16", "--alert-jump", "100")
    result = cli("report", "--db", path, *week, "-f", "markdown")
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    assert "Largest day-over-day rise: 2026-11-13 $1.50, +50.0% on 2026-11-12 ($1.00)" in (
        result.stdout
    )
    result = cli("report", "--db", path, "--now", NOW, "--period", "yesterday",
                 "--alert-jump", "100", "-f", "markdown")  # fmt: skip
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    assert "Largest day-over-day rise: 2026-11-15 $0.40 after $0.000015 on 2026-11-14" in (
        result.stdout
    )


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_a_month_that_is_over_reads_as_its_total_not_a_range(cli, db, fmt):
    """November's report on December 2nd read 'month-end projection $1.67 (80% range $1.67 –
    $1.67)': nothing is left to forecast, and the range of no day is noise. It reads as the
    month's total, in every format."""
    result = cli("report", "--db", db, "--now", "2026-12-02T06:00Z", "--period",
                 "previous-month", "-f", fmt)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Month 2026-11 (over, all 30 days): $1.67, its total; nothing is left to project." in (
        out
    ), out
    assert "80% range" not in out and "projection" not in out.lower()
    # a month still running keeps its projection
    running = cli("report", "--db", db, "--now", NOW, "--period", "month-to-date", "-f", fmt)
    assert "month-end projection" in running.stdout


def test_the_times_of_a_paris_report_are_paris_times(cli, db):
    """A Paris report of November 15th read 'Total cost: $0.91 over 2 calls, 2026-11-14 →
    2026-11-15' (its first call, p2, is 23:30 UTC on the 14th: 00:30 on the 15th in Paris),
    its costliest call's time and its last stored call in UTC. Its times are Paris times,
    the JSON's with the Paris offset (the same instants)."""
    result, r = report_json(cli, db, "--period", "yesterday", "--tz", "Europe/Paris")
    s = r["summary"]
    assert (s["first_ts"], s["last_ts"]) == (
        "2026-11-15T00:30:00+01:00",
        "2026-11-15T11:00:00+01:00",
    )
    assert r["expensive"]["requests"][0]["ts"] == "2026-11-15T00:30:00+01:00"  # p2, $0.70
    assert r["limits"]["max_request"]["ts"] == "2026-11-15T00:30:00+01:00"
    md = cli("report", "--db", db, "--now", NOW, "--period", "yesterday", "--tz",
             "Europe/Paris", "-f", "markdown").stdout  # fmt: skip
    assert "- Total cost: $0.91 over 2 calls, 2026-11-15 → 2026-11-15\n" in md
    quiet = cli("report", "--db", db, "--now", "2026-11-20T06:00Z", "--period", "yesterday",
                "--tz", "Europe/Paris", "-f", "markdown").stdout  # fmt: skip
    assert "Last call stored before the period's end: 2026-11-16 00:30 Europe/Paris" in quiet
    # UTC reports as before
    result, r = report_json(cli, db, "--period", "yesterday")
    assert r["summary"]["first_ts"] == "2026-11-15T10:00:00+00:00"


def test_the_anomaly_alert_counts_every_anomaly_not_the_ones_listed():
    """The anomalies analysis lists the top N of each kind and counts them all: the alert
    read 'ALERT: 10 anomalies: …' under a report that said 'Anomalies: 45'."""
    listed = [{"scope": "feature", "key": f"f{i}", "day": "2026-11-14", "cost_usd": 1.0}
              for i in range(10)]  # fmt: skip
    report = {
        "summary": {"total_cost_usd": 1.0},
        "anomalies": {"days": [], "users_and_features": listed, "count": 45},
    }
    [alert] = evaluate_alerts(Alerts(anomalies=True), report)
    assert alert["actual"] == 45 and alert["message"].startswith("45 anomalies: feature f0 ")


def test_idle_days_of_a_period_are_history_and_days_before_logging_are_not(cli, tmp_path):
    """A database built by cron: 'report --period last-30d' on a store whose calls came on
    2026-08-01 and 2026-09-07 started its day-by-day history at 09-07, its first call in
    the window: the 28 idle days before it were no history, and the forecast fell back to
    'no complete day' (the cost of 09-07 per hour logged, over the month: $0.0023 on the
    real fixtures). A day inside the store's logged span (from its first call, or the
    first ingest when that came before) without a call is an idle day ($0); a day before
    anything was logged is unknown, no history. The report says which days are which.

    gpt-4o at $2.50/M input: $1 (400k input tokens) on 2026-09-07."""

    def call(n: int, day: str) -> dict:
        return {"request_id": f"r{n}", "timestamp": f"{day}T12:00:00Z", "model": "gpt-4o",
                "input_tokens": 400_000, "output_tokens": 0}  # fmt: skip

    def report(records, first_ingest=None):
        path = ingested(write_jsonl(tmp_path / "app.jsonl", records), tmp_path / "db.duckdb")
        if first_ingest:  # cron read the log before its first call
            con = store.connect(path)
            con.execute("UPDATE ingests SET started_at = ?", [first_ingest])
            con.close()
        out = cli("report", "--db", path, "--now", "2026-09-09T06:00Z", "--period", "last-30d",
                  "-f", "json")  # fmt: skip
        md = cli("report", "--db", path, "--now", "2026-09-09T06:00Z", "--period", "last-30d",
                 "-f", "markdown")  # fmt: skip
        path.unlink()
        return json.loads(out.stdout), md.stdout

    # logging since 08-01: the window's days without a call are idle days, history of $0
    r, md = report([call(1, "2026-08-01"), call(2, "2026-09-07")])
    p, f = r["report_period"], r["anomalies"]["forecast"]
    assert p["logged_since"].startswith("2026-08-01")
    assert len(p["idle_days"]) == 29 and "2026-09-07" not in p["idle_days"]
    assert (p["idle_days"][0], p["idle_days"][-1], p["days_not_logged"]) == (
        "2026-08-10", "2026-09-08", 0)  # fmt: skip
    assert (f["history_days"], f["history_days_with_calls"], f["daily_mean_usd"]) == (28, 0, 0)
    assert f["projection_usd"] == pytest.approx(1.0)  # idle days: nothing more this month
    assert "Days without a call: 29 idle days (no call, counted as $0)" in md

    # nothing logged before 09-07: the days before it are unknown, not 28 days of $0
    r, md = report([call(2, "2026-09-07")])
    p, f = r["report_period"], r["anomalies"]["forecast"]
    assert (p["idle_days"], p["days_not_logged"]) == (["2026-09-08"], 28)
    assert f["history_days"] == 0
    assert "1 idle day (no call, counted as $0); 28 days before logging began (2026-09-07)" in md

    # cron ingested the log from 08-20 on, before its first call: logged from then
    r, md = report([call(2, "2026-09-07")], first_ingest="2026-08-20T03:00:00Z")
    p, f = r["report_period"], r["anomalies"]["forecast"]
    assert (len(p["idle_days"]), p["idle_days"][0], p["days_not_logged"]) == (19, "2026-08-20", 10)
    assert (f["history_days"], f["history_days_with_calls"]) == (18, 0)


def test_a_period_before_logging_began_is_not_logged_not_callless(cli, tmp_path):
    """'report --period last-7d' on a store whose first call came on 2026-09-07: the week
    before (08-26 to 09-02) lay wholly before logging began, and the report said "no calls
    to compare with", as of a week logged without a call. It says the week was not logged,
    in every format; a week logged without a call still has no calls to compare with."""

    def call(n: int, day: str) -> dict:
        return {"request_id": f"r{n}", "timestamp": f"{day}T12:00:00Z", "model": "gpt-4o",
                "input_tokens": 400_000, "output_tokens": 0}  # fmt: skip

    said = "Before (previous 7 days): not logged (before 2026-09-07, when logging began)"
    for records, not_logged in (
        ([call(2, "2026-09-07")], True),
        ([call(1, "2026-08-01"), call(2, "2026-09-07")], False),  # logged, no call
    ):
        path = ingested(write_jsonl(tmp_path / "app.jsonl", records), tmp_path / "db.duckdb")
        args = ("report", "--db", path, "--now", "2026-09-09T06:00Z", "--period", "last-7d")
        r = json.loads(cli(*args, "-f", "json").stdout)
        previous = r["report_period"]["previous"]
        assert (previous["not_logged"], previous["requests"], r["comparison"]) == (
            not_logged, 0, None)  # fmt: skip
        wide = {"COLUMNS": "200", "TERMINAL_WIDTH": "200"}
        shown = {
            format: cli(*args, "-f", format, env=wide).stdout
            for format in ("table", "markdown", "html")
        }
        for format, text in shown.items():
            label = re.search(r"Before \(([^)]*)\)", text)
            assert label, format
            if not_logged:
                assert said.replace("previous 7 days", label[1]) in text, format
                assert "no calls to compare with" not in text, format
            else:
                assert f"Before ({label[1]}): no calls to compare with" in text, format
                assert "not logged" not in text, format
        path.unlink()


def test_a_period_before_partly_logged_says_so_not_callless_or_complete(cli, tmp_path):
    """'report --period last-7d' at 2026-09-09: the week before (08-26 to 09-02) was logged
    only from the store's first ingest (a cron run on 08-30 that found no call) or its
    first call (08-31). The first said "no calls to compare with", as of a week logged
    without a call; the second compared the $1.00 of 2 days with a whole week, as if
    complete. Both say the week was only partly logged, from when, in every format."""
    import duckdb

    def call(n: int, day: str) -> dict:
        return {"request_id": f"r{n}", "timestamp": f"{day}T12:00:00Z", "model": "gpt-4o",
                "input_tokens": 400_000, "output_tokens": 0}  # fmt: skip

    for records, began, since, said in (
        ([call(2, "2026-09-07")], "2026-08-30T09:00:00+00:00", "2026-08-30T09:00:00+00:00",
         "Before (the 7 days before): only partly logged (from 2026-08-30, when logging "
         "began): no calls in its logged part"),
        ([call(1, "2026-08-31"), call(2, "2026-09-07")], None, "2026-08-31T12:00:00+00:00",
         "Before (the 7 days before, 2026-08-26 → 2026-09-02 (UTC)): only partly logged "
         "(from 2026-08-31, when logging began): $1.00 over 1 call in its logged part — "
         "change ±$0.00 (+0.0%), against that part only"),
    ):  # fmt: skip
        path = ingested(write_jsonl(tmp_path / "app.jsonl", records), tmp_path / "db.duckdb")
        if began:  # the cron ingest ran on 08-30, before the log had a call
            with duckdb.connect(str(path)) as con:
                con.execute("UPDATE ingests SET started_at = CAST(? AS TIMESTAMPTZ)", [began])
        args = ("report", "--db", path, "--now", "2026-09-09T06:00Z", "--period", "last-7d")
        r = json.loads(cli(*args, "-f", "json").stdout)
        previous = r["report_period"]["previous"]
        assert (previous["partly_logged_since"], previous["not_logged"]) == (since, False)
        if r["comparison"]:
            assert any("logged only from 2026-08-31" in n for n in r["comparison"]["notes"])
        wide = {"COLUMNS": "400", "TERMINAL_WIDTH": "400"}
        for format in ("table", "markdown", "html"):
            text = cli(*args, "-f", format, env=wide).stdout
            assert said in text, format
            assert "no calls to compare with" not in text, format
        path.unlink()


def test_now_without_an_offset_is_read_in_tz_as_since_and_until_are(cli, db):
    # 23:30 on the 15th in Auckland (UTC+13) is 10:30 UTC on the 15th: yesterday is the
    # 14th there. Read as UTC, 23:30 UTC is already the 16th in Auckland (yesterday: the 15th).
    args = ("--period", "yesterday", "--tz", "Pacific/Auckland", "-f", "json")
    typed = cli("report", "--db", db, "--now", "2026-11-15 23:30", *args)
    offset = cli("report", "--db", db, "--now", "2026-11-15T23:30+13:00", *args)
    assert typed.exit_code == 0, typed.stderr
    period = json.loads(typed.stdout)["report_period"]
    assert period["since"] == "2026-11-13T11:00:00+00:00"  # the 14th's Auckland midnight
    assert period == json.loads(offset.stdout)["report_period"]
