"""Benchmarks: llmcost against reference programs on the same files, in one go.

    python benchmarks/run.py --n 200000            # P1-P3 on ~800 MB logs
    python benchmarks/run.py --n 200000 --big 10G  # and P4: a 10 GB gzip log in bounded memory
    python benchmarks/run.py --smoke               # a tiny run of the harness (CI)

Every program runs as a child process of this one (same machine, same moment), so the
figures are ratios, not absolute times:

- P1 usage present: ``llmcost analyze`` (full report) vs a DuckDB query that reads only
  model + usage and sums cost — the floor. Target <= 5x, stretch 3x.
- P2 tokens missing: ``llmcost analyze`` vs a reference that extracts the texts with
  DuckDB, deduplicates them and counts them with tiktoken on two threads. Target <= 1.5x.
- P3 peak RSS of llmcost on the P1 file: <= 2 GiB (stretch 1 GiB).
- A bound beside P1 (not a target): the leanest program that keeps what a report is built
  from, each call and each distinct text once under its md5 (DESIGN.md's store), reading
  this log's own fields typed and checking nothing. Its ratio to the floor is what keeping
  the texts costs; P1's ratio to it is what llmcost's reading, checking and report add.
- P4 (``--big``): a multi-GB gzip log completes with peak RSS <= 3 GiB.
- Startup: ``llmcost --help``, best of five, with Python's bytecode cache on (as an
  installed package has it; one run first writes it), against ``python -c pass``. Target
  under 0.3 s.
- Today's way, when litellm is installed (``--litellm-python`` names an interpreter that
  has it; by default this one): a loop over the log's records calling
  ``litellm.cost_per_token`` on the reported usage (P1's log) and ``litellm.completion_cost``
  on the texts (P2's log), timed on the first ``--litellm-sample`` calls and scaled to the
  whole log. litellm reads its packaged price map (LITELLM_LOCAL_MODEL_COST_MAP): no network.

Results are printed and, with ``--results FILE``, written as a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

FLOOR = r"""
import sys, duckdb
con = duckdb.connect()
# list prices per million tokens (input, output): enough for a floor, not for correctness
prices = {"gpt-4o-mini": (0.15, 0.6), "gpt-4o": (2.5, 10), "gpt-4.1": (2, 8),
          "gpt-4.1-mini": (0.4, 1.6), "gpt-5-mini": (0.25, 2), "o4-mini": (1.1, 4.4),
          "claude-sonnet-4-5-20250929": (3, 15), "claude-haiku-4-5": (1, 5),
          "gemini-2.5-flash": (0.3, 2.5), "gemini-2.5-pro": (1.25, 10)}
con.execute("CREATE TABLE p (model VARCHAR, i DOUBLE, o DOUBLE)")
con.executemany("INSERT INTO p VALUES (?, ?, ?)", [(m, i, o) for m, (i, o) in prices.items()])
total = con.execute('''
SELECT sum((coalesce(u.prompt_tokens, u.input_tokens, u.promptTokenCount) * p.i
           + coalesce(u.completion_tokens, u.output_tokens, u.candidatesTokenCount) * p.o) / 1e6)
FROM (SELECT model, usage AS u FROM read_json(?, format = 'newline_delimited', columns = {
  'model': 'VARCHAR',
  'usage': 'STRUCT(prompt_tokens BIGINT, completion_tokens BIGINT, input_tokens BIGINT,
                   output_tokens BIGINT, promptTokenCount BIGINT, candidatesTokenCount BIGINT)'}))
JOIN p USING (model)''', [sys.argv[1]]).fetchone()[0]
print(total)
"""

# A bound, not a competitor: the leanest reading that keeps what the report is built from
# (DESIGN.md's store: each call, each distinct text once under its md5), for this log only
# (its fields named and typed, nothing checked). llmcost cannot beat it; how far the floor
# is below it is what keeping the texts costs on this machine.
LEAN_STORE = r"""
import sys, duckdb
con = duckdb.connect()
con.execute("SET memory_limit = '1.5GB'")
con.execute('''CREATE TABLE read AS SELECT request_id, timestamp, provider, model, user_id,
  metadata, usage, finish_reason, status, latency_ms, max_tokens,
  md5(messages[1].content) AS system_hash, messages[1].content AS system_text,
  md5(messages[2].content) AS prompt_hash, messages[2].content AS prompt_text,
  md5(response) AS completion_hash, response AS completion_text
FROM read_json(?, format = 'newline_delimited', columns = {
  'timestamp': 'VARCHAR', 'request_id': 'VARCHAR', 'provider': 'VARCHAR', 'model': 'VARCHAR',
  'user_id': 'VARCHAR', 'messages': 'STRUCT(role VARCHAR, content VARCHAR)[]',
  'response': 'VARCHAR', 'finish_reason': 'VARCHAR', 'status': 'VARCHAR',
  'latency_ms': 'DOUBLE', 'max_tokens': 'BIGINT', 'metadata': 'STRUCT(feature VARCHAR)',
  'usage': 'STRUCT(prompt_tokens BIGINT, completion_tokens BIGINT, input_tokens BIGINT,
                   output_tokens BIGINT, promptTokenCount BIGINT, candidatesTokenCount BIGINT)'})
''', [sys.argv[1]])
con.execute('''CREATE TABLE texts AS SELECT DISTINCT ON (hash) hash, text FROM (
  SELECT system_hash AS hash, system_text AS text FROM read
  UNION ALL SELECT prompt_hash, prompt_text FROM read
  UNION ALL SELECT completion_hash, completion_text FROM read)''')
