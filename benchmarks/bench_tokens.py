"""How fast can llmcost count tokens? Three strategies on the same synthetic texts.

Run from the repository root:

    python -m benchmarks.bench_tokens                 # 20,000 texts of 200-3,000 words
    python -m benchmarks.bench_tokens --texts 2000    # quicker

Prints the best of ``--repeat`` runs (strategies interleaved, so a busy machine slows them
alike) and the speed-up of each strategy over one thread:
``encode_ordinary`` in a loop, ``llmcost.tokens.count_texts`` (a thread pool over chunks of
texts; the strategy llmcost uses), and tiktoken's ``encode_ordinary_batch``. All three must agree
on every count.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from llmcost.tokens import ENCODINGS, count_texts, get_encoding

WORDS = (
    "the of and to in is that for it as with was on be by this are from at or an which have not "
    "they but their one all were can there been has more when will would who so if about into "
    "than them some could other time these two may then do first any my now such like our over "
    "even most made after also did many before must through back years where much your way well "
    "down should because each just those people how too little state good very make world still "
    "own see work long get here between both life being under never day same another know while "
    "last might great old year off come since against go came right used take three customer "
    "invoice latency throughput database migration kubernetes deployment authentication "
    "tokenizer embedding retrieval summarize translate refactor function variable parameter "
    "exception asynchronous configuration observability telemetry dashboard pipeline gradient "
    "Zürich naïve café résumé München São Paulo"
).split()
SNIPPETS = (
    "\n```python\ndef {w}(rows, limit=10):\n    return sorted(rows, key=len)[:limit]\n```\n",
    '\n{{"id": 4821, "name": "{w}", "tags": ["alpha", "beta"], "score": 0.75}}\n',
    "\nSELECT {w}, count(*) FROM events WHERE ts > now() - INTERVAL 1 DAY GROUP BY 1;\n",
    "\n- {w}: see https://example.com/docs/{w}?page=2#section\n",
)
BATCH = 1000  # texts per encode_ordinary_batch call


def synthetic_texts(count: int, seed: int) -> list[str]:
    """``count`` texts of 200-3,000 words: prose with numbers, code, JSON, SQL and links."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = []
        for word in rng.choices(WORDS, k=rng.randint(200, 3000)):
            parts.append(word)
            roll = rng.random()
            if roll < 0.01:
                parts.append(".\n\n")
            elif roll < 0.06:
                parts.append(". ")
            elif roll < 0.09:
                parts.append(", ")
            elif roll < 0.093:
                parts.append(rng.choice(SNIPPETS).format(w=word))
            elif roll < 0.097:
                parts.append(f" {rng.randint(0, 99_999)} ")
            else:
                parts.append(" ")
        texts.append("".join(parts))
    return texts


def one_thread(texts: list[str], encoding: str, threads: int) -> list[int]:
    enc = get_encoding(encoding)
    return [len(enc.encode_ordinary(text)) for text in texts]


def thread_pool(texts: list[str], encoding: str, threads: int) -> list[int]:
    return count_texts(texts, encoding, threads=threads)


def tiktoken_batch(texts: list[str], encoding: str, threads: int) -> list[int]:
    enc = get_encoding(encoding)
    return [
        len(ids)
        for start in range(0, len(texts), BATCH)  # bounded: token ids are held per call
        for ids in enc.encode_ordinary_batch(texts[start : start + BATCH], num_threads=threads)
    ]


STRATEGIES: dict[str, Callable[[list[str], str, int], list[int]]] = {
    "encode_ordinary, 1 thread": one_thread,
    "count_texts (thread pool)": thread_pool,
    "encode_ordinary_batch": tiktoken_batch,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20_000, help="number of texts")
    parser.add_argument("--threads", type=int, default=2, help="threads for the parallel runs")
    parser.add_argument("--repeat", type=int, default=3, help="runs per strategy; best counts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--encoding", choices=ENCODINGS, help="only this one (default: all)")
    args = parser.parse_args()

    started = time.perf_counter()
    texts = synthetic_texts(args.texts, args.seed)
    seconds = time.perf_counter() - started
    print(f"{len(texts)} texts, {sum(map(len, texts)) / 1e6:.0f} MB, generated in {seconds:.1f}s")
    print(f"parallel runs use {args.threads} threads")

    for encoding in [args.encoding] if args.encoding else ENCODINGS:
        get_encoding(encoding)  # load outside the timings
        best = dict.fromkeys(STRATEGIES, float("inf"))
        results = {}
        for _ in range(args.repeat):
            for label, strategy in STRATEGIES.items():
                started = time.perf_counter()
                results[label] = strategy(texts, encoding, args.threads)
                best[label] = min(best[label], time.perf_counter() - started)
        baseline = results["encode_ordinary, 1 thread"]
        assert all(counts == baseline for counts in results.values())
        print(f"\n{encoding}: {sum(baseline) / 1e6:.1f}M tokens")
        for label, seconds in best.items():
            speedup = best["encode_ordinary, 1 thread"] / seconds
            print(f"  {label:<28} {seconds:6.2f}s   x{speedup:.2f}")


if __name__ == "__main__":
    main()
