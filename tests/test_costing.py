"""Costing: the price in force at the call's date, tiers, cache parts, exact arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcost import costing, store
from llmcost.ingest import ingest_paths
from llmcost.pricing import PriceBook, load_pricing, parse_table
from llmcost.report import analyze

ACME = """\
provider: acme
version: 2026-11-01
source: https://acme.example/pricing
rules:
  long_context_counts_cache: true
models:
  acme-large:
    downgrade_to: acme-small
    prices:
      - from: 2026-06-01
        input: 3.0
        output: 15.0
        cache_read: 0.3
        cache_write: 3.75
        cache_write_1h: 6.0
        batch: 0.5
        flex: {input: 1.5, output: 7.5}
        long_context:
          - above_input_tokens: 200000
            input: 6.0
            output: 22.5
            cache_read: 0.6
            cache_write: 7.5
            cache_write_1h: 12.0
      - from: 2026-01-01
        input: 4.0
        output: 20.0
  acme-small:
    prices:
      - from: 2026-01-01
        input: 1.0
        output: 5.0
        cache_read: 0.1
        cache_write: 1.25
        cache_write_1h: 2.0
"""


def priced(path, book: PriceBook | None = None) -> list[dict]:
    con = store.connect()
    ingest_paths(con, [str(path)])
    costing.prepare(con, book or load_pricing())
    cur = con.execute("SELECT * FROM priced ORDER BY source_line")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def acme_book() -> PriceBook:
    table, _ = parse_table(ACME, "acme.yaml")
    return PriceBook([table])


def anthropic_line(
    ts: str,
    input_tokens: int,
    read: int,
    write_5m: int,
    write_1h: int,
    output: int,
    model: str = "acme-large",
    **extra,
) -> dict:
    return {
        "timestamp": ts,
        "provider": "acme",
        "model": model,
        **extra,
        "usage": {
            "input_tokens": input_tokens,
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": write_5m + write_1h,
            "cache_creation": {
                "ephemeral_5m_input_tokens": write_5m,
                "ephemeral_1h_input_tokens": write_1h,
            },
            "output_tokens": output,
        },
    }


def test_price_change_gpt_4o(jsonl):
    """gpt-4o cost $5/$15 until 2024-10-02, then $2.50/$10 (alias moved to the cheaper snapshot)."""
    line = {"model": "gpt-4o", "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 100_000}}
    before, after = priced(
        jsonl(
            [
                {**line, "timestamp": "2024-09-01T12:00:00Z"},
                {**line, "timestamp": "2024-11-01T12:00:00Z"},
            ]
        )
    )
    assert before["cost_usd"] == Decimal("6.5")  # 1M × $5 + 0.1M × $15
    assert after["cost_usd"] == Decimal("3.5")  # 1M × $2.50 + 0.1M × $10
    assert before["price_from"].isoformat() == "2024-05-13"
    assert after["price_from"].isoformat() == "2024-10-02"
    assert before["pricing_version"] == after["pricing_version"]


def test_price_rows_switch_at_their_date(jsonl):
    rows = priced(
        jsonl(
            [
                anthropic_line("2026-05-31T23:59:59Z", 1000, 0, 0, 0, 0),
                anthropic_line("2026-06-01T00:00:00Z", 1000, 0, 0, 0, 0),
                anthropic_line("2025-12-31T23:59:59Z", 1000, 0, 0, 0, 0),
            ]
        ),
        acme_book(),
    )
    assert [r["cost_usd"] for r in rows[:2]] == [Decimal("0.004"), Decimal("0.003")]
    assert rows[2]["cost_usd"] is None and not rows[2]["is_priced"]  # before any price


def test_long_context_counts_cache_tokens_and_1h_writes(jsonl):
    """Anthropic-style: 150k uncached + 40k cache reads + 10k 5m + 5k 1h writes = 205k > 200k,
    so the WHOLE call is billed at the long-context prices."""
    [row] = priced(
        jsonl([anthropic_line("2026-07-01T00:00:00Z", 150_000, 40_000, 10_000, 5_000, 2_000)]),
        acme_book(),
    )
    assert row["input_tokens"] == 205_000
    expected = (
        Decimal(150_000) * 6
        + Decimal(40_000) * Decimal("0.6")
        + Decimal(10_000) * Decimal("7.5")
        + Decimal(5_000) * 12
        + Decimal(2_000) * Decimal("22.5")
    ) / 1_000_000
    assert row["cost_usd"] == expected == Decimal("1.104")
    assert row["price_above_tokens"] == 200_000
    assert (
        row["cost_input"] + row["cost_cache_read"] + row["cost_cache_write"] + row["cost_output"]
        == expected
    )


def test_below_threshold_standard_prices(jsonl):
    [row] = priced(
        jsonl([anthropic_line("2026-07-01T00:00:00Z", 150_000, 40_000, 10_000, 0, 2_000)]),
        acme_book(),
    )
    assert row["input_tokens"] == 200_000  # not above 200k
    assert (
        row["cost_usd"]
        == (
            Decimal(150_000) * 3
            + Decimal(40_000) * Decimal("0.3")
            + Decimal(10_000) * Decimal("3.75")
            + Decimal(2_000) * 15
        )
        / 1_000_000
    )


@pytest.mark.parametrize(
    ("tier", "expected", "priced_at"),
    [
        ("batch", Decimal("0.1575"), "batch"),  # 100k × $1.50 + 1k × $7.50 (multiplier 0.5)
        ("flex", Decimal("0.1575"), "flex"),  # explicit flex prices
        ("default", Decimal("0.315"), "standard"),  # 100k × $3 + 1k × $15
        ("priority", Decimal("0.315"), "standard"),  # no priority price: standard, flagged
    ],
)
def test_service_tiers(jsonl, tier, expected, priced_at):
    [row] = priced(
        jsonl([anthropic_line("2026-07-01T00:00:00Z", 100_000, 0, 0, 0, 1000, service_tier=tier)]),
        acme_book(),
    )
    assert row["cost_usd"] == expected
    assert row["price_tier"] == priced_at


def test_unpriced_model_is_listed_never_zero(jsonl):
    path = jsonl(
        [
            {
                "timestamp": "2026-07-01T00:00:00Z",
                "model": "mystery-9000",
                "input_tokens": 100,
                "output_tokens": 10,
            },
            {
                "timestamp": "2026-07-01T00:00:00Z",
                "model": "gpt-4o-mini",
                "input_tokens": 100,
                "output_tokens": 10,
            },
        ]
    )
    report = analyze([path])
    assert report["summary"]["unpriced_requests"] == 1
    assert report["summary"]["priced_requests"] == 1
    [unpriced] = report["unpriced_models"]
    assert (unpriced["model"], unpriced["requests"], unpriced["input_tokens"]) == (
        "mystery-9000",
        1,
        100,
    )
    [row] = [m for m in report["by_model"] if m["model"] == "mystery-9000"]
    assert row["cost_usd"] is None


def test_a_tier_without_its_own_price_is_said(jsonl, cli):
    """A batch call of a model whose table has no batch price is priced at its standard
    price (llama-3.3-70b-versatile: Groq's batch discount is not established, so not in the
    table): a cost that may be above the bill. It was said nowhere but the export's price_tier."""
    call = {
        "ts": "2026-11-02T10:00:00Z",
        "usage": {"prompt_tokens": 1000, "completion_tokens": 100},
    }
    path = jsonl([
        {**call, "model": "llama-3.3-70b-versatile", "service_tier": "batch"},
        {**call, "model": "llama-3.3-70b-versatile", "service_tier": "batch", "ts": "2026-11-03"},
        {**call, "model": "gpt-4o-mini", "service_tier": "batch"},  # has a batch price
        {**call, "model": "gpt-4o-mini"},
    ])  # fmt: skip
    report = analyze([path])
    assert report["summary"]["tier_priced_as_standard"] == [
        {"model": "llama-3.3-70b-versatile", "tier": "batch", "requests": 2}
    ]
    result = cli("analyze", path)
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert (
        "Priced at standard rates: 2 batch calls of llama-3.3-70b-versatile (no batch price in the "
        "tables; add one with --pricing)"
    ) in text


