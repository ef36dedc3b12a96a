"""Check results, report diffs and period comparisons as neutral sections, and their
Markdown and terminal forms.

Every cell is text from a report; the Markdown form escapes it (``render.md_escape``: HTML,
@mentions, links, table syntax), so a model name or user id from a log cannot inject markup
or ping anyone in a pull-request comment or a CI summary, and the terminal form never reads
cells as Rich markup.
"""

from __future__ import annotations

# (SMALL_BASE_USD: a change in dollars from less reads as where it came from, not a percent)
from llmcost.budgets import SMALL_BASE_USD, uncosted_text
from llmcost.render import count, md_escape, money, money_beside, pct, plural
from llmcost.render.layout import Section, Table, row_cost, total_over
from llmcost.render.markdown import table

STATUS = {"ok": "✅ ok", "fail": "❌ FAIL", "warn": "⚠️ warn", "unknown": "❔ unknown"}
PLAIN_STATUS = {"ok": "ok", "fail": "FAIL", "warn": "warn", "unknown": "unknown"}
_RANK = {"fail": 0, "unknown": 1, "warn": 2, "ok": 3}


def signed_money(value: float | None) -> str:
    if value is None:
        return "—"
    text = money(abs(value))
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def signed_pct(value: float | None, state: str = "", base_usd: float | None = None) -> str:
    """A percent change; a change in dollars (``base_usd`` given) from under a cent reads
    "from $0.000059" (the JSON keeps the percentage)."""
    if state in ("new", "gone"):
        return state
    if value is None:
        return "new"  # from $0 to something
    if base_usd is not None and 0 < abs(base_usd) < SMALL_BASE_USD and value != 0:
        return f"from {money(base_usd)}"
    return f"{value:+.1f}%".replace("-", "−")


def limit_text(rule: dict) -> str:
    if rule["unit"] == "usd":
        return money_beside(rule["limit"], rule["actual"])
    if rule["unit"] == "pct":
        return f"{rule['limit']:g}%"
    return plural(rule["limit"], "call")


def actual_text(rule: dict) -> str:
    value = rule["actual"]
    if value is None:
        return "∞ (baseline $0)" if rule["unit"] == "pct" and rule["status"] != "unknown" else "—"
    if rule["unit"] == "usd":
        return money_beside(value, rule["limit"])
    if rule["unit"] == "pct":
        return f"{value:+.1f}%".replace("-", "−")
    return plural(int(value), "call")


def headline(result: dict) -> str:
    n = len(result["rules"])
    if result["status"] == "fail":
        return f"{result['breached']} of {plural(n, 'budget rule')} breached"
    if result["status"] == "warn":
        return f"budget holds, with {plural(result['warnings'], 'warning')} ({plural(n, 'rule')})"
    return f"{n} of {plural(n, 'budget rule holds', 'budget rules hold')}"


