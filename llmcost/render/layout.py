"""The report as neutral sections (headings, lines, tables), shared by the text renderers.

Markdown and the terminal show the same numbers; only the formatting differs.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from llmcost.attribution import merged_without_tokens, rest_of
from llmcost.render import (
    WEEKDAYS,
    count,
    money,
    money_to_delta,
    overlay_names,
    pct,
    plural,
    short_paths,
)

NAMES = ("Model", "→ Target", "Priced as", "Open-weight class")  # a table's name columns


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    align: str = ""  # one char per column: l or r (default l for the first, r for the rest)
    heat: list[list[float]] | None = None  # cell weights 0..1 for a heat grid
    # columns a narrow terminal may leave out, first to go first (the other formats keep them)
    optional: tuple[str, ...] = ()
    # columns it leaves out only when the table cannot fit with them, every free-text column
    # at its narrowest (whole numbers too wide): first to go first
    spare: tuple[str, ...] = ()
    # left-aligned text columns a narrow terminal must still show whole (numbers, dates and
    # file:line cells always are)
    whole: tuple[str, ...] = ()
    # columns of names (models) a narrow terminal cuts so that two different names never
    # read the same: "gemini-2.…" for two Gemini 2.x models told neither apart
    names: tuple[str, ...] = NAMES
    # free-text columns a narrow terminal wraps onto several lines rather than cut
    fold: tuple[str, ...] = ()
    # the lines said above the table that explain its columns, given the columns shown (a
    # narrow terminal leaves optional ones out: no line explains a column not there)
    legend: Callable[[list[str]], list[str]] | None = None


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def sections(report: dict) -> list[Section]:
    if not report["summary"]["requests"]:
        if usage_reports_only(report):  # totals, no calls: not "$0.00 over 0 calls"
            return [
                _reports_summary(report),
                *_usage_reports(report),
                *audit_sections(report),
                *_problems(report),
            ]
        # a period without calls (a scheduled report): no empty tables
        quiet = _summary(report)
        quiet.lines.insert(0, "No calls in this period.")
        return [quiet, *_problems(report)]
    out = [_summary(report)]
    out.extend(_savings(report))  # ranked savings, right after the summary
    out.append(_by_model(report))
    # a period report has its days first, in its --tz; --period daily has them, in the same
    # zone, with their tokens and a total: one table of the days, not two of one title
    if not report.get("report_period") and not _days_in_periods(report):
        out.append(_by_day(report))
    out.extend(_attribution(report))  # only the views asked for (--by, --period)
    out.extend(_expensive(report))
    out.append(_peaks(report))
    out.extend(_cache(report))
    out.append(_downgrade(report))
    out.extend(_savings_sections(report))  # batch, waste, bloat, anomalies, self-hosting
    out.extend(_usage_reports(report))  # only when provider usage reports were read
    out.extend(audit_sections(report))  # only with --recount or logged costs
    out.extend(_problems(report))
    return out


def usage_reports_only(report: dict) -> bool:
    """The input held provider usage reports (aggregate buckets) and no call."""
    return not report["summary"]["requests"] and bool(
        (report.get("usage_reports") or {}).get("buckets")
    )


def reports_headline(u: dict) -> str:
    """What a run of usage reports alone read: its buckets and their span."""
    span = f"{(u['first_start'] or '?')[:10]} → {(u['last_end'] or '?')[:10]}"
    return f"{plural(u['buckets'], 'usage-report bucket')}, {span}"


def _reports_summary(r: dict) -> Section:
    """The summary of a run that read usage reports and no call: what the reports hold (a
    provider's figure, the one computed from their token counts), never "$0.00 over 0 calls"."""
    u = r["usage_reports"]
    lines = [
        f"No per-call records: usage reports give totals only. Read "
        f"{reports_headline(u)} (aggregates of many requests each).",
        bucket_costs(u),
        "The per-call sections (cost by model and day, most expensive calls, cache, savings) "
        "are left out: they need per-call logs (see Provider usage reports below).",
    ]
    lines.extend(r.get("notes") or [])
    if r.get("pricing_version"):
        lines.append(prices_line(r))
    return Section("Summary", lines)


def prices_line(r: dict) -> str:
    """Which prices the report used: the tables' check date, and the user's own price files
    laid over them, named apart (their versions are theirs, not the tables')."""
    return f"Prices: llmcost tables checked {r['pricing_version']}{overlays_text(r)}"


def overlays_text(r: dict) -> str:
    """``; your prices over them: llmcost.yaml, team.yaml (2027-01)``, or "" without any."""
    names = overlay_names(r)
    return f"; your prices over them: {names}" if names else ""


def bucket_costs(u: dict) -> str:
    """The buckets' cost computed at list prices (never "$0.00" when nothing was priced) and
    the provider's own figure when its reports carry one."""
    unpriced = u["unpriced_buckets"]
    computed = "none" if u["computed_cost_usd"] is None else money(u["computed_cost_usd"])
    return (
        f"Computed at list prices: {computed}"
        + (
            f" ({plural(unpriced, 'bucket')} unpriced)"
            if unpriced
            else " (no bucket has token counts)"
            if not u["token_buckets"]
            else ""
        )
        + (
            f"; reported by the provider: {money(u['reported_cost_usd'])}"
            if u["reported_cost_usd"] is not None
            else ""
        )
    )


def _usage_reports(r: dict) -> list[Section]:
    """Provider usage-report buckets: aggregates, priced apart from the calls."""
    u = r.get("usage_reports") or {}
    if not u.get("buckets"):
        return []
    section = Section("Provider usage reports (aggregates, not calls)")
    span = f"{(u['first_start'] or '?')[:10]} → {(u['last_end'] or '?')[:10]}"
    requests = (
        "requests not reported" if u["requests"] is None else plural(u["requests"], "request")
    )
    section.lines.append(
        f"{plural(u['buckets'], 'bucket')}, {span}: {requests}, "
        f"{plural(u['input_tokens'], 'input token')} (of which "
        f"{plural(u['cache_read_tokens'], 'cache read')}), "
        f"{plural(u['output_tokens'], 'output token')}"
    )
    # no priced token bucket (computed is null): nothing computed, never "$0.00"
    section.lines.append(bucket_costs(u))
    for c in u["reported_vs_computed"]:
        diff = "—" if c["difference_usd"] is None else money(c["difference_usd"])
        section.lines.append(
            f"{c['provider']}: reported {money(c['reported_cost_usd'])} vs computed "
            f"{_bucket_cost(c['computed_cost_usd'], c['unpriced_buckets'])} over "
            f"{plural(c['days'], 'day')} (difference {diff})"
        )
    if u["by_model"]:
        section.tables.append(Table(
            ["Model", "Provider", "Tier", "Requests", "Input tok", "Output tok", "Computed"],
            [[m["model"] or "(all models)", m["provider"], m["service_tier"],
              count(m["requests"]), count(m["input_tokens"]), count(m["output_tokens"]),
              _bucket_cost(m["computed_cost_usd"], m["unpriced_buckets"])]
             for m in u["by_model"]],
            "lllrrrr",
        ))
    if any(p["project"] for p in u["by_project"]):
        section.tables.append(Table(
            ["Project / workspace", "Provider", "Requests", "Input tok", "Computed", "Reported"],
            [[p["project"] or "(none)", p["provider"], count(p["requests"]),
              count(p["input_tokens"]), _bucket_cost(p["computed_cost_usd"], p["unpriced_buckets"]),
              money(p["reported_cost_usd"])] for p in u["by_project"]],
            "llrrrr",
        ))
    section.lines.extend(u["notes"])
    section.lines.append(
        "Needs per-call logs, not reports: " + "; ".join(u["needs_per_call_logs"]) + "."
    )
    return [section]


def _bucket_cost(value: float | None, unpriced: int | None) -> str:
    """A figure that leaves unpriced calls (or a usage report's token buckets) out: "unpriced"
    when none of them has a price (never "$0.00", nor the "—" of a row without token counts),
    and the priced part " + N unpriced" when some have none, as the per-call tables read."""
    if value is None:
        return "unpriced" if unpriced else "—"
    return money(value) + _unpriced_part(unpriced)


def _unpriced_part(n: int | None) -> str:
    """' + N unpriced' after an amount that leaves out N calls without a price."""
    return f" + {count(n)} unpriced" if n else ""


def no_total(s: dict) -> str:
    """Why a summary has no total (no call with a cost): its calls' models have no price
    ("unpriced"), or their logs no token counts ("unknown: 2 calls without tokens"); never
    "$0.00", which reads as nothing spent."""
    unpriced, unknown = s.get("unpriced_requests") or 0, s.get("unknown_token_requests") or 0
    if unpriced:
        return "unpriced" + (f" + {count(unknown)} without tokens" if unknown else "")
    if unknown:
        return f"unknown: {plural(unknown, 'call')} without tokens"
    return "unknown"


def total_text(s: dict) -> str:
    """A summary's total: its amount, or why it has none (never $0)."""
    if s.get("total_cost_usd") is None and s.get("requests"):
        return no_total(s)
    return money(s.get("total_cost_usd"))


def total_over(s: dict) -> str:
    """'$1.40 over 3 calls'; 'unpriced (3 calls in all)' when no call has a cost."""
    if s.get("total_cost_usd") is None and s.get("requests"):
        return f"{no_total(s)} ({plural(s['requests'], 'call')} in all)"
    return f"{money(s.get('total_cost_usd'))} over {plural(s.get('requests') or 0, 'call')}"


def _summary(r: dict) -> Section:
    s = r["summary"]
    lines = [
        f"Total cost: {total_over(s)}"
        + (f", {s['first_ts'][:10]} → {s['last_ts'][:10]}" if s.get("first_ts") else ""),
        f"Tokens: {count(s['input_tokens'])} input (of which "
        f"{plural(s['cache_read_tokens'], 'cache read')}, "
        f"{plural(s['cache_write_tokens'], 'cache write')}), "
        f"{count(s['output_tokens'])} output (of which {count(s['reasoning_tokens'])} reasoning"
        # (a reasoning model's call whose log did not split its output: not 0, unknown)
        + (
            f", unknown for {plural(s['reasoning_unknown_requests'], 'call')} of reasoning models"
            if s.get("reasoning_unknown_requests")
            else ""
        )
        + ")",
    ]
    if s["total_cost_usd"] is not None:  # (no call with a cost: no part of one either)
        lines.append(
            "Cost by part: "
            + ", ".join(
                f"{k.replace('_', ' ')} {money(v)}"
                for k, v in s["cost_by_part"].items()
                # the fees of no token (web searches, a price per call) only when there are any
                if v or k not in ("search", "per_request")
            )
        )
    if s.get("as_of_cost_usd") is not None:  # analyze --as-of: what-if beside the history
        # the what-if sums only the calls priced on that date: say which, and what is left out
        line = (
            f"At prices of {s['as_of']}: {money(s['as_of_cost_usd'])} for "
            f"{count(s['as_of_priced_requests'])} of {plural(s['requests'], 'call')} "
            f"(historical {total_text(s)})"
        )
        if s["as_of_unpriced_requests"]:
            line += (
                f"; {plural(s['as_of_unpriced_requests'], 'call')} had no price on that date "
                "(models not yet priced), not counted as $0"
            )
        lines.insert(1, line)
    if s["unpriced_requests"]:
        lines.append(
            f"Unpriced: {plural(s['unpriced_requests'], 'call')} of models without a price "
            "(not counted as $0; listed below)"
        )
    fallbacks = s.get("tier_priced_as_standard") or []
    if fallbacks:
        shown = "; ".join(
            f"{plural(f['requests'], f['tier'] + ' call')} of {f['model']}" for f in fallbacks[:3]
        )
        more = len(fallbacks) - 3
        lines.append(
            f"Priced at standard rates: {shown}"
            + (f"; {more} more" if more > 0 else "")
            + " (no "
            + "/".join(sorted({f["tier"] for f in fallbacks}))
            + " price in the tables; add one with --pricing)"
        )
    failed_unknown = s.get("error_unknown_token_requests") or 0
    if s["unknown_token_requests"] > failed_unknown:
        lines.append(
            f"Unknown tokens: {plural(s['unknown_token_requests'] - failed_unknown, 'call')} had "
            "no token counts and no text to count"
        )
    if failed_unknown:
        lines.append(
            f"Unknown tokens: {plural(failed_unknown, 'failed call')} without usage in the log "
            "(an error before any token was processed is not billed, so a failed call's text "
            "is not counted: cost unknown, not in the total)"
        )
    if s["tokens_counted"] or s["tokens_estimated"]:
        lines.append(
            f"Token counts: {count(s['tokens_reported'])} reported, "
            f"{count(s['tokens_counted'])} counted with tiktoken, "
            f"{count(s['tokens_estimated'])} estimated "
            f"({money(s['estimated_cost_usd'])} of the cost rests on estimates)"
        )
    if s["error_requests"]:
        lines.append(
            f"Failed calls: {count(s['error_requests'])} (billed {money(s['error_cost_usd'])}"
            + _unpriced_part((s.get("error_unpriced_requests") or 0) - failed_unknown)
            + (f"; {count(failed_unknown)} without usage, cost unknown" if failed_unknown else "")
            + ")"
        )
    if s["truncated_requests"]:
        lines.append(
            f"Truncated answers (hit max tokens): {count(s['truncated_requests'])} "
            f"({money(s['truncated_cost_usd'])}"
            + _uncosted_part(
                {
                    "unpriced_requests": s.get("truncated_unpriced_requests"),
                    "unknown_token_requests": s.get("truncated_unknown_token_requests"),
                }
            )
            + ")"
        )
    if s["requests_without_timestamp"]:
        lines.append(
            f"{plural(s['requests_without_timestamp'], 'call')} had no timestamp: "
            "priced at today's prices, left out of daily and peak views"
        )
    lines.extend(r.get("notes") or [])
    if r.get("pricing_version"):
        lines.append(prices_line(r))
    return Section("Summary", lines)


def _by_model(r: dict) -> Section:
    rows = [
        [
            m["model"],
            m["provider"] or "?",
            count(m["requests"]),
            count(m["input_tokens"]),
            count(m["output_tokens"]),
            row_cost(m),
            pct(m["share"]),
        ]
        for m in r["by_model"]
    ]
    return Section(
        "Cost by model",
        tables=[
            Table(
                ["Model", "Provider", "Calls", "Input tok", "Output tok", "Cost", "Share"],
                rows,
                "llrrrrr",
            )
        ],
    )


def _day_cost(d: dict) -> str:
    """A day's (or a group's) cost, and the calls it leaves out: of unpriced models
    ("unpriced", never $0), and of priced ones without token counts ("without tokens")."""
    unpriced, unknown = d.get("unpriced_requests") or 0, d.get("unknown_token_requests") or 0
    if d["cost_usd"] is None:
        shown = "unpriced" if unpriced else "no tokens" if unknown else "—"
        if unpriced and unknown:
            shown += f" + {count(unknown)} without tokens"
        return shown
    return (
        money(d["cost_usd"])
        + _unpriced_part(unpriced)
        + (f" + {count(unknown)} without tokens" if unknown else "")
    )


# Cost by day shows this many of the latest days; the days before are summed on one row. A
# log of six months printed 180 rows (a year, 365) in the terminal, a PR comment and the HTML
# page, between Cost by model and the savings; --period weekly/monthly and the JSON have them.
DAYS_SHOWN = 31


def _by_day(r: dict) -> Section:
    days = r["by_day"]
    # days of the report's zone: analyze and check take no --tz, their days are UTC ones, and
    # say so as report --tz names its zone ('Cost by day (Europe/Paris)')
    title = f"Cost by day ({(r.get('window') or {}).get('tz') or 'UTC'})"
    if not days:  # not a table of no rows: the calls had no time (the summary says how many)
        return Section(title, lines=["no timestamps"])
    earlier, days = days[:-DAYS_SHOWN], days[-DAYS_SHOWN:]
    rows = [[d["day"], count(d["requests"]), _day_cost(d)] for d in days]
    section = Section(title)
    if earlier:
        known = [d["cost_usd"] for d in earlier if d["cost_usd"] is not None]
        summed = {
            "requests": sum(d["requests"] for d in earlier),
            # days of unpriced calls only have no cost: unknown, not $0
            "cost_usd": sum(known) if known else None,
            "unpriced_requests": sum(d.get("unpriced_requests") or 0 for d in earlier),
            # as one day of their calls would count them: a day of failed calls without
            # usage only keeps them, beside a cost they are not billed (not 'without tokens')
            "unknown_token_requests": merged_without_tokens(earlier),
        }
        label = f"({plural(len(earlier), 'earlier day')})"
        rows.insert(0, [label, count(summed["requests"]), _day_cost(summed)])
        section.lines.append(
            f"The latest {len(days)} of {count(len(days) + len(earlier))} days with calls; the "
            f"first row "
            f"sums the {count(len(earlier))} before them ({earlier[0]['day']} → "
            f"{earlier[-1]['day']}): --period weekly or monthly totals every week or month, "
            "--format json lists every day."
        )
    section.tables.append(Table(["Day", "Calls", "Cost"], rows, "lrr"))
    return section


def _days_in_periods(r: dict) -> bool:
    """The --period table is of the days of Cost by day (daily, in its zone)."""
    p = r.get("periods") or {}
    zone = (r.get("window") or {}).get("tz") or "UTC"
    return p.get("period") == "daily" and p.get("timezone") == zone


def _attribution(r: dict) -> list[Section]:
    """--by, --period and session views; each only when the report has it."""
    out = []
    if r.get("attribution"):
        out.append(_by_dimension(r["attribution"]))
    if r.get("periods"):
        out.append(_periods(r["periods"]))
    if r.get("sessions"):
        out.extend(_sessions(r["sessions"]))
    return out


def _by_dimension(a: dict) -> Section:
    top = a.get("top") or len(a["rows"])
    dims, rows = a["by"], a["rows"]

    def measures(x: dict) -> list[str]:
        return [
            count(x["requests"]),
            count(x["input_tokens"]),
            count(x["output_tokens"]),
            row_cost(x),
            pct(x.get("share")),
        ]

    body = [[_value(x[d]) for d in dims] + measures(x) for x in rows[:top]]
    rest = rows[top:]
    if rest:
        body.append([f"({len(rest):,} more)"] + [""] * (len(dims) - 1) + measures(rest_of(rest)))
    t = a["totals"]
    body.append(
        ["Total"]
        + [""] * (len(dims) - 1)
        + [count(t["requests"]), "", "", money(t["cost_usd"]), ""]
    )
    section = Section(
        "Cost by " + " × ".join(dims),
        tables=[
            Table(
                [_dimension_title(d) for d in dims]
                + ["Calls", "Input tok", "Output tok", "Cost", "Share"],
                body,
                "l" * len(dims) + "rrrrr",
            )
        ],
    )
    section.lines.extend(_not_in_cost(t))
    return section


def row_cost(x: dict) -> str:
    """A row's cost; without one, why: calls of unpriced models, or calls of a priced model
    whose log had no token counts (never $0). A row of priced and unpriced calls says how
    many it leaves out ('$0.0004 + 1 unpriced'), as a day of Cost by day does: the cost alone
    reads as the whole group's."""
    if (
        x["cost_usd"] is None
        and not x.get("unpriced_requests")
        and not x.get("unknown_token_requests")
    ):
        return "unpriced"  # as before: a session row has no unknown_token_requests count
    return _day_cost(x)


def _not_in_cost(totals: dict) -> list[str]:
    """What a table's Calls count and its Cost does not: unpriced calls, calls without tokens."""
    lines = []
    if totals["unpriced_requests"]:
        lines.append(
            f"{plural(totals['unpriced_requests'], 'call')} of unpriced models "
            "counted in Calls, not in Cost."
        )
    if totals.get("unknown_token_requests"):
        lines.append(
            f"{plural(totals['unknown_token_requests'], 'call')} without token counts "
            "(no text to count, or failed without usage) counted in Calls, not in Cost."
        )
    # the failed calls without usage that count leaves out (attribution.without_tokens): not
    # billed, as the summary says; they are in it when they are all the calls without a cost
    failed = totals.get("error_unknown_token_requests") or 0
    if failed and (totals["cost_usd"] is not None or totals["unpriced_requests"]):
        lines.append(
            f"{plural(failed, 'failed call')} without usage (not billed: an error before any "
            "token was processed) counted in Calls, not in Cost."
        )
    return lines


def _periods(p: dict) -> Section:
    body = []
    top = p.get("top")  # models listed per period (an older report: every one)
    for x in p["rows"]:
        body.append(
            [
                x["period"],
                count(x["requests"]),
                count(x["input_tokens"]),
                count(x["output_tokens"]),
                count(x["cache_read_tokens"]),
                row_cost(x),
            ]
        )
        models = x.get("models") or []
        names = Counter(m["model"] for m in models)
        shown, rest = (models[:top], models[top:]) if top else (models, [])
        def model_row(label: str, m: dict) -> list[str]:
            return [
                f"↳ {label}",
                count(m["requests"]),
                count(m["input_tokens"]),
                count(m["output_tokens"]),
                count(m["cache_read_tokens"]),
                row_cost(m),
            ]

        for m in shown:
            # the breakdown is by provider and model: a model served by two providers
            # (openai and azure) would read as the same line twice
            label = m["model"] if names[m["model"]] == 1 else f"{m['model']} ({m['provider']})"
            body.append(model_row(label, m))
        if rest:  # the period's other models summed, as --by's tables end
            body.append(model_row(f"({count(len(rest))} more)", rest_of(rest)))
    t = p["totals"]
    body.append(
        [
            "Total",
            count(t["requests"]),
            count(t["input_tokens"]),
            count(t["output_tokens"]),
            count(t["cache_read_tokens"]),
            money(t["cost_usd"]),
        ]
    )
    name = {"daily": "day", "weekly": "week", "monthly": "month"}[p["period"]]
    section = Section(
        f"Cost by {name} ({p['timezone']})",
        tables=[
            Table(
                [name.capitalize(), "Calls", "Input tok", "Output tok", "Cache read", "Cost"],
                body,
                "lrrrrr",
            )
        ],
    )
    if p.get("week_starts"):
        section.lines.append("Weeks: ISO 8601, Monday to Sunday, named by ISO year and week.")
    cut = sum(len(x.get("models") or []) > top for x in p["rows"]) if top else 0
    if cut:
        section.lines.append(
            f"Models: the {top} costliest of each {name} are listed; on {plural(cut, name)} "
            "the others are summed on one '(N more)' row (--top lists more; the JSON has "
            "every model)."
        )
    section.lines.extend(_not_in_cost(t))
    if p["requests_without_timestamp"]:
        section.lines.append(
            f"{plural(p['requests_without_timestamp'], 'call')} without a timestamp "
            "in no period (and not in the totals)."
        )
    return section


def _sessions(s: dict) -> list[Section]:
    out = []
    summary = Section("Sessions (most expensive)")
    if not s["sessions"]:
        summary.lines.append(s.get("note") or "no session ids")
        return [summary]
    summary.lines.append(
        f"{plural(s['sessions'], 'session')}, {plural(s['requests'], 'call')}: "
        f"{money(s['avg_cost_usd'])} per session on average (median "
        f"{money(s['median_cost_usd'])}), {s['avg_requests']:.1f} calls, "
        f"{_duration(s['avg_duration_s'])} from first to last call."
    )
    if s["requests_without_session"]:
        summary.lines.append(
            f"{plural(s['requests_without_session'], 'call')} without a session id."
        )
    if s.get("unpriced_requests"):
        left_out = s["unpriced_sessions"]
        summary.lines.append(
            f"{plural(s['unpriced_requests'], 'call')} of unpriced models counted in Calls, "
            "not in Cost"
            + (
                f"; {plural(left_out, 'session')} of such calls only, left out of the average "
                "and median."
                if left_out
                else "."
            )
        )
    for key, section in (
        ("most_expensive", summary),
        ("most_calls", Section("Longest sessions (calls)")),
        ("longest", Section("Longest sessions (duration)")),
    ):
        section.tables.append(
            Table(
                ["Session", "User", "Feature", "Calls", "Duration", "Cost", "Models"],
                [
                    [
                        x["session_id"],
                        x["user_id"] or "",
                        x["feature"] or "",
                        count(x["requests"]),
                        _duration(x["duration_s"]),
                        row_cost(x),
                        _models(x["models"]),
                    ]
                    for x in s[key]
                ],
                "lllrrrl",
            )
        )
        out.append(section)
    return out


def _models(models: list[str]) -> str:
    """At most two model names, then how many more (a session may use many)."""
    if len(models) <= 2:
        return ", ".join(models)
    return f"{models[0]}, {models[1]} +{len(models) - 2}"


def _value(value, width: int = 40) -> str:
    """A dimension value for a table cell: '—' for none, very long ones shortened."""
    if value is None:
        return "—"
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600:02d}h"


