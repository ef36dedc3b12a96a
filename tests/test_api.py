"""The Python API: the same numbers as the CLI, typed results, no Typer/Rich on its path."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal

import pytest

import llmcost
from llmcost.api import Cost, Report, TokenCount, UnpricedModelError
from llmcost.errors import PricingError, UsageError
from tests.conftest import DATA, REAL, ROOT, SAMPLES, anthropic_txt_responses, cassette_envelopes

DEMO = SAMPLES / "demo.jsonl"
CALLS = DATA / "attribution" / "calls.jsonl"
PRICES = DATA / "attribution" / "prices.yaml"


def _without_generated_at(report: dict) -> dict:
    report = dict(report)
    report.pop("generated_at")
    return report


def test_cli_json_equals_the_api_on_the_demo_log(cli):
    result = cli("analyze", DEMO, "--format", "json", "--by", "feature", "--period", "weekly")
    assert result.exit_code == 0, result.stderr
    report = llmcost.analyze([DEMO], by="feature", period="weekly")
    assert isinstance(report, Report)
    assert _without_generated_at(json.loads(result.stdout)) == _without_generated_at(
        report.to_dict()
    )


def test_report_attributes():
    report = llmcost.analyze(CALLS, pricing=str(PRICES), by="team", since="2026-01-01")  # one path
    assert report.total_cost_usd == report["summary"]["total_cost_usd"] == 2.84  # 3.64 - 0.80
    assert (report.requests, report.priced_requests, report.unpriced_requests) == (7, 6, 1)
    assert report.attribution["by"] == ["team"]
    assert report.periods is None and report.sessions is None  # not asked for
    assert report.by_model[0]["model"] == "acme-small"
    assert report.cache is report["cache"]  # every key is an attribute
    assert report.window["since"] == "2026-01-01T00:00:00+00:00"
    assert "summary" in report and len(report) == len(report.to_dict())
    copy = report.to_dict()
    copy["summary"]["total_cost_usd"] = 0
    assert report.total_cost_usd == 2.84  # to_dict() is a copy
    assert "2.84" in repr(report)
    with pytest.raises(AttributeError):
        report.no_such_key  # noqa: B018


def test_no_typer_or_rich_on_the_api_path(tmp_path):
    code = f"""
import sys, llmcost
assert 'llmcost.api' not in sys.modules  # lazy: import llmcost stays instant
report = llmcost.analyze([{str(CALLS)!r}], pricing=[{str(PRICES)!r}], by='user', period='daily')
cost = llmcost.price('gpt-4o', {{'prompt_tokens': 10, 'completion_tokens': 5}}, at='2026-01-01')
llmcost.export_calls([{str(CALLS)!r}], {str(tmp_path / "x.csv")!r}, pricing=[{str(PRICES)!r}])
llmcost.load_pricing()
n = llmcost.count_tokens('hello world', 'gpt-4o')
loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click'))
print(report.total_cost_usd, cost.total, n, loaded)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    total, cost, n, loaded = out.stdout.split(" ", 3)
    assert total == "3.64"
    assert Decimal(cost) == Decimal("0.000075")  # 10 × $2.50/M + 5 × $10/M
    assert n == "2"
    assert loaded.strip() == "[]"


# ------------------------------------------------------------------------------ price


def test_price_openai_chat_usage_with_cache():
    cost = llmcost.price(
        "gpt-4o",
        {
            "prompt_tokens": 1200,
            "completion_tokens": 300,
            "prompt_tokens_details": {"cached_tokens": 1000},
        },
        at=dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc),
    )
    assert isinstance(cost, Cost)
    assert cost.usage_style == "openai_chat"
    assert (cost.input_tokens, cost.cache_read_tokens, cost.output_tokens) == (1200, 1000, 300)
    # gpt-4o from 2024-10-02: $2.50 in, $1.25 cached, $10 out (per million)
    assert cost.input == Decimal("0.0005")  # 200 uncached
    assert cost.cache_read == Decimal("0.00125")
    assert cost.output == Decimal("0.003")
    assert cost.total == Decimal("0.00475")
    assert (cost.model_key, cost.priced_provider, cost.price_tier) == (
        "gpt-4o",
        "openai",
        "standard",
    )
    assert cost.price_from == dt.date(2024, 10, 2)
    assert "gpt-4o" in cost.resolution
    assert cost.pricing_version


def test_price_uses_the_price_in_force_at_the_date():
    usage = {"prompt_tokens": 1_000_000, "completion_tokens": 0}
    before = llmcost.price("gpt-4o", usage, at=dt.date(2024, 6, 1))
    after = llmcost.price("gpt-4o", usage, at="2025-01-01")
    assert (before.total, before.price_from) == (Decimal(5), dt.date(2024, 5, 13))
    assert (after.total, after.price_from) == (Decimal("2.5"), dt.date(2024, 10, 2))


