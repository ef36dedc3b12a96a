"""What a user sees on stderr while a run works: the byte bar, then what is being done."""

from __future__ import annotations

import io
import json

from rich.console import Console

from llmcost import report
from llmcost.analyses import analyses
from llmcost.commands import common
from tests.conftest import SAMPLES


def _stages(tmp_path, lines: list[dict]) -> list[str]:
    log = tmp_path / "calls.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    told: list[str] = []
    report.analyze([log], stage=told.append)
    return told


def test_stages_after_reading_name_each_step_in_order(tmp_path):
    call = {
        "model": "gpt-4o-mini",
        "timestamp": "2026-11-02T10:00:00Z",
        "messages": [{"role": "user", "content": "Hello there"}],
        "response": "Hi!",
    }
    told = _stages(tmp_path, [call, {**call, "request_id": "b"}])
    names = [a.name.replace("_", " ") for a in analyses()]
    assert told == [
        "counting tokens of the calls logged without counts",
        "pricing",
        *[f"analyzing ({n}/{len(names)}): {name}" for n, name in enumerate(names, 1)],
    ]


def test_no_counting_stage_when_the_log_reports_its_counts():
    told: list[str] = []
    report.analyze([SAMPLES / "demo.jsonl"], stage=told.append)
    assert told[0] == "pricing" and not any("token" in t for t in told)


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=100, highlight=False), out


def test_a_terminal_sees_the_bar_then_the_stages(monkeypatch):
    console, out = _console(True)
    monkeypatch.setattr(common, "stderr", lambda: console)
    with common.progress_bar() as progress:
        advance = progress(1000, 1)
        advance(1000)
        progress.stage("pricing")
        progress.stage("analyzing (1/2): summary")
    text = out.getvalue()  # (a stage replaced before the next refresh is not drawn)
    assert "reading" in text and "analyzing (1/2): summary" in text
    assert text.index("reading") < text.index("analyzing")


def test_stages_write_nothing_when_stderr_is_not_a_terminal(monkeypatch):
    console, out = _console(False)
    monkeypatch.setattr(common, "stderr", lambda: console)
    with common.progress_bar() as progress:
        progress(10, 1)(10)
        progress.stage("pricing")
    assert out.getvalue() == ""


def test_a_command_without_a_log_shows_only_the_spinner(monkeypatch):
    console, out = _console(True)
    monkeypatch.setattr(common, "stderr", lambda: console)
    with common.spinner() as stage:
        stage("pricing")
        stage("comparing with the period before")
    text = out.getvalue()
    assert "comparing with the period before" in text and "reading" not in text
    console, out = _console(False)  # cron: nothing
    monkeypatch.setattr(common, "stderr", lambda: console)
    with common.spinner() as stage:
        stage("pricing")
    assert out.getvalue() == ""