con.execute('''CREATE TABLE calls AS SELECT * EXCLUDE (system_text, prompt_text, completion_text)
  FROM read''')
print(con.execute("SELECT count(*) FROM calls").fetchone()[0],
      con.execute("SELECT count(*) FROM texts").fetchone()[0])
"""

TOKENS_REFERENCE = r"""
import sys, duckdb
from concurrent.futures import ThreadPoolExecutor
from llmcost.tokens import get_encoding
enc = get_encoding("o200k_base")
con = duckdb.connect()
texts = [t for (t,) in con.execute('''
SELECT DISTINCT t FROM (
  SELECT unnest(json_extract_string(messages, '$[*].content')) AS t, response
  FROM read_json(?, format = 'newline_delimited',
                 columns = {'messages': 'JSON', 'response': 'VARCHAR'})
  UNION ALL
  SELECT response, NULL FROM read_json(?, format = 'newline_delimited',
                 columns = {'messages': 'JSON', 'response': 'VARCHAR'}))
WHERE t IS NOT NULL''', [sys.argv[1], sys.argv[1]]).fetchall()]
def count(chunk):
    return sum(len(enc.encode_ordinary(t)) for t in chunk)
chunks = [texts[i::2] for i in range(2)]
with ThreadPoolExecutor(2) as pool:
    print(len(texts), sum(pool.map(count, chunks)))
"""

# What teams run today: a loop over the records, one litellm call per record. Prints
# {"calls", "seconds", "failed", "cost"} as JSON; exits 3 when litellm is not installed.
LITELLM_LOOP = r"""
import json, sys, time
path, sample, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    from litellm import completion_cost, cost_per_token
except ImportError:
    sys.exit(3)
calls = failed = 0
total = 0.0
start = time.perf_counter()
with open(path, encoding="utf-8") as fh:
    for line in fh:
        if calls == sample:
            break
        rec = json.loads(line)
        calls += 1
        try:
            if mode == "usage":
                u = rec["usage"]
                prompt = u.get("prompt_tokens", u.get("input_tokens", u.get("promptTokenCount")))
                completion = u.get("completion_tokens",
                                   u.get("output_tokens", u.get("candidatesTokenCount")))
                total += sum(cost_per_token(model=rec["model"], prompt_tokens=prompt,
                                            completion_tokens=completion))
            else:
                total += completion_cost(model=rec["model"], messages=rec["messages"],
                                         completion=rec["response"])
        except Exception:  # a model litellm does not know: the loop goes on, as a user's would
            failed += 1
print(json.dumps({"calls": calls, "seconds": time.perf_counter() - start, "failed": failed,
                  "cost": total}))