def _no_priced_calls(s: dict) -> str:
    """Why a list of calls by cost is empty: none of the calls has a cost."""
    why = []
    if s["unpriced_requests"]:
        why.append(
            f"{plural(s['unpriced_requests'], 'call')} of unpriced models "
            "(listed under Unpriced models)"
        )
    if s["unknown_token_requests"]:
        why.append(f"{plural(s['unknown_token_requests'], 'call')} without token counts")
    return "no priced calls" + (": " + "; ".join(why) if why else "")


def _expensive(r: dict) -> list[Section]:
    e = r["expensive"]
    if e["requests"]:
        calls = _expensive_calls(e, r)
    else:  # not a header over no rows: say why there is none
        calls = Section("Most expensive calls", lines=[_no_priced_calls(r["summary"])])
    families = Section("Most expensive query families (same system prompt)")
    if e["families"]:
        families.tables.append(
            Table(
                ["Cost", "Share", "Calls", "Avg/call", "Models", "System prompt"],
                [
                    [
                        money(f["cost_usd"]),
                        pct(f["share"]),
                        count(f["requests"]),
                        money(f["avg_cost_usd"]),
                        ", ".join(f["models"]),
                        f["preview"] or "",
                    ]
                    for f in e["families"]
                ],
                "rrrrll",
            )
        )
    else:
        families.lines.append(e.get("note") or "none")
    return [calls, families]


