"""Where the money goes: cost by model, by provider and by day."""

from llmcost.analyses import local_ts, register, rows, usd
from llmcost.attribution import FAILED_WITHOUT_USAGE, without_tokens


def _money(items: list[dict], *keys: str) -> list[dict]:
    for item in items:
        for key in keys:
            item[key] = usd(item[key])
    return items


@register("by_model", "Cost by model", order=20)
def by_model(con, ctx) -> list[dict]:
    return _money(
        rows(
            con,
            f"""SELECT provider_eff AS provider, model, model_key AS priced_as, count(*) AS requests,
                 coalesce(sum(input_tokens), 0) AS input_tokens,
                 coalesce(sum(output_tokens), 0) AS output_tokens,
                 coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
                 sum(cost_usd) AS cost_usd,
                 sum(cost_usd) / nullif((SELECT sum(cost_usd) FROM calls), 0) AS share,
                 -- what cost_usd leaves out, as by_day and --by count it: calls with no
                 -- price on their date (a call before the model's first price row), and a
                 -- priced model's calls without token counts (failed without usage): never
                 -- $0, and the latter no call 'without a price'
                 count(*) FILTER (WHERE NOT is_priced) AS unpriced_requests,
                 -- (but its failed calls without usage, not billed, which the summary's
                 -- total leaves out, unless they are all its calls: the row's 'no tokens')
                 {without_tokens("is_priced AND cost_usd IS NULL")} AS unknown_token_requests,
                 -- the failed calls without usage (summary's error_unknown_token_requests)
                 count(*) FILTER (WHERE {FAILED_WITHOUT_USAGE}) AS error_unknown_token_requests
               FROM calls GROUP BY ALL ORDER BY cost_usd DESC NULLS LAST, requests DESC""",
        ),
        "cost_usd",
    )


@register("by_provider", "Cost by provider", order=21)
def by_provider(con, ctx) -> list[dict]:
    return _money(
        rows(
            con,
            """SELECT provider_eff AS provider, count(*) AS requests, sum(cost_usd) AS cost_usd
               FROM calls GROUP BY ALL ORDER BY cost_usd DESC NULLS LAST""",
        ),
        "cost_usd",
    )


@register("by_day", "Cost by day", order=22)
def by_day(con, ctx) -> list[dict]:
    """Days of the report's zone (``report --tz``; UTC else): the JSON's window.tz."""
    items = rows(
        con,
        f"""SELECT CAST({local_ts(ctx)} AS DATE) AS day, count(*) AS requests,
             coalesce(sum(input_tokens), 0) AS input_tokens,
             coalesce(sum(output_tokens), 0) AS output_tokens,
             -- of the priced calls: null on a day none of whose calls has a price (never $0)
             sum(cost_usd) AS cost_usd,
             count(*) FILTER (WHERE NOT is_priced) AS unpriced_requests,  -- not counted as $0
             -- a priced model's calls without token counts, as Cost by model counts them: not
             -- its failed calls without usage (not billed), unless they are all the day has
             {without_tokens("is_priced AND cost_usd IS NULL")} AS unknown_token_requests,
             count(*) FILTER (WHERE {FAILED_WITHOUT_USAGE}) AS error_unknown_token_requests
           FROM calls WHERE ts IS NOT NULL GROUP BY ALL ORDER BY day""",
    )
    for item in items:
        item["day"] = item["day"].isoformat()
    return _money(items, "cost_usd")
