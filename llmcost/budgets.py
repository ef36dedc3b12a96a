"""Budget policies (``llmcost check``), period alerts (``llmcost report``), report diffs.

Everything here is a pure function over report dicts (what ``analyze --format json``
prints): policies come from flags or the ``budgets:`` / ``alerts:`` sections of
``llmcost.yaml``, and each rule yields a row with its limit, the actual value and a status.

A rule is breached when the actual value is strictly above its limit. Rules of the ``warn``
level never fail a run; a breached ``fail`` rule makes ``check`` exit 1.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from llmcost import config
from llmcost.attribution import rest_of
from llmcost.errors import UsageError
from llmcost.render import overlay_names, plural
from llmcost.yamlio import line_of

EACH = "*"  # in per_model/per_feature/per_user: the limit for every name not listed

# A change in dollars from less than this reads as where it came from, not as a percentage
# ("+15052756.7%" from $0.000059 is right arithmetic and says nothing a reader can use), and
# a day's rise from less than this is no percent rise: see day_over_day.
SMALL_BASE_USD = 0.01

TOP_MODELS = 5  # the models a check lists; the others are summed on one row


@dataclass(frozen=True)
class Limits:
    """One level of limits (fail or warn). ``None`` = no such rule."""

    max_cost: float | None = None
    max_daily_cost: float | None = None
    max_request_cost: float | None = None
    max_increase_pct: float | None = None
    per_model: dict[str, float] = field(default_factory=dict)
    per_feature: dict[str, float] = field(default_factory=dict)
    per_user: dict[str, float] = field(default_factory=dict)

    def empty(self) -> bool:
        return all(getattr(self, f.name) in (None, {}) for f in fields(self))

    def merged(self, other: Limits) -> Limits:
        """``other``'s rules win where it has one (flags over config)."""
        changes = {}
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, dict):
                changes[f.name] = {**mine, **theirs}
            elif theirs is not None:
                changes[f.name] = theirs
        return replace(self, **changes)


@dataclass(frozen=True)
class Policy:
    fail: Limits = field(default_factory=Limits)
    warn: Limits = field(default_factory=Limits)
    fail_on_unpriced: bool = False

    def empty(self) -> bool:
        return self.fail.empty() and self.warn.empty() and not self.fail_on_unpriced

    def merged(self, other: Policy) -> Policy:
        return Policy(
            self.fail.merged(other.fail),
            self.warn.merged(other.warn),
            self.fail_on_unpriced or other.fail_on_unpriced,
        )

    @property
    def needs_baseline(self) -> bool:
        return self.fail.max_increase_pct is not None or self.warn.max_increase_pct is not None


@dataclass(frozen=True)
class Alerts:
    """``llmcost report`` thresholds: any alert raised makes it exit 1."""

    max_cost: float | None = None  # period cost above this
    max_day_over_day_pct: float | None = None  # one day's cost up more than this on the day before
    anomalies: bool = False  # any finding of the `anomalies` analysis

    def merged(self, other: Alerts) -> Alerts:
        return Alerts(
            other.max_cost if other.max_cost is not None else self.max_cost,
            other.max_day_over_day_pct
            if other.max_day_over_day_pct is not None
            else self.max_day_over_day_pct,
            self.anomalies or other.anomalies,
        )


# ---------------------------------------------------------------- llmcost.yaml sections

_AMOUNTS = ("max_cost", "max_daily_cost", "max_request_cost", "max_increase_pct")
_PER = ("per_model", "per_feature", "per_user")
BUDGET_KEYS = {*_AMOUNTS, *_PER, "warn", "fail_on_unpriced"}
WARN_KEYS = {*_AMOUNTS, *_PER}
ALERT_KEYS = {"max_cost", "max_day_over_day_pct", "anomalies"}