"""


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    returncode: int
    stderr: str


def run(cmd: list[str], env: dict | None = None, stdout: Path | None = None) -> Run:
    """Run a child; wall time and its own peak RSS (os.wait4's rusage for that child).
    Its stdout goes to ``stdout`` when given, else nowhere."""
    start = time.perf_counter()
    with open(stdout or os.devnull, "wb") as out:
        merged = {**os.environ, **(env or {})}  # (a None value unsets a variable)
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE,
                                env={k: v for k, v in merged.items() if v is not None})
        stderr_chunks = []
        # read stderr before waiting so a chatty child cannot block on a full pipe
        for chunk in iter(lambda: proc.stderr.read(65536), b""):
            stderr_chunks.append(chunk)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode,
               b"".join(stderr_chunks).decode(errors="replace"))


def generate(path: Path, *args: str) -> None:
    if path.exists():
        return
    print(f"generating {path.name} …", file=sys.stderr)
    subprocess.run([sys.executable, str(HERE / "gen.py"), *args, "-o", str(path)], check=True)


def warm(path: Path) -> None:
    """Read a file once, so that no program pays for the first read from disk."""
    with path.open("rb") as fh:
        while fh.read(64 * 1024 * 1024):
            pass


def llmcost(path: Path) -> list[str]:
    return [sys.executable, "-m", "llmcost", "analyze", str(path), "--format", "json",
            "-o", os.devnull]


def best_of(times: int, cmd: list[str], env: dict | None = None) -> Run:
    runs = [run(cmd, env) for _ in range(times)]
    for r in runs:
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return min(runs, key=lambda r: r.seconds)


def startup() -> tuple[Run, Run]:
    """``llmcost --help`` and ``python -c pass``, best of five each. The bytecode cache is
    on (PYTHONDONTWRITEBYTECODE unset), as a pip-installed package has it; the first run
    writes it and is not counted."""
    cached = {"PYTHONDONTWRITEBYTECODE": None}
    help_ = [sys.executable, "-m", "llmcost", "--help"]
    run(help_, cached)
    return best_of(5, help_, cached), best_of(5, [sys.executable, "-c", "pass"], cached)


@dataclass
class Loop:
    """The litellm loop on a sample of a log, scaled to the log's calls."""

    function: str
    calls: int  # in the sample
    failed: int
    per_call: float  # seconds
    scaled: float  # seconds for the whole log


def litellm_loop(python: str, path: Path, sample: int, mode: str, calls: int,
                 out: Path) -> Loop | str:
    """Time the loop on ``sample`` calls of ``path``; a reason when it could not run."""
    result = out / f"litellm-{mode}.json"
    try:
        done = run([python, "-c", LITELLM_LOOP, str(path), str(sample), mode],
                   env={"LITELLM_LOCAL_MODEL_COST_MAP": "True"}, stdout=result)
    except OSError as exc:  # no such interpreter: the loops are optional
        return f"cannot run {python}: {exc.strerror}"
    if done.returncode == 3:
        return f"litellm is not installed for {python} (pip install litellm, or --litellm-python)"
    if done.returncode != 0:
        return f"the litellm loop failed: {done.stderr.strip().splitlines()[-1:]}"
    got = json.loads(result.read_text())
    per_call = got["seconds"] / max(got["calls"], 1)
    function = "cost_per_token" if mode == "usage" else "completion_cost"
    return Loop(function, got["calls"], got["failed"], per_call, per_call * calls)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000, help="calls per generated log")
    ap.add_argument("--out", type=Path, default=HERE / "out", help="where generated logs go")
    ap.add_argument("--repeat", type=int, default=1, help="runs per program (best is kept)")
    ap.add_argument("--big", help="also run P4 on a gzip log of this size, e.g. 10G")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes: check the harness runs")
    ap.add_argument("--results", type=Path, help="write a Markdown table here")
    ap.add_argument("--litellm-python", default=sys.executable,
                    help="a Python with litellm installed, for today's-way loops")
    ap.add_argument("--litellm-sample", type=int, default=5000,
                    help="calls the litellm loops run on (then scaled to the log)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.n = 300
        args.out = args.out / "smoke"
    args.out.mkdir(parents=True, exist_ok=True)
    calls = args.out / f"calls-{args.n}.jsonl"
    nousage = args.out / f"nousage-{args.n}.jsonl"
    generate(calls, "--n", str(args.n))
    generate(nousage, "--n", str(args.n), "--strip-usage")
    rows = []
    for path in (calls, nousage):  # every program then reads from the page cache
        warm(path)

    floor = best_of(args.repeat, [sys.executable, "-c", FLOOR, str(calls)])
    p1 = best_of(args.repeat, llmcost(calls))
    rows.append(("P1 usage present: analyze / DuckDB floor", p1.seconds, floor.seconds, 5.0))
    lean = best_of(args.repeat, [sys.executable, "-c", LEAN_STORE, str(calls)])
    bounds = [
        ("bound: leanest store of the P1 log (calls + distinct texts by md5) / floor",
         lean.seconds, floor.seconds),
        ("P1 analyze / that bound", p1.seconds, lean.seconds),
    ]
    ref = best_of(args.repeat, [sys.executable, "-c", TOKENS_REFERENCE, str(nousage)])
    p2 = best_of(args.repeat, llmcost(nousage))
    rows.append(("P2 tokens missing: analyze / dedupe+tiktoken x2", p2.seconds, ref.seconds, 1.5))
    mb = calls.stat().st_size / 1e6
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; logs: {args.n:,} calls, "
          f"{mb:,.0f} MB (P1), {nousage.stat().st_size / 1e6:,.0f} MB (P2)")
    for name, mine, theirs, target in rows:
        ratio = mine / theirs
        print(f"{name}: {mine:.2f}s / {theirs:.2f}s = {ratio:.2f}x (target <= {target}x)")
    for name, mine, theirs in bounds:
        print(f"{name}: {mine:.2f}s / {theirs:.2f}s = {mine / theirs:.2f}x")
    print(f"P3 peak RSS of analyze: P1 {p1.max_rss_mb:,.0f} MB, P2 {p2.max_rss_mb:,.0f} MB "
          f"(target <= 2048 MB)")
    help_, bare = startup()
    print(f"startup: llmcost --help {help_.seconds:.2f}s (python alone {bare.seconds:.2f}s; "
          f"target < 0.3s)")
    loops = []
    for path, mode, mine in ((calls, "usage", p1), (nousage, "text", p2)):
        loop = litellm_loop(args.litellm_python, path, min(args.litellm_sample, args.n), mode,
                            args.n, args.out)
        if isinstance(loop, str):
            print(f"litellm loop: skipped ({loop})")
            break
        loops.append((loop, mine))
        print(f"litellm loop, {loop.function} per call: {loop.per_call * 1e6:,.0f} us/call "
              f"({loop.calls:,} calls, {loop.failed:,} failed) -> {loop.scaled:,.1f}s for "
              f"{args.n:,} calls; llmcost analyze {mine.seconds:.2f}s; "
              f"loop / analyze = {loop.scaled / mine.seconds:.1f}x")
    big = None
    if args.big:
        path = args.out / f"big-{args.big}.jsonl.gz"
        generate(path, "--bytes", args.big, "--gzip")
        warm(path)
        big = run(llmcost(path))
        print(f"P4 {args.big} gzip log: {'ok' if big.returncode == 0 else 'FAILED'} in "
              f"{big.seconds:,.0f}s, peak RSS {big.max_rss_mb:,.0f} MB (target <= 3072 MB)")
    if args.results:
        write_results(args, rows, p1, p2, big, mb, loops, (help_, bare), bounds)
    return 0


