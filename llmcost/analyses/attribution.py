"""Attribution views, run only when asked for: ``--by``, ``--period`` and sessions.

Each returns None when the report did not ask for it (the key is then left out of the
report); the SQL lives in ``llmcost.attribution``.
"""

from __future__ import annotations

import datetime as dt

from llmcost import attribution
from llmcost.analyses import register, usd

_MONEY = ("cost_usd", "avg_cost_usd", "median_cost_usd")


def _json(item: dict) -> dict:
    """Decimals as dollars, dates and times as ISO strings, nested rows likewise."""
    for key, value in item.items():
        if key in _MONEY:
            item[key] = usd(value)
        elif isinstance(value, (dt.date, dt.datetime)):
            item[key] = value.isoformat()
        elif key == "share" and value is not None:
            item[key] = float(value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            item[key] = [_json(x) for x in value]
    return item


def _request(ctx) -> attribution.Request | None:
    options = getattr(ctx, "options", None)
    return attribution.request_for(options) if options is not None else None


@register("attribution", "Cost by dimension", order=25)
def by_dimension(con, ctx) -> dict | None:
    req = _request(ctx)
    if req is None or not req.by:
        return None
    rows = [_json(r) for r in attribution.by_dimensions(con, req.by)]
    # (calls without tokens counted as the rows count them: attribution.without_tokens)
    total = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE NOT is_priced),
             {attribution.without_tokens("is_priced AND input_tokens IS NULL")}, sum(cost_usd),
             count(*) FILTER (WHERE {attribution.FAILED_WITHOUT_USAGE})
           FROM calls"""
    ).fetchone()
    return {
        "by": [d.name for d in req.by],
        "rows": rows,
        "totals": {
            "groups": len(rows),
            "requests": total[0],
            "unpriced_requests": total[1],
            "unknown_token_requests": total[2],
            "error_unknown_token_requests": total[4],
            "cost_usd": usd(total[3]),
        },
        "top": ctx.top,  # how many rows the text reports show; every row is in `rows`
    }


@register("periods", "Cost by period", order=26)
def by_period(con, ctx) -> dict | None:
    req = _request(ctx)
    if req is None or req.period is None:
        return None
    result = attribution.periods(con, req.period, req.breakdown)
    result["rows"] = [_json(r) for r in result["rows"]]
    result["totals"] = _json(result["totals"])
    result["breakdown"] = "model" if req.breakdown else None
    # how many models of each period the text reports show (the rest summed on one row): a
    # 180-day log of 25 models printed 4,400 of them; every model is in `rows`
    result["top"] = ctx.top if req.breakdown else None
    return result


@register("sessions", "Sessions", order=27)
def sessions(con, ctx) -> dict | None:
    req = _request(ctx)
    if req is None or not req.sessions:
        return None
    result = _json(attribution.sessions(con, ctx.top))
    for key in ("avg_requests", "avg_duration_s"):
        if result[key] is not None:
            result[key] = round(float(result[key]), 3)
    for key in ("most_expensive", "most_calls", "longest"):
        for s in result[key]:
            s["duration_s"] = float(s["duration_s"]) if s["duration_s"] is not None else None
    if not result["sessions"]:
        result["note"] = "the logs carry no session or conversation ids"
    return result
