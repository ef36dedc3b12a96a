"""The command line: JSON contract, renderers, exit codes and messages."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import SAMPLES

DEMO = SAMPLES / "demo.jsonl"

CONTRACT = {
    "llmcost_version",
    "pricing_version",
    "summary",
    "by_model",
    "by_day",
    "expensive",
    "peaks",
    "cache",
    "downgrade",
    "unpriced_models",
    "rejected",
}
SUMMARY_KEYS = {
    "requests",
    "priced_requests",
    "unpriced_requests",
    "total_cost_usd",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "first_ts",
    "last_ts",
}


def test_json_contract_on_demo(cli):
    result = cli("analyze", DEMO, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)  # nothing else on stdout
    assert CONTRACT <= set(report)
    assert SUMMARY_KEYS <= set(report["summary"])
    assert {"provider", "model", "requests", "input_tokens", "output_tokens", "cost_usd"} <= set(
        report["by_model"][0]
    )
    assert {"day", "requests", "cost_usd"} <= set(report["by_day"][0])
    assert {"count", "samples"} <= set(report["rejected"])
    assert report["rejected"]["count"] == len([1 for s in report["rejected"]["samples"]])
    assert {"source", "line", "reason"} <= set(report["rejected"]["samples"][0])
    assert report["summary"]["total_cost_usd"] > 0
    assert report["unpriced_models"][0]["model"] == "acme-llm-7b"
    # the by-model and by-day views add up to the total
    total = report["summary"]["total_cost_usd"]
    assert sum(m["cost_usd"] or 0 for m in report["by_model"]) == pytest.approx(total, abs=1e-6)
    assert sum(d["cost_usd"] for d in report["by_day"]) == pytest.approx(total, abs=1e-6)
    # progress goes to stderr
    assert "demo.jsonl" in result.stderr


def test_every_line_is_accounted_for(cli):
    report = json.loads(cli("analyze", DEMO, "--format", "json").stdout)
    [source] = report["inputs"]
    lines = len(DEMO.read_bytes().splitlines())
    assert source["lines_read"] == lines
    assert source["ingested"] + source["skipped"] + source["rejected"] == lines
    assert source["rejected"] == report["rejected"]["count"] > 0


def test_table_and_markdown_show_the_same_total(cli):
    report = json.loads(cli("analyze", DEMO, "--format", "json").stdout)
    total = report["summary"]["total_cost_usd"]
    table = cli("analyze", DEMO)
    markdown = cli("analyze", DEMO, "--format", "markdown")
    assert table.exit_code == markdown.exit_code == 0
    assert f"${total:,.2f}" in table.stdout
    assert f"${total:,.2f}" in markdown.stdout
    for heading in (
        "Cost by model",
        "Most expensive calls",
        "Peak times",
        "Cache-hit potential",
        "Model-downgrade savings",
        "Unpriced models",
        "Rejected lines",
    ):
        assert heading in table.stdout
        assert f"## {heading}" in markdown.stdout


def test_since_until_window(cli):
    full = json.loads(cli("analyze", DEMO, "--format", "json").stdout)
    part = json.loads(
        cli(
            "analyze", DEMO, "--format", "json", "--since", "2026-11-01", "--until", "2026-11-08"
        ).stdout
    )
    assert [d["day"] for d in part["by_day"]][0] == "2026-11-01"
    assert [d["day"] for d in part["by_day"]][-1] == "2026-11-07"
    expected = sum(d["cost_usd"] for d in full["by_day"] if "2026-11-01" <= d["day"] < "2026-11-08")
    assert part["summary"]["total_cost_usd"] == pytest.approx(expected, abs=1e-6)


def test_output_file(cli, tmp_path):
    out = tmp_path / "report.md"
    result = cli("analyze", DEMO, "--format", "markdown", "-o", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text().startswith("# LLM cost report")


def test_missing_file_exits_2_with_hint(cli, tmp_path):
    result = cli("analyze", tmp_path / "nope.jsonl")
    assert result.exit_code == 2
    assert "nope.jsonl: no such file or directory" in result.stderr
    assert "hint" in result.stderr
    assert result.stdout == ""


def test_bad_pricing_yaml_exits_2_naming_file_and_line(cli, tmp_path):
    bad = tmp_path / "prices.yaml"
    bad.write_text(
        "provider: x\nversion: 1\nsource: http://x\nmodels:\n  m:\n    prices:\n"
        "      - from: someday\n        input: 1\n        output: 2\n"
    )
    result = cli("analyze", DEMO, "--pricing", bad)
    assert result.exit_code == 2
    assert f"{bad}:7" in result.stderr.replace("\n", "")
    assert "from must be a date" in result.stderr


def test_a_control_character_in_a_yaml_file_is_named_with_its_line(cli, tmp_path):
    """A pricing table (or llmcost.yaml) holding a control character read "prices.yaml:0:
    not valid YAML: unacceptable character #x0001 ... in "<unicode string>", position 37":
    line 0 and a position in characters; the line it is on is named."""
    bad = tmp_path / "prices.yaml"
    bad.write_text("provider: x\nversion: 1\nsource: http://x\nmodels:\n  m\x01: {}\n")
    result = cli("analyze", DEMO, "--pricing", bad)
    assert result.exit_code == 2
    err = " ".join(result.stderr.split())
    assert f"{bad}:5: not valid YAML: character #x0001 (" in err
    assert "<unicode string>" not in err
    config = tmp_path / "llmcost.yaml"
    config.write_text("budgets:\n  max_cost: 1\x00\n")
    result = cli("check", DEMO, "--config", config)
    assert result.exit_code == 2
    assert f"{config}:2: not valid YAML: character #x0000" in " ".join(result.stderr.split())


def test_no_records_exits_3(cli, jsonl):
    result = cli("analyze", jsonl(["not json", "[1]"]))
    assert result.exit_code == 3
    assert "no usable" in result.stderr


@pytest.mark.parametrize("command", [["analyze"], ["check", "--max-cost", "1"]])
def test_an_empty_directory_is_named_not_taken_for_an_empty_database(cli, tmp_path, command):
    """A directory named that held no file said 'no usable LLM call records were found in
    the database', hint 'fill it with `llmcost ingest LOGS --db FILE` first', to a run
    that named no database. Exit 3 as before; the message names the directory."""
    (tmp_path / "logs").mkdir()
    result = cli(*command[:1], "logs", *command[1:])
    assert result.exit_code == 3 and result.stdout == ""
    assert "no usable LLM call records were found: no file in logs" in result.stderr
    assert "database" not in result.stderr and "ingest" not in result.stderr
    assert "name log files, or a directory that holds them" in result.stderr


def test_no_records_says_why_the_lines_were_rejected_and_where_first(cli, tmp_path):
    log = tmp_path / "odd.jsonl"
    bad_ts = '{"model": "gpt-4o", "timestamp": "[bold]noon[/bold]"}'
    log.write_text("\n".join(["[1]", "not json", "also not", bad_ts, bad_ts, "{oops"]) + "\n")
    result = cli("analyze", log)
    assert result.exit_code == 3 and result.stdout == ""
    err = result.stderr
    assert "no usable LLM call records were found; 6 lines were rejected" in err
    # the commonest reasons first (at most three), each with the first line it was met on
    reasons = err.split("most often because:\n")[1].split("\nhint:")[0].splitlines()
    assert [r.strip() for r in reasons] == [
        "not valid JSON (2 lines, first at odd.jsonl:2)",
        # what a log says is shown as it is, not read as terminal markup
        "timestamp not understood: [bold]noon[/bold] (2 lines, first at odd.jsonl:4)",
        "JSON array, not an object (1 line, first at odd.jsonl:1)",
    ]


def test_a_file_line_on_stderr_shows_a_path_with_brackets_as_it_is(cli, tmp_path):
    log = tmp_path / "calls [bold]now.jsonl"
    log.write_text(DEMO.read_text())
    result = cli("analyze", log, "--format", "json")
    assert result.exit_code == 0
    assert "calls [bold]now.jsonl: jsonl," in result.stderr


def test_empty_window_exits_3(cli):
    result = cli("analyze", DEMO, "--since", "2030-01-01")
    assert result.exit_code == 3


@pytest.mark.parametrize("command", [["analyze"], ["check", "--max-cost", "1"]])
def test_an_empty_window_says_where_the_calls_are_not_why_lines_were_rejected(cli, command):
    """A window holding none of the demo's 2,993 calls said "no usable LLM call records were
    found in the chosen period; 5 lines were rejected, most often because: ..." with the
    hint to check the input format: the logs were fine, the window missed them."""
    result = cli(*command, DEMO, "--since", "2030-01-01")
    assert result.exit_code == 3
    assert (
        "error: none of the 2,993 calls read is in the chosen period (--since "
        "2030-01-01T00:00:00+00:00): they run from 2026-10-26 01:29 to 2026-11-15 19:41 UTC"
    ) in result.stderr
    assert "hint: widen --since/--until" in result.stderr
    assert "most often because" not in result.stderr


@pytest.mark.parametrize(
    "command", [["analyze"], ["check", "--max-cost", "1"], ["export", "-o", "calls.csv"]]
)
@pytest.mark.parametrize("until", ["2026-11-01", "2026-11-10"])
def test_until_not_after_since_is_a_usage_error_in_every_command(cli, tmp_path, command, until):
    result = cli(command[0], DEMO, *command[1:], "--since", "2026-11-10", "--until", until)
    assert result.exit_code == 2, result.stderr
    assert f"--until ({until}) is not after --since (2026-11-10)" in result.stderr
    assert result.stdout == "" and not (tmp_path / "calls.csv").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["analyze"],
        ["check", "--max-cost", "1"],
        ["audit"],
        ["export", "-o", "calls.csv"],
        ["report", "--period", "yesterday"],
        ["rejects"],
    ],
)
def test_a_database_to_read_that_does_not_exist_is_not_created(cli, tmp_path, command):
    db = tmp_path / "typo" / "llm.duckdb"
    result = cli(*command, "--db", db)
    assert result.exit_code == 2, result.stderr
    assert f"{db}: no such database" in result.stderr
    assert "llmcost ingest" in result.stderr
    assert not db.parent.exists()


def test_a_database_to_fill_is_created(cli, tmp_path):
    db = tmp_path / "new" / "llm.duckdb"
    assert cli("ingest", DEMO, "--db", db).exit_code == 0
    assert cli("check", "--db", db, "--max-cost", "1000").exit_code == 0


def test_bad_option_exits_2(cli):
    assert cli("analyze", DEMO, "--format", "yaml").exit_code == 2
    assert cli("analyze", DEMO, "--since", "last tuesday").exit_code == 2
    assert cli("analyze", DEMO, "--input-format", "nope").exit_code == 2


def test_db_file_persists(cli, tmp_path):
    db = tmp_path / "llm.duckdb"
    assert cli("analyze", DEMO, "--db", db, "--format", "json").exit_code == 0
    import duckdb

    con = duckdb.connect(str(db))
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] > 2000
    assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] > 0


def test_ingest_says_in_its_last_line_how_many_files_it_did_not_read(cli, tmp_path):
    """Its last line (the one a cron log is read by) read "1 line read = 1 new call + 0
    skipped + 0 rejected" for a directory where a damaged gzip and a file of no known format
    were met and not read: those were only on lines above."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.jsonl").write_text(
        json.dumps({"model": "gpt-4o", "input_tokens": 10, "output_tokens": 1}) + "\n"
    )
    (logs / "old.jsonl.gz").write_bytes(b"\x1f\x8b\x08garbage")
    (logs / "notes.txt").write_text("deploy notes, not a log\n")
    result = cli("ingest", logs, "--db", tmp_path / "llm.duckdb")
    assert result.exit_code == 0, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("1 line read = 1 new call + 0 skipped + 0 rejected; 1 call in ")
    assert last.endswith("; 2 files not read (listed above)"), last


