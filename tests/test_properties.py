"""Properties that must hold for any log, checked on logs hypothesis draws:

- the same call reported in any provider's usage style reads as the same canonical counts and
  costs the same (what includes cache, what includes reasoning);
- a report's parts add up to its total (by model, by day, by feature), and two adjacent
  windows add up to the window that holds both;
- a log read in cron-sized pieces (appended to, even cut inside a line) gives the same calls,
  cost and rejects as the whole log read once, and so does a log read in small chunks.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmcost import api
from llmcost.errors import NoRecordsError
from llmcost.pricing import PriceBook, parse_table
from tests.conftest import load_priced, write_jsonl

ACME = """\
provider: acme
version: 2026-11-01
source: https://acme.example/pricing
models:
  acme-large:
    prices:
      - from: 2026-01-01
        input: 3.0
        output: 15.0
        cache_read: 0.3
        cache_write: 3.75
  acme-small:
    prices:
      - from: 2026-01-01
        input: 0.5
        output: 1.5
        cache_read: 0.05
"""

COUNT = st.integers(0, 2_000_000)


def _usage(style: str, uncached: int, read: int, visible: int, reasoning: int) -> dict:
    """One call's usage as each provider (or gateway) writes it."""
    if style == "openai_chat":  # prompt_tokens holds the cached; completion the reasoning
        return {
            "prompt_tokens": uncached + read,
            "completion_tokens": visible + reasoning,
            "total_tokens": uncached + read + visible + reasoning,
            "prompt_tokens_details": {"cached_tokens": read},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        }
    if style == "openai_responses":  # input_tokens holds the cached (unlike Anthropic's)
        return {
            "input_tokens": uncached + read,
            "output_tokens": visible + reasoning,
            "total_tokens": uncached + read + visible + reasoning,
            "input_tokens_details": {"cached_tokens": read},
            "output_tokens_details": {"reasoning_tokens": reasoning},
        }
    if style == "anthropic":  # input_tokens is the uncached part; output holds thinking
        return {
            "input_tokens": uncached,
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": 0,
            "output_tokens": visible + reasoning,
        }
    if style == "gemini":  # candidates leave the thoughts out
        return {
            "promptTokenCount": uncached + read,
            "cachedContentTokenCount": read,
            "candidatesTokenCount": visible,
            "thoughtsTokenCount": reasoning,
            "totalTokenCount": uncached + read + visible + reasoning,
        }
    raise AssertionError(style)


STYLES = ("openai_chat", "openai_responses", "anthropic", "gemini")


def _strings(value):
    """The same usage with every count written as a string (seen in real logs)."""
    if isinstance(value, dict):
        return {k: _strings(v) for k, v in value.items()}
    return str(value) if isinstance(value, int) else value


def _book() -> PriceBook:
    table, _ = parse_table(ACME, "acme.yaml")
    return PriceBook([table])


CALL = st.tuples(COUNT, COUNT, COUNT, COUNT)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=st.lists(CALL, min_size=1, max_size=8), as_strings=st.booleans())
def test_every_usage_style_reads_as_the_same_call(tmp_path_factory, drawn, as_strings):
    """Each style's record of one call: the same canonical counts (all input, cache reads
    inside it; all output, reasoning inside it) and the same cost, to the last digit."""
    records = [
        {
            "timestamp": "2026-07-01T00:00:00Z",
            "request_id": f"{n}-{style}",
            "provider": "acme",
            "model": "acme-large",
            "usage": _strings(usage) if as_strings else usage,
        }
        for n, counts in enumerate(drawn)
        for style in STYLES
        for usage in [_usage(style, *counts)]
    ]
    path = write_jsonl(tmp_path_factory.mktemp("styles") / "styles.jsonl", records)
    from llmcost import costing, store
    from llmcost.ingest import ingest_paths

    con = store.connect()
    ingest_paths(con, [str(path)])
    costing.prepare(con, _book())
    rows = con.execute(
        """SELECT request_id, input_tokens, coalesce(cache_read_tokens, 0), output_tokens,
                  cost_usd FROM priced ORDER BY source_line"""
    ).fetchall()
    assert [r[0] for r in rows] == [r["request_id"] for r in records]
    for (uncached, read, visible, reasoning), group in zip(
        drawn, [rows[i : i + len(STYLES)] for i in range(0, len(rows), len(STYLES))]
    ):
        expected_cost = (
            uncached * Decimal(3) + read * Decimal("0.3") + (visible + reasoning) * Decimal(15)
        ) / Decimal(1_000_000)
        for request_id, input_tokens, cache_read, output_tokens, cost in group:
            assert (request_id, input_tokens, cache_read, output_tokens, cost) == (
                request_id,
                uncached + read,
                read,
                visible + reasoning,
                expected_cost,
            )


