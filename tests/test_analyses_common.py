"""Helpers for the savings-analysis tests: crafted log records and a report on them.

Prices (tests/data/analyses/*.yaml), USD per million tokens: big-model in 10 / out 20 /
cache read 1 / batch half (cheaper sibling small-model in 1 / out 2); other-model 5 / 5 (no
batch, no cache price); claude-sonnet-4-5 in 10 / out 50 / read 1 / write 12.5 / write-1h 20.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from llmcost.report import analyze

HERE = Path(__file__).parent / "data" / "analyses"
PRICES = [HERE / "prices.yaml", HERE / "anthropic.yaml"]
T0 = dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)  # a Monday
M = 1e-6  # one token at $1 per million


def at(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def call(
    t: float,
    *,
    model: str = "big-model",
    provider: str = "openai",
    user: str | None = "u1",
    session: str | None = None,
    feature: str | None = None,
    system: str | None = None,
    text: str = "hello",
    messages: list | None = None,
    inp: int = 1000,
    out: int = 100,
    cached: int = 0,
    written: int = 0,
    reasoning: int = 0,
    status: str = "ok",
    finish: str | None = "stop",
    max_tokens: int | None = None,
    tier: str | None = None,
) -> dict:
    """One call in the flat in-house shape; ``inp`` is ALL input tokens (cache included)."""
    if messages is None:
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": text}
        ]
    if provider == "anthropic":
        usage = {
            "input_tokens": inp - cached - written,
            "cache_read_input_tokens": cached,
            "cache_creation_input_tokens": written,
            "output_tokens": out,
        }
    else:
        usage = {
            "prompt_tokens": inp,
            "completion_tokens": out,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        }
    record = {
        "timestamp": at(t),
        "provider": provider,
        "model": model,
        "user_id": user,
        "session_id": session,
        "messages": messages,
        "response": None if status == "error" else "ok",
        "usage": usage,
        "finish_reason": finish,
        "status": status,
        "max_tokens": max_tokens,
        "metadata": {"feature": feature} if feature else {},
    }
    if tier:
        record["service_tier"] = tier
    return record


def report(jsonl, records: list[dict], config: str | None = None, **kwargs) -> dict:
    """The JSON report of ``records`` at the test prices (``config``: llmcost.yaml text,
    written to the working directory, which the test fixture isolates)."""
    if config is not None:
        Path("llmcost.yaml").write_text(config)
    return analyze([jsonl(records)], pricing=PRICES, **kwargs)


def offered(rep: dict, kind: str) -> dict | None:
    return next((s for s in rep["savings"] if s["kind"] == kind), None)