@settings(max_examples=60, deadline=None)
@given(
    uncached=st.integers(0, 500_000),
    read=st.integers(0, 300_000),
    w5=st.integers(0, 100_000),
    w1=st.integers(0, 100_000),
    out=st.integers(0, 100_000),
)
def test_cost_parts_add_up_exactly(tmp_path_factory, uncached, read, w5, w1, out):
    from tests.conftest import write_jsonl

    path = write_jsonl(
        tmp_path_factory.mktemp("p") / "x.jsonl",
        [anthropic_line("2026-07-01T00:00:00Z", uncached, read, w5, w1, out)],
    )
    [row] = priced(path, acme_book())
    total = uncached + read + w5 + w1
    long = total > 200_000
    p = {
        "in": 6 if long else 3,
        "read": Decimal("0.6") if long else Decimal("0.3"),
        "w5": Decimal("7.5") if long else Decimal("3.75"),
        "w1": 12 if long else 6,
        "out": Decimal("22.5") if long else 15,
    }
    expected = (
        uncached * p["in"] + read * p["read"] + w5 * p["w5"] + w1 * p["w1"] + out * p["out"]
    ) / Decimal(1_000_000)
    assert row["input_tokens"] == total
    assert row["cost_usd"] == expected
    assert (
        row["cost_input"] + row["cost_cache_read"] + row["cost_cache_write"] + row["cost_output"]
        == expected
    )


