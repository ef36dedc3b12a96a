"""`llmcost check`: every rule, every exit code, the baseline, the GitHub Actions summary and
annotations, and the README's workflow run as written.

Hand-worked costs of tests/data/ci/logs/calls.jsonl (gpt-4o $2.50/$10 per M input/output
tokens, gpt-4o-mini $0.15/$0.60):

  h1 2026-11-02 gpt-4o      alice chat       100k in, 10k out   0.25 + 0.10 = 0.35
  h2 2026-11-02 gpt-4o      bob   chat       200k in, 20k out   0.50 + 0.20 = 0.70
  h3 2026-11-03 gpt-4o-mini alice search     1M in, 100k out    0.15 + 0.06 = 0.21
  h4 2026-11-03 gpt-4o-mini carol search     2M in              0.30
  h5 2026-11-03 gpt-4o      carol summarize  40k in, 1k out     0.10 + 0.01 = 0.11
  h6 2026-11-03 acme-llm-7b bob   chat       (no price)
  total 1.67; days 11-02 1.05, 11-03 0.62; gpt-4o 1.16, gpt-4o-mini 0.51;
  chat 1.05, search 0.51, summarize 0.11; bob 0.70, alice 0.56, carol 0.41.

base.jsonl: gpt-4o 200k/20k = 0.70 (alice, chat) + gpt-4o-mini 2M = 0.30 (carol, search)
= 1.00, so the head is +67%.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from llmcost.budgets import Limits, Policy, evaluate
from llmcost.errors import UsageError
from llmcost.render import money
from tests.conftest import DATA, ROOT

CI = DATA / "ci"
HEAD = CI / "logs" / "calls.jsonl"
BASE = CI / "base.jsonl"


@pytest.fixture(scope="module")
def head() -> dict:
    from llmcost.report import analyze

    return analyze([HEAD])


@pytest.fixture(scope="module")
def base() -> dict:
    from llmcost.report import analyze

    return analyze([BASE])


@pytest.fixture
def baseline_file(tmp_path, base) -> Path:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(base, default=str))
    return path


def rules_of(result: dict) -> dict[tuple[str, str, str], dict]:
    return {(r["rule"], str(r["scope"]), r["level"]): r for r in result["rules"]}


# ---------------------------------------------------------------- the numbers rules read


def test_the_report_has_the_hand_worked_numbers(head):
    assert head["summary"]["total_cost_usd"] == 1.67
    assert {d["day"]: d["cost_usd"] for d in head["by_day"]} == {
        "2026-11-02": 1.05,
        "2026-11-03": 0.62,
    }
    limits = head["limits"]
    assert limits["max_request"]["request_id"] == "h2"
    assert limits["max_request"]["cost_usd"] == 0.70
    assert limits["max_request"]["line"] == 2
    assert {f["feature"]: f["cost_usd"] for f in limits["by_feature"]} == {
        "chat": 1.05,
        "search": 0.51,
        "summarize": 0.11,
    }
    assert [(u["user_id"], u["cost_usd"]) for u in limits["by_user"]] == [
        ("bob", 0.70),
        ("alice", 0.56),
        ("carol", 0.41),
    ]
    assert limits["truncated"] == {"by_feature": False, "by_user": False}


# ---------------------------------------------------------------- every rule, pure


def test_every_rule_holds_at_exactly_its_limit(head):
    policy = Policy(
        fail=Limits(
            max_cost=1.67,
            max_daily_cost=1.05,
            max_request_cost=0.70,
            per_model={"gpt-4o": 1.16, "gpt-4o-mini": 0.51},
            per_feature={"chat": 1.05, "*": 0.51},
            per_user={"bob": 0.70, "*": 0.56},
        )
    )
    result = evaluate(head, policy)
    fails = [r for r in result["rules"] if r["status"] not in ("ok",) and r["level"] == "fail"]
    assert fails == []
    # the only other row: the unpriced acme call, a warning by default
    assert [r["rule"] for r in result["rules"] if r["status"] != "ok"] == ["fail_on_unpriced"]
    assert result["status"] == "warn"
    assert result["breached"] == 0


@pytest.mark.parametrize(
    "limits, key, actual, detail",
    [
        ({"max_cost": 1.66}, ("max_cost", "all calls"), 1.67, "6 calls"),
        ({"max_daily_cost": 1.04}, ("max_daily_cost", "costliest day (UTC)"), 1.05, "2026-11-02"),
        (
            {"max_request_cost": 0.69},
            ("max_request_cost", "costliest call"),
            0.70,
            "gpt-4o, calls.jsonl:2",
        ),
        ({"per_model": {"gpt-4o": 1.15}}, ("per_model", "gpt-4o"), 1.16, ""),
        ({"per_model": {"*": 0.50}}, ("per_model", "each model"), 1.16, "2 above"),
        ({"per_feature": {"chat": 1.0}}, ("per_feature", "chat"), 1.05, ""),
        ({"per_feature": {"*": 0.11}}, ("per_feature", "each feature"), 1.05, "2 above"),
        ({"per_user": {"alice": 0.55}}, ("per_user", "alice"), 0.56, ""),
        ({"per_user": {"*": 0.60}}, ("per_user", "each user"), 0.70, "1 above: bob ($0.70)"),
        (
            {"per_user": {"bob": 1.00, "*": 0.50}},
            ("per_user", "each user not named"),
            0.56,
            "1 above: alice ($0.56)",
        ),
    ],
)
def test_each_rule_breached_just_above(head, limits, key, actual, detail):
    result = evaluate(head, Policy(fail=Limits(**limits)))
    rule = rules_of(result)[(*key, "fail")]
    assert rule["status"] == "fail"
    assert rule["actual"] == pytest.approx(actual, abs=1e-9)
    assert detail in rule["detail"]
    assert result["status"] == "fail" and result["breached"] == 1


def test_the_daily_rule_says_how_many_days_broke_it(cli, tmp_path):
    """--max-daily-cost named the costliest day only: on a 180-day log, '2026-07-22' read as
    one bad day where 34 were above the limit (the per-model, feature and user rules say
    '22 above'). The detail says how many days were above, of the days with a cost, when
    more than one was: here 11-02 ($1.05) and 11-03 ($0.62) are both above $0.60."""
    md = tmp_path / "summary.md"
    result = cli("check", HEAD, "--max-daily-cost", "0.60", "--markdown", md, "-f", "json")
    assert result.exit_code == 1, result.stderr
    [rule] = [r for r in json.loads(result.stdout)["rules"] if r["rule"] == "max_daily_cost"]
    assert (
        rule["actual"] == pytest.approx(1.05) and rule["detail"] == "2026-11-02; 2 of 2 days above"
    )
    assert "| ❌ FAIL | 2026-11-02; 2 of 2 days above |" in md.read_text()
    text = " ".join(cli("check", HEAD, "--max-daily-cost", "0.60").stdout.split())
    assert "$0.60 $1.05 FAIL 2026-11-02; 2 of 2 days above" in text, text
    # one day above: the day, as before
    result = cli("check", HEAD, "--max-daily-cost", "1.04", "-f", "json")
    [rule] = [r for r in json.loads(result.stdout)["rules"] if r["rule"] == "max_daily_cost"]
    assert rule["detail"] == "2026-11-02"


def test_a_named_limit_and_star_split_the_names(head):
    result = evaluate(head, Policy(fail=Limits(per_user={"bob": 1.00, "*": 0.60})))
    rules = rules_of(result)
    assert rules[("per_user", "bob", "fail")]["status"] == "ok"
    # bob is not under '*': its highest is alice $0.56, within $0.60
    star = rules[("per_user", "each user not named", "fail")]
    assert star["status"] == "ok" and star["actual"] == 0.56 and "alice" in star["detail"]


def test_a_named_limit_says_the_calls_it_could_not_price(head):
    """bob's rule read Actual "$0.70" with no detail, where the baseline diff beside it read
    "$0.70 + 1 unpriced": one of his calls has no price, so its cost is not in the $0.70."""
    limits = Limits(per_user={"bob": 1.00}, per_feature={"chat": 5.0, "search": 5.0})
    rules = rules_of(evaluate(head, Policy(fail=limits)))
    bob = rules[("per_user", "bob", "fail")]
    assert (bob["actual"], bob["detail"]) == (0.7, "1 call without a price, not in it")
    assert rules[("per_feature", "chat", "fail")]["detail"] == "1 call without a price, not in it"
    assert rules[("per_feature", "search", "fail")]["detail"] == ""
    # acme-llm-7b's one call has no price: its cost is unknown, not a pass at $0
    acme = rules_of(evaluate(head, Policy(fail=Limits(per_model={"acme-llm-7b": 1}))))
    rule = acme[("per_model", "acme-llm-7b", "fail")]
    assert (rule["actual"], rule["status"]) == (None, "unknown")
    assert rule["detail"] == "no cost known: 1 call without a price"


def test_a_name_with_no_calls_costs_nothing(head):
    rule = rules_of(evaluate(head, Policy(fail=Limits(per_user={"dave": 0.01}))))[
        ("per_user", "dave", "fail")
    ]
    assert rule["status"] == "ok" and rule["actual"] == 0
    assert rule["detail"] == "no calls of this user"


def test_per_model_limit_counts_every_alias_of_the_priced_model():
    report = {
        "summary": {"total_cost_usd": 1.5, "requests": 3, "unpriced_requests": 0},
        "by_model": [
            {"model": "gpt-4o-2024-11-20", "priced_as": "gpt-4o", "provider": "openai",
             "requests": 2, "cost_usd": 1.0, "share": 0.66},
            {"model": "gpt-4o", "priced_as": "gpt-4o", "provider": "openai", "requests": 1,
             "cost_usd": 0.5, "share": 0.33},
        ],
    }  # fmt: skip
    rule = evaluate(report, Policy(fail=Limits(per_model={"gpt-4o": 1.2})))["rules"][0]
    assert rule["actual"] == 1.5 and rule["status"] == "fail"
    assert rule["detail"] == "as gpt-4o, gpt-4o-2024-11-20"


def test_a_user_missing_from_a_truncated_list_is_unknown_not_zero():
    report = {
        "summary": {"total_cost_usd": 9.0, "requests": 2000, "unpriced_requests": 0},
        "by_model": [],
        "limits": {"by_user": [{"user_id": "u1", "cost_usd": 0.2}], "by_feature": [],
                   "truncated": {"by_user": True, "by_feature": False}},
    }  # fmt: skip
    result = evaluate(report, Policy(fail=Limits(per_user={"u9": 0.1})))
    assert result["rules"][0]["status"] == "unknown"
    assert result["status"] == "warn"


def test_warn_rules_never_fail(head):
    result = evaluate(head, Policy(warn=Limits(max_cost=1.5, max_request_cost=0.5)))
    assert {r["rule"]: r["status"] for r in result["rules"]} == {
        "max_cost": "warn",
        "max_request_cost": "warn",
        "fail_on_unpriced": "warn",
    }
    assert result["status"] == "warn" and result["breached"] == 0


def test_unpriced_calls_warn_and_fail_on_request(head):
    warn = rules_of(evaluate(head, Policy(fail=Limits(max_cost=9))))
    rule = warn[("fail_on_unpriced", "all calls", "warn")]
    assert rule["status"] == "warn" and rule["actual"] == 1 and rule["detail"] == "acme-llm-7b"
    strict = evaluate(head, Policy(fail_on_unpriced=True))
    assert strict["rules"][0]["status"] == "fail" and strict["status"] == "fail"


def test_increase_against_a_baseline(head, base):
    # (1.67 - 1.00) / 1.00 = +67%
    ok = evaluate(head, Policy(fail=Limits(max_increase_pct=67)), base)
    assert ok["rules"][0]["actual"] == pytest.approx(67.0)
    assert ok["rules"][0]["status"] == "ok"
    breached = evaluate(head, Policy(fail=Limits(max_increase_pct=66.9)), base)
    assert breached["rules"][0]["status"] == "fail"
    assert breached["rules"][0]["detail"] == "$1.00 → $1.67"
    assert breached["baseline"]["total"]["change_usd"] == pytest.approx(0.67)


def test_increase_from_a_zero_baseline_is_a_breach(head, base):
    zero = json.loads(json.dumps(base))
    zero["summary"]["total_cost_usd"] = 0.0
    rule = evaluate(head, Policy(fail=Limits(max_increase_pct=1000)), zero)["rules"][0]
    assert rule["actual"] is None and rule["status"] == "fail"
    assert "baseline $0" in rule["detail"]


def test_increase_needs_a_baseline(head):
    with pytest.raises(UsageError, match="baseline"):
        evaluate(head, Policy(fail=Limits(max_increase_pct=10)))


# ---------------------------------------------------------------- the command: exit codes


def test_exit_0_when_every_rule_holds(cli):
    result = cli("check", HEAD, "--max-cost", "2", "--max-request-cost", "0.70")
    assert result.exit_code == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("Total cost "))
    assert re.search(r"\$2\.00\s+\$1\.67\s+ok", line)
    assert "budget holds, with 1 warning (3 rules)" in result.stderr


@pytest.mark.parametrize(
    "limit, shown, code",
    [("1.669", r"\$1\.669\s+\$1\.670\s+FAIL", 1), ("1.674", r"\$1\.674\s+\$1\.670\s+ok", 0)],
)
def test_a_limit_and_an_actual_that_differ_never_read_the_same(cli, tmp_path, limit, shown, code):
    # at cents both read $1.67: "Limit $1.67, Actual $1.67, FAIL" tells a developer nothing
    summary = tmp_path / "summary.md"
    result = cli(
        "check", HEAD, "--max-cost", limit, "--markdown", summary,
        env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "step.md")},
    )  # fmt: skip
    assert result.exit_code == code
    line = next(x for x in result.stdout.splitlines() if x.startswith("Total cost "))
    assert re.search(shown, line), line
    assert re.search(shown.replace(r"\s+", r" \| ").replace("FAIL", "❌ FAIL").replace("ok", "✅ ok"),
                     summary.read_text())  # fmt: skip
    if code:
        assert f"Total cost (all calls): $1.670 is above the limit ${limit}" in result.stderr


def test_exit_1_when_a_rule_is_breached(cli):
    result = cli("check", HEAD, "--max-cost", "2", "--max-daily-cost", "1")
    assert result.exit_code == 1
    line = next(x for x in result.stdout.splitlines() if x.startswith("Daily cost"))
    assert re.search(r"\$1\.00\s+\$1\.05\s+FAIL\s+2026-11-02", line)
    assert "1 of 3 budget rules breached" in result.stderr


def test_exit_1_on_unpriced_calls_when_asked(cli):
    assert cli("check", HEAD, "--max-cost", "2").exit_code == 0
    assert cli("check", HEAD, "--max-cost", "2", "--fail-on-unpriced").exit_code == 1


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "no budget rules"),
        (["--max-user-cost", "bob"], "is not NAME=USD"),
        (["--max-model-cost", "gpt-4o=lots"], "is not NAME=USD"),
        (["--max-increase", "10"], "needs a baseline"),
        (["--max-cost", "1", "--baseline", "missing.json"], "no such baseline"),
        (["--max-cost", "1", "--config", "missing.yaml"], "no such config"),
        (["--max-cost", "-1"], ""),
    ],
)
def test_exit_2_on_usage_errors(cli, args, message):
    result = cli("check", HEAD, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_exit_2_on_a_baseline_that_is_not_a_report(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"summary": {"total_cost_usd": 1},\n  oops}')
    result = cli("check", HEAD, "--max-increase", "5", "--baseline", bad)
    assert result.exit_code == 2
    assert f"{bad}:2: the baseline is not JSON" in result.stderr
    bad.write_text('{"totally": "different"}')
    result = cli("check", HEAD, "--max-increase", "5", "--baseline", bad)
    assert result.exit_code == 2 and "not an llmcost JSON report" in result.stderr


def test_exit_3_when_no_record_is_usable(cli, jsonl):
    log = jsonl(["not json", '{"no": "model"}'])
    result = cli("check", log, "--max-cost", "1")
    assert result.exit_code == 3
    assert "no usable LLM call records" in result.stderr


def test_json_output(cli, baseline_file):
    result = cli(
        "check", HEAD, "--max-cost", "2", "--max-increase", "50", "--baseline", baseline_file,
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["status"] == "fail" and doc["total_cost_usd"] == 1.67
    increase = next(r for r in doc["rules"] if r["rule"] == "max_increase_pct")
    assert increase["actual"] == pytest.approx(67.0) and increase["limit"] == 50
    assert doc["top_models"][0]["model"] == "gpt-4o"
    assert doc["baseline"]["by_model"]["rows"][0]["model"] == "gpt-4o"


def test_json_output_names_the_llmcost_and_tables_that_priced_the_verdict(cli):
    """check --format json had neither llmcost_version nor pricing_version, which every
    report has (DESIGN's JSON contract): a CI job keeping the verdict could not tell which
    tables priced it, nor read it the way it reads the report."""
    doc = json.loads(cli("check", HEAD, "--max-cost", "2", "-f", "json").stdout)
    report = json.loads(cli("analyze", HEAD, "-f", "json").stdout)
    assert doc["llmcost_version"] == report["llmcost_version"] is not None
    assert doc["pricing_version"] == report["pricing_version"] is not None


# ---------------------------------------------------------------- policy from llmcost.yaml


def test_policy_from_the_config_file(cli, baseline_file):
    result = cli(
        "check", HEAD, "--config", CI / "llmcost.yaml", "--baseline", baseline_file, "-f", "json"
    )
    assert result.exit_code == 1, result.stderr
    got = {
        (r["rule"], r["scope"], r["level"]): r["status"] for r in json.loads(result.stdout)["rules"]
    }
    assert got == {
        ("max_cost", "all calls", "fail"): "ok",
        ("max_daily_cost", "costliest day (UTC)", "fail"): "fail",
        ("max_request_cost", "costliest call", "fail"): "ok",
        ("max_increase_pct", "total cost", "fail"): "ok",
        ("per_model", "gpt-4o", "fail"): "ok",
        ("per_user", "each user", "fail"): "fail",
        ("max_cost", "all calls", "warn"): "warn",
        ("fail_on_unpriced", "all calls", "warn"): "warn",
    }


def test_config_found_in_the_working_directory_and_flags_win(cli, tmp_path, baseline_file):
    shutil.copy(CI / "llmcost.yaml", tmp_path / "llmcost.yaml")  # tmp_path is the cwd
    assert cli("check", HEAD, "--baseline", baseline_file).exit_code == 1
    relaxed = cli(
        "check", HEAD, "--baseline", baseline_file,
        "--max-daily-cost", "1.05", "--max-user-cost", "*=0.70",
    )  # fmt: skip
    assert relaxed.exit_code == 0, relaxed.stdout


def test_config_error_is_exit_2_with_file_and_line(cli, tmp_path):
    config = tmp_path / "llmcost.yaml"
    config.write_text("budgets:\n  max_cost: 10\n  max_costs: 20\n")
    result = cli("check", HEAD)
    assert result.exit_code == 2
    assert "llmcost.yaml:3: unknown key 'max_costs' in budgets" in result.stderr


@pytest.mark.parametrize("where", ["pricing", "config"])
@pytest.mark.parametrize("date, why", [("2026-13-01", "month must be in 1..12"),
                                       ("2026-02-30", "day is out of range for month")])  # fmt: skip
def test_an_impossible_date_in_a_yaml_file_is_exit_2_with_file_and_line(
    cli, tmp_path, where, date, why
):
    """A price row's `from: 2026-13-01` (in a pricing table or in llmcost.yaml's models)
    ended the check in a Python traceback (ValueError from the YAML reader's date) and exit
    1, the code of a breached budget: the CI job read as over budget, with no file or line."""
    row = f"      - {{from: {date}, input: 1.0, output: 2.0}}\n"
    if where == "pricing":
        path = tmp_path / "prices.yaml"
        path.write_text(
            "provider: acme\nversion: 2026-01-01\nmodels:\n  acme-1:\n"
            "    source: https://example.com/pricing\n    prices:\n" + row
        )
        args = ["--pricing", path]
    else:
        path = tmp_path / "llmcost.yaml"
        path.write_text(
            "budgets: {max_cost: 10}\npricing:\n  models:\n    acme-1:\n"
            "      provider: acme\n      prices:\n  " + row
        )
        args = []
    result = cli("check", HEAD, "--max-cost", "10", *args)
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{path.name}:7: " in result.stderr
    assert f"{date!r} is not a date ({why})" in result.stderr


# ---------------------------------------------------------------- GitHub Actions


def _actions_env(tmp_path) -> tuple[dict, Path]:
    summary = tmp_path / "step_summary.md"
    summary.write_text("## Earlier step\n\n")
    return {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}, summary


def test_step_summary_and_annotations(cli, tmp_path, baseline_file):
    env, summary = _actions_env(tmp_path)
    result = cli(
        "check", HEAD, "--config", CI / "llmcost.yaml", "--baseline", baseline_file, env=env
    )
    assert result.exit_code == 1
    assert "::" not in result.stdout  # workflow commands go to stderr: stdout is the report
    annotations = [x for x in result.stderr.splitlines() if x.startswith("::")]
    assert annotations == [
        "::error title=llmcost budget::Daily cost (costliest day (UTC)): $1.05 is above the "
        "limit $1.00 — 2026-11-02",
        "::error title=llmcost budget::User cost (each user): $0.70 is above the limit $0.60 "
        "— 1 above: bob ($0.70)",
        # (was '— 6 calls': the acme call is in no cost, and read as if it were in $1.67)
        "::warning title=llmcost budget::Total cost (all calls): $1.67 is above the limit $1.50 "
        "— 6 calls; 1 without a price, not in it",
        "::warning title=llmcost budget::Calls without a price (all calls): 1 call is above "
        "the limit 0 calls — acme-llm-7b",
    ]
    text = summary.read_text()
    assert text.startswith(
        "## Earlier step\n\n## ❌ LLM budget check: 2 of 8 budget rules breached"
    )
    assert "| Daily cost | costliest day (UTC) | $1.00 | $1.05 | ❌ FAIL | 2026-11-02 |" in text
    assert (
        "| Total cost (warn) | all calls | $1.50 | $1.67 | ⚠️ warn | 6 calls; 1 without a price, "
        "not in it |"
    ) in text
    # (was '$1.67 over 6 calls': report's headline says what its total leaves out, so does this)
    assert (
        "- Total cost: $1.67 over 6 calls (1 without a price, not counted as $0), "
        "2026-11-02 → 2026-11-03"
    ) in text
    assert "### Top models" in text and "| gpt-4o | openai | 3 | $1.16 | 69.5% |" in text
    assert "### Change vs baseline" in text
    assert "- Total cost: $1.00 → $1.67 (+$0.67, +67.0%)" in text
    assert "| bob | $0.00 | $0.70 + 1 unpriced | +$0.70 | new | 0 → 2 |" in text


def test_annotations_with_json_output_go_to_stderr(cli, tmp_path):
    env, summary = _actions_env(tmp_path)
    result = cli("check", HEAD, "--max-cost", "1", "-f", "json", env=env)
    assert result.exit_code == 1
    json.loads(result.stdout)  # still exactly one JSON document
    assert "::error title=llmcost budget::Total cost (all calls): $1.67" in result.stderr
    assert "❌ LLM budget check" in summary.read_text()


@pytest.mark.parametrize("format", ["markdown", "table", "json"])
def test_annotations_never_go_to_stdout(cli, tmp_path, format):
    env, _ = _actions_env(tmp_path)
    result = cli("check", HEAD, "--max-cost", "1", "-f", format, env=env)
    assert result.exit_code == 1
    assert not any(x.startswith("::") for x in result.stdout.splitlines())
    assert "::error title=llmcost budget::Total cost (all calls): $1.67" in result.stderr


def test_log_text_cannot_forge_a_workflow_command_or_markup(cli, tmp_path, jsonl):
    log = jsonl(
        [
            {"timestamp": "2026-11-02T09:00:00Z", "provider": "openai", "model": "gpt-4o",
             "feature": "x\n::error::forged 100%", "input_tokens": 100_000, "output_tokens": 0},
            {"timestamp": "2026-11-02T09:00:00Z", "provider": "openai", "model": "gpt-4o",
             "feature": "<img src=x onerror=alert(1)>|", "input_tokens": 100_000,
             "output_tokens": 0},
        ]
    )  # fmt: skip
    env, summary = _actions_env(tmp_path)
    result = cli("check", log, "--max-feature-cost", "*=0.1", env=env)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert not any(x.startswith("::error::forged") for x in lines + result.stdout.splitlines())
    [annotation] = [x for x in lines if x.startswith("::error")]
    assert "x%0A::error::forged 100%25" in annotation
    text = summary.read_text()
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;\\|" in text
    assert "::error::forged" in text and "\n::error" not in text  # one cell, one line


def test_markdown_file_outside_actions(cli, tmp_path):
    out = tmp_path / "comment.md"
    result = cli("check", HEAD, "--max-cost", "1", "--markdown", out)
    assert result.exit_code == 1
    assert not any(x.startswith("::") for x in result.stdout.splitlines())
    text = out.read_text()
    assert text.startswith("## ❌ LLM budget check: 1 of 2 budget rules breached")
    # (was '| 6 calls |': one of them, acme-llm-7b's, has no price and is not in the $1.67)
    assert (
        "| Total cost | all calls | $1.00 | $1.67 | ❌ FAIL | 6 calls; 1 without a price, not in it |"
    ) in text


def test_the_rules_that_fail_come_first(cli, tmp_path, baseline_file):
    """A pull-request comment listed the rules in policy order: the Daily cost breach under
    Total cost's ok, the User cost breach under Request and Model cost's ok, so the reason
    the build failed was not on top. Breaches first, then warnings, then the rules that hold,
    in the comment and in the terminal; --format json keeps the policy order."""
    out = tmp_path / "comment.md"
    args = ("check", HEAD, "--config", CI / "llmcost.yaml", "--baseline", baseline_file)
    result = cli(*args, "--markdown", out)
    assert result.exit_code == 1
    lines = out.read_text().splitlines()
    start = lines.index("| Rule | Scope | Limit | Actual | Status | Detail |") + 2
    rows = [x.split(" | ") for x in lines[start : lines.index("", start)]]
    assert [r[4].split()[-1] for r in rows] == ["FAIL"] * 2 + ["warn"] * 2 + ["ok"] * 4, rows
    assert [r[0] for r in rows[:2]] == ["| Daily cost", "| User cost"]
    terminal = result.stdout.splitlines()
    start = next(i for i, x in enumerate(terminal) if x.startswith("Rule ")) + 1
    assert [x.split()[0] for x in terminal[start : start + 3]] == ["Daily", "User", "Total"]
    as_json = json.loads(cli(*args, "--format", "json").stdout)
    assert as_json["rules"][0]["title"] == "Total cost"


# ---------------------------------------------------------------- the README workflow, as written


def readme_block(heading: str, fence: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(rf"```{fence}\n(.*?)```", section, re.S)
    assert blocks, f"no ```{fence} block under '## {heading}' in the README"
    return blocks[-1]


def shell_env(extra: dict) -> dict:
    """The current environment, the venv's scripts first on PATH (so `llmcost` is ours)."""
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, **extra}
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["COLUMNS"] = "200"
    for name in ("LLMCOST_CONFIG", "LLMCOST_DB"):
        env.pop(name, None)
    return env


