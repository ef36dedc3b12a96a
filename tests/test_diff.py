"""`llmcost diff` and budgets.compare: cost change between two reports, worked by hand.

base.jsonl: gpt-4o 0.70 (alice, chat, 1 call) + gpt-4o-mini 0.30 (carol, search) = 1.00.
calls.jsonl (see test_check.py): gpt-4o 1.16 (3 calls), gpt-4o-mini 0.51 (2), acme unpriced;
chat 1.05, search 0.51, summarize 0.11; bob 0.70, alice 0.56, carol 0.41; total 1.67.
"""

from __future__ import annotations

import json

import pytest

from llmcost.budgets import compare
from tests.conftest import DATA

CI = DATA / "ci"


@pytest.fixture(scope="module")
def reports() -> tuple[dict, dict]:
    from llmcost.report import analyze

    return analyze([CI / "base.jsonl"]), analyze([CI / "logs" / "calls.jsonl"])


@pytest.fixture
def files(tmp_path, reports) -> tuple:
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(json.dumps(reports[0], default=str))
    head.write_text(json.dumps(reports[1], default=str))
    return base, head


def test_compare_by_hand(reports):
    d = compare(*reports)
    assert d["total"] == {
        "base_usd": 1.0,
        "head_usd": 1.67,
        "change_usd": 0.67,
        "change_pct": pytest.approx(67.0),
    }
    assert d["requests"] == {"base": 2, "head": 6, "change": 4, "change_pct": 200.0}
    models = [(r["model"], r["base_usd"], r["head_usd"], r["change_usd"], r["state"])
              for r in d["by_model"]["rows"]]  # fmt: skip
    assert models == [
        ("gpt-4o", 0.70, 1.16, 0.46, ""),
        ("gpt-4o-mini", 0.30, 0.51, 0.21, ""),
        # no call before ($0), unpriced after: its cost is unknown (null, never $0), and so
        # is its change (this row read 0.0, 0.0 before)
        ("acme-llm-7b", 0.0, None, None, "new"),
    ]
    assert d["by_model"]["rows"][2]["change_pct"] is None
    unpriced = {r["model"]: (r["base_unpriced_requests"], r["head_unpriced_requests"])
                for r in d["by_model"]["rows"]}  # fmt: skip
    assert unpriced == {"gpt-4o": (0, 0), "gpt-4o-mini": (0, 0), "acme-llm-7b": (0, 1)}
    chat = next(r for r in d["by_feature"]["rows"] if r["feature"] == "chat")
    assert (chat["base_unpriced_requests"], chat["head_unpriced_requests"]) == (0, 1)
    assert d["by_model"]["rows"][0]["change_pct"] == pytest.approx(46 / 70 * 100)
    assert d["by_model"]["rows"][1]["change_pct"] == pytest.approx(70.0)
    features = {r["feature"]: (r["change_usd"], r["change_pct"]) for r in d["by_feature"]["rows"]}
    assert features["chat"] == (0.35, pytest.approx(50.0))
    assert features["summarize"] == (0.11, None)  # new: no percentage from $0
    # users by size of the change, losers too: bob +0.70, alice -0.14, carol +0.11
    users = [(r["user_id"], r["change_usd"]) for r in d["by_user"]["rows"]]
    assert users == [("bob", 0.70), ("alice", -0.14), ("carol", 0.11)]
    assert d["by_user"]["rows"][1]["change_pct"] == pytest.approx(-20.0)
    assert d["notes"] == ["after: 1 call without a price, not counted in these costs"]


def test_top_cuts_the_tables(reports):
    d = compare(*reports, top=1)
    assert [r["user_id"] for r in d["by_user"]["rows"]] == ["bob"]
    assert d["by_user"]["more"] == 2