def _expensive_calls(e: dict, r: dict) -> Section:
    return Section(
        f"Most expensive calls (top {len(e['requests'])})",
        tables=[
            Table(
                ["Cost", "Model", "When", "User", "Feature", "In/out tok", "Where", "Prompt"],
                [
                    [
                        money(x["cost_usd"]),
                        x["model"],
                        (x["ts"] or "")[:16].replace("T", " "),
                        x["user_id"] or "",
                        x["feature"] or "",
                        f"{count(x['input_tokens'])}/{count(x['output_tokens'])}",
                        f"{_short(x['source'], r)}:{x['line']}",
                        x["preview"] or "",
                    ]
                    for x in e["requests"]
                ],
                "rlllllll",
                optional=("User", "Feature", "When"),
                names=(*NAMES, "User"),  # two ARNs of one account cut alike at their end
            )
        ],
    )


def _peaks(r: dict) -> Section:
    p = r["peaks"]
    section = Section(f"Peak times ({p['timezone']})")
    if not p["grid"]:
        section.lines.append("no timestamps")
        return section
    cells = {(c["weekday"], c["hour"]): c["cost_usd"] for c in p["grid"]}
    top = max((v for v in cells.values() if v is not None), default=0.0) or 1.0
    rows, heat = [], []
    for day in range(7):
        rows.append(
            [WEEKDAYS[day]] + [_cell(cells.get((day, h)), (day, h) in cells) for h in range(24)]
        )
        heat.append([0.0] + [(cells.get((day, h)) or 0.0) / top for h in range(24)])
    section.tables.append(
        Table(["Cost"] + [f"{h:02d}" for h in range(24)], rows, "l" + "r" * 24, heat)
    )
    if p["busiest_minute"]:
        m = p["busiest_minute"]
        section.lines.append(
            f"Busiest minute: {m['minute'][:16].replace('T', ' ')} — "
            f"{plural(m['requests'], 'call')}, "
            f"{count(m['input_tokens'])} input and {plural(m['output_tokens'], 'output token')}, "
            f"{_priced_cost(m)}"
        )
    if p["costliest_hour"]:
        h = p["costliest_hour"]
        section.lines.append(
            f"Costliest hour: {h['hour'][:13].replace('T', ' ')}h — "
            f"{plural(h['requests'], 'call')}, {_priced_cost(h)}"
        )
    uncosted = [c for c in p["grid"] if c["cost_usd"] is None]
    # why a '?' cell has no cost: its calls' models have no price, or their logs no tokens
    why = [
        what
        for what, key in (
            ("without a price", "unpriced_requests"),
            ("without token counts", "unknown_token_requests"),
        )
        if any(c.get(key) for c in uncosted)
    ] or ["without a price"]
    section.lines.append(
        "Grid: cost in dollars per weekday and hour; '·' no calls, '<1¢' under a cent, "
        + (f"'?' only calls {' or '.join(why)}, " if uncosted else "")
        + "k = thousands."
    )
    return section


