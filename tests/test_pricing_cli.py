"""``llmcost pricing …`` commands and the ``pricing:`` section of llmcost.yaml."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import DATA

SLICE = DATA / "pricing" / "litellm_slice.json"
ZERO = DATA / "pricing" / "litellm_zero.json"

OLD = """\
provider: acme
version: 2026-01-01
source: https://acme.example/pricing
models:
  acme-large:
    prices:
      - from: 2026-01-01
        input: 4.0
        output: 20.0
  acme-gone:
    prices:
      - from: 2026-01-01
        input: 1.0
        output: 1.0
"""
NEW = """\
provider: acme
version: 2026-06-01
source: https://acme.example/pricing
models:
  acme-large:
    prices:
      - from: 2026-06-01
        input: 3.0
        output: 15.0
      - from: 2026-01-01
        input: 4.0
        output: 20.0
  acme-new:
    prices:
      - from: 2026-06-01
        input: 1.0
        output: 2.0
"""


def test_check_passes_on_the_shipped_tables(cli):
    result = cli("pricing", "check")
    assert result.exit_code == 0, result.stderr
    assert "0 errors" in result.stdout
    assert "error:" not in result.stderr


def test_check_reports_file_line_and_exits_2(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(OLD.replace("output: 20.0", "output: 20.0\n        cache_read: 9.0"))
    result = cli("pricing", "check", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:10: model 'acme-large': cache_read 9.0 above input" in result.stderr


def test_list_show_resolve(cli):
    listed = json.loads(
        cli("pricing", "list", "--provider", "openai", "--as-of", "2024-09-01", "-f", "json").stdout
    )
    [gpt4o] = [m for m in listed["models"] if m["model"] == "gpt-4o"]
    assert (gpt4o["input"], gpt4o["output"], gpt4o["from"]) == (5.0, 15.0, "2024-05-13")
    assert {m["provider"] for m in listed["models"]} == {"openai"}
    table = cli("pricing", "list", "--provider", "deepseek").stdout
    assert "deepseek-v4-pro" in table and "off-peak" in table

    info = json.loads(cli("pricing", "show", "claude-sonnet-4-5-20250929", "-f", "json").stdout)
    assert info["model"] == "claude-sonnet-4-5" and info["long_context_counts_cache"]
    tiers = {(h["tier"], h["above_input_tokens"]) for h in info["history"]}
    assert ("batch", 200000) in tiers and ("standard", None) in tiers
    assert info["source"].startswith("https://")
    shown = cli("pricing", "show", "deepseek-chat").stdout
    assert "16:30-00:30 UTC" in shown

    out = cli("pricing", "resolve", "openrouter/anthropic/claude-3.5-sonnet")
    assert out.exit_code == 0
    assert "dotted version as dashes: claude-3-5-sonnet: found in anthropic" in out.stdout
    missing = cli("pricing", "resolve", "acme-llm-7b")
    assert missing.exit_code == 1 and "unpriced" in missing.stdout
    assert cli("pricing", "show", "acme-llm-7b").exit_code == 2


def test_resolve_as_of_gives_the_row_in_force_that_day(cli, jsonl):
    """`pricing resolve` took no date: prices are effective-dated (the gpt-4o alias moved
    from $5/$15 to $2.50/$10 on 2024-10-02), and "what price did a call on 2024-09-01
    get?" could not be asked. --as-of gives that day's row, its dates and source; a day
    before the model's first row is unpriced (exit 1); a bad date is a usage error."""
    resolved = cli("pricing", "resolve", "gpt-4o", "--as-of", "2024-09-01", "-f", "json")
    assert resolved.exit_code == 0, resolved.stderr
    before = json.loads(resolved.stdout)
    assert (before["model"], before["priced"], before["as_of"]) == ("gpt-4o", True, "2024-09-01")
    p = before["price"]
    assert (p["input"], p["output"], p["from"], p["to"]) == (5.0, 15.0, "2024-05-13", "2024-10-02")
    assert "cache_read" not in p and p["tiers"] == ["batch"]
    assert p["source"].startswith("https://") and ":" in p["defined_at"]
    assert p["defined_at"].split(":")[0].endswith("openai.yaml")
    after = json.loads(
        cli("pricing", "resolve", "gpt-4o", "--as-of", "2024-10-02", "-f", "json").stdout
    )
    p = after["price"]
    assert (p["input"], p["cache_read"], p["output"], p["from"], p["to"]) == (
        2.5,
        1.25,
        10.0,
        "2024-10-02",
        None,
    )
    # the row resolve shows is the one a call of that day is billed at
    log = jsonl(
        [
            {
                "timestamp": "2024-09-01T12:00:00Z",
                "provider": "openai",
                "model": "gpt-4o",
                "input_tokens": 1_000_000,
                "output_tokens": 0,
            }
        ]
    )
    report = json.loads(cli("analyze", str(log), "-f", "json").stdout)
    assert report["summary"]["total_cost_usd"] == before["price"]["input"]

    text = cli("pricing", "resolve", "gpt-4o", "--as-of", "2024-09-01", env={"COLUMNS": "200"})
    assert "price on 2024-09-01: input 5, output 15 (USD per million tokens)" in text.stdout
    assert "row: from 2024-05-13 to 2024-10-02 (" in text.stdout
    assert f"source: {before['price']['source']}" in text.stdout

    early = cli("pricing", "resolve", "gpt-4o", "--as-of", "2023-01-01")
    assert early.exit_code == 1
    assert "unpriced on 2023-01-01 (its first priced day is 2024-05-13)" in early.stdout
    early = json.loads(
        cli("pricing", "resolve", "gpt-4o", "--as-of", "2023-01-01", "-f", "json").stdout
    )
    assert (early["model"], early["priced"], early["price"]) == ("gpt-4o", False, None)

    bad = cli("pricing", "resolve", "gpt-4o", "--as-of", "2024-13-01")
    assert bad.exit_code == 2 and "--as-of '2024-13-01' is not a date" in bad.stderr
    # no date: today's prices, as before
    today = json.loads(cli("pricing", "resolve", "gpt-4o", "-f", "json").stdout)
    assert today["as_of"] == dt.datetime.now(dt.timezone.utc).date().isoformat()


