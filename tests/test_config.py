"""llmcost.yaml: the budgets: and alerts: sections, errors with file:line, and the README's
full example (every section that exists) loads as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llmcost import config
from llmcost.budgets import Alerts, Limits, Policy
from llmcost.errors import ConfigError
from tests.conftest import DATA, ROOT

FULL = """\
budgets:
  max_cost: 100
  max_daily_cost: 20
  max_request_cost: 0.5
  per_model: {gpt-4o: 50, "*": 30}
  per_feature:
    support-chat: 40
  per_user:
    "*": 5
    12345: 9
  max_increase_pct: 20
  fail_on_unpriced: true
  warn:
    max_cost: 80
    per_user: {"*": 4}
alerts:
  max_cost: 50
  max_day_over_day_pct: 100
  anomalies: true
"""


def parse(text: str, name: str = "llmcost.yaml") -> config.Config:
    return config.parse(text, Path(name))


def test_budgets_and_alerts_parse():
    cfg = parse(FULL)
    assert cfg.get("budgets") == Policy(
        fail=Limits(
            max_cost=100.0,
            max_daily_cost=20.0,
            max_request_cost=0.5,
            max_increase_pct=20.0,
            per_model={"gpt-4o": 50.0, "*": 30.0},
            per_feature={"support-chat": 40.0},
            per_user={"*": 5.0, "12345": 9.0},  # a numeric user id is a name
        ),
        warn=Limits(max_cost=80.0, per_user={"*": 4.0}),
        fail_on_unpriced=True,
    )
    assert cfg.get("alerts") == Alerts(max_cost=50.0, max_day_over_day_pct=100.0, anomalies=True)


def test_empty_sections_mean_no_rules():
    cfg = parse("budgets:\nalerts:\n")
    assert cfg.get("budgets").empty()
    assert cfg.get("alerts") == Alerts()


@pytest.mark.parametrize(
    "text, where",
    [
        # an unknown key, at its line
        ("budgets:\n  max_cost: 1\n  max_cots: 2\n", "llmcost.yaml:3: unknown key 'max_cots' in budgets"),
        ("budgets:\n  warn:\n    max_cost: 1\n    fail_on_unpriced: true\n",
         "llmcost.yaml:4: unknown key 'fail_on_unpriced' in budgets.warn"),
        ("alerts:\n  max_cost: 1\n\n  jump: 5\n", "llmcost.yaml:4: unknown key 'jump' in alerts"),
        ("budget:\n  max_cost: 1\n", "llmcost.yaml:1: unknown section 'budget'"),
        # bad values, at their line
        ("budgets:\n  max_cost: -5\n", "llmcost.yaml:2: budgets.max_cost must be a number ≥ 0, not -5"),
        ("budgets:\n  max_cost: lots\n", "llmcost.yaml:2: budgets.max_cost must be a number ≥ 0"),
        ("budgets:\n  max_cost: true\n", "llmcost.yaml:2: budgets.max_cost must be a number ≥ 0"),
        ("budgets:\n  max_cost: .inf\n", "llmcost.yaml:2: budgets.max_cost must be a finite number"),
        ("budgets:\n  per_user: 5\n", "llmcost.yaml:2: budgets.per_user must map names to amounts"),
        ("budgets:\n  per_user:\n    bob: 1\n    eve: free\n", "llmcost.yaml:4: budgets.per_user.eve must be a number"),
        ("budgets:\n  fail_on_unpriced: yes please\n", "llmcost.yaml:2: budgets.fail_on_unpriced must be true or false"),
        ("budgets:\n  warn: 5\n", "llmcost.yaml:2: budgets.warn must be a mapping"),
        ("savings:\n  loop_share: 0.01\n", "llmcost.yaml:2: savings.loop_share must be between 0.1 and 1, got 0.01"),
        ("budgets: [1, 2]\n", "budgets must be a mapping"),
        ("alerts:\n  anomalies: 1\n", "llmcost.yaml:2: alerts.anomalies must be true or false"),
        ("alerts:\n  max_day_over_day_pct: -1\n", "llmcost.yaml:2: alerts.max_day_over_day_pct must be a number"),
    ],
)  # fmt: skip
def test_errors_name_the_line(text, where):
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert where in caught.value.message
    assert "README" in caught.value.hint


@pytest.mark.parametrize(
    "text, where",
    [
        ("# CI\nattribution: [team, user]\n", "llmcost.yaml:2: attribution must map"),
        ("budgets:\n  max_cost: 1\nalerts: 5\n", "llmcost.yaml:3: alerts must be a mapping"),
        ("savings: 5\n", "llmcost.yaml:1: savings must be a mapping"),
        ("\nformats: 3\n", "llmcost.yaml:2: formats must be a mapping"),
        ("routing:\n  rules: [5]\n", "llmcost.yaml:1: a routing rule must be a mapping"),
    ],
)
def test_a_value_that_is_not_a_mapping_is_named_by_its_section_line(text, where):
    # a list or a number carries no line of its own: the error names its section's, not 0
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert where in caught.value.message


@pytest.mark.parametrize(
    "text, where",
    [
        ("budgets:\n  max_cost: 5\nbudgets:\n  max_cost: 50\n",
         "llmcost.yaml:3: not valid YAML: duplicate key 'budgets' (first on line 1)"),
        ("budgets:\n  per_user:\n    bob: 1\n    bob: 9\n",
         "llmcost.yaml:4: not valid YAML: duplicate key 'bob' (first on line 3)"),
    ],
)  # fmt: skip
def test_a_key_given_twice_is_an_error_not_the_last_one_silently(text, where):
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert where in caught.value.message


def test_cli_exits_2_naming_file_and_line(cli, tmp_path):
    path = tmp_path / "ci.yaml"
    path.write_text("# budget for CI\nbudgets:\n  max_cost: 10\n  per_users:\n    bob: 1\n")
    log = DATA / "ci" / "logs" / "calls.jsonl"
    for command in (["check", log], ["analyze", log], ["report", "--period", "yesterday"]):
        result = cli(*command, "--config", path)
        assert result.exit_code == 2, (command, result.stdout)
        assert f"{path}:4: unknown key 'per_users' in budgets" in result.stderr


def test_a_config_that_is_not_utf8_exits_2_naming_its_line(cli, tmp_path):
    path = tmp_path / "llmcost.yaml"
    path.write_bytes("budgets:\n  # caf\u00e9 team\n  max_cost: 5\n".encode("latin-1"))
    result = cli("check", DATA / "ci" / "logs" / "calls.jsonl", "--config", path)
    assert result.exit_code == 2
    assert f"{path}:2: not UTF-8 text (byte 0xe9)" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_working_directory_config_is_found(cli, tmp_path):
    (tmp_path / "llmcost.yaml").write_text("alerts:\n  max_cost: 1\n  foo: 2\n")
    result = cli("check", DATA / "ci" / "logs" / "calls.jsonl", "--max-cost", "5")
    assert result.exit_code == 2
    assert "llmcost.yaml:3: unknown key 'foo' in alerts" in result.stderr


@pytest.mark.parametrize(
    "command", [["export", "-o", "-", "-f", "csv"], ["check", "--max-cost", "5"]]
)
def test_a_config_path_from_the_environment_is_named_as_such(cli, tmp_path, command):
    """$LLMCOST_CONFIG naming no file said 'check the path given to --config' to a run
    given no --config: the fix is in the environment (a CI variable), which it now names;
    a --config naming a directory said 'no such config file'."""
    log = DATA / "ci" / "logs" / "calls.jsonl"
    missing = tmp_path / "gone.yaml"
    result = cli(command[0], log, *command[1:], env={"LLMCOST_CONFIG": str(missing)})
    assert result.exit_code == 2 and result.stdout == ""
    assert f"{missing}: no such config file (named by $LLMCOST_CONFIG)" in result.stderr
    assert "hint: check the path given to $LLMCOST_CONFIG, or unset it" in result.stderr
    if command[0] != "check":  # (export has no --config: it reads the environment's)
        return
    result = cli(command[0], log, *command[1:], "--config", tmp_path)
    assert result.exit_code == 2
    assert f"{tmp_path}: a directory, not a config file" in result.stderr
    assert "hint: check the path given to --config" in result.stderr


def readme_config() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```yaml\n(.*?)```", section, re.S)
    return block


def test_readme_example_loads_and_covers_every_section():
    block = readme_config()
    cfg = parse(block)
    config._load_sections()
    assert set(cfg.sections) == set(config._SECTIONS), (
        "the README's Configuration example must show every llmcost.yaml section"
    )
    # every top-level key and every budgets/alerts key carries a comment
    for line in block.splitlines():
        if re.match(r"[a-z_]+:", line):
            assert "#" in line, f"section without a comment: {line}"
    budgets = cfg.get("budgets")
    assert budgets.fail.max_cost is not None and budgets.warn.max_cost is not None
    assert cfg.get("alerts").max_cost is not None
