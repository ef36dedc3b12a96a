"""Summary: cost, calls, tokens by kind, period, and what could not be priced."""

from llmcost.analyses import local_iso, register, rows, usd
from llmcost.tokens import REASONING_MODEL_SQL


@register("summary", "Summary", order=10)
def summary(con, ctx) -> dict:
    r = rows(
        con,
        f"""SELECT count(*) AS requests,
          count(*) FILTER (WHERE cost_usd IS NOT NULL) AS priced_requests,
          count(*) FILTER (WHERE NOT is_priced) AS unpriced_requests,
          count(*) FILTER (WHERE is_priced AND input_tokens IS NULL) AS unknown_token_requests,
          coalesce(sum(cost_usd), 0) AS total_cost_usd,
          coalesce(sum(cost_input), 0) AS cost_input, coalesce(sum(cost_cache_read), 0) AS cost_cache_read,
          coalesce(sum(cost_cache_write), 0) AS cost_cache_write,
          coalesce(sum(cost_output), 0) AS cost_output,
          coalesce(sum(cost_search) FILTER (WHERE cost_usd IS NOT NULL), 0) AS cost_search,
          coalesce(sum(per_request) FILTER (WHERE cost_usd IS NOT NULL), 0) AS cost_per_request,
          coalesce(sum(input_tokens), 0) AS input_tokens,
          coalesce(sum(output_tokens), 0) AS output_tokens,
          coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
          coalesce(sum(coalesce(cache_write_tokens, 0) + coalesce(cache_write_1h_tokens, 0)), 0)
            AS cache_write_tokens,
          coalesce(sum(cache_write_1h_tokens), 0) AS cache_write_1h_tokens,
          coalesce(sum(reasoning_tokens), 0) AS reasoning_tokens,
          -- calls of reasoning models whose log did not say how much of the output was
          -- reasoning (no details in its usage, or no usage: counted from the answer's text)
          count(*) FILTER (WHERE reasoning_tokens IS NULL AND output_tokens IS NOT NULL
                             AND {REASONING_MODEL_SQL}) AS reasoning_unknown_requests,
          min(ts) AS first_ts, max(ts) AS last_ts,
          count(*) FILTER (WHERE ts IS NULL) AS requests_without_timestamp,
          count(*) FILTER (WHERE status = 'error') AS error_requests,
          coalesce(sum(cost_usd) FILTER (WHERE status = 'error'), 0) AS error_cost_usd,
          count(*) FILTER (WHERE status = 'error' AND cost_usd IS NULL) AS error_unpriced_requests,
          -- of those, the failed calls of a priced model whose log has no usage (their text
          -- is not counted: an error before any token was processed is not billed)
          count(*) FILTER (WHERE status = 'error' AND is_priced AND input_tokens IS NULL)
            AS error_unknown_token_requests,
          count(*) FILTER (WHERE finish_reason = 'length') AS truncated_requests,
          coalesce(sum(cost_usd) FILTER (WHERE finish_reason = 'length'), 0) AS truncated_cost_usd,
          count(*) FILTER (WHERE finish_reason = 'length' AND NOT is_priced)
            AS truncated_unpriced_requests,
          -- a priced model's truncated calls without token counts: no cost, not unpriced
          count(*) FILTER (WHERE finish_reason = 'length' AND is_priced AND cost_usd IS NULL)
            AS truncated_unknown_token_requests,
          count(*) FILTER (WHERE token_source = 'reported') AS tokens_reported,
          count(*) FILTER (WHERE token_source = 'counted') AS tokens_counted,
          count(*) FILTER (WHERE token_source = 'estimated') AS tokens_estimated,
          coalesce(sum(cost_usd) FILTER (WHERE token_source = 'estimated'), 0) AS estimated_cost_usd,
          count(DISTINCT user_id) AS users
        FROM calls""",
    )[0]
    for key in (
        "total_cost_usd",
        "cost_input",
        "cost_cache_read",
        "cost_cache_write",
        "cost_output",
        "cost_search",
        "cost_per_request",
        "error_cost_usd",
        "truncated_cost_usd",
        "estimated_cost_usd",
    ):
        r[key] = usd(r[key])
    for key in ("first_ts", "last_ts"):
        r[key] = local_iso(ctx, r[key])  # with the offset of the report's zone
    # calls and none of them with a cost (all unpriced, or without token counts): the total
    # is unknown, never $0 (no call at all is $0: nothing was spent)
    unknown = r["requests"] > 0 and r["priced_requests"] == 0
    if unknown:
        for key in ("total_cost_usd", *(k for k in r if k.startswith("cost_"))):
            r[key] = None
    r["cost_by_part"] = {
        "input": r.pop("cost_input"),
        "cache_read": r.pop("cost_cache_read"),
        "cache_write": r.pop("cost_cache_write"),
        "output": r.pop("cost_output"),
        # the fees that are no token's: web searches and a price per call (the parts add
        # up to total_cost_usd, as an export's cost_* columns do)
        "search": r.pop("cost_search"),
        "per_request": r.pop("cost_per_request"),
    }
    # calls of a tier (batch, flex, priority) whose model has no price for it: priced at
    # the standard price, which may be far from the bill (batch is half on most APIs)
    r["tier_priced_as_standard"] = rows(
        con,
        """SELECT model, service_tier AS tier, count(*) AS requests FROM calls
        WHERE cost_usd IS NOT NULL AND coalesce(service_tier, 'standard') <> 'standard'
          AND price_tier = 'standard'
        GROUP BY ALL ORDER BY requests DESC, model, tier""",
    )
    r["pricing_versions"] = [
        x["pricing_version"]
        for x in rows(
            con,
            "SELECT DISTINCT pricing_version FROM calls WHERE pricing_version IS NOT NULL ORDER BY 1",
        )
    ]
    return r
