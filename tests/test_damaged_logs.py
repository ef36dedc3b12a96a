"""Damaged copies of every format's test log: the run goes on or stops with a clear error,
never a traceback, and every line read is accounted for.

The damage is what copies of logs suffer: cut short, bytes overwritten, numbers written as
strings, a usage object nulled. Deterministic (a fixed seed per file)."""

from __future__ import annotations

import random

import pytest

from llmcost.errors import LlmcostError
from llmcost.report import analyze
from tests.conftest import DATA, SAMPLES

LOGS = sorted(
    p
    for p in (DATA / "formats").rglob("*")
    if p.suffix in (".jsonl", ".json", ".csv") and p.stat().st_size < 1_000_000
)


def _damaged(data: bytes, how: str, rng: random.Random) -> bytes:
    if how == "cut":
        return data[: rng.randrange(1, len(data))]
    if how == "bytes":
        out = bytearray(data)
        for _ in range(8):
            out[rng.randrange(len(out))] = rng.randrange(256)
        return bytes(out)
    text = data.decode("utf-8", "replace")
    if how == "strings":  # counts as strings, a model as a number
        text = text.replace('_tokens": ', '_tokens": "x', 5).replace(
            '"model": "', '"model": 7, "m": "', 2
        )
    else:  # "nulls"
        text = text.replace('"usage": {', '"usage": null, "was": {', 3)
    return text.encode()


# ("strings" was "types" here, which _damaged read as "nulls": the model as a number was
# never tried; a model 7 was then counted, unpriced, as the model '7')
@pytest.mark.parametrize("how", ["cut", "bytes", "strings", "nulls"])
@pytest.mark.parametrize("log", LOGS + [SAMPLES / "demo.jsonl"], ids=lambda p: p.name)
def test_a_damaged_log_never_crashes_the_run(tmp_path, log, how):
    rng = random.Random(f"{log.name}:{how}")
    copy = tmp_path / log.name
    copy.write_bytes(_damaged(log.read_bytes(), how, rng))
    try:
        report = analyze([copy])
    except LlmcostError:
        return  # a clear message and an exit code (e.g. 3: nothing usable was left)
    for f in report["inputs"]:
        assert f["ingested"] + f["skipped"] + f["rejected"] == f["lines_read"], f
    # a model that is not a string is a bad line, not a model named '7'
    assert "7" not in {m["model"] for m in report["by_model"]}


# A token count in each format's test log (file, line, as written) and an out-of-range one.
_COUNTS = [
    ("bedrock/crafted_invocation_logs.jsonl", 5, '"inputTokenCount":"n/a"',
     '"inputTokenCount":1e30'),
    ("claude_code/crafted_streamed_session.jsonl", 14, '"output_tokens":"many"',
     '"output_tokens":9223372036854775808'),
    ("codex/crafted_rollout.jsonl", 13, '"output_tokens":"lots"', '"output_tokens":1e30'),
    ("helicone/export.csv", 5, '"n/a"', '"1e30"'),
    ("langfuse/observations.jsonl", 7, '"input": "many"', '"input": 1e30'),
    ("litellm/spend_logs.csv", 2, ",2300,2200,100,", ",2300,1e30,100,"),
    ("otel/file_exporter.jsonl", 3, '{"stringValue": "lots"}', '{"doubleValue": 1e30}'),
    ("usage_reports/crafted_openai_usage_completions.json", 119, '"lots"', "1e30"),
    ("usage/huge_counts.jsonl", 2, "", ""),
]  # fmt: skip


@pytest.mark.parametrize("name, line, was, now", _COUNTS, ids=lambda v: str(v))
def test_an_out_of_range_token_count_rejects_its_line_not_the_run(tmp_path, name, line, was, now):
    """A count too large for a BIGINT (or for a sum over calls) is a reject with its line and
    reason, like any count that is not a non-negative integer; the other lines are read."""
    from llmcost import store
    from llmcost.ingest import ingest_file

    path = DATA / "formats" / name
    lines = path.read_text().split("\n")
    assert was in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(was, now, 1)
    copy = tmp_path / path.name
    copy.write_text("\n".join(lines))
    con = store.connect()
    result = ingest_file(con, str(copy))
    reasons = [r for (n, r) in con.execute("SELECT line, reason FROM rejects").fetchall()]
    assert any("is too large for a token count (10^15 or more)" in r for r in reasons), reasons
    assert result.ingested + result.buckets > 0 and result.accounted  # (reports: buckets)