def _number(mapping, key, fail, where: str) -> float:
    value = mapping[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        fail(line_of(mapping, key), f"{where}{key} must be a number ≥ 0, not {value!r}")
    if not math.isfinite(value):
        fail(line_of(mapping, key), f"{where}{key} must be a finite number")
    return float(value)


def _limits(mapping, fail, where: str, allowed: set[str]) -> Limits:
    config.check_keys(mapping, allowed, fail, where.rstrip(".") or "budgets")
    values: dict = {}
    for key in _AMOUNTS:
        if key in mapping:
            values[key] = _number(mapping, key, fail, where)
    for key in _PER:
        if key not in mapping:
            continue
        per = mapping[key]
        if not isinstance(per, dict):
            fail(line_of(mapping, key), f"{where}{key} must map names to amounts in USD")
        values[key] = {str(name): _number(per, name, fail, f"{where}{key}.") for name in per}
    return Limits(**values)


@config.section("budgets")
def budgets_section(value, fail) -> Policy:
    """``budgets:`` — the rules ``llmcost check`` enforces (see the README)."""
    if value is None:
        return Policy()
    if not isinstance(value, dict):
        fail(line_of(value), "budgets must be a mapping of rules")
    fail_limits = _limits(value, fail, "budgets.", BUDGET_KEYS)
    warn = Limits()
    if "warn" in value:
        if not isinstance(value["warn"], dict):
            fail(line_of(value, "warn"), "budgets.warn must be a mapping of rules")
        warn = _limits(value["warn"], fail, "budgets.warn.", WARN_KEYS)
    strict = value.get("fail_on_unpriced", False)
    if not isinstance(strict, bool):
        fail(line_of(value, "fail_on_unpriced"), "budgets.fail_on_unpriced must be true or false")
    return Policy(fail_limits, warn, strict)


@config.section("alerts")
def alerts_section(value, fail) -> Alerts:
    """``alerts:`` — thresholds that make ``llmcost report`` exit 1."""
    if value is None:
        return Alerts()
    config.check_keys(value, ALERT_KEYS, fail, "alerts")
    out = {
        k: _number(value, k, fail, "alerts.")
        for k in ("max_cost", "max_day_over_day_pct")
        if k in value
    }
    if "anomalies" in value:
        if not isinstance(value["anomalies"], bool):
            fail(line_of(value, "anomalies"), "alerts.anomalies must be true or false")
        out["anomalies"] = value["anomalies"]
    return Alerts(**out)


def parse_named(values: list[str] | None, option: str) -> dict[str, float]:
    """``--max-model-cost gpt-4o=50`` (repeatable) → ``{"gpt-4o": 50.0}``."""
    out: dict[str, float] = {}
    for raw in values or []:
        name, sep, amount = raw.rpartition("=")
        try:
            number = float(amount)
        except ValueError:
            number = -1.0
        if not sep or not name or not number >= 0 or not math.isfinite(number):
            raise UsageError(
                f"{option} {raw!r} is not NAME=USD",
                hint=f"e.g. {option} gpt-4o=50, or {option} '*=5' for each one not named",
            )
        out[name] = number
    return out


# ---------------------------------------------------------------- reading reports


def load_report(path: Path, what: str = "report") -> dict:
    """A report written by ``llmcost analyze --format json`` (a baseline, a diff side)."""
    hint = "write one with `llmcost analyze LOGS --format json -o FILE`"
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such {what} file", hint=hint) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the {what}: {exc}", hint=hint) from None
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path}:{exc.lineno}: the {what} is not JSON ({exc.msg})", hint=hint
        ) from None
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("summary"), dict)
        or "total_cost_usd" not in doc["summary"]
        or not isinstance(doc.get("by_model"), list)
    ):
        raise UsageError(f"{path}: not an llmcost JSON report (no summary/by_model)", hint=hint)
    return doc


# ---------------------------------------------------------------- evaluating a policy


def _rule(rule, title, scope, level, limit, actual, unit, detail="", known=True) -> dict:
    if not known:
        status = "unknown"
    elif actual is not None and actual > limit + 1e-12:
        status = level
    else:
        status = "ok"
    return {
        "rule": rule,
        "title": title,
        "scope": scope,
        "level": level,
        "limit": limit,
        "actual": actual,
        "unit": unit,
        "status": status,
        "detail": detail,
    }


def _named_costs(items: list[dict], key: str) -> dict[str | None, float]:
    out: dict[str | None, float] = {}
    for item in items:
        out[item[key]] = out.get(item[key], 0.0) + (item.get("cost_usd") or 0.0)
    return out


