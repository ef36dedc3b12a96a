"""Provider usage reports (formats/usage_reports.py, analyses/buckets.py): aggregates stored as
usage buckets, never as calls, and priced apart.

Prices per million tokens: gpt-4o-mini $0.15 in / $0.075 cached / $0.60 out (batch: half);
gpt-5 $1.25 / $0.125 / $10; claude-sonnet-4-5 $3 in, $0.30 read, $3.75 5m write, $6 1h write,
$15 out (batch: half); claude-haiku-4-5 $1 in, $5 out.
"""

from __future__ import annotations

import json

import pytest

from llmcost import costing, store
from llmcost.analyses import Context
from llmcost.analyses.buckets import usage_reports
from llmcost.ingest import ingest_paths
from llmcost.pricing import load_pricing
from tests.conftest import DATA, REAL

REPORTS = DATA / "formats" / "usage_reports"


def run(*paths, since=None):
    con = store.connect()
    result = ingest_paths(con, [str(p) for p in paths])
    book = load_pricing()
    costing.prepare(con, book)

    class Options:
        pass

    options = Options()
    options.since, options.until = since, None
    return result, usage_reports(con, Context(book=book, options=options)), con


def test_anthropic_report_is_stored_as_buckets_not_calls():
    result, report, con = run(
        REAL / "anthropic/admin_usage_report_messages.json",
        REAL / "anthropic/admin_cost_report.json",
    )
    for f in result.files:
        assert f.format == "usage-report"
        assert (f.lines_read, f.ingested, f.skipped, f.rejected, f.buckets) == (1, 0, 1, 0, 1)
        assert f.accounted
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] == 0
    usage, cost = con.execute(
        "SELECT model, service_tier, requests, input_tokens, cache_read_tokens, "
        "cache_write_tokens, cache_write_1h_tokens, output_tokens, reported_cost_usd, "
        "workspace_id FROM usage_buckets ORDER BY source"
    ).fetchall()[::-1]
    # canonical input = uncached 1500 + cache reads 200 + 5m writes 500 + 1h writes 1000
    assert usage == (
        "claude-opus-4-6", "standard", None, 3200, 200, 500, 1000, 500, None,
        "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
    )  # fmt: skip
    # the cost report's amount is in cents: "123.78912" USD is $1.2378912
    assert cost[0] == "claude-opus-5" and cost[8] == pytest.approx(1.2378912)
    # claude-opus-4-6 was released 2026-02-05: no price in force on 2025-08-01.
    assert report["unpriced_buckets"] == 1
    assert report["unpriced"][0]["reason"].endswith("no price was in force at the bucket's date")
    assert report["requests"] is None  # Anthropic reports carry no request count
    assert report["reported_cost_usd"] == pytest.approx(1.2378912)


def test_anthropic_buckets_pay_web_searches_and_long_context_rates():
    # Each bucket: 1500 uncached, 200 cache read, 500 5m write, 1000 1h write, 500 out.
    # Base rates: $3 / $0.30 / $3.75 / $6 / $15; above 200k input: $6 / $0.60 / $7.50 / $12 /
    # $22.50; web search $10 per 1,000 (both were left out)
    _, report, _ = run(REPORTS / "crafted_anthropic_usage_long_context.json")
    base = (1500 * 3 + 200 * 0.3 + 500 * 3.75 + 1000 * 6 + 500 * 15) / 1e6
    long = (1500 * 6 + 200 * 0.6 + 500 * 7.5 + 1000 * 12 + 500 * 22.5) / 1e6
    assert report["unpriced_buckets"] == 0
    assert report["computed_cost_usd"] == pytest.approx(base + 4 * 0.01 + long + 10 * 0.01)


def test_the_note_on_buckets_says_a_long_context_window_is_priced_as_such(cli):
    """The section's note said every bucket was priced "at each model's base rates", while a
    bucket of Anthropic's 200k-1M context window is priced at the long-context rates (as the
    README says): the 200k-1M bucket of this file is $0.13612 of the $0.196055, not the
    $0.059935 of the other one. The note now says when the surcharge applies."""
    out = cli("analyze", REPORTS / "crafted_anthropic_usage_long_context.json", "--format", "json")
    assert out.exit_code == 0, out.stderr
    buckets = json.loads(out.stdout)["usage_reports"]
    # 1500 x $6 + 200 x $0.60 + 500 x $7.50 + 1000 x $12 + 500 x $22.50, + 10 searches x $0.01
    # beside the 0-200k bucket: 1500 x $3 + ... + 500 x $15, + 4 searches
    assert buckets["computed_cost_usd"] == pytest.approx(0.13612 + 0.059935)
    [note] = [n for n in buckets["notes"] if n.startswith("Buckets are aggregates")]
    assert "base rates" not in note
    assert "without a long-context surcharge" in note and '"200k-1M"' in note