def _uncosted_part(item: dict) -> str:
    """' + N unpriced + M without tokens' after an amount: the calls it leaves out, by why."""
    unknown = item.get("unknown_token_requests")
    return _unpriced_part(item.get("unpriced_requests")) + (
        f" + {count(unknown)} without tokens" if unknown else ""
    )


def unknown_amount(item: dict) -> str:
    """'an unknown amount (1 unpriced call)': a savings or waste line none of whose calls has
    a cost, by why, in the summary's words ('unpriced', 'without tokens'); "$0.00 + 1
    unpriced" read as a saving of $0."""
    unpriced = item.get("unpriced_requests") or 0
    unknown = item.get("unknown_token_requests") or 0
    parts = [plural(unpriced, "unpriced call")] if unpriced else []
    if unknown:
        what = count(unknown) if parts else plural(unknown, "call")
        parts.append(f"{what} without tokens")
    return "an unknown amount" + (f" ({' + '.join(parts)})" if parts else "")


def _line_amount(amount: float | None, item: dict) -> str:
    """A savings or waste line's amount and the calls it leaves out ('$0.30 + 1 unpriced'),
    or, when none of its calls has a cost (``amount`` None), that it is unknown."""
    if amount is None:
        return unknown_amount(item)
    return money(amount) + _uncosted_part(item)


def _row_saving(amount: float | None, item: dict) -> str:
    """A savings table row's amount; without one (none of its calls has a cost), why, as a
    Cost by model row says it: 'unpriced' or 'no tokens' (it read '—')."""
    if amount is None:
        return _day_cost({"cost_usd": None, **item})
    return money(amount)


def _priced_cost(item: dict) -> str:
    """A cost beside the calls it leaves out, as a day's (``_day_cost``): calls of unpriced
    models and calls without token counts are in no sum, never $0."""
    unpriced = item.get("unpriced_requests") or 0
    unknown = item.get("unknown_token_requests") or 0
    if item["cost_usd"] is None:
        shown = (
            "no price (unpriced models)"
            if unpriced
            else "no cost (no token counts)"
            if unknown
            else money(None)
        )
        return shown + (f" + {count(unknown)} without tokens" if unpriced and unknown else "")
    return money(item["cost_usd"]) + _uncosted_part(item)


def _dimension_title(name: str) -> str:
    """A --by dimension as a column title: 'tag:env' is 'env (tag)', 'api_key' 'API key',
    'priced_as' 'Priced as'; a name of llmcost.yaml's attribution section as written."""
    if name.startswith("tag:"):
        return f"{name[4:]} (tag)"
    if name == "api_key":
        return "API key"
    return name[:1].upper() + name[1:].replace("_", " ")


def _cell(value: float | None, calls: bool = False) -> str:
    if value is None:
        return "?" if calls else "·"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    if value >= 10:
        return f"{value:.0f}"
    if value >= 0.01:
        return f"{value:.2f}".lstrip("0") if value < 1 else f"{value:.1f}"
    return "<1¢"  # (three cells: "<.01" ran into its neighbour, "<.01<.01")


def _cache(r: dict) -> list[Section]:
    """Three sections: exact repeats, prompt caching, near-duplicates (no call counted twice)."""
    c = r["cache"]
    e = c["exact_repeats"]
    section = Section("Cache-hit potential")
    if c.get("note"):
        section.lines.append(c["note"])
    else:
        section.lines.append(
            f"Exact repeats (same model, same full prompt): {plural(e['requests'], 'call')} "
            f"({pct(e['share'])}) — a response cache would save {_line_amount(e['usd'], e)}."
        )
        section.lines.append(f"Assumption: {e['assumption']}.")
        if e["top"]:
            section.tables.append(
                Table(
                    ["Saving", "Calls", "Model", "Prompt"],
                    [
                        [_row_saving(g["usd"], g), count(g["requests"]), g["model"],
                         g["preview"] or ""]
                        for g in e["top"]
                    ],
                    "rrll",
                )
            )
    used = c["prompt_caching_in_use"]
    if used["cache_read_tokens"] or used.get("cache_write_tokens"):
        premium = used.get("write_premium_usd")
        reads = (f"{plural(used['cache_read_tokens'], 'cached input token')} on "
                 f"{plural(used['requests_with_cache_reads'], 'call')}")
        if (used["saved_usd"] or 0) < 0:
            # the writes' premium is more than the reads saved: a cost, not "saved $-0.03"
            section.lines.append(
                "Prompt caching already in use: "
                + (f"{reads} saved {money(used['saved_usd'] + premium)}, less than the "
                   f"{money(premium)} paid above the input price to write the cache: a net "
                   f"cost of {money(-used['saved_usd'])}."
                   if used["cache_read_tokens"] else
                   f"{plural(used['cache_write_tokens'], 'token')} written to the cache and none "
                   f"read from it: {money(premium)} paid above the input price for nothing in "
                   "these logs.")
            )
        else:
            section.lines.append(
                f"Prompt caching already in use: {reads} saved {money(used['saved_usd'])}"
                # the writes' premium over the input price, not what the writes cost (the
                # summary's "cache write")
                + (f" (net of {money(premium)} paid above the input price to write the cache)."
                   if premium else ".")
            )
    out = [section]
    if not c.get("note"):
        out.extend(_prompt_caching(c.get("prompt_caching")))
        out.extend(_near_duplicates(c.get("near_duplicates"), r))
    return out


def _prompt_caching(p: dict | None) -> list[Section]:
    if not p:
        return []
    section = Section("Cache-hit potential: provider prompt caching")
    section.lines.append(
        f"Shared prefixes (system prompt, conversation so far) of the calls that are not exact "
        f"repeats: {money(p['usd'])} on "
        f"{plural(p['family_count'], 'prompt family', 'prompt families')} "
        f"({plural(p['calls_considered'], 'call')} considered)."
    )
    section.lines.append(f"Assumption: {p['assumption']}.")
    section.lines.extend(p.get("notes") or [])
    if p["families"]:
        section.tables.append(
            Table(
                ["Saving", "Calls", "Reads", "TTL", "Prefix", "Model", "System prompt"],
                [
                    [
                        money(f["saving_usd"]),
                        count(f["calls"]),
                        count(f["cache_reads"]),
                        f["ttl"],
                        count(f["prefix_tokens"]),
                        f["model"],
                        f["preview"] or "",
                    ]
                    for f in p["families"]
                ],
                "rrrlrll",
            )
        )
        already = sum(f["already_saved_usd"] or 0 for f in p["families"])
        section.lines.append(
            (f"Saving is net of what these families' own cache reads and writes already save "
             f"({money(already)})"
             if already >= 0
             # their writes cost more than their reads save: the saving includes that cost
             else f"Saving includes the {money(-already)} these families' own cache writes "
             "cost beyond what their reads save")
            + "; TTL: the cheaper cache lifetime; Prefix: tokens per call."
        )
    return [section]