def test_price_anthropic_style_adds_cache_tokens():
    usage = {
        "input_tokens": 4,
        "cache_creation_input_tokens": 1163,
        "cache_read_input_tokens": 0,
        "output_tokens": 187,
    }
    cost = llmcost.price("claude-sonnet-4-5", usage, at="2026-01-01")
    assert cost.usage_style == "anthropic"
    assert (cost.input_tokens, cost.cache_write_tokens) == (4 + 1163, 1163)
    # $3 in, $3.75 cache write (5 min), $15 out
    assert cost.input == Decimal(4) * 3 / 10**6
    assert cost.cache_write == Decimal(1163) * Decimal("3.75") / 10**6
    assert cost.total == cost.input + cost.cache_write + cost.output


def test_price_gemini_style_adds_thoughts_to_output():
    usage = {"promptTokenCount": 682, "candidatesTokenCount": 40, "thoughtsTokenCount": 497}
    cost = llmcost.price("gemini-2.5-flash", usage, at="2026-01-01")
    assert (cost.usage_style, cost.input_tokens, cost.output_tokens) == ("gemini", 682, 537)
    assert cost.reasoning_tokens == 497


class _SdkUsage:
    """Stands in for an SDK's pydantic usage object."""

    def model_dump(self, mode="python", by_alias=False):
        return {"input_tokens": 100, "output_tokens": 10, "cache_read_input_tokens": 50}


def test_price_accepts_json_text_and_sdk_objects():
    a = llmcost.price("claude-haiku-4-5", _SdkUsage(), at="2026-01-01")
    b = llmcost.price("claude-haiku-4-5", json.dumps(_SdkUsage().model_dump()), at="2026-01-01")
    assert a.total == b.total and a.input_tokens == 150


def test_price_service_tier_and_overlay_book():
    book = llmcost.load_pricing([PRICES])
    cost = llmcost.price(
        "acme-large",
        {"input_tokens": 10000, "output_tokens": 10000},
        at="2026-01-01",
        provider="acme",
        pricing=book,
    )
    assert cost.total == Decimal("0.4")  # c2 of the attribution log
    batch = llmcost.price(
        "gpt-4o",
        {"prompt_tokens": 1_000_000, "completion_tokens": 0},
        at="2025-01-01",
        service_tier="batch",
    )
    assert (batch.price_tier, batch.total) == ("batch", Decimal("1.25"))


def test_price_errors():
    with pytest.raises(UnpricedModelError, match="no pricing table knows"):
        llmcost.price("acme-llm-7b", {"input_tokens": 1, "output_tokens": 1})
    with pytest.raises(UnpricedModelError, match="no price in force on 2023-01-01"):
        llmcost.price("gpt-4o", {"prompt_tokens": 1}, at="2023-01-01")
    with pytest.raises(UsageError, match="prompt_tokens is not a non-negative integer"):
        llmcost.price("gpt-4o", {"prompt_tokens": -3, "completion_tokens": 1})
    with pytest.raises(UsageError, match="no input token count"):
        llmcost.price("gpt-4o", {"completion_tokens": 1})
    with pytest.raises(UsageError, match="mapping"):
        llmcost.price("gpt-4o", [1, 2])
    with pytest.raises(UsageError, match="unknown usage style"):
        llmcost.price("gpt-4o", {"input_tokens": 1}, style="cohere")


def _real_records() -> list[dict]:
    """Real provider responses as log records, with their timestamp for pricing."""
    out = []
    for name in ("cassette_chat_completion.yaml", "cassette_responses_reasoning.yaml"):
        out.extend(cassette_envelopes(REAL / "openai" / name))
    out.extend(anthropic_txt_responses(REAL / "anthropic/prompt_caching_responses.txt"))
    thinking = json.loads((REAL / "anthropic/cassette_thinking_non_streaming.json").read_text())
    out.append(json.loads(thinking["body"]))
    out.extend(cassette_envelopes(REAL / "gemini/cassette_generate_content.yaml"))
    return out


def test_price_equals_analyze_on_the_real_fixtures(jsonl):
    """price() normalizes usage with the log reader's SQL: on every real response it gives
    the exact cost the log path gives."""
    records = _real_records()
    stamped = [{"timestamp": "2026-03-10T12:00:00Z", **r} for r in records]
    frame = llmcost.calls([jsonl(stamped)], attribution={})
    assert frame.height == len(records) >= 6
    styles = set()
    for record, row in zip(records, frame.sort("source_line").iter_rows(named=True)):
        response = record.get("response", record)
        usage = response.get("usage") or response.get("usageMetadata")
        cost = llmcost.price(row["model"], usage, at=row["ts"], provider=row["provider"])
        styles.add(cost.usage_style)
        assert cost.total == row["cost_usd"], row["model"]
        assert (cost.input_tokens, cost.output_tokens) == (
            row["input_tokens"],
            row["output_tokens"],
        )
        assert cost.cache_read_tokens == (row["cache_read_tokens"] or 0)
    assert {"openai_chat", "openai_responses", "anthropic", "gemini"} <= styles


