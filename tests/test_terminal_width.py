"""The terminal report at ordinary widths: numbers and file:line are never cut."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.cells import cell_len
from rich.console import Console

from llmcost.render import money, short_paths
from llmcost.render.layout import Table
from llmcost.render.terminal import FitTable, render
from tests.conftest import SAMPLES

DEMO = SAMPLES / "demo.jsonl"
WIDTHS = (80, 100, 120)


def _print(renderable_or_report, width: int) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=False, color_system=None)
    if isinstance(renderable_or_report, dict):
        render(renderable_or_report, console)
    else:
        console.print(renderable_or_report, crop=False)
    return buf.getvalue()


@pytest.fixture
def by_report(cli):
    result = cli("analyze", DEMO, "--by", "feature,model", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _cells(text: str) -> set[str]:
    """Every cell-like token of the text (split on runs of two spaces or more)."""
    return {c.strip() for line in text.splitlines() for c in re.split(r"\s{2,}", line) if c}


@pytest.mark.parametrize("width", WIDTHS)
def test_every_cost_and_file_line_is_whole(by_report, width):
    text = _print(by_report, width)
    assert max(len(line) for line in text.splitlines()) <= width
    cells = _cells(text)
    e = by_report["expensive"]
    wanted = {money(x["cost_usd"]) for x in e["requests"]}
    wanted |= {f"demo.jsonl:{x['line']}" for x in e["requests"]}
    wanted |= {money(f["cost_usd"]) for f in e["families"]}
    wanted |= {money(f["avg_cost_usd"]) for f in e["families"]}
    wanted |= {money(m["cost_usd"]) for m in by_report["by_model"] if m["cost_usd"] is not None}
    wanted |= {money(x["cost_usd"]) for x in by_report["attribution"]["rows"][:10]}
    wanted |= {f"demo.jsonl:{x['line']}" for x in by_report["rejected"]["samples"]}
    missing = {w for w in wanted if w not in cells}
    assert not missing, f"cut at {width} columns: {sorted(missing)}"
    # the cost column of the most expensive calls and families is there, headed
    calls = text.split("Most expensive calls")[1].split("Most expensive query families")[0]
    families = text.split("Most expensive query families")[1].split("Peak times")[0]
    assert calls.splitlines()[1].split()[0] == "Cost"
    assert families.splitlines()[1].split()[0] == "Cost"


def test_free_text_gives_way_and_optional_columns_go_first():
    t = Table(
        ["Cost", "Model", "User", "Where", "Prompt"],
        [["$1,234.56", "claude-sonnet-4-5-20250929", "u_0001", "logs/a.jsonl:12345", "x " * 80]],
        "rllll",
        optional=("User",),
    )
    text = _print(FitTable(t), 60)
    assert "$1,234.56" in text and "logs/a.jsonl:12345" in text
    assert "u_0001" not in text and "User left out at this width" in text
    assert "…" in text  # the prompt was shortened
    wide = _print(FitTable(t), 200)
    assert "u_0001" in wide and "left out" not in wide


EQUAL_NEED = Table(
    ["Cost", "Feature", "Prompt"],
    [
        [
            "$12.50",
            "summarize the quarterly report for board",
            "Answer in French, you are a careful aide",
        ],
        [
            "$3.20",
            "translate support tickets into English",
            "Translate the ticket below, keep names",
        ],
    ],
    "rll",
)


@pytest.mark.parametrize(
    "width, golden",
    [
        (
            60,
            "  Cost  Feature                    Prompt\n"
            "$12.50  summarize the quarterly …  Answer in French, you ar…\n"
            " $3.20  translate support ticket…  Translate the ticket bel…\n",
        ),
        (
            80,
            "  Cost  Feature                              Prompt\n"
            "$12.50  summarize the quarterly report for…  Answer in French, you are a carefu…\n"
            " $3.20  translate support tickets into Eng…  Translate the ticket below, keep n…\n",
        ),
    ],
)
def test_two_text_columns_of_equal_need_share_the_room(width, golden):
    """The fitter cut the widest free-text columns one after the other: of two of equal
    need the first gave the whole cut (Feature 16 cells at 60 columns, 'summarize the q…')
    and the second kept 34. Columns of equal need now give equal shares."""
    assert len(EQUAL_NEED.rows[0][1]) == len(EQUAL_NEED.rows[0][2])
    assert _print(FitTable(EQUAL_NEED), width) == golden


def test_whole_columns_that_cannot_fit_run_past_the_width_uncut():
    t = Table([f"N{i}" for i in range(12)], [[f"{10**9 + i:,}" for i in range(12)]])
    text = _print(FitTable(t), 80)
    assert all(f"{10**9 + i:,}" in text for i in range(12))


def test_paths_are_as_short_as_they_stay_unambiguous(tmp_path):
    a, b, c = str(tmp_path / "x" / "log.jsonl"), str(tmp_path / "y" / "log.jsonl"), "/z/other.jsonl"
    assert short_paths([a, b, c]) == {a: "x/log.jsonl", b: "y/log.jsonl", c: "other.jsonl"}


@pytest.mark.parametrize("width", WIDTHS)
def test_rejects_shows_file_and_line_whole(cli, tmp_path, width):
    db = tmp_path / "r.duckdb"
    deep = tmp_path / ("a-rather-long-directory-name" * 2)
    deep.mkdir()
    (deep / "bad.jsonl").write_text('{"model": "gpt-4o"}\nnot json\n' * 3)
    assert cli("ingest", deep / "bad.jsonl", "--db", db).exit_code == 0
    result = cli("rejects", "--db", db, env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.stderr
    for line in (2, 4, 6):
        assert f"bad.jsonl:{line}" in result.stdout


@pytest.mark.parametrize("width", WIDTHS)
def test_rejects_shows_the_reason_whole(cli, tmp_path, width):
    """Why a line was rejected is what rejects is for: at 80 columns the reason was cut to
    'no model (looke…', beside 45 columns of the line's text. It wraps instead."""
    db = tmp_path / "r.duckdb"
    log = tmp_path / "bad.jsonl"
    log.write_text(
        '{"ts": "2026-11-01T00:00:00Z", "input_tokens": 1, "note": "' + "x" * 80 + '"}\n'
    )
    assert cli("ingest", log, "--db", db).exit_code == 0
    result = cli("rejects", "--db", db, env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= width
    [rejected] = [
        json.loads(line) for line in cli("rejects", "--db", db, "--raw").stdout.splitlines()
    ]
    assert rejected["reason"].startswith("no model (looked for model, ")
    # every word of the reason, in order, wherever it wrapped ("looke…" is none of them)
    words = iter(result.stdout.split())
    assert all(word in words for word in rejected["reason"].split()), result.stdout


@pytest.mark.parametrize("width", WIDTHS)
def test_unpriced_models_show_why_whole(cli, jsonl, width):
    """Why a model has no price is what the Unpriced models table is for: at 120 columns
    'known as deepseek-chat, but no price was in force at the call'…' lost the date, and at
    80 'no pricing table knows…' and 'known as deepseek-chat…' said nothing. It wraps."""
    log = jsonl(
        [
            # deepseek-chat's price rows end 2026-07-25 (the name was retired)
            {
                "ts": "2026-08-01T10:00:00Z",
                "provider": "deepseek",
                "model": "deepseek-chat",
                "input_tokens": 1000,
                "output_tokens": 100,
            },
            {
                "ts": "2026-08-01T11:00:00Z",
                "model": "acme-llm-7b",
                "input_tokens": 1000,
                "output_tokens": 100,
            },
        ]
    )
    report = json.loads(cli("analyze", log, "-f", "json").stdout)
    reasons = {u["model"]: u["reason"] for u in report["unpriced_models"]}
    assert reasons["deepseek-chat"].endswith("(first call 2026-08-01)"), reasons
    assert reasons["acme-llm-7b"] == "no pricing table knows this model"
    result = cli("analyze", log, env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.stderr
    table = result.stdout.split("Unpriced models (not counted as $0)")[1]
    assert max(len(line) for line in table.splitlines()) <= width
    for reason in reasons.values():
        # every word of the reason, in order, wherever it wrapped (no "…")
        words = iter(table.split())
        assert all(word in words for word in reason.split()), table
    assert "…" not in table


@pytest.mark.parametrize("width", WIDTHS)
def test_pricing_list_shows_model_names_and_prices_whole(cli, width):
    text = cli("pricing", "list", "--provider", "openai", env={"COLUMNS": str(width)}).stdout
    models = json.loads(cli("pricing", "list", "--provider", "openai", "-f", "json").stdout)
    cells = _cells(text)
    for m in models["models"]:
        assert m["model"] in cells
        assert f"{m['output']:g}" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_pricing_show_gives_every_price_and_tier_whole(cli, width):
    # the history table had eleven boxed columns: at 80 columns dates, tiers and prices
    # were cut to "2024…", "bat…"; columns no row fills are left out, nothing is cut
    text = cli("pricing", "show", "claude-sonnet-4-5", env={"COLUMNS": str(width)}).stdout
    info = json.loads(cli("pricing", "show", "claude-sonnet-4-5", "-f", "json").stdout)
    cells = _cells(text)
    assert "…" not in text
    for h in info["history"]:
        assert h["from"] in cells and h["tier"] in cells
        for key in ("input", "cache_read", "cache_write", "output"):
            assert f"{h[key]:g}" in cells


@pytest.mark.parametrize("width", WIDTHS)
def test_tokens_gives_model_names_counts_and_costs_whole(cli, width):
    models = ["gpt-4o", "claude-sonnet-4-5", "gemini-2.5-flash"]
    args = ["tokens", "hello world, how are you", *(a for m in models for a in ("-m", m))]
    text = cli(*args, env={"COLUMNS": str(width)}).stdout
    result = json.loads(cli(*args, "-f", "json").stdout)
    cells = _cells(text)
    for r in result["models"]:
        # an estimated count is marked '~' (its '×1.2 (est.)' beside the tokenizer made the
        # table too wide for a long model name at 80 columns); the count is whole still
        mark = "~" if r["token_source"] == "estimated" else ""
        assert r["model"] in cells and f"{mark}{r['tokens']:,}" in cells
        assert any(c.startswith("$0.0000") for c in cells)


@pytest.mark.parametrize("width", WIDTHS)
def test_check_gives_each_rule_its_scope_limit_and_actual_whole(cli, width):
    # the rule table wrapped cells mid-word ("claude-sonnet-4" / "-5") at 80 columns
    args = ["check", str(DEMO), "--max-cost", "5", "--max-model-cost", "claude-sonnet-4-5=1"]
    out = cli(*args, env={"COLUMNS": str(width)})
    assert out.exit_code == 1, out.stderr
    result = json.loads(cli(*args, "-f", "json").stdout)
    lines = out.stdout.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("Rule "))
    lines = lines[start + 1 : start + 1 + len(result["rules"])]
    for rule in result["rules"]:  # each rule on one line: its title, scope, limit, actual
        [line] = [x for x in lines if x.startswith(rule["title"])]
        words = line.split()
        assert str(rule["scope"]).split()[0] in words, line
        assert rule["status"].upper() in line.upper(), line


def test_the_hour_grid_keeps_its_cells_apart(by_report):
    # "<.01" filled its four cells: "<.01<.01" read as one value
    text = _print(by_report, 100)
    days = ("Mon ", "Tue ", "Wed ", "Thu ", "Fri ", "Sat ", "Sun ")
    rows = [x for x in text.splitlines() if x.startswith(days)]
    assert rows and all(len(x.split()) == 25 for x in rows), rows


def test_command_help_keeps_to_80_columns():
    """Typer prints the lines after a help text's first paragraph as written (it reflows
    only the first): a longer line wraps raggedly in an 80-column terminal ("…config
    error,\\n 3 no usable records"). Each such line fits between the 1-column margins."""
    import inspect

    import typer

    from llmcost.cli import app

    def commands(command, name):
        yield name, command
        for sub_name, sub in getattr(command, "commands", {}).items():
            yield from commands(sub, f"{name} {sub_name}")

    too_long = [
        (name, line)
        for name, command in commands(typer.main.get_command(app), "llmcost")
        for paragraph in inspect.cleandoc(command.help or "").split("\n\n")[1:]
        for line in paragraph.splitlines()
        if len(line) > 78
    ]
    assert too_long == []


REAL_LOGS = sorted(
    p
    for p in (SAMPLES.parent / "tests" / "data" / "real").rglob("*")
    if p.suffix in {".json", ".jsonl", ".txt"}
)


@pytest.mark.parametrize("log", REAL_LOGS, ids=lambda p: p.name)
def test_real_logs_audit_fits_80_columns(cli, log):
    """No table of the audit of a real log prints wider than the terminal (its call tables
    printed uncut at 119-138 columns)."""
    result = cli("audit", log, env={"COLUMNS": "80"})
    assert result.exit_code in (0, 3), result.stderr  # 3: a file with no usable records
    lines = result.stdout.splitlines()
    assert max((len(line) for line in lines), default=0) <= 80, "\n".join(
        line for line in lines if len(line) > 80
    )


GEMINIS = ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.0-flash", "gemini-2.5-flash-lite",
           "gemini-2.0-flash-lite", "gemini-2.5-flash-preview-05-20", "gemini-2.0-flash-001"]  # fmt: skip