def _per_rules(kind, level, limits, items, key, aliases, truncated) -> list[dict]:
    """Rules for per_model / per_feature / per_user: one per name, one for ``*``.

    ``items`` are the report's cost rows of that kind (by_model, limits' by_feature or
    by_user). A name's actual is the cost of its calls with one; a name none of whose calls
    has a cost (unpriced models, or a priced model's calls without token counts) has no
    actual: unknown, never a pass at $0. The detail says which calls are in no cost."""
    costs = _named_costs(items, key)
    costed = {item[key] for item in items if _costed(item)}
    unpriced = _unpriced_calls(items, key)
    unknown = _unknown_token_calls(items, key)
    title = {"model": "Model cost", "feature": "Feature cost", "user": "User cost"}[kind]
    out = []
    named = [n for n in limits if n != EACH]
    covered: set = set()
    for name in named:
        keys = {k for k in costs if k == name or aliases.get(k) == name}
        covered |= keys
        actual = round(sum(costs[k] for k in keys), 9)
        known = bool(keys) or not truncated
        detail = (
            "" if keys else f"no calls of this {kind}" if known else f"not among the listed {kind}s"
        )
        if len(keys) > 1 or (keys and keys != {name}):
            detail = "as " + ", ".join(sorted(str(k) for k in keys))
        without = _uncosted_kinds(
            sum(unpriced.get(k, 0) for k in keys), sum(unknown.get(k, 0) for k in keys)
        )
        if keys and not keys & costed:  # no call of it has a cost: unknown, not $0
            actual, known = None, False
            detail += f"{'; ' if detail else ''}no cost known: {without or 'no call with a cost'}"
        elif without:  # the actual is their costed calls' cost: never read as the whole
            detail += f"{'; ' if detail else ''}{without}, not in it"
        out.append(
            _rule(f"per_{kind}", title, name, level, limits[name], actual, "usd", detail, known)
        )
    if EACH in limits:
        limit = limits[EACH]
        # a name none of whose calls has a cost is no name's highest, nor under the limit:
        # said apart (as a day of no call with a cost is no day's maximum)
        uncosted = sorted(
            str(k) for k in costs if k is not None and k not in covered and k not in costed
        )
        rest = sorted(
            (
                (k, v)
                for k, v in costs.items()
                if k is not None and k not in covered and k in costed
            ),
            key=lambda kv: (-kv[1], str(kv[0])),
        )
        above = [(k, v) for k, v in rest if v > limit + 1e-12]
        worst = rest[0] if rest else None
        if above:
            shown = ", ".join(f"{k} ({_usd(v)})" for k, v in above[:5])
            more = f" and {len(above) - 5} more" if len(above) > 5 else ""
            detail = f"{len(above)} above: {shown}{more}"
        elif worst:
            detail = f"highest: {worst[0]}"
        else:
            detail = f"no {kind}s" if not uncosted else f"no {kind} with a cost"
        if uncosted:
            more = f" and {len(uncosted) - 5} more" if len(uncosted) > 5 else ""
            detail += f"; no cost known of {', '.join(uncosted[:5])}{more}"
        out.append(
            _rule(
                f"per_{kind}",
                title,
                f"each {kind}" + (" not named" if named else ""),
                level,
                limit,
                round(worst[1], 9) if worst else 0.0,
                "usd",
                detail,
            )
        )
    return out


def _uncosted_kinds(unpriced: int, unknown: int) -> str:
    """'1 call without a price and 2 without token counts': the calls in no cost, by why."""
    kinds = [f"{plural(unpriced, 'call')} without a price"] if unpriced else []
    if unknown:
        kinds.append(f"{f'{unknown:,}' if kinds else plural(unknown, 'call')} without token counts")
    return " and ".join(kinds)


def _usd(value: float | None, beside: float | None = None) -> str:
    from llmcost.render import money_beside

    return money_beside(value, beside)