def _near_duplicates(n: dict | None, r: dict) -> list[Section]:
    if not n:
        return []
    section = Section("Cache-hit potential: near-duplicate prompts")
    section.lines.append(
        f"Semantic-cache candidates among the calls that are not exact repeats: "
        f"{plural(n['requests'], 'call')} ({pct(n['share'])} of calls with text) at similarity "
        f"≥ {n['threshold']:g} — {_line_amount(n['usd'], n)}."
    )
    section.lines.append(f"Method: {n['method']}. Assumption: {n['assumption']}.")
    if n.get("note"):
        section.lines.append(n["note"])
    if n["top"]:
        section.tables.append(
            Table(
                ["Cost", "Similar", "Model", "Where", "Prompt"],
                [
                    [
                        _row_saving(x["usd"], x),
                        f"{x['similarity']:.2f}",
                        x["model"],
                        _where(x, r),
                        x["preview"] or "",
                    ]
                    for x in n["top"]
                ],
                "rrlll",
            )
        )
    return [section]


def _downgrade(r: dict) -> Section:
    d = r["downgrade"]
    section = Section("Model-downgrade savings")
    missing = d.get("target_unpriced_calls")
    missing_line = (
        f"{plural(missing, 'call')} not repriced: the target had no price on the call's date "
        "(not released yet)"
    )
    if not d.get("by_model"):
        section.lines.append(
            missing_line
            if missing
            else "no priced call has a cheaper target (pricing downgrade_to or routing rules)"
        )
        return section
    section.lines.append(
        "Coverage: "
        + "; ".join(f"{c['level']} {money(c['savings_usd'])}" for c in d["coverage"])
        + "."
    )
    cascade = d["cascade"]
    section.lines.append(
        f"Cascade (cheaper model first, {pct(cascade['escalation_share'])} escalated to the "
        f"original): {money(cascade['cost_usd'])} → {money(cascade['cascade_cost_usd'])}, "
        f"saving {money(cascade['savings_usd'])}."
    )
    section.lines.append(f"Assumption: {d['assumption']}.")
    if d.get("no_prompt_text_note"):  # what "simple" rests on: calls whose task is not seen
        section.lines.append(f"{d['no_prompt_text_note']}.")
    section.lines.append(f"Quality: {d['quality']}.")
    if missing:
        section.lines.append(missing_line + ".")
    section.tables.append(
        Table(
            ["Model", "→ Target", "Calls", "Simple / med / complex", "Simple only", "+ medium",
             "All calls", "Cascade"],
            [
                [
                    m["model"],
                    m["target"],
                    count(m["calls"]),
                    f"{m['simple_calls']}/{m['medium_calls']}/{m['complex_calls']}",
                    money(m["savings_simple_usd"]),
                    money(m["savings_partial_usd"]),
                    money(m["savings_all_usd"]),
                    money(m["cascade_savings_usd"]),
                ]
                for m in d["by_model"]
            ],
            "llrrrrrr",
            # when nothing else fits: the Coverage line above gives the totals
            spare=("Simple / med / complex", "+ medium"),
        )
    )
    if d.get("by_feature"):
        features = list(d["by_feature"])
        if d.get("other_features"):  # the features past --top, summed (an older report: none)
            more = d["features"] - len(features)
            features.append({"feature": f"({count(more)} more)", **d["other_features"]})
        section.tables.append(
            Table(
                ["Feature", "Calls", "Simple / med / complex", "Simple only", "+ medium",
                 "All calls"],
                [
                    [
                        f["feature"],
                        count(f["calls"]),
                        f"{f['simple_calls']}/{f['medium_calls']}/{f['complex_calls']}",
                        money(f["savings_simple_usd"]),
                        money(f["savings_partial_usd"]),
                        money(f["savings_all_usd"]),
                    ]
                    for f in features
                ],
                "lrrrrr",
                spare=("Simple / med / complex", "+ medium"),
            )
        )
    return section


def _problems(r: dict) -> list[Section]:
    out = []
    if r["unpriced_models"]:
        out.append(
            Section(
                "Unpriced models (not counted as $0)",
                tables=[
                    Table(
                        ["Model", "Provider", "Calls", "Input tok", "Output tok", "Why"],
                        [
                            [
                                u["model"],
                                u["provider"] or "?",
                                count(u["requests"]),
                                count(u["input_tokens"]),
                                count(u["output_tokens"]),
                                u["reason"],
                            ]
                            for u in r["unpriced_models"]
                        ],
                        "llrrrl",
                        # why a model has no price is the point of the table: wrapped, not
                        # cut ('known as deepseek-chat, but no price was in force at the call'…'
                        # at 120 columns lost the date; 'no pricing table knows…' at 80)
                        fold=("Why",),
                    )
                ],
            )
        )
    rej = r["rejected"]
    if rej["count"]:
        section = Section("Rejected lines")
        by = ""
        if rej.get("period"):  # a line has no time of its own: dated by the calls around it
            by = " in this period (dated by the call logged before or after each)"
        section.lines.append(
            f"{plural(rej['count'], 'line was', 'lines were')} rejected{by}: kept with their reason, "
            "not counted in any total."
        )
        section.tables.append(
            Table(
                ["Where", "Reason"],
                [[f"{_short(x['source'], r)}:{x['line']}", x["reason"]] for x in rej["samples"]],
                "ll",
            )
        )
        if rej["count"] > len(rej["samples"]):
            section.lines.append(f"… and {count(rej['count'] - len(rej['samples']))} more")
        out.append(section)
    return out


def _length_cells(x: dict, r: dict) -> list:
    """A row of outputs above their feature's usual length (runaway, or long but finished):
    its calls, feature, model, the lengths, and where the longest is."""
    return [
        count(x["calls"]),
        x["feature"],
        x["model"],
        count(round(x["median_output"])),
        count(round(x["threshold"])),
        count(x["max_output"]),
        _where(x["example"], r),
    ]


def _repeated(share: float) -> str:
    """A repeated share as a whole percent, rounded down: a loop flagged at 50% never
    reads as more repeated than it is."""
    return f"{math.floor(share * 100 + 1e-9)}%"


def _runaway_why(x: dict) -> str:
    """Why a runaway row's calls were flagged: looping (with the highest repeated share),
    else not finished."""
    loops = x.get("looping_calls") or 0
    parts = []
    if loops:
        most = "" if loops == 1 else "up to "
        parts.append(f"{count(loops)} looping ({most}{_repeated(x['max_repeated'])} repeated)")
    if x["calls"] > loops:
        parts.append(f"{count(x['calls'] - loops)} unfinished")
    return ", ".join(parts)


def _where(place: dict, r: dict) -> str:
    """A call's ``source`` and ``line`` as the report's file:line."""
    return f"{_short(place['source'] or '?', r)}:{place['line']}"


def _short(path: str, r: dict) -> str:
    """A source path as short as it stays unambiguous among the files the report read."""
    sources = [i.get("source") for i in r.get("inputs") or []] + (r.get("sources") or [])
    sources.append(path)
    return short_paths(sources)[path]


# ---------------------------------------------------------------------------------------
# Savings sections (issue 6): the ranked summary and one section per analysis
# ---------------------------------------------------------------------------------------


def _savings(r: dict) -> list[Section]:
    if "savings" not in r:
        return []
    section = Section("Savings")
    items, total = r["savings"], r.get("savings_total") or {}
    # kinds that found only calls without a cost: their saving is unknown, in no row and not
    # in the sum; said, or the sum (or "no saving found") read as all there is
    unknown = total.get("unknown_kinds") or []
    unknown_text = "; ".join(f"{u['title']}: {plural(u['calls'], 'call')}" for u in unknown)
    if not items:
        section.lines.append(
            f"Savings found: an unknown amount, {plural(len(unknown), 'kind')} found only calls "
            f"without a cost ({unknown_text}); see the sections below."
            if unknown
            else "no saving found by the analyses below"
        )
        return [section]
    no_cost = total.get("calls_without_cost")
    section.lines.append(
        f"Savings found: {money(total.get('usd'))} ({pct(total.get('share_of_cost'))} of "
        f"{money(total.get('total_cost_usd'))}"
        + (
            f", the cost of the priced calls; {plural(no_cost, 'call')} without a price not "
            "included"
            if no_cost
            else ""
        )
        + f") on {plural(total.get('calls'), 'call')}, ranked by dollars."
    )
    if unknown:
        section.lines.append(
            f"Not in that sum: {plural(len(unknown), 'kind')} of an unknown amount, whose "
            f"calls have no cost ({unknown_text})."
        )
    # not "up to": the sum leaves out savings that stack, so it is a floor of the kinds
    # together (analyses.savings), though each kind rests on its own assumption
    section.lines.append(
        "A floor of what these kinds save together: each call's saving is counted once, and "
        "savings that could stack on one call (batch with caching, say) are not added; each "
        "rests on its assumption below."
    )
    section.tables.append(
        Table(
            ["Saving", "Calls", "Kind", "Alone"],
            [
                [
                    money(s["usd"]),
                    count(s["calls"]),
                    s.get("title") or s["kind"],
                    money(s["details"].get("usd_before_overlap")),
                ]
                for s in items
            ],
            "rrlr",
        )
    )
    notes = Section("Savings: assumptions")
    if total.get("overlap_rule"):
        notes.lines.append(f"No double counting: {total['overlap_rule']}.")
    notes.lines.append("Alone: the kind's saving before other kinds claim the same calls.")
    notes.lines.extend(f"{s.get('title') or s['kind']}: {s['assumption']}." for s in items)
    return [section, notes]


