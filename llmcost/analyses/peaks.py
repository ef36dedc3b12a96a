"""Peak times: an hour-of-day × weekday cost grid, the busiest hour and minute, in the
report's zone (``report --tz``; UTC else).

Costs are those of the calls with a cost; a cell, minute or hour whose calls all lack one has
no cost (None, never $0). Two counts say which calls are in no cost, and why:
``unpriced_requests``, the calls of models without a price, and ``unknown_token_requests``,
the calls of a priced model whose log gave no token counts and had no text to count, less
its failed calls without usage (``error_unknown_token_requests``: not billed, as the summary
counts them) unless they are all the calls there (attribution.without_tokens). The busiest
minute and the costliest hour are instants (ISO with the zone's offset): the hour
that a zone lives twice when its clocks go back is two hours, not one."""

from zoneinfo import ZoneInfo

from llmcost.analyses import local_ts, register, rows, usd, zone
from llmcost.attribution import FAILED_WITHOUT_USAGE, without_tokens

# the calls in no cost, by why: no price for their model, or no token counts, as by_day
# counts them (not the failed calls without usage, not billed, unless they are all there is)
_UNCOSTED = f"""count(*) FILTER (WHERE NOT is_priced) AS unpriced_requests,
             {without_tokens("is_priced AND cost_usd IS NULL")} AS unknown_token_requests,
             count(*) FILTER (WHERE {FAILED_WITHOUT_USAGE}) AS error_unknown_token_requests"""


@register("peaks", "Peak times", order=40)
def peaks(con, ctx) -> dict:
    local = local_ts(ctx)
    grid = rows(
        con,
        f"""SELECT isodow({local}) - 1 AS weekday, hour({local}) AS hour, count(*) AS requests,
             sum(cost_usd) AS cost_usd, {_UNCOSTED}
           FROM calls WHERE ts IS NOT NULL GROUP BY ALL ORDER BY weekday, hour""",
    )
    for cell in grid:
        cell["cost_usd"] = usd(cell["cost_usd"])
    minute = rows(
        con,
        f"""SELECT date_trunc('minute', ts) AS minute, count(*) AS requests,
             coalesce(sum(input_tokens), 0) AS input_tokens,
             coalesce(sum(output_tokens), 0) AS output_tokens,
             sum(cost_usd) AS cost_usd, {_UNCOSTED}
           FROM calls WHERE ts IS NOT NULL GROUP BY 1
           ORDER BY 2 DESC, 3 + 4 DESC, 1 LIMIT 1""",
    )
    # the instant the call's local clock hour began (a zone 5:30 from UTC starts its hours
    # at half past); in UTC, date_trunc
    start = (
        "date_trunc('hour', ts)"
        if local == "ts"
        else f"ts - to_microseconds(epoch_us({local}) % 3600000000)"
    )
    hour = rows(
        con,
        f"""SELECT {start} AS hour, count(*) AS requests,
             sum(cost_usd) AS cost_usd, {_UNCOSTED}
           FROM calls WHERE ts IS NOT NULL GROUP BY ALL
           ORDER BY cost_usd DESC NULLS LAST, hour LIMIT 1""",
    )
    zinfo = ZoneInfo(zone(ctx))
    for item in minute + hour:
        item["cost_usd"] = usd(item["cost_usd"])
        key = "minute" if "minute" in item else "hour"
        item[key] = item[key].astimezone(zinfo).isoformat()
    return {
        "timezone": zone(ctx),
        "grid": grid,
        "busiest_minute": minute[0] if minute else None,
        "costliest_hour": hour[0] if hour else None,
    }