def check_sections(result: dict, emoji: bool = True) -> list[Section]:
    statuses = STATUS if emoji else PLAIN_STATUS
    icon = {"fail": "❌ ", "warn": "⚠️ ", "ok": "✅ "}[result["status"]] if emoji else ""
    summary = Section(f"{icon}LLM budget check: {headline(result)}")
    when = ""
    if result.get("first_ts"):
        when = f", {result['first_ts'][:10]} → {result['last_ts'][:10]}"
    # the calls in no cost, by why: no price, or no token counts
    uncosted = uncosted_text(
        {
            "unpriced_requests": result.get("unpriced_requests") or 0,
            "unknown_token_requests": result.get("unknown_token_requests") or 0,
        }
    )
    # no call with a cost: the total is unknown, never $0 (the rule's row reads —)
    total = "unknown" if result["total_cost_usd"] is None else money(result["total_cost_usd"])
    for rule in result["rules"]:
        # the total as its rule's row shows it, with the digits that tell it from the limit:
        # "Total cost: $0.01" above "Limit $0.010, Actual $0.011, FAIL" read as a pass
        if rule["rule"] == "max_cost" and rule["actual"] == result["total_cost_usd"]:
            total = max(total, actual_text(rule), key=len)
    summary.lines.append(
        f"Total cost: {total} over {plural(result['requests'], 'call')}"
        # the calls in no cost, as report's headline says (never $0)
        + (f" ({uncosted}, not counted as $0)" if uncosted else "")
        + when
    )
    stored = result.get("rejected_in_store")
    if (
        result.get("rejected")
        and result.get("rejected_window")
        and (stored or 0) > result["rejected"]
    ):
        # a window's rejected lines are those it dates among its calls (a line has no time of
        # its own): '4 log lines were rejected' read beside the ingest's '5 rejected'
        summary.lines.append(
            f"Not counted: {plural(result['rejected'], 'log line was', 'log lines were')} "
            f"rejected in this window, of {count(stored)} stored (a rejected line has no time of"
            " its own: the call logged before it in its file dates it; llmcost analyze --format"
            " json lists each with its file, line and reason)"
        )
    elif result.get("rejected"):
        summary.lines.append(
            f"Not counted: {plural(result['rejected'], 'log line was', 'log lines were')} rejected "
            "(llmcost analyze --format json lists each with its file, line and reason)"
        )
    summary.lines.extend(result.get("notes") or [])
    summary.tables.append(
        Table(
            ["Rule", "Scope", "Limit", "Actual", "Status", "Detail"],
            [
                [
                    r["title"] + (" (warn)" if r["level"] == "warn" else ""),
                    str(r["scope"]),
                    limit_text(r),
                    actual_text(r),
                    statuses[r["status"]],
                    r["detail"] or "",
                ]
                # the reasons for failing first, then what is unknown, warned of, holds
                for r in sorted(result["rules"], key=lambda r: _RANK.get(r["status"], 1))
            ],
            "llrrll",
            whole=("Rule", "Scope"),  # which rule, on what: never cut (see terminal)
        )
    )
    out = [summary]
    if result["top_models"]:
        body = [
            [m["model"], m["provider"] or "?", count(m["requests"]), row_cost(m), pct(m["share"])]
            for m in result["top_models"]
        ]
        other = result.get("other_models")  # the rest, summed (a verdict of before: none)
        if other:
            more = result["models"] - len(result["top_models"])
            body.append(
                [f"({count(more)} more)", "", count(other["requests"]), row_cost(other),
                 pct(other["share"])]
            )  # fmt: skip
        out.append(
            Section(
                "Top models",
                tables=[Table(["Model", "Provider", "Calls", "Cost", "Share"], body, "llrrr")],
            )
        )
    if result.get("baseline"):
        out.extend(diff_sections(result["baseline"], "Change vs baseline"))
    return out


def _change_table(block: dict | None, key: str, label: str) -> Table | None:
    if not block or not block["rows"]:
        return None

    def cost(r, side):
        # calls without a price or without token counts are in no cost: never shown as $0
        usd = r[f"{side}_usd"]
        unpriced = r.get(f"{side}_unpriced_requests", 0)
        unknown = r.get(f"{side}_unknown_token_requests", 0)
        if usd is None:  # (as a day's cost reads: render.layout._day_cost)
            if unknown and not unpriced:
                return "no tokens"
            return "unpriced" + (f" + {count(unknown)} without tokens" if unknown else "")
        return (
            money(usd)
            + (f" + {count(unpriced)} unpriced" if unpriced else "")
            + (f" + {count(unknown)} without tokens" if unknown else "")
        )

    rows = []
    for r in block["rows"]:
        # no change where a side's cost is unknown: a model that lost its price is no saving
        known = r["change_usd"] is not None
        rows.append(
            [
                "(none)" if r[key] is None else str(r[key]),
                cost(r, "base"),
                cost(r, "head"),
                signed_money(r["change_usd"]) if known else "—",
                signed_pct(r["change_pct"], r["state"], r["base_usd"])
                if known
                else r["state"] or "—",
                f"{count(r['base_requests'])} → {count(r['head_requests'])}",
            ]
        )
    if block["more"]:
        rows.append([f"… {block['more']} more", "", "", "", "", ""])
    return Table([label, "Before", "After", "Change", "Change %", "Calls"], rows, "lrrrrr")


def _side_total(usd: float | None) -> str:
    """A diff side's total: 'unknown' when none of its calls has a cost (never $0)."""
    return "unknown" if usd is None else money(usd)