@pytest.mark.parametrize("width", range(4, 31))
def test_cut_model_names_never_read_the_same(width):
    from llmcost.render.terminal import name_forms

    forms = name_forms(GEMINIS, width)
    if forms is None:  # no telling them apart this narrow: the column is kept wider
        return
    assert all(cell_len(f) <= width for f in forms.values())
    assert len(set(forms.values())) == len(GEMINIS), forms
    for name, form in forms.items():  # and no other name could be read in it
        head, _, tail = form.partition("…")
        if form != name:
            readers = [n for n in GEMINIS if n.startswith(head) and n.endswith(tail)]
            assert readers == [name], (form, readers)
    # a name that another cut name does not share its start with is cut at its end, as before
    assert name_forms(["claude-sonnet-4-5-20250929", "gpt-4o"], 12)["gpt-4o"] == "gpt-4o"
    assert (
        name_forms(["claude-sonnet-4-5-20250929", "gpt-4o"], 12)["claude-sonnet-4-5-20250929"]
        == "claude-sonn…"
    )


def test_a_cut_name_keeps_the_model_before_its_prefix():
    """A name too long for its column, alone, was cut at its end: a Bedrock inference
    profile read 'us.anthropic.cl…' and a gateway's 'openrouter/anthropic/…' read as no
    model at all. The gateway, region and vendor prefix goes first; names stay apart, and a
    user's ARN keeps its start."""
    from llmcost.render.terminal import name_forms

    profile = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
    assert name_forms([profile, "gpt-4o"], 16)[profile] == "…claude-3-7-son…"
    assert name_forms(["openrouter/anthropic/claude-3.7-sonnet"], 20) == {
        "openrouter/anthropic/claude-3.7-sonnet": "…claude-3.7-sonnet"
    }
    arn = "arn:aws:bedrock:us-east-1:111122223333:inference-profile/" + profile
    assert name_forms([arn], 16)[arn] == "…claude-3-7-son…"
    regions = [profile, "eu." + profile[3:], "apac." + profile[3:]]
    forms = name_forms(regions, 16)
    assert len(set(forms.values())) == 3 and all("claude-3" in f for f in forms.values())
    users = ["arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/bob-1"]
    assert all(f.startswith("arn:") for f in name_forms(users, 14).values())


