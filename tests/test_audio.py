"""Audio tokens are billed at audio prices: the audio parts of input, cache reads and output
(input_audio_tokens, cache_read_audio_tokens, output_audio_tokens) from every format whose
usage has them, priced by the table's input_audio / cache_read_audio / output_audio (else at
the text price of the same key). Expected costs are worked out by hand (USD per million)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal

import pytest

from llmcost import costing, store
from llmcost.analyses import Context
from llmcost.analyses.buckets import usage_reports
from llmcost.api import export_calls
from llmcost.ingest import ingest_paths
from llmcost.pricing import PriceBook, Problem, load_pricing, parse_table
from llmcost.pricing_tools import import_litellm, litellm_yaml
from tests.conftest import load_priced

AUDIO = ("input_audio_tokens", "cache_read_audio_tokens", "output_audio_tokens")
TS = "2026-03-01T10:00:00Z"


def audio(row: dict) -> tuple:
    return tuple(row[c] for c in AUDIO)


def chat(model: str, details: bool = True) -> dict:
    """A Chat Completions answer of an audio model: 1,200 prompt tokens of which 1,000 audio,
    600 completion tokens of which 500 audio."""
    usage = {"prompt_tokens": 1200, "completion_tokens": 600, "total_tokens": 1800}
    if details:
        usage["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 1000}
        usage["completion_tokens_details"] = {"reasoning_tokens": 0, "audio_tokens": 500}
    return {"timestamp": TS, "request_id": f"{model}-{details}", "model": model, "usage": usage}


def test_chat_completions_audio_billed_at_audio_prices(jsonl):
    _, (row,), _, _ = load_priced(jsonl([chat("gpt-4o-audio-preview-2025-06-03")]))
    assert audio(row) == (1000, None, 500)
    # gpt-4o-audio-preview: text $2.50 in / $10 out, audio $40 in / $80 out:
    # 200 × 2.50 + 1,000 × 40 + 100 × 10 + 500 × 80 = 500 + 40,000 + 1,000 + 40,000 = $0.0815
    assert row["cost_usd"] == Decimal("0.0815")
    assert row["cost_input"] == Decimal("0.0405") and row["cost_output"] == Decimal("0.041")
    assert row["price_from"].isoformat() == "2024-12-17"


def test_first_audio_snapshots_priced_at_their_launch_prices(jsonl):
    """gpt-4o-realtime-preview-2024-10-01 (2024-10-01; cached input from 2024-10-30) and
    gpt-4o-audio-preview-2024-10-01 (2024-10-17) kept their launch prices after the
    cheaper 2024-12-17 snapshots; the undated names are unpriced before 2024-12-17."""

    def realtime(n: str, ts: str, model: str = "gpt-4o-realtime-preview-2024-10-01") -> dict:
        cached = 0 if n == "launch" else 500  # (no cached input in Realtime before 2024-10-30)
        usage = {
            "input_tokens": 1100, "output_tokens": 300,
            "input_token_details": {
                "text_tokens": 100, "audio_tokens": 1000, "cached_tokens": cached,
                "cached_tokens_details": {"text_tokens": 0, "audio_tokens": cached}},
            "output_token_details": {"text_tokens": 100, "audio_tokens": 200},
        }  # fmt: skip
        return {"timestamp": ts, "request_id": n, "model": model, "usage": usage}

    lines = [
        realtime("launch", "2024-10-02T10:00:00Z"),
        realtime("cached", "2024-11-01T10:00:00Z"),
        realtime("after", "2025-01-15T10:00:00Z"),
        realtime("undated", "2024-11-01T10:00:00Z", "gpt-4o-realtime-preview"),
        {**chat("gpt-4o-audio-preview-2024-10-01"), "timestamp": "2024-11-01T10:00:00Z"},
        {**chat("gpt-4o-audio-preview-2024-10-01"), "request_id": "x", "timestamp": "2025-02-01"},
    ]
    _, rows, _, _ = load_priced(jsonl(lines))
    costs = {r["request_id"]: r["cost_usd"] for r in rows}
    # text $5 / out $20, audio $100 / out $200 (launch): in 100 text + 1,000 audio, out 100
    # text + 200 audio: 100 × 5 + 1,000 × 100 + 100 × 20 + 200 × 200
    #   = 500 + 100,000 + 2,000 + 40,000
    assert costs["launch"] == Decimal("0.1425")
    # from 2024-10-30 cached audio $20: 500 of the audio cached:
    # 100 × 5 + 500 × 100 + 500 × 20 + 2,000 + 40,000 = 500 + 50,000 + 10,000 + 42,000
    assert costs["cached"] == costs["after"] == Decimal("0.1025")
    assert costs["undated"] is None
    # gpt-4o-audio-preview-2024-10-01: 200 × 2.50 + 1,000 × 100 + 100 × 10 + 500 × 200
    #   = 500 + 100,000 + 1,000 + 100,000
    assert costs["gpt-4o-audio-preview-2024-10-01-True"] == costs["x"] == Decimal("0.2015")


def test_gemini_audio_modality(jsonl):
    """promptTokensDetails / cacheTokensDetails / candidatesTokensDetails AUDIO entries (REST
    and SDK names): the cached audio is part of the cache reads and of the audio input."""
    rest = {
        "modelVersion": "gemini-2.5-flash",
        "usageMetadata": {
            "promptTokenCount": 1500,
            "candidatesTokenCount": 100,
            "cachedContentTokenCount": 500,
            "promptTokensDetails": [
                {"modality": "TEXT", "tokenCount": 300},
                {"modality": "AUDIO", "tokenCount": 1200},
            ],
            "cacheTokensDetails": [
                {"modality": "AUDIO", "tokenCount": 400},
                {"modality": "TEXT", "tokenCount": 100},
            ],
            "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 100}],
        },
    }
    sdk = {
        "model_version": "gemini-2.5-flash",
        "usage_metadata": {
            "prompt_token_count": 1500,
            "candidates_token_count": 100,
            "cached_content_token_count": 500,
            "prompt_tokens_details": [
                {"modality": "AUDIO", "token_count": 1200},
                {"modality": "TEXT", "token_count": 300},
            ],
            "cache_tokens_details": [{"modality": "AUDIO", "token_count": 400}],
        },
    }
    records = [
        {"timestamp": TS, "request_id": n, "response": r} for n, r in (("a", rest), ("b", sdk))
    ]
    _, rows, _, _ = load_priced(jsonl(records))
    assert [audio(r) for r in rows] == [(1200, 400, 0), (1200, 400, None)]
    # gemini-2.5-flash: text $0.30, cached text $0.03, audio $1.00, cached audio $0.10, out $2.50
    # uncached: 1,000 = 200 text + 800 audio; cached: 500 = 100 text + 400 audio
    # 200 × 0.30 + 800 × 1.00 + 100 × 0.03 + 400 × 0.10 + 100 × 2.50
    #   = 60 + 800 + 3 + 40 + 250 = $0.001153
    assert [r["cost_usd"] for r in rows] == [Decimal("0.001153")] * 2
    assert rows[0]["cost_cache_read"] == Decimal("0.000043")


def test_gemini_modality_count_that_is_not_a_count_is_rejected(jsonl):
    """A modality entry's count is checked as every other count of the usage: "12" is 12
    (as a count given as a string elsewhere), "abc", a list or a negative rejects the
    call with its field and value; a modality list that is not a list too."""

    def line(n: str, details, name: str = "promptTokensDetails") -> dict:
        usage = {"promptTokenCount": 1500, "candidatesTokenCount": 100, name: details}
        return {"timestamp": TS, "request_id": n, "response": {
            "modelVersion": "gemini-2.5-flash", "usageMetadata": usage}}  # fmt: skip

    def entries(count) -> list:
        return [{"modality": "TEXT", "tokenCount": 300}, {"modality": "AUDIO", "tokenCount": count}]

    records = [
        line("string", entries("1200")),
        line("word", entries("abc")),
        line("list", entries([1200])),
        line("negative", [{"modality": "AUDIO", "token_count": -5}], "prompt_tokens_details"),
        line("text", [{"modality": "TEXT", "tokenCount": "many"}], "candidatesTokensDetails"),
        line("not a list", "AUDIO 1200"),
    ]
    _, rows, rejects, _ = load_priced(jsonl(records))
    assert [(r["request_id"], audio(r)) for r in rows] == [("string", (1200, None, None))]
    field = "usage field promptTokensDetails[].tokenCount is not a non-negative integer"
    assert rejects == [
        (2, f"{field}: abc"),
        (3, f"{field}: [1200]"),
        (4, "usage field prompt_tokens_details[].token_count is not a non-negative integer: -5"),
        (5, "usage field candidatesTokensDetails[].tokenCount is not a non-negative integer: many"),
        (6, "usage field promptTokensDetails is not a list of modality counts: AUDIO 1200"),
    ]


def test_flat_record_top_level_audio_counts(jsonl):
    """A flat record's top-level counts under the canonical names (as llmcost export writes
    them); a record without them keeps the id it had before they were read."""
    flat = {"timestamp": TS, "model": "gpt-4o-audio-preview-2025-06-03",
            "input_tokens": 1200, "output_tokens": 600}  # fmt: skip
    with_audio = {**flat, "input_audio_tokens": 1000, "output_audio_tokens": 500}
    bad = {**flat, "output_audio_tokens": "lots"}
    _, rows, rejects, _ = load_priced(jsonl([with_audio, flat, bad]))
    assert [audio(r) for r in rows] == [(1000, None, 500), (None, None, None)]
    # as test_chat_completions_audio_billed_at_audio_prices: $0.0815; without audio, text
    assert [r["cost_usd"] for r in rows] == [Decimal("0.0815"), Decimal("0.009")]
    assert rows[1]["request_id"] == "3aab729bf3d18c32a83cb09ca0c12aa3"  # as before
    assert rejects == [(3, "usage field output_audio_tokens is not a non-negative integer: lots")]


def test_realtime_usage_with_cached_audio(jsonl):
    """The Realtime API's response.done usage (input_token_details, singular)."""
    usage = {
        "total_tokens": 821,
        "input_tokens": 789,
        "output_tokens": 32,
        "input_token_details": {
            "text_tokens": 313,
            "audio_tokens": 476,
            "cached_tokens": 640,
            "cached_tokens_details": {"text_tokens": 256, "audio_tokens": 384},
        },
        "output_token_details": {"text_tokens": 9, "audio_tokens": 23},
    }
    line = {"timestamp": TS, "model": "gpt-realtime-2025-08-28", "usage": usage}
    _, (row,), _, _ = load_priced(jsonl([line]))
    assert (row["input_tokens"], row["cache_read_tokens"], row["output_tokens"]) == (789, 640, 32)
    assert audio(row) == (476, 384, 23)
    # gpt-realtime: text $4 / cached $0.40 / out $16; audio $32 / cached $0.40 / out $64
    # uncached text 57, uncached audio 92, cached text 256, cached audio 384, out 9 + 23:
    # 57 × 4 + 92 × 32 + 256 × 0.4 + 384 × 0.4 + 9 × 16 + 23 × 64
    #   = 228 + 2,944 + 102.4 + 153.6 + 144 + 1,472 = $0.005044
    assert row["cost_usd"] == Decimal("0.005044")


