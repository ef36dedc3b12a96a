"""Attribution: --by on any dimension, period views across month and year ends, sessions.

Every expected number is worked out by hand from tests/data/attribution/calls.jsonl and its
round prices (tests/data/attribution/README.md has the table of the ten calls).
"""

from __future__ import annotations

import functools
import json
import re

import pytest

from llmcost.api import analyze
from tests.conftest import DATA, SAMPLES

HERE = DATA / "attribution"
CALLS = HERE / "calls.jsonl"
PRICES = HERE / "prices.yaml"
TOTAL = 3.64


@functools.cache
def _report(by=None, period=None, breakdown=False, top=10) -> str:
    report = analyze(
        [CALLS],
        pricing=[PRICES],
        by=by,
        period=period,
        breakdown=breakdown,
        top=top,
        attribution={},  # independent of any llmcost.yaml
    )
    return json.dumps(report.to_dict())


def report(**kwargs) -> dict:
    return json.loads(_report(**kwargs))


def grouped(by: str, **kwargs) -> list[tuple]:
    rows = report(by=by, **kwargs)["attribution"]["rows"]
    names = by.split(",")
    return [
        (*(r[n] for n in names), r["requests"], r["unpriced_requests"], r["cost_usd"]) for r in rows
    ]


# ------------------------------------------------------------------------------ --by


@pytest.mark.parametrize(
    "by, expected",
    [
        # tag key straight from the metadata; c8 has no team
        (
            "tag:team",
            [("search", 5, 1, 1.68), ("support", 4, 0, 1.56), (None, 1, 0, 0.40)],
        ),
        # the built-in team dimension reads the same tag
        ("team", [("search", 5, 1, 1.68), ("support", 4, 0, 1.56), (None, 1, 0, 0.40)]),
        ("user", [("u3", 3, 1, 1.40), ("u2", 3, 0, 1.06), ("u1", 3, 0, 0.68), (None, 1, 0, 0.50)]),
        # an all-unpriced group has no cost (None), never $0
        (
            "model",
            [("acme-small", 6, 0, 2.36), ("acme-large", 3, 0, 1.28), ("mystery-model", 1, 1, None)],
        ),
        ("api_key", [("key-b", 4, 0, 1.56), (None, 3, 1, 1.40), ("key-a", 3, 0, 0.68)]),
        ("project", [(None, 5, 1, 1.96), ("p2", 2, 0, 1.00), ("p1", 3, 0, 0.68)]),
        ("feature", [("chat", 4, 0, 1.56), (None, 3, 1, 1.40), ("search", 3, 0, 0.68)]),
        ("provider", [("acme", 10, 1, 3.64)]),
    ],
)
def test_by_one_dimension(by, expected):
    assert grouped(by) == expected


def test_by_a_combination_of_dimensions():
    assert grouped("user,model") == [
        ("u3", "acme-small", 2, 0, 1.40),
        ("u2", "acme-large", 1, 0, 0.80),
        (None, "acme-small", 1, 0, 0.50),
        ("u1", "acme-large", 2, 0, pytest.approx(0.48)),
        ("u2", "acme-small", 2, 0, pytest.approx(0.26)),
        ("u1", "acme-small", 1, 0, 0.20),
        ("u3", "mystery-model", 1, 1, None),
    ]


def test_by_tag_and_builtin_together_and_tokens():
    first, second, *_ = report(by="tag:team,session")["attribution"]["rows"]
    assert (first["tag:team"], first["session"], first["cost_usd"]) == ("support", "s2", 1.06)
    # search × s4 is c9 only (c8 has no team): 0 in, 500,000 out, $1.00
    assert (second["tag:team"], second["session"]) == ("search", "s4")
    assert (second["input_tokens"], second["output_tokens"], second["cost_usd"]) == (0, 500000, 1.0)
    support = [r for r in report(by="team")["attribution"]["rows"] if r["team"] == "support"][0]
    assert support["cache_read_tokens"] == 80000  # c10
    assert support["input_tokens"] == 200000 + 20000 + 300000 + 100000