def test_openai_usage_priced_with_batch_rates_and_projects():
    result, report, _ = run(REPORTS / "crafted_openai_usage_completions.json")
    [f] = result.files
    # 7 results: 5 stored (4 completions, 1 embeddings), images skipped, one rejected.
    assert (f.lines_read, f.skipped, f.rejected, f.buckets) == (7, 6, 1, 5)
    models = {(m["model"], m["service_tier"]): m for m in report["by_model"]}
    standard = models[("gpt-4o-mini-2024-07-18", "standard")]
    assert standard["computed_cost_usd"] == pytest.approx(
        800_000 * 0.15e-6 + 200_000 * 0.075e-6 + 100_000 * 0.60e-6  # $0.195
    )
    batch = models[("gpt-4o-mini-2024-07-18", "batch")]
    at_standard = 2_000_000 * 0.15e-6 + 400_000 * 0.60e-6
    assert batch["computed_cost_usd"] == pytest.approx(at_standard / 2)  # $0.27
    assert batch["requests"] == 1000
    gpt5 = models[("gpt-5-2025-08-07", "standard")]
    assert gpt5["computed_cost_usd"] == pytest.approx(
        50_000 * 1.25e-6 + 50_000 * 0.125e-6 + 20_000 * 10e-6
    )
    assert report["requests"] == 500 + 1000 + 40 + 7 + 100
    # + the embeddings bucket: text-embedding-3-small, 1M input tokens at $0.02
    assert report["computed_cost_usd"] == pytest.approx(0.195 + 0.27 + 0.26875 + 0.02)
    assert {u["model"] for u in report["unpriced"]} == {"ft:gpt-4o-mini-2024-07-18:acme::9abc"}
    projects = {p["project"]: p for p in report["by_project"]}
    assert projects["proj_search"]["computed_cost_usd"] == pytest.approx(0.465 + 0.02)
    assert projects["proj_agents"]["requests"] == 47
    assert any("per-call" in n for n in report["notes"])


def test_reported_cost_compared_with_computed():
    _, report, _ = run(
        REPORTS / "crafted_anthropic_usage_report.json",
        REPORTS / "crafted_anthropic_cost_report.json",
    )
    # sonnet-4-5 batch bucket: 100k uncached, 1M reads, 50k 5m + 20k 1h writes, 30k out
    sonnet = 100_000 * 1.5e-6 + 1_000_000 * 0.15e-6 + 50_000 * 1.875e-6 + 20_000 * 3e-6
    sonnet += 30_000 * 7.5e-6
    haiku = 200_000 * 1e-6 + 10_000 * 5e-6
    assert report["computed_cost_usd"] == pytest.approx(sonnet + haiku)  # $0.92875
    [compared] = report["reported_vs_computed"]
    # amounts "68.0" + "25.0" cents
    assert (compared["provider"], compared["days"]) == ("anthropic", 1)
    assert compared["reported_cost_usd"] == pytest.approx(0.93)
    assert compared["difference_usd"] == pytest.approx(0.93 - (sonnet + haiku))
    workspaces = {p["project"]: p for p in report["by_project"]}
    assert workspaces["wrkspc_research"]["reported_cost_usd"] == pytest.approx(0.68)
    assert workspaces["wrkspc_research"]["kind"] == "workspace"


def test_bad_results_rejected_with_their_record_number():
    _, _, con = run(REPORTS / "crafted_openai_usage_completions.json")
    assert con.execute("SELECT line, reason FROM rejects").fetchall() == [
        (7, "input_tokens is not a non-negative integer: lots")
    ]


def test_buckets_are_stored_once(tmp_path):
    copy = tmp_path / "again.json"
    copy.write_bytes((REPORTS / "crafted_openai_costs.json").read_bytes())
    result, report, con = run(REPORTS / "crafted_openai_costs.json", copy)
    assert [f.buckets for f in result.files] == [2, 0]  # the copy's buckets are known
    assert con.execute("SELECT count(*) FROM usage_buckets").fetchone()[0] == 2
    assert report["reported_cost_usd"] == pytest.approx(0.77)


