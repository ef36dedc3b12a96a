"""One self-contained HTML file: the report's tables and charts, nothing fetched to view it.

Charts are drawn by matplotlib, imported only here (a ``Figure`` saved straight to SVG: no
pyplot, no GUI backend, no global state changed) and inlined as ``<svg>``; there is no JavaScript, no external font, image
or stylesheet, and a Content-Security-Policy that forbids loading any. Every piece of text
from the logs (prompts, user ids, model names, features) is HTML-escaped, in the tables by
``html.escape`` and in the SVG by matplotlib's own XML escaping; math-text parsing is off so
a ``$`` in a model name is just a character.
"""

from __future__ import annotations

import html
import io
import re

from llmcost import __version__
from llmcost.render import WEEKDAYS
from llmcost.render.layout import (
    Section,
    Table,
    bucket_costs,
    overlays_text,
    reports_headline,
    sections,
    total_over,
    usage_reports_only,
)

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
MAX_SERIES = 8  # models shown in the daily chart; the rest are stacked as "other"
MAX_BARS = 12

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:1200px;padding:0 1rem;color:#1f2328;background:#fff}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
.meta{color:#59636e;font-size:.9rem}
.alert{background:#ffebe9;border:1px solid #ff8182;border-radius:6px;padding:.6rem 1rem;
margin:1rem 0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:1rem}
figure{margin:0;border:1px solid #d0d7de;border-radius:6px;padding:.5rem}
figcaption{font-weight:600;margin:.2rem .4rem}
figure svg{width:100%;height:auto}
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #eaeef2;vertical-align:top}
th{text-align:left;background:#f6f8fa}td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}
td.text{max-width:36rem;overflow-wrap:anywhere}
ul{padding-left:1.2rem}.scroll{overflow-x:auto;max-width:100%}
"""


def _e(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _label(text, width: int = 32) -> str:
    text = "(none)" if text is None else str(text)
    text = " ".join(text.split())  # no newlines or tabs in tick labels
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------- charts


class _Charts:
    """matplotlib, imported on first use (only when HTML is asked for)."""

    def __init__(self) -> None:
        import matplotlib
        import matplotlib.ticker
        from matplotlib.figure import Figure

        self.matplotlib = matplotlib
        self.Figure = Figure
        self.n = 0

    def svg(self, draw, size=(7.2, 3.6)) -> str:
        self.n += 1
        rc = {
            "svg.fonttype": "none",  # text stays text (escaped), not glyph paths
            "svg.hashsalt": f"llmcost-{self.n}",  # stable ids, distinct between charts
            "text.parse_math": False,
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
        with self.matplotlib.rc_context(rc):
            fig = self.Figure(figsize=size, layout="constrained")
            draw(fig)
            buf = io.StringIO()
            fig.savefig(buf, format="svg", metadata={"Date": None})
        text = buf.getvalue()
        text = text[text.index("<svg") :]
        text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
        return text


def _daily_by_model(report: dict) -> tuple[list[str], dict[str, list[float]], str] | None:
    p = report.get("report_period")
    if p and p.get("daily_by_model"):
        rows, tz = p["daily_by_model"], p["tz"]
        days = [d["day"] for d in p["daily"]]
    elif report.get("by_day"):
        days = [d["day"] for d in report["by_day"]]
        zone = (report.get("window") or {}).get("tz") or "UTC"  # (an older report: UTC)
        # (a day of unpriced calls only has no cost: no bar, as in the per-model chart)
        costs = [d["cost_usd"] or 0.0 for d in report["by_day"]]
        return days, {"all models": costs}, zone
    else:
        return None
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["model"]] = totals.get(r["model"], 0.0) + (r["cost_usd"] or 0.0)
    ranked = sorted(totals, key=lambda m: (-totals[m], m))
    keep = set(ranked[:MAX_SERIES])
    index = {d: i for i, d in enumerate(days)}
    series: dict[str, list[float]] = {m: [0.0] * len(days) for m in ranked[:MAX_SERIES]}
    if len(ranked) > MAX_SERIES:
        series["other models"] = [0.0] * len(days)
    for r in rows:
        if r["day"] not in index:
            continue
        name = r["model"] if r["model"] in keep else "other models"
        series[name][index[r["day"]]] += r["cost_usd"] or 0.0
    return days, series, tz


def _chart_daily(charts: _Charts, report: dict) -> str | None:
    data = _daily_by_model(report)
    if not data or not data[0]:
        return None
    days, series, _ = data

    def draw(fig):
        ax = fig.subplots()
        bottom = [0.0] * len(days)
        x = list(range(len(days)))
        colors = charts.matplotlib.colormaps["tab10"]
        for i, (name, values) in enumerate(series.items()):
            ax.bar(
                x, values, bottom=bottom, label=_label(name, 28), color=colors(i % 10), width=0.8
            )
            bottom = [b + v for b, v in zip(bottom, values)]
        step = max(1, len(days) // 12)
        ax.set_xticks(x[::step], [d[5:] for d in days[::step]], rotation=45, ha="right")
        ax.set_ylabel("cost (USD)")
        ax.yaxis.set_major_formatter(charts.matplotlib.ticker.StrMethodFormatter("${x:,.2f}"))
        if len(series) > 1:
            ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))

    return charts.svg(draw)


def _chart_heat(charts: _Charts, report: dict) -> tuple[str, str] | None:
    p = report.get("report_period")
    grid, tz = (
        (p["grid"], p["tz"])
        if p and p.get("grid")
        else (
            (report.get("peaks") or {}).get("grid") or [],
            (report.get("peaks") or {}).get("timezone", "UTC"),
        )
    )
    if not grid:
        return None
    cells = heat_cells(grid)
    unknown = any(v is None for row in cells for v in row)

    def draw(fig):
        import numpy as np
        from matplotlib.patches import Patch

        ax = fig.subplots()
        # a cell of calls none of which has a cost is masked: drawn in NO_COST_COLOR, not
        # as the $0 of an hour without calls (the palest shade)
        values = np.ma.masked_invalid(np.array(cells, dtype=float))
        cmap = charts.matplotlib.colormaps["YlOrRd"].with_extremes(bad=NO_COST_COLOR)
        image = ax.imshow(values, aspect="auto", cmap=cmap, interpolation="nearest")
        ax.set_yticks(range(7), WEEKDAYS)
        ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
        ax.set_xlabel(f"hour ({tz})")
        bar = fig.colorbar(image, ax=ax, shrink=0.9)
        bar.set_label("cost (USD)")
        if unknown:
            ax.legend(
                handles=[Patch(facecolor=NO_COST_COLOR, label=NO_COST_LABEL)],
                fontsize=7,
                frameon=False,
                loc="lower left",
                bbox_to_anchor=(0.0, 1.0),
            )

    return charts.svg(draw, (7.2, 3.0)), tz


NO_COST_COLOR = "#8c959f"  # grey: no shade of the cost palette
NO_COST_LABEL = "no cost: calls without a price or token counts"


def heat_cells(grid: list[dict]) -> list[list[float | None]]:
    """Cost per weekday x hour: $0 where no call was made, None (no cost, never $0) where
    calls were made and none of them has a cost (unpriced, or no token counts)."""
    cells: list[list[float | None]] = [[0.0] * 24 for _ in range(7)]
    for c in grid:
        if c["cost_usd"] is None:
            if c.get("requests") and cells[c["weekday"]][c["hour"]] == 0.0:
                cells[c["weekday"]][c["hour"]] = None
            continue
        cells[c["weekday"]][c["hour"]] = (cells[c["weekday"]][c["hour"]] or 0.0) + c["cost_usd"]
    return cells


def _chart_bars(charts: _Charts, items: list[tuple[str, float]], xlabel: str) -> str | None:
    items = [(n, v) for n, v in items if v][:MAX_BARS]
    if not items:
        return None
    items = items[::-1]  # largest on top

    def draw(fig):
        ax = fig.subplots()
        ax.barh(range(len(items)), [v for _, v in items], color="#0969da")
        ax.set_yticks(range(len(items)), [_label(n) for n, _ in items])
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_formatter(charts.matplotlib.ticker.StrMethodFormatter("${x:,.2f}"))

    return charts.svg(draw, (7.2, 0.6 + 0.28 * len(items)))


def _savings(report: dict) -> list[tuple[str, float]]:
    found = report.get("savings")
    if not isinstance(found, list):
        return []
    items = []
    for s in found:
        if isinstance(s, dict) and isinstance(s.get("usd"), (int, float)):
            # the kind's title, as the Savings table names it (not "response_cache: Resp…")
            name = str(s.get("title") or s.get("label") or s.get("kind", "?"))
            items.append((name, float(s["usd"])))
    return sorted(items, key=lambda kv: -kv[1])


def charts(report: dict) -> list[tuple[str, str]]:
    """(caption, inline svg) for every chart the report has data for."""
    c = _Charts()
    out = []
    daily = _chart_daily(c, report)
    if daily:
        data = _daily_by_model(report)
        out.append((f"Daily cost by model ({data[2]} days)", daily))
    heat = _chart_heat(c, report)
    if heat:
        out.append((f"Cost by hour and weekday ({heat[1]})", heat[0]))
    limits = report.get("limits") or {}
    feature = _chart_bars(
        c, [(f["feature"], f["cost_usd"]) for f in limits.get("by_feature") or []], "cost (USD)"
    )
    if feature:
        out.append(("Cost by feature", feature))
    user = _chart_bars(
        c, [(u["user_id"], u["cost_usd"]) for u in limits.get("by_user") or []], "cost (USD)"
    )
    if user:
        out.append(("Cost by user (top)", user))
    savings = _chart_bars(c, _savings(report), "estimated saving (USD)")
    if savings:
        out.append(("Savings ranking", savings))
    return out


# ---------------------------------------------------------------- tables and page


def _table(t: Table) -> str:
    align = t.align or ("l" + "r" * (len(t.columns) - 1))
    head = "".join(
        f'<th class="{"r" if a == "r" else ""}">{_e(c)}</th>' for c, a in zip(t.columns, align)
    )
    body = []
    for i, row in enumerate(t.rows):
        cells = []
        for j, (cell, a) in enumerate(zip(row, align)):
            cls = "r" if a == "r" else "text"
            style = ""
            if t.heat is not None and j > 0 and cell != "·":
                style = f' style="background:rgba(230,80,0,{0.08 + 0.8 * t.heat[i][j]:.2f})"'
            cells.append(f'<td class="{cls}"{style}>{_e(cell)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _section(section: Section) -> str:
    parts = [f"<h2>{_e(section.title)}</h2>"]
    if section.lines:
        parts.append("<ul>" + "".join(f"<li>{_e(line)}</li>" for line in section.lines) + "</ul>")
    for t in section.tables:
        legend = t.legend(t.columns) if t.legend else []  # every column is shown
        if legend:
            parts.append("<p>" + "<br>".join(_e(line) for line in legend) + "</p>")
        parts.append(_table(t))
    return "\n".join(parts)


def render(report: dict) -> str:
    from llmcost.render import budget

    title = "LLM cost report"
    lead: list[Section] = []
    if report.get("report_period"):
        lead = budget.period_sections(report, emoji=False)
        title = f"LLM cost report — {report['report_period']['label']}"
        lines = [x for x in lead[0].lines if not x.startswith("ALERT: ")]  # shown as boxes
        lead[0] = Section("Period", lines, lead[0].tables)
    alerts = "".join(
        f'<div class="alert" role="alert"><strong>Alert:</strong> {_e(a["message"])}</div>'
        for a in report.get("alerts") or []
    )
    figures = "\n".join(
        f"<figure><figcaption>{_e(caption)}</figcaption>{svg}</figure>"
        for caption, svg in charts(report)
    )
    s = report.get("summary") or {}
    headline = (
        f"no per-call records: {reports_headline(report['usage_reports'])} · "
        + bucket_costs(report["usage_reports"])
        if s and usage_reports_only(report)
        else total_over(s)
    )
    meta = (
        f"{_e(headline)} · "
        f"prices checked {_e(report.get('pricing_version'))}{_e(overlays_text(report))} · "
        f"llmcost {_e(__version__)} · "
        f"generated {_e(report.get('generated_at'))}"
    )
    intro = _section(lead[0]) if lead else ""  # the period and its comparison, first
    body = "\n".join(_section(x) for x in lead[1:] + sections(report))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{CSS}</style>
</head>
<body>
<h1>{_e(title)}</h1>
<p class="meta">{meta}</p>
{alerts}
{intro}
<div class="charts">
{figures}
</div>
{body}
</body>
</html>
"""