def evaluate(
    report: dict, policy: Policy, baseline: dict | None = None, top: int = TOP_MODELS
) -> dict:
    """Every rule of ``policy`` checked against ``report`` (and ``baseline``), JSON-ready.

    Returns ``{"status": ok|warn|fail, "rules": [...], "total_cost_usd", ...}``.
    """
    if policy.needs_baseline and baseline is None:
        raise UsageError(
            "--max-increase (budgets.max_increase_pct) needs a baseline report",
            hint="give --baseline report.json, written by `llmcost analyze --format json`",
        )
    s = report["summary"]
    limits = report.get("limits") or {}
    by_day = report.get("by_day") or []
    # a day whose calls all lack a price has no cost (null, not $0): it is no day's maximum
    priced_days = [d for d in by_day if d["cost_usd"] is not None]
    max_day = max(priced_days, key=lambda d: (d["cost_usd"], d["day"]), default=None)
    max_req = limits.get("max_request")
    model_alias = {m["model"]: m.get("priced_as") for m in report["by_model"]}
    truncated = limits.get("truncated") or {}
    increase = None
    # a total of no call with a cost is unknown (null, never $0): no rule on it holds or fails
    total_known = s["total_cost_usd"] is not None
    base_known = baseline is not None and baseline["summary"]["total_cost_usd"] is not None
    if baseline is not None and total_known and base_known:
        base, head = baseline["summary"]["total_cost_usd"], s["total_cost_usd"]
        increase = _pct(base, head)

    rules: list[dict] = []
    for level, lim in (("fail", policy.fail), ("warn", policy.warn)):
        if lim.max_cost is not None:
            rules.append(
                _rule(
                    "max_cost",
                    "Total cost",
                    "all calls",
                    level,
                    lim.max_cost,
                    s["total_cost_usd"],
                    "usd",
                    plural(s["requests"], "call")
                    + (_not_in_total(s) if total_known else ", none with a cost"),
                    known=total_known,
                )
            )
        if lim.max_daily_cost is not None:
            # how many days broke it, not only the costliest: on a 180-day log, '2026-07-22'
            # alone read as one bad day where 96 were above the limit
            above = sum(d["cost_usd"] > lim.max_daily_cost + 1e-12 for d in priced_days)
            rules.append(
                _rule(
                    "max_daily_cost",
                    "Daily cost",
                    "costliest day (UTC)",
                    level,
                    lim.max_daily_cost,
                    max_day["cost_usd"] if max_day else None,
                    "usd",
                    (
                        max_day["day"]
                        + (f"; {above} of {len(priced_days)} days above" if above > 1 else "")
                    )
                    if max_day
                    else "no day has a priced call"
                    if by_day
                    else "no call has a timestamp",
                    known=max_day is not None,
                )
            )
        if lim.max_request_cost is not None:
            detail = ""
            if max_req:
                detail = f"{max_req['model']}, {_short(max_req['source'])}:{max_req['line']}"
            rules.append(
                _rule(
                    "max_request_cost",
                    "Request cost",
                    "costliest call",
                    level,
                    lim.max_request_cost,
                    max_req["cost_usd"] if max_req else 0.0,
                    "usd",
                    detail,
                )
            )
        if lim.max_increase_pct is not None:
            base = baseline["summary"]["total_cost_usd"]
            grew_from_zero = total_known and base == 0 and s["total_cost_usd"] > 0
            rule = _rule(
                "max_increase_pct",
                "Increase vs baseline",
                "total cost",
                level,
                lim.max_increase_pct,
                increase,
                "pct",
                f"{_total_usd(baseline['summary'])} → {_total_usd(s)}",
                known=total_known and base_known,
            )
            if grew_from_zero:  # +∞ %: from nothing to something is above any limit
                rule["status"], rule["detail"] = level, rule["detail"] + " (baseline $0)"
            rules.append(rule)
        rules += _per_rules(
            "model", level, lim.per_model, report["by_model"], "model", model_alias, False
        )
        rules += _per_rules(
            "feature",
            level,
            lim.per_feature,
            limits.get("by_feature") or [],
            "feature",
            {},
            truncated.get("by_feature"),
        )
        rules += _per_rules(
            "user",
            level,
            lim.per_user,
            limits.get("by_user") or [],
            "user_id",
            {},
            truncated.get("by_user"),
        )

    uncosted = uncosted_calls(s)
    unpriced = s.get("unpriced_requests", 0)
    if uncosted or policy.fail_on_unpriced:
        names = ", ".join(u["model"] for u in (report.get("unpriced_models") or [])[:5])
        no_tokens = uncosted - unpriced  # a priced model's calls without token counts
        if no_tokens:
            names += f"{' and ' if names else ''}{plural(no_tokens, 'call')} without token counts"
        rule = _rule(
            "fail_on_unpriced",
            "Calls without a price",
            "all calls",
            "fail" if policy.fail_on_unpriced else "warn",
            0,
            uncosted,
            "calls",
            names,
        )
        rules.append(rule)

    statuses = {r["status"] for r in rules}
    status = "fail" if "fail" in statuses else "warn" if statuses & {"warn", "unknown"} else "ok"
    return {
        # which llmcost and which tables priced the verdict (as in the report it checked)
        "llmcost_version": report.get("llmcost_version"),
        "pricing_version": report.get("pricing_version"),
        "pricing_overlays": report.get("pricing_overlays") or [],
        "status": status,
        "rules": rules,
        "breached": sum(r["status"] == "fail" for r in rules),
        "warnings": sum(r["status"] in ("warn", "unknown") for r in rules),
        "total_cost_usd": s["total_cost_usd"],
        "requests": s["requests"],
        # the calls in no cost, never read as $0: of models without a price, and of priced
        # models without token counts (but failed calls without usage: not billed)
        "unpriced_requests": unpriced,
        "unknown_token_requests": uncosted - unpriced,
        "first_ts": s.get("first_ts"),
        "last_ts": s.get("last_ts"),
        "top_models": [_top_model(m) for m in report["by_model"][:top]],
        # how many models there are, and the rest summed: a log of 25 models listed 5 and
        # said nothing of the 20 others (None: none left out)
        "models": len(report["by_model"]),
        "other_models": _other_models(report["by_model"][top:]),
        "baseline": compare(baseline, report, top=10) if baseline is not None else None,
        # what the check could not see: lines rejected, files cut short or not read
        "rejected": (report.get("rejected") or {}).get("count", 0),
        # of every rejected line stored: a window counts those it dates among its calls
        "rejected_in_store": (report.get("rejected") or {}).get("in_store"),
        "rejected_window": bool((report.get("rejected") or {}).get("period")),
        "notes": list(report.get("notes") or []),
    }