# ------------------------------------------------------------------ reports of drawn logs

MODELS = ("acme-large", "acme-small", "acme-unpriced")
FEATURES = ("chat", "search", "digest", None)
PROMPTS = ("Summarize the ticket.", "Classify this: refund", "Translate to French: hello")


@st.composite
def calls(draw, min_size: int = 1, max_size: int = 40) -> list[dict]:
    """A log of calls over ten days: models priced and not, features (some missing),
    repeated prompts, counts with cache reads and reasoning."""
    out = []
    for n in range(draw(st.integers(min_size, max_size))):
        uncached = draw(st.integers(0, 50_000))
        read = draw(st.integers(0, 20_000))
        record = {
            "timestamp": f"2026-07-{draw(st.integers(1, 10)):02d}T"
            f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}:00Z",
            "request_id": f"r{n}",
            "provider": "acme",
            "model": draw(st.sampled_from(MODELS)),
            "user_id": f"u{draw(st.integers(0, 3))}",
            "messages": [{"role": "user", "content": draw(st.sampled_from(PROMPTS))}],
            "response": "ok",
            "usage": _usage(
                draw(st.sampled_from(STYLES)),
                uncached,
                read,
                draw(st.integers(0, 5_000)),
                draw(st.integers(0, 5_000)),
            ),
        }
        feature = draw(st.sampled_from(FEATURES))
        if feature is not None:
            record["metadata"] = {"feature": feature}
        out.append(record)
    return out


def _pricing(tmp) -> str:
    path = tmp / "acme.yaml"
    path.write_text(ACME)
    return str(path)


def _sum(rows, key: str = "cost_usd") -> float:
    return sum(r[key] or 0 for r in rows)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=calls(), cut_day=st.integers(2, 10))
def test_a_reports_parts_add_up_to_its_total(tmp_path_factory, log, cut_day):
    tmp = tmp_path_factory.mktemp("parts")
    path = write_jsonl(tmp / "log.jsonl", log)
    pricing = _pricing(tmp)
    whole = api.analyze(path, pricing=pricing, by="feature")
    # no call with a cost (all unpriced): the total is unknown (None), never $0, and no
    # part has a cost either
    total = whole.summary["total_cost_usd"]
    if total is None:
        assert all(r["cost_usd"] is None for r in whole.by_model)
        total = 0.0
    assert whole.summary["requests"] == len(log)
    unpriced = sum(r["model"] == "acme-unpriced" for r in log)
    assert whole.summary["unpriced_requests"] == unpriced
    for part in (whole.by_model, whole.by_day, whole["attribution"]["rows"]):
        assert _sum(part) == pytest.approx(total, abs=1e-9)
        assert _sum(part, "requests") == len(log)
    # the unpriced are never $0: their rows carry no cost
    assert all(r["cost_usd"] is None for r in whole.by_model if r["model"] == "acme-unpriced")
    # no kind with an amount and kinds of calls without a cost: the sum is unknown (None)
    if whole["savings_total"]["usd"] is None:
        assert whole["savings"] == [] and whole["savings_total"]["unknown_kinds"]
    else:
        assert whole["savings_total"]["usd"] <= total + 1e-9
    for kind in whole["savings"]:
        assert 0 <= kind["usd"] <= kind["details"].get("usd_before_overlap", kind["usd"]) + 1e-9
    # two adjacent windows hold the whole
    cut = f"2026-07-{cut_day:02d}"
    before = _window(path, pricing, until=cut)
    after = _window(path, pricing, since=cut)
    assert before[0] + after[0] == len(log)
    assert before[1] + after[1] == pytest.approx(total, abs=1e-9)


def _window(path, pricing, **window) -> tuple[int, float]:
    """(calls, cost) of a window; a window without calls is an error (exit 3), here 0, and
    one whose calls have no cost (its total None) adds nothing to the whole's."""
    try:
        report = api.analyze(path, pricing=pricing, **window)
    except NoRecordsError:
        return 0, 0.0
    cost = report.summary["total_cost_usd"]
    if cost is None:
        assert report.summary["unpriced_requests"] == report.summary["requests"]
    return report.summary["requests"], cost or 0.0