def _two_gemini_log(tmp_path):
    line = (
        '{{"timestamp": "2026-11-{day:02d}T10:00:00Z", "model": "{model}", "input_tokens": 2000,'
        ' "output_tokens": 300, "prompt": "Classify this ticket {i} as spam or not",'
        ' "completion": "spam"}}\n'
    )
    models = ("gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.0-flash",
              "claude-sonnet-4-5-20250929")  # fmt: skip
    log = tmp_path / "gemini.jsonl"
    log.write_text(
        "".join(line.format(day=1 + i % 20, model=m, i=i) for i in range(60) for m in models)
    )
    return log


def _column(text: str, title: str, header: str, column: int) -> list[str]:
    """The cells of a column of the table under section ``title`` (rows after ``header``)."""
    lines = text.split(title)[1].splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith(header))
    rows = []
    for x in lines[start + 1 :]:
        if not x.strip() or "─" in x:
            break
        rows.append(re.split(r"\s{2,}", x.strip())[column])
    return rows


def test_downgrade_and_self_hosting_tell_two_gemini_models_apart(cli, tmp_path):
    # at 80 columns gemini-2.5-pro and gemini-2.5-flash both read "gemini-2.5…"
    text = cli("analyze", _two_gemini_log(tmp_path), env={"COLUMNS": "80"}).stdout
    assert max(len(x) for x in text.splitlines()) <= 80
    for title, header, column, n in (
        ("Model-downgrade savings", "Model ", 0, 4),
        ("Model-downgrade savings", "Model ", 1, 4),
        ("Self-hosting break-even", "Model ", 0, 3),
        ("Cost by model", "Model ", 0, 4),
    ):
        cells = _column(text, title, header, column)[:n]  # (a table may follow)
        assert len(cells) == n and len(set(cells)) == n, (title, cells)
        assert sum("…" in c for c in cells) >= (2 if title != "Cost by model" else 0), cells