# ---------------------------------------------------------------- billing rules, shipped tables


def shipped() -> PriceBook:
    return load_pricing(settings=None)


def test_anthropic_long_context_counts_cache_reads_and_1h_writes(jsonl):
    """claude-sonnet-4-5 (shipped): 150k uncached + 40k cache reads + 10k 5-minute + 5k
    1-hour writes = 205k > 200k, so the whole call is billed at the long-context prices:
    150k×$6 + 40k×$0.60 + 10k×$7.50 + 5k×$12 + 2k×$22.50 = $1.104."""
    line = anthropic_line(
        "2025-10-15T10:00:00Z",
        150_000,
        40_000,
        10_000,
        5_000,
        2_000,
        model="claude-sonnet-4-5-20250929",
    )
    line["provider"] = "anthropic"
    [row] = priced(jsonl([line]), shipped())
    assert row["cost_usd"] == Decimal("1.104")
    assert row["price_above_tokens"] == 200_000


def test_gemini_thinking_is_billed_as_output(jsonl):
    """gemini-2.5-flash: 10k prompt ($0.30) + 1k answer + 3k thoughts, both at $2.50:
    10k×0.30 + 4k×2.50 = $0.013."""
    line = {
        "createTime": "2025-08-01T00:00:00Z",
        "modelVersion": "gemini-2.5-flash",
        "candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}],
        "usageMetadata": {
            "promptTokenCount": 10_000,
            "candidatesTokenCount": 1_000,
            "thoughtsTokenCount": 3_000,
            "totalTokenCount": 14_000,
        },
    }
    [row] = priced(jsonl([line]), shipped())
    assert (row["output_tokens"], row["reasoning_tokens"]) == (4_000, 3_000)
    assert row["cost_usd"] == Decimal("0.013")


def test_reasoning_is_billed_as_output_openai(jsonl):
    """o3 (shipped $2/$8 from 2025-06-10): completion_tokens already include reasoning."""
    line = {
        "timestamp": "2025-07-01T00:00:00Z",
        "model": "o3",
        "usage": {
            "prompt_tokens": 1_000,
            "completion_tokens": 5_000,
            "completion_tokens_details": {"reasoning_tokens": 4_500},
        },
    }
    [row] = priced(jsonl([line]), shipped())
    assert row["cost_usd"] == (Decimal(1_000) * 2 + Decimal(5_000) * 8) / 1_000_000


@pytest.mark.parametrize(
    ("tier", "expected", "priced_at"),
    [
        ("default", Decimal("0.3"), "standard"),  # 100k×$2 + 10k×$10
        ("flex", Decimal("0.15"), "flex"),  # flex: 0.5 → $1/$5
        ("priority", Decimal("0.6"), "priority"),  # explicit $4/$20
        ("batch", Decimal("0.15"), "batch"),  # batch: 0.5
    ],
)
def test_openai_service_tiers_shipped(jsonl, tier, expected, priced_at):
    line = {
        "timestamp": "2026-10-01T00:00:00Z",
        "model": "gpt-6.1-sol",
        "service_tier": tier,
        "usage": {"prompt_tokens": 100_000, "completion_tokens": 10_000},
    }
    [row] = priced(jsonl([line]), shipped())
    assert (row["cost_usd"], row["price_tier"]) == (expected, priced_at)


def test_anthropic_batch_shipped(jsonl):
    line = anthropic_line(
        "2025-10-15T10:00:00Z",
        100_000,
        0,
        0,
        0,
        1_000,
        model="claude-sonnet-4-5",
        service_tier="batch",
    )
    line["provider"] = "anthropic"
    [row] = priced(jsonl([line]), shipped())
    assert row["cost_usd"] == Decimal("0.1575")  # 100k×$1.50 + 1k×$7.50