@pytest.mark.parametrize("by", ["team", "user,model", "tag:team,session", "api_key", "tier"])
def test_rows_add_up_to_the_summary(by):
    r = report(by=by)
    rows = r["attribution"]["rows"]
    assert sum(x["requests"] for x in rows) == r["summary"]["requests"] == 10
    assert sum(x["unpriced_requests"] for x in rows) == r["summary"]["unpriced_requests"] == 1
    assert sum(x["cost_usd"] or 0 for x in rows) == pytest.approx(TOTAL, abs=1e-9)
    assert r["attribution"]["totals"]["cost_usd"] == r["summary"]["total_cost_usd"] == TOTAL
    assert sum(x["share"] or 0 for x in rows) == pytest.approx(1.0)


def test_views_not_asked_for_are_left_out():
    r = report()
    assert not {"attribution", "periods", "sessions"} & set(r)


# ------------------------------------------------------------------------------ llmcost.yaml


CONFIG = """\
attribution:
  user: metadata.customer_id      # only where the log has no user id
  cost_center: [metadata.cc, tags.team]
"""


def test_config_mapping_fills_user_and_defines_a_dimension(tmp_path):
    (tmp_path / "llmcost.yaml").write_text(CONFIG)  # the tests run in tmp_path
    r = analyze([CALLS], pricing=[PRICES], by="user")
    users = {x["user"]: x["cost_usd"] for x in r.attribution["rows"]}
    assert users == {"u3": 1.40, "u2": 1.06, "u1": 0.68, "cust-9": 0.50}
    # the mapping is applied in the `calls` view: every analysis sees the same users
    assert r.summary["users"] == 4
    # a mapped user never replaces the one the log gave (c1 has user u1 and no customer_id)
    r = analyze([CALLS], pricing=[PRICES], by="cost_center")
    centers = [(x["cost_center"], x["requests"], x["cost_usd"]) for x in r.attribution["rows"]]
    # c5 has cc = cc-7; the others fall back to their team; c8 has neither
    assert centers == [
        ("search", 5, 1.68),
        ("support", 3, pytest.approx(1.06)),
        ("cc-7", 1, 0.50),
        (None, 1, 0.40),
    ]


def test_api_mapping_overrides_the_config(tmp_path):
    (tmp_path / "llmcost.yaml").write_text(CONFIG)
    r = analyze([CALLS], pricing=[PRICES], by="user", attribution={})
    assert None in {x["user"] for x in r.attribution["rows"]}
    r = analyze([CALLS], pricing=[PRICES], by="squad", attribution={"squad": "metadata.team"})
    assert r.attribution["rows"][0]["squad"] == "search"


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("attribution:\n  model: metadata.m\n", 2, "built-in dimension"),
        ("attribution:\n  user: metadata.u\n  Bad-Name: metadata.x\n", 3, "not a usable"),
        ("attribution:\n  team: ''\n", 2, "must be a metadata path"),
        ("attribution:\n  team: [metadata.a, 3]\n", 2, "must be a metadata path"),
        ("attribution:\n  team: 'metadata.a\"b'\n", 2, "unusable key"),
        ("attribution: [user]\n", None, "must map a dimension name"),
    ],
)
def test_bad_config_names_file_and_line(cli, tmp_path, text, line, message):
    (tmp_path / "llmcost.yaml").write_text(text)
    result = cli("analyze", CALLS, "--pricing", PRICES, "--by", "team")
    assert result.exit_code == 2
    err = result.stderr.replace("\n", "")
    assert f"llmcost.yaml:{line}:" in err if line else "llmcost.yaml:" in err
    assert message in err


# ------------------------------------------------------------------------------ periods


def periods(period: str, **kwargs) -> list[tuple]:
    p = report(period=period, **kwargs)["periods"]
    return [(x["period"], x["start"], x["requests"], x["cost_usd"]) for x in p["rows"]]


def test_daily_across_the_year_end_in_utc():
    assert periods("daily") == [
        ("2025-12-28", "2025-12-28", 1, 0.20),
        # c3 was logged as 2026-01-01 01:45+02:00: 2025-12-31 23:45 UTC
        ("2025-12-31", "2025-12-31", 2, pytest.approx(0.60)),
        ("2026-01-01", "2026-01-01", 1, 0.80),
        ("2026-01-02", "2026-01-02", 1, 0.06),
        ("2026-01-04", "2026-01-04", 1, 0.50),
        ("2026-01-05", "2026-01-05", 2, 0.08),  # c7 is unpriced: counted, not costed
        ("2026-01-31", "2026-01-31", 1, 0.40),
        ("2026-02-01", "2026-02-01", 1, 1.00),
    ]