def test_window_applies_to_buckets():
    import datetime as dt

    since = dt.datetime(2025, 10, 21, tzinfo=dt.timezone.utc)
    _, report, _ = run(REPORTS / "crafted_openai_usage_completions.json", since=since)
    assert {m["model"] for m in report["by_model"]} == {
        "gpt-5-2025-08-07",
        "ft:gpt-4o-mini-2024-07-18:acme::9abc",
    }


def test_no_buckets_is_a_quick_empty_answer(jsonl):
    con = store.connect()
    assert usage_reports(con, Context(book=None)) == {"buckets": 0}


def test_a_file_that_is_not_json_is_one_rejected_record(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"object": "page", "data": [{"results": [{"object": "organization.usage.')
    con = store.connect()
    result = ingest_paths(con, [str(path)])
    [f] = result.files
    assert (f.format, f.lines_read, f.rejected) == ("usage-report", 1, 1)
    assert (
        con.execute("SELECT reason FROM rejects")
        .fetchone()[0]
        .startswith("not a readable JSON document")
    )


def test_analyze_with_only_usage_reports(cli):
    """A report of buckets alone: no call, no exit 3; the section says what needs call logs."""
    out = cli(
        "analyze",
        REPORTS / "crafted_anthropic_usage_report.json",
        REPORTS / "crafted_anthropic_cost_report.json",
        "--format",
        "json",
    )
    assert out.exit_code == 0, out.stderr
    import json

    data = json.loads(out.stdout)
    assert data["summary"]["requests"] == 0
    assert data["usage_reports"]["buckets"] == 4
    assert data["usage_reports"]["computed_cost_usd"] == pytest.approx(0.92875)
    text = cli("analyze", REPORTS / "crafted_anthropic_usage_report.json", "--format", "markdown")
    assert text.exit_code == 0, text.stderr
    assert "Provider usage reports (aggregates, not calls)" in text.stdout
    assert "Needs per-call logs" in text.stdout
    assert "2 of the skipped stored as usage-report buckets" in text.stderr


def test_usage_reports_whose_every_token_bucket_is_unpriced_never_read_as_zero(cli):
    """The real Anthropic usage report's one token bucket (claude-opus-4-6 on 2025-08-01,
    before its price took effect) has no price: its section read "Computed at list prices:
    $0.00 (1 bucket unpriced)" beside a model table that said "unpriced"."""
    path = REAL / "anthropic" / "admin_usage_report_messages.json"
    for fmt in ("markdown", "table", "html"):
        out = cli("analyze", path, "--format", fmt)
        assert out.exit_code == 0, out.stderr
        assert "Computed at list prices: none (1 bucket unpriced)" in out.stdout
        assert "Computed at list prices: $0.00" not in out.stdout


def test_usage_report_cost_is_null_not_zero_when_no_bucket_is_priced(cli, tmp_path):
    """The real Anthropic usage report's one token bucket (claude-opus-4-6, no price on
    2025-08-01): the JSON said "computed_cost_usd": 0 where the text said "none", and its
    workspace row read "—" where the model table read "unpriced". Both are null / "unpriced";
    a cost report alone (no token counts) computes nothing either: null, not $0."""
    import json

    path = REAL / "anthropic" / "admin_usage_report_messages.json"
    _, report, _ = run(path)
    assert report["computed_cost_usd"] is None
    [project] = report["by_project"]
    assert (project["computed_cost_usd"], project["unpriced_buckets"]) == (None, 1)
    [model] = report["by_model"]
    assert (model["computed_cost_usd"], model["unpriced_buckets"]) == (None, 1)
    out = cli("analyze", path, "--format", "json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["usage_reports"]["computed_cost_usd"] is None
    (tmp_path / "report.json").write_text(out.stdout)
    for fmt in ("markdown", "table", "html"):
        text = cli("analyze", path, "--format", fmt).stdout
        assert "Computed at list prices: none (1 bucket unpriced)" in text
        workspace = next(line for line in text.splitlines() if "wrkspc_01JwQvzr7" in line)
        assert "unpriced" in workspace, workspace
    # diff reads a report whose usage-report figure is null
    diffed = cli("diff", tmp_path / "report.json", tmp_path / "report.json")
    assert diffed.exit_code == 0, diffed.stderr

    cost = REAL / "anthropic" / "admin_cost_report.json"
    _, report, _ = run(cost)
    assert report["computed_cost_usd"] is None
    text = cli("analyze", cost, "--format", "markdown").stdout
    assert "Computed at list prices: none (no bucket has token counts)" in text


def test_usage_report_project_with_an_unpriced_bucket_says_so():
    """proj_agents holds gpt-5 ($0.26875) and a fine-tune without a price: its row read
    "$0.27" as if that were all of it; it reads "$0.27 + 1 unpriced"."""
    from llmcost.render.layout import _usage_reports

    _, report, _ = run(REPORTS / "crafted_openai_usage_completions.json")
    projects = {p["project"]: p for p in report["by_project"]}
    assert projects["proj_agents"]["unpriced_buckets"] == 1
    assert projects["proj_search"]["unpriced_buckets"] == 0
    [section] = _usage_reports({"usage_reports": report})
    rows = {r[0]: r for t in section.tables for r in t.rows}
    assert rows["proj_agents"][4] == "$0.27 + 1 unpriced"
    assert rows["proj_search"][4] == "$0.48"


@pytest.mark.parametrize(
    "name, cost",
    [
        ("admin_cost_report.json", "reported by the provider: $1.24"),
        ("admin_usage_report_messages.json", "Computed at list prices: none (1 bucket unpriced)"),
    ],
)
def test_usage_reports_alone_never_read_as_zero_cost(cli, jsonl, name, cost):
    """A provider's cost report alone headed its report "Total cost: $0.00 over 0 calls" above
    empty call tables (Cost by model, Most expensive calls (top 0)), and said the provider's
    $1.24 only in the last section. With no call read, the summary says what the reports hold
    (their buckets, span and cost) and the per-call sections are left out; the JSON keeps its
    zero summary and says why (summary.usage_reports_only)."""
    import json

    path = REAL / "anthropic" / name
    for fmt in ("table", "markdown", "html"):
        out = cli("analyze", path, "--format", fmt)
        assert out.exit_code == 0, out.stderr
        text = out.stdout
        summary = text[: text.index("Provider usage reports (aggregates")]
        assert "$0.00" not in summary and "0 calls" not in summary, summary
        assert "No per-call records" in summary and "1 usage-report bucket" in summary
        assert "2025-08-01 → 2025-08-02" in summary and cost in summary
        for empty in ("Cost by model", "Most expensive calls", "Cost by day", "Savings"):
            assert empty not in text, (fmt, empty)
    data = json.loads(cli("analyze", path, "--format", "json").stdout)
    assert data["summary"]["usage_reports_only"] is True
    assert (data["summary"]["requests"], data["summary"]["total_cost_usd"]) == (0, 0)
    # calls beside the reports: the usual report, its summary the calls'
    calls = jsonl([{"model": "gpt-4o", "usage": {"prompt_tokens": 10, "completion_tokens": 5}}])
    data = json.loads(cli("analyze", path, calls, "--format", "json").stdout)
    assert data["summary"]["usage_reports_only"] is False
    assert "Total cost:" in cli("analyze", path, calls, "--format", "markdown").stdout


@pytest.mark.parametrize("name", ["admin_cost_report.json", "admin_usage_report_messages.json"])
def test_check_of_usage_reports_alone_is_no_records_not_a_pass(cli, jsonl, name):
    """`check` on a provider's report alone read "Total cost: $0.00 over 0 calls" and passed
    (exit 0) under --max-cost 0.01, beside the cost report's $1.24: its buckets are no calls,
    so no rule was checked. It is exit 3, as audit and export are, and says why."""
    path = REAL / "anthropic" / name
    out = cli("check", path, "--max-cost", "0.01")
    assert out.exit_code == 3, out.stdout
    assert out.stdout == ""
    assert "only 1 usage-report bucket: aggregates, not calls" in out.stderr
    assert "budget rules are checked on per-call logs" in out.stderr
    # calls beside the reports: checked as usual
    calls = jsonl([{"model": "gpt-4o", "usage": {"prompt_tokens": 10, "completion_tokens": 5}}])
    out = cli("check", path, calls, "--max-cost", "0.01")
    assert out.exit_code == 0, out.stderr
    assert "1 of 1 budget rule holds" in out.stdout
