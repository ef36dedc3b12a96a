"""The README against what the code does: the Python it asks for, the columns of an
export, the --by dimensions. (Its commands run as written: tests/test_check.py, the CI
workflow; tests/test_report_cmd.py, the crontab; tests/test_config.py, the llmcost.yaml
example; tests/test_export.py, the lake total.)"""

from __future__ import annotations

import re

import typer
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from llmcost import attribution, export
from llmcost.cli import app
from tests.conftest import ROOT, SAMPLES

try:
    import tomllib  # novermin (the except below is 3.10's)
except ModuleNotFoundError:  # Python 3.10: its backport, in the test extra there
    import tomli as tomllib


def readme() -> str:
    return (ROOT / "README.md").read_text()


def section(heading: str) -> str:
    return readme().split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def floor(spec: str) -> tuple[int, ...]:
    [version] = re.findall(r">=\s*([\d.]+)", spec)
    return tuple(int(part) for part in version.split("."))


def requirements_on(python: str) -> dict[str, SpecifierSet]:
    """The package's dependencies a pip on that Python installs: name -> versions allowed."""
    env = {"python_version": python, "python_full_version": python + ".0"}
    wanted = [Requirement(line) for line in pyproject()["project"]["dependencies"]]
    return {r.name: r.specifier for r in wanted if r.marker is None or r.marker.evaluate(env)}


def test_quickstart_python_is_the_one_the_package_requires():
    """The README asked for Python >= 3.10, as pyproject did, but a 3.10 venv installs
    DuckDB 1.5 (DuckDB 2 has no 3.10 wheels) and `llmcost analyze sample_logs/demo.jsonl`
    died on the first file: KeyError 'operator' (the profiling JSON of DuckDB 2), then a
    ConversionException (`tags ->> '$.custom_id' IS NOT NULL`, parsed as DuckDB 2 does).
    The code now runs on both: 3.10 gets DuckDB 1.5.6 (and the pytz it fetches a
    TIMESTAMPTZ with), 3.11 and later DuckDB 2, and the README asks for what pyproject
    says."""
    python = floor(pyproject()["project"]["requires-python"])
    assert python == (3, 10)
    on_310 = requirements_on("3.10")
    assert on_310["duckdb"].contains("1.5.6") and not on_310["duckdb"].contains("2.0.0")
    assert not on_310["duckdb"].contains("1.5.5") and "pytz" in on_310
    for later in ("3.11", "3.13"):
        on_later = requirements_on(later)
        assert not on_later["duckdb"].contains("1.5.6") and on_later["duckdb"].contains("2.0.0")
        assert "pytz" not in on_later
    [asked] = re.findall(r"\(Python ≥ ([\d.]+)\)", section("Quickstart"))
    assert tuple(int(part) for part in asked.split(".")) == python


def test_export_columns_are_the_readme_table(cli):
    """The Export table left out inference_geo, speed, price_inference_geo, price_speed and
    cost_search (a part of the cost split the README said adds up to cost_usd)."""
    table = section("Export").split("| columns | what |", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"`([a-z_0-9]+)`", table))
    result = cli("export", SAMPLES / "shapes" / "flat.jsonl", "-o", "-", "--format", "csv")
    header = result.stdout.splitlines()[0].split(",")
    assert {"cost_usd", *export.CALL_COLUMNS, *export.PRICE_COLUMNS} <= set(header)
    assert [c for c in header if c not in named] == []


def by_help() -> str:
    command = typer.main.get_command(app)
    analyze = command.commands["analyze"]
    [option] = [p for p in analyze.params if "--by" in getattr(p, "opts", ())]
    return option.help


def test_by_help_and_readme_name_every_dimension():
    """`analyze --help` named 10 of the 14 dimensions --by takes (priced_as, finish_reason,
    token_source and source were missing); the README's table names them all."""
    names = set(attribution.DIMENSIONS)
    help_names = set(re.findall(r"[a-z_]+", by_help().split(":", 1)[1]))
    assert names <= help_names, sorted(names - help_names)
    table = section("Attribution").split("| dimension | from |", 1)[1].split("\n\n", 1)[0]
    assert names <= set(re.findall(r"`([a-z_]+)`", table))


def test_the_exit_code_table_names_every_command_that_exits_1(cli):
    """The table said exit 1 is a breached budget (check) or an alert (report); `pricing
    resolve` of a name no table prices exits 1 too (its --help says so), which a script
    reading the README's table took for a crash."""
    row = next(line for line in readme().splitlines() if line.startswith("| 1 |"))
    assert cli("pricing", "resolve", "acme-llm-7b").exit_code == 1
    for command in ("`check`", "`report`", "`pricing resolve`"):
        assert command in row, command


def test_schema_example_passes_pricing_check(cli, tmp_path):
    """pricing/SCHEMA.md's example table, copied as it is, failed its own validator: its row
    has audio prices and its long_context tier had none ('the row has input_audio, its
    long_context needs one too', a rule the same page states). The tier now gives them."""
    schema = (ROOT / "pricing" / "SCHEMA.md").read_text()
    example = schema.split("```yaml\n", 1)[1].split("```", 1)[0]
    table = tmp_path / "example.yaml"
    table.write_text(example)
    result = cli("pricing", "check", str(table))
    assert result.exit_code == 0, result.stderr
    assert "1 table, 1 model: 0 errors, 0 warnings" in result.stdout