def test_price_counts_what_else_the_usage_reports(jsonl):
    """price() dropped what the usage says beside its tokens, which the log path prices:
    2 web searches (Sonnet 4.5: 100 x $3 + 10 x $15 per 1M, + 2 x $0.01 = $0.02045, not
    $0.00045), inference_geo us on Opus 4.6 (1M x $5 x 1.1 = $5.50, not $5) and fast mode
    (x6 = $30). Each now costs what the same usage costs in a log."""
    at = dt.datetime(2026, 11, 2, 10, tzinfo=dt.timezone.utc)
    searches = {"input_tokens": 100, "cache_creation_input_tokens": 0, "output_tokens": 10,
                "server_tool_use": {"web_search_requests": 2}}  # fmt: skip
    cases = [
        ("claude-sonnet-4-5", searches, Decimal("0.02045")),
        ("claude-opus-4-6", {"input_tokens": 10**6, "output_tokens": 0, "inference_geo": "us"},
         Decimal("5.5")),
        ("claude-opus-4-6", {"input_tokens": 10**6, "output_tokens": 0, "speed": "fast"},
         Decimal("30")),
    ]  # fmt: skip
    lines = [
        {"type": "message", "role": "assistant", "id": f"msg_{i}", "model": model,
         "content": [{"type": "text", "text": "x"}], "timestamp": at.isoformat(), "usage": usage}
        for i, (model, usage, _) in enumerate(cases)
    ]  # fmt: skip
    frame = llmcost.calls([jsonl(lines)], attribution={}).sort("source_line")
    for (model, usage, expected), row in zip(cases, frame.iter_rows(named=True)):
        cost = llmcost.price(model, usage, at=at)
        assert cost.total == expected == row["cost_usd"], model
    cost = llmcost.price("claude-sonnet-4-5", searches, at=at)
    assert cost.search == Decimal("0.02")
    assert cost.input + cost.cache_write + cost.output + cost.per_request + cost.search == (
        cost.total
    )


# ------------------------------------------------------------------------------ tokens


def test_count_tokens_text_and_messages():
    n = llmcost.count_tokens("How do I rotate an API key?", "gpt-4o")
    assert isinstance(n, TokenCount) and isinstance(n, int)
    assert (n.encoding, n.source) == ("o200k_base", "counted")
    from llmcost import tokens

    assert n == tokens.count_texts(["How do I rotate an API key?"], "o200k_base")[0]
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    m = llmcost.count_tokens(messages, "gpt-4o-mini")
    assert m == tokens.chat_prompt_tokens(messages, "o200k_base")
    old = llmcost.count_tokens("How do I rotate an API key?", "gpt-4")
    assert old.encoding == "cl100k_base"


def test_count_tokens_estimates_other_providers():
    n = llmcost.count_tokens("How do I rotate an API key? " * 20, "claude-sonnet-4-5")
    assert n.source == "estimated" and n.factor != 1.0
    raw = llmcost.count_tokens("How do I rotate an API key? " * 20, "gpt-4o")
    assert int(n) == int(raw * n.factor + 0.5)
    with pytest.raises(UsageError):
        llmcost.count_tokens(42, "gpt-4o")


def _filled_in(jsonl, key: str, prompt: list, answer: str) -> dict:
    """The call analyze makes of one gpt-4o-mini line without usage (its counts filled in)."""
    line = {"timestamp": "2026-01-01T00:00:00Z", "model": "gpt-4o-mini", key: prompt,
            "response": answer}  # fmt: skip
    [row] = llmcost.calls([jsonl([line])], attribution={}).iter_rows(named=True)
    return row


def test_count_tokens_matches_what_analyze_fills_in(jsonl):
    messages = [{"role": "user", "content": "Why is the sky blue? Answer in one line."}]
    row = _filled_in(jsonl, "messages", messages, "Because.")
    assert row["token_source"] == "counted"
    assert row["input_tokens"] == llmcost.count_tokens(messages, "gpt-4o-mini")