def diff_sections(diff: dict, title: str = "LLM cost diff", movers: str = "") -> list[Section]:
    t, r = diff["total"], diff["requests"]
    head = Section(title)
    head.lines.append(
        f"Total cost: {_side_total(t['base_usd'])} → {_side_total(t['head_usd'])} "
        + (
            f"({signed_money(t['change_usd'])}, "
            f"{signed_pct(t['change_pct'], base_usd=t['base_usd'])})"
            if t["change_usd"] is not None
            else "(no change known: a side has no call with a cost)"
        )
    )
    head.lines.append(
        f"Calls: {count(r['base'])} → {count(r['head'])} "
        f"({'+' if r['change'] >= 0 else '−'}{count(abs(r['change']))}, {signed_pct(r['change_pct'])})"
    )
    head.lines.extend(diff.get("notes") or [])
    out = [head]
    suffix = f" {movers}" if movers else ""
    for block, key, label, name in (
        ("by_model", "model", "Model", "By model"),
        ("by_feature", "feature", "Feature", "By feature"),
        ("by_user", "user_id", "User", "By user"),
    ):
        table = _change_table(diff.get(block), key, label)
        if table:
            out.append(Section(name + suffix, tables=[table]))
    return out


def period_sections(report: dict, emoji: bool = True) -> list[Section]:
    """The period, its comparison with the one before, alerts and daily costs (local days)."""
    p = report["report_period"]
    s = report["summary"]
    alerts = report.get("alerts") or []
    title = f"LLM cost report — {p['label']}"
    if alerts:
        title = ("🚨 " if emoji else "ALERT: ") + title
    head = Section(title)
    head.lines.append(f"Period: {p['describe']}")
    uncosted = uncosted_text(s)
    head.lines.append(
        f"Cost: {total_over(s)}"
        # the calls in no cost, by why, as the days below and the summary say (never $0); a
        # total of none has said why
        + (
            f" ({uncosted}, not counted as $0)"
            if uncosted and s["total_cost_usd"] is not None
            else ""
        )
    )
    idle, unlogged = p.get("idle_days") or [], p.get("days_not_logged") or 0
    if idle or unlogged:  # which days of no call are history ($0), which unknown
        since = (p.get("logged_since") or "")[:10]
        parts = [f"{plural(len(idle), 'idle day')} (no call, counted as $0)"] if idle else []
        if unlogged:
            parts.append(f"{plural(unlogged, 'day')} before logging began ({since}): unknown")
        head.lines.append("Days without a call: " + "; ".join(parts))
    if p.get("last_call_before_end"):  # no call: a quiet period, or logs no longer read?
        last = p["last_call_before_end"][:16].replace("T", " ")
        head.lines.append(
            f"Last call stored before the period's end: {last} {p.get('tz') or 'UTC'}"
        )
    if p.get("undated_calls"):
        head.lines.append(
            f"Not in any period: {plural(p['undated_calls'], 'stored call')} logged without a time"
        )
    prev = p.get("previous") or {}
    comparison = report.get("comparison")
    # logging began inside the period before: what it holds covers only part of it
    partly = (prev.get("partly_logged_since") or "")[:10]
    partly_said = f"only partly logged (from {partly}, when logging began)"
    if comparison:
        t = comparison["total"]
        # its calls in no cost, as the Cost line says of the period's own (never $0)
        before_uncosted = uncosted_text(prev)
        change = (
            f"change {signed_money(t['change_usd'])} "
            f"({signed_pct(t['change_pct'], base_usd=t['base_usd'])})"
            if t["change_usd"] is not None
            else "change unknown (a period without a call with a cost)"
        )
        head.lines.append(
            f"Before ({prev.get('label', 'previous period')}, {prev.get('describe', '')}): "
            + (f"{partly_said}: " if partly else "")
            + f"{_side_total(t['base_usd'])} over "
            f"{plural(comparison['requests']['base'], 'call')}"
            + (f" ({before_uncosted}, not counted as $0)" if before_uncosted else "")
            + (" in its logged part — " if partly else " — ")
            + change
            + (", against that part only" if partly else "")
        )
    elif partly:
        head.lines.append(
            f"Before ({prev.get('label', 'previous period')}): {partly_said}: "
            "no calls in its logged part"
        )
    elif prev.get("not_logged"):  # before the store's first call or ingest: unknown
        head.lines.append(
            f"Before ({prev.get('label', 'previous period')}): not logged (before "
            f"{(p.get('logged_since') or '')[:10]}, when logging began)"
        )
    else:
        head.lines.append(
            f"Before ({prev.get('label', 'previous period')}): no calls to compare with"
        )
    jump = p.get("day_over_day")
    if jump:
        change = (
            f"{jump['day']} {money(jump['cost_usd'])}, {signed_pct(jump['change_pct'])} on "
            f"{jump['previous_day']} ({money(jump['previous_cost_usd'])})"
        )
        if 0 < jump["previous_cost_usd"] < SMALL_BASE_USD:  # no percentage from under a cent
            change = (
                f"{jump['day']} {money(jump['cost_usd'])} after {money(jump['previous_cost_usd'])} "
                f"on {jump['previous_day']}"
            )
        # (the largest change may be a fall: no day cost more than the day before)
        if jump["change_pct"] > 0:
            head.lines.append(f"Largest day-over-day rise: {change}")
        else:
            head.lines.append(f"No day-over-day rise (the closest: {change})")
    for alert in alerts:
        head.lines.append(("🚨 Alert: " if emoji else "ALERT: ") + alert["message"])
    out = [head]
    if p.get("daily"):
        out.append(
            Section(
                f"Cost by day ({p['tz']})",
                tables=[
                    Table(
                        ["Day", "Calls", "Cost"],
                        [
                            [
                                d["day"],
                                count(d["requests"]),
                                # as analyze's Cost by day: calls without a price or
                                # without token counts are in no cost, never $0
                                row_cost(d),
                            ]
                            for d in p["daily"]
                        ],
                        "lrr",
                    )
                ],
            )
        )
    if comparison:
        out.extend(diff_sections(comparison, "Top movers", f"vs {prev.get('label', 'before')}")[1:])
    return out