def test_diff_files_and_bill_of_a_log(cli, tmp_path, jsonl):
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(OLD)
    new.write_text(NEW)
    log = jsonl(
        [
            {
                "timestamp": "2026-07-01T00:00:00Z",
                "provider": "acme",
                "model": "acme-large",
                "input_tokens": 1_000_000,
                "output_tokens": 100_000,
            },
            {
                "timestamp": "2026-07-01T00:00:00Z",
                "provider": "acme",
                "model": "acme-gone",
                "input_tokens": 1_000_000,
                "output_tokens": 0,
            },
        ]
    )
    result = cli("pricing", "diff", str(old), str(new), "--log", str(log), "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    changes = {c["model"]: c for c in data["changes"]}
    assert changes["acme-new"]["change"] == "added"
    assert changes["acme-gone"]["change"] == "removed"
    [row] = [r for r in changes["acme-large"]["rows"] if r["change"] == "added"]
    assert row["row"] == "from 2026-06-01" and row["new"]["input"] == 3.0
    bill = data["bill"]
    # old: 1M×$4 + 0.1M×$20 = $6 (+ $1 for acme-gone); new: 1M×$3 + 0.1M×$15 = $4.50, and
    # acme-gone unpriced. The change is over the one call both price, acme-large's: −$1.50
    # (it read −$2.50, acme-gone's $1 taken for a saving, its call $0 in the new bill)
    assert (bill["old_cost_usd"], bill["new_cost_usd"], bill["delta_usd"]) == (7.0, 4.5, -1.5)
    assert (bill["unpriced_old"], bill["unpriced_new"]) == (0, 1)
    assert bill["priced_by_both"] == {"requests": 1, "old_cost_usd": 6.0, "new_cost_usd": 4.5}
    gone = [m for m in bill["by_model"] if m["model"] == "acme-gone"][0]
    assert (gone["unpriced_old"], gone["unpriced_new"]) == (0, 1)  # now unpriced, never $0
    assert (gone["delta_usd"], gone["priced_by_both_requests"]) == (None, 0)
    # the table signed the change with a hyphen and no dollar sign: '(-2.500000)'
    table = cli("pricing", "diff", str(old), str(new), "--log", str(log), env={"COLUMNS": "200"})
    assert (
        "$7.000000 → $4.500000 (calls without a price: 0 by the old tables, 1 by the new; each "
        "bill leaves its own out)\nChange over the 1 call both price: $6.000000 → $4.500000 "
        "(−$1.500000)\n" in table.stdout
    )


def test_diff_against_a_git_revision(cli, tmp_path, monkeypatch):
    from llmcost import pricing_tools

    repo = tmp_path / "repo"
    (repo / "pricing").mkdir(parents=True)
    table = repo / "pricing" / "acme.yaml"
    table.write_text(OLD)
    git = ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "v1"], check=True)
    table.write_text(NEW)
    monkeypatch.setattr(pricing_tools, "_repo_root", lambda: repo)
    result = cli("pricing", "diff", "HEAD", str(repo / "pricing"), "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["old"] == "HEAD"
    assert {c["model"]: c["change"] for c in data["changes"]} == {
        "acme-gone": "removed",
        "acme-large": "changed",
        "acme-new": "added",
    }
    text = cli("pricing", "diff", "HEAD", str(repo / "pricing")).stdout
    assert "added row from" in text and "None" not in text  # an open-ended row: no 'to None'
    bad = cli("pricing", "diff", "no-such-rev~9", str(repo / "pricing"))
    assert bad.exit_code == 2 and "not a file, a directory or a git revision" in bad.stderr


def test_import_litellm_slice(cli, tmp_path, jsonl):
    out = tmp_path / "litellm.yaml"
    result = cli("pricing", "import-litellm", str(SLICE), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    from llmcost.pricing import parse_table

    table, _ = parse_table(out.read_text(), str(out))
    models = table.models
    assert "text-embedding-3-small" not in models  # not a chat model
    groq = models["groq/openai/gpt-oss-120b"]
    assert (groq.provider, groq.aliases) == ("groq", ["gpt-oss-120b"])
    [row] = groq.prices
    assert (row["input"], row["output"], row["cache_read"], row["per_search"]) == (
        0.15,
        0.6,
        0.075,
        0.005,
    )
    [sonnet] = models["claude-sonnet-4-5"].prices
    assert (sonnet["cache_write"], sonnet["cache_write_1h"]) == (3.75, 6.0)
    assert sonnet["batch"] == {"input": 1.5, "output": 7.5, "cache_read": 0.15}
    [fw] = models["fireworks_ai/accounts/fireworks/models/glm-5p3"].prices
    assert fw["priority"] == {"input": 1.75, "output": 5.5, "cache_read": 0.325}
    assert "6 " not in result.stderr and "5 models imported" in result.stderr

    only = tmp_path / "missing.yaml"
    result = cli("pricing", "import-litellm", str(SLICE), "--only-missing", "-o", str(only))
    missing = parse_table(only.read_text(), str(only))[0].models
    # gpt-4o, claude-sonnet-4-5 and Groq's gpt-oss-120b are in our tables; GLM-5.3 is not
    assert set(missing) == {
        "together_ai/zai-org/glm-5.3",
        "fireworks_ai/accounts/fireworks/models/glm-5p3",
    }
    # the overlay prices a call our tables could not
    log = jsonl(
        [
            {
                "timestamp": "2026-10-01T00:00:00Z",
                "provider": "together",
                "model": "zai-org/GLM-5.3",
                "input_tokens": 1_000_000,
                "output_tokens": 0,
            }
        ]
    )
    report = json.loads(cli("analyze", str(log), "--pricing", str(only), "-f", "json").stdout)
    assert report["summary"]["total_cost_usd"] == 1.4
    assert report["summary"]["unpriced_requests"] == 0


def test_import_litellm_leaves_out_0_0_models_the_map_does_not_mark_free(cli, tmp_path, jsonl):
    """LiteLLM's map prices 91 chat models 0 input and 0 output, most for "not known"
    (ollama/*, Lyria billed per output, GigaChat with no price filled in): imported at $0,
    their calls were billed $0 rather than counted unpriced. They are left out, counted on
    stderr with how to add one by hand, unless the map marks them free (its name, or its
    notes "at no cost"): those are imported at $0 and the note says why."""
    from llmcost.pricing import parse_table

    out = tmp_path / "zero.yaml"
    result = cli("pricing", "import-litellm", str(ZERO), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    models = parse_table(out.read_text(), str(out))[0].models
    assert set(models) == {"vertex_ai/meta/llama-3.1-8b-instruct-maas", "opencode_go/beam-free"}
    for model in models.values():
        [row] = model.prices
        assert (row["input"], row["output"]) == (0, 0)
    assert "at no cost" in models["vertex_ai/meta/llama-3.1-8b-instruct-maas"].note
    assert "free (its name says free)" in models["opencode_go/beam-free"].note
    err = " ".join(result.stderr.split())
    assert "2 models imported (2 free, as the map says)" in err and "4 priced 0/0" in err
    assert "left out 4 models LiteLLM prices 0 input and 0 output without marking them free" in err
    assert "add it to the YAML by hand with the provider's prices" in err
    assert "already priced" not in err  # without --only-missing no name is looked up

    # a 0/0 model left out is unpriced, never $0; one the map marks free costs $0
    log = jsonl(
        [
            {
                "timestamp": "2026-10-01T00:00:00Z",
                "provider": provider,
                "model": model,
                "input_tokens": 1_000_000,
                "output_tokens": 1_000,
            }
            for provider, model in (("ollama", "llama3"), ("opencode_go", "beam-free"))
        ]
    )
    report = json.loads(cli("analyze", str(log), "--pricing", str(out), "-f", "json").stdout)
    assert (report["summary"]["priced_requests"], report["summary"]["unpriced_requests"]) == (1, 1)
    assert [m["model"] for m in report["unpriced_models"]] == ["llama3"]
    assert report["summary"]["total_cost_usd"] == 0


CONFIG = """\
pricing:
  tables: [extra.yaml]
  discounts:
    - {provider: openai, percent: 15}
    - {model: gpt-4o-mini, percent: 50}
  models:
    "ft:gpt-4o-mini-2024-07-18:acme:*":
      provider: openai
      prices:
        - {from: 2024-07-18, input: 0.30, output: 1.20}
  self_hosted:
    llama-3.1-8b-local: {gpu_hour_usd: 2.0, tokens_per_second: 1500}
  azure_deployments:
    my-gpt4o-prod: gpt-4o@eu
"""
EXTRA = """\
provider: acme
version: 2026-01-01
source: https://acme.example
models:
  acme-large:
    prices: [{from: 2026-01-01, input: 1.0, output: 1.0}]
"""


@pytest.fixture
def config(tmp_path):
    (tmp_path / "llmcost.yaml").write_text(CONFIG)
    (tmp_path / "extra.yaml").write_text(EXTRA)
    return tmp_path / "llmcost.yaml"


def test_overrides_from_llmcost_yaml(config, jsonl):
    from llmcost import costing, store
    from llmcost.ingest import ingest_paths
    from llmcost.pricing import load_pricing

    book = load_pricing()
    calls = [
        # gpt-4o: 1M×$2.50 + 0.1M×$10 = $3.50, 15% off (provider discount) = $2.975
        ("gpt-4o", "openai", Decimal("2.975")),
        # gpt-4o-mini: the model's 50% wins over openai's 15%: (1M×$0.15 + 0.1M×$0.60)/2
        ("gpt-4o-mini", "openai", Decimal("0.105")),
        # fine-tune: its own prices, discounted 15% as an openai model: (0.30 + 0.12)×0.85
        ("ft:gpt-4o-mini-2024-07-18:acme:support:abc123", "openai", Decimal("0.357")),
        # self-hosted: $2 × 1e6 / (3600 × 1500) = $0.370370/M for input and output
        ("llama-3.1-8b-local", None, Decimal("0.370370") * Decimal("1.1")),
        # Azure deployment mapped to the EU data zone: gpt-4o@eu $2.75/$11, no discount
        ("my-gpt4o-prod", "azure", Decimal("3.85")),
        ("acme-large", "acme", Decimal("1.1")),  # pricing.tables
    ]
    path = jsonl(
        [
            {
                "timestamp": "2026-07-01T00:00:00Z",
                "model": m,
                "provider": p,
                "input_tokens": 1_000_000,
                "output_tokens": 100_000,
            }
            for m, p, _ in calls
        ]
    )
    con = store.connect()
    ingest_paths(con, [str(path)])
    costing.prepare(con, book)
    got = dict(con.execute("SELECT model, cost_usd FROM priced").fetchall())
    for model, _, expected in calls:
        assert got[model] == expected, model
    assert book.resolve("my-gpt4o-prod").steps[0] == (
        "Azure deployment 'my-gpt4o-prod' mapped to 'gpt-4o@eu' (llmcost.yaml:14)"
    )


def test_overrides_show_their_origin(config, cli):
    shown = json.loads(cli("pricing", "show", "gpt-4o", "-f", "json").stdout)
    assert shown["discount"] == {"percent": 15.0, "origin": "llmcost.yaml:4"}
    [now] = [
        h
        for h in shown["history"]
        if h["to"] is None and h["tier"] == "standard" and not h["above_input_tokens"]
    ]
    assert now["input"] == pytest.approx(2.125)  # $2.50 - 15%
    local = json.loads(cli("pricing", "show", "llama-3.1-8b-local", "-f", "json").stdout)
    assert local["source"] == "llmcost.yaml:12"
    assert local["history"][0]["input"] == 0.37037
    assert "3600 x tokens_per_second" in local["note"]
    ft = json.loads(
        cli("pricing", "show", "ft:gpt-4o-mini-2024-07-18:acme:x:1", "-f", "json").stdout
    )
    assert ft["source"] == "llmcost.yaml:7" and "pattern" in ft["resolved_by"]
    assert cli("pricing", "check").exit_code == 0  # shipped + extra.yaml


def test_show_source_and_defined_at_name_the_same_line(tmp_path, cli):
    # the line of the model's name, in llmcost.yaml and in a table alike: a block-style
    # entry's mapping starts a line below its name, and "defined at" gave that line
    (tmp_path / "llmcost.yaml").write_text(
        "pricing:\n"
        "  models:\n"
        "    acme-tuned:\n"
        "      provider: openai\n"
        "      prices: [{from: 2024-07-18, input: 0.30, output: 1.20}]\n"
        "  self_hosted:\n"
        "    llama-local:\n"
        "      gpu_hour_usd: 2.0\n"
        "      tokens_per_second: 1500\n"
    )
    for model, line in (("acme-tuned", 3), ("llama-local", 7)):
        shown = json.loads(cli("pricing", "show", model, "-f", "json").stdout)
        assert (shown["source"], shown["defined_at"]) == (f"llmcost.yaml:{line}",) * 2, model
        table = cli("pricing", "show", model).stdout
        assert f"source: llmcost.yaml:{line}   defined at llmcost.yaml:{line}" in table
    shipped = json.loads(cli("pricing", "show", "gpt-4o", "-f", "json").stdout)
    path, line = shipped["defined_at"].rsplit(":", 1)
    assert Path(path).read_text().splitlines()[int(line) - 1].strip() == "gpt-4o:"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("pricing:\n  colour: red\n", "llmcost.yaml:2: unknown key 'colour' in pricing"),
        (
            "pricing:\n  discounts:\n    - {provider: openai, percent: 150}\n",
            "llmcost.yaml:3: discount percent must be 0..100",
        ),
        (
            "pricing:\n  discounts:\n    - {percent: 10}\n",
            "llmcost.yaml:3: a discount names either a provider or a model",
        ),
        (
            "pricing:\n  self_hosted:\n    x: {gpu_hour_usd: 2}\n",
            "llmcost.yaml:3: x: tokens_per_second must be a positive number",
        ),
        (
            "pricing:\n  models:\n    m:\n      prices: [{from: 2026-01-01, input: 1, output: 1}]\n",
            "say which provider bills it",
        ),
    ],
)
def test_bad_pricing_section_names_file_and_line(tmp_path, cli, section, message):
    (tmp_path / "llmcost.yaml").write_text(section)
    result = cli("pricing", "list")
    assert result.exit_code == 2
    assert message in result.stderr.replace(str(tmp_path) + "/", "")


def test_analyze_as_of_cli(cli, jsonl):
    log = jsonl(
        [
            {
                "timestamp": "2024-09-01T12:00:00Z",
                "model": "gpt-4o",
                "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 100_000},
            }
        ]
    )
    report = json.loads(cli("analyze", str(log), "--as-of", "2025-01-01", "-f", "json").stdout)
    assert (report["summary"]["total_cost_usd"], report["summary"]["as_of_cost_usd"]) == (6.5, 3.5)
    bad = cli("analyze", str(log), "--as-of", "yesterday")
    assert bad.exit_code == 2 and "--as-of" in bad.stderr


def test_as_of_says_which_calls_it_leaves_out(cli, jsonl):
    """A call of a model not yet priced on the --as-of date is not in the what-if sum: the
    terminal, Markdown and HTML say how many such calls there are, never a bare total."""
    usage = {"prompt_tokens": 1_000_000, "completion_tokens": 100_000}
    small = {"prompt_tokens": 100_000, "completion_tokens": 10_000}  # $0.45 on Sonnet 4.5
    log = jsonl(
        [
            {"timestamp": "2024-09-01T12:00:00Z", "model": "gpt-4o", "usage": usage},
            # released 2025-09-29: priced at its own date, not on 2025-01-01
            {"timestamp": "2026-10-01T12:00:00Z", "model": "claude-sonnet-4-5", "usage": small},
            {"timestamp": "2026-10-02T12:00:00Z", "model": "claude-sonnet-4-5", "usage": small},
            {"timestamp": "2026-10-01T12:00:00Z", "model": "mystery-1", "usage": usage},
        ]
    )  # fmt: skip
    report = json.loads(cli("analyze", str(log), "--as-of", "2025-01-01", "-f", "json").stdout)
    summary = report["summary"]
    assert (summary["as_of_cost_usd"], summary["total_cost_usd"]) == (3.5, 7.4)
    assert (summary["as_of_priced_requests"], summary["as_of_unpriced_requests"]) == (1, 2)
    line = (
        "At prices of 2025-01-01: $3.50 for 1 of 4 calls (historical $7.40); 2 calls had no "
        "price on that date (models not yet priced), not counted as $0"
    )
    for format in ("table", "markdown"):
        out = cli(
            "analyze", str(log), "--as-of", "2025-01-01", "-f", format, env={"COLUMNS": "250"}
        )
        assert out.exit_code == 0
        assert line in out.stdout, format
    from llmcost.render.html import render

    assert line in render(report)


def test_unpriced_models_reported_with_counts(cli, jsonl):
    log = jsonl(
        [
            {
                "timestamp": "2026-07-01T00:00:00Z",
                "model": "mystery-9000",
                "input_tokens": 10,
                "output_tokens": 1,
            }
        ]
        * 1
        + [
            {
                "timestamp": "2026-07-01T00:00:01Z",
                "model": "mystery-9000",
                "input_tokens": 20,
                "output_tokens": 1,
            }
        ]
    )
    report = json.loads(cli("analyze", str(log), "-f", "json").stdout)
    assert report["unpriced_models"][0]["model"] == "mystery-9000"
    assert report["unpriced_models"][0]["requests"] == 2
    assert report["summary"]["unpriced_requests"] == 2
    assert report["by_model"][0]["cost_usd"] is None  # never $0


def test_relative_paths_are_from_the_config(config):
    from llmcost import pricing_overrides

    settings = pricing_overrides.from_config()
    assert pricing_overrides.table_paths(settings) == [Path(config).parent / "extra.yaml"]


def test_a_missing_table_of_the_config_names_the_config_line(config, cli, jsonl):
    (config.parent / "extra.yaml").unlink()
    log = jsonl([{"timestamp": "2026-10-01T00:00:00Z", "model": "gpt-4o", "input_tokens": 10}])
    result = cli("analyze", log, "--config", config)
    assert result.exit_code == 2
    assert f"{config}:2: pricing.tables: extra.yaml: no such file" in result.stderr
    assert "--pricing" not in result.stderr  # the config listed it, not a flag


def test_pricing_check_of_a_missing_table_names_where_it_was_given(config, cli, tmp_path):
    """`pricing check` of a table llmcost.yaml lists, gone, said 'cannot read pricing table
    …' with the hint 'check the path given to --pricing', a flag no one gave; a file named
    on its command line had the same hint. The config's line is named, as analyze does."""
    (config.parent / "extra.yaml").unlink()
    result = cli("pricing", "check")
    assert result.exit_code == 2
    assert f"{config}:2: pricing.tables: extra.yaml: no such file" in result.stderr
    assert "--pricing" not in result.stderr
    result = cli("pricing", "check", str(tmp_path / "gone.yaml"))
    assert result.exit_code == 2
    assert f"cannot read pricing table {tmp_path / 'gone.yaml'}" in result.stderr
    assert "--pricing" not in result.stderr


def test_a_pricing_table_that_is_not_utf8_exits_2_naming_its_line(cli, tmp_path, jsonl):
    table = tmp_path / "deal.yaml"
    table.write_bytes(EXTRA.replace("source:", "# négocié\nsource:").encode("latin-1"))
    log = jsonl([{"timestamp": "2026-10-01T00:00:00Z", "model": "gpt-4o", "input_tokens": 10}])
    for args in (["analyze", log, "--pricing", table], ["pricing", "check", table]):
        result = cli(*args)
        assert result.exit_code == 2, args
        assert f"{table}:3: not UTF-8 text (byte 0xe9)" in result.stderr


def test_list_of_an_unknown_provider_is_a_usage_error(cli):
    # a typo ('open-ai') printed an empty table and '0 models' with exit 0
    result = cli("pricing", "list", "--provider", "open-ai")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no pricing table is for 'open-ai'" in result.stderr and "openai" in result.stderr
    assert cli("pricing", "list", "--provider", "OpenAI").exit_code == 0  # any case


def test_diff_lists_alias_changes(cli, tmp_path):
    # an alias is a logged name a model is priced as: 'acme-l' moving from acme-large to
    # acme-new reprices every call logged under it, and diff listed no alias change at all
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(
        OLD.replace("  acme-large:\n", "  acme-large:\n    aliases: [acme-l, acme-big]\n")
    )
    new.write_text(
        NEW.replace("  acme-large:\n", "  acme-large:\n    aliases: [acme-xl]\n").replace(
            "  acme-new:\n", "  acme-new:\n    aliases: [acme-l]\n"
        )
    )
    data = json.loads(cli("pricing", "diff", str(old), str(new), "-f", "json").stdout)
    assert data["aliases"] == [
        {"provider": "acme", "alias": "acme-big", "change": "removed", "old_model": "acme-large",
         "new_model": None},
        {"provider": "acme", "alias": "acme-l", "change": "moved", "old_model": "acme-large",
         "new_model": "acme-new"},
        {"provider": "acme", "alias": "acme-xl", "change": "added", "old_model": None,
         "new_model": "acme-large"},
    ]  # fmt: skip
    result = cli("pricing", "diff", str(old), str(new), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert "3 models changed, 3 aliases changed" in " ".join(lines)
    assert "removed alias acme/acme-big (was → acme-large)" in lines
    assert "moved alias acme/acme-l → acme-new (was → acme-large)" in lines
    assert "added alias acme/acme-xl → acme-large" in lines
    same = json.loads(cli("pricing", "diff", str(old), str(old), "-f", "json").stdout)
    assert same["aliases"] == []


def test_check_takes_llmcost_yaml_tables_as_overlays(cli, tmp_path):
    """`pricing check` with no file checked llmcost.yaml's tables as if shipped: a contract
    table overriding gpt-4o failed with 'source is not a URL' (a rule of the shipped tables
    only) and "openai name 'gpt-4o' means both 'gpt-4o' … and 'gpt-4o'" (replacing a model is
    what an overlay is for), while analyze priced with it. A name of the overlay's that means
    another shipped model is still an error."""
    (tmp_path / "llmcost.yaml").write_text("pricing:\n  tables: [contract.yaml]\n")
    contract = tmp_path / "contract.yaml"
    contract.write_text(
        "provider: openai\nversion: 2026-11-28\nsource: our 2026 contract (legal/openai.pdf)\n"
        "models:\n  gpt-4o:\n    prices:\n      - {from: 2024-01-01, input: 2, output: 8}\n"
    )
    result = cli("pricing", "check")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert "12 tables" in result.stdout and "0 errors" in result.stdout
    # the shipped gpt-4o's alias went with it: the contract's gpt-4o prices that name now
    resolved = json.loads(cli("pricing", "resolve", "gpt-4o-2024-11-20", "-f", "json").stdout)
    assert (resolved["model"], resolved["priced"]) == ("gpt-4o", True)
    shown = json.loads(cli("pricing", "show", "gpt-4o", "-f", "json").stdout)
    assert shown["source"] == "our 2026 contract (legal/openai.pdf)"

    contract.write_text(
        contract.read_text() + "  my-mini:\n    aliases: [gpt-4o-mini]\n"
        "    prices:\n      - {from: 2024-01-01, input: 1, output: 2}\n"
    )
    result = cli("pricing", "check")
    assert result.exit_code == 2
    assert "openai name 'gpt-4o-mini' means both 'gpt-4o-mini'" in result.stderr
    assert "not a URL" not in result.stderr


_CALL = {
    "timestamp": "2026-10-01T00:00:00Z",
    "model": "gpt-4o",
    "input_tokens": 10,
    "output_tokens": 5,
}


def test_the_tables_date_is_not_the_users_prices(cli, tmp_path, jsonl):
    """The report's "llmcost tables checked" date was the greatest version of every table,
    the user's own included: with prices in llmcost.yaml (version "llmcost.yaml", which sorts
    after any date) it read "Prices: llmcost tables checked llmcost.yaml". The user's price
    files are now named apart, with the version each gives."""
    shipped = cli("analyze", jsonl([_CALL]), "-f", "json")
    tables_date = json.loads(shipped.stdout)["pricing_version"]
    assert json.loads(shipped.stdout)["pricing_overlays"] == []
    (tmp_path / "llmcost.yaml").write_text(
        "pricing:\n  models:\n    my-model:\n      provider: custom\n"
        "      prices:\n        - {from: 2024-01-01, input: 1, output: 2}\n"
    )
    contract = tmp_path / "contract.yaml"
    contract.write_text(
        "provider: openai\nversion: 2099-01-01\nsource: our contract\n"
        "models:\n  gpt-4o:\n    prices:\n      - {from: 2024-01-01, input: 2, output: 8}\n"
    )
    log = jsonl([_CALL])
    doc = json.loads(cli("analyze", log, "--pricing", contract, "-f", "json").stdout)
    assert doc["pricing_version"] == tables_date  # not "llmcost.yaml", nor the contract's
    assert doc["pricing_overlays"] == [
        {"file": "llmcost.yaml", "version": None},
        {"file": "contract.yaml", "version": "2099-01-01"},
    ]
    text = cli("analyze", log, "--pricing", contract).stdout
    assert (
        f"Prices: llmcost tables checked {tables_date}; your prices over them: llmcost.yaml, "
        "contract.yaml (2099-01-01)"
    ) in " ".join(text.split())
    html = cli("analyze", log, "--pricing", contract, "-f", "html").stdout
    assert f"prices checked {tables_date}; your prices over them: llmcost.yaml" in html
    verdict = cli("check", log, "--pricing", contract, "--max-cost", "100", "-f", "json")
    verdict = json.loads(verdict.stdout)
    assert verdict["pricing_overlays"] == doc["pricing_overlays"]


def test_diff_table_names_a_model_priced_by_one_version_only(cli, tmp_path, jsonl):
    """The bill's change counts a model one version no longer prices ($7 → $4.50: $1 of the
    $2.50 is acme-gone's, now unpriced), and the table listed only the models with a change
    in dollars: the drop read as a saving, its $1 unexplained."""
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(OLD)
    new.write_text(NEW)
    log = jsonl(
        [
            {"timestamp": "2026-07-01T00:00:00Z", "provider": "acme", "model": "acme-gone",
             "input_tokens": 1_000_000, "output_tokens": 0},
        ]
    )  # fmt: skip
    args = ("pricing", "diff", str(old), str(new), "--log", str(log))
    text = cli(*args, env={"COLUMNS": "200"}).stdout
    # the new tables price no call of the log: no bill of $0, and no change of −$1 (as this
    # read before the bills said which calls each leaves out)
    assert (
        ": $1.000000 → unpriced (calls without a price: 0 by the old tables, 1 by the new; "
        "each bill leaves its own out)\nChange: none to compare, no call is priced by both "
        "versions\n" in text
    )
    assert (
        "  acme/acme-gone: 1.0 → unpriced (1 call priced by the old tables only: not in the "
        "new bill)" in text
    )
    text = cli("pricing", "diff", str(new), str(old), "--log", str(log), env={"COLUMNS": "200"})
    assert (
        "  acme/acme-gone: unpriced → 1.0 (1 call priced by the new tables only: not in the "
        "old bill)" in text.stdout
    )


def test_diff_bill_compares_the_calls_both_versions_price(cli, tmp_path, jsonl):
    """A price row the new tables start later (2026-06-01, no row before) leaves a May call
    unpriced by them: the bills were $4 → $1 (−$3), though the one call both price moved
    $2 → $1. The change is over that call; the bills say how many calls each leaves out.

    acme-mid: old $2/M input from 2026-01-01; new $1/M from 2026-06-01 only."""
    table = "provider: acme\nversion: {v}\nsource: https://acme.example/pricing\nmodels:\n"
    table += "  acme-mid:\n    prices:\n      - {{from: {start}, input: {price}, output: 0}}\n"
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(table.format(v="2026-01-01", start="2026-01-01", price=2.0))
    new.write_text(table.format(v="2026-06-01", start="2026-06-01", price=1.0))
    call = {"provider": "acme", "model": "acme-mid", "input_tokens": 1_000_000, "output_tokens": 0}
    log = jsonl([{**call, "timestamp": "2026-05-01T00:00:00Z"},
                 {**call, "timestamp": "2026-07-01T00:00:00Z"}])  # fmt: skip
    args = ("pricing", "diff", str(old), str(new), "--log", str(log))
    bill = json.loads(cli(*args, "-f", "json").stdout)["bill"]
    assert (bill["old_cost_usd"], bill["new_cost_usd"], bill["delta_usd"]) == (4.0, 1.0, -1.0)
    assert (bill["unpriced_old"], bill["unpriced_new"]) == (0, 1)
    assert bill["priced_by_both"] == {"requests": 1, "old_cost_usd": 2.0, "new_cost_usd": 1.0}
    [mid] = bill["by_model"]
    assert (mid["old_cost_usd"], mid["new_cost_usd"], mid["delta_usd"]) == (4.0, 1.0, -1.0)
    assert (mid["requests"], mid["priced_by_both_requests"], mid["unpriced_new"]) == (2, 1, 1)
    text = cli(*args, env={"COLUMNS": "200"}).stdout
    assert "Change over the 1 call both price: $2.000000 → $1.000000 (−$1.000000)" in text
    assert (
        "  acme/acme-mid: 4.0 → 1.0 (−$1.000000, over the 1 call both price; 1 call priced by "
        "the old tables only: not in the new bill)" in text
    )
    # the same prices both ways: one line, as before
    text = cli("pricing", "diff", str(old), str(old), "--log", str(log)).stdout
    assert f"Bill of {log}: $4.000000 → $4.000000 ($0.000000)\n" in text


def test_import_litellm_writes_each_start_date_in_full(cli, tmp_path):
    """Every row starts on the same date, and the YAML wrote it once as '&id001' and then
    '*id001': correcting one model's 'from' (the header asks to check each against the
    provider's page) moved every model's."""
    from llmcost.pricing import parse_table

    out = tmp_path / "litellm.yaml"
    assert cli("pricing", "import-litellm", str(SLICE), "-o", str(out)).exit_code == 0
    text = out.read_text()
    assert "&id" not in text and "*id" not in text
    assert text.count("- from: 2020-01-01\n") == 5  # one row per model imported
    # one model's date corrected, as a user would: the others keep theirs
    edited = text.replace("- from: 2020-01-01\n", "- from: 2025-08-05\n", 1)
    starts = [m.prices[0]["from"] for m in parse_table(edited, str(out))[0].models.values()]
    assert sorted(str(d) for d in starts) == ["2020-01-01"] * 4 + ["2025-08-05"]