def test_a_model_without_an_audio_price_bills_audio_at_text_prices(jsonl):
    """gpt-4o has no separate audio rate: the audio details change nothing."""
    _, rows, _, _ = load_priced(jsonl([chat("gpt-4o"), chat("gpt-4o", details=False)]))
    with_audio, without = sorted(rows, key=lambda r: r["input_audio_tokens"] is None)
    assert audio(with_audio) == (1000, None, 500)
    # 1,200 × $2.50 + 600 × $10 = $0.009
    assert with_audio["cost_usd"] == without["cost_usd"] == Decimal("0.009")


VOICE = """\
provider: acme
version: 2026-11-01
source: https://acme.example/pricing
models:
  acme-voice:
    prices:
      - from: 2026-01-01
        input: 2.0
        output: 8.0
        cache_read: 0.5
        input_audio: 20.0
        output_audio: 40.0
        batch: 0.5
        flex: {input: 1.0, output: 4.0}
        long_context:
          - above_input_tokens: 100000
            input: 4.0
            output: 16.0
            input_audio: 40.0
            output_audio: 80.0
"""


def voice_costs(jsonl, lines: list[dict]) -> list[Decimal]:
    records = [
        {
            "timestamp": TS,
            "request_id": str(i),
            "provider": "acme",
            "model": "acme-voice",
            "service_tier": usage.pop("service_tier", None),
            "usage": usage,  # the generic (canonical) usage keys
        }
        for i, usage in enumerate(dict(x) for x in lines)
    ]
    con = store.connect()
    ingest_paths(con, [str(jsonl(records))])
    table, _ = parse_table(VOICE, "acme.yaml")
    costing.prepare(con, PriceBook([table]))
    return [r[0] for r in con.execute("SELECT cost_usd FROM priced ORDER BY request_id").fetchall()]