def _savings_sections(r: dict) -> list[Section]:
    out = []
    for key, build in (
        ("batch", _batch),
        ("waste", lambda w: _waste(w, r)),  # its examples' file:line need the report's inputs
        ("bloat", _bloat),
        ("anomalies", _anomalies),
        ("selfhost", _selfhost),
    ):
        if key in r:
            out.append(build(r[key]))
    return out


def _batch(b: dict) -> Section:
    section = Section("Batch eligibility")
    if not b["sources"]:
        section.lines.append(
            "no offline traffic found (configure savings.offline_features in llmcost.yaml to "
            "name batch jobs)"
        )
        return section
    section.lines.append(f"Batch rates would save {money(b['usd'])}. Assumption: {b['assumption']}.")
    section.tables.append(
        Table(
            ["Source", "Calls", "Cost", "On batch", "Saving", "Not repriced", "Why"],
            [
                [
                    s["source"],
                    count(s["batchable_calls"]),
                    money(s["cost_usd"]),
                    money(s["batch_cost_usd"]),
                    money(s["savings_usd"]),
                    count(s["unbatchable_calls"]),
                    s["why"],
                ]
                for s in b["sources"]
            ],
            "lrrrrrl",
        )
    )
    section.lines.append(
        "Not repriced: calls already on batch or flex, unpriced, or of models without a batch "
        "price."
    )
    return section


def _waste_amount(x: dict) -> str:
    """A waste line's amount and the calls it leaves out (its ``unpriced_calls`` and
    ``unknown_token_calls``), as ``_line_amount`` says them: '$0.30 + 1 unpriced', or 'an
    unknown amount (1 unpriced call)' when none of them has a cost."""
    return _line_amount(
        x["usd"],
        {
            "unpriced_requests": x.get("unpriced_calls"),
            "unknown_token_requests": x.get("unknown_token_calls"),
        },
    )


def _failed_uncosted(f: dict, more: bool = True) -> str:
    """' (1 more failed call unpriced; 2 without usage, cost unknown)': the failed calls in
    no cost, by why, as the summary's Failed calls line says them ('1 failed call', not
    '1 more', when no failed call has a cost: ``more`` False)."""
    unpriced, unknown = f.get("unpriced_calls") or 0, f.get("unknown_token_calls") or 0
    failed = "more failed call" if more else "failed call"
    parts = [f"{plural(unpriced, failed)} unpriced"] if unpriced else []
    if unknown:
        what = count(unknown) if parts else plural(unknown, failed)
        parts.append(f"{what} without usage, cost unknown")
    return f" ({'; '.join(parts)})" if parts else ""


def _retry_cost(x: dict, line: bool = False) -> str:
    """A retries line's (``line``) or row's amount and the retries in no cost, by why; a
    retry that failed without usage (``error_unknown_token_calls``: not billed) is said as
    such, not 'without tokens': a client re-sending a call that had succeeded and being
    rate-limited is what the row is of. '$0.0002 + 1 failed without usage (not billed)'."""
    failed = x.get("error_unknown_token_calls") or 0
    item = {
        "unpriced_requests": x.get("unpriced_calls") or 0,
        "unknown_token_requests": x.get("unknown_token_calls") or 0,
    }
    if x["usd"] is None and not item["unpriced_requests"]:
        # (attribution.without_tokens kept them, the only calls without a cost: said apart)
        item["unknown_token_requests"] -= failed
    if failed and x["usd"] is None and not any(item.values()):
        if line:
            what = plural(failed, "call")
            return f"an unknown amount ({what} that failed without usage: not billed)"
        return f"{count(failed)} failed without usage"
    shown = _line_amount(x["usd"], item) if line else _row_saving(x["usd"], item)
    if not failed:
        return shown
    return shown + f" + {count(failed)} failed without usage" + (" (not billed)" if line else "")


def _waste(w: dict, r: dict) -> Section:
    section = Section("Output waste")
    t, f, rt, ru = w["truncated"], w["failed"], w["retries"], w["runaway"]
    section.lines.append(
        f"Truncated answers (hit max_tokens): {plural(t['calls'], 'call')}, {_waste_amount(t)}"
        f" — {t['note']}."
    )
    section.lines.append(
        # failed calls of unpriced models only: billed or not, unknown (never "0 calls, $0.00")
        "Failed but billed: an unknown amount" + _failed_uncosted(f, more=False) + "."
        if f["usd"] is None
        else f"Failed but billed: {plural(f['calls'], 'call')}, {money(f['usd'])}"
        + _failed_uncosted(f)
        + "."
    )
    legitimate = f"{count(rt['after_failure'])} more retried a failed call: legitimate"
    section.lines.append(
        f"Retries within {rt['seconds']:g}s of a successful identical call: "
        f"{plural(rt['after_success'], 'call')}, {_retry_cost(rt, line=True)}"
        # (an unknown amount, or the failed ones, is followed by brackets already)
        + (
            f"; {legitimate}."
            if rt["usd"] is None or rt.get("error_unknown_token_calls")
            else f" ({legitimate})."
        )
    )
    if rt["top"]:
        section.tables.append(
            Table(
                ["Retry cost", "Calls", "Feature", "Model", "First", "Example"],
                [
                    [
                        _retry_cost(x),
                        count(x["calls"]),
                        x["feature"],
                        x["model"],
                        (x["first_ts"] or "")[:16].replace("T", " "),
                        _where(x["example"], r),
                    ]
                    for x in rt["top"]
                ]
                + (
                    # the groups past --top, summed (an older report: not said)
                    [[_retry_cost(rt["other_groups"]), count(rt["other_groups"]["calls"]),
                      f"({count(rt['groups'] - len(rt['top']))} more)", "", "", ""]]
                    if rt.get("other_groups")
                    else []
                ),  # fmt: skip
                "rrllll",
            )
        )
    loops = ru.get("looping") or {}
    section.lines.append(
        f"Runaway outputs (above median + {ru['k']:g} × robust sigma of their feature and "
        "model, and not finished: cut at max_tokens, filtered or no finish reason"
        + (
            f"; or looping, finished or not: at least {_repeated(loops['share'])} of the "
            f"answer's word {loops['n']}-grams said for the third time or more"
            if loops
            else ""
        )
        + "): "
        + (
            # none of them with a cost: what a cap saves is unknown, not "0 calls ... $0.00"
            f"{plural(ru['unpriced_calls'], 'call')}; a cap at that length saves an unknown "
            "amount (none of them has a cost)"
            if ru["usd"] is None
            else f"{plural(ru['calls'], 'call')}; a cap at that length saves {money(ru['usd'])}"
            + (
                f" ({plural(ru['unpriced_calls'], 'more runaway call')} without a cost)"
                if ru.get("unpriced_calls")
                else ""
            )
        )
        + "."
    )
    if ru["top"]:
        body = [[money(x["usd"]), *_length_cells(x, r), _runaway_why(x)] for x in ru["top"]]
        other = ru.get("other_groups")  # the groups past --top, summed (an older report: none)
        if other:
            more = f"({count(ru['groups'] - len(ru['top']))} more)"
            body.append(
                [money(other["usd"]), count(other["calls"]), more, "", "", "", "", "",
                 _runaway_why(other)]
            )  # fmt: skip
        section.tables.append(
            Table(
                ["Excess cost", "Calls", "Feature", "Model", "Median out", "Threshold",
                 "Max out", "Worst at", "Why"],
                body,
                "rrllrrrll",
                fold=("Why",),
            )
        )
    # each looping answer with its repeated share: why it was flagged, and where to read it
    if loops.get("calls") or loops.get("unpriced_calls"):
        unpriced = loops.get("unpriced_calls") or 0
        section.lines.append(
            "Looping answers among them: "
            + (
                f"{plural(unpriced, 'call')}, none of them with a cost"
                if loops["usd"] is None
                else f"{plural(loops['calls'], 'call')}, {money(loops['usd'])} above the "
                "threshold"
                + (f" ({plural(unpriced, 'more looping call')} without a cost)" if unpriced else "")
            )
            + "."
        )
    if loops.get("top"):
        section.tables.append(
            Table(
                ["Excess cost", "Repeated", "Feature", "Model", "Output", "Finish", "At"],
                [
                    [
                        money(x["usd"]),
                        _repeated(x["repeated"]),
                        x["feature"],
                        x["model"],
                        count(x["output_tokens"]),
                        x["finish_reason"] or "none",
                        _where({"source": x["source"], "line": x["line"]}, r),
                    ]
                    for x in loops["top"]
                ]
                + (
                    # the looping calls past --top (their sum is the line's, above)
                    [["", "", f"({count(loops['calls'] - len(loops['top']))} more)", "", "",
                      "", ""]]
                    if loops.get("calls", 0) > len(loops["top"])
                    else []
                ),  # fmt: skip
                "rrllrll",
            )
        )
    # answers above the threshold that ended normally: said, with no dollars (not a saving)
    long = ru.get("long_finished") or {}
    if long.get("calls"):
        section.lines.append(
            f"Long answers above that length: {plural(long['calls'], 'call')} — {long['note']}."
        )
        section.tables.append(
            Table(
                ["Calls", "Feature", "Model", "Median out", "Threshold", "Max out",
                 "Longest at"],
                [_length_cells(x, r) for x in long["top"]]
                + (
                    [[count(long["other_calls"]),
                      f"({count(long['groups'] - len(long['top']))} more)", "", "", "", "",
                      ""]]
                    if long.get("groups", 0) > len(long["top"])
                    else []
                ),  # fmt: skip
                "rllrrrl",
            )
        )
    caps = w["caps"]
    if caps["features"]:
        section.lines.append(f"max_tokens far above real use: {caps['note']}.")
        section.tables.append(
            Table(
                ["Feature", "Calls", "p99 output", "Suggested cap", "Median max_tokens",
                 "Calls above"],
                [
                    [
                        c["feature"],
                        count(c["calls"]),
                        count(round(c["p99_output"])),
                        count(c["suggested_max_tokens"]),
                        count(c["median_max_tokens"]),
                        count(c["calls_above_suggested"]),
                    ]
                    for c in caps["features"]
                ]
                + (
                    [[f"({count(caps['feature_count'] - len(caps['features']))} more)",
                      count(caps["other_calls"]), "", "", "", ""]]
                    if caps.get("feature_count", 0) > len(caps["features"])
                    else []
                ),  # fmt: skip
                "lrrrrr",
            )
        )
    return section