def test_weekly_iso_weeks_span_the_year_end():
    # ISO weeks start on Monday; 2026-W01 runs from Monday 2025-12-29 to Sunday 2026-01-04
    assert periods("weekly") == [
        ("2025-W52", "2025-12-22", 1, 0.20),
        ("2026-W01", "2025-12-29", 5, pytest.approx(1.96)),
        ("2026-W02", "2026-01-05", 2, 0.08),
        # Saturday 2026-01-31 and Sunday 2026-02-01 are one week across the month end
        ("2026-W05", "2026-01-26", 2, 1.40),
    ]
    p = report(period="weekly")["periods"]
    assert [x["end"] for x in p["rows"]] == ["2025-12-29", "2026-01-05", "2026-01-12", "2026-02-02"]
    assert p["timezone"] == "UTC"


def test_monthly_with_totals():
    assert periods("monthly") == [
        ("2025-12", "2025-12-01", 3, pytest.approx(0.80)),
        ("2026-01", "2026-01-01", 6, pytest.approx(1.84)),
        ("2026-02", "2026-02-01", 1, 1.00),
    ]
    p = report(period="monthly")["periods"]
    assert p["totals"]["requests"] == 10
    assert p["totals"]["unpriced_requests"] == 1
    assert p["totals"]["cost_usd"] == TOTAL
    assert p["totals"]["input_tokens"] == sum(x["input_tokens"] for x in p["rows"]) == 1_136_000
    assert p["requests_without_timestamp"] == 0


def test_breakdown_per_model_within_each_period():
    rows = report(period="weekly", breakdown=True)["periods"]["rows"]
    w01 = rows[1]
    assert w01["period"] == "2026-W01"
    assert [(m["model"], m["requests"], m["cost_usd"]) for m in w01["models"]] == [
        ("acme-large", 2, pytest.approx(1.20)),  # c2 + c4
        ("acme-small", 3, pytest.approx(0.76)),  # c3 + c10 + c5
    ]
    w02 = rows[2]
    assert [(m["model"], m["cost_usd"]) for m in w02["models"]] == [
        ("acme-large", 0.08),
        ("mystery-model", None),
    ]
    for row in rows:
        assert sum(m["requests"] for m in row["models"]) == row["requests"]
    assert "models" not in report(period="weekly")["periods"]["rows"][0]


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_period_daily_shows_the_days_once(jsonl, cli, fmt):
    """analyze --period daily printed two sections titled 'Cost by day (UTC)': by_day's and
    the period table, the same days in the same zone. The days are shown once, in the period
    table (it has their tokens and a total); the JSON keeps both by_day and periods."""
    log = jsonl(
        [{"timestamp": f"2026-01-0{d}T10:00:00Z", "model": "acme-small", "provider": "acme",
          "usage": {"input_tokens": 1_000_000, "output_tokens": 0}} for d in (1, 2)]
    )  # fmt: skip
    out = cli("analyze", log, "--pricing", PRICES, "--period", "daily", "-f", fmt)
    assert out.exit_code == 0, out.stderr
    assert out.stdout.count("Cost by day (UTC)") == 1, out.stdout
    days = out.stdout.split("Cost by day (UTC)")[1]
    assert "Input tok" in days and "Total" in days  # the period table
    report = json.loads(cli("analyze", log, "--pricing", PRICES, "--period", "daily",
                            "-f", "json").stdout)  # fmt: skip
    assert [d["day"] for d in report["by_day"]] == ["2026-01-01", "2026-01-02"]
    assert [p["period"] for p in report["periods"]["rows"]] == ["2026-01-01", "2026-01-02"]
    weekly = cli("analyze", log, "--pricing", PRICES, "--period", "weekly", "-f", fmt).stdout
    assert weekly.count("Cost by day (UTC)") == 1 and "Cost by week (UTC)" in weekly