def test_tiers_and_long_context_apply_to_audio_prices(jsonl):
    small = {"input_tokens": 10_000, "input_audio_tokens": 4_000}
    small |= {"output_tokens": 2_000, "output_audio_tokens": 1_000}
    large = {"input_tokens": 200_000, "input_audio_tokens": 100_000}
    large |= {"output_tokens": 2_000, "output_audio_tokens": 1_000}
    cached = {"input_tokens": 5_000, "input_audio_tokens": 2_000, "output_tokens": 0}
    cached |= {"cache_read_tokens": 1_000, "cache_read_audio_tokens": 400}
    costs = voice_costs(
        jsonl,
        [
            small,
            {**small, "service_tier": "batch"},
            {**small, "service_tier": "flex"},
            large,
            cached,
        ],
    )
    assert costs == [
        # 6,000 × 2 + 4,000 × 20 + 1,000 × 8 + 1,000 × 40 = $0.14
        Decimal("0.14"),
        # batch 0.5: every price halved, audio too
        Decimal("0.07"),
        # flex {input: 1, output: 4}: audio scaled as input (x0.5): 6,000 × 1 + 4,000 × 10
        #   + 1,000 × 4 + 1,000 × 20 = $0.07
        Decimal("0.07"),
        # above 100k: 100,000 × 4 + 100,000 × 40 + 1,000 × 16 + 1,000 × 80 = $4.496
        Decimal("4.496"),
        # no cache_read_audio: cached audio at the cache-read price. Uncached 4,000 = 2,400
        # text + 1,600 audio; cached 1,000 = 600 text + 400 audio:
        # 2,400 × 2 + 1,600 × 20 + 600 × 0.5 + 400 × 0.5 = $0.0373
        Decimal("0.0373"),
    ]


