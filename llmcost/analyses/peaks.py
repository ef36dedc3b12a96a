"""Peak times: an hour-of-day × weekday cost grid, the busiest hour and minute (UTC).

Costs are those of the priced calls; a cell, minute or hour whose calls all lack a price has
no cost (None, never $0), and ``unpriced_requests`` says how many calls had none."""

from llmcost.analyses import register, rows, usd


@register("peaks", "Peak times", order=40)
def peaks(con, ctx) -> dict:
    grid = rows(
        con,
        """SELECT isodow(ts) - 1 AS weekday, hour(ts) AS hour, count(*) AS requests,
             sum(cost_usd) AS cost_usd, count(*) - count(cost_usd) AS unpriced_requests
           FROM calls WHERE ts IS NOT NULL GROUP BY ALL ORDER BY weekday, hour""",
    )
    for cell in grid:
        cell["cost_usd"] = usd(cell["cost_usd"])
    minute = rows(
        con,
        """SELECT date_trunc('minute', ts) AS minute, count(*) AS requests,
             coalesce(sum(input_tokens), 0) AS input_tokens,
             coalesce(sum(output_tokens), 0) AS output_tokens,
             sum(cost_usd) AS cost_usd, count(*) - count(cost_usd) AS unpriced_requests
           FROM calls WHERE ts IS NOT NULL GROUP BY 1
           ORDER BY 2 DESC, 3 + 4 DESC, 1 LIMIT 1""",
    )
    hour = rows(
        con,
        """SELECT date_trunc('hour', ts) AS hour, count(*) AS requests,
             sum(cost_usd) AS cost_usd, count(*) - count(cost_usd) AS unpriced_requests
           FROM calls WHERE ts IS NOT NULL GROUP BY ALL
           ORDER BY cost_usd DESC NULLS LAST, hour LIMIT 1""",
    )
    for item in minute + hour:
        item["cost_usd"] = usd(item["cost_usd"])
        key = "minute" if "minute" in item else "hour"
        item[key] = item[key].isoformat()
    return {
        "timezone": "UTC",
        "grid": grid,
        "busiest_minute": minute[0] if minute else None,
        "costliest_hour": hour[0] if hour else None,
    }