def test_readme_workflow_runs_as_written(tmp_path, base):
    workflow = yaml.safe_load(readme_block("CI budget check", "yaml"))
    steps = workflow["jobs"]["llm-budget"]["steps"]
    commands = [
        (step.get("name", ""), line.strip())
        for step in steps
        for line in (step.get("run") or "").splitlines()
        if line.strip().startswith("llmcost ")
    ]
    assert [c for _, c in commands][0].startswith("llmcost check logs/")
    assert len(commands) == 3

    # The repository the workflow runs in: logs from the "eval" step, the policy, a baseline.
    shutil.copytree(CI / "logs", tmp_path / "logs")
    shutil.copy(CI / "llmcost.yaml", tmp_path / "llmcost.yaml")
    (tmp_path / "llmcost-baseline.json").write_text(json.dumps(base, default=str))
    env, summary = _actions_env(tmp_path)
    env = shell_env(env)

    results = []
    for name, command in commands:
        run = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        results.append((name, command, run))
    check, analyze, diff = (r for _, _, r in results)
    assert check.returncode == 1, check.stderr  # the policy is breached: the job fails
    assert analyze.returncode == 0, analyze.stderr
    assert diff.returncode == 0, diff.stderr
    annotations = [x for x in check.stderr.splitlines() if x.startswith("::")]
    assert [a.split("::")[1] for a in annotations] == [
        "error title=llmcost budget",
        "error title=llmcost budget",
        "warning title=llmcost budget",
        "warning title=llmcost budget",
    ]
    text = summary.read_text()
    assert "## ❌ LLM budget check: 2 of 8 budget rules breached" in text
    assert "| Daily cost | costliest day (UTC) | $1.00 | $1.05 | ❌ FAIL | 2026-11-02 |" in text
    # the diff step appended its Markdown after the check's summary
    assert text.index("## LLM cost diff") > text.index("## ❌ LLM budget check")
    assert "| gpt-4o | $0.70 | $1.16 | +$0.46 | +65.7% | 1 → 3 |" in text
    assert (
        json.loads((tmp_path / "llmcost-report.json").read_text())["summary"]["total_cost_usd"]
        == 1.67
    )