def test_a_long_context_tier_must_give_the_rows_audio_prices():
    without = VOICE.replace("            input_audio: 40.0\n", "")
    with pytest.raises(Problem, match="has input_audio, its long_context needs one too"):
        parse_table(without, "acme.yaml")
    with pytest.raises(Problem, match="cache_read_audio 3.0 above input_audio"):
        parse_table(
            VOICE.replace("input_audio: 20.0", "input_audio: 2.0\n        cache_read_audio: 3.0"),
            "acme.yaml",
        )


# ------------------------------------------------------------------------------ readers


def test_helicone_audio_columns(jsonl):
    """Helicone's prompt_tokens exclude the audio (prompt_audio_tokens beside them)."""
    record = {
        "request_id": "h1",
        "request_created_at": TS,
        "response_status": 200,
        "response_model": "gpt-4o-audio-preview-2025-06-03",
        "provider": "OPENAI",
        "prompt_tokens": 200,
        "completion_tokens": 100,
        "prompt_audio_tokens": 1000,
        "completion_audio_tokens": 500,
        "request_body": {},
    }
    result, (row,), _, _ = load_priced(jsonl([record]), "helicone")
    assert result.format == "helicone"
    assert (row["input_tokens"], row["output_tokens"]) == (1200, 600)
    assert audio(row) == (1000, None, 500)
    assert row["cost_usd"] == Decimal("0.0815")  # as the Chat Completions record above


def test_langfuse_audio_usage_details(jsonl):
    """usageDetails input_audio / output_audio (disjoint parts, Langfuse's SDK naming)."""
    record = {
        "id": "lf-1",
        "type": "GENERATION",
        "startTime": TS,
        "model": "gpt-4o-audio-preview-2025-06-03",
        "usageDetails": {"input": 200, "input_audio": 1000, "output": 100, "output_audio": 500},
    }
    result, (row,), _, _ = load_priced(jsonl([record]), "langfuse")
    assert result.format == "langfuse"
    assert (row["input_tokens"], row["output_tokens"]) == (1200, 600)
    assert audio(row) == (1000, None, 500)
    assert row["cost_usd"] == Decimal("0.0815")


