"""Output paths that cannot be written: one error line with a hint, exit 2, no traceback."""

from __future__ import annotations

import json

import pytest

from tests.conftest import DATA

LOG = DATA / "ci" / "period.jsonl"
BASE = DATA / "ci" / "base.jsonl"


@pytest.fixture
def blocked(tmp_path):
    """A file where a directory should be, and a directory where a file should be."""
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "adir").mkdir()
    return {"under_file": tmp_path / "file.txt" / "out", "dir": tmp_path / "adir"}


def _report(cli, tmp_path):
    path = tmp_path / "base.json"
    path.write_text(cli("analyze", BASE, "-f", "json").stdout)
    return path


def _db(cli, tmp_path):
    db = tmp_path / "llm.duckdb"
    assert cli("ingest", LOG, "--db", db).exit_code == 0
    return db


CASES = {
    "analyze -o": lambda cli, tmp, out: cli("analyze", LOG, "-o", out),
    "analyze -o json": lambda cli, tmp, out: cli("analyze", LOG, "-f", "json", "-o", out),
    "report -o": lambda cli, tmp, out: cli(
        "report", "--db", _db(cli, tmp), "--now", "2026-11-16T09:00:00Z", "--period", "last-7d",
        "-o", out,
    ),
    "check --markdown": lambda cli, tmp, out: cli(
        "check", LOG, "--max-cost", "1000", "--markdown", out
    ),
    "diff -o": lambda cli, tmp, out: cli("diff", _report(cli, tmp), _report(cli, tmp), "-o", out),
    "pricing import-litellm -o": lambda cli, tmp, out: cli(
        "pricing", "import-litellm", DATA / "pricing" / "litellm_slice.json", "-o", out
    ),
    "ingest --db": lambda cli, tmp, out: cli("ingest", LOG, "--db", out),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("where", ["under_file", "dir"])
def test_an_unwritable_output_is_a_usage_error(cli, tmp_path, blocked, case, where):
    result = CASES[case](cli, tmp_path, blocked[where])
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(("error:", "hint:"))]
    assert len(lines) == 2, result.stderr
    expected = "file.txt is a file, not a directory" if where == "under_file" else "is a directory"
    assert expected in lines[0]


def test_export_into_a_directory_under_a_file(cli, blocked):
    result = cli("export", LOG, "-o", f"{blocked['under_file']}/")
    assert result.exit_code == 2
    assert "file.txt is a file, not a directory" in result.stderr


def test_a_missing_directory_says_create_it(cli, tmp_path):
    result = cli("analyze", LOG, "-f", "json", "-o", tmp_path / "nope" / "r.json")
    assert result.exit_code == 2
    assert "nope: no such directory" in result.stderr and "create it first" in result.stderr


def test_a_writable_output_still_works(cli, tmp_path):
    out = tmp_path / "r.json"
    assert cli("analyze", LOG, "-f", "json", "-o", out).exit_code == 0
    assert json.loads(out.read_text())["summary"]["requests"] > 0


@pytest.mark.parametrize(
    "name, args, check",
    [
        ("r.json", (), lambda text: json.loads(text)["summary"]["requests"] > 0),
        ("r.md", (), lambda text: text.startswith("# LLM cost report")),
        ("r.txt", (), lambda text: text.startswith("LLM cost report")),
        ("r.json", ("-f", "markdown"), lambda text: text.startswith("# LLM cost report")),
    ],
)
def test_analyze_takes_the_format_from_the_output_suffix(cli, tmp_path, name, args, check):
    out = tmp_path / name
    result = cli("analyze", LOG, "-o", out, *args)
    assert result.exit_code == 0, result.stderr
    assert check(out.read_text())


def test_diff_takes_the_format_from_the_output_suffix(cli, tmp_path):
    out = tmp_path / "d.json"
    report = _report(cli, tmp_path)
    assert cli("diff", report, report, "-o", out).exit_code == 0
    assert "total" in json.loads(out.read_text())