def test_the_check_says_what_it_could_not_count(cli, tmp_path):
    """A budget that holds over part of the logs must say which part it did not see."""
    lines = HEAD.read_text().splitlines()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode())[:-30])  # truncated
    odd = tmp_path / "odd.jsonl"
    odd.write_text("not json\n" + lines[0] + "\n")
    result = cli("check", cut, odd, "--max-cost", "1000", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["status"] == "ok" and doc["rejected"] >= 1
    [note] = doc["notes"]
    assert note.startswith(f"{cut}: gzip broke off after line")
    md = cli("check", cut, odd, "--max-cost", "1000", "--format", "markdown").stdout
    assert f"- Not counted: {doc['rejected']} log lines were rejected" in md
    assert "\\`" not in md  # the command named is plain text, no escaped code marks
    assert f"- {note}" in md


def test_an_annotation_of_several_calls_says_are(cli, tmp_path):
    # "20 calls is above the limit 0 calls"
    from llmcost.render.github import annotations

    rule = {"title": "Calls without a price", "scope": "all calls", "level": "fail",
            "limit": 0, "unit": "calls", "status": "fail", "detail": "acme-llm-7b"}  # fmt: skip
    [line] = annotations({"rules": [{**rule, "actual": 20}]})
    assert line.endswith("Calls without a price (all calls): 20 calls are above the limit "
                         "0 calls — acme-llm-7b")  # fmt: skip
    [line] = annotations({"rules": [{**rule, "actual": 1}]})
    assert "1 call is above the limit 0 calls" in line


def _months_of_rejects(tmp_path) -> Path:
    """October: two calls and three rejected lines; November: one call, one rejected line."""
    call = '{{"timestamp": "{}", "provider": "openai", "model": "gpt-4o", "input_tokens": 1000, "output_tokens": 100}}\n'  # noqa: E501
    log = tmp_path / "months.jsonl"
    log.write_text(
        call.format("2026-10-01T10:00:00Z") + "not json\n" * 3 + call.format("2026-10-02T10:00:00Z")
        + call.format("2026-11-10T10:00:00Z") + "not json\n"
    )  # fmt: skip
    return log


def _months_of_rejects_source(cli, tmp_path, stored: bool) -> list:
    """The arguments naming ``_months_of_rejects``: the log, or (``stored``) a database
    ingested from it."""
    log = _months_of_rejects(tmp_path)
    if not stored:
        return [log]
    db = tmp_path / "s.duckdb"
    assert cli("ingest", log, "--db", db).exit_code == 0
    return ["--db", db]


@pytest.mark.parametrize("stored", [False, True], ids=["log", "db"])
def test_a_window_counts_the_rejected_lines_of_the_window(cli, tmp_path, stored):
    # a check of November (or analyze --db X --since ...) counted October's rejected lines too
    source = _months_of_rejects_source(cli, tmp_path, stored)
    window = ["--since", "2026-11-01"]
    report = json.loads(cli("analyze", *source, *window, "-f", "json").stdout)
    assert report["summary"]["requests"] == 1
    assert report["rejected"]["count"] == 1
    assert [x["line"] for x in report["rejected"]["samples"]] == [7]
    assert report["rejected"]["period"] == {"since": "2026-11-01T00:00:00+00:00", "until": None}
    markdown = cli("analyze", *source, *window, "-f", "markdown").stdout
    assert "1 line was rejected in this period" in markdown
    table = cli("analyze", *source, *window, env={"COLUMNS": "120"}).stdout
    assert "1 line was rejected in this period" in table
    check = [*source, *window, "--max-cost", "100"]
    assert json.loads(cli("check", *check, "-f", "json").stdout)["rejected"] == 1
    assert "Not counted: 1 log line was rejected" in cli("check", *check).stdout
    assert "Not counted: 1 log line was rejected" in cli("check", *check, "-f", "markdown").stdout
    # October alone: its three; no window: all four, as before
    october = json.loads(cli("analyze", *source, "--until", "2026-11-01", "-f", "json").stdout)
    assert october["rejected"]["count"] == 3
    every = json.loads(cli("analyze", *source, "-f", "json").stdout)["rejected"]
    assert every["count"] == 4 and every["period"] is None


def test_both_daily_cost_rules_say_their_days_are_utc():
    """--max-daily-cost said 'a day (UTC)', --warn-daily-cost only 'a day': check has no
    --tz, and a team whose day is not UTC's must read which days both limits are of."""
    from typer.main import get_command

    from llmcost.cli import app

    helps = {p.name: p.help for p in get_command(app).commands["check"].params}
    assert "a day (UTC)" in helps["max_daily_cost"]
    assert "a day (UTC)" in helps["warn_daily_cost"]


@pytest.mark.parametrize("stored", [False, True], ids=["log", "db"])
def test_a_window_says_its_rejected_lines_are_some_of_those_stored(cli, tmp_path, stored):
    """`check --db F --since 2026-11-01` said '4 log lines were rejected' where the ingest had
    said 5: a window counts the rejected lines it dates among its calls (a line has no time
    of its own), and said not that it did. It names the window, and how many are stored."""
    source = _months_of_rejects_source(cli, tmp_path, stored)
    check = [*source, "--since", "2026-11-01", "--max-cost", "100"]
    doc = json.loads(cli("check", *check, "-f", "json").stdout)
    assert (doc["rejected"], doc["rejected_in_store"], doc["rejected_window"]) == (1, 4, True)
    text = " ".join(cli("check", *check, env={"COLUMNS": "200"}).stdout.split())
    assert "Not counted: 1 log line was rejected in this window, of 4 stored (a rejected " in text
    assert "the call logged before it in its file dates it" in text
    md = cli("check", *check, "-f", "markdown").stdout
    assert "1 log line was rejected in this window, of 4 stored" in md
    # no window: every stored line, and no word of a window
    everything = cli("check", *source, "--max-cost", "100").stdout
    assert "Not counted: 4 log lines were rejected (llmcost analyze" in everything
    assert "in this window" not in everything
    report = json.loads(cli("analyze", *source, "--since", "2026-11-01", "-f", "json").stdout)
    assert (report["rejected"]["count"], report["rejected"]["in_store"]) == (1, 4)


def test_the_total_above_the_rules_tells_itself_from_the_limit(cli):
    """The real Anthropic prompt-caching calls cost $0.01056915. Under --max-cost 0.01 the
    rule's row read 'Limit $0.010, Actual $0.011, FAIL' but the line above it 'Total cost:
    $0.01 over 2 calls': the limit itself, in a check that failed. The total is written with
    the rule's digits; a total far from its limit keeps its cents."""
    from tests.conftest import REAL

    log = REAL / "anthropic" / "prompt_caching_responses.txt"
    for fmt, total in (("table", "Total cost: $0.011 over 2 calls"),
                       ("markdown", "- Total cost: $0.011 over 2 calls")):  # fmt: skip
        out = cli("check", log, "--max-cost", "0.01", "--format", fmt)
        assert out.exit_code == 1, out.stderr
        assert total in out.stdout.splitlines()
    out = cli("check", log, "--max-cost", "5")
    assert "Total cost: $0.01 over 2 calls" in out.stdout.splitlines()


def _answered_and_rate_limited() -> tuple[dict, dict]:
    """A gpt-4o-mini call with its usage, and the same call failed with a 429 and no usage."""
    prompt = [{"role": "user", "content": "hello"}]
    ok = {"model": "gpt-4o-mini", "timestamp": "2026-11-02T10:00:00Z", "messages": prompt,
          "usage": {"prompt_tokens": 8, "completion_tokens": 2}}  # fmt: skip
    limited = {**ok, "status": 429}
    del limited["usage"]
    return ok, limited


def test_a_rate_limited_call_without_usage_does_not_fail_the_unpriced_rule(cli, jsonl):
    """A failed call whose log has no usage (a 429) is not billed, so its cost is not filled
    in (6279411): it is no call 'without a price', and --fail-on-unpriced does not fail a CI
    job over rate limits. A call of a model with no price still does."""
    ok, limited = _answered_and_rate_limited()
    log = jsonl([ok, limited])
    result = cli("check", log, "--max-cost", "1", "--fail-on-unpriced", "-f", "json")
    assert result.exit_code == 0, result.stdout
    [rule] = [r for r in json.loads(result.stdout)["rules"] if r["rule"] == "fail_on_unpriced"]
    assert (rule["actual"], rule["status"]) == (0, "ok")
    text = cli("check", log, "--max-cost", "1").stdout
    assert "without a price" not in text
    unpriced = jsonl([ok, limited, {**ok, "model": "acme-7b"}])
    assert cli("check", unpriced, "--max-cost", "1", "--fail-on-unpriced").exit_code == 1


def test_top_models_leave_out_a_rate_limited_call_as_the_total_does(cli, jsonl):
    """The 429 call without usage of the test above is left out of the total's line (not
    billed: no call 'without token counts'), but its Top models row read '$0.000002 + 1
    without tokens' under 'Total cost: $0.000002 over 2 calls': the row counted it among the
    calls its cost leaves out (by_model's unknown_token_requests), the total did not
    (budgets.uncosted_calls). The row counts them as the total does."""
    ok, limited = _answered_and_rate_limited()
    log = jsonl([ok, limited])
    doc = json.loads(cli("check", log, "--max-cost", "1", "-f", "json").stdout)
    [top] = doc["top_models"]
    assert doc["unknown_token_requests"] == top["unknown_token_requests"] == 0
    assert (top["requests"], top["cost_usd"]) == (2, doc["total_cost_usd"])
    for fmt in ("table", "markdown"):
        text = cli("check", log, "--max-cost", "1", "-f", fmt).stdout
        total = money(doc["total_cost_usd"])
        assert f"Total cost: {total} over 2 calls" in text, fmt
        [row] = [line for line in text.splitlines() if "gpt-4o-mini" in line]
        assert total in row and "without tokens" not in row, fmt
    # a call without tokens that was not a failure is still said, in both
    bare = {k: v for k, v in ok.items() if k != "usage"}
    bare["messages"] = None
    doc = json.loads(cli("check", jsonl([ok, limited, bare]), "--max-cost", "1", "-f", "json").stdout)  # fmt: skip
    assert doc["unknown_token_requests"] == doc["top_models"][0]["unknown_token_requests"] == 1


def test_top_models_say_what_they_leave_out(cli, jsonl):
    """Top models lists 5 models: a log of 25 listed 5 and said nothing of the 20 others, so
    its rows read as the whole of the total. The others are summed on one row, whose cost
    reads as a model row's: 'unpriced' or 'without tokens', never $0."""

    def call(model: str, **kw) -> dict:
        return {"model": model, "timestamp": "2026-11-02T10:00:00Z",
                "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 0}, **kw}  # fmt: skip

    # 1M input tokens each: $2.50, $2.00, $0.40, $0.15, $0.10 and gpt-5-nano's $0.05
    listed = [call(m) for m in ("gpt-4o", "gpt-4.1", "gpt-4.1-mini", "gpt-4o-mini", "gpt-4.1-nano")]
    bare = {"model": "gpt-5-nano", "timestamp": "2026-11-02T11:00:00Z", "messages": None}
    limited = {**bare, "status": 429}  # failed without usage: not billed, not 'without tokens'
    unpriced = call("acme-7b")
    log = jsonl([*listed, call("gpt-5-nano"), bare, limited, unpriced])
    doc = json.loads(cli("check", log, "--max-cost", "10", "-f", "json").stdout)
    assert [m["model"] for m in doc["top_models"]][-1] == "gpt-4.1-nano" and doc["models"] == 7
    other = doc["other_models"]
    assert (other["requests"], other["unpriced_requests"], other["unknown_token_requests"]) == (
        4, 1, 1
    )  # fmt: skip
    assert other["cost_usd"] == pytest.approx(0.05)
    assert other["share"] == pytest.approx(0.05 / 5.20)
    for fmt in ("table", "markdown"):
        text = " ".join(cli("check", log, "--max-cost", "10", "-f", fmt).stdout.split())
        assert re.search(
            r"\(2 more\)\W+4\W+\$0\.05 \+ 1 unpriced \+ 1 without tokens\W+1\.0%", text
        ), text
    # the others without a cost: no cost, never $0
    log = jsonl([*listed, bare, unpriced])
    doc = json.loads(cli("check", log, "--max-cost", "10", "-f", "json").stdout)
    assert (doc["other_models"]["cost_usd"], doc["other_models"]["share"]) == (None, None)
    for fmt in ("table", "markdown"):
        text = " ".join(cli("check", log, "--max-cost", "10", "-f", fmt).stdout.split())
        assert re.search(r"\(2 more\)\W+2\W+unpriced \+ 1 without tokens\W+—", text), text
    # five models or fewer: every one listed, none said to be left out
    doc = json.loads(cli("check", jsonl(listed), "--max-cost", "10", "-f", "json").stdout)
    assert (doc["models"], doc["other_models"]) == (5, None)
    assert "more)" not in cli("check", jsonl(listed), "--max-cost", "10").stdout
    # --top lists more or fewer (this log: 5 priced models, gpt-5-nano without tokens, and
    # acme-7b without a price): the others summed all the same
    doc = json.loads(cli("check", log, "--max-cost", "10", "--top", "2", "-f", "json").stdout)
    assert [m["model"] for m in doc["top_models"]] == ["gpt-4o", "gpt-4.1"]
    assert doc["other_models"]["requests"] == 5
    assert doc["other_models"]["cost_usd"] == pytest.approx(0.65)
    text = " ".join(cli("check", log, "--max-cost", "10", "--top", "2").stdout.split())
    assert re.search(r"\(5 more\)\W+5\W+\$0\.65 \+ 1 unpriced \+ 1 without tokens", text), text
    doc = json.loads(cli("check", log, "--max-cost", "10", "--top", "9", "-f", "json").stdout)
    assert (len(doc["top_models"]), doc["other_models"]) == (7, None)
    assert cli("check", log, "--max-cost", "10", "--top", "0").exit_code == 2


def test_a_total_of_no_call_with_a_cost_is_unknown_not_zero(jsonl, cli, tmp_path):
    # Two calls of a model no table prices, and two failed gpt-4o calls without usage (a
    # priced model, no token counts): neither log has a call with a cost. Their total read
    # 0 in the JSON and "$0.00" everywhere, check's max_cost held at $0.00 and diff read
    # "$0.00 → $0.0075", as if nothing had been spent. A log with one call priced keeps its
    # number: gpt-4o 1,000 x $2.50/M + 500 x $10/M = $0.0075.
    unpriced = str(
        jsonl(
            [
                {"timestamp": f"2026-01-0{d}T10:00:00Z", "model": "mystery-model",
                 "usage": {"prompt_tokens": 1000, "completion_tokens": 10}}
                for d in (1, 2)
            ]
        )
    )  # fmt: skip
    no_tokens = str(
        jsonl(
            [
                {"timestamp": f"2026-01-0{d}T10:00:00Z", "model": "gpt-4o", "status": "error"}
                for d in (1, 2)
            ]
        )
    )
    priced = str(
        jsonl(
            [
                {"timestamp": "2026-01-01T10:00:00Z", "model": "gpt-4o",
                 "usage": {"prompt_tokens": 1000, "completion_tokens": 500}}
            ]
        )
    )  # fmt: skip
    reports = {}
    for name, log in (("unpriced", unpriced), ("no_tokens", no_tokens), ("priced", priced)):
        out = tmp_path / f"{name}.json"
        assert cli("analyze", log, "--format", "json", "-o", str(out)).exit_code == 0
        reports[name] = json.loads(out.read_text())["summary"]
    assert reports["unpriced"]["total_cost_usd"] is None
    assert reports["no_tokens"]["total_cost_usd"] is None
    assert set(reports["unpriced"]["cost_by_part"].values()) == {None}
    assert reports["priced"]["total_cost_usd"] == pytest.approx(0.0075)

    md = cli("analyze", unpriced, "--format", "markdown").stdout
    assert "- Total cost: unpriced (2 calls in all), 2026-01-01 → 2026-01-02" in md
    assert "$0.00" not in md.split("## ")[2]  # the summary: no total, nor parts, of $0
    text = " ".join(cli("analyze", no_tokens).stdout.split())
    assert "Total cost: unknown: 2 calls without tokens (2 calls in all)" in text
    page = cli("analyze", unpriced, "--format", "html").stdout
    assert "unpriced (2 calls in all) · prices checked" in page

    check = cli("check", unpriced, "--max-cost", "1", "--format", "markdown")
    assert check.exit_code == 0, check.stderr
    assert "| Total cost | all calls | $1.00 | — | ❔ unknown | 2 calls, none with a cost |" in (
        check.stdout
    )
    assert "Total cost: unknown over 2 calls (2 without a price" in check.stdout
    increase = cli(
        "check", priced, "--baseline", str(tmp_path / "no_tokens.json"), "--max-increase", "10",
        "--format", "json",
    )  # fmt: skip
    rule = json.loads(increase.stdout)["rules"][0]
    assert (rule["rule"], rule["status"], rule["actual"]) == ("max_increase_pct", "unknown", None)
    assert rule["detail"] == "unknown → $0.0075"

    diff = cli("diff", str(tmp_path / "unpriced.json"), str(tmp_path / "priced.json"))
    assert diff.exit_code == 0, diff.stderr
    assert (
        "Total cost: unknown → $0.0075 (no change known: a side has no call with a cost)"
        in " ".join(diff.stdout.split())
    )
    total = json.loads(
        cli(
            "diff", str(tmp_path / "unpriced.json"), str(tmp_path / "priced.json"),
            "--format", "json",
        ).stdout
    )["total"]  # fmt: skip
    assert total == {"base_usd": None, "head_usd": 0.0075, "change_usd": None, "change_pct": None}
    # export's line said '0 with a cost totalling $0.00'
    export = cli("export", no_tokens, "-o", str(tmp_path / "calls.csv"))
    assert export.exit_code == 0, export.stderr
    assert "(csv): none with a cost, " in " ".join(export.stderr.split())


def test_a_feature_or_user_of_no_call_with_a_cost_has_a_null_cost(jsonl, cli):
    # Feature 'lab' (user u2): one call of a model no table prices; feature 'ops' (user u3):
    # one failed gpt-4o call without usage; 'chat' (u1): gpt-4o 1,000 x $2.50/M + 500 x
    # $10/M = $0.0075. The report's limits wrote cost_usd 0.0 for lab, ops, u2 and u3, read
    # by a diff or a script as nothing spent.
    log = str(
        jsonl(
            [
                {"ts": "2026-11-01T10:00:00Z", "model": "gpt-4o", "input_tokens": 1000,
                 "output_tokens": 500, "user": "u1", "metadata": {"feature": "chat"}},
                {"ts": "2026-11-01T11:00:00Z", "model": "acme-x", "input_tokens": 10,
                 "output_tokens": 10, "user": "u2", "metadata": {"feature": "lab"}},
                {"ts": "2026-11-01T12:00:00Z", "model": "gpt-4o", "status": "error",
                 "user": "u3", "metadata": {"feature": "ops"}},
            ]
        )
    )  # fmt: skip
    result = cli("analyze", log, "--format", "json")
    assert result.exit_code == 0, result.stderr
    limits = json.loads(result.stdout)["limits"]
    features = {
        f["feature"]: (f["cost_usd"], f["unpriced_requests"], f["unknown_token_requests"])
        for f in limits["by_feature"]
    }
    assert features == {"chat": (0.0075, 0, 0), "lab": (None, 1, 0), "ops": (None, 0, 1)}
    users = [(u["user_id"], u["cost_usd"]) for u in limits["by_user"]]
    assert users[0] == ("u1", 0.0075) and sorted(users[1:]) == [("u2", None), ("u3", None)]
    # check's per-feature rule on lab: no call with a cost, unknown (it read "$0.00 ✅ ok")
    check = cli("check", log, "--max-feature-cost", "lab=1", "--format", "markdown")
    assert check.exit_code == 0, check.stderr
    assert (
        "| Feature cost | lab | $1.00 | — | ❔ unknown | no cost known: 1 call without a price |"
        in check.stdout
    )


def test_a_name_of_no_call_with_a_cost_is_unknown_never_a_pass_at_zero(jsonl, cli):
    # u1 (chat): gpt-4o 1,000 x $2.50/M + 500 x $10/M = $0.0075, and a failed gpt-4o call
    # without usage; u2 (lab): a call of acme-x, which no table prices; u3 (ops): a failed
    # gpt-4o call without usage. u3's and acme-x's rules read "$0.00 ✅ ok" (a pass at a
    # cost no one knows), u1's "$0.0075" with no word of the call it leaves out, and the
    # '*' rule named lab, at $0, its highest. u1's failed call without usage is not billed:
    # a rule's detail leaves it out as the total's does (uncosted_calls), and says u1's
    # gpt-4o call without usage or text that did not fail (its tokens are unknown).
    log = str(
        jsonl(
            [
                {"ts": "2026-11-01T10:00:00Z", "model": "gpt-4o", "input_tokens": 1000,
                 "output_tokens": 500, "user": "u1", "metadata": {"feature": "chat"}},
                {"ts": "2026-11-01T10:30:00Z", "model": "gpt-4o", "status": "error",
                 "user": "u1", "metadata": {"feature": "chat"}},
                {"ts": "2026-11-01T10:45:00Z", "model": "gpt-4o", "user": "u1",
                 "metadata": {"feature": "chat"}},
                {"ts": "2026-11-01T11:00:00Z", "model": "acme-x", "input_tokens": 10,
                 "output_tokens": 10, "user": "u2", "metadata": {"feature": "lab"}},
                {"ts": "2026-11-01T12:00:00Z", "model": "gpt-4o", "status": "error",
                 "user": "u3", "metadata": {"feature": "ops"}},
            ]
        )
    )  # fmt: skip
    result = cli(
        "check", log, "--max-user-cost", "u1=1", "--max-user-cost", "u3=1",
        "--max-model-cost", "acme-x=1", "--max-model-cost", "gpt-4o=1",
        "--max-feature-cost", "*=0.001", "-f", "json",
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr  # chat's $0.0075 is above $0.001
    rules = rules_of(json.loads(result.stdout))
    u1, u3 = rules[("per_user", "u1", "fail")], rules[("per_user", "u3", "fail")]
    assert (u1["actual"], u1["status"]) == (0.0075, "ok")
    assert u1["detail"] == "1 call without token counts, not in it"
    assert (u3["actual"], u3["status"]) == (None, "unknown")
    assert u3["detail"] == "no cost known: 1 call without token counts"
    acme = rules[("per_model", "acme-x", "fail")]
    assert (acme["actual"], acme["status"]) == (None, "unknown")
    assert acme["detail"] == "no cost known: 1 call without a price"
    gpt = rules[("per_model", "gpt-4o", "fail")]
    assert (gpt["actual"], gpt["status"]) == (0.0075, "ok")
    # (its 2 failed calls without usage are not billed: in no count, as in the total's)
    assert gpt["detail"] == "1 call without token counts, not in it"
    each = rules[("per_feature", "each feature", "fail")]
    assert (each["actual"], each["status"]) == (0.0075, "fail")
    assert each["detail"] == "1 above: chat ($0.0075); no cost known of lab, ops"
    # the terminal: no cost is '—' and 'unknown', never '$0.00 ok'
    text = cli("check", log, "--max-user-cost", "u3=1").stdout
    line = next(x for x in text.splitlines() if x.startswith("User cost"))
    assert re.search(r"u3\s+\$1\.00\s+—\s+unknown", line), line


def test_the_total_says_its_calls_without_a_price_apart_from_those_without_tokens(jsonl, cli):
    # gpt-4o 4,000 x $2.50/M = $0.01; a call of acme-llm-7b (no price); a gpt-4o call whose
    # log has no usage and no text (gpt-4o has a price: its tokens are unknown); a failed
    # gpt-4o call without usage (not billed: in no count of calls without a cost). The
    # total read '$0.01 over 4 calls (2 without a price, not counted as $0)'.
    log = jsonl(
        [
            {"request_id": "a", "timestamp": "2026-11-15T10:00:00Z", "model": "gpt-4o",
             "input_tokens": 4000, "output_tokens": 0},
            {"request_id": "b", "timestamp": "2026-11-15T11:00:00Z", "model": "acme-llm-7b",
             "input_tokens": 10, "output_tokens": 5},
            {"request_id": "c", "timestamp": "2026-11-15T12:00:00Z", "model": "gpt-4o"},
            {"request_id": "d", "timestamp": "2026-11-15T13:00:00Z", "model": "gpt-4o",
             "status": "error"},
        ]
    )  # fmt: skip
    doc = json.loads(cli("check", log, "--max-cost", "1", "-f", "json").stdout)
    assert (doc["unpriced_requests"], doc["unknown_token_requests"]) == (1, 1)
    rules = rules_of(doc)
    assert rules[("max_cost", "all calls", "fail")]["detail"] == (
        "4 calls; 1 without a price and 1 without token counts, not in it"
    )
    calls = rules[("fail_on_unpriced", "all calls", "warn")]
    assert (calls["actual"], calls["detail"]) == (2, "acme-llm-7b and 1 call without token counts")
    md = cli("check", log, "--max-cost", "1", "-f", "markdown").stdout
    assert (
        "- Total cost: $0.01 over 4 calls (1 without a price and 1 without token counts, not "
        "counted as $0), 2026-11-15 → 2026-11-15" in md
    )