def test_litellm_usage_audio_details(jsonl):
    usage = chat("x")["usage"]
    record = {
        "id": "ll-1",
        "call_type": "completion",
        "startTime": 1772359200.0,  # 2026-03-01T10:00:00Z
        "model": "gpt-4o-audio-preview-2025-06-03",
        "custom_llm_provider": "openai",
        "prompt_tokens": 1200,
        "completion_tokens": 600,
        "response": {"model": "gpt-4o-audio-preview-2025-06-03", "usage": usage},
    }
    result, (row,), _, _ = load_priced(jsonl([record]), "litellm")
    assert result.format == "litellm"
    assert (row["input_tokens"], row["output_tokens"]) == (1200, 600)
    assert audio(row) == (1000, None, 500)
    assert row["cost_usd"] == Decimal("0.0815")


# ------------------------------------------------------------------------------ usage reports


def openai_usage_page(tmp_path, **result) -> str:
    """An OpenAI organization usage page with one completions result (2025-07-01)."""
    result = {"object": "organization.usage.completions.result", **result}
    bucket = {"object": "bucket", "start_time": 1751328000, "end_time": 1751414400}
    page = {"object": "page", "data": [{**bucket, "results": [result]}], "has_more": False}
    path = tmp_path / "usage.json"
    path.write_text(json.dumps(page))
    return str(path)


def test_openai_usage_report_audio_billed_at_audio_prices(tmp_path):
    """The usage API's input_audio_tokens are the UNCACHED audio input,
    input_cached_audio_tokens the cached (spec: UsageCompletionsResult)."""
    path = openai_usage_page(
        tmp_path, model="gpt-4o-realtime-preview-2025-06-03", num_model_requests=5,
        input_tokens=5000, input_cached_tokens=1800, input_cache_write_tokens=200,
        output_tokens=1000, input_audio_tokens=300, input_cached_audio_tokens=100,
        output_audio_tokens=100,
    )  # fmt: skip
    con = store.connect()
    ingest_paths(con, [path])
    # stored as a call's counts: the audio input (cached included), its cached part, output
    assert con.execute(f"SELECT {', '.join(AUDIO)} FROM usage_buckets").fetchall() == [
        (400, 100, 100)
    ]
    book = load_pricing()
    costing.prepare(con, book)
    report = usage_reports(con, Context(book=book, options=None))
    # gpt-4o-realtime-preview: text $5 / cached $2.50 / out $20, audio $40 / cached $2.50 /
    # out $80, cache writes at input ($5): uncached 3,000 of which 300 audio, cached 1,800 of
    # which 100 audio, 200 written, out 1,000 of which 100 audio:
    # 2,700 × 5 + 300 × 40 + 1,700 × 2.5 + 100 × 2.5 + 200 × 5 + 900 × 20 + 100 × 80
    #   = 13,500 + 12,000 + 4,250 + 250 + 1,000 + 18,000 + 8,000 = $0.057
    assert report["unpriced_buckets"] == 0
    assert report["computed_cost_usd"] == pytest.approx(0.057, abs=1e-12)


def test_openai_usage_report_bad_audio_count_rejected(tmp_path):
    path = openai_usage_page(
        tmp_path, model="gpt-4o-realtime-preview", num_model_requests=1, input_tokens=10,
        output_tokens=5, output_audio_tokens="lots",
    )  # fmt: skip
    con = store.connect()
    ingest_paths(con, [path])
    assert con.execute("SELECT line, reason FROM rejects").fetchall() == [
        (1, "output_audio_tokens is not a non-negative integer: lots")
    ]
    assert con.execute("SELECT count(*) FROM usage_buckets").fetchone()[0] == 0


# ------------------------------------------------------------------------------ import-litellm