def test_count_tokens_of_a_responses_input_counts_its_function_calls(jsonl):
    # a Responses API input with a function call and its output: count_tokens framed the
    # items as chat messages, the call (no role, no content) a user message of 4 tokens and
    # the output another, their name, arguments and output not counted: 19 where analyze
    # fills in 26
    items = [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "21 degrees"},
    ]
    from llmcost import tokens

    count = tokens.get_encoding("o200k_base").encode_ordinary

    def n(*texts: str) -> int:
        return sum(len(count(t)) for t in texts)

    by_hand = (
        3 + n("user", "Hi")
        + 3 + n("assistant", " to=functions.get_weather", "{}")
        + 3 + n("functions.get_weather", "21 degrees")
        + 3
    )  # fmt: skip
    assert llmcost.count_tokens(items, "gpt-4o-mini") == by_hand
    assert _filled_in(jsonl, "input", items, "It is 21 degrees.")["input_tokens"] == by_hand


# ------------------------------------------------------------------------------ misc


def test_load_pricing_with_an_overlay():
    book = llmcost.load_pricing(PRICES)
    assert book.resolve("acme-small", "acme").priced
    assert not llmcost.load_pricing().resolve("acme-small", "acme").priced


def test_public_names_are_lazy_and_documented():
    for name in ("analyze", "price", "count_tokens", "load_pricing", "export_calls", "calls"):
        assert getattr(llmcost, name).__doc__
        assert name in dir(llmcost)
    assert llmcost.__version__
    with pytest.raises(AttributeError):
        llmcost.nope  # noqa: B018


def test_api_module_has_no_cli_imports():
    text = (ROOT / "llmcost" / "api.py").read_text()
    assert "import typer" not in text and "from rich" not in text and "import rich" not in text


@pytest.mark.parametrize("fn", ["analyze", "export_calls", "calls"])
def test_a_window_whose_until_is_not_after_its_since_is_a_usage_error(fn, tmp_path):
    # it read everything and ended as "no usable records" (the CLI already said this)
    args = {"export_calls": ([DEMO], str(tmp_path / "out.csv"))}.get(fn, ([DEMO],))
    with pytest.raises(UsageError, match=r"until \(2026-11-01\) is not after since"):
        getattr(llmcost, fn)(*args, since="2026-11-10", until="2026-11-01")


def test_price_an_unknown_service_tier_is_a_usage_error():
    # it was priced at the standard rates, silently, and the Cost said service_tier 'gold'
    with pytest.raises(UsageError, match="unknown service tier 'gold'"):
        llmcost.price("gpt-4o", {"prompt_tokens": 1000}, at="2025-01-01", service_tier="gold")
    # the names a log may carry still read as the log reader reads them
    for tier, want in (("Batch", "batch"), ("default", "standard"), ("scale", "priority")):
        cost = llmcost.price("gpt-4o", {"prompt_tokens": 1000}, at="2025-01-01", service_tier=tier)
        assert cost.service_tier == want


@pytest.mark.parametrize("top", [-1, 0, "5", 2.5, True])
def test_analyze_top_that_is_not_a_whole_number_from_1_is_a_usage_error(top):
    # -1 ended in DuckDB's 'LIMIT/OFFSET cannot be negative', '5' in a TypeError from a slice
    with pytest.raises(UsageError, match="top must be a whole number ≥ 1"):
        llmcost.analyze([DEMO], top=top)


def test_load_pricing_from_a_folder_without_tables_is_an_error(tmp_path):
    # a book of no tables read every model as unpriced, without a word
    for folder, why in ((tmp_path / "missing", "no such directory"), (tmp_path, r"no pricing")):
        with pytest.raises(PricingError, match=why):
            llmcost.load_pricing(table_dir=folder)
    (tmp_path / "acme.yaml").write_text(PRICES.read_text())
    assert llmcost.load_pricing(table_dir=tmp_path).resolve("acme-small", "acme").priced


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: llmcost.analyze([DEMO], by=5), "by must be dimension names"),
        (lambda: llmcost.analyze([DEMO], by=["user", 3]), "by must be dimension names"),
        (lambda: llmcost.analyze([DEMO], attribution=["team"]), "attribution must map"),
        (lambda: llmcost.calls([DEMO], attribution="metadata.team"), "attribution must map"),
        (lambda: llmcost.count_tokens("Hi", None), "model must be a model name"),
    ],
)
def test_wrong_types_raise_usage_error(call, message):
    # they raised TypeError, ValueError ('dictionary update sequence…') or AttributeError
    with pytest.raises(UsageError, match=message):
        call()


@pytest.mark.parametrize("paths", [[], None])
def test_analyze_with_no_paths_and_no_db_is_a_usage_error(paths):
    # it read nothing and raised NoRecordsError ('check the input format'), where the CLI
    # and calls() say there is nothing to read
    with pytest.raises(UsageError, match="nothing to analyze"):
        llmcost.analyze(paths)