@pytest.mark.parametrize("width", (60, 80, 100))
def test_check_fits_the_width_and_keeps_every_detail_whole(cli, width):
    # Rule and Scope were never cut: the table printed 217 columns wide at 80 (a model's
    # full name as the scope), or fitted by cutting the Detail to "6 above:…"
    args = [
        "check", str(DEMO), "--max-model-cost", "claude-sonnet-4-5-20250929=1",
        "--max-model-cost", "*=0.5", "--warn-daily-cost", "0.001", "--warn-request-cost",
        "0.0001", "--max-user-cost", "*=0.01", "--max-feature-cost", "*=0.01",
        "--fail-on-unpriced",
    ]  # fmt: skip
    out = cli(*args, env={"COLUMNS": str(width)})
    assert out.exit_code == 1, out.stderr
    rules = json.loads(cli(*args, "-f", "json").stdout)["rules"]
    table = out.stdout.split("Top models")[0]
    lines = table.splitlines()[3:]  # (the headline's lines are not wrapped: soft wrap)
    assert max(len(x) for x in lines) <= width, "\n".join(x for x in lines if len(x) > width)
    assert "…" not in table
    words = " ".join(table.split())
    assert sum(bool(r["detail"]) for r in rules) == 6
    for rule in rules:
        assert rule["detail"] in words, rule["detail"]
        if width >= 80:  # each rule on one line, its scope whole
            assert any(
                x.startswith(rule["title"] + " ")
                and rule["scope"] in x
                and rule["status"].upper() in x.upper()
                for x in lines
            ), rule