def test_import_litellm_takes_the_audio_prices():
    """LiteLLM's input/output_cost_per_audio_token and cache_read_input_audio_token_cost (and
    their tier suffixes) become input_audio / output_audio / cache_read_audio; the Realtime
    models (mode realtime) are taken."""
    data = {  # as in LiteLLM's map (USD per token)
        "gpt-4o-audio-preview-2024-12-17": {
            "litellm_provider": "openai", "mode": "chat",
            "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
            "input_cost_per_audio_token": 4e-05, "output_cost_per_audio_token": 8e-05,
        },
        "gpt-realtime": {
            "litellm_provider": "openai", "mode": "realtime",
            "input_cost_per_token": 4e-06, "output_cost_per_token": 1.6e-05,
            "cache_read_input_token_cost": 4e-07, "input_cost_per_audio_token": 3.2e-05,
            "output_cost_per_audio_token": 6.4e-05, "cache_read_input_audio_token_cost": 4e-07,
        },
        "gemini/gemini-2.5-flash": {
            "litellm_provider": "gemini", "mode": "chat",
            "input_cost_per_token": 3e-07, "output_cost_per_token": 2.5e-06,
            "cache_read_input_token_cost": 3e-08, "input_cost_per_audio_token": 1e-06,
            "cache_read_input_audio_token_cost": 1e-07,
            "input_cost_per_token_batches": 1.5e-07, "output_cost_per_token_batches": 1.25e-06,
            "input_cost_per_audio_token_batches": 5e-07,
            # a text long-context tier without an audio price: left out (said)
            "input_cost_per_token_above_200k_tokens": 6e-07,
            "output_cost_per_token_above_200k_tokens": 5e-06,
        },
        "crafted-long": {
            "litellm_provider": "openai", "mode": "chat",
            "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06,
            "input_cost_per_audio_token": 1e-05,
            "input_cost_per_token_above_128k_tokens": 2e-06,
            "output_cost_per_token_above_128k_tokens": 4e-06,
            "input_cost_per_audio_token_above_128k_tokens": 2e-05,
        },
    }  # fmt: skip
    result = import_litellm(data)
    [audio_row] = result.models["gpt-4o-audio-preview-2024-12-17"]["prices"]
    assert (audio_row["input_audio"], audio_row["output_audio"]) == (40.0, 80.0)
    assert "cache_read_audio" not in audio_row
    [realtime] = result.models["gpt-realtime"]["prices"]
    assert (realtime["input_audio"], realtime["output_audio"], realtime["cache_read_audio"]) == (
        32.0, 64.0, 0.4,
    )  # fmt: skip
    [flash] = result.models["gemini/gemini-2.5-flash"]["prices"]
    assert (flash["input_audio"], flash["cache_read_audio"]) == (1.0, 0.1)
    assert flash["batch"] == {"input": 0.15, "output": 1.25, "input_audio": 0.5}
    assert "long_context" not in flash
    why = "long_context above 200000 (no input_audio, cache_read_audio)"
    assert f"gemini/gemini-2.5-flash: {why}" in result.dropped
    [long] = result.models["crafted-long"]["prices"]
    assert long["long_context"] == [
        {"above_input_tokens": 128000, "input": 2.0, "output": 4.0, "input_audio": 20.0}
    ]
    # the table written is a valid one, and it bills the audio at the audio prices
    text = litellm_yaml(result, dt.date(2026, 11, 1), dt.date(2020, 1, 1), "map.json")
    table, _ = parse_table(text, "litellm.yaml")
    assert table.models["gpt-realtime"].prices[0]["cache_read_audio"] == 0.4


# ------------------------------------------------------------------------------ store, export


def test_migration_adds_the_audio_columns_to_an_existing_database(tmp_path, monkeypatch, jsonl):
    db = tmp_path / "old.duckdb"
    before = [m for m in store.MIGRATIONS if "audio" not in m[1]]
    assert len(before) == len(store.MIGRATIONS) - 2  # calls' (9), usage buckets' (10)
    with monkeypatch.context() as m:  # a database made before the audio columns
        m.setattr(store, "MIGRATIONS", before)
        con = store.connect(db)
        columns = {r[0] for r in con.execute("DESCRIBE requests").fetchall()}
        assert not columns & set(AUDIO)
        con.execute(
            "INSERT INTO requests (request_id, ts, provider, model, input_tokens, output_tokens) "
            "VALUES ('old', TIMESTAMPTZ '2026-03-01 10:00:00+00', 'openai', "
            "'gpt-4o-audio-preview', 1200, 600)"
        )
        con.close()
    con = store.connect(db)
    assert {r[0] for r in con.execute("DESCRIBE requests").fetchall()} >= set(AUDIO)
    assert {r[0] for r in con.execute("DESCRIBE usage_buckets").fetchall()} >= set(AUDIO)
    numbers = {n for n, name, _ in store.MIGRATIONS if "audio" in name}
    assert numbers <= {r[0] for r in con.execute("SELECT number FROM schema_migrations").fetchall()}
    # the call stored before keeps its counts; its audio is unknown (billed as text)
    assert con.execute(f"SELECT input_tokens, {', '.join(AUDIO)} FROM requests").fetchall() == [
        (1200, None, None, None)
    ]
    costing.prepare(con, load_pricing())
    # 1,200 × $2.50 + 600 × $10 (no audio known: the text prices)
    assert con.execute("SELECT cost_usd FROM priced").fetchall() == [(Decimal("0.009"),)]
    ingest_paths(con, [str(jsonl([chat("gpt-4o-audio-preview-2024-12-17")], "new.jsonl"))])
    assert con.execute(
        f"SELECT {', '.join(AUDIO)} FROM requests WHERE source LIKE '%new.jsonl'"
    ).fetchall() == [(1000, None, 500)]
    con.close()