def _other_models(rest: list[dict]) -> dict | None:
    """The models past the check's Top models, summed as a row of them is: calls, cost and
    share (None when none of them has a cost: unpriced, never $0), and the calls in no cost
    (``attribution.rest_of``)."""
    if not rest:
        return None
    other = rest_of(rest)
    if other["cost_usd"] is not None:  # (to the nano-dollar, as by_model's costs are)
        other["cost_usd"] = round(other["cost_usd"], 9)
    return {k: other.get(k) for k in _TOP_MODEL_KEYS if k not in ("model", "provider")}


_TOP_MODEL_KEYS = (
    "model",
    "provider",
    "requests",
    "cost_usd",
    "share",
    "unpriced_requests",
    "unknown_token_requests",
)


def _top_model(m: dict) -> dict:
    """A row of the check's Top models. Its calls without a cost are counted as the total's
    line counts them (``uncosted_calls``): by_model's ``unknown_token_requests`` leaves out a
    rate-limited call without usage (not billed) unless the model has no other call, so that
    a row does not read '$1.40 + 1 without tokens' under a total of '$1.40'."""
    return {k: m.get(k) for k in _TOP_MODEL_KEYS}


def uncosted_calls(summary: dict) -> int:
    """Calls a total has no cost of: calls of unpriced models and calls without token counts,
    but for failed calls whose log has no usage (an error before any token was processed is
    not billed: a rate-limited call is no call without a price)."""
    return (
        summary.get("unpriced_requests", 0)
        + summary.get("unknown_token_requests", 0)
        - summary.get("error_unknown_token_requests", 0)
    )


def _total_usd(summary: dict) -> str:
    """A report's total for a rule's detail: 'unknown' when no call of it has a cost."""
    if summary["total_cost_usd"] is None:
        return "unknown"
    return _usd(summary["total_cost_usd"])