def test_breakdown_names_the_provider_of_a_model_served_by_two(jsonl, cli):
    log = jsonl(
        [
            {
                "timestamp": "2026-01-01T10:00:00Z",
                "model": "acme-small",
                "provider": provider,
                "usage": {"input_tokens": 1000, "output_tokens": 0},
            }
            for provider in ("acme", "acme-eu")
        ]
    )
    result = cli(
        "analyze", log, "--pricing", PRICES, "--period", "daily", "--breakdown", "-f", "markdown"
    )
    assert result.exit_code == 0, result.stderr
    assert "| ↳ acme-small (acme) | 1 |" in result.stdout
    assert "| ↳ acme-small (acme-eu) | 1 |" in result.stdout


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_breakdown_lists_the_top_models_of_each_period_and_sums_the_rest(cli, fmt):
    """--period daily --breakdown printed every model under every day: a 180-day log of 25
    models wrote 4,638 lines. Each period lists its --top costliest models and sums the
    others on one row; the JSON keeps every model."""
    args = ("analyze", CALLS, "--pricing", PRICES, "--period", "weekly", "--breakdown")
    out = cli(*args, "--top", "1", "-f", fmt)
    assert out.exit_code == 0, out.stderr
    text = " ".join(out.stdout.split())
    if fmt == "html":
        text = re.sub(r"\s*<[^>]+>\s*", " | ", text)
    cells = r"\W+".join
    # 2026-W01: acme-large $1.20 listed; acme-small (c3 + c10 + c5) summed: 3 calls,
    # 600,000 / 100,000 tokens, 80,000 cache reads, $0.76
    assert re.search(cells(["acme-large", "2", "30,000", "30,000", "0", r"\$1\.20"]), text)
    more = [r"\(1 more\)", "3", "600,000", "100,000", "80,000", r"\$0\.76"]
    assert re.search(cells(more), text)
    # 2026-W02: acme-large $0.08 listed; mystery-model (c7) has no price: unpriced, never $0
    assert re.search(cells([r"\(1 more\)", "1", "1,000", "1,000", "0", "unpriced"]), text)
    assert text.count("(1 more)") == 2  # 2025-W52 and 2026-W05 have one model each
    assert (
        "Models: the 1 costliest of each week are listed; on 2 weeks the others are summed on "
        "one '(N more)' row (--top lists more; the JSON has every model)."
    ) in text.replace("&#x27;", "'")
    # with --top above the models of every period, nothing is said to be left out
    every = cli(*args, "-f", fmt).stdout
    assert "(1 more)" not in every and "Models: the" not in every
    doc = json.loads(cli(*args, "--top", "1", "-f", "json").stdout)
    assert [len(x["models"]) for x in doc["periods"]["rows"]] == [1, 2, 2, 1]
    assert doc["periods"]["top"] == 1


def test_a_group_of_calls_without_token_counts_reads_no_tokens_not_unpriced(jsonl, cli):
    log = jsonl(
        [
            {"timestamp": "2026-01-01T10:00:00Z", "model": "acme-small", "provider": "acme",
             "user_id": "x"},  # a priced model, but no token counts and no text to count
            {"timestamp": "2026-01-01T10:00:00Z", "model": "acme-small", "provider": "acme",
             "user_id": "y", "usage": {"input_tokens": 1_000_000, "output_tokens": 0}},
        ]
    )  # fmt: skip
    r = analyze([log], pricing=[PRICES], by="user", period="daily", attribution={})
    rows = {x["user"]: x for x in r.attribution["rows"]}
    assert (rows["x"]["cost_usd"], rows["x"]["unpriced_requests"]) == (None, 0)
    assert rows["x"]["unknown_token_requests"] == 1
    assert r.attribution["totals"]["unknown_token_requests"] == 1
    assert r.periods["totals"]["unknown_token_requests"] == 1
    md = cli(
        "analyze", log, "--pricing", PRICES, "--by", "user", "--period", "daily", "-f", "markdown"
    )
    assert "| x | 1 | 0 | 0 | no tokens | — |" in md.stdout
    note = "1 call without token counts (no text to count, or failed without usage)"
    assert md.stdout.count(note) == 2


def test_calls_without_a_timestamp_are_counted_apart(jsonl):
    log = jsonl(
        [
            {
                "model": "acme-small",
                "provider": "acme",
                "timestamp": "2026-01-01T10:00:00Z",
                "usage": {"input_tokens": 1000000, "output_tokens": 0},
            },
            {
                "model": "acme-small",
                "provider": "acme",
                "usage": {"input_tokens": 2000000, "output_tokens": 0},
            },
        ]
    )
    r = analyze([log], pricing=[PRICES], period="daily", attribution={})
    p = r.periods
    assert [(x["period"], x["cost_usd"]) for x in p["rows"]] == [("2026-01-01", 1.0)]
    assert p["totals"]["requests"] == 1 and p["totals"]["cost_usd"] == 1.0
    assert p["requests_without_timestamp"] == 1
    assert r.total_cost_usd == 3.0  # the undated call is still in the report's total