@pytest.mark.parametrize(
    ("provider", "model", "ts", "expected"),
    [
        # fireworks deepseek-v4p1-flash $0.30/$1.20, batch 50%: 100k×$0.15 + 10k×$0.60
        ("fireworks", "accounts/fireworks/models/deepseek-v4p1-flash", "2026-10-01", "0.021"),
        # together llama-3.3-70b-instruct-turbo $1.04/$1.04, batch 50%: 110k×$0.52
        ("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo", "2025-07-01", "0.0572"),
        # mistral-large-2411 $2/$6, batch 50%: 100k×$1 + 10k×$3
        ("mistral", "mistral-large-2411", "2025-03-01", "0.13"),
        # azure gpt-4o@eu (data zone) $2.75/$11, batch 50%: 100k×$1.375 + 10k×$5.50
        ("azure", "azure/eu/gpt-4o", "2025-06-01", "0.1925"),
    ],
)
def test_batch_shipped_per_provider(jsonl, provider, model, ts, expected):
    line = {
        "timestamp": f"{ts}T00:00:00Z",
        "provider": provider,
        "model": model,
        "service_tier": "batch",
        "usage": {"prompt_tokens": 100_000, "completion_tokens": 10_000},
    }
    [row] = priced(jsonl([line]), shipped())
    assert (row["cost_usd"], row["price_tier"]) == (Decimal(expected), "batch")


def _deepseek(ts: str, model: str = "deepseek-chat") -> dict:
    return {
        "timestamp": ts,
        "provider": "deepseek",
        "model": model,
        "usage": {
            "prompt_tokens": 1_000_000,
            "completion_tokens": 100_000,
            "prompt_tokens_details": {"cached_tokens": 100_000},
        },
    }


@pytest.mark.parametrize(
    ("ts", "model", "expected", "off_peak"),
    [
        # deepseek-chat 2025: 900k×$0.27 + 100k×$0.07 + 100k×$1.10 = $0.36; 16:30-00:30 half
        ("2025-03-03T12:00:00Z", "deepseek-chat", Decimal("0.36"), False),
        ("2025-03-03T16:29:59Z", "deepseek-chat", Decimal("0.36"), False),
        ("2025-03-03T16:30:00Z", "deepseek-chat", Decimal("0.18"), True),
        ("2025-03-04T00:15:00Z", "deepseek-chat", Decimal("0.18"), True),  # wraps midnight
        ("2025-03-04T00:30:00Z", "deepseek-chat", Decimal("0.36"), False),
        # deepseek-reasoner: 900k×$0.55 + 100k×$0.14 + 100k×$2.19 = $0.728; off-peak 75% off
        ("2025-03-03T20:00:00Z", "deepseek-reasoner", Decimal("0.182"), True),
        ("2025-02-25T20:00:00Z", "deepseek-reasoner", Decimal("0.728"), False),  # before
        # v4-pro from 2026-08-17: 900k×$1.32 + 100k×$0.044 + 100k×$3.96 = $1.5884 at peak
        ("2026-08-24T02:00:00Z", "deepseek-v4-pro", Decimal("1.5884"), False),  # Mon peak
        ("2026-08-24T05:00:00Z", "deepseek-v4-pro", Decimal("0.7942"), True),  # Mon gap
        ("2026-08-24T12:00:00Z", "deepseek-v4-pro", Decimal("0.7942"), True),  # Mon afternoon
        ("2026-08-22T02:00:00Z", "deepseek-v4-pro", Decimal("0.7942"), True),  # Saturday
    ],
)
def test_deepseek_off_peak(jsonl, ts, model, expected, off_peak):
    [row] = priced(jsonl([_deepseek(ts, model)]), shipped())
    assert row["cost_usd"] == expected
    assert row["price_off_peak"] is off_peak


def test_web_search_fee_per_search(jsonl):
    """claude-sonnet-4-5: 1k in ($3) + 100 out ($15) + 3 searches × $0.01 = $0.0345."""
    line = {
        "type": "message",
        "role": "assistant",
        "id": "msg_1",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": "x"}],
        "stop_reason": "end_turn",
        "timestamp": "2025-10-15T10:00:00Z",
        "usage": {
            "input_tokens": 1_000,
            "output_tokens": 100,
            "server_tool_use": {"web_search_requests": 3},
        },
    }
    [row] = priced(jsonl([line]), shipped())
    assert row["web_search_requests"] == 3
    assert row["cost_search"] == Decimal("0.03")
    assert row["cost_usd"] == Decimal("0.0345")


