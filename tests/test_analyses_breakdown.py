"""Where the money goes, by day: calls without a price are counted, never $0."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from tests.test_analyses_common import PRICES, M, call, report

DAY = 86400
PRICING_ARGS = [x for p in PRICES for x in ("--pricing", str(p))]


def test_a_day_of_unpriced_calls_is_not_a_zero_day(jsonl, cli):
    # Hand-worked: day 1, a big-model call (1000 in x $10/M + 100 out x $20/M = $0.012) and
    # an unpriced one; day 2, two calls of a model no table prices. Before, day 2 read $0.00.
    records = [
        call(0, text="a", inp=1000, out=100),
        call(10, model="mystery-model", text="b"),
        call(DAY, model="mystery-model", text="c"),
        call(DAY + 10, model="mystery-model", text="d"),
    ]
    days = report(jsonl, records)["by_day"]
    assert [(d["requests"], d["unpriced_requests"]) for d in days] == [(2, 1), (2, 2)]
    assert days[0]["cost_usd"] == pytest.approx(1000 * 10 * M + 100 * 20 * M)
    # no priced call: no cost (null, as by_model's), not the $0 of an empty sum
    assert days[1]["cost_usd"] is None
    lines = cli("analyze", str(jsonl(records)), *PRICING_ARGS).stdout.splitlines()
    assert any(line.split() == ["2026-03-02", "2", "$0.01", "+", "1", "unpriced"] for line in lines)
    assert any(line.split() == ["2026-03-03", "2", "unpriced"] for line in lines)


def test_a_model_row_says_which_of_its_calls_have_no_cost(jsonl, cli):
    # gpt-5 is priced from 2025-08-07: its 2024 call has no price on its date, the 2026 one
    # costs 1,000,000 x $1.25/M = $1.25. Before, its row read '$1.25' (as if both calls cost
    # that) and the failed gpt-4o call without usage, of a priced model, read 'unpriced'; and
    # check's per-model rule said it, not gpt-5, had 'a call without a price'.
    records = [
        {"timestamp": ts, "model": "gpt-5", "usage": {"prompt_tokens": 1_000_000}}
        for ts in ("2024-01-01T10:00:00Z", "2026-01-01T10:00:00Z")
    ] + [{"timestamp": "2026-01-01T11:00:00Z", "model": "gpt-4o", "status": "error"}]
    log = str(jsonl(records))
    result = cli("analyze", log, "--format", "json")
    assert result.exit_code == 0, result.stderr
    models = {m["model"]: m for m in json.loads(result.stdout)["by_model"]}
    assert (models["gpt-5"]["cost_usd"], models["gpt-5"]["unpriced_requests"]) == (1.25, 1)
    assert models["gpt-5"]["unknown_token_requests"] == 0
    assert (models["gpt-4o"]["unpriced_requests"], models["gpt-4o"]["unknown_token_requests"]) == (
        0,
        1,
    )
    md = cli("analyze", log, "--format", "markdown").stdout
    assert "| gpt-5 | openai | 2 | 2,000,000 | 0 | $1.25 + 1 unpriced | 100.0% |" in md
    assert "| gpt-4o | openai | 1 | 0 | 0 | no tokens | — |" in md
    check = cli(
        "check",
        log,
        "--max-model-cost",
        "gpt-5=2",
        "--max-model-cost",
        "gpt-4o=1",
        "--format",
        "markdown",
    )
    assert check.exit_code == 0, check.stderr
    rules = check.stdout
    assert (
        "| Model cost | gpt-5 | $2.00 | $1.25 | ✅ ok | 1 call without a price, not in it |"
        in rules
    )
    # gpt-4o's one call has no token counts: its cost is unknown, not a pass at $0.00
    assert (
        "| Model cost | gpt-4o | $1.00 | — | ❔ unknown | no cost known: 1 call without token"
        " counts |" in rules
    )
    assert "| gpt-5 | openai | 2 | $1.25 + 1 unpriced | 100.0% |" in rules


def test_a_model_row_leaves_out_its_failed_calls_without_usage_as_the_total_does(jsonl, cli):
    """A rate-limited call without usage is not billed: the summary's total leaves it out
    (summary.error_unknown_token_requests), but the Cost by model row of its model counted it
    among 'without tokens' ('$0.0002 + 1 without tokens' under 'Total cost: $0.0002 over 3
    calls'), as did --by model and --period rows. They count it as the total does now (as
    check's Top models, 9d22980); a model of such calls only keeps them: its row has no
    cost, and says why, 'no tokens'."""
    prompt = [{"role": "user", "content": "hello"}]
    ok = {"model": "gpt-4o-mini", "timestamp": "2026-11-02T10:00:00Z", "messages": prompt,
          "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}  # fmt: skip
    limited = {k: v for k, v in ok.items() if k != "usage"} | {"status": 429}
    log = jsonl([ok, limited, {**limited, "model": "gpt-4o"}])
    by = ("--by", "model", "--period", "daily", "--breakdown")
    doc = json.loads(cli("analyze", log, *by, "-f", "json").stdout)
    # 1,000 x $0.15/M + 100 x $0.60/M = $0.00021; the two 429s: no usage, not billed
    assert doc["summary"]["total_cost_usd"] == pytest.approx(0.00021)
    assert doc["summary"]["error_unknown_token_requests"] == 2
    rows = {
        "by_model": doc["by_model"],
        "--by": doc["attribution"]["rows"],
        "--period": doc["periods"]["rows"][0]["models"],
    }
    for where, items in rows.items():
        models = {m["model"]: m for m in items}
        mini, big = models["gpt-4o-mini"], models["gpt-4o"]
        assert mini["cost_usd"] == pytest.approx(0.00021), where
        got = [
            (m["unknown_token_requests"], m["error_unknown_token_requests"]) for m in (mini, big)
        ]
        assert got == [(0, 1), (1, 1)], where
    assert doc["periods"]["rows"][0]["unknown_token_requests"] == 0  # the day's row
    assert (doc["attribution"]["totals"]["unknown_token_requests"],
            doc["attribution"]["totals"]["error_unknown_token_requests"]) == (0, 2)  # fmt: skip
    md = cli("analyze", log, *by, "-f", "markdown").stdout
    assert "| gpt-4o-mini | openai | 2 | 1,000 | 100 | $0.0002 | 100.0% |" in md  # by model
    assert "| gpt-4o | openai | 1 | 0 | 0 | no tokens | — |" in md
    assert "| gpt-4o-mini | 2 | 1,000 | 100 | $0.0002 | 100.0% |" in md  # --by model
    assert "| ↳ gpt-4o-mini | 2 | 1,000 | 100 | 0 | $0.0002 |" in md  # --period
    assert "| 2026-11-02 | 3 | 1,000 | 100 | 0 | $0.0002 |" in md
    # what the tables' Cost leaves out, under each: said as not billed, not 'without tokens'
    note = "2 failed calls without usage (not billed: an error before any token was processed)"
    assert md.count(note) == 2
    assert "without token counts (no text to count" not in md
    text = cli("analyze", log, *by, env={"COLUMNS": "200"}).stdout
    assert ["gpt-4o-mini", "openai", "2", "1,000", "100", "$0.0002", "100.0%"] in [
        line.split() for line in text.splitlines()
    ]
    html = cli("analyze", log, "-f", "html").stdout
    row = html[html.index('<td class="text">gpt-4o-mini</td>') :].split("</tr>")[0]
    assert '<td class="r">$0.0002</td>' in row and "without tokens" not in row
    # a call without tokens that did not fail is still said beside the cost
    bare = {k: v for k, v in ok.items() if k != "usage"} | {"messages": None}
    doc = json.loads(cli("analyze", jsonl([ok, limited, bare]), "-f", "json").stdout)
    [mini] = doc["by_model"]
    assert (mini["unknown_token_requests"], mini["error_unknown_token_requests"]) == (1, 1)


def test_cost_by_day_leaves_out_failed_calls_without_usage_as_the_total_does(jsonl, cli):
    """Cost by day counted a rate-limited call without usage (not billed: the summary's
    error_unknown_token_requests) among its day's 'without tokens', where the total and Cost
    by model leave it out (15f5060): a day of a gpt-4o-mini call and a 429 of it read
    '$0.0002 + 1 without tokens' under 'Total cost: $0.0004 over ...'. A day of such calls
    only keeps them (it has no cost: 'no tokens'), and the row summing the days before the
    latest 31 counts them as one day of their calls would (attribution.merged_without_tokens).

    34 days with calls: 10-01 a call and a 429, 10-02 a 429, 10-03 .. 11-02 a call a day,
    11-02 also a 429 and a call with no usage and no text (not failed), 11-03 a 429. Each
    answered call: 1,000 x $0.15/M + 100 x $0.60/M = $0.00021."""
    prompt = [{"role": "user", "content": "hello"}]
    ok = {"model": "gpt-4o-mini", "messages": prompt,
          "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}  # fmt: skip
    limited = {"model": "gpt-4o-mini", "messages": prompt, "status": 429}
    bare = {"model": "gpt-4o-mini"}  # no usage and no text to count: tokens unknown

    def at(day: dt.date, record: dict, hour: int = 10) -> dict:
        return {**record, "timestamp": f"{day.isoformat()}T{hour:02d}:00:00Z"}

    first = dt.date(2026, 10, 1)
    records = [at(first, ok), at(first, limited, 11), at(first + dt.timedelta(1), limited)]
    records += [at(first + dt.timedelta(n), ok) for n in range(2, 33)]  # 10-03 .. 11-02
    records += [at(dt.date(2026, 11, 2), limited, 11), at(dt.date(2026, 11, 2), bare, 12)]
    records += [at(dt.date(2026, 11, 3), limited)]
    log = jsonl(records)
    doc = json.loads(cli("analyze", log, "-f", "json").stdout)
    s = doc["summary"]
    assert (s["unknown_token_requests"], s["error_unknown_token_requests"]) == (5, 4)
    days = {d["day"]: d for d in doc["by_day"]}
    shown = ("2026-10-01", "2026-10-02", "2026-10-03", "2026-11-02", "2026-11-03")
    assert [days[day]["unknown_token_requests"] for day in shown] == [
        0,  # 10-01: beside a cost, the 429 is not billed, no call 'without tokens'
        1,  # 10-02: all the day has, the reason it has no cost
        0,
        1,  # 11-02: the call without usage that did not fail
        1,
    ]
    assert [days[day]["error_unknown_token_requests"] for day in shown] == [1, 1, 0, 1, 1]
    assert days["2026-11-02"]["cost_usd"] == pytest.approx(0.00021)
    assert days["2026-10-02"]["cost_usd"] is None
    md = cli("analyze", log, "-f", "markdown").stdout
    section = md.split("Cost by day (UTC)")[1]
    # 10-01 .. 10-03: 4 calls, 2 x $0.00021; was '$0.0004 + 2 without tokens'
    assert "| (3 earlier days) | 4 | $0.0004 |" in section
    assert "| 2026-11-02 | 3 | $0.0002 + 1 without tokens |" in section  # was '+ 2'
    assert "| 2026-11-03 | 1 | no tokens |" in section
    text = cli("analyze", log, env={"COLUMNS": "120"}).stdout
    rows = [line.split() for line in text.split("Cost by day (UTC)")[1].splitlines()]
    assert ["(3", "earlier", "days)", "4", "$0.0004"] in rows
    assert ["2026-11-02", "3", "$0.0002", "+", "1", "without", "tokens"] in rows
    assert ["2026-11-03", "1", "no", "tokens"] in rows
    html = cli("analyze", log, "-f", "html").stdout
    cells = re.findall(r"<tr>(.*?)</tr>", html.split("Cost by day (UTC)")[1], re.S)
    flat = [re.sub(r"<[^>]+>", "|", c) for c in cells]
    assert any("(3 earlier days)||4||$0.0004|" in c for c in flat), flat[:3]
    assert any("2026-11-02||3||$0.0002 + 1 without tokens|" in c for c in flat)


# The kinds of call whose cost is known or not, for the test of the counts below: a priced
# call with usage (A: 1,000 x $0.15/M + 100 x $0.60/M), a priced call without usage or text
# that did not fail (B: tokens unknown), a rate-limited call without usage of the same model
# (C) and of a model of no other call (C2: not billed), and a call of a model no table
# prices (D).
_PROMPT = [{"role": "user", "content": "hello"}]
_USAGE = {"prompt_tokens": 1000, "completion_tokens": 100}
_KINDS = {
    "A": {"model": "gpt-4o-mini", "messages": _PROMPT, "usage": _USAGE},
    "B": {"model": "gpt-4o-mini"},
    "C": {"model": "gpt-4o-mini", "messages": _PROMPT, "status": 429},
    "C2": {"model": "gpt-4o", "messages": _PROMPT, "status": 429},
    "D": {"model": "acme-llm-7b", "messages": _PROMPT, "usage": _USAGE},
}


def _expected(kinds: list[str]) -> tuple[int, int, int]:
    """(unpriced, without tokens, failed without usage) of a group of calls, worked from
    their kinds: its calls without tokens are the B ones, and the failed ones without usage
    too when they are all the reason the group has no cost (no A, no D)."""
    failed = sum(k in ("C", "C2") for k in kinds)
    unpriced, bare = kinds.count("D"), kinds.count("B")
    kept = "A" not in kinds and not unpriced
    return unpriced, bare + (failed if kept else 0), failed


@pytest.mark.parametrize(
    "calls",
    [
        # every kind in one minute of one day
        [("2026-11-02T10:00", k) for k in ("A", "B", "C", "C2", "D")],
        # one kind a day, each its own hour
        [
            ("2026-11-02T10:00", "A"),
            ("2026-11-03T11:00", "B"),
            ("2026-11-04T12:00", "C"),
            ("2026-11-05T13:00", "C2"),
            ("2026-11-06T14:00", "D"),
        ],
        # mixed: a cost beside a 429; a 429 alone; the other model's 429 beside unpriced
        # calls; a call without tokens and a 429 beside a cost
        [
            ("2026-11-02T10:00", "A"),
            ("2026-11-02T10:00", "C"),
            ("2026-11-02T14:00", "C"),
            ("2026-11-03T10:00", "B"),
            ("2026-11-03T10:00", "D"),
            ("2026-11-04T09:00", "C2"),
            ("2026-11-04T09:00", "D"),
            ("2026-11-05T10:00", "A"),
            ("2026-11-05T10:00", "B"),
            ("2026-11-05T10:01", "C"),
            ("2026-11-05T10:01", "C"),
        ],
    ],  # fmt: skip
    ids=["one-minute", "a-kind-a-day", "mixed"],
)
def test_calls_without_a_cost_are_counted_alike_in_every_view(jsonl, cli, calls):
    """Every view counts its calls without a cost by the summary's rule: a priced call whose
    cost is unknown is 'without tokens' unless it failed without usage (not billed), but for
    a group whose calls have no cost and none is unpriced (the failed calls are why it has
    none); and the views' counts add up to the summary's. Checked against counts worked from
    the calls' kinds for Cost by model, Cost by day, the peak grid, the busiest minute, the
    costliest hour and the month to date."""
    # (an id each: two identical records are one call read twice)
    records = [
        {**_KINDS[k], "timestamp": f"{ts}:00Z", "id": f"r{i}"} for i, (ts, k) in enumerate(calls)
    ]
    doc = json.loads(cli("analyze", jsonl(records), "-f", "json").stdout)
    s = doc["summary"]
    failed_all = sum(k in ("C", "C2") for _, k in calls)
    assert s["unpriced_requests"] == calls_of(calls, "D")
    assert s["error_unknown_token_requests"] == failed_all
    # the summary's 'without tokens' (budgets.uncosted_calls): the B calls
    assert s["unknown_token_requests"] - failed_all == calls_of(calls, "B")

    def check(view: str, rows: list[dict], row_key, call_key) -> None:
        """The rows of a view against its calls grouped by ``call_key`` (``row_key``: the
        group a row is of)."""
        groups: dict = {}
        for ts, k in calls:
            groups.setdefault(call_key(ts, k), []).append(k)
        got = {row_key(r): _counts(r) for r in rows}
        assert got == {g: _expected(kinds) for g, kinds in groups.items()}, view
        # and the rows add up to the summary: its calls without tokens, and the failed ones
        # each row kept as the reason it has no cost
        kept = sum(r["error_unknown_token_requests"] for r in rows if r["cost_usd"] is None
                   and not r["unpriced_requests"])  # fmt: skip
        assert sum(r["unknown_token_requests"] for r in rows) - kept == calls_of(calls, "B"), view
        assert sum(r["error_unknown_token_requests"] for r in rows) == failed_all, view
        assert sum(r["unpriced_requests"] for r in rows) == calls_of(calls, "D"), view

    check("by_model", doc["by_model"], lambda r: r["model"], lambda ts, k: _KINDS[k]["model"])
    check("by_day", doc["by_day"], lambda r: r["day"], lambda ts, k: ts[:10])
    p = doc["peaks"]
    weekday = {f"2026-11-{d:02d}": (d - 2) % 7 for d in range(2, 9)}  # the 2nd is a Monday
    check(
        "grid",
        p["grid"],
        lambda r: (r["weekday"], r["hour"]),
        lambda ts, k: (weekday[ts[:10]], int(ts[11:13])),
    )
    # the busiest minute and the costliest hour: one row each, of the calls of that instant
    minute, hour = p["busiest_minute"], p["costliest_hour"]
    for view, row, at in (
        ("busiest_minute", minute, minute["minute"][:16]),  # (UTC: '2026-11-02T10:00')
        ("costliest_hour", hour, hour["hour"][:13]),
    ):
        kinds = [k for ts, k in calls if ts.startswith(at)]
        assert row["requests"] == len(kinds), view
        assert _counts(row) == _expected(kinds), view
    # the month to date (every call is of November)
    assert _counts(doc["anomalies"]["forecast"]) == _expected([k for _, k in calls])


def calls_of(calls: list[tuple[str, str]], kind: str) -> int:
    return sum(k == kind for _, k in calls)


def _counts(row: dict) -> tuple[int, int, int]:
    keys = ("unpriced_requests", "unknown_token_requests", "error_unknown_token_requests")
    return tuple(row[k] for k in keys)