def test_export_has_the_audio_columns(tmp_path, jsonl):
    out = tmp_path / "calls.csv"
    export_calls([jsonl([chat("gpt-4o-audio-preview-2025-06-03")])], out)
    with out.open() as f:
        (row,) = list(csv.DictReader(f))
    assert [row[c] for c in AUDIO] == ["1000", "", "500"]
    assert Decimal(row["cost_usd"]) == Decimal("0.0815")
    assert Decimal(row["cost_input"]) + Decimal(row["cost_output"]) == Decimal("0.0815")


def test_pricing_show_lists_the_audio_prices(cli):
    shown = cli("pricing", "show", "gpt-realtime").stdout
    header = next(line for line in shown.splitlines() if line.startswith("from"))
    assert header.split() == [
        "from", "tier", "input", "cache", "read", "output", "audio", "in", "audio", "cached",
        "audio", "out",
    ]  # fmt: skip
    row = next(line for line in shown.splitlines() if line.startswith("2025-08-28"))
    assert row.split() == ["2025-08-28", "standard", "4", "0.4", "16", "32", "0.4", "64"]
    info = json.loads(cli("pricing", "show", "gpt-4o-audio-preview", "-f", "json").stdout)
    assert info["history"][0] == {
        "from": "2024-12-17", "to": None, "tier": "standard", "above_input_tokens": None,
        "off_peak": None, "input": 2.5, "output": 10.0, "input_audio": 40.0,
        "output_audio": 80.0, "modifiers": None,
    }  # fmt: skip


def test_downgrade_reprices_the_audio_at_the_targets_audio_prices(jsonl):
    from llmcost.api import analyze

    usage = chat("x")["usage"] | {"completion_tokens": 60, "total_tokens": 1260}
    usage["completion_tokens_details"] = {"reasoning_tokens": 0, "audio_tokens": 50}
    line = {
        "timestamp": TS,
        "request": {"model": "gpt-audio", "messages": [{"role": "user", "content": "hi"}]},
        "response": {"model": "gpt-audio-2025-08-28", "usage": usage},
    }
    (item,) = analyze([jsonl([line])]).to_dict()["downgrade"]["by_model"]
    assert item["target"] == "gpt-audio-mini"
    # gpt-audio: 200 × 2.50 + 1,000 × 32 + 10 × 10 + 50 × 64 = $0.0358
    # gpt-audio-mini: 200 × 0.60 + 1,000 × 10 + 10 × 2.40 + 50 × 20 = $0.011144
    assert (item["cost_usd"], item["target_cost_usd"]) == (0.0358, 0.011144)


def test_api_price_bills_the_usage_audio():
    import llmcost

    cost = llmcost.price("gpt-4o-audio-preview", chat("x")["usage"], at="2026-03-01")
    audio_counts = (cost.input_audio_tokens, cost.cache_read_audio_tokens)
    assert audio_counts + (cost.output_audio_tokens,) == (1000, 0, 500)
    assert (cost.input, cost.output, cost.total) == (
        Decimal("0.0405"),  # 200 × 2.50 + 1,000 × 40
        Decimal("0.041"),  # 100 × 10 + 500 × 80
        Decimal("0.0815"),
    )
    gemini = {
        "promptTokenCount": 1000,
        "candidatesTokenCount": 10,
        "promptTokensDetails": [{"modality": "AUDIO", "tokenCount": 1000}],
    }
    # 1,000 × $1.00 (audio) + 10 × $2.50
    assert llmcost.price("gemini-2.5-flash", gemini, at="2026-03-01").total == Decimal("0.001025")