CHECK_POLICY = """budgets:
  max_cost: 2.00
  max_daily_cost: 1.00
  max_request_cost: 0.05
  per_model: {gpt-4o: 1.50}
  per_user: {"*": 0.60}
  per_feature: {"*": 0.50}
  warn: {max_cost: 1.50}
"""


def test_check_lines_above_the_rules_fit_80_columns(cli, tmp_path):
    """The lines above the rule table were printed with soft_wrap: at 80 columns 'Not
    counted: 5 log lines were rejected (llmcost analyze --format json lists each with its
    file, line and reason)' ran to 112. Every line fits, wrapped at a space, the rest of a
    line indented under it; the Markdown (a CI page) keeps each line whole."""
    policy = tmp_path / "llmcost.yaml"
    policy.write_text(CHECK_POLICY)
    result = cli("check", SAMPLES, "--config", policy, env={"COLUMNS": "80"})
    assert result.exit_code == 1, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, [x for x in lines if len(x) > 80]
    note = (
        "Not counted: 5 log lines were rejected (llmcost analyze --format json lists each "
        "with its file, line and reason)"
    )
    at = next(i for i, x in enumerate(lines) if x.startswith("Not counted:"))
    assert lines[at + 1].startswith("  ") and not lines[at + 2].startswith("  ")
    assert " ".join(x.strip() for x in lines[at : at + 2]) == note
    markdown = cli("check", SAMPLES, "--config", policy, "-f", "markdown").stdout
    assert f"- {note}\n" in markdown


