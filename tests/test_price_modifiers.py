"""Price modifiers the usage object reports: US-only inference (``usage.inference_geo: us``,
1.1x every token price from Claude Opus 4.6 / Sonnet 4.6 on) and fast mode
(``usage.speed: fast``, 6x on Opus 4.6 and 4.7, 2x on Opus 4.8 / 5 / 5.5). Worked by hand.

claude-opus-4-6 (from 2026-03-13): $5 in, $25 out, $0.50 cache read, batch half. A call of
1M input + 100k output costs $7.50; US-only $8.25; fast $45; both $49.50.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from llmcost.pricing import parse_table
from llmcost.pricing_tools import show
from tests.conftest import REAL
from tests.test_costing import priced, shipped


def opus(request_id: str, model: str = "claude-opus-4-6", **usage) -> dict:
    return {
        "timestamp": "2026-11-02T10:00:00Z",
        "request_id": request_id,
        "model": model,
        "usage": {"input_tokens": 1_000_000, "output_tokens": 100_000, **usage},
    }


@pytest.mark.parametrize(
    "usage, model, cost, geo, speed",
    [
        ({}, "claude-opus-4-6", "7.5", None, None),
        ({"inference_geo": "global"}, "claude-opus-4-6", "7.5", None, None),
        ({"inference_geo": "us"}, "claude-opus-4-6", "8.25", "us", None),
        ({"inference_geo": "US "}, "claude-opus-4-6", "8.25", "us", None),  # as written
        ({"speed": "fast"}, "claude-opus-4-6", "45", None, "fast"),
        ({"speed": "standard"}, "claude-opus-4-6", "7.5", None, None),
        ({"speed": "fast", "inference_geo": "us"}, "claude-opus-4-6", "49.5", "us", "fast"),
        ({"speed": "fast"}, "claude-opus-5", "15", None, "fast"),  # 2x on Opus 5
        # models before Opus 4.6 have neither: billed at their standard prices
        ({"speed": "fast", "inference_geo": "us"}, "claude-haiku-4-5", "1.5", None, None),
        ({"speed": "fast"}, "claude-sonnet-4-6", "4.5", None, None),  # no fast mode
    ],
)
def test_reported_modifiers_scale_every_token_price(jsonl, usage, model, cost, geo, speed):
    [row] = priced(jsonl([opus("a", model, **usage)]), shipped())
    assert row["cost_usd"] == Decimal(cost)
    assert (row["price_inference_geo"], row["price_speed"]) == (geo, speed)
    assert row["inference_geo"] == ((usage.get("inference_geo") or "").strip().lower() or None)


def test_modifiers_stack_with_batch_and_cache_but_not_fees(jsonl):
    """Opus 5, batch, US-only: (1M uncached x $2.50 + 1M cache reads x $0.25 + 100k x
    $12.50) x 1.1 = $4.40, plus 2 searches x $0.01 (a fee, not a token price) = $4.42."""
    line = {
        "type": "message",
        "role": "assistant",
        "id": "msg_geo",
        "model": "claude-opus-5",
        "content": [{"type": "text", "text": "x"}],
        "timestamp": "2026-11-02T10:00:00Z",
        "usage": {
            "input_tokens": 1_000_000,
            "cache_read_input_tokens": 1_000_000,
            "output_tokens": 100_000,
            "service_tier": "batch",
            "inference_geo": "us",
            "server_tool_use": {"web_search_requests": 2},
        },
    }
    [row] = priced(jsonl([line]), shipped())
    assert row["price_tier"] == "batch" and row["price_inference_geo"] == "us"
    assert row["cost_cache_read"] == Decimal("0.275")
    assert row["cost_search"] == Decimal("0.02")
    assert row["cost_usd"] == Decimal("4.42")


def test_fast_mode_scales_the_long_context_rates(jsonl):
    """Opus 4.6 before 2026-03-13 had >200k rates ($10/$37.50); fast mode was 6x those:
    300k x $60 + 10k x $225 = $20.25 (the fast-mode page's $60/$225)."""
    line = opus("lc", speed="fast")
    line["timestamp"] = "2026-03-01T10:00:00Z"
    line["usage"] = {"input_tokens": 300_000, "output_tokens": 10_000, "speed": "fast"}
    [row] = priced(jsonl([line]), shipped())
    assert row["price_above_tokens"] == 200_000 and row["cost_usd"] == Decimal("20.25")


def test_claude_code_fast_mode(tmp_path):
    """A Claude Code transcript line whose usage says speed fast (ccusage's fixture writes
    it on claude-opus-4, which has no fast mode: unchanged), and the same on Opus 4.6."""
    lines = (REAL / "claude_code" / "ccusage_project_alpha.jsonl").read_text().splitlines()
    fast = json.loads(lines[1])
    assert fast["message"]["usage"]["speed"] == "fast"
    plain = json.loads(lines[1])
    del plain["message"]["usage"]["speed"]
    on_46 = json.loads(lines[1])
    on_46["message"]["model"] = "claude-opus-4-6"
    on_46["timestamp"] = "2026-11-02T10:00:00Z"
    for i, record in enumerate((fast, plain, on_46)):
        record["message"]["id"] = f"msg_{i}"
    path = tmp_path / "session.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (fast, plain, on_46)) + "\n")
    fast_row, plain_row, row_46 = priced(path, shipped())
    assert fast_row["format"] == "claude-code" and fast_row["speed"] == "fast"
    assert fast_row["cost_usd"] == plain_row["cost_usd"]  # Opus 4: no fast mode
    assert row_46["price_speed"] == "fast"
    # 200 x $30 + 50 x $37.50 + 20 x $3 + 75 x $150, per million
    assert row_46["cost_usd"] == Decimal("0.019185")


def test_a_us_only_usage_report_bucket(cli, tmp_path):
    """Anthropic's usage report groups by inference_geo: the real page's bucket is
    'global'; the same bucket run US-only costs 1.1x (its day moved into Opus 4.6's time)."""
    page = json.loads((REAL / "anthropic" / "admin_usage_report_messages.json").read_text())
    page["data"][0]["starting_at"] = "2026-11-01T00:00:00Z"
    page["data"][0]["ending_at"] = "2026-11-02T00:00:00Z"
    us = json.loads(json.dumps(page))
    us["data"][0]["results"][0]["inference_geo"] = "us"
    costs = []
    for name, doc in (("global.json", page), ("us.json", us)):
        (tmp_path / name).write_text(json.dumps(doc))
        result = cli("analyze", tmp_path / name, "-f", "json")
        report = json.loads(result.stdout)
        [bucket] = report["usage_reports"]["by_model"]
        costs.append(Decimal(str(bucket["computed_cost_usd"])))
    # 1,500 uncached x $5 + 500 5-minute writes x $6.25 + 1,000 1-hour writes x $10 + 200
    # reads x $0.50 + 500 out x $25 (per million) = $0.033225; 10 searches x $0.01 apart
    assert costs == [Decimal("0.133225"), Decimal("0.0365475") + Decimal("0.10")]


BAD = """\
provider: acme
version: 2026-11-01
source: https://acme.example/pricing
models:
  acme-large:
    prices:
      - from: 2026-06-01
        input: 3.0
        output: 15.0
        {line}
"""


@pytest.mark.parametrize(
    "line, message",
    [
        ("inference_geo: 1.1", "inference_geo must map a value to a multiplier"),
        ("speed: {fast: 0}", "speed fast: multiplier 0"),
        ("speed: {fast: -2}", "must be a non-negative number"),
        ("speed: {fast: x}", "must be a non-negative number"),
        ("geo: {us: 1.1}", r"unknown key\(s\) in model 'acme-large' price row: geo"),
    ],
)
def test_bad_modifiers_are_refused_with_their_line(line, message):
    from llmcost.pricing import Problem

    with pytest.raises(Problem, match=message) as caught:
        parse_table(BAD.format(line=line), "acme.yaml")
    assert caught.value.line == 10


def test_pricing_show_lists_each_row_once_with_its_modifiers(cli):
    info = show(shipped(), "claude-opus-4-6")
    standard = [h for h in info["history"] if h["from"] == "2026-03-13"]
    assert [h["tier"] for h in standard] == ["batch", "standard"]  # no scaled copies
    assert standard[1]["input"] == 5.0
    assert standard[1]["modifiers"] == {"inference_geo": {"us": 1.1}, "speed": {"fast": 6.0}}
    assert show(shipped(), "claude-opus-4-5")["history"][0]["modifiers"] is None
    text = cli("pricing", "show", "claude-opus-4-6").stdout
    assert "us x1.1, fast x6" in text


def test_litellm_import_keeps_the_modifiers():
    """LiteLLM's map writes them as provider_specific_entry (real entry: claude-opus-5)."""
    import datetime as dt

    from llmcost.pricing_tools import import_litellm, litellm_yaml

    entry = {
        "litellm_provider": "anthropic",
        "mode": "chat",
        "input_cost_per_token": 5e-06,
        "output_cost_per_token": 2.5e-05,
        "provider_specific_entry": {"us": 1.1, "fast": 2.0},
    }
    result = import_litellm({"claude-opus-5": entry}, start=dt.date(2026, 7, 24))
    [row] = result.models["claude-opus-5"]["prices"]
    assert (row["inference_geo"], row["speed"]) == ({"us": 1.1}, {"fast": 2.0})
    day = dt.date(2026, 11, 27)
    table, _ = parse_table(litellm_yaml(result, day, day, "map.json"), "litellm.yaml")
    assert table.models["claude-opus-5"].prices[0]["speed"] == {"fast": 2.0}


def test_repricing_joins_each_call_to_its_models_rows_only(jsonl):
    """The downgrade repricing ran out of memory on 200k calls when a modifier condition on
    the call sat in the join: DuckDB then joined every call with every price row of the day
    (a piecewise merge join) before matching the model. The plan joins on the model."""
    from llmcost import costing, store
    from llmcost.analyses import savings
    from llmcost.ingest import ingest_paths
    from llmcost.report import Options, build

    lines = [opus(f"r{i}", m, inference_geo="us") for i, m in
             enumerate(["claude-opus-4-6", "claude-sonnet-4-5", "gpt-4o"] * 20)]  # fmt: skip
    con = store.connect()
    ingest_paths(con, [str(jsonl(lines))])
    build(con, shipped(), Options())
    plans = [
        con.execute("EXPLAIN " + sql).fetchall()[0][1]
        for sql in (
            savings.reprice_sql("calls", "sv_dg_targets"),
            costing.candidates_sql("calls", "coalesce(b.ts, now())"),
        )
    ]
    for plan in plans:
        assert "Piecewise" not in plan and "Nested Loop" not in plan and "Cross" not in plan
