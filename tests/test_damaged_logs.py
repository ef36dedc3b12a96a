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


@pytest.mark.parametrize("how", ["cut", "bytes", "types"])
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