def test_python_m_and_console_script_agree():
    out = subprocess.run(
        [sys.executable, "-m", "llmcost", "version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.strip()


def test_the_command_lists_never_break_a_summary_mid_sentence(cli):
    """`llmcost --help` showed report's summary as "...compared with the one" and "before it;
    exit 1..." on the next line, at any width (the docstring's line breaks, kept by Typer's
    Rich mode); export, audit, tokens and pricing resolve/check alike."""
    wide = {"COLUMNS": "300", "TERMINAL_WIDTH": "300"}
    top = cli("--help", env=wide).stdout
    assert "stored calls, compared with the one before it; exit 1 when" in top
    assert "the price row used (table version, effective date, tier) and its cost" in top
    pricing = cli("pricing", "--help", env=wide).stdout
    assert "each candidate name tried, in order, which table had it" in pricing


def test_formats_lists_shapes(cli):
    result = cli("formats")
    assert result.exit_code == 0
    for name in (
        "jsonl",
        "openai_chat",
        "openai_responses",
        "anthropic_messages",
        "gemini",
        "flat",
    ):
        assert name in result.stdout


def test_log_text_that_looks_like_rich_markup_is_shown_as_written(cli, jsonl):
    prompt = "close the tag [/bold] and [red]paint[/red] it"
    path = jsonl([{"model": "gpt-4o", "input_tokens": 100_000, "output_tokens": 10,
                   "prompt": prompt, "timestamp": "2026-11-01T00:00:00Z"}])  # fmt: skip
    result = cli("analyze", path, env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.stderr
    assert "[/bold] and [red]paint" in result.stdout


@pytest.mark.parametrize(
    "args, code, said",
    [
        (["check", "--max-cost", "100"], 0, "llmcost check: budget holds"),
        (["check", "--max-cost", "1"], 1, "budget rules breached"),
        (["export", "-o", "-", "-f", "jsonl"], 0, "calls → stdout (jsonl)"),
    ],
)
def test_a_reader_that_stops_early_is_not_an_error(tmp_path, args, code, said):
    # `llmcost check … | head -1`: stdout closed before the command writes; a check's exit
    # code stays its verdict (Rich and click answered a broken pipe with exit 1, which CI
    # reads as a breached budget) and what goes to stderr is still said
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)
    command, *options = args
    try:
        done = subprocess.run(
            [sys.executable, "-m", "llmcost", command, str(DEMO), *options],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "LLMCOST_DB": str(tmp_path / "none.duckdb")},
        )
    finally:
        os.close(write_end)
    assert done.returncode == code, done.stderr
    assert said in done.stderr
    assert "Traceback" not in done.stderr


def test_markdown_shows_log_text_as_text(cli, tmp_path):
    """Markdown is pasted into pull requests: text from the logs (prompt previews, user,
    feature and model names, reject reasons, file names) must not @mention anyone, inject
    HTML or break a table, and must still read as it was written."""
    prompt = "Review for @someone: <script>alert(1)</script> keep a | b\nsecond line, see #123"
    call = {"timestamp": "2026-11-02T09:00:00Z", "model": "gpt-4o", "user_id": "@owner",
            "feature": "<b>bold</b>", "messages": [{"role": "user", "content": prompt}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}  # fmt: skip
    unpriced = {**call, "model": "@team/x<img src=y>", "timestamp": "2026-11-02T09:01:00Z"}
    rejected = {**call, "timestamp": "<u>@bad|ts</u>"}  # its reason quotes the timestamp
    log = tmp_path / "a@b<i>.jsonl"
    log.write_text("".join(json.dumps(x) + "\n" for x in (call, unpriced, rejected)))
    zwj = "\u200d"
    raws = ("@someone", "@owner", "@team", "@bad", "<script", "<b>", "<img", "<u>", "<i>")

    text = cli("analyze", log, "-f", "markdown").stdout
    assert not [raw for raw in raws if raw in text]
    assert (
        f"Review for @{zwj}someone: &lt;script&gt;alert(1)&lt;/script&gt; keep a \\| b "
        "second line, see #123"
    ) in text  # the preview: one line, reads as written once rendered, #123 left alone
    assert f"| @{zwj}owner | &lt;b&gt;bold&lt;/b&gt; |" in text  # user and feature
    assert f"| @{zwj}team/x&lt;img src=y&gt; |" in text  # the unpriced model
    assert (
        f"| a@{zwj}b&lt;i&gt;.jsonl:3 | timestamp not understood: "
        f"&lt;u&gt;@{zwj}bad\\|ts&lt;/u&gt; |"
    ) in text  # the rejected line: its file and its reason
    for block in (b for b in text.split("\n\n") if b.startswith("| ")):
        cells = {row.replace("\\|", "").count("|") for row in block.splitlines()}
        assert len(cells) == 1, block  # no row has more cells than its header

    check = cli("check", log, "--max-feature-cost", "*=0.000001", "-f", "markdown").stdout
    assert not [raw for raw in raws if raw in check]
    assert "1 above: &lt;b&gt;bold&lt;/b&gt;" in check and f"@{zwj}team/x&lt;img" in check


def test_rejects_says_when_limit_shows_fewer_than_there_are(cli, tmp_path):
    db = tmp_path / "llm.duckdb"
    log = tmp_path / "app.jsonl"
    # a log with a call (a file named that holds none, no JSON object on any line, is no
    # log and not read: tests/test_wrong_inputs.py)
    call = json.dumps({"model": "gpt-4o", "input_tokens": 1, "output_tokens": 1})
    log.write_text(f"not json\n[1]\nnot json either\n{call}\n")
    cli("ingest", log, "--db", db)
    shown = cli("rejects", "--db", db, "--limit", "1")
    assert shown.exit_code == 0
    assert "3 rejected records (1 shown: --limit for more)" in shown.stdout
    assert "app.jsonl:1 " in shown.stdout and "app.jsonl:2 " not in shown.stdout
    none = cli("rejects", "--db", db, "--source", "other.jsonl")
    assert none.stdout.strip() == "0 rejected records"  # no table of no rows


def test_peak_times_never_show_unpriced_calls_as_free(cli, jsonl):
    """A busiest minute of unpriced calls read '$0.00', their grid cell '<1¢'."""
    call = {"model": "acme-7b", "input_tokens": 1000, "output_tokens": 100}
    log = jsonl(
        [
            {**call, "timestamp": "2026-11-02T10:00:00Z"},
            {**call, "timestamp": "2026-11-02T10:00:10Z"},
            {**call, "timestamp": "2026-11-02T11:00:00Z", "model": "gpt-4o-mini"},
            {**call, "timestamp": "2026-11-02T11:00:30Z"},
        ]
    )
    peaks = json.loads(cli("analyze", log, "-f", "json").stdout)["peaks"]
    minute, hour = peaks["busiest_minute"], peaks["costliest_hour"]
    assert (minute["cost_usd"], minute["unpriced_requests"]) == (None, 2)
    assert (hour["hour"][11:13], hour["cost_usd"], hour["unpriced_requests"]) == ("11", 0.00021, 1)
    [ten, eleven] = peaks["grid"]
    assert (ten["cost_usd"], ten["unpriced_requests"], eleven["cost_usd"]) == (None, 2, 0.00021)
    text = cli("analyze", log, env={"COLUMNS": "140"}).stdout
    assert "2,000 input and 200 output tokens, no price (unpriced models)" in text
    assert "Costliest hour: 2026-11-02 11h — 2 calls, $0.0002 + 1 unpriced" in text
    assert "'?' only calls without a price" in text
    assert re.search(r"^Mon(\s+·){10}\s+\?\s+<1¢", text, re.M)


def test_peak_times_tell_calls_without_token_counts_from_unpriced_ones(cli, jsonl):
    """Peaks counted every call without a cost as unpriced: a gpt-4o-mini call whose log
    had no token counts read '+ 1 unpriced', though its model has a price. The counts are
    apart now, as by_day's: unpriced_requests (no price) and unknown_token_requests."""
    mini = {"model": "gpt-4o-mini"}  # no usage and no text: its tokens are unknown
    log = jsonl(
        [
            {**mini, "timestamp": "2026-11-02T10:00:00Z"},
            {**mini, "timestamp": "2026-11-02T10:00:10Z"},
            {"model": "acme-7b", "input_tokens": 1000, "output_tokens": 100,
             "timestamp": "2026-11-02T10:00:20Z"},
            {**mini, "input_tokens": 1000, "output_tokens": 100,
             "timestamp": "2026-11-02T11:00:00Z"},
            {**mini, "timestamp": "2026-11-02T11:00:30Z"},
            {**mini, "timestamp": "2026-11-03T09:00:00Z"},
        ]
    )  # fmt: skip
    peaks = json.loads(cli("analyze", log, "-f", "json").stdout)["peaks"]
    split = lambda x: (x["cost_usd"], x["unpriced_requests"], x["unknown_token_requests"])  # noqa: E731
    # the 10:00 minute: 2 calls without tokens and 1 of a model without a price, no cost
    assert split(peaks["busiest_minute"]) == (None, 1, 2)
    # 11h: 1,000 x $0.15/M + 100 x $0.60/M = $0.00021, and 1 call without tokens
    assert peaks["costliest_hour"]["hour"][11:13] == "11"
    assert split(peaks["costliest_hour"]) == (0.00021, 0, 1)
    grid = {(c["weekday"], c["hour"]): split(c) for c in peaks["grid"]}
    assert grid == {(0, 10): (None, 1, 2), (0, 11): (0.00021, 0, 1), (1, 9): (None, 0, 1)}
    for fmt in ("table", "markdown"):
        out = cli("analyze", log, "-f", fmt, env={"COLUMNS": "140"}).stdout
        text = " ".join(out.split())
        assert "0 output tokens, no price (unpriced models) + 2 without tokens" in text, fmt
        assert "Costliest hour: 2026-11-02 11h — 2 calls, $0.0002 + 1 without tokens" in text
        assert "unpriced" not in text.split("Costliest hour")[1].split("Grid")[0]
        assert "'?' only calls without a price or without token counts" in text
    # a minute of calls without tokens only: no cost, and not for want of a price
    only = jsonl([{**mini, "timestamp": "2026-11-03T09:00:00Z"}])
    text = " ".join(cli("analyze", only, env={"COLUMNS": "140"}).stdout.split())
    assert "1 call, 0 input and 0 output tokens, no cost (no token counts)" in text
    assert "'?' only calls without token counts," in text


def test_a_day_of_unpriced_calls_only_has_no_cost_not_zero(cli, jsonl):
    """by_day gave cost_usd 0 for a day whose calls all lacked a price (the terminal read
    "$0.00 + 2 unpriced"), where by_model and --period daily give null: the day's cost is
    null and reads "unpriced", and --max-daily-cost does not take it for a day of $0."""
    call = {"model": "acme-7b", "input_tokens": 1000, "output_tokens": 100}
    log = jsonl(
        [
            {**call, "timestamp": "2026-11-02T10:00:00Z", "model": "gpt-4o-mini"},
            {**call, "timestamp": "2026-11-02T11:00:00Z"},
            {**call, "timestamp": "2026-11-03T10:00:00Z"},
            {**call, "timestamp": "2026-11-03T10:00:10Z"},
        ]
    )
    days = json.loads(cli("analyze", log, "-f", "json").stdout)["by_day"]
    assert [(d["day"], d["cost_usd"], d["unpriced_requests"]) for d in days] == [
        ("2026-11-02", 0.00021, 1),
        ("2026-11-03", None, 2),
    ]
    text = cli("analyze", log, env={"COLUMNS": "140"}).stdout
    assert re.search(r"^2026-11-02\s+2\s+\$0\.0002 \+ 1 unpriced$", text, re.M), text
    assert re.search(r"^2026-11-03\s+2\s+unpriced$", text, re.M), text

    def daily_rule(path) -> dict:
        rules = json.loads(cli("check", path, "--max-daily-cost", "1", "-f", "json").stdout)
        [rule] = [r for r in rules["rules"] if r["rule"] == "max_daily_cost"]
        return rule

    rule = daily_rule(log)
    assert (rule["actual"], rule["detail"]) == (0.00021, "2026-11-02")
    rule = daily_rule(jsonl([{**call, "timestamp": "2026-11-03T10:00:00Z"}]))
    assert (rule["actual"], rule["status"], rule["detail"]) == (
        None, "unknown", "no day has a priced call"
    )  # fmt: skip


def test_a_failed_call_without_usage_is_not_priced_from_its_text(cli, jsonl):
    """A failed call whose log has no usage (a 429, a 500: no response came back) was
    counted from its prompt and priced, 'billed' in the failed calls and its cost in the
    total, though an error before any token was processed is not billed. Its cost is
    unknown now, said so, and in no total; a failed call with usage is billed as before,
    and a call that did not fail is still counted from its text."""
    prompt = [{"role": "user", "content": "hello there, how are you"}]
    line = {"model": "gpt-4o-mini", "timestamp": "2026-11-02T10:00:00Z", "messages": prompt}
    log = jsonl(
        [
            {**line, "status": 429},
            {**line, "status": "error", "usage": {"prompt_tokens": 13, "completion_tokens": 0}},
            {**line, "response": "Fine, thanks."},
        ]
    )
    report = json.loads(cli("analyze", log, "-f", "json").stdout)
    summary = report["summary"]
    assert summary["error_requests"] == 2
    # its day: a failed call without usage, not a call of an unpriced model, and (beside
    # the billed failed call's cost) no call 'without tokens' either, as the total says
    [day] = report["by_day"]
    assert (day["unpriced_requests"], day["unknown_token_requests"]) == (0, 0)
    assert day["error_unknown_token_requests"] == 1
    assert (summary["unknown_token_requests"], summary["error_unknown_token_requests"]) == (1, 1)
    assert (summary["tokens_reported"], summary["tokens_counted"]) == (1, 1)
    assert summary["error_cost_usd"] == pytest.approx(13 * 0.15e-6)  # the one with usage
    text = " ".join(cli("analyze", log, env={"COLUMNS": "200"}).stdout.split())
    assert "Failed calls: 2 (billed $0.000002; 1 without usage, cost unknown)" in text
    assert "Unknown tokens: 1 failed call without usage in the log" in text
    assert "had no token counts and no text to count" not in text
    assert "Failed calls: 2 (billed $0.000002 + 1 unpriced" not in text
    # the day's cost, and nothing after it: the 429 is not billed (was '+ 1 without tokens')
    assert re.search(r"2026-11-02 3 \$0\.000006 Most expensive calls", text), text


def test_cost_by_day_of_a_long_log_sums_the_earlier_days_on_one_row(cli, jsonl):
    """A log of six months printed 180 rows under Cost by day (a year, 365) in the terminal,
    the Markdown of a PR comment and the HTML page. The latest 31 days are shown; the days
    before them are summed on one row that says how many they are and what they hold, and
    the JSON keeps every day."""
    from datetime import date, timedelta

    start = date(2026, 3, 1)
    records = [
        {
            "ts": f"{start + timedelta(days=i)}T12:00:00Z",
            "model": "gpt-4o-mini",
            "input_tokens": 1000,
            "output_tokens": 100,
        }
        for i in range(40)
    ]
    # an unpriced call on the first day: counted on the summed row, not as $0
    records.append({"ts": "2026-03-01T13:00:00Z", "model": "acme-llm-7b", "input_tokens": 10})
    log = jsonl(records)
    report = json.loads(cli("analyze", log, "-f", "json").stdout)
    assert len(report["by_day"]) == 40
    # 9 earlier days: 9 x (1,000 x $0.15/M + 100 x $0.60/M) = 9 x $0.00021
    assert sum(d["cost_usd"] for d in report["by_day"][:9]) == pytest.approx(9 * 0.00021)
    text = cli("analyze", log).stdout
    assert "The latest 31 of 40 days with calls; the first row sums the 9 before them " in text
    assert "(2026-03-01 → 2026-03-09)" in text
    assert re.search(r"^\(9 earlier days\) +10 +\$0\.0019 \+ 1 unpriced$", text, re.M), text
    days = re.findall(r"^2026-\d\d-\d\d +1 +\$0\.0002$", text, re.M)
    assert len(days) == 31, text
    assert "2026-03-09 " not in text and "2026-03-10 " in text and "2026-04-09 " in text
    md = cli("analyze", log, "-f", "markdown").stdout
    assert "| (9 earlier days) | 10 | $0.0019 + 1 unpriced |" in md
    assert "| 2026-03-09 |" not in md and "| 2026-03-10 | 1 | $0.0002 |" in md
    html = cli("analyze", log, "-f", "html").stdout
    assert "(9 earlier days)" in html and ">2026-03-09<" not in html


def test_cost_by_day_of_calls_without_a_time_says_so(cli, jsonl):
    """Calls without a timestamp printed 'Cost by day' as a table of headers and no rows
    (an empty Markdown table in a PR); it says there are no timestamps, as Peak times does."""
    log = jsonl([{"model": "gpt-4o-mini", "input_tokens": 1000, "output_tokens": 100}])
    md = cli("analyze", log, "-f", "markdown").stdout
    # (the heading names its zone since analyze's days were labelled UTC, as report --tz's are)
    assert "## Cost by day (UTC)\n\n- no timestamps\n" in md
    assert "| Day | Calls | Cost |" not in md
    text = cli("analyze", log).stdout
    assert re.search(r"^Cost by day \(UTC\) ─+\nno timestamps$", text, re.M), text


def test_rejects_source_is_a_plain_substring(cli, tmp_path):
    """'_' and '%' in --source were LIKE wildcards: 'app_1' matched 'appX1.jsonl' too."""
    db = tmp_path / "llm.duckdb"
    for n, name in enumerate(("app_1.jsonl", "appX1.jsonl")):
        # a log with a call: a file of no JSON object is no log, and not read
        call = json.dumps({"model": "gpt-4o", "input_tokens": n + 1, "output_tokens": 1})
        (tmp_path / name).write_text(f"not json\n{call}\n")
    cli("ingest", tmp_path / "app_1.jsonl", tmp_path / "appX1.jsonl", "--db", db)
    shown = cli("rejects", "--db", db, "--source", "app_1")
    assert "1 rejected record" in shown.stdout and "appX1" not in shown.stdout
    assert cli("rejects", "--db", db, "--source", "%").stdout.strip() == "0 rejected records"


@pytest.mark.parametrize("by", [",", " ", ", ,"])
def test_a_blank_by_is_a_usage_error(cli, by):
    result = cli("analyze", SAMPLES / "demo.jsonl", "--by", by)
    assert result.exit_code == 2 and "names no dimension" in result.stderr


def test_a_directory_holding_the_database_does_not_read_it(cli, tmp_path):
    """ingest logs/ --db logs/llm.duckdb said of its own database, every run: 'not read —
    no log format recognized'."""
    (tmp_path / "app.jsonl").write_text(
        '{"timestamp": "2026-11-02T10:00:00Z", "model": "gpt-4o", "input_tokens": 1, '
        '"output_tokens": 1}\n'
    )
    db = tmp_path / "llm.duckdb"
    for _ in range(2):
        result = cli("ingest", tmp_path, "--db", db)
        assert result.exit_code == 0 and "llm.duckdb" not in result.stderr.split(";")[0]
        assert "not read" not in result.stderr


def test_every_repeatable_pricing_option_says_so(cli):
    """`llmcost report --help` said only "Extra pricing YAML overriding the built-in tables."
    though --pricing may be given more than once there as everywhere (analyze's says so)."""
    import typer.main

    from llmcost.cli import app

    def commands(group, path=()):
        for name, command in getattr(group, "commands", {}).items():
            yield (*path, name), command
            yield from commands(command, (*path, name))

    wide = {"COLUMNS": "300", "TERMINAL_WIDTH": "300"}
    seen = []
    for path, command in commands(typer.main.get_command(app)):
        for param in command.params:
            if "--pricing" in getattr(param, "opts", ()) and param.multiple:
                seen.append(" ".join(path))
                assert "(repeatable)" in (param.help or ""), path
                shown = cli(*path, "--help", env=wide).stdout
                assert "built-in tables (repeatable)" in shown, path
    assert {"analyze", "report", "check", "pricing show"} <= set(seen)


def test_cost_by_part_adds_up_to_the_total_with_search_and_per_call_fees(cli, jsonl, tmp_path):
    """summary.cost_by_part held the token parts only: a call of 2 web searches ($0.02) and
    a $0.001 per-call fee read 'input $0.0003, …, output $0.00075' under a total of
    $0.02205, the fees in no part. It has search and per_request too (as an export's
    cost_search and cost_per_request), and the terminal and Markdown name them when paid."""
    overlay = tmp_path / "fees.yaml"
    overlay.write_text(
        "provider: acme\nversion: 2026-11-01\nsource: https://acme.example/pricing\n"
        "models:\n  acme-search:\n    prices:\n      - from: 2026-01-01\n"
        "        input: 3.0\n        output: 15.0\n        per_request: 0.001\n"
        "        per_search: 0.01\n"
    )
    line = {
        "timestamp": "2026-11-01T10:00:00Z",
        "model": "acme-search",
        "usage": {
            "input_tokens": 100,
            "output_tokens": 50,
            "server_tool_use": {"web_search_requests": 2},
        },
    }
    log = jsonl([line])
    s = json.loads(cli("analyze", log, "--pricing", overlay, "-f", "json").stdout)["summary"]
    parts = s["cost_by_part"]
    assert parts["search"] == 0.02 and parts["per_request"] == 0.001
    assert sum(parts.values()) == pytest.approx(s["total_cost_usd"], abs=1e-12)
    assert s["total_cost_usd"] == pytest.approx(0.00105 + 0.02 + 0.001)
    md = cli("analyze", log, "--pricing", overlay, "-f", "markdown").stdout
    assert "output $0.0008, search $0.02, per request $0.0010\n" in md
    # a log of no such fee keeps its line as it was
    plain = cli("analyze", DEMO, "-f", "markdown").stdout
    assert "output $5.88\n" in plain and "search $" not in plain


def test_every_config_option_says_where_the_config_is_read_from(cli, tmp_path):
    """analyze, check and report --help said '--config: llmcost.yaml to read (default:
    ./llmcost.yaml)', but $LLMCOST_CONFIG wins over ./llmcost.yaml (config.find(), as the
    README says): a check run with both took the environment's budgets."""
    import typer.main

    from llmcost.cli import app

    wide = {"COLUMNS": "300", "TERMINAL_WIDTH": "300"}
    seen = []
    for name, command in typer.main.get_command(app).commands.items():
        if any("--config" in getattr(p, "opts", ()) for p in command.params):
            seen.append(name)
            shown = cli(name, "--help", env=wide).stdout
            assert "(default: $LLMCOST_CONFIG, else ./llmcost.yaml)" in shown, name
    assert {"analyze", "check", "report"} <= set(seen)
    # and so it is: the environment's budgets are the ones checked
    (tmp_path / "llmcost.yaml").write_text("budgets:\n  max_cost: 1000\n")
    env_config = tmp_path / "ci.yaml"
    env_config.write_text("budgets:\n  max_cost: 0.5\n")
    result = cli("check", DEMO, env={"LLMCOST_CONFIG": str(env_config)})
    assert result.exit_code == 1, result.stderr


def test_every_command_reading_logs_says_it_reads_stdin_and_does(cli):
    """check and export read a log piped to '-' as analyze, audit and ingest do, but their
    --help said only 'Log files, directories or globs': a CI step piping its calls in had
    to find out by trying."""
    import typer.main

    from llmcost.cli import app

    wide = {"COLUMNS": "300", "TERMINAL_WIDTH": "300"}
    line = DEMO.read_text().splitlines()[0] + "\n"
    seen = []
    for name, command in typer.main.get_command(app).commands.items():
        if any(getattr(p, "name", "") == "paths" for p in command.params):
            seen.append(name)
            assert "- for stdin" in cli(name, "--help", env=wide).stdout, name
    assert {"analyze", "check", "export", "audit", "ingest"} <= set(seen)
    piped = {
        "check": ["check", "-", "--max-cost", "100"],
        "export": ["export", "-", "-o", "-", "-f", "csv"],
    }
    for name, args in piped.items():
        result = cli(*args, input=line)
        assert result.exit_code == 0 and "<stdin>: jsonl, 1 line → 1 call" in result.stderr, name


def test_downgrade_features_and_self_hosting_say_what_they_leave_out(cli, jsonl):
    """The downgrade table of features and the self-hosting table list --top rows: a log of
    40 features and 21 models with an open-weight class listed 10 of each and said nothing
    of the 30 features and 11 models left out. The features past --top are summed on one
    row, and self-hosting says how many models it leaves out and what they cost a month."""
    records = [
        {
            "ts": f"2026-03-0{day + 1}T1{i}:00:00Z",
            "model": "gpt-4o",
            "input_tokens": 1000,
            "output_tokens": 100,
            "tags": {"feature": feature},
        }
        for i, (feature, calls) in enumerate([("a", 3), ("b", 2), ("c", 1)])
        for day in range(calls)
    ]
    records.append(
        {
            "ts": "2026-03-05T10:00:00Z",
            "model": "gpt-4o-mini",
            "input_tokens": 1000,
            "output_tokens": 100,
            "tags": {"feature": "d"},
        }
    )
    log = jsonl(records)
    report = json.loads(cli("analyze", log, "--top", "1", "-f", "json").stdout)
    d = report["downgrade"]
    assert [f["feature"] for f in d["by_feature"]] == ["a"] and d["features"] == 3
    # b and c: 3 gpt-4o calls of $0.0035 (1,000 x $2.50/M + 100 x $10/M) that would cost
    # $0.00021 on gpt-4o-mini (1,000 x $0.15/M + 100 x $0.60/M): $0.00329 saved each
    other = d["other_features"]
    assert (other["calls"], other["medium_calls"]) == (3, 3)
    assert other["savings_all_usd"] == pytest.approx(3 * 0.00329)
    assert other["savings_partial_usd"] == pytest.approx(0.5 * 3 * 0.00329)
    s = report["selfhost"]
    assert [w["model"] for w in s["workloads"]] == ["gpt-4o"] and s["models"] == 2
    # gpt-4o-mini's one call of $0.00021 in 4 days, a month of them: x 30.44 / 4
    assert s["other_models_monthly_api_usd"] == pytest.approx(0.00021 * 30.4375 / 4, rel=1e-3)
    text = " ".join(cli("analyze", log, "--top", "1").stdout.split())
    assert "(2 more) 3 0/3/0 $0.00 $0.0049 $0.0099" in text, text
    assert (
        "Listed: the 1 of 2 models with the largest API cost a month; the other 1 cost "
        "$0.0016 a month (--top lists more)." in text
    ), text
    md = cli("analyze", log, "--top", "1", "-f", "markdown").stdout
    assert "| (2 more) | 3 | 0/3/0 | $0.00 | $0.0049 | $0.0099 |" in md
    # with every row shown, nothing is said to be left out
    text = " ".join(cli("analyze", log).stdout.split())
    # (no "(N more)" row: the runaway rule's own "third time or more)" is no such row)
    assert (
        not re.search(r"\(\d+ more\)", text) and "Listed: the" not in text.split("Self-hosting")[1]
    )


def test_a_markdown_report_too_long_for_a_github_comment_says_so(cli, jsonl):
    """analyze --format markdown is meant for an issue or a PR comment, which GitHub cuts at
    65,536 characters: 180 days of --period daily --breakdown wrote 251,623 and nothing said
    so. A longer report is still written whole, and stderr says how long it is."""
    records = [
        {
            "ts": f"2026-03-01T{i // 60 % 24:02d}:{i % 60:02d}:00Z",
            "model": "gpt-4o-mini",
            "user_id": f"user-{i:04d}-of-a-team-with-long-identifiers-in-its-logs",
            "input_tokens": 1000,
            "output_tokens": 100,
        }
        for i in range(800)
    ]
    log = jsonl(records)
    long = cli("analyze", log, "-f", "markdown", "--by", "user", "--top", "1000")
    assert long.exit_code == 0, long.stderr
    assert len(long.stdout) > 65536 and "| user-0799-of-a-team-with-" in long.stdout
    warning = re.search(r"warning: the Markdown is ([\d,]+) characters; GitHub cuts", long.stderr)
    assert warning and int(warning[1].replace(",", "")) == len(long.stdout), long.stderr
    assert "an issue or pull request comment at 65,536" in " ".join(long.stderr.split())
    short = cli("analyze", log, "-f", "markdown", "--by", "user")
    assert len(short.stdout) < 65536 and "warning:" not in short.stderr
