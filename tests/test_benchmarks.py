"""The benchmark harness runs end to end on a tiny log (no timing assertions)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

# Stands in for litellm (not a test dependency) so the today's-way loops run: a price per
# token, and a model it does not know, as litellm raises for one.
FAKE_LITELLM = """
def cost_per_token(model, prompt_tokens, completion_tokens):
    if model.startswith("gemini"):
        raise ValueError("model not mapped")
    return prompt_tokens * 1e-6, completion_tokens * 2e-6

def completion_cost(model, messages, completion):
    return (sum(len(m["content"]) for m in messages) + len(completion)) * 1e-7
"""


def test_benchmark_harness_smoke(tmp_path):
    (tmp_path / "RESULTS.md").write_text("# Benchmark results\n\nNewest first.\n\n## old run\n")
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "litellm.py").write_text(FAKE_LITELLM)
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--out", str(tmp_path),
         "--results", str(tmp_path / "RESULTS.md"), "--litellm-sample", "100"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env={**os.environ, "PYTHONPATH": str(fake)},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "P1 usage present" in out.stdout and "P2 tokens missing" in out.stdout
    assert "P3 peak RSS" in out.stdout
    assert "bound: leanest store of the P1 log" in out.stdout
    assert "P1 analyze / that bound" in out.stdout
    assert "startup: llmcost --help " in out.stdout
    loops = [line for line in out.stdout.splitlines() if line.startswith("litellm loop")]
    assert len(loops) == 2, out.stdout
    # the sample's calls, the unknown models counted as failed, scaled to the log's 300
    assert "cost_per_token per call" in loops[0] and "(100 calls, " in loops[0]
    assert ", 0 failed)" not in loops[0] and "for 300 calls" in loops[0]
    assert "completion_cost per call" in loops[1] and "(100 calls, 0 failed)" in loops[1]
    table = (tmp_path / "RESULTS.md").read_text()
    assert "| P1 usage present" in table and "x |" in table
    assert "| bound: leanest store of the P1 log" in table
    assert table.count("| today's way: litellm") == 2
    assert "| startup: `llmcost --help` / `python -c pass` |" in table
    # newest first: after the heading, before the older runs
    assert table.index("Newest first.") < table.index("| P1 usage") < table.index("## old run")


def test_a_missing_litellm_interpreter_skips_the_loops(tmp_path):
    """The loops are optional: an interpreter that does not exist is a reason to skip them,
    not a crash after the timed runs (which lost their results)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # (its dataclasses look their module up)
    try:
        spec.loader.exec_module(bench)
    finally:
        del sys.modules[spec.name]
    log = tmp_path / "calls.jsonl"
    log.write_text("{}\n")
    reason = bench.litellm_loop(str(tmp_path / "no-python"), log, 1, "usage", 1, tmp_path)
    assert isinstance(reason, str) and reason.startswith("cannot run ")
