"""The benchmark harness runs end to end on a tiny log (no timing assertions)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_benchmark_harness_smoke(tmp_path):
    (tmp_path / "RESULTS.md").write_text("# Benchmark results\n\nNewest first.\n\n## old run\n")
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--out", str(tmp_path),
         "--results", str(tmp_path / "RESULTS.md")],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "P1 usage present" in out.stdout and "P2 tokens missing" in out.stdout
    assert "P3 peak RSS" in out.stdout
    table = (tmp_path / "RESULTS.md").read_text()
    assert "| P1 usage present" in table and "x |" in table
    # newest first: after the heading, before the older runs
    assert table.index("Newest first.") < table.index("| P1 usage") < table.index("## old run")