def test_diff_markdown_for_a_pull_request(cli, files):
    result = cli("diff", *files)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.startswith("## LLM cost diff\n")
    assert "- Total cost: $1.00 → $1.67 (+$0.67, +67.0%)" in text
    assert "- Calls: 2 → 6 (+4, +200.0%)" in text
    assert "| Model | Before | After | Change | Change % | Calls |" in text
    assert "| gpt-4o | $0.70 | $1.16 | +$0.46 | +65.7% | 1 → 3 |" in text
    # an unpriced model is never $0: it reads unpriced, its change unknown
    assert "| acme-llm-7b | $0.00 | unpriced | — | new | 0 → 1 |" in text
    assert "| chat | $0.70 | $1.05 + 1 unpriced | +$0.35 | +50.0% | 1 → 3 |" in text
    assert "- after: 1 call without a price, not counted in these costs" in text
    assert "| summarize | $0.00 | $0.11 | +$0.11 | new | 0 → 1 |" in text
    assert "| alice | $0.70 | $0.56 | −$0.14 | −20.0% | 1 → 2 |" in text


def test_diff_the_other_way_round(cli, files):
    text = cli("diff", files[1], files[0]).stdout
    assert "- Total cost: $1.67 → $1.00 (−$0.67, −40.1%)" in text
    assert "| bob | $0.70 + 1 unpriced | $0.00 | −$0.70 | gone | 2 → 0 |" in text
    assert "| acme-llm-7b | unpriced | $0.00 | — | gone | 1 → 0 |" in text
    assert "- before: 1 call without a price, not counted in these costs" in text


def test_diff_json_and_table(cli, files, tmp_path):
    doc = json.loads(cli("diff", *files, "--format", "json").stdout)
    assert doc["total"]["change_usd"] == 0.67
    table = cli("diff", *files, "--format", "table", "--top", "1")
    assert table.exit_code == 0
    assert "… 2 more" in table.stdout and "gpt-4o" in table.stdout
    out = tmp_path / "diff.md"
    assert cli("diff", *files, "-o", out).stdout == ""
    assert "+$0.67" in out.read_text()


def test_an_older_report_compares_models_only(cli, files, reports):
    old = json.loads(files[0].read_text())
    del old["limits"]
    files[0].write_text(json.dumps(old))
    result = cli("diff", *files)
    assert result.exit_code == 0
    assert "only models are compared" in result.stdout
    assert "By feature" not in result.stdout and "By model" in result.stdout


def test_different_pricing_tables_are_noted(reports):
    base = json.loads(json.dumps(reports[0], default=str))
    base["pricing_version"] = "2020-01-01"
    assert any("different tables" in n for n in compare(base, reports[1])["notes"])


def test_different_prices_of_ones_own_are_noted(reports):
    """Two runs with the same tables but other price files of the user's (a contract's
    prices changed) may differ by prices alone: say so, as for different tables."""
    base = json.loads(json.dumps(reports[0], default=str))
    head = json.loads(json.dumps(reports[1], default=str))
    base["pricing_overlays"] = [{"file": "contract.yaml", "version": "2026-01"}]
    head["pricing_overlays"] = [{"file": "contract.yaml", "version": "2026-07"}]
    notes = compare(base, head)["notes"]
    assert (
        "priced with different prices of your own (contract.yaml (2026-01) vs contract.yaml "
        "(2026-07)): some change may come from prices"
    ) in notes
    head["pricing_overlays"] = base["pricing_overlays"]
    assert not any("prices of your own" in n for n in compare(base, head)["notes"])
    del base["pricing_overlays"], head["pricing_overlays"]  # reports of an older llmcost
    assert not any("prices of your own" in n for n in compare(base, head)["notes"])


def test_diff_errors_exit_2(cli, files, tmp_path):
    missing = cli("diff", tmp_path / "nope.json", files[1])
    assert missing.exit_code == 2 and "no such base report file" in missing.stderr
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2]")
    result = cli("diff", files[0], junk)
    assert result.exit_code == 2 and "not an llmcost JSON report" in result.stderr


