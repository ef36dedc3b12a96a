"""Logs as teams have them, written by other tools and other systems: whitespace lines,
Windows line endings, other encodings. Each must read as the plain log it holds, every line
accounted for, each reject at its own line."""

from __future__ import annotations

import json

import pytest

from tests.conftest import DATA, SAMPLES

# One log of each line-based reader (and the flat JSON lines of the demo).
LOGS = [
    SAMPLES / "shapes" / "flat.jsonl",
    DATA / "formats" / "bedrock" / "panther_invocation_logs.jsonl",
    DATA / "formats" / "claude_code" / "crafted_streamed_session.jsonl",
    DATA / "formats" / "helicone" / "export.jsonl",
]


def _report(cli, path) -> dict:
    result = cli("analyze", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _read(report: dict) -> tuple:
    [file] = report["inputs"]
    summary = report["summary"]
    return (
        (file["lines_read"], file["ingested"], file["skipped"], file["rejected"]),
        (summary["requests"], summary["total_cost_usd"]),
        [(r["line"], r["reason"]) for r in report["rejected"]["samples"]],
    )


@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.name)
def test_a_line_of_tabs_and_spaces_is_a_blank_line(cli, tmp_path, log):
    """A line of only tabs and spaces (a tab-indented editor's empty line, a log written by a
    template) is blank, skipped like an empty line; DuckDB's trim takes spaces only, so a
    tab made it a reject 'not valid JSON'."""
    lines = log.read_bytes().splitlines()
    copy = tmp_path / log.name
    copy.write_bytes(b"\n".join([lines[0], b"\t", *lines[1:], b"  \t "]) + b"\n")
    (read, ingested, skipped, rejected), totals, rejects = _read(_report(cli, log))
    assert _read(_report(cli, copy)) == (
        (read + 2, ingested, skipped + 2, rejected),
        totals,
        [(line + (line > 1), reason) for line, reason in rejects],
    )