def test_a_check_line_breaks_at_spaces_never_in_a_path_url_or_number():
    from llmcost.render.budget import terminal
    from llmcost.render.layout import Section

    path = "/home/someone/projects/a-rather-long-project-name/logs/2026/11/production-calls.jsonl"
    url = "https://example.com/llmcost/docs/budgets#a-rather-long-anchor-name-for-this"
    lines = [
        f"{path}: an unfinished last line (1,234 bytes) waits for the next ingest",
        f"Total cost: $1,234,567.89 over 12,345,678 calls; the pricing is at {url} today",
    ]
    buf = io.StringIO()
    terminal([Section("LLM budget check", lines=list(lines))], Console(file=buf, width=80))
    out = buf.getvalue().splitlines()[1:]
    # a word wider than the terminal is kept whole, on a line of its own
    assert [x for x in out if len(x) > 80] == [f"{path}:"]
    assert any(url in x.split() for x in out), out
    for word in ("$1,234,567.89", "12,345,678", "(1,234"):
        assert any(word in x.split() for x in out), out
    assert " ".join(x.strip() for x in out) == " ".join(lines)


def test_each_file_s_stderr_line_wraps_in_an_80_column_terminal():
    """The line said of each file read went to stderr with soft_wrap: 99 columns for
    sample_logs/shapes/anthropic_messages.jsonl under a checkout. In a terminal it wraps at
    its spaces, its path whole; redirected (a CI log, a file) it stays one line a file."""
    from types import SimpleNamespace

    from llmcost.commands.common import file_line, file_printer

    source = "/home/someone/checkouts/llmcost/sample_logs/shapes/anthropic_messages.jsonl"
    result = SimpleNamespace(
        source=source, format="jsonl", mode="new", lines_read=10, ingested=10, skipped=0,
        rejected=0, pending_bytes=0, error=None,
    )  # fmt: skip
    for terminal, lines in ((True, 2), (False, 1)):
        buf = io.StringIO()
        err = Console(file=buf, width=80, force_terminal=terminal, color_system=None)
        file_printer(err)(result)
        out = buf.getvalue().splitlines()
        assert len(out) == lines and " ".join(x.strip() for x in out) == file_line(result)
        assert out[0].startswith(f"{source}:")
        if terminal:
            assert max(len(x) for x in out) <= 80 and out[1].startswith("  ")


WIDE_LOGS = [
    SAMPLES.parent / "tests" / "data" / "formats" / "bedrock" / "crafted_invocation_logs.jsonl",
    SAMPLES.parent / "tests" / "data" / "formats" / "bedrock" / "panther_invocation_logs.jsonl",
    SAMPLES.parent / "tests" / "data" / "formats" / "usage" / "huge_counts.jsonl",
]


@pytest.mark.parametrize("log", WIDE_LOGS + REAL_LOGS, ids=lambda p: p.name)
def test_real_logs_analyze_fits_80_columns(cli, log):
    """No table of analyze prints wider than an 80-column terminal: a Bedrock model id ends
    ':0' as a file:line cell does, so a Model column of them was kept whole (Cost by model
    160 columns, Most expensive calls 292 with an ARN user); the downgrade and self-hosting
    tables of huge counts ran to 112 and 130 (every column a whole number)."""
    result = cli("analyze", log, env={"COLUMNS": "80"})
    assert result.exit_code in (0, 3), result.stderr  # 3: a file with no usable records
    lines = result.stdout.splitlines()
    assert max((len(line) for line in lines), default=0) <= 80, "\n".join(
        line for line in lines if len(line) > 80
    )


