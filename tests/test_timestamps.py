"""Timestamps in every reader: a time not set (epoch 0, year 1) is no timestamp, a time
before 2000 rejects its record."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from llmcost import store
from llmcost.ingest import ingest_file, ingest_paths
from tests.test_properties_formats import T0, WRITERS, Call, _iso, _usage_reports

UTC = dt.timezone.utc
CALL = Call(uncached=1000, read=0, write=0, visible=100, reasoning=0)


def load(path):
    con = store.connect()
    result = ingest_file(con, str(path))
    rows = con.execute("SELECT ts FROM requests ORDER BY source_line").fetchall()
    rejects = con.execute("SELECT line, reason FROM rejects ORDER BY line").fetchall()
    return result, [ts for (ts,) in rows], rejects


def _call(n: int, **fields) -> dict:
    # each its own id: the same content twice would be one call logged twice
    return {"request_id": f"r{n}", "model": "gpt-4o", "input_tokens": 1000,
            "output_tokens": 100, **fields}  # fmt: skip


NOT_SET = [0, "0", 0.0, "0.0", "-0", "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000+00:00",
           "1970-01-01 00:00:00", "1969-12-31T19:00:00-05:00", "0001-01-01T00:00:00Z",
           "0001-01-01T00:00:00"]  # fmt: skip


def test_a_time_not_set_is_no_timestamp(jsonl):
    """Epoch 0 in any form (a number, a string, ISO), and the zero time of Go and .NET
    (0001-01-01T00:00:00), is what a logger writes for a time it did not have: the call is
    kept as a call without a timestamp (as one the log gave no time), not dated 1970."""
    path = jsonl(
        [_call(0, timestamp="2026-03-02T10:00:00Z"), _call(1)]
        + [_call(n + 2, timestamp=t) for n, t in enumerate(NOT_SET)]
    )
    result, stamps, rejects = load(path)
    assert rejects == []
    assert stamps == [dt.datetime(2026, 3, 2, 10, tzinfo=UTC)] + [None] * (1 + len(NOT_SET))
    # "1970-01-01 00:00:00" and "0001-01-01T00:00:00" have no zone, but no time either
    assert result.naive_timestamps == 0


BEFORE_2000 = [-1, "-86400", 86400, 946684799, 946684799999, "1999-12-31T23:59:59Z",
               "1970-01-01T00:00:01Z", "1969-12-31T23:59:59Z", "0001-01-01T00:00:01Z",
               "1999-12-31 23:59:59"]  # fmt: skip


def test_a_time_before_2000_is_rejected(jsonl):
    """No model was called before 2000: such a time is a wrong clock, a wrong unit or a
    negative epoch, and dating the call then would put it decades back (unpriced: no price
    row is that old). The record is rejected with its line and why; 2000 itself is a time."""
    path = jsonl(
        [_call(n, timestamp=t) for n, t in enumerate(BEFORE_2000)]
        + [_call(99, timestamp="2000-01-01T00:00:00Z"), _call(98, timestamp=946684800)]
    )
    result, stamps, rejects = load(path)
    assert stamps == [dt.datetime(2000, 1, 1, tzinfo=UTC)] * 2
    assert rejects == [(n + 1, f"timestamp before 2000: {t}") for n, t in enumerate(BEFORE_2000)]
    assert (result.ingested, result.rejected) == (2, len(BEFORE_2000))


AFTER_2099 = ["2100-01-01T00:00:00Z", "2100-01-01T01:00:00+01:00", 4102444800, "4102444800000",
              99999999999, "99999-01-01", "2999-06-01 12:00:00"]  # fmt: skip


def test_a_time_in_2100_or_later_is_rejected(jsonl):
    """No log is written that far ahead: such a time is a wrong unit (the largest epoch
    read as seconds is in 5138), a mistyped year, or one Python cannot even hold (99999).
    It was stored as the call's time; it is rejected as one before 2000 is. The last
    instant of 2099 is still a time (a date merely ahead of today is kept: see
    test_ingest_notes_calls_dated_after_its_clock)."""
    path = jsonl(
        [_call(n, timestamp=t) for n, t in enumerate(AFTER_2099)]
        + [_call(99, timestamp="2099-12-31T23:59:59.999Z"), _call(98, timestamp=4102444799)]
    )
    result, stamps, rejects = load(path)
    assert stamps == [
        dt.datetime(2099, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        dt.datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC),
    ]
    assert rejects == [(n + 1, f"timestamp after 2099: {t}") for n, t in enumerate(AFTER_2099)]
    assert (result.ingested, result.rejected) == (2, len(AFTER_2099))


# The run's clock, as the tests set it (ingest.clock): calls dated after it are pointed out.
CLOCK = dt.datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def test_ingest_notes_calls_dated_after_its_clock(jsonl, cli, monkeypatch):
    """A call dated after the run's clock (a log's clock set ahead, a local time read as
    UTC, a wrong date that is not past 2099) was stored silently. It is kept, as logged,
    and counted: on the file's line on stderr, in the report's notes and its inputs. A call
    less than a minute ahead is clocks that differ by a moment, not news."""
    from llmcost import ingest

    monkeypatch.setattr(ingest, "clock", lambda: CLOCK)
    path = jsonl(
        [
            _call(0, timestamp="2026-11-28T05:59:00Z"),
            _call(1, timestamp="2026-11-28T06:00:59Z"),  # within the minute of grace
            _call(2, timestamp="2026-11-28T09:00:00+01:00"),  # 08:00 UTC: 2 hours ahead
            _call(3, timestamp="2087-03-04T12:30:00Z"),
        ]
    )
    result = cli("analyze", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["requests"] == 4 and report["rejected"]["count"] == 0
    note = (
        "2 calls dated after this run's clock (the latest 2087-03-04 12:30 UTC): kept as "
        "logged; a clock set ahead, a time of day read as UTC that was not, or a wrong date"
    )
    assert note in report["notes"]
    assert report["inputs"][0]["dated_ahead"] == 2
    assert note in " ".join(result.stderr.split())  # the file's line (wrapped or not)
    # the clock is the run's own: three hours later, only the one in 2087 is ahead of it
    monkeypatch.setattr(ingest, "clock", lambda: CLOCK + dt.timedelta(hours=3))
    [f] = ingest_paths(store.connect(), [str(path)]).files
    assert (f.ingested, f.dated_ahead) == (4, 1)
    assert f.latest_ahead == dt.datetime(2087, 3, 4, 12, 30, tzinfo=UTC)


def test_calls_stored_before_are_not_noted_again(jsonl, monkeypatch):
    """The note is of the calls an ingest stored: a file read again adds none."""
    from llmcost import ingest

    monkeypatch.setattr(ingest, "clock", lambda: CLOCK)
    path = jsonl([_call(0, timestamp="2026-12-01T00:00:00Z")])
    con = store.connect()
    assert ingest_paths(con, [str(path)]).files[0].dated_ahead == 1
    path.write_text(path.read_text() + json.dumps(_call(1, timestamp=CLOCK.isoformat())) + "\n")
    [f] = ingest_paths(con, [str(path)]).files
    assert (f.mode, f.ingested, f.dated_ahead) == ("appended", 1, 0)


def test_analyze_counts_a_call_at_epoch_0_as_one_without_a_timestamp(jsonl, cli):
    """analyze dated a "timestamp": 0 call 1970-01-01: unpriced (no price then), a day 56
    years back in Cost by day, the first day of the log. It is now a call without a
    timestamp, as one with none: priced at today's prices and counted apart."""
    path = jsonl(
        [_call(0, timestamp="2026-03-02T10:00:00Z"), _call(1), _call(2, timestamp=0),
         _call(3, timestamp="1970-01-01T00:00:00Z")]
    )  # fmt: skip
    result = cli("analyze", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    s = report["summary"]
    assert (s["requests"], s["requests_without_timestamp"], s["unpriced_requests"]) == (4, 3, 0)
    assert (s["first_ts"][:10], s["last_ts"][:10]) == ("2026-03-02", "2026-03-02")
    # gpt-4o at $2.50 in and $10 out per million: 1,000 in + 100 out is $0.0035 a call
    assert s["total_cost_usd"] == pytest.approx(4 * 0.0035)
    assert [d["day"] for d in report["by_day"]] == ["2026-03-02"]
    text = cli("analyze", path).stdout
    assert "3 calls had no timestamp: priced at today's prices" in text
    assert "1970" not in text


def _dated(text: str, iso: str, seconds: str, naive: str) -> str:
    """A writer's file (tests/test_properties_formats.py) with its call's time replaced:
    ISO (a Codex call is at _iso(1), after its session lines), epoch seconds, nanoseconds
    (OTel), and LiteLLM SpendLogs' naive time."""
    text = text.replace(_iso(0), iso).replace(_iso(1), iso)
    text = re.sub(rf"\b{T0}\b", seconds, text)
    text = text.replace(f'"{T0 * 10**9}"', f'"{seconds}{"0" * 9 if seconds != "0" else ""}"')
    return text.replace("2025-07-01 08:00:00.000000", naive)


def _ingest_dated(tmp_path, fmt: str, *when: str):
    """The reader's files of one call, dated ``when`` (``_dated``'s iso, seconds, naive),
    ingested into a fresh store: (connection, ingest result)."""
    paths = []
    for name, text, _ in WRITERS[fmt]([CALL], False):
        path = tmp_path / name
        path.write_text(_dated(text, *when))
        paths.append(path)
    con = store.connect()
    return con, ingest_paths(con, [str(p) for p in paths])


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_every_reader_reads_a_time_not_set_as_none(tmp_path, fmt):
    con, result = _ingest_dated(tmp_path, fmt, "1970-01-01T00:00:00Z", "0", "0001-01-01 00:00:00")
    assert con.execute("SELECT reason FROM rejects").fetchall() == []
    stamps = con.execute("SELECT ts FROM requests").fetchall()
    assert stamps and stamps == [(None,)] * len(stamps)
    assert sum(f.naive_timestamps for f in result.files) == 0


# the same instant as an ISO time with a zone, epoch seconds and a naive time, on each side of
# the years a call may be dated in
OUT_OF_RANGE = {
    "timestamp before 2000: ": ("1999-12-31T23:59:59Z", "946684799", "1999-12-31 23:59:59"),
    "timestamp after 2099: ": ("2100-01-01T00:00:00Z", "4102444800", "2100-01-01 00:00:00"),
}


@pytest.mark.parametrize("reason", sorted(OUT_OF_RANGE))
@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_every_reader_rejects_a_time_before_2000_or_after_2099(tmp_path, fmt, reason):
    con, _ = _ingest_dated(tmp_path, fmt, *OUT_OF_RANGE[reason])
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] == 0
    reasons = [r for (r,) in con.execute("SELECT reason FROM rejects").fetchall()]
    assert reasons and all(r.startswith(reason) for r in reasons), reasons