# ------------------------------------------------------- the same log read in other pieces

BAD_LINES = ('{"model": "acme-large", "usage": {"prompt_tokens": "lots"}}', "{not json", "[1, 2]")


@st.composite
def lines(draw) -> list[str]:
    """A log's lines: drawn calls with bad lines among them (each to be rejected once)."""
    out = [json.dumps(r) for r in draw(calls(min_size=1, max_size=25))]
    for bad in draw(st.lists(st.sampled_from(BAD_LINES), max_size=3)):
        out.insert(draw(st.integers(0, len(out))), bad)
    return out


def _figures(report) -> tuple:
    rejected = report["rejected"]
    total = report.summary["total_cost_usd"]  # None: calls, none with a cost
    return (
        report.summary["requests"],
        None if total is None else round(total, 9),
        report.summary["unpriced_requests"],
        rejected.get("count", rejected.get("total")),
    )


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=lines(), cut=st.floats(0.05, 0.95))
def test_a_log_read_as_it_grows_equals_the_log_read_once(tmp_path_factory, log, cut):
    """cron: the log is ingested, grows (the writer may be inside a line), is ingested
    again: the calls, cost and rejects are those of the whole log read at once."""
    tmp = tmp_path_factory.mktemp("grow")
    pricing = _pricing(tmp)
    data = ("\n".join(log) + "\n").encode()
    at = max(1, int(len(data) * cut))
    whole = tmp / "whole.jsonl"
    whole.write_bytes(data)
    once = api.analyze(whole, pricing=pricing, db=tmp / "once.duckdb")

    growing = tmp / "growing.jsonl"
    growing.write_bytes(data[:at])
    db = tmp / "grown.duckdb"
    _ingest(growing, db)
    with growing.open("ab") as fh:
        fh.write(data[at:])
    _ingest(growing, db)
    grown = api.analyze(None, pricing=pricing, db=db)
    assert _figures(grown) == _figures(once)
    # and once more, with nothing new: nothing is counted twice
    _ingest(growing, db)
    assert _figures(api.analyze(None, pricing=pricing, db=db)) == _figures(once)


def _ingest(path, db) -> None:
    """``llmcost ingest PATH --db DB``, as cron runs it."""
    from typer.testing import CliRunner

    from llmcost.cli import app

    result = CliRunner().invoke(app, ["ingest", str(path), "--db", str(db)])
    assert result.exit_code in (0, 3), result.output  # 3: nothing usable yet


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=lines(), chunk=st.integers(1024, 4096))
def test_small_chunks_read_the_same_log(tmp_path_factory, log, chunk, monkeypatch_module):
    """The chunker's boundaries fall anywhere: the calls, cost and rejected lines (by line
    number) are those of one chunk."""
    tmp = tmp_path_factory.mktemp("chunks")
    path = write_jsonl(tmp / "log.jsonl", log)
    monkeypatch_module.delenv("LLMCOST_CHUNK_BYTES", raising=False)
    _, rows, rejects, _ = load_priced(path)
    monkeypatch_module.setenv("LLMCOST_CHUNK_BYTES", str(chunk))
    try:
        _, small_rows, small_rejects, _ = load_priced(path)
    finally:
        monkeypatch_module.delenv("LLMCOST_CHUNK_BYTES", raising=False)
    key = ("request_id", "source_line", "input_tokens", "output_tokens", "cost_usd")
    assert [tuple(r[k] for k in key) for r in small_rows] == [
        tuple(r[k] for k in key) for r in rows
    ]
    assert small_rejects == rejects


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


# ------------------------------------------------------------ the price in force on the day


@st.composite
def price_history(draw) -> list[dict]:
    """A model's price rows, oldest first: each from a day of 2026, some ending early (a
    gap in which the model has no price), with prices in cents per million."""
    days = sorted(draw(st.sets(st.integers(0, 300), min_size=1, max_size=4)))
    rows = []
    for i, day in enumerate(days):
        end = days[i + 1] if i + 1 < len(days) else 366
        row = {
            "from": dt.date(2026, 1, 1) + dt.timedelta(days=day),
            "input": Decimal(draw(st.integers(1, 2_000))) / 100,
            "output": Decimal(draw(st.integers(1, 8_000))) / 100,
        }
        if end - day > 1 and draw(st.booleans()):
            row["to"] = row["from"] + dt.timedelta(days=draw(st.integers(1, end - day - 1)))
        rows.append(row)
    return rows


