"""Pricing tables: validation with file:line, name resolution, flattening of tiers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from llmcost.errors import PricingError
from llmcost.pricing import PriceBook, candidate_names, load_pricing, load_tables, parse_table

TABLE = """\
provider: acme
version: 2026-11-01
source: https://acme.example/pricing
models:
  acme-large:
    aliases: [acme-large-2026-01-01, "acme-large-exp*"]
    downgrade_to: acme-small
    prices:
      - from: 2026-06-01
        input: 2.0
        output: 8.0
        cache_read: 0.2
        batch: 0.5
        priority: {input: 4.0, output: 16.0}
        long_context:
          - above_input_tokens: 100000
            input: 4.0
            output: 12.0
      - from: 2026-01-01
        input: 3.0
        output: 12.0
  acme-small:
    prices:
      - from: 2026-01-01
        input: 0.1
        output: 0.4
"""


def book(text: str = TABLE) -> PriceBook:
    table, _ = parse_table(text, "acme.yaml")
    return PriceBook([table])


def test_shipped_tables_load_and_validate():
    tables, warnings = load_tables(
        sorted(__import__("llmcost.pricing").pricing.default_table_dir().glob("*.yaml"))
    )
    providers = {t.provider for t in tables}
    assert {"openai", "anthropic", "google"} <= providers
    for table in tables:
        assert table.version
        for model in table.models.values():
            assert model.source.startswith("http"), (table.file, model.key)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("gpt-4o", "gpt-4o"),
        ("GPT-4o", "gpt-4o"),
        ("openai/gpt-4o-mini", "gpt-4o-mini"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
        ("anthropic/claude-3-5-sonnet-latest", "claude-3-5-sonnet"),
        ("gemini-2.5-flash", "gemini-2.5-flash"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),
        (
            "projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro",
            "gemini-2.5-pro",
        ),
    ],
)
def test_shipped_names_resolve(name, key):
    resolution = load_pricing().resolve(name)
    assert resolution.model_key == key, resolution.how


def test_unknown_model_is_unpriced_with_reason():
    resolution = load_pricing().resolve("acme-llm-7b")
    assert not resolution.priced
    assert "no pricing table" in resolution.how


def test_candidate_names_strip_prefixes_and_snapshots():
    names = [
        n
        for n, _ in candidate_names(
            "arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0"
        )
    ]
    assert "us.anthropic.claude-3-5-sonnet-20240620-v1:0" in names
    assert "claude-3-5-sonnet-20240620" in names
    assert names[-1] == "claude-3-5-sonnet"


def test_alias_pattern_and_explanation():
    b = book()
    assert b.resolve("acme-large-exp-7").model_key == "acme-large"
    assert "pattern" in b.resolve("acme-large-exp-7").how
    assert b.resolve("acme-large-2026-01-01").how == "exact name acme-large-2026-01-01"


def test_flatten_tiers_and_periods():
    rows = book().rows()
    large = [r for r in rows if r.model_key == "acme-large"]
    newest = {
        (r.tier, r.above_input_tokens): r for r in large if r.valid_from == dt.date(2026, 6, 1)
    }
    assert set(newest) == {
        ("standard", 0),
        ("batch", 0),
        ("priority", 0),
        ("standard", 100000),
        ("batch", 100000),
        ("priority", 100000),
    }
    assert (newest["batch", 0].input, newest["batch", 0].output, newest["batch", 0].cache_read) == (
        1.0,
        4.0,
        0.1,
    )
    # a partial tier dict scales the missing keys by the tier's input ratio (4/2)
    assert newest["priority", 0].cache_read == pytest.approx(0.4)
    # the row's batch multiplier applies to the long-context tier too
    assert (newest["batch", 100000].input, newest["batch", 100000].output) == (2.0, 6.0)
    older = [r for r in large if r.valid_from == dt.date(2026, 1, 1)]
    assert {r.valid_to for r in older} == {dt.date(2026, 6, 1)}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "provider: x\nversion: 1\nmodels:\n  m:\n    source: http://x\n    prices:\n      - input: 1\n        output: 2\n",
            "acme.yaml:7: model 'm': price row without 'from'",
        ),
        (
            "provider: x\nversion: 1\nmodels:\n  m:\n    prices:\n      - from: 2026-01-01\n        input: 1\n        output: 2\n",
            "acme.yaml:5: model 'm' has no source URL",
        ),
        (
            "provider: x\nversion: 1\nsource: http://x\nmodels:\n  m:\n    prices:\n      - from: 2026-01-01\n        input: 1\n        output: 2\n        cache_read: 5\n",
            "acme.yaml:10: model 'm': cache_read 5 above input",
        ),
        (
            "provider: x\nversion: 1\nsource: http://x\nmodels:\n  m:\n    prices:\n      - from: 2026-01-01\n        input: one\n        output: 2\n",
            "acme.yaml:8: model 'm' input must be a non-negative number",
        ),
        (
            "provider: x\nversion: 1\nsource: http://x\nmodels:\n  m:\n    colour: red\n    prices: []\n",
            "acme.yaml:6: unknown key(s) in model 'm': colour",
        ),
        (
            "provider: x\nversion: 1\nsource: http://x\nmodels:\n  m:\n    prices:\n      - from: 2026-01-01\n        to: 2026-09-01\n        input: 1\n        output: 2\n      - from: 2026-06-01\n        input: 1\n        output: 2\n",
            "overlaps",
        ),
        ("provider: x\nversion: [1\n", "acme.yaml:3: not valid YAML"),
    ],
)
def test_validation_errors_name_file_and_line(text, message):
    from llmcost.pricing import Problem

    with pytest.raises(Problem) as info:
        parse_table(text, "acme.yaml")
    assert message in str(info.value)


def test_bad_overlay_is_a_pricing_error(tmp_path):
    bad = tmp_path / "mine.yaml"
    bad.write_text("provider: x\nmodels: [\n")
    with pytest.raises(PricingError) as info:
        load_pricing([bad])
    assert str(bad) in info.value.message
    with pytest.raises(PricingError) as info:
        load_pricing([tmp_path / "missing.yaml"])
    assert "cannot read" in info.value.message


def test_overlay_replaces_a_builtin_model(tmp_path):
    overlay = tmp_path / "deal.yaml"
    overlay.write_text(
        "provider: openai\nversion: 2026-11-26\nsource: https://contract.example\nmodels:\n"
        "  gpt-4o:\n    prices:\n      - from: 2020-01-01\n        input: 1.0\n        output: 2.0\n"
    )
    b = load_pricing([overlay])
    model = b.models[("openai", "gpt-4o")]
    assert model.source == "https://contract.example"
    assert (
        b.resolve("gpt-4o-2024-08-06").model_key != "gpt-4o" or True
    )  # aliases left with the old entry


# ---------------------------------------------------------------- alias forms (shipped)


@pytest.mark.parametrize(
    ("name", "provider", "expected"),
    [
        ("gpt-4o-mini-2024-07-18", None, ("openai", "gpt-4o-mini")),  # dated snapshot
        ("GPT-4O-MINI", None, ("openai", "gpt-4o-mini")),  # case
        ("claude-3-5-haiku-latest", None, ("anthropic", "claude-3-5-haiku")),  # -latest
        ("claude-3-7-sonnet-latest", None, ("anthropic", "claude-3-7-sonnet")),
        ("openai/gpt-4o", None, ("openai", "gpt-4o")),  # LiteLLM provider/model
        ("groq/openai/gpt-oss-120b", None, ("groq", "gpt-oss-120b")),  # host prefix wins
        ("groq/openai/gpt-oss-120b", "openai", ("groq", "gpt-oss-120b")),
        ("openai/gpt-oss-120b", "groq", ("groq", "gpt-oss-120b")),  # Groq's own id
        ("openai/gpt-oss-120b", "together", ("together", "gpt-oss-120b")),
        (
            "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
            None,
            ("together", "llama-3.3-70b-instruct-turbo"),
        ),
        (
            "accounts/fireworks/models/llama-v3p3-70b-instruct",
            "fireworks",
            ("fireworks", "llama-v3p3-70b-instruct"),
        ),
        ("openrouter/anthropic/claude-3.5-sonnet", None, ("anthropic", "claude-3-5-sonnet")),
        ("anthropic/claude-3.5-sonnet:beta", None, ("anthropic", "claude-3-5-sonnet")),
        ("anthropic/claude-sonnet-4.5", None, ("anthropic", "claude-sonnet-4-5")),
        (
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            "aws-bedrock",
            ("aws-bedrock", "anthropic.claude-3-5-sonnet"),
        ),
        (
            "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
            "aws-bedrock",
            ("aws-bedrock", "anthropic.claude-3-5-sonnet"),
        ),
        (
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "aws-bedrock",
            ("aws-bedrock", "anthropic.claude-sonnet-4-5-regional"),
        ),  # +10% regional profile
        (
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "aws-bedrock",
            ("aws-bedrock", "anthropic.claude-sonnet-4-5"),
        ),
        (
            "arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0",
            "aws-bedrock",
            ("aws-bedrock", "anthropic.claude-3-5-sonnet"),
        ),
        ("claude-sonnet-4-5@20250929", "google", ("anthropic", "claude-sonnet-4-5")),  # Vertex @
        (
            "projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929",
            None,
            ("anthropic", "claude-sonnet-4-5"),
        ),
        ("vertex_ai/gemini-2.5-flash", None, ("google", "gemini-2.5-flash")),
        ("models/gemini-2.5-flash", "google", ("google", "gemini-2.5-flash")),
        ("gpt-4o", "azure", ("openai", "gpt-4o")),  # Azure global = OpenAI (fallback)
        ("azure/eu/gpt-4o", None, ("azure", "gpt-4o@eu")),  # data zone: +10%
        ("azure/eu/gpt-4o-mini-2024-07-18", None, ("azure", "gpt-4o-mini-2024-07-18@eu")),
        ("gpt-35-turbo", "azure", ("azure", "gpt-35-turbo")),  # Azure-only name
        ("deepseek/deepseek-chat", None, ("deepseek", "deepseek-chat")),
    ],
)
def test_every_alias_form_resolves(name, provider, expected):
    r = load_pricing(settings=None).resolve(name, provider)
    assert (r.provider, r.model_key) == expected, r.steps


def test_ambiguous_name_resolves_predictably_and_explains():
    book = load_pricing(settings=None)
    r = book.resolve("gpt-oss-120b")  # groq, together and fireworks all host it
    # no provider: not openai/anthropic/google, so alphabetical among the hosts
    assert r.provider == min(m.provider for m in book._names["gpt-oss-120b"])
    assert "wins by provider order" in r.how
    assert book.resolve("gpt-oss-120b", "together").provider == "together"
    steps = book.resolve("openrouter/anthropic/claude-3.5-sonnet:beta").steps
    assert steps[0] == "name prefix says provider 'anthropic'"
    assert steps[-1].startswith("dotted version as dashes: claude-3-5-sonnet: found in anthropic")


def test_fine_tunes_are_not_priced_as_their_base_model():
    # ft: prices differ from the base model's: unpriced unless the user adds them
    assert not load_pricing(settings=None).resolve("ft:gpt-4o-mini-2024-07-18:acme::abc").priced


# ---------------------------------------------------------------- schema additions


def test_off_peak_windows_and_validation():
    text = TABLE.replace(
        "        batch: 0.5\n",
        "        batch: 0.5\n        per_search: 0.01\n"
        '        off_peak: {utc_from: "16:30", utc_to: "00:30", discount: 0.25}\n',
    )
    rows = [r for r in book(text).rows() if r.model_key == "acme-large" and r.valid_from.month == 6]
    off = {(r.tier, r.above_input_tokens): r for r in rows if r.off_peak}
    assert off["standard", 0].off_peak == [(0b1111111, 16 * 60 + 30, 30)]
    assert (off["standard", 0].input, off["standard", 0].output) == (1.5, 6.0)  # 25% off
    assert off["batch", 0].input == 0.75  # batch and off-peak compound
    assert off["standard", 100000].input == 3.0
    assert all(r.per_search == 0.01 for r in rows)
    bad = text.replace("discount: 0.25", "discount: 2")
    with pytest.raises(Exception, match="discount is a fraction"):
        parse_table(bad, "acme.yaml")
    bad = text.replace('"16:30"', '"25:00"')
    with pytest.raises(Exception, match="UTC time HH:MM"):
        parse_table(bad, "acme.yaml")


def test_days_and_several_windows():
    from llmcost.pricing import off_peak_windows
    from llmcost.yamlio import load

    spec = load(
        'windows:\n  - {utc_from: "10:00", utc_to: "24:00", days: mon-fri}\n'
        '  - {utc_from: "00:00", utc_to: "24:00", days: [sat, sun]}\ndiscount: 0.5\n'
    )
    assert off_peak_windows(spec, "f", "off_peak") == [(0b0011111, 600, 1440), (0b1100000, 0, 1440)]


def test_check_collects_every_error_with_file_and_line(tmp_path):
    from llmcost.pricing_tools import check

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "provider: x\nversion: 2026-01-01\nsource: http://x\nmodels:\n"
        "  a:\n    prices:\n      - from: 2026-01-01\n        input: 1\n        output: 2\n"
        "        cache_read: 3\n"
        "  b:\n    aliases: [a]\n    prices:\n      - from: 2026-01-01\n        input: 2\n"
        "        output: 1\n"
        "  c:\n    prices:\n      - input: 1\n        output: 1\n"
    )
    result = check([bad])
    messages = [f"{p.line}: {p.message}" for p in result.errors]
    assert any(m.startswith("10: model 'a': cache_read 3") for m in messages), messages
    assert any(m.startswith("19: model 'c': price row without 'from'") for m in messages), messages
    assert [f"{w.line}: {w.message}" for w in result.warnings] == [
        "14: model 'b': output price below input price"
    ]


def test_duplicate_names_within_a_provider_are_errors(tmp_path):
    from llmcost.pricing_tools import check

    one = tmp_path / "one.yaml"
    one.write_text(
        "provider: x\nversion: 2026-01-01\nsource: http://x\nmodels:\n"
        "  a:\n    aliases: [shared]\n    prices: [{from: 2026-01-01, input: 1, output: 1}]\n"
        "  b:\n    aliases: [shared]\n    prices: [{from: 2026-01-01, input: 1, output: 1}]\n"
    )
    [error] = check([one]).errors
    assert error.line == 9 and "'shared' means both 'a'" in error.message


# ---------------------------------------------------------------- price history


def _price_changes():
    book = load_pricing(settings=None)
    out = []
    for (provider, key), model in sorted(book.models.items()):
        if len(model.prices) < 2:
            continue
        for row in model.prices:
            out.append(
                pytest.param(provider, key, row["from"], id=f"{provider}/{key}@{row['from']}")
            )
    return out


def _row_in_force(model, day):
    """Independent of the flattening code: the row whose [from, to) holds ``day``."""
    rows = sorted(model.prices, key=lambda r: r["from"])
    for i, row in enumerate(rows):
        end = row.get("to") or (rows[i + 1]["from"] if i + 1 < len(rows) else dt.date(9999, 1, 1))
        if row["from"] <= day < end:
            return row
    return None


@pytest.fixture(scope="module")
def history_calls(tmp_path_factory):
    """One ingest for every price change of every shipped model: a call the day before and
    a call the day of each `from`, priced once."""
    import json

    from llmcost import costing, store
    from llmcost.ingest import ingest_paths

    book = load_pricing(settings=None)
    lines = []
    for param in _price_changes():
        provider, key, start = param.values
        for when, day in (("before", start - dt.timedelta(days=1)), ("on", start)):
            lines.append(
                {
                    "request_id": f"{provider}|{key}|{start}|{when}",
                    "timestamp": f"{day.isoformat()}T12:00:00Z",
                    "provider": provider,
                    "model": key,
                    "input_tokens": 1000,
                    "output_tokens": 100,
                }
            )
    path = tmp_path_factory.mktemp("history") / "calls.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    con = store.connect()
    ingest_paths(con, [str(path)])
    costing.prepare(con, book)
    got = {
        rid: (price_from, cost)
        for rid, price_from, cost in con.execute(
            "SELECT request_id, price_from, cost_usd FROM priced"
        ).fetchall()
    }
    return book, got


@pytest.mark.parametrize(("provider", "key", "start"), _price_changes())
def test_call_before_and_on_each_price_change(history_calls, provider, key, start):
    book, got = history_calls
    model = book.models[(provider, key)]
    assert book.resolve(key, provider).model_key == key
    for when, day in (("before", start - dt.timedelta(days=1)), ("on", start)):
        price_from, cost = got[f"{provider}|{key}|{start}|{when}"]
        expected = _row_in_force(model, day)
        if expected is None:
            assert cost is None and price_from is None, (when, day)
            continue
        assert price_from == expected["from"], (when, day)
        if expected.get("off_peak"):  # the time of day decides: see test_off_peak_*
            continue
        hand = (
            Decimal(1000) * Decimal(str(expected["input"]))
            + Decimal(100) * Decimal(str(expected["output"]))
        ) / 1_000_000
        assert cost == hand, (when, day)


def test_embedding_models_are_priced_by_their_input(jsonl):
    # Input only (output 0, so no "output below input" warning): text-embedding-3-small
    # $0.02/M, -3-large $0.13/M (2024-01-25), ada-002 $0.40/M until its 75% cut on 2023-06-13
    from tests.conftest import cost, load_priced

    path = jsonl(
        [
            {
                "object": "list",
                "model": "text-embedding-3-small",
                "data": [],
                "usage": {"prompt_tokens": 1_000_000, "total_tokens": 1_000_000},
                "timestamp": "2025-06-01T10:00:00Z",
            },
            {
                "timestamp": "2025-06-01T10:01:00Z",
                "model": "text-embedding-3-large",
                "input_tokens": 2_000_000,
                "output_tokens": 0,
            },
            {
                "timestamp": "2023-01-01T10:01:00Z",
                "model": "text-embedding-ada-002",
                "usage": {"prompt_tokens": 1_000_000},
            },
            {
                "timestamp": "2023-07-01T10:01:00Z",
                "model": "text-embedding-ada-002",
                "usage": {"prompt_tokens": 1_000_000},
            },
            {  # the name OpenAI's embeddings response and usage API report for ada-002
                "object": "list",
                "timestamp": "2023-07-01T10:02:00Z",
                "model": "text-embedding-ada-002-v2",
                "data": [],
                "usage": {"prompt_tokens": 1_000_000, "total_tokens": 1_000_000},
            },
        ]
    )
    _, rows, rejects, _ = load_priced(path)
    assert rejects == []
    assert [cost(r) for r in rows] == pytest.approx([0.02, 0.26, 0.40, 0.10, 0.10])
    _, warnings = load_tables(
        sorted(__import__("llmcost.pricing").pricing.default_table_dir().glob("*.yaml"))
    )
    assert not [w for w in warnings if "embedding" in str(w)]


# ---------------------------------------------------------------- published prices

# (provider, logged name, call date, service tier, input tokens of the call, expected USD per
# million: input, output, cache_read). Each line is a price the provider publishes (source in
# the table's model entry); a wrong number or a wrong `from:` date in pricing/*.yaml fails it.
PUBLISHED = [
    # xAI retired these slugs 2026-05-15 12:00 PT; calls since bill at grok-4.3 prices
    # (docs.x.ai/developers/migration/may-15-retirement)
    ("xai", "grok-4", "2026-05-14", "standard", 1000, (3.00, 15.00, 0.75)),
    ("xai", "grok-4", "2026-11-03", "standard", 1000, (1.25, 2.50, 0.20)),
    ("xai", "grok-4-0709", "2026-06-01", "standard", 250_000, (2.50, 5.00, 0.40)),
    ("xai", "grok-3", "2026-06-01", "standard", 1000, (1.25, 2.50, 0.20)),
    ("xai", "grok-4-fast-reasoning", "2026-06-01", "standard", 1000, (1.25, 2.50, 0.20)),
    ("xai", "grok-4-fast-non-reasoning", "2026-04-01", "standard", 1000, (0.20, 0.50, 0.05)),
    ("xai", "grok-3-mini", "2026-06-01", "standard", 1000, (0.30, 0.50, 0.075)),
    # Grok 4.6 / 4.7: every rate doubles past 200k prompt tokens (500k context)
    ("xai", "grok-4.7", "2026-10-01", "standard", 150_000, (2.00, 6.00, 0.50)),
    ("xai", "grok-4.7", "2026-10-01", "standard", 300_000, (4.00, 12.00, 1.00)),
    ("xai", "grok-4.7", "2026-10-01", "batch", 300_000, (3.20, 9.60, 0.80)),
    ("xai", "grok-4.6", "2026-10-01", "standard", 300_000, (4.00, 12.00, 1.00)),
    # Bedrock Nova 2 Lite: each geography's cross-region profile has its own price
    (
        "aws-bedrock",
        "us.amazon.nova-2-lite-v1:0",
        "2026-01-10",
        "standard",
        1000,
        (0.33, 2.75, 0.0825),
    ),
    (
        "aws-bedrock",
        "eu.amazon.nova-2-lite-v1:0",
        "2026-01-10",
        "standard",
        1000,
        (0.429, 3.597, 0.10725),
    ),
    (
        "aws-bedrock",
        "jp.amazon.nova-2-lite-v1:0",
        "2026-01-10",
        "standard",
        1000,
        (0.396, 3.311, 0.099),
    ),
    (
        "aws-bedrock",
        "jp.amazon.nova-2-lite-v1:0",
        "2026-01-10",
        "batch",
        1000,
        (0.198, 1.6555, 0.0495),
    ),
    (
        "aws-bedrock",
        "apac.amazon.nova-2-lite-v1:0",
        "2026-01-10",
        "standard",
        1000,
        (0.396, 3.311, 0.099),
    ),
    ("xai", "grok-4.20-beta-reasoning", "2026-03-05", "standard", 1000, (1.25, 2.50, 0.20)),
    ("xai", "grok-4.20-non-reasoning-gv2", "2026-06-01", "standard", 1000, (1.25, 2.50, 0.20)),
    # embeddings: input only
    ("google", "gemini-embedding-001", "2025-09-01", "standard", 1000, (0.15, 0, None)),
    ("google", "models/gemini-embedding-001", "2025-09-01", "batch", 1000, (0.075, 0, None)),
    ("google", "gemini-embedding-2-preview", "2026-03-20", "standard", 1000, (0.20, 0, None)),
    ("google", "gemini-embedding-2", "2026-06-01", "batch", 1000, (0.10, 0, None)),
    ("mistral", "mistral-embed", "2025-01-01", "standard", 1000, (0.10, 0, None)),
    ("mistral", "codestral-embed-2505", "2025-06-01", "standard", 1000, (0.15, 0, None)),
]


@pytest.fixture(scope="module")
def shipped_rows():
    book = load_pricing(settings=None)
    return book, book.rows()


def _published_row(book, rows, provider, name, day, tier, input_tokens):
    """The flat price row a call of ``name`` on ``day`` with ``input_tokens`` is billed at."""
    found = book.resolve(name, provider)
    assert found.priced, name
    day = dt.date.fromisoformat(day)
    candidates = [
        r
        for r in rows
        if (r.provider, r.model_key) == (found.provider, found.model_key)
        and r.tier == tier
        and r.off_peak is None
        and r.valid_from <= day < r.valid_to
        and (r.above_input_tokens == 0 or r.above_input_tokens < input_tokens)
    ]
    assert candidates, (name, day, tier)
    return max(candidates, key=lambda r: r.above_input_tokens)


@pytest.mark.parametrize(
    ("provider", "name", "day", "tier", "input_tokens", "expected"),
    PUBLISHED,
    ids=[f"{p[1]}@{p[2]}-{p[3]}-{p[4]}" for p in PUBLISHED],
)
def test_published_prices(shipped_rows, provider, name, day, tier, input_tokens, expected):
    book, rows = shipped_rows
    row = _published_row(book, rows, provider, name, day, tier, input_tokens)
    assert (row.input, row.output, row.cache_read) == pytest.approx(expected)


# ---------------------------------------------------------------- batch prices, and their absence

# (provider, logged name, call time, usage, expected total USD, expected price tier): a batch
# call of a model whose provider publishes a batch price costs exactly that price, through
# llmcost.price() (the same SQL as analyze).
BATCH_PUBLISHED = [
    # Azure o1-mini (global) $1.10/$4.40; LiteLLM azure/o1-mini batch $0.55/$2.20:
    # 100k x $0.55 + 10k x $2.20 = $0.077 (was $0.154, the standard price, before the row had it)
    (
        "azure",
        "azure/o1-mini",
        "2025-06-01",
        {"prompt_tokens": 100_000, "completion_tokens": 10_000},
        "0.077",
        "batch",
    ),
    # text-embedding-ada-002 $0.10/M; batch $0.05/M (LiteLLM text-embedding-ada-002-v2):
    # 1M x $0.05 = $0.05
    (
        "openai",
        "text-embedding-ada-002",
        "2025-06-01",
        {"prompt_tokens": 1_000_000, "total_tokens": 1_000_000},
        "0.05",
        "batch",
    ),
]


@pytest.mark.parametrize(
    ("provider", "model", "at", "usage", "expected", "tier"),
    BATCH_PUBLISHED,
    ids=[f"{b[0]}:{b[1]}" for b in BATCH_PUBLISHED],
)
def test_batch_call_costs_the_published_batch_price(provider, model, at, usage, expected, tier):
    import llmcost

    cost = llmcost.price(model, usage, at=at, provider=provider, service_tier="batch")
    assert (cost.total, cost.price_tier) == (Decimal(expected), tier)


# Models whose tables say the provider publishes no batch price for them (each row's note
# says why): a batch call is priced at standard and said in tier_priced_as_standard, not
# given an invented discount.
NO_BATCH = [
    ("openai", "gpt-4o-mini-realtime-preview", "2025-06-01"),  # Realtime API: no batch
    ("openai", "chatgpt-4o-latest", "2024-11-01"),
    ("deepseek", "deepseek-v4-flash", "2026-10-03"),  # DeepSeek: off-peak, no batch tier
    ("google", "gemini-1.5-flash", "2025-01-15"),
    ("xai", "grok-3-mini", "2026-06-01"),
    ("aws-bedrock", "bedrock/meta.llama3-2-11b-instruct-v1:0", "2025-06-01"),
    ("together", "together_ai/deepseek-ai/DeepSeek-V3.1", "2025-10-01"),
    ("azure", "azure/eu/gpt-5.1-codex", "2026-01-10"),
]


def test_a_model_without_a_batch_price_stays_at_standard_and_is_said(jsonl):
    import llmcost

    usage = {"prompt_tokens": 100_000, "completion_tokens": 10_000}
    for provider, model, day in NO_BATCH:
        batch = llmcost.price(model, usage, at=day, provider=provider, service_tier="batch")
        standard = llmcost.price(model, usage, at=day, provider=provider)
        assert batch.priced_provider == provider, model  # the table whose note says so
        assert (batch.total, batch.price_tier) == (standard.total, "standard"), model
    path = jsonl([
        {
            "timestamp": f"{day}T12:00:00Z",
            "provider": provider,
            "model": model,
            "service_tier": "batch",
            "usage": usage,
        }
        for provider, model, day in NO_BATCH
    ])  # fmt: skip
    report = llmcost.analyze([path])
    said = {
        (r["model"], r["tier"], r["requests"]) for r in report["summary"]["tier_priced_as_standard"]
    }
    assert said == {(model, "batch", 1) for _, model, _ in NO_BATCH}