# ------------------------------------------------------------------------------ sessions


def test_sessions_cost_longest_and_most_expensive():
    s = report(by="session")["sessions"]
    assert (s["sessions"], s["requests"], s["requests_without_session"]) == (4, 8, 2)
    assert s["cost_usd"] == pytest.approx(3.56)
    assert s["avg_cost_usd"] == pytest.approx(0.89)
    assert s["median_cost_usd"] == pytest.approx(0.83)  # (0.60 + 1.06) / 2
    assert [(x["session_id"], x["cost_usd"]) for x in s["most_expensive"]] == [
        ("s4", 1.40),
        ("s2", pytest.approx(1.06)),
        ("s1", pytest.approx(0.60)),
        ("s3", 0.50),
    ]
    assert [(x["session_id"], x["requests"]) for x in s["most_calls"]][:2] == [("s2", 3), ("s4", 2)]
    # s1: 2025-12-28 10:00 → 2025-12-31 23:30 = 3 days 13.5 hours
    assert [(x["session_id"], x["duration_s"]) for x in s["longest"]] == [
        ("s1", 3 * 86400 + 13.5 * 3600),
        ("s2", 34.25 * 3600),
        ("s4", 1.0),
        ("s3", 0.0),
    ]
    s2 = s["most_calls"][0]
    assert (s2["user_id"], s2["feature"], s2["models"]) == (
        "u2",
        "chat",
        ["acme-large", "acme-small"],
    )
    assert s2["first_ts"] == "2025-12-31T23:45:00+00:00"


def test_sessions_of_unpriced_calls_are_counted_not_costed(jsonl, cli):
    def call(session, model, tokens):
        return {
            "model": model,
            "provider": "acme",
            "session_id": session,
            "timestamp": "2026-01-01T10:00:00Z",
            "usage": {"input_tokens": tokens, "output_tokens": 0},
        }

    log = jsonl(
        [
            call("a", "acme-small", 1_000_000),  # $1.00
            call("a", "mystery-model", 1000),
            call("b", "mystery-model", 1000),
        ]
    )
    s = analyze([log], pricing=[PRICES], by="session", attribution={}).sessions
    assert (s["sessions"], s["requests"], s["unpriced_requests"], s["unpriced_sessions"]) == (
        2,
        3,
        2,
        1,
    )
    assert s["avg_cost_usd"] == 1.0  # over the one session with a price
    assert [
        (x["session_id"], x["cost_usd"], x["unpriced_requests"]) for x in s["most_expensive"]
    ] == [
        ("a", 1.0, 1),
        ("b", None, 1),
    ]
    md = cli("analyze", log, "--pricing", PRICES, "--by", "session", "--format", "markdown")
    assert (
        "2 calls of unpriced models counted in Calls, not in Cost; 1 session of such calls "
        "only, left out of the average and median." in md.stdout
    )


def test_a_group_with_some_unpriced_calls_says_so_beside_its_cost(jsonl, cli):
    # u3 is c7 (mystery-model, no price), c8 and c9 ($1.40): its row read '$1.40' as if that
    # were all three calls' cost, where Cost by day reads '$0.08 + 1 unpriced' for c7's day
    md = cli("analyze", CALLS, "--pricing", PRICES, "--by", "user", "--format", "markdown")
    assert md.exit_code == 0, md.stderr
    assert "| u3 | 3 | 401,000 | 501,000 | $1.40 + 1 unpriced | 38.5% |" in md.stdout
    assert "| u2 | 3 | 320,000 | 20,000 | $1.06 | 29.1% |" in md.stdout
    # January (c4, c5, c6, c8, c10: $1.84, and c7)
    month = cli(
        "analyze", CALLS, "--pricing", PRICES, "--period", "monthly", "--format", "markdown"
    )
    assert "| 2026-01 | 6 | 826,000 | 122,000 | 80,000 | $1.84 + 1 unpriced |" in month.stdout
    # a session of a priced and an unpriced call
    log = jsonl(
        [
            {
                "model": model,
                "provider": "acme",
                "session_id": "a",
                "timestamp": "2026-01-01T10:00:00Z",
                "usage": {"input_tokens": tokens, "output_tokens": 0},
            }
            for model, tokens in (("acme-small", 1_000_000), ("mystery-model", 1000))
        ]
    )
    sessions = cli("analyze", log, "--pricing", PRICES, "--by", "session", "--format", "markdown")
    assert (
        "| a |  |  | 2 | 0s | $1.00 + 1 unpriced | acme-small, mystery-model |" in sessions.stdout
    )