# ---------------------------------------------------------------- Markdown


def markdown(sections: list[Section], level: int = 2) -> str:
    out: list[str] = []
    for i, section in enumerate(sections):
        hashes = "#" * (level if i == 0 else level + 1)
        out += [f"{hashes} {md_escape(section.title)}", ""]
        out += [f"- {md_escape(line)}" for line in section.lines]
        if section.lines:
            out.append("")
        for t in section.tables:
            out += table(t) + [""]
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- terminal


def terminal(sections: list[Section], console) -> None:
    from rich.rule import Rule
    from rich.text import Text

    from llmcost.render.terminal import FitTable, print_wrapped

    for i, section in enumerate(sections):
        if i == 0:
            console.print(Text(section.title, style="bold underline"))
        else:
            console.print(Rule(Text(section.title, style="bold cyan"), align="left"))
        for line in section.lines:
            print_wrapped(console, line)
        for t in section.tables:
            if t.columns[-1] == "Detail":
                _rules(t, console)
            else:
                console.print(FitTable(t, style=_style), crop=False)


def _rules(t, console) -> None:
    """The check's rules: a table whose Detail (why a rule broke) shows whole when it fits
    the width; else the table without it, its Rule and Scope wrapped if they must be (never
    cut), and each rule's detail below it, wrapped to the width ("Feature cost, each
    feature: 6 above: code-review ($3.23), ...")."""
    from llmcost.render.terminal import FitTable, _natural_width, plan, print_wrapped

    shown, fitted, _ = plan(t, console.width)
    if fitted is not None and shown.columns == t.columns:
        if fitted[0][-1] >= _natural_width(t, len(t.columns) - 1):
            console.print(FitTable(t, style=_style), crop=False)
            return
    rules = Table(
        t.columns[:-1],
        [row[:-1] for row in t.rows],
        t.align[:-1],
        fold=t.whole,  # Rule and Scope: wrapped at this width, not cut
    )
    console.print(FitTable(rules, style=_style), crop=False)
    for row in t.rows:  # wrapped at spaces as the lines above are: a path stays whole
        if row[-1]:
            print_wrapped(console, f"- {row[0]}, {row[1]}: {row[-1]}")


def _style(cell) -> str:
    return {"FAIL": "bold red", "warn": "yellow", "unknown": "yellow", "ok": "green"}.get(
        str(cell), ""
    )
