"""A time the user types (--since, --until, --now, the API's since/until) is read by the rule
a log's time is read by (llmcost/timestamps.py): what a log accepts is accepted typed, and
means the same instant."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from llmcost import api, periods, store
from llmcost.errors import UsageError
from llmcost.ingest import ingest_file
from llmcost.timestamps import read_time
from tests.test_timestamps import BASIC_AND_FRACTIONS, ISO_FORMS, _call

UTC = dt.timezone.utc
# the forms the brief names, and what the logs read besides
TYPED = [
    ("2026-11-28T10:00:00Z", dt.datetime(2026, 11, 28, 10, tzinfo=UTC)),
    ("2026-11-28T10:00:00+02:00", dt.datetime(2026, 11, 28, 8, tzinfo=UTC)),
    ("2026-11-28", dt.datetime(2026, 11, 28, tzinfo=UTC)),
    ("2026-11-28 10:00", dt.datetime(2026, 11, 28, 10, tzinfo=UTC)),
    *ISO_FORMS,
    *BASIC_AND_FRACTIONS,
]


def test_a_typed_time_is_the_instant_a_log_s_same_text_is(jsonl):
    """One rule: each text, typed, is the time the JSON-lines reader stores for it (a time
    without an offset, UTC, as a log's)."""
    path = jsonl([_call(n, timestamp=t) for n, (t, _) in enumerate(TYPED)])
    con = store.connect()
    ingest_file(con, str(path))
    rows = con.execute("SELECT ts FROM requests ORDER BY source_line").fetchall()
    logged = [ts for (ts,) in rows]
    assert logged == [want for _, want in TYPED]
    assert [read_time(t, "--since") for t, _ in TYPED] == logged


def test_a_time_without_an_offset_is_read_in_the_zone_given():
    """report's --tz: a date is its local midnight, a time its local time (a time the
    clocks skip, or show twice, with the offset in force before, as periods.midnight)."""
    paris = ZoneInfo("Europe/Paris")
    assert read_time("2026-11-28", "--since", paris) == dt.datetime(2026, 11, 27, 23, tzinfo=UTC)
    assert read_time("2026-11-28 10:00,5", "--since", paris) == dt.datetime(
        2026, 11, 28, 9, 0, 30, tzinfo=UTC
    )
    assert read_time("2026-03-29T02:30", "--since", paris) == dt.datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )
    # an offset of its own, or a zone's name, wins
    assert read_time("2026-11-28T10:00Z", "--since", paris) == dt.datetime(
        2026, 11, 28, 10, tzinfo=UTC
    )
    assert read_time("2026-11-28 10:00 America/New_York", "--since", paris) == dt.datetime(
        2026, 11, 28, 15, tzinfo=UTC
    )


NOT_TIMES = [
    ("last tuesday", "is not a date or time"),
    # a date without dashes: in a log a number, epoch seconds of 1970; typed, Python's
    # fromisoformat read it as the date
    ("20261128", "a number is not read as one: in a log it is epoch seconds"),
    ("1764324000", "a number is not read as one"),
    ("99999-01-01", "is not a date or time"),  # (a year Python cannot hold)
    ("infinity", "is not a date or time"),
    ("2026-11-28T10:00,5:30", "is not a date or time"),
    ("2026-W48-6", "is not a date or time"),  # (a week date: no log's time is read so)
]


@pytest.mark.parametrize("text, message", NOT_TIMES, ids=[t for t, _ in NOT_TIMES])
def test_what_a_log_does_not_read_is_no_typed_time(text, message):
    with pytest.raises(UsageError, match=message):
        read_time(text, "--since")


def _two_calls(jsonl):
    """Two calls half a minute apart, 30 seconds either side of 03:04:30."""
    return jsonl(
        [
            _call(0, timestamp="2026-01-02T03:04:10Z", model="gpt-4o"),
            _call(1, timestamp="2026-01-02T03:04:40Z", model="gpt-4o-mini"),
        ]
    )


@pytest.mark.parametrize(
    "since, until, models",
    [
        # 03:04,5 is 03:04:30 (Python's fromisoformat read 03:04:00.5: both calls)
        ("2026-01-02T03:04,5Z", None, ["gpt-4o-mini"]),
        ("2026-01-02T04:04,5+01:00", None, ["gpt-4o-mini"]),
        ("2026-01-02T03,05Z", "2026-01-02T03:04,5Z", ["gpt-4o"]),  # 03:03 to 03:04:30
        # a leap second (exit 2 before), and the basic format
        ("2016-12-31T23:59:60Z", "20260102T030430Z", ["gpt-4o"]),
        ("2026-01-02", "2026-01-02T03:04:20,5", ["gpt-4o"]),
    ],
)
def test_analyze_s_window_reads_typed_times_as_logs_are_read(jsonl, cli, since, until, models):
    path = _two_calls(jsonl)
    args = ["--since", since] + (["--until", until] if until else [])
    result = cli("analyze", path, *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert [m["model"] for m in json.loads(result.stdout)["by_model"]] == models


@pytest.mark.parametrize("command", ["analyze", "check", "export", "report"])
def test_a_typed_number_exits_2_with_why(jsonl, cli, tmp_path, command):
    """--since 20261128 was the date in every command; in a log it is epoch seconds
    (rejected): typed, it is refused, with what to write instead."""
    path = _two_calls(jsonl)
    db = tmp_path / "llm.duckdb"
    assert cli("ingest", path, "--db", db).exit_code == 0
    args = {
        "analyze": ["analyze", path],
        "check": ["check", "--db", db, "--max-cost", "100"],
        "export": ["export", "--db", db, "-o", tmp_path / "out"],
        "report": ["report", "--db", db],
    }[command]
    result = cli(*args, "--since", "20260102")
    assert result.exit_code == 2, result.stdout
    err = " ".join(result.stderr.split())
    assert "--since '20260102' is not a date or time (a number is not read as one" in err
    assert "e.g. --since 2026-11-01" in err


def test_report_reads_since_and_now_as_logs_are_read(jsonl, cli, tmp_path):
    """report's --since, --until (in --tz) and --now take the logs' forms too."""
    path = _two_calls(jsonl)
    db = tmp_path / "llm.duckdb"
    assert cli("ingest", path, "--db", db).exit_code == 0
    result = cli(
        "report", "--db", db, "--tz", "Europe/Paris", "--since", "2026-01-02 04:04,5",
        "--now", "20260103T060000Z", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    r = json.loads(result.stdout)
    assert [m["model"] for m in r["by_model"]] == ["gpt-4o-mini"]
    assert r["report_period"]["since"] == "2026-01-02T03:04:30+00:00"
    assert r["report_period"]["until"] == "2026-01-03T06:00:00+00:00"


def test_the_api_reads_since_and_until_as_logs_are_read(jsonl):
    path = _two_calls(jsonl)
    report = api.analyze([path], since="2026-01-02T03:04,5Z")
    assert [m["model"] for m in report.by_model] == ["gpt-4o-mini"]
    with pytest.raises(UsageError, match="a number is not read as one"):
        api.analyze([path], until="20260103")


def test_periods_resolve_reads_the_logs_forms():
    p = periods.resolve(since="2026-01-02T03:04,5", until="20260102T0400", tz="UTC")
    assert (p.current.since, p.current.until) == (
        dt.datetime(2026, 1, 2, 3, 4, 30, tzinfo=UTC),
        dt.datetime(2026, 1, 2, 4, tzinfo=UTC),
    )
