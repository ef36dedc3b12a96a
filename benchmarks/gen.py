"""Realistic synthetic LLM call logs for benchmarks, deterministic from a seed.

    python benchmarks/gen.py --n 200000 -o benchmarks/out/calls.jsonl            # ≈ 750 MB
    python benchmarks/gen.py --n 200000 --strip-usage -o benchmarks/out/nousage.jsonl
    python benchmarks/gen.py --bytes 10G --gzip -o benchmarks/out/big.jsonl.gz

The mix: ~10 models across OpenAI, Anthropic and Google (provider-native usage objects);
Zipf-distributed users; ~20 long system prompts shared by many calls; ~15% exact duplicate
user messages; responses of realistic length; calls spread over several weeks with a
daily rhythm. ``--strip-usage`` leaves the text but no token counts (tokens must then be
counted). Records are the "flat in-house" shape llmcost reads.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

MODELS = [
    # (model, provider, weight, cache style)
    ("gpt-4o-mini", "openai", 22, "openai"),
    ("gpt-4o", "openai", 10, "openai"),
    ("gpt-4.1", "openai", 8, "openai"),
    ("gpt-4.1-mini", "openai", 12, "openai"),
    ("gpt-5-mini", "openai", 8, "openai"),
    ("o4-mini", "openai", 4, "openai"),
    ("claude-sonnet-4-5-20250929", "anthropic", 10, "anthropic"),
    ("claude-haiku-4-5", "anthropic", 12, "anthropic"),
    ("gemini-2.5-flash", "google", 10, "google"),
    ("gemini-2.5-pro", "google", 4, "google"),
]
FEATURES = ["support-chat", "search-summarize", "classify-ticket", "extract-invoice",
            "nightly-summaries", "code-review", "email-draft", "sql-helper"]

WORDS = (
    "the customer account invoice billing plan upgrade refund ticket agent response policy "
    "escalate priority summary search result document page section error timeout retry "
    "database query index schema migration deploy release feature flag rollout user session "
    "token budget latency cache prompt model output format json table field value string "
    "number date time zone region language translate classify extract label intent sentiment "
    "always never must should may please note important context example instruction step "
    "first then finally check verify confirm explain describe list compare recommend reply"
).split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def paragraph(rng: random.Random, words: int) -> str:
    out, total = [], 0
    while total < words:
        k = rng.randint(8, 22)
        out.append(sentence(rng, k))
        total += k
    return " ".join(out)


def usage_for(rng: random.Random, style: str, prompt_tokens: int, output_tokens: int,
              model: str) -> dict:
    cached = prompt_tokens // 2 if rng.random() < 0.3 else 0
    reasoning = output_tokens // 2 if model in ("o4-mini", "gpt-5-mini") else 0
    if style == "openai":
        return {"prompt_tokens": prompt_tokens, "completion_tokens": output_tokens,
                "total_tokens": prompt_tokens + output_tokens,
                "prompt_tokens_details": {"cached_tokens": cached},
                "completion_tokens_details": {"reasoning_tokens": reasoning}}
    if style == "anthropic":
        write = prompt_tokens // 3 if not cached and rng.random() < 0.1 else 0
        return {"input_tokens": prompt_tokens - cached - write, "output_tokens": output_tokens,
                "cache_read_input_tokens": cached, "cache_creation_input_tokens": write}
    thoughts = output_tokens // 3 if model == "gemini-2.5-pro" else 0
    return {"promptTokenCount": prompt_tokens, "candidatesTokenCount": output_tokens - thoughts,
            "thoughtsTokenCount": thoughts, "cachedContentTokenCount": cached,
            "totalTokenCount": prompt_tokens + output_tokens}


class Generator:
    def __init__(self, seed: int, days: int = 28):
        self.rng = random.Random(seed)
        rng = self.rng
        self.start = datetime(2026, 10, 1, tzinfo=timezone.utc)
        self.seconds = days * 86400
        self.system_prompts = [paragraph(rng, rng.randint(130, 380)) for _ in range(20)]
        self.users = [f"u_{i:05d}" for i in range(5000)]
        self.user_cum = list(itertools.accumulate(1 / (i + 1) ** 1.1 for i in range(len(self.users))))
        self.responses = [paragraph(rng, rng.randint(40, 260)) for _ in range(400)]
        self.recent: list[str] = []
        self.model_names = [m[0] for m in MODELS]
        self.model_cum = list(itertools.accumulate(m[2] for m in MODELS))

    def record(self, i: int, strip_usage: bool) -> dict:
        rng = self.rng
        model, provider, _, style = MODELS[rng.choices(range(len(MODELS)), cum_weights=self.model_cum)[0]]
        # daily rhythm: more calls in working hours
        t = rng.random() * self.seconds
        hour = (t % 86400) / 3600
        if hour < 7 and rng.random() < 0.6:
            t += 9 * 3600
        ts = self.start + timedelta(seconds=t)
        if self.recent and rng.random() < 0.15:
            user_msg = rng.choice(self.recent)  # exact duplicate question
        else:
            user_msg = paragraph(rng, rng.randint(20, 160))
            self.recent.append(user_msg)
            if len(self.recent) > 2000:
                self.recent.pop(0)
        system = self.system_prompts[min(int(rng.expovariate(0.25)), 19)]
        response = rng.choice(self.responses)
        prompt_tokens = int((len(system) + len(user_msg)) / 4.2) + 10
        output_tokens = int(len(response) / 4.2) + 1
        rec = {
            "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "request_id": f"req_{i:09d}",
            "provider": provider,
            "model": model,
            "user_id": rng.choices(self.users, cum_weights=self.user_cum)[0] if rng.random() < 0.9 else None,
            "messages": [{"role": "system", "content": system},
                         {"role": "user", "content": user_msg}],
            "response": response,
            "finish_reason": "length" if rng.random() < 0.02 else "stop",
            "status": "error" if rng.random() < 0.01 else "ok",
            "latency_ms": round(rng.lognormvariate(6.5, 0.6), 1),
            "max_tokens": rng.choice([512, 1024, 2048, 4096]),
            "metadata": {"feature": rng.choice(FEATURES), "env": "prod"},
        }
        if not strip_usage:
            rec["usage"] = usage_for(rng, style, prompt_tokens, output_tokens, model)
        return rec


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if text[-1].upper() in units:
        return int(float(text[:-1]) * units[text[-1].upper()])
    return int(text)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000, help="number of calls")
    ap.add_argument("--bytes", type=parse_size, help="write until this size instead of --n")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--strip-usage", action="store_true", help="no token counts in the log")
    ap.add_argument("--gzip", action="store_true", help="gzip the output")
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    gen = Generator(args.seed)
    opener = (lambda p: gzip.open(p, "wt", compresslevel=1)) if args.gzip else (lambda p: p.open("w"))
    written = 0
    i = 0
    with opener(args.output) as out:
        while (written < args.bytes) if args.bytes else (i < args.n):
            line = json.dumps(gen.record(i, args.strip_usage)) + "\n"
            out.write(line)
            written += len(line)
            i += 1
    print(f"{args.output}: {i:,} calls, {written / 1e6:,.0f} MB uncompressed", file=sys.stderr)


if __name__ == "__main__":
    main()