def uncosted_text(summary: dict) -> str:
    """'1 without a price and 2 without token counts': the calls a total has no cost of, by
    why ('' when none), as ``uncosted_calls`` counts them."""
    unpriced = summary.get("unpriced_requests", 0)
    unknown = uncosted_calls(summary) - unpriced
    kinds = [f"{unpriced:,} without a price"] if unpriced else []
    if unknown:
        kinds.append(f"{unknown:,} without token counts")
    return " and ".join(kinds)


def _not_in_total(summary: dict) -> str:
    """'; 20 without a price, not in it': the calls of a total that none of its cost is of."""
    text = uncosted_text(summary)
    return f"; {text}, not in it" if text else ""


def _short(path: str | None) -> str:
    return (path or "?").rsplit("/", 1)[-1]


def _pct(base: float | None, head: float | None) -> float | None:
    """Percent change; None when the base is zero (from nothing, any change is infinite)."""
    base, head = base or 0.0, head or 0.0
    if base == 0:
        return 0.0 if head == 0 else None
    return round((head - base) / base * 100, 6)


# ---------------------------------------------------------------- diffs between reports


def _unpriced_calls(items: list[dict], key: str) -> dict[str | None, int]:
    """Calls without a price per name: a cost row's ``unpriced_requests``, or all the calls
    of a row whose cost is None (a model without a price)."""
    out: dict[str | None, int] = {}
    for item in items:
        n = item.get("unpriced_requests")
        if n is None:
            n = item.get("requests", 0) if item.get("cost_usd") is None else 0
        out[item[key]] = out.get(item[key], 0) + n
    return out


def _unknown_token_calls(items: list[dict], key: str) -> dict[str | None, int]:
    """Calls of a priced model without token counts per name (a row's
    ``unknown_token_requests``; by_model's rows of reports before it had the count have
    none, and their rows of such calls only count them among the unpriced calls)."""
    out: dict[str | None, int] = {}
    for item in items:
        out[item[key]] = out.get(item[key], 0) + (item.get("unknown_token_requests") or 0)
    return out


def _named_calls(items: list[dict], key: str) -> dict[str | None, int]:
    """Calls per name, summed as ``_named_costs`` sums costs: a model of two providers
    (gpt-4o from openai and from azure) is two rows of the report, and the last one's calls
    stood for both ('1 → 1' of 3 calls)."""
    out: dict[str | None, int] = {}
    for item in items:
        out[item[key]] = out.get(item[key], 0) + (item.get("requests") or 0)
    return out


def _costed(item: dict) -> bool:
    """Whether a cost row holds a call with a cost: a row whose calls all lack one has a
    null cost (by_feature and by_user of older reports gave it $0, and said how many calls
    had no price, ``unpriced_requests``, or no token counts, ``unknown_token_requests``)."""
    uncosted = (item.get("unpriced_requests") or 0) + (item.get("unknown_token_requests") or 0)
    requests = item.get("requests")  # (a row without a count of calls: its cost says it)
    return item.get("cost_usd") is not None and (requests is None or requests > uncosted)


def _side_usd(costs: dict, costed: set, name) -> float | None:
    """A name's cost on one side: $0 when it had no call there (nothing was spent), None
    when its calls all lack a cost (unknown, never $0), else the cost of those with one."""
    if name not in costs:
        return 0.0
    return round(costs[name], 9) if name in costed else None


def _diff_rows(base: list[dict], head: list[dict], key: str, top: int | None) -> dict:
    """Rows per name; the costs are those of priced calls, and ``*_unpriced_requests`` say
    how many calls had no price (they are in no cost, never $0). A side whose calls all
    lack a cost has none (null, 'unpriced'), and the row no change (null): an unknown cost
    is never $0, nor its difference a saving."""
    b, h = _named_costs(base, key), _named_costs(head, key)
    b_costed = {item[key] for item in base if _costed(item)}
    h_costed = {item[key] for item in head if _costed(item)}
    b_calls, h_calls = _named_calls(base, key), _named_calls(head, key)
    b_unpriced, h_unpriced = _unpriced_calls(base, key), _unpriced_calls(head, key)
    b_unknown, h_unknown = _unknown_token_calls(base, key), _unknown_token_calls(head, key)
    rows = []
    for name in set(b) | set(h):
        bv, hv = _side_usd(b, b_costed, name), _side_usd(h, h_costed, name)
        known = bv is not None and hv is not None
        rows.append(
            {
                key: name,
                "base_usd": bv,
                "head_usd": hv,
                "change_usd": round(hv - bv, 9) if known else None,
                "change_pct": _pct(bv, hv) if known else None,
                "base_requests": b_calls.get(name, 0),
                "head_requests": h_calls.get(name, 0),
                "state": "new" if name not in b else "gone" if name not in h else "",
                "base_unpriced_requests": b_unpriced.get(name, 0),
                "head_unpriced_requests": h_unpriced.get(name, 0),
                # a priced model's calls without token counts (by_feature and by_user)
                "base_unknown_token_requests": b_unknown.get(name, 0),
                "head_unknown_token_requests": h_unknown.get(name, 0),
            }
        )
    rows.sort(key=lambda r: (-abs(r["change_usd"] or 0), -(r["head_usd"] or 0), str(r[key])))
    shown = rows if top is None else rows[:top]
    return {"rows": shown, "more": len(rows) - len(shown)}