def _in_force(rows: list[dict], day: dt.date) -> dict | None:
    for i, row in enumerate(rows):
        until = row.get("to") or (rows[i + 1]["from"] if i + 1 < len(rows) else dt.date.max)
        if row["from"] <= day < until:
            return row
    return None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=price_history(),
    calls_on=st.lists(
        st.tuples(st.integers(-30, 400), st.integers(0, 1_000_000), st.integers(0, 100_000)),
        min_size=1,
        max_size=12,
    ),
)
def test_each_call_pays_the_price_in_force_on_its_day(tmp_path_factory, rows, calls_on):
    """A call pays the row in force on its (UTC) day; a call on a day no row covers (before
    the first, in a gap) has no price, never $0."""
    lines = [f"      - from: {r['from']}\n" for r in rows]
    yaml_rows = "".join(
        line
        + (f"        to: {r['to']}\n" if "to" in r else "")
        + f"        input: {r['input']}\n        output: {r['output']}\n"
        for line, r in reversed(list(zip(lines, rows)))  # newest first, as the schema says
    )
    table, _ = parse_table(
        "provider: acme\nversion: 2026-11-01\nsource: https://acme.example/pricing\n"
        f"models:\n  acme-dated:\n    prices:\n{yaml_rows}",
        "acme.yaml",
    )
    start = dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc)
    records = [
        {
            "timestamp": (start + dt.timedelta(days=day)).isoformat(),
            "request_id": f"r{n}",
            "provider": "acme",
            "model": "acme-dated",
            "usage": {"prompt_tokens": inp, "completion_tokens": out},
        }
        for n, (day, inp, out) in enumerate(calls_on)
    ]
    path = write_jsonl(tmp_path_factory.mktemp("dated") / "dated.jsonl", records)
    from llmcost import costing, store
    from llmcost.ingest import ingest_paths

    con = store.connect()
    ingest_paths(con, [str(path)])
    costing.prepare(con, PriceBook([table]))
    got = [r[0] for r in con.execute("SELECT cost_usd FROM priced ORDER BY source_line").fetchall()]
    expected = []
    for day, inp, out in calls_on:
        row = _in_force(rows, (start + dt.timedelta(days=day)).date())
        expected.append(
            None if row is None else (inp * row["input"] + out * row["output"]) / 1_000_000
        )
    assert got == expected


# ----------------------------------------------------------- a period report in any zone

ZONES = ("UTC", "Europe/Paris", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log=calls(min_size=1, max_size=30),
    zone=st.sampled_from(ZONES),
    first=st.integers(1, 9),
    length=st.integers(1, 5),
)
def test_a_period_in_a_zone_holds_the_calls_of_its_local_days(
    tmp_path_factory, log, zone, first, length
):
    """``report --tz Z --since D1 --until D2``: the calls whose local day is in [D1, D2),
    their cost, and days (local) that add up to it (none: an empty report, for cron)."""
    from zoneinfo import ZoneInfo

    from typer.testing import CliRunner

    from llmcost.cli import app

    tmp = tmp_path_factory.mktemp("zone")
    path = write_jsonl(tmp / "log.jsonl", log)
    db = tmp / "store.duckdb"
    _ingest(path, db)
    since, until = dt.date(2026, 7, first), dt.date(2026, 7, first) + dt.timedelta(days=length)
    result = CliRunner().invoke(
        app,
        ["report", "--db", str(db), "--tz", zone, "--since", str(since), "--until", str(until),
         "--pricing", _pricing(tmp), "--format", "json"],
    )  # fmt: skip
    local = ZoneInfo(zone)
    inside = [
        r
        for r in log
        if since <= dt.datetime.fromisoformat(r["timestamp"]).astimezone(local).date() < until
    ]
    assert result.exit_code == 0, result.output  # a period without calls is a report too
    report = json.loads(result.stdout)
    assert report["summary"]["requests"] == len(inside)
    days = report["by_day"]
    assert {d["day"] for d in days} <= {str(since + dt.timedelta(days=n)) for n in range(length)}
    assert sum(d["requests"] for d in days) == len(inside)
    total = report["summary"]["total_cost_usd"]
    if total is None:  # calls, none with a cost (unknown, never $0): no day has one either
        assert days and all(d["cost_usd"] is None for d in days)
    assert sum(d["cost_usd"] or 0 for d in days) == pytest.approx(total or 0, abs=1e-9)