def test_session_lists_follow_top():
    s = report(by="session", top=2)["sessions"]
    assert [x["session_id"] for x in s["most_expensive"]] == ["s4", "s2"]
    assert s["sessions"] == 4  # the statistics still cover every session


# ------------------------------------------------------------------------------ CLI


def test_cli_json_and_text_views(cli):
    result = cli(
        "analyze",
        CALLS,
        "--pricing",
        PRICES,
        "--by",
        "tag:team",
        "--by",
        "model",
        "--period",
        "weekly",
        "--breakdown",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    r = json.loads(result.stdout)
    assert r["attribution"]["by"] == ["tag:team", "model"]
    assert r["periods"]["period"] == "weekly" and r["periods"]["breakdown"] == "model"
    table = cli(
        "analyze",
        CALLS,
        "--pricing",
        PRICES,
        "--by",
        "team,user",
        "--period",
        "monthly",
        "--breakdown",
        "--top",
        "3",
    )
    assert table.exit_code == 0, table.stderr
    out = table.stdout
    assert "Cost by team × user" in out and "Cost by month (UTC)" in out
    assert "(2 more)" in out  # 5 groups, 3 shown, the rest summed on one row
    assert "↳ mystery-model" in out and "unpriced" in out
    assert "$3.64" in out
    md = cli("analyze", CALLS, "--pricing", PRICES, "--by", "session", "--format", "markdown")
    assert "## Sessions (most expensive)" in md.stdout
    assert "## Longest sessions (duration)" in md.stdout
    assert "| s1 | u1 | search | 2 | 3d 13h | $0.60 |" in md.stdout
    plain = cli("analyze", CALLS, "--pricing", PRICES, "--format", "markdown")
    assert "Cost by team" not in plain.stdout and "Sessions" not in plain.stdout


def test_period_table_says_unpriced_calls_are_not_in_its_cost(cli):
    # January holds c7 (mystery-model): its cost is the priced calls' only, and says so
    result = cli(
        "analyze", CALLS, "--pricing", PRICES, "--period", "monthly", "--format", "markdown"
    )
    assert result.exit_code == 0, result.stderr
    section = result.stdout.split("## Cost by month (UTC)")[1].split("\n## ")[0]
    assert "| 2026-01 | 6 |" in section
    assert "1 call of unpriced models counted in Calls, not in Cost." in section


def test_rows_summed_beyond_top_of_unpriced_calls_only_read_unpriced(cli):
    # --top 2 of three models: the one left is mystery-model, which has no price
    result = cli(
        "analyze", CALLS, "--pricing", PRICES, "--by", "model", "--top", "2", "--format", "markdown"
    )
    assert result.exit_code == 0, result.stderr
    assert "| (1 more) | 1 | 1,000 | 1,000 | unpriced | — |" in result.stdout
    assert "| Total | 10 |  |  | $3.64 |  |" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--by", "nope"], "unknown --by dimension 'nope'"),
        (["--by", "day"], "--period daily"),
        (["--by", 'tag:a"b'], "not a usable tag key"),
        (["--breakdown"], "needs --period"),
        (["--period", "yearly"], "yearly"),
    ],
)
def test_cli_bad_options_exit_2(cli, args, message):
    result = cli("analyze", CALLS, "--pricing", PRICES, *args)
    assert result.exit_code == 2
    assert message in result.stderr.replace("\n", " ")
    assert result.stdout == ""


def test_by_column_titles_read_as_words(cli):
    """'--by tag:env,api_key,priced_as' titled its columns 'Tag:env', 'Api_key', 'Priced_as'."""
    md = cli(
        "analyze", SAMPLES / "demo.jsonl", "--by", "tag:env,api_key,priced_as", "-f", "markdown"
    )
    assert "| env (tag) | API key | Priced as | Calls |" in md.stdout