def _bloat(b: dict) -> Section:
    section = Section("Prompt bloat")
    if b.get("note"):
        section.lines.append(b["note"])
        return section
    section.lines.append(
        f"System prompts cost {money(b['system_usd'])} of {money(b['input_usd'])} input-side "
        f"spend; repeated boilerplate (system prompts shared by several calls) is "
        f"{money(b['boilerplate_usd'])} ({pct(b['boilerplate_share'])})."
    )
    section.tables.append(
        Table(
            ["System cost", "Of its input", "Calls", "Tokens", "System prompt"],
            [
                [
                    money(x["system_usd"]),
                    pct(x["share_of_input"]),
                    count(x["calls"]),
                    count(x["system_tokens"]),
                    x["preview"] or "",
                ]
                for x in b["top"]
            ],
            "rrrrl",
        )
    )
    section.lines.append(f"Method: {b['method']}.")
    return section


def _anomalies(a: dict) -> Section:
    # its days and its month are of the report's zone (UTC for analyze and check)
    section = Section(f"Anomalies and forecast ({a.get('timezone') or 'UTC'})")
    f = a.get("forecast")
    # no call of the month with a cost: its cost is unknown, never $0
    mtd = (
        no_total(f)
        if f and f["month_to_date_usd"] is None
        else f and f"{money(f['month_to_date_usd'])}{_uncosted_part(f)}"
    )
    if f and f["days_elapsed"] >= f["days_in_month"]:
        # a month that is over (a report of last month) has nothing left to project: its
        # '80% range $6.59 – $6.59' was noise, its total is what it cost
        section.lines.append(
            f"Month {f['month']} (over, all {f['days_in_month']} days): {mtd}, "
            "its total; nothing is left to project."
        )
    elif f and f["projection_usd"] is None:
        section.lines.append(
            f"Month to date ({f['month']}, {f['days_elapsed']:g} of {f['days_in_month']} days): "
            f"{mtd}; {f['range_note']}."
        )
    elif f:
        section.lines.append(
            f"Month to date ({f['month']}, {f['days_elapsed']:g} of {f['days_in_month']} days): "
            f"{mtd}; month-end projection"
            + (
                " of the calls with a cost"  # (a call without tokens is of a priced model)
                if f.get("unknown_token_requests")
                else " of the priced calls"
                if f.get("unpriced_requests")
                else ""
            )
            + f" {money(f['projection_usd'])} "
            + (
                f"(80% range {money(f['low_usd'])} – {money(f['high_usd'])})."
                if f.get("low_usd") is not None
                else f"({f['range_note']})."
            )
        )
        section.lines.append(f"Projection: {f['method']}.")
    found = a["days"] + a["users_and_features"]
    section.lines.append(
        # of how many days of a series checked: 12 flags of 24,000 checks are chance
        f"Anomalies: {count(a['count'])}"
        + (f" of {count(a['checks'])} checks" if a.get("checks") else "")
        + f" ({a['rule']})."
        if a["days_checked"]
        else "Anomalies: none looked for, no day has the history it needs "
        + (
            f"({a['rule'].split('; ')[-1]})."
            if a.get("min_days_with_calls")
            else "(needs a week of days before the one checked)."
        )
    )
    if a.get("not_checked_note"):
        # no anomaly among days that were not checked is no sign that they were usual
        section.lines.append(f"{a['not_checked_note']}.")
    if found and len(found) < a["count"]:
        # 'Anomalies: 28' above a table of 10 rows: the lists hold the top N of each kind
        section.lines.append(
            f"Listed: the {len(found)} with the largest excess (the days, then the users and "
            "features; --top sets how many of each)."
        )
    if found:
        section.tables.append(
            Table(
                ["Day", "Scope", "Who", "Cost", "Baseline", "Excess"],
                [
                    [
                        x["day"],
                        x["scope"],
                        x["key"],
                        money(x["cost_usd"]),
                        money(x["baseline_usd"]),
                        money(x["excess_usd"]),
                    ]
                    for x in found
                ],
                "lllrrr",
            )
        )
    return section


def _selfhost(s: dict) -> Section:
    section = Section("Self-hosting break-even")
    if s.get("note"):
        section.lines.append(s["note"])
        return section
    if s.get("volume_since"):  # a log longer than a month: its last month's volume
        volume = (
            f"volumes of the last {s['volume_days']:g} days of the log (from "
            f"{s['volume_since'][:16].replace('T', ' ')} UTC; the log spans "
            f"{plural(s['log_days'], 'day')})"
        )
    else:
        volume = f"volumes scaled to a month from {plural(s['log_days'], 'day')} of log"
    section.lines.append(
        f"At {money(s['gpu_hour_usd'])} per GPU-hour, {volume}. Assumption: {s['assumption']}."
    )
    if s.get("untimed_calls"):  # (a report of an older llmcost has none)
        untimed = plural(
            s["untimed_calls"], "call without a timestamp is", "calls without a timestamp are"
        )
        section.lines.append(
            f"{untimed} left out of the monthly figures: a call that says not when it was "
            "made has no place in the log's span"
        )
    section.tables.append(
        Table(
            ["Model", "Open-weight class", "Tokens/month", "API/month", "Self-host/month",
             "Break-even tokens/month"],
            [
                [
                    w["model"],
                    w["reference"],
                    count(w["monthly_input_tokens"] + w["monthly_output_tokens"]),
                    money(w["monthly_api_usd"]),
                    money(w["selfhost_monthly_usd"]),
                    count(w["breakeven_monthly_tokens"])
                    if w["breakeven_monthly_tokens"] is not None
                    else "never",
                ]
                for w in s["workloads"]
            ],
            "llrrrr",
            spare=("Self-host/month",),  # the break-even volume says what it costs
        )
    )
    more = (s.get("models") or 0) - len(s["workloads"])  # (an older report: no count)
    if more > 0:
        section.lines.append(
            f"Listed: the {len(s['workloads'])} of {count(s['models'])} models with the "
            f"largest API cost a month; the other {count(more)} cost "
            f"{money(s['other_models_monthly_api_usd'])} a month (--top lists more)."
        )
    return section


# ---------------------------------------------------------------------------------------
# Audit (issue 4): reported vs recounted tokens, reported vs computed cost
# ---------------------------------------------------------------------------------------