@pytest.mark.parametrize(
    "command",
    [
        lambda cli, tmp, out, *more: cli("analyze", LOG, "-o", out, *more),
        lambda cli, tmp, out, *more: cli(
            "report",
            "--db",
            _db(cli, tmp),
            "--now",
            "2026-11-16T09:00:00Z",
            "--period",
            "last-7d",
            "-o",
            out,
            *more,
        ),
        lambda cli, tmp, out, *more: cli(
            "diff", _report(cli, tmp), _report(cli, tmp), "-o", out, *more
        ),
    ],
    ids=["analyze", "report", "diff"],
)
def test_an_output_suffix_of_no_known_format_is_a_usage_error(cli, tmp_path, command):
    # "-o x.pdf" wrote the terminal table (diff: Markdown) into x.pdf, exit 0, silently
    out = tmp_path / "x.pdf"
    result = command(cli, tmp_path, out)
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "cannot tell which format to write to" in result.stderr and "'.pdf'" in result.stderr
    assert "--format" in result.stderr and not out.exists()
    # --format says which: written as asked, whatever the name
    result = command(cli, tmp_path, out, "--format", "json")
    assert result.exit_code == 0, result.stderr
    json.loads(out.read_text())


def test_an_output_without_a_format_suffix_gets_the_default(cli, tmp_path):
    for name in ("report.txt", "report"):
        result = cli("analyze", LOG, "-o", tmp_path / name)
        assert result.exit_code == 0, result.stderr
        assert "Total cost" in (tmp_path / name).read_text()


@pytest.mark.parametrize("max_cost, code", [("1000", 0), ("0.01", 1)])
@pytest.mark.parametrize("where", ["under_file", "dir"])
def test_an_unwritable_job_summary_is_a_warning_not_the_verdict(
    cli, blocked, where, max_cost, code
):
    # (it was in the usage errors above) an unwritable $GITHUB_STEP_SUMMARY made check exit
    # 2, and a breached budget's exit 1 was lost: the summary is a courtesy, the code the rule's
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(blocked[where])}
    result = cli("check", LOG, "--max-cost", max_cost, env=env)
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr and "error:" not in result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.startswith("warning:")]
    assert "the job summary was not written" in line
    expected = "file.txt is a file, not a directory" if where == "under_file" else "is a directory"
    assert expected in line
    # and on the job page, as an annotation of its own
    assert "::warning title=llmcost budget::the job summary was not written" in result.stderr
    assert ("::error " in result.stderr) is bool(code)
    assert "Total cost" in result.stdout  # the report is on stdout all the same


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", LOG, "-f", "json", "-o"],
        ["analyze", LOG, "-o"],
        ["check", LOG, "--max-cost", "0.01", "--markdown"],
    ],
)
@pytest.mark.parametrize("where", ["dir", "missing"])
def test_an_unwritable_output_is_refused_before_any_log_is_read(cli, tmp_path, args, where):
    """analyze -o and check --markdown found their path unwritable only once every log was
    read and priced (minutes on a big log): check printed its verdict on stdout, then exited
    2 in place of the breach's 1. The path is checked first: no line read, nothing on
    stdout, and a file to be written is not created nor emptied by a run that fails."""
    out = {"dir": tmp_path, "missing": tmp_path / "nope" / "r.md"}[where]
    result = cli(*args, out)
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stdout == ""
    assert "period.jsonl" not in result.stderr  # no file was read
    assert result.stderr.startswith("error:"), result.stderr


def test_the_early_check_leaves_the_report_already_there_when_the_run_fails(cli, tmp_path):
    # (the path is checked, not opened: a run that finds no call keeps yesterday's report)
    out = tmp_path / "r.json"
    out.write_text("previous report\n")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = cli("analyze", empty, "-o", out)
    assert result.exit_code == 3
    assert out.read_text() == "previous report\n"


@pytest.mark.parametrize("command", ["analyze", "diff"])
def test_dash_as_the_output_is_stdout(cli, tmp_path, monkeypatch, command):
    """'-o -' is stdout, as check_writable and export take it: analyze and diff wrote a
    file named '-' in the working directory, and nothing on stdout."""
    monkeypatch.chdir(tmp_path)
    args = [LOG] if command == "analyze" else [_report(cli, tmp_path)] * 2
    result = cli(command, *args, "-f", "json", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert isinstance(json.loads(result.stdout), dict)
    assert not (tmp_path / "-").exists()
