"""Shared test helpers: real fixtures turned into log lines, a CLI runner, a fixed width."""

from __future__ import annotations

import base64
import gzip
import json
import os
from pathlib import Path

import pytest
import yaml

DATA = Path(__file__).parent / "data"
REAL = DATA / "real"
ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "sample_logs"


@pytest.fixture(autouse=True)
def _isolate(monkeypatch, tmp_path):
    """No user config, no real home, a stable terminal width."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.delenv("LLMCOST_DB", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.chdir(tmp_path)


def _body(raw) -> str:
    """A cassette body: plain text, a {'string': ...} mapping, or gzip+base64."""
    if isinstance(raw, dict):
        if "base64_string" in raw:
            return gzip.decompress(base64.b64decode(raw["base64_string"])).decode()
        raw = raw.get("string", "")
    return raw


def cassette_envelopes(path: Path) -> list[dict]:
    """The {request, response} pairs of a VCR cassette, as envelope log records."""
    doc = yaml.safe_load(path.read_text())
    out = []
    for interaction in doc["interactions"]:
        request = json.loads(_body(interaction["request"]["body"]))
        body = _body(interaction["response"]["body"])
        out.append({"request": request, "response": json.loads(body)})
    return out


def anthropic_txt_responses(path: Path) -> list[dict]:
    """Response bodies from the decoded '--- interaction N' text file."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def write_jsonl(path: Path, records: list) -> Path:
    with path.open("w") as fh:
        for record in records:
            fh.write((record if isinstance(record, str) else json.dumps(record)) + "\n")
    return path


@pytest.fixture
def jsonl(tmp_path):
    counter = iter(range(10_000))

    def make(records: list, name: str | None = None) -> Path:
        return write_jsonl(tmp_path / (name or f"log{next(counter)}.jsonl"), records)

    return make


@pytest.fixture
def cli():
    """Run the CLI in-process; returns the result with separate stdout and stderr."""
    from typer.testing import CliRunner

    from llmcost.cli import app

    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict | None = None):
        return runner.invoke(
            app,
            [str(a) for a in args],
            input=input,
            env={**os.environ, **(env or {})},
            catch_exceptions=False,
        )

    return run


# The canonical token columns, in one order, for comparing a priced call's counts at once.
TOKEN_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_write_tokens",
                 "cache_write_1h_tokens", "output_tokens", "reasoning_tokens")  # fmt: skip


def tokens(row: dict) -> tuple:
    """A priced call's counts in ``TOKEN_COLUMNS`` order."""
    return tuple(row[c] for c in TOKEN_COLUMNS)


def cost(row: dict) -> float:
    return float(row["cost_usd"])


def load_priced(path, input_format: str | None = None):
    """One file through ingest and costing: (file result, priced calls in file order,
    rejects as (line, reason), texts by hash)."""
    from llmcost import costing, store
    from llmcost.ingest import ingest_file
    from llmcost.pricing import load_pricing

    con = store.connect()
    result = ingest_file(con, str(path), input_format)
    costing.prepare(con, load_pricing())
    cur = con.execute("SELECT * FROM priced ORDER BY source_line, request_id")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    rejects = con.execute("SELECT line, reason FROM rejects ORDER BY line").fetchall()
    texts = dict(con.execute("SELECT hash, text FROM texts").fetchall())
    return result, rows, rejects, texts


def load_priced_paths(*paths, fill: bool = True):
    """Several files through ingest (one run), token filling when ``fill``, and costing:
    (ingest result, priced calls ordered by source and line, connection)."""
    from llmcost import costing, store
    from llmcost.ingest import ingest_paths
    from llmcost.pricing import load_pricing
    from llmcost.report import fill_tokens

    con = store.connect()
    result = ingest_paths(con, [str(p) for p in paths])
    book = load_pricing()
    if fill:
        fill_tokens(con, book)
    costing.prepare(con, book)
    cur = con.execute("SELECT * FROM priced ORDER BY source, source_line")
    names = [d[0] for d in cur.description]
    return result, [dict(zip(names, row)) for row in cur.fetchall()], con


def recorded_call(case_id: str) -> dict:
    """A recorded OpenAI call (request body and the usage the API reported) from
    tests/data/tokens/otel_contrib_cases.json."""
    cases = json.loads((DATA / "tokens" / "otel_contrib_cases.json").read_text())["cases"]
    return next(c for c in cases if c["id"] == case_id)


def logged_tools(path: Path) -> list[tuple]:
    """Ingest ``path`` and fill its missing counts: (tools_hash, tools text, input_tokens,
    token_source) per call, in file order."""
    from llmcost import store
    from llmcost.ingest import ingest_paths
    from llmcost.pricing import load_pricing
    from llmcost.report import fill_tokens

    con = store.connect()
    ingest_paths(con, [str(path)])
    fill_tokens(con, load_pricing())
    return con.execute(
        "SELECT r.tools_hash, t.text, r.input_tokens, r.token_source FROM requests r "
        "LEFT JOIN texts t ON t.hash = r.tools_hash AND t.kind = 'tools' "
        "ORDER BY r.source_line, r.request_id"
    ).fetchall()