def audit_sections(r: dict) -> list[Section]:
    """The ``audit`` of a report (``analyze --recount``, logged costs, ``llmcost audit``)."""
    a = r.get("audit")
    if not a:
        return []
    out = []
    threshold = f"{a['threshold_pct']:g}%"
    t = a.get("tokens")
    if t is not None:
        section = Section("Audit: reported vs recounted tokens")
        section.lines.append(
            f"{plural(t['compared_requests'], 'call')} compared (reported − recounted; off = "
            "more "
            f"than {threshold} from the recount); {count(t['requests_without_reported_counts'])}"
            f" recounted had no reported counts, {count(t['requests_without_text'])} had no "
            "text to recount"
        )
        tool_answers = t.get("tool_call_answers") or {}
        if tool_answers.get("calls"):
            section.lines.append(
                f"{plural(tool_answers['calls'], 'call')} answered with tool calls: output not "
                f"recounted ({tool_answers['reason']}); left out of the output deltas"
            )
        for source, title in (("counted", "Counted exactly"), ("estimated", "Estimated")):
            models = [m for m in t["by_model"] if m["token_source"] == source]
            if not models:
                continue
            tot = t["totals"][source]
            encodings = ", ".join(sorted({m["encoding"] for m in models}))
            section.lines.append(
                f"{title} ({encodings}): {plural(tot['calls'], 'call')}, "
                f"{count(tot['off_calls'])} off by more than {threshold}; Δ input "
                f"{_audit_signed(tot['input_delta_tokens'])}, Δ output "
                f"{_audit_signed(tot['output_delta_tokens'])} tokens = "
                + (
                    "unpriced"
                    if tot["delta_cost_usd"] is None
                    else _audit_signed_money(tot["delta_cost_usd"])
                    + (
                        f" (without {plural(tot['unpriced_calls'], 'unpriced call')}"
                        + (
                            "; * marks a Δ $ that leaves some of its calls out"
                            if any(
                                0 < m[side]["unpriced_calls"] < m[side]["calls"]
                                for m in models
                                for side in ("input", "output")
                                if m[side]
                            )
                            else ""
                        )
                        + ")"
                        if tot["unpriced_calls"]
                        else ""
                    )
                )
                + (
                    f"; {plural(tot['cache_read_priced_tokens'], 'extra input token')} priced "
                    "at the cache-read price, as the log reports them read from cache ("
                    + money(tot["delta_cost_at_input_price_usd"] - tot["delta_cost_usd"])
                    + " less than at the input price)"
                    if tot.get("cache_read_priced_tokens")
                    and tot["delta_cost_usd"] is not None
                    and tot["delta_cost_at_input_price_usd"] is not None
                    else ""
                )
            )
            # an estimate's family factor in a column of its own: appended to the name, it
            # was cut with it at 80 columns ('cla…9 ×1.2', 'cla…0 ×1.2')
            factors = any(m["factor"] != 1 for m in models)
            section.tables.append(
                Table(
                    ["Model", *(["Factor"] if factors else []), "Side", "Calls", "Reported",
                     "Recounted", "Mean Δ", "Mean Δ%", "Worst Δ", "Worst Δ%", "Off", "Δ $"],
                    [
                        [
                            m["model"],
                            *([f"×{m['factor']:g}"] if factors else []),
                            side,
                            count(s["calls"]),
                            count(s["reported_tokens"]),
                            count(s["recounted_tokens"]),
                            _audit_signed(s["mean_delta"], 1),
                            _audit_signed_pct(s["mean_delta_pct"]),
                            # one call, the furthest off in percent: "Worst Δ −2, Worst Δ%
                            # +11.1%" read as one call and were two (the JSON's "worst" is
                            # the call furthest off in tokens)
                            _audit_signed(s["worst_pct"]["delta"]),
                            _audit_signed_pct(s["worst_pct"]["delta_pct"]),
                            count(s["off_calls"]),
                            "unpriced"
                            if s["unpriced_calls"] == s["calls"]
                            else _audit_signed_money(s["delta_cost_usd"])
                            + ("*" if s["unpriced_calls"] else ""),  # said above the table
                        ]
                        for m in models
                        for side in ("input", "output")
                        if (s := m[side])
                    ],
                    "l" + ("r" if factors else "") + "lrrrrrrrrr",
                    optional=("Mean Δ", "Worst Δ"),  # the model's name before the raw deltas
                    # said once, above the first table; of the columns it shows (a line about
                    # a Worst Δ left out at 80 columns was read as about the table's Δ%). The
                    # second says only what it leaves out, in a legend line too: the generic
                    # line under it read as a legend of its own, below the one above
                    legend=_audit_second_token_legend if section.tables else _audit_token_legend,
                )
            )
        if t["off_calls"]:
            # a side no listed call was compared on (all "—") is left out
            sides = [
                side
                for side in ("input", "output")
                if any(
                    c[f"reported_{side}"] is not None or c[f"recounted_{side}"] is not None
                    for c in t["off_calls"]
                )
            ]
            section.tables.append(
                Table(
                    ["Call", "Where", "Model"]
                    # the header wraps at its spaces, to the width of its cells
                    + [f"{side.capitalize()} reported / recount" for side in sides]
                    + ["Δ $"],
                    [
                        [
                            c["request_id"],
                            f"{_short(c['source'] or '?', r)}:{c['line']}",
                            c["model"] + (" (est.)" if c["token_source"] == "estimated" else ""),
                            *(
                                _audit_pair(
                                    c[f"reported_{side}"],
                                    c[f"recounted_{side}"],
                                    c["token_source"] == "estimated",
                                )
                                for side in sides
                            ),
                            _audit_signed_money(c["delta_cost_usd"]),
                        ]
                        for c in t["off_calls"]
                    ],
                    "lll" + "r" * (len(sides) + 1),
                    optional=("Call",),  # Where names the call; a narrow terminal drops the id
                )
            )
        section.lines.extend(f"Hint: {h}" for h in t["hints"])
        out.append(section)
    c = a.get("cost")
    if c is not None:
        section = Section("Audit: reported vs computed cost")
        # the amounts compared with the digits their Δ has ('$0.01 vs $0.0090, Δ +$0.0045')
        reported, computed = money_to_delta(
            [c["reported_cost_usd"], c["computed_cost_usd"]], c["delta_usd"]
        )
        section.lines.append(
            f"{plural(c['requests_with_reported_cost'], 'call carries', 'calls carry')} a cost in "
            "the log: reported "
            f"{reported} vs computed {computed} "
            f"(Δ {_audit_signed_money(c['delta_usd'])}, {_audit_signed_pct(c['delta_pct'])}); "
            f"{plural(c['off_calls'], 'call differs', 'calls differ')} by more than {threshold}"
            + (
                f"; {count(c['unpriced_requests'])} unpriced (reported "
                f"{money(c['unpriced_reported_cost_usd'])}, not compared)"
                if c["unpriced_requests"]
                else ""
            )
        )
        section.tables.append(
            Table(
                ["Model", "Provider", "Calls", "Reported", "Computed", "Δ", "Δ%", "Off",
                 "Unpriced (reported)"],
                [
                    [
                        m["model"],
                        m["provider"] or "?",
                        count(m["calls"]),
                        *money_to_delta(
                            [m["reported_cost_usd"], m["computed_cost_usd"]], m["delta_usd"]
                        ),
                        _audit_signed_money(m["delta_usd"]),
                        _audit_signed_pct(m["delta_pct"]),
                        count(m["off_calls"]),
                        # the reported cost of calls not priced is not in Reported (nor Δ)
                        f"{count(m['unpriced_calls'])} ({money(m['unpriced_reported_cost_usd'])})"
                        if m["unpriced_calls"]
                        else "0",
                    ]
                    for m in c["by_model"]
                ],
                "llrrrrrrr",
                optional=("Provider",),  # the model's name names it
            )
        )
        if c["disagreements"]:
            section.tables.append(
                Table(
                    ["Call", "Where", "Model", "Reported", "Computed", "Δ", "Δ%"],
                    [
                        [
                            d["request_id"],
                            f"{_short(d['source'] or '?', r)}:{d['line']}",
                            d["model"],
                            *money_to_delta(
                                [d["reported_cost_usd"], d["computed_cost_usd"]], d["delta_usd"]
                            ),
                            _audit_signed_money(d["delta_usd"]),
                            _audit_signed_pct(d["delta_pct"]),
                        ]
                        for d in c["disagreements"]
                    ],
                    "lllrrrr",
                    optional=("Call",),
                )
            )
        section.lines.extend(f"Hint: {h}" for h in c["hints"])
        out.append(section)
    return out


def _audit_token_legend(shown: list[str]) -> list[str]:
    """The token audit table's columns explained, those ``shown`` only."""
    worst = (
        "Worst Δ and Worst Δ%: the call furthest off from its recount, in tokens and in "
        "percent"
        if "Worst Δ" in shown
        else "Worst Δ%: the call furthest off from its recount, in percent"
    )
    return [
        "Mean Δ%: the Δ of the summed tokens in % of the summed recount ("
        + ("the sign of the Mean Δ; " if "Mean Δ" in shown else "")
        + "longer calls weigh more); "
        + worst
    ]


def _audit_second_token_legend(shown: list[str]) -> list[str]:
    """The estimated models' token table, below the counted one: its columns are those
    explained above it, so its legend has a line only when some are left out (the
    terminal adds which to it)."""
    if all(c in shown for c in ("Mean Δ", "Worst Δ")):
        return []
    return ["Columns as in the table above"]


def _audit_signed(value, digits: int = 0) -> str:
    """A signed count with a minus sign (−), as every renderer signs: "-213" beside
    "−$0.0026" in one line read as two kinds of number."""
    if value is None:
        return "—"
    return f"{value:+,.{digits}f}".replace("-", "−")


def _audit_signed_pct(value) -> str:
    return "—" if value is None else f"{value:+.1f}%".replace("-", "−")


def _audit_signed_money(value) -> str:
    if value is None:
        return "—"
    return ("+" if value > 0 else "−" if value < 0 else "") + money(abs(value))


def _audit_pair(reported, recounted, estimated: bool = False) -> str:
    """"reported/recount", the recount "~"-marked when it is an estimate: a cut Model cell
    loses its "(est.)"."""
    if reported is None and recounted is None:
        return "—"
    return f"{count(reported)}/{'~' if estimated and recounted is not None else ''}{count(recounted)}"
