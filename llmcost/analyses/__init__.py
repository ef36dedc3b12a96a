"""Analyses: each module registers a function ``(con, ctx) -> dict`` over the ``calls`` view.

``calls`` is ``priced`` restricted to the report window. Analyses run SQL and return plain,
JSON-ready results; they know nothing about input formats or rendering.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class Context:
    top: int = 10
    book: object = None  # the PriceBook
    rejected: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    options: object = None  # the report's Options (attribution views read --by/--period)
    config: object = None  # the loaded llmcost.yaml (config.Config); None: not loaded yet
    savings: list = field(default_factory=list)  # per-call saving offers (analyses.savings)
    memo: dict = field(default_factory=dict)  # per-run tables shared between analyses


@dataclass(frozen=True)
class Analysis:
    name: str
    title: str
    run: Callable[..., object]
    order: int = 50


_ANALYSES: dict[str, Analysis] = {}

BUILTIN_MODULES = [
    "llmcost.analyses.summary",
    "llmcost.analyses.breakdown",
    "llmcost.analyses.expensive",
    "llmcost.analyses.peaks",
    "llmcost.analyses.cache",
    "llmcost.analyses.downgrade",
    "llmcost.analyses.batch",
    "llmcost.analyses.waste",
    "llmcost.analyses.bloat",
    "llmcost.analyses.anomalies",
    "llmcost.analyses.selfhost",
    "llmcost.analyses.savings",
    "llmcost.analyses.buckets",
    "llmcost.analyses.problems",
    "llmcost.analyses.limits",
    "llmcost.analyses.attribution",
    "llmcost.analyses.audit",
]


def register(name: str, title: str, order: int = 50):
    def wrap(fn):
        _ANALYSES[name] = Analysis(name, title, fn, order)
        return fn

    return wrap


def analyses() -> list[Analysis]:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    return sorted(_ANALYSES.values(), key=lambda a: a.order)


def usd(value) -> float | None:
    """A DECIMAL cost as a JSON number (micro-dollar precision is far below a cent)."""
    if value is None:
        return None
    return float(round(Decimal(value), 9))


def line_usd(value, calls: int) -> float | None:
    """The amount of a savings or waste line of ``calls`` calls, from the sum() of their
    costs: None when it has calls and none of them has a cost (unpriced, or without token
    counts: the amount is unknown, and "$0.00 + 1 unpriced" read as a saving of $0), $0
    when it has no call at all (nothing to save)."""
    if value is None:
        return None if calls else 0.0
    return usd(value)


def rows(con, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def zone(ctx) -> str:
    """The time zone of the report's days and hours: ``llmcost report --tz`` (UTC else)."""
    return getattr(getattr(ctx, "options", None), "tz", None) or "UTC"


def local_ts(ctx, column: str = "ts") -> str:
    """SQL for ``column`` as a wall-clock TIMESTAMP in the report's zone (``zone``): its
    CAST AS DATE, hour() and isodow() are that zone's. UTC: the column itself (the session
    zone, store.connect's, is UTC). The zone is an IANA name checked by periods.zone."""
    name = zone(ctx)
    if name == "UTC":
        return column
    return f"timezone('{name.replace(chr(39), '')}', {column})"


def local_iso(ctx, value) -> str | None:
    """An instant (an aware datetime from DuckDB) as ISO 8601 with the offset of the
    report's zone (``zone``): the same instant, its date and hour those of --tz."""
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(zone(ctx))).isoformat()