def test_a_usage_bucket_without_a_start_time_is_rejected(tmp_path):
    """A usage report's bucket is a span of time: one starting at 0 has no start, and is
    rejected as one without a start_time is (it was a bucket of 1970-01-01)."""
    [(name, text, _), _] = _usage_reports([CALL])
    page = json.loads(text)
    page["data"][0]["start_time"] = 0
    path = tmp_path / name
    path.write_text(json.dumps(page))
    con = store.connect()
    ingest_paths(con, [str(path)])
    assert con.execute("SELECT count(*) FROM usage_buckets").fetchone()[0] == 0
    assert con.execute("SELECT reason FROM rejects").fetchall() == [
        ("bucket start time not set: 0",)
    ]


# ISO 8601 allows a comma as the decimal sign, and 60 as the second of a leap second
ISO_FORMS = [
    ("2026-01-02T03:04:05,5Z", dt.datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)),
    ("2026-01-02T03:04:05,123456+01:00", dt.datetime(2026, 1, 2, 2, 4, 5, 123456, tzinfo=UTC)),
    ("2026-01-02 03:04:05,25", dt.datetime(2026, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)),
    # the last leap second so far, and one in a zone 2 hours ahead of UTC: the last
    # microsecond of the minute, in the day (and month, and year) it was logged in
    ("2016-12-31T23:59:60Z", dt.datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ("2016-12-31T23:59:60.5Z", dt.datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ("2016-12-31T23:59:60,5Z", dt.datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ("2015-07-01T01:59:60+02:00", dt.datetime(2015, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)),
]


def test_a_comma_decimal_sign_and_a_leap_second_are_read(jsonl):
    """Both are ISO 8601 and were rejected as 'timestamp not understood'. A second of 60 is
    read as 59.999999: the call stays in the day it was logged in, after the second before
    it (the next second, 00:00:00, is in the next month, or year). 61 is still no second."""
    path = jsonl(
        [_call(n, timestamp=t) for n, (t, _) in enumerate(ISO_FORMS)]
        + [_call(99, timestamp="2026-01-02T03:04:61Z")]
    )
    result, stamps, rejects = load(path)
    assert stamps == [want for _, want in ISO_FORMS]
    assert rejects == [(len(ISO_FORMS) + 1, "timestamp not understood: 2026-01-02T03:04:61Z")]
    assert result.naive_timestamps == 1  # "2026-01-02 03:04:05,25", read as UTC


@pytest.mark.parametrize(
    "fmt", ["bedrock", "claude-code", "codex", "helicone", "langfuse", "litellm"]
)
@pytest.mark.parametrize(
    "iso, naive, want",
    [
        (ISO_FORMS[0][0], "2026-01-02 03:04:05,5", ISO_FORMS[0][1]),
        (ISO_FORMS[3][0], "2016-12-31 23:59:60", ISO_FORMS[3][1]),
        # (test_the_basic_format_and_a_fraction_of_a_minute_or_hour_are_read)
        ("20260102T030405,5Z", "20260102T030405,5", ISO_FORMS[0][1]),
        (
            "2026-01-02T03:04,5Z",
            "2026-01-02 03:04,5",
            dt.datetime(2026, 1, 2, 3, 4, 30, tzinfo=UTC),
        ),
    ],
    ids=["comma", "leap", "basic", "minute-fraction"],
)
def test_every_reader_of_iso_times_reads_them(tmp_path, fmt, iso, naive, want):
    paths = []
    for name, text, _ in WRITERS[fmt]([CALL], False):
        dated = _dated(text, iso, str(T0), naive)
        if dated != text:  # (LiteLLM's payload log has epoch seconds: not this test's)
            path = tmp_path / name
            path.write_text(dated)
            paths.append(path)
    assert paths
    con = store.connect()
    ingest_paths(con, [str(p) for p in paths])
    assert con.execute("SELECT reason FROM rejects").fetchall() == []
    stamps = con.execute("SELECT ts FROM requests").fetchall()
    assert stamps and stamps == [(want,)] * len(stamps)


# ISO 8601's basic format, and a decimal fraction of the lowest-order part (the minute, the
# hour): 10:00,5 is half a minute past 10:00, not half a second
BASIC_AND_FRACTIONS = [
    ("20260102T030405Z", dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("20260102T030405.5+0200", dt.datetime(2026, 1, 2, 1, 4, 5, 500000, tzinfo=UTC)),
    ("20260102T030405,25-05", dt.datetime(2026, 1, 2, 8, 4, 5, 250000, tzinfo=UTC)),
    ("20260102T0304Z", dt.datetime(2026, 1, 2, 3, 4, tzinfo=UTC)),
    ("20161231T235960Z", dt.datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ("2026-01-02T03:04,5Z", dt.datetime(2026, 1, 2, 3, 4, 30, tzinfo=UTC)),
    ("2026-01-02T03:04.25+01:00", dt.datetime(2026, 1, 2, 2, 4, 15, tzinfo=UTC)),
    ("2026-01-02T03,75Z", dt.datetime(2026, 1, 2, 3, 45, tzinfo=UTC)),
    ("2026-01-02T03Z", dt.datetime(2026, 1, 2, 3, tzinfo=UTC)),
    ("20260102T03,5Z", dt.datetime(2026, 1, 2, 3, 30, tzinfo=UTC)),
    ("2026-01-02 03:04,5", dt.datetime(2026, 1, 2, 3, 4, 30, tzinfo=UTC)),  # no zone: UTC
]
# What is still not read, rejected with its line: the basic and extended formats mixed,
# a fraction followed by more than a zone, and a date without dashes (a number: epoch
# seconds, 1970) — none of them dated silently
NOT_READ = [
    ("2026-01-02T030405Z", "timestamp not understood: 2026-01-02T030405Z"),
    ("20260102T03:04:05Z", "timestamp not understood: 20260102T03:04:05Z"),
    ("20260102T030405+02:00", "timestamp not understood: 20260102T030405+02:00"),
    ("2026-01-02T03:04,5:30Z", "timestamp not understood: 2026-01-02T03:04,5:30Z"),
    ("2026-01-02T03:04,Z", "timestamp not understood: 2026-01-02T03:04,Z"),
    (
        "20260102",
        "timestamp before 2000: 20260102 (a number: epoch seconds; a date is written 2026-01-02)",
    ),
]


def test_the_basic_format_and_a_fraction_of_a_minute_or_hour_are_read(jsonl):
    """Both are ISO 8601 and were rejected as 'timestamp not understood' (a minute's
    fraction, 03:04,5, would have been misread as 03:04:00.5 had the comma been read as a
    second's decimal sign, as Python's fromisoformat does)."""
    forms = BASIC_AND_FRACTIONS + NOT_READ
    path = jsonl([_call(n, timestamp=t) for n, (t, _) in enumerate(forms)])
    result, stamps, rejects = load(path)
    assert stamps == [want for _, want in BASIC_AND_FRACTIONS]
    assert rejects == [(len(BASIC_AND_FRACTIONS) + n + 1, r) for n, (_, r) in enumerate(NOT_READ)]
    assert result.naive_timestamps == 1  # "2026-01-02 03:04,5"