def write_results(args, rows, p1, p2, big, mb, loops, started, bounds) -> None:
    lines = [
        f"## {dt.date.today().isoformat()} — {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "",
        f"Logs: {args.n:,} calls ({mb:,.0f} MB with usage). Best of {args.repeat}.",
        "",
        "| measure | llmcost | reference | ratio | target |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, mine, theirs, target in rows:
        lines.append(f"| {name} | {mine:.2f} s | {theirs:.2f} s | {mine / theirs:.2f}x | <= {target}x |")
    for name, mine, theirs in bounds:
        lines.append(f"| {name} | {mine:.2f} s | {theirs:.2f} s | {mine / theirs:.2f}x | |")
    lines.append(f"| P3 peak RSS (P1 / P2) | {p1.max_rss_mb:,.0f} / {p2.max_rss_mb:,.0f} MB | | | <= 2048 MB |")
    help_, bare = started
    lines.append(f"| startup: `llmcost --help` / `python -c pass` | {help_.seconds:.2f} s | "
                 f"{bare.seconds:.2f} s | | < 0.3 s |")
    for loop, mine in loops:
        lines.append(
            f"| today's way: litellm `{loop.function}` loop ({loop.per_call * 1e6:,.0f} us/call "
            f"on {loop.calls:,} calls, scaled) / analyze | {mine.seconds:.2f} s | "
            f"{loop.scaled:,.1f} s | {loop.scaled / mine.seconds:.1f}x (loop / analyze) | |")
    if big:
        lines.append(f"| P4 {args.big} gzip | {big.seconds:,.0f} s, {big.max_rss_mb:,.0f} MB peak | | | <= 3072 MB |")
    # newest first: the new table goes before the first one already there
    block = "\n".join(lines) + "\n\n"
    old = args.results.read_text() if args.results.exists() else ""
    at = old.find("\n## ") + 1 if "\n## " in old else len(old)
    args.results.write_text(old[:at] + block + old[at:])


if __name__ == "__main__":
    sys.exit(main())
