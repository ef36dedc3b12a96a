"""The report as neutral sections (headings, lines, tables), shared by the text renderers.

Markdown and the terminal show the same numbers; only the formatting differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llmcost.render import WEEKDAYS, count, money, pct


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    align: str = ""  # one char per column: l or r (default l for the first, r for the rest)
    heat: list[list[float]] | None = None  # cell weights 0..1 for a heat grid


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def sections(report: dict) -> list[Section]:
    out = [_summary(report)]
    out.append(_by_model(report))
    out.append(_by_day(report))
    out.extend(_expensive(report))
    out.append(_peaks(report))
    out.append(_cache(report))
    out.append(_downgrade(report))
    out.extend(_problems(report))
    return out


def _summary(r: dict) -> Section:
    s = r["summary"]
    lines = [
        f"Total cost: {money(s['total_cost_usd'])} over {count(s['requests'])} calls"
        + (f", {s['first_ts'][:10]} → {s['last_ts'][:10]}" if s.get("first_ts") else ""),
        f"Tokens: {count(s['input_tokens'])} input (of which {count(s['cache_read_tokens'])} "
        f"cache reads, {count(s['cache_write_tokens'])} cache writes), "
        f"{count(s['output_tokens'])} output (of which {count(s['reasoning_tokens'])} reasoning)",
        "Cost by part: "
        + ", ".join(f"{k.replace('_', ' ')} {money(v)}" for k, v in s["cost_by_part"].items()),
    ]
    if s["unpriced_requests"]:
        lines.append(
            f"Unpriced: {count(s['unpriced_requests'])} calls of models without a price "
            "(not counted as $0; listed below)"
        )
    if s["unknown_token_requests"]:
        lines.append(
            f"Unknown tokens: {count(s['unknown_token_requests'])} calls had no token counts "
            "and no text to count"
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
            f"Failed calls: {count(s['error_requests'])} (billed {money(s['error_cost_usd'])})"
        )
    if s["truncated_requests"]:
        lines.append(
            f"Truncated answers (hit max tokens): {count(s['truncated_requests'])} "
            f"({money(s['truncated_cost_usd'])})"
        )
    if s["requests_without_timestamp"]:
        lines.append(
            f"{count(s['requests_without_timestamp'])} calls had no timestamp: "
            "priced at today's prices, left out of daily and peak views"
        )
    lines.extend(r.get("notes") or [])
    if r.get("pricing_version"):
        lines.append(f"Prices: llmcost tables checked {r['pricing_version']}")
    return Section("Summary", lines)


def _by_model(r: dict) -> Section:
    rows = [
        [
            m["model"],
            m["provider"] or "?",
            count(m["requests"]),
            count(m["input_tokens"]),
            count(m["output_tokens"]),
            money(m["cost_usd"]) if m["cost_usd"] is not None else "unpriced",
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


def _by_day(r: dict) -> Section:
    rows = [[d["day"], count(d["requests"]), money(d["cost_usd"])] for d in r["by_day"]]
    return Section("Cost by day", tables=[Table(["Day", "Calls", "Cost"], rows, "lrr")])


def _expensive(r: dict) -> list[Section]:
    e = r["expensive"]
    calls = Section(
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
                        f"{_short(x['source'])}:{x['line']}",
                        x["preview"] or "",
                    ]
                    for x in e["requests"]
                ],
                "rlllllll",
            )
        ],
    )
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


def _peaks(r: dict) -> Section:
    p = r["peaks"]
    section = Section(f"Peak times ({p['timezone']})")
    if not p["grid"]:
        section.lines.append("no timestamps")
        return section
    cells = {(c["weekday"], c["hour"]): c["cost_usd"] for c in p["grid"]}
    top = max(cells.values()) or 1.0
    rows, heat = [], []
    for day in range(7):
        rows.append([WEEKDAYS[day]] + [_cell(cells.get((day, h))) for h in range(24)])
        heat.append([0.0] + [(cells.get((day, h)) or 0.0) / top for h in range(24)])
    section.tables.append(
        Table(["Cost"] + [f"{h:02d}" for h in range(24)], rows, "l" + "r" * 24, heat)
    )
    if p["busiest_minute"]:
        m = p["busiest_minute"]
        section.lines.append(
            f"Busiest minute: {m['minute'][:16].replace('T', ' ')} — {count(m['requests'])} calls, "
            f"{count(m['input_tokens'])} input and {count(m['output_tokens'])} output tokens, "
            f"{money(m['cost_usd'])}"
        )
    if p["costliest_hour"]:
        h = p["costliest_hour"]
        section.lines.append(
            f"Costliest hour: {h['hour'][:13].replace('T', ' ')}h — "
            f"{count(h['requests'])} calls, {money(h['cost_usd'])}"
        )
    section.lines.append("Grid: cost in dollars per weekday and hour; '·' no calls, k = thousands.")
    return section


def _cell(value: float | None) -> str:
    if value is None:
        return "·"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    if value >= 10:
        return f"{value:.0f}"
    if value >= 0.01:
        return f"{value:.2f}".lstrip("0") if value < 1 else f"{value:.1f}"
    return "<.01"


def _cache(r: dict) -> Section:
    c = r["cache"]
    e = c["exact_repeats"]
    section = Section("Cache-hit potential")
    if c.get("note"):
        section.lines.append(c["note"])
    else:
        section.lines.append(
            f"Exact repeats (same model, same full prompt): {count(e['requests'])} calls "
            f"({pct(e['share'])}) — a response cache would save {money(e['usd'])}."
        )
        section.lines.append(f"Assumption: {e['assumption']}.")
        if e["top"]:
            section.tables.append(
                Table(
                    ["Saving", "Calls", "Model", "Prompt"],
                    [
                        [money(g["usd"]), count(g["requests"]), g["model"], g["preview"] or ""]
                        for g in e["top"]
                    ],
                    "rrll",
                )
            )
    used = c["prompt_caching_in_use"]
    if used["cache_read_tokens"]:
        section.lines.append(
            f"Prompt caching already in use: {count(used['cache_read_tokens'])} cached input tokens "
            f"on {count(used['requests_with_cache_reads'])} calls saved {money(used['saved_usd'])}."
        )
    return section


def _downgrade(r: dict) -> Section:
    d = r["downgrade"]
    section = Section("Model-downgrade savings (upper bound)")
    if not d["candidates"]:
        section.lines.append("no priced model here has a cheaper sibling in the pricing tables")
        return section
    section.lines.append(f"Up to {money(d['total_savings_usd'])} — {d['assumption']}.")
    section.tables.append(
        Table(
            ["Model", "→ Cheaper sibling", "Calls", "Cost now", "Cost on sibling", "Saving"],
            [
                [
                    c["model"],
                    c["target"],
                    count(c["requests"]),
                    money(c["cost_usd"]),
                    money(c["target_cost_usd"]),
                    money(c["savings_usd"]),
                ]
                for c in d["candidates"]
            ],
            "llrrrr",
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
                    )
                ],
            )
        )
    rej = r["rejected"]
    if rej["count"]:
        section = Section("Rejected lines")
        section.lines.append(
            f"{count(rej['count'])} lines were rejected: kept with their reason, "
            "not counted in any total."
        )
        section.tables.append(
            Table(
                ["Where", "Reason"],
                [[f"{_short(x['source'])}:{x['line']}", x["reason"]] for x in rej["samples"]],
                "ll",
            )
        )
        if rej["count"] > len(rej["samples"]):
            section.lines.append(f"… and {count(rej['count'] - len(rej['samples']))} more")
        out.append(section)
    return out


def _short(path: str) -> str:
    return path.rsplit("/", 1)[-1]