def test_a_change_from_under_a_cent_has_no_percentage():
    """'Total cost: $0.000059 → $8.88 (+$8.88, +15052756.7%)': a change from under a cent
    reads where it came from; calls keep their percentage (a count has no such floor)."""
    from llmcost.render.budget import diff_sections, markdown

    row = {"model": "gpt-4o", "base_usd": 0.000059, "head_usd": 8.88, "change_usd": 8.879941,
           "change_pct": 15052442.4, "base_requests": 1, "head_requests": 9, "state": ""}  # fmt: skip
    d = {
        "total": {k: row[k] for k in ("base_usd", "head_usd", "change_usd", "change_pct")},
        "requests": {"base": 1, "head": 9, "change": 8, "change_pct": 800.0},
        "by_model": {"rows": [row], "more": 0},
        "notes": [],
    }
    text = markdown(diff_sections(d))
    assert "- Total cost: $0.000059 → $8.88 (+$8.88, from $0.000059)" in text
    assert "- Calls: 1 → 9 (+8, +800.0%)" in text
    assert "| gpt-4o | $0.000059 | $8.88 | +$8.88 | from $0.000059 | 1 → 9 |" in text
    assert "15052442" not in text


def test_calls_without_token_counts_are_noted_as_not_in_the_costs(cli, jsonl, tmp_path):
    """A call with no usage and no text to count has no cost; check and report count it
    among the calls without a price, and the diff's notes left it out: 'before: 1 call
    without a price' of a base with an unpriced model and a gpt-4o call without tokens."""
    base = jsonl([
        {"ts": "2026-11-01T10:00:00Z", "model": "gpt-4o", "input_tokens": 1000,
         "output_tokens": 500},
        {"ts": "2026-11-01T11:00:00Z", "model": "gpt-4o"},
        {"ts": "2026-11-01T12:00:00Z", "model": "acme-x", "input_tokens": 10,
         "output_tokens": 10},
    ])  # fmt: skip
    head = jsonl([{"ts": "2026-11-08T11:00:00Z", "model": "gpt-4o"}])
    files = []
    for log in (base, head):
        result = cli("analyze", log, "--format", "json")
        assert result.exit_code == 0, result.stderr
        files.append(tmp_path / f"{log.stem}.json")
        files[-1].write_text(result.stdout)
    summaries = [json.loads(f.read_text())["summary"] for f in files]
    assert [(s["unpriced_requests"], s["unknown_token_requests"]) for s in summaries] == [
        (1, 1),
        (0, 1),
    ]
    doc = json.loads(cli("diff", *files, "--format", "json").stdout)
    assert doc["total"] == {
        "base_usd": 0.0075,  # 1,000 x $2.50/M + 500 x $10/M: the one call with a cost
        # the head's one call has no cost: its total is unknown (it read 0.0, and the change
        # −$0.0075, −100%, a saving of calls whose cost is not known)
        "head_usd": None,
        "change_usd": None,
        "change_pct": None,
    }
    # (acme-x has no price; gpt-4o has one, and the log no token counts: said apart)
    assert doc["notes"] == [
        "before: 1 call without a price and 1 without token counts, not counted in these costs",
        "after: 1 call without token counts, not counted in these costs",
    ]
    text = cli("diff", *files).stdout
    assert "- after: 1 call without token counts, not counted in these costs" in text


def test_a_model_from_two_providers_counts_every_call(cli, jsonl, tmp_path):
    """gpt-4o from openai (2 calls) and from azure (1) is two rows of a report's by_model:
    the diff summed their costs but took the last row's calls, '1 → 1' for 3 calls."""
    call = {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 500}
    base = jsonl([
        {**call, "ts": "2026-11-01T10:00:00Z", "provider": "openai"},
        {**call, "ts": "2026-11-01T11:00:00Z", "provider": "openai"},
        {**call, "ts": "2026-11-01T12:00:00Z", "provider": "azure"},
    ])  # fmt: skip
    head = jsonl([{**call, "ts": "2026-11-08T10:00:00Z", "provider": "openai"}])
    files = []
    for log in (base, head):
        files.append(tmp_path / f"{log.stem}.json")
        files[-1].write_text(cli("analyze", log, "--format", "json").stdout)
    providers = [
        (m["provider"], m["requests"]) for m in json.loads(files[0].read_text())["by_model"]
    ]
    assert sorted(providers) == [("azure", 1), ("openai", 2)]
    doc = json.loads(cli("diff", *files, "--format", "json").stdout)
    [row] = doc["by_model"]["rows"]
    # 3 x (1,000 x $2.50/M + 500 x $10/M) = $0.0225 before, $0.0075 after
    assert (row["base_requests"], row["head_requests"]) == (3, 1)
    assert (row["base_usd"], row["head_usd"]) == (0.0225, 0.0075)
    assert "| gpt-4o | $0.02 | $0.0075 | −$0.01 | −66.7% | 3 → 1 |" in cli("diff", *files).stdout