def test_as_of_reprices_beside_the_historical_cost(jsonl):
    """gpt-4o: $5/$15 before 2024-10-02, $2.50/$10 after. A 2024-09 call (1M in, 100k out)
    costs $6.50 historically and $3.50 at the prices of 2025-01-01."""
    path = jsonl(
        [
            {
                "timestamp": "2024-09-01T12:00:00Z",
                "model": "gpt-4o",
                "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 100_000},
            },
            {
                "timestamp": "2024-09-01T12:00:00Z",
                "model": "mystery-1",
                "usage": {"prompt_tokens": 1, "completion_tokens": 1},
            },
        ]
    )
    import datetime as dt

    report = analyze([path], as_of=dt.date(2025, 1, 1))
    if hasattr(report, "to_dict"):
        report = report.to_dict()
    summary = report["summary"]
    assert summary["total_cost_usd"] == 6.5  # historical, unchanged
    assert summary["as_of_cost_usd"] == 3.5
    assert summary["as_of"] == "2025-01-01"
    [gpt] = [m for m in report["by_model"] if m["model"] == "gpt-4o"]
    assert (gpt["cost_usd"], gpt["as_of_cost_usd"]) == (6.5, 3.5)
    [mystery] = [m for m in report["by_model"] if m["model"] == "mystery-1"]
    assert mystery["as_of_cost_usd"] is None  # unpriced stays unpriced, never $0
    from llmcost.render.markdown import render

    assert "At prices of 2025-01-01: $3.50 for 1 of 2 calls (historical $6.50)" in render(report)


def test_ranking_by_rowid_keeps_the_row_the_ranking_of_whole_rows_keeps(jsonl):
    # The priced view and the repricing rank each call's candidate price rows by their
    # price_rows rowid only (candidates_sql row_only: a fifth faster than carrying every
    # column through the window) and join the kept row; it is the very row the ranking of
    # whole rows keeps: off-peak windows, batch and priority tiers, long context, US-only
    # inference and fast mode, an unpriced model.
    geo_fast = {"input_tokens": 300_000, "output_tokens": 10, "inference_geo": "us"}
    lines = [
        _deepseek("2025-03-03T12:00:00Z"),
        _deepseek("2025-03-03T16:30:00Z"),
        _deepseek("2026-08-24T05:00:00Z", "deepseek-v4-pro"),
        {**_deepseek("2026-08-24T05:00:00Z", "gpt-4o"), "provider": "openai",
         "service_tier": "priority"},
        {**_deepseek("2026-08-24T05:00:00Z", "gpt-4o-mini"), "provider": "openai",
         "service_tier": "batch"},
        {**_deepseek("2026-08-24T05:00:00Z", "gemini-2.5-pro"), "provider": "google"},
        {"timestamp": "2026-11-02T10:00:00Z", "model": "claude-opus-4-6",
         "usage": {**geo_fast, "speed": "fast"}},
        {"timestamp": "2026-11-02T10:00:00Z", "model": "claude-sonnet-4-6", "usage": geo_fast},
        {**_deepseek("2026-08-24T05:00:00Z", "no-such-model"), "provider": "acme"},
    ]  # fmt: skip
    con = store.connect()
    ingest_paths(con, [str(jsonl(lines))])
    costing.prepare(con, shipped())
    con.execute("CREATE TEMP TABLE b_calls AS SELECT * FROM priced")
    kept = (
        "request_id, tier, above_input_tokens, valid_from, off_peak, inference_geo, speed, "
        "p_input, p_output"
    )
    price_columns = ", ".join(f"p.{c}" for c in kept.split(", ")[1:])
    at = "coalesce(b.ts, now())"
    whole = con.execute(
        f"SELECT {kept} FROM ({costing.candidates_sql('b_calls', at)}) WHERE rn = 1 "
        "ORDER BY request_id"
    ).fetchall()
    by_row = con.execute(
        f"SELECT k.request_id, {price_columns} "
        f"FROM ({costing.candidates_sql('b_calls', at, row_only=True)}) k "
        "JOIN price_rows p ON p.rowid = k.price_row WHERE k.rn = 1 ORDER BY k.request_id"
    ).fetchall()
    assert by_row == whole
    assert len(whole) == len(lines) - 1  # the unpriced model has no candidate
    tiers = {row[1] for row in whole}
    assert {"batch", "priority", "standard"} <= tiers
    assert any(row[4] is not None for row in whole)  # an off-peak row kept
    assert any(row[5] == "us" for row in whole) and any(row[6] == "fast" for row in whole)
    assert any(row[2] > 0 for row in whole)  # a long-context row kept