def test_bedrock_model_ids_are_cut_apart_and_whole_in_json(cli):
    log = WIDE_LOGS[0]
    text = cli("analyze", log, env={"COLUMNS": "80"}).stdout
    models = _column(text, "Cost by model", "Model ", 0)
    assert len(models) == 3 and len(set(models)) == 3 and any("…" in m for m in models), models
    arn = "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0"  # fmt: skip
    data = json.loads(cli("analyze", log, "--format", "json").stdout)
    assert arn in {m["model"] for m in data["by_model"]}
    # a wider terminal shows the calls' users, two ARNs of one account told apart
    text = cli("analyze", log, env={"COLUMNS": "140"}).stdout
    users = _column(text, "Most expensive calls", "   Cost", 3)
    assert len(set(users)) == 2 and all(u.startswith("arn:aws") for u in users), users


def test_analyze_notes_keep_a_path_whole(cli, tmp_path):
    """analyze's notes were folded by Rich at the 80th column, in the middle of a path
    ('…/llm-gateway-production-eu-west-\\n1/2026/…'); they wrap as check's lines do, at their
    spaces, a path wider than the terminal whole on a line of its own."""
    import gzip

    folder = tmp_path / "directory-of-team-logs" / "llm-gateway-production-eu-west-1" / "2026"
    folder.mkdir(parents=True)
    log = folder / "calls-requests-and-responses.jsonl.gz"
    whole = gzip.compress(DEMO.read_bytes()[:20_000])
    log.write_bytes(whole[: len(whole) // 2])  # a truncated file: a note names it
    result = cli("analyze", log, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"{log}:" in lines  # whole, on a line of its own
    at = lines.index(f"{log}:")
    assert lines[at + 1].startswith("  gzip broke off after line")
    assert len(str(log)) > 80 and [x for x in lines if len(x) > 80] == [f"{log}:"]


def test_the_audit_of_every_real_log_at_once_fits_80_columns(cli):
    """Read together, the real logs' off calls (a long file name on both sides' counts)
    printed 160 columns wide; the estimates stay marked when their Model cell is cut."""
    real = SAMPLES.parent / "tests" / "data" / "real"
    result = cli("audit", real, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(x for x in lines if len(x) > 80)
    [row] = [line for line in lines if line.startswith("claude_code_log_representative.jsonl:6 ")]
    assert "95/~172" in row  # an estimated recount
    [row] = [line for line in lines if line.startswith("standard_logging_payload.json:1 ")]
    assert "10/11" in row and "20/1" in row  # counted exactly: no mark


def test_the_audit_wraps_its_lines_as_analyze_does(cli):
    """The audit's summary and hint lines were folded by Rich at the last column, their
    continuation flush left, so one hint could not be told from the next."""
    result = cli("audit", SAMPLES.parent / "tests" / "data" / "real", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    start = lines.index(next(x for x in lines if x.startswith("Hint: Estimated, not counted")))
    assert lines[start + 1].startswith("  ") and lines[start + 1][2] != " "
    assert all(x == x.rstrip() for x in lines[: start + 2])  # no trailing spaces either


def test_a_legend_says_the_columns_left_out_once():
    """A table with its own legend (the line that explains the columns shown) printed the
    generic '(X left out at this width ...)' line under it as well: the columns were
    explained twice, above and below. The legend says what is left out; no line below."""
    from rich.console import Console

    from llmcost.render.layout import Table
    from llmcost.render.terminal import FitTable

    t = Table(
        ["Model", "Note", "Extra wide optional column", "Cost"],
        [["gpt-4o", "x" * 30, "y" * 30, "$1.00"]],
        "lllr",
        optional=("Extra wide optional column",),
        legend=lambda shown: ["Note: what the model was asked"],
    )
    console = Console(width=40, record=True, color_system=None)
    console.print(FitTable(t), crop=False)
    text = " ".join(line.strip() for line in console.export_text().splitlines())
    assert text.count("left out at this width") == 1, text
    assert text.index("left out at this width") < text.index("Model")  # in the legend


def test_the_audits_estimated_table_says_its_columns_left_out_in_a_legend(cli):
    """At 80 columns the audit's second token table (estimated models) printed the generic
    '(Mean Δ, Worst Δ left out at this width; …)' line under it, below the first table's
    legend, which says its own left-out columns where it explains them. The second says
    them in a legend line above it as well; wide, or in Markdown, it has no such line."""
    real = SAMPLES.parent / "tests" / "data" / "real"
    result = cli("audit", real, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    tokens = text[text.index("Audit: reported vs recounted") : text.index("Where ")]
    assert "left out at this width; a wider terminal" not in tokens, tokens
    lines = tokens.splitlines()
    legend = lines.index(next(x for x in lines if x.startswith("Columns as in the table")))
    factor = lines.index(next(x for x in lines if x.startswith("Model ") and "Factor" in x))
    said = " ".join(x.strip() for x in lines[legend:factor])
    assert "(Mean Δ, Worst Δ: left out at this width; --format json has them)" in said, said
    wide = cli("audit", real, env={"COLUMNS": "200"}).stdout
    markdown = cli("audit", real, "-f", "markdown").stdout
    for shown in (wide, markdown):
        assert "Columns as in the table above" not in shown
        assert "left out at this width" not in shown


def test_a_check_rule_s_detail_wraps_at_spaces_unpadded(cli, tmp_path):
    """The details under the rule table were a Rich grid: each line padded with spaces to
    the full width, and a word wider than the terminal (the costliest call's file:line)
    folded mid-word at the 80th column. They wrap at spaces as the lines above the table
    do, the word whole on a line of its own, the rest indented under the '- '."""
    name = "production-gateway-" + "eu-west-1-" * 7 + "calls.jsonl"
    log = tmp_path / name
    log.write_text("".join(DEMO.read_text().splitlines(keepends=True)[:20]))
    args = ["check", log, "--max-request-cost", "0.000001", "--max-model-cost", "*=0.000001"]
    result = cli(*args, env={"COLUMNS": "80"})
    assert result.exit_code == 1, result.stderr
    lines = result.stdout.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("- Request cost, "))
    details = lines[start : next(i for i, x in enumerate(lines) if x.startswith("Top models"))]
    assert all(x.startswith(("- ", "  ")) and x == x.rstrip() for x in details), details
    where = re.search(rf"{re.escape(name)}:\d+", result.stdout).group()
    assert len(where) > 80 and [x for x in details if len(x) > 80] == [f"  {where}"], details
    assert all(len(x) <= 80 for x in details if where not in x), details


@pytest.mark.parametrize("log", [DEMO, SAMPLES.parent / "tests" / "data" / "real"])
def test_no_line_ends_in_a_space(cli, tmp_path, log):
    """Rich padded every table cell to its column's width, so a row whose last cell was
    left-aligned and short ('FAIL  '), or a header shorter than its column, ended in spaces;
    the generic '(X left out at this width; …)' line, a Text Rich wrapped, kept the space
    it was broken at. No line of analyze, audit, check or report ends in whitespace, on
    stdout or stderr, at 80 columns."""
    db = tmp_path / "calls.duckdb"
    assert cli("ingest", log, "--db", db).exit_code == 0
    check = [
        "--max-cost", "0.0001", "--max-daily-cost", "0.0001", "--max-request-cost", "0.0001",
        "--max-model-cost", "*=0.00001", "--max-user-cost", "*=0.00001",
        "--max-feature-cost", "*=0.00001", "--fail-on-unpriced",
    ]  # fmt: skip
    runs = {
        "analyze": (["analyze", log], 0),
        "audit": (["audit", log], 0),
        "check": (["check", log, *check], 1),
        "report": (["report", "--db", db, "--since", "2020-01-01"], 0),
    }
    for name, (args, code) in runs.items():
        result = cli(*args, env={"COLUMNS": "80"})
        assert result.exit_code == code, (name, result.stderr)
        for stream in (result.stdout, result.stderr):
            ends = [x for x in stream.splitlines() if x != x.rstrip()]
            assert not ends, (name, ends)