def test_a_side_whose_calls_all_lack_a_cost_has_none_never_zero(cli, jsonl, tmp_path):
    """A row of calls that all lack a cost read $0 on that side in the JSON, and its change
    a saving: gpt-4o, $0.0075 before, its two calls after without token counts, read
    head_usd 0.0 and change −$0.0075 (−100%). Such a side is null now, its change null, and
    the text says why: 'unpriced', or 'no tokens' (a priced model's calls without counts)."""
    gpt = {"model": "gpt-4o"}  # no usage and no text: its tokens are unknown
    acme = {"model": "acme-x", "input_tokens": 10, "output_tokens": 10}
    feature = lambda name: {"metadata": {"feature": name}}  # noqa: E731
    base = jsonl([
        {**gpt, "input_tokens": 1000, "output_tokens": 500, "ts": "2026-11-01T10:00:00Z",
         **feature("chat")},
        {**acme, "ts": "2026-11-01T11:00:00Z", **feature("lab")},
        {**gpt, "ts": "2026-11-01T12:00:00Z", **feature("ops")},
    ])  # fmt: skip
    head = jsonl([
        {**gpt, "ts": "2026-11-08T10:00:00Z", **feature("chat")},
        {**acme, "ts": "2026-11-08T11:00:00Z", **feature("lab")},
        {**gpt, "ts": "2026-11-08T12:00:00Z", **feature("ops")},
    ])  # fmt: skip
    files = []
    for log in (base, head):
        files.append(tmp_path / f"{log.stem}.json")
        files[-1].write_text(cli("analyze", log, "--format", "json").stdout)
    doc = json.loads(cli("diff", *files, "--format", "json").stdout)

    def rows(block, key):
        return {r[key]: (r["base_usd"], r["head_usd"], r["change_usd"], r["change_pct"])
                for r in doc[block]["rows"]}  # fmt: skip

    # gpt-4o before: 1,000 x $2.50/M + 500 x $10/M = $0.0075 (its call without tokens: none)
    assert rows("by_model", "model") == {
        "gpt-4o": (0.0075, None, None, None),
        "acme-x": (None, None, None, None),
    }
    assert rows("by_feature", "feature") == {
        "chat": (0.0075, None, None, None),
        "lab": (None, None, None, None),
        "ops": (None, None, None, None),
    }
    chat = next(r for r in doc["by_feature"]["rows"] if r["feature"] == "chat")
    assert (chat["head_unpriced_requests"], chat["head_unknown_token_requests"]) == (0, 1)
    text = cli("diff", *files).stdout
    assert "| chat | $0.0075 | no tokens | — | — | 1 → 1 |" in text
    assert "| lab | unpriced | unpriced | — | — | 1 → 1 |" in text
    assert "| ops | no tokens | no tokens | — | — | 1 → 1 |" in text
    # the one user (none): 1 call of acme-x, 2 of gpt-4o without tokens after
    assert (
        "| (none) | $0.0075 + 1 unpriced + 1 without tokens | unpriced + 2 without tokens | — |"
        in text
    )
    # gpt-4o's $0.0075 is no saving: its change is unknown, not −$0.0075 (−100%); its
    # call without tokens before is said beside the cost (by_model rows count it), as a
    # feature's or a user's are, and its two after read 'no tokens', not 'unpriced'
    assert "| gpt-4o | $0.0075 + 1 without tokens | no tokens | — | — | 2 → 2 |" in text
    models = {r["model"]: r for r in doc["by_model"]["rows"]}
    assert [
        (m["base_unpriced_requests"], m["base_unknown_token_requests"],
         m["head_unpriced_requests"], m["head_unknown_token_requests"])
        for m in (models["gpt-4o"], models["acme-x"])
    ] == [(0, 1, 0, 2), (1, 0, 1, 0)]  # fmt: skip
    assert doc["notes"] == [
        "before: 1 call without a price and 1 without token counts, not counted in these costs",
        "after: 1 call without a price and 2 without token counts, not counted in these costs",
    ]