def compare(base: dict, head: dict, top: int | None = 10) -> dict:
    """Cost change from report ``base`` to report ``head``: total, calls, and the top movers by
    model, feature and user (by absolute change in dollars)."""
    bs, hs = base["summary"], head["summary"]
    bt, ht = bs["total_cost_usd"], hs["total_cost_usd"]
    # a side of no call with a cost has no total (null): no change from or to it either
    known = bt is not None and ht is not None
    out = {
        "total": {
            "base_usd": bt,
            "head_usd": ht,
            "change_usd": round(ht - bt, 9) if known else None,
            "change_pct": _pct(bt, ht) if known else None,
        },
        "requests": {
            "base": bs["requests"],
            "head": hs["requests"],
            "change": hs["requests"] - bs["requests"],
            "change_pct": _pct(bs["requests"], hs["requests"]),
        },
        "by_model": _diff_rows(base["by_model"], head["by_model"], "model", top),
        "notes": [],
    }
    bl, hl = base.get("limits"), head.get("limits")
    for name, key in (("by_feature", "feature"), ("by_user", "user_id")):
        if bl and hl:
            out[name] = _diff_rows(bl.get(name) or [], hl.get(name) or [], key, top)
        else:
            out[name] = None
    if not (bl and hl):
        out["notes"].append(
            "a report predates per-feature and per-user costs: only models are compared"
        )
    for side, summary in (("before", bs), ("after", hs)):
        # a call with no token counts has no cost either, as check and report count it; said
        # apart from the calls without a price (its model has one), as the rows say them
        uncosted = uncosted_calls(summary)
        unpriced = summary.get("unpriced_requests", 0)
        unknown = uncosted - unpriced
        if uncosted:
            out["notes"].append(
                f"{side}: {_uncosted_kinds(unpriced, unknown)}, not counted in these costs"
            )
    if base.get("pricing_version") != head.get("pricing_version"):
        out["notes"].append(
            f"priced with different tables ({base.get('pricing_version')} vs "
            f"{head.get('pricing_version')}): some change may come from prices"
        )
    if (base.get("pricing_overlays") or []) != (head.get("pricing_overlays") or []):
        out["notes"].append(
            f"priced with different prices of your own ({overlay_names(base) or 'none'} vs "
            f"{overlay_names(head) or 'none'}): some change may come from prices"
        )
    return out


# ---------------------------------------------------------------- period alerts


def day_over_day(daily: list[dict], first_day: str) -> dict | None:
    """The largest rise of one day's cost over the day before, for days from ``first_day``.

    ``daily`` lists ``{"day", "cost_usd"}`` (ISO dates, any order, missing days = $0),
    including the day before ``first_day``. Days after a $0 day have no percentage and are
    skipped, as are a day whose calls all lack a cost (null: unknown, not $0) and the day
    after it: no rise is known to or from it.

    The largest rise is by percent among the days whose day before cost SMALL_BASE_USD or
    more: a day of $0.40 after one of $0.000059 (+677,866%) is no measure of a change, and
    never outranks a real rise. When no such day rose, it is the largest rise in dollars
    after a day of less (``small_base``: true), which no percent alert fires on.
    """
    import datetime as dt

    costs = {d["day"]: d["cost_usd"] for d in daily}
    real, small = [], []
    for day in sorted(costs):
        if day < first_day or costs[day] is None:
            continue
        before = (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()
        prev = costs.get(before, 0.0)
        if prev is None or prev <= 0:
            continue
        entry = {
            "day": day,
            "cost_usd": costs[day],
            "previous_day": before,
            "previous_cost_usd": prev,
            "change_pct": round((costs[day] - prev) / prev * 100, 6),
            "small_base": prev < SMALL_BASE_USD,  # no percent rise: see above
        }
        (small if entry["small_base"] else real).append(entry)
    # max() keeps the earliest of equals, as the loop before it did
    best = max(real, key=lambda e: e["change_pct"], default=None)
    rise = max(small, key=lambda e: e["cost_usd"] - e["previous_cost_usd"], default=None)
    if best is not None and (best["change_pct"] > 0 or rise is None or rise["change_pct"] <= 0):
        return best
    return rise or best


def anomaly_items(report: dict) -> list[dict]:
    """The findings of an ``anomalies`` analysis, when the report has one (a list, or a
    mapping whose list values are findings)."""
    found = report.get("anomalies")
    if isinstance(found, list):
        return [x for x in found if x]
    if isinstance(found, dict):
        items = []
        for value in found.values():
            if isinstance(value, list):
                items.extend(x for x in value if x)
        return items
    return []


def _describe(item) -> str:
    if not isinstance(item, dict):
        return str(item)
    if "day" in item and isinstance(item.get("cost_usd"), (int, float)):
        scope = item.get("scope")
        who = f"{scope} {item.get('key')} on " if scope not in (None, "day") else ""
        text = f"{who}{item['day']}: {_usd(item['cost_usd'])}"
        if isinstance(item.get("baseline_usd"), (int, float)):
            text += f" (usually {_usd(item['baseline_usd'])})"
        return text
    parts = [
        f"{k}={v}"
        for k, v in item.items()
        if isinstance(v, (str, int, float)) and not isinstance(v, bool)
    ]
    return ", ".join(parts[:6])


def evaluate_alerts(alerts: Alerts, report: dict) -> list[dict]:
    """The alerts raised by a period report (``report["report_period"]`` filled by periods.run)."""
    out = []
    total = report["summary"]["total_cost_usd"]
    # (a period of no call with a cost has no total: nothing known to be above the limit)
    if alerts.max_cost is not None and total is not None and total > alerts.max_cost + 1e-12:
        out.append(
            {
                "alert": "max_cost",
                "limit": alerts.max_cost,
                "actual": total,
                "message": f"period cost {_usd(total, alerts.max_cost)} is above "
                f"{_usd(alerts.max_cost, total)}",
            }
        )
    jump = (report.get("report_period") or {}).get("day_over_day")
    if (
        alerts.max_day_over_day_pct is not None
        and jump is not None
        and not jump.get("small_base")  # a rise from under a cent is no percent rise
        and jump["change_pct"] > alerts.max_day_over_day_pct + 1e-9
    ):
        out.append(
            {
                "alert": "max_day_over_day_pct",
                "limit": alerts.max_day_over_day_pct,
                "actual": jump["change_pct"],
                "message": (
                    f"{jump['day']} cost {_usd(jump['cost_usd'])}, up {jump['change_pct']:.1f}% "
                    f"on {jump['previous_day']} ({_usd(jump['previous_cost_usd'])}); "
                    f"the limit is {alerts.max_day_over_day_pct:g}%"
                ),
            }
        )
    if alerts.anomalies:
        items = anomaly_items(report)
        if items:
            # the lists hold the top N of each kind: the analysis's count is all of them
            # ('10 anomalies' read beside the report's 'Anomalies: 45')
            found = report.get("anomalies")
            total = found.get("count") if isinstance(found, dict) else None
            if not isinstance(total, int) or isinstance(total, bool) or total < len(items):
                total = len(items)
            out.append(
                {
                    "alert": "anomalies",
                    "limit": 0,
                    "actual": total,
                    "message": f"{plural(total, 'anomaly', 'anomalies')}: "
                    + "; ".join(_describe(x) for x in items[:3])
                    + (" …" if total > 3 else ""),
                }
            )
    return out
