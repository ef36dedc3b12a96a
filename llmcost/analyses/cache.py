"""Cache-hit potential, three kinds that never count the same call twice.

1. exact repeats (same model, same full prompt): what a response cache would save. The first
   answered call of each prompt pays; every later one is a repeat (``sv_exact_repeats``);
2. provider prompt caching of shared prefixes (``prompt_cache.py``), over the calls that are
   not exact repeats;
3. near-duplicate prompts (``near_duplicates.py``), a semantic-cache candidate rate, over
   the first call of each distinct prompt (exact repeats excluded).

Plus what the log shows prompt caching already saves (net of the cache-write premium).
"""

from llmcost.analyses import (
    line_usd,
    near_duplicates,
    prompt_cache,
    register,
    rows,
    savings,
    usd,
)
from llmcost.analyses.redact import preview
from llmcost.attribution import FAILED_WITHOUT_USAGE, without_tokens

EXACT_ASSUMPTION = (
    "a response cache answers every repeat of an identical prompt to the same model (the "
    "first call still pays); safe only where answers may be reused"
)


def exact_repeats(con, ctx) -> str:
    """Temp table of the calls that repeat the model and full prompt of an earlier call that
    was answered (not failed): a failed call leaves no answer to cache, so the first answered
    call pays, and the failed calls before it are failed calls, not repeats."""
    if "sv_exact_repeats" not in ctx.memo:
        base = savings.base(con, ctx)
        # Looked at only within the (model, prompt) pairs that come more than once.
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE sv_exact_repeats AS
                WITH again AS (
                  SELECT model, prompt_hash FROM {base} WHERE prompt_hash IS NOT NULL
                  GROUP BY ALL HAVING count(*) > 1)
                SELECT request_id, cost_usd FROM (
                  SELECT request_id, cost_usd,
                    count(*) FILTER (WHERE coalesce(status, 'ok') <> 'error') OVER (
                      PARTITION BY model, prompt_hash ORDER BY ts NULLS LAST, request_id
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS answered_before
                  FROM {base} c SEMI JOIN again a
                    ON a.model = c.model AND a.prompt_hash = c.prompt_hash)
                WHERE answered_before > 0"""
        )
        ctx.memo["sv_exact_repeats"] = True
    return "sv_exact_repeats"


@register("cache", "Cache-hit potential", order=50)
def cache(con, ctx) -> dict:
    base = savings.base(con, ctx)
    requests, with_text = con.execute(f"SELECT count(*), count(prompt_hash) FROM {base}").fetchone()
    repeats = exact_repeats(con, ctx)
    # the repeats in no saving, by why: of models without a price, and a priced model's
    # repeats without token counts, as Cost by model counts them (attribution.without_tokens:
    # a failed call without usage is not billed, no call 'without tokens' beside a saving)
    uncosted = f"""count(*) FILTER (WHERE NOT is_priced) AS unpriced_requests,
                {without_tokens("is_priced AND cost_usd IS NULL")} AS unknown_token_requests,
                count(*) FILTER (WHERE {FAILED_WITHOUT_USAGE}) AS error_unknown_token_requests"""
    totals = rows(
        con,
        f"""SELECT count(*) AS repeat_requests, sum(cost_usd) AS usd, {uncosted},
              count(DISTINCT (model, prompt_hash)) AS repeated_prompts
            FROM {base} SEMI JOIN {repeats} r USING (request_id)""",
    )[0]
    groups = rows(
        con,
        f"""WITH g AS (
              SELECT model, prompt_hash, count(*) + 1 AS requests, sum(cost_usd) AS usd,
                -- (as the line's: its row says which)
                {uncosted}
              FROM {base} SEMI JOIN {repeats} r USING (request_id)
              GROUP BY model, prompt_hash
              ORDER BY usd DESC NULLS LAST, requests DESC, prompt_hash LIMIT ?)
            SELECT g.*, CASE WHEN t.kind = 'messages'
                             THEN json_extract_string(t.text, '$[#-1].content') ELSE t.text END
                AS prompt
            FROM g LEFT JOIN texts t ON t.hash = g.prompt_hash
            ORDER BY usd DESC NULLS LAST, requests DESC, g.prompt_hash""",
        [ctx.top],
    )
    for group in groups:
        group["usd"] = usd(group["usd"])
        group["preview"] = preview(group.pop("prompt"))
    savings.offer(
        con,
        ctx,
        "response_cache",
        f"SELECT request_id, cost_usd AS usd FROM {repeats} WHERE cost_usd IS NOT NULL",
        EXACT_ASSUMPTION,
        {"section": "cache.exact_repeats", "repeated_prompts": totals["repeated_prompts"]},
        uncosted=totals["unpriced_requests"] + totals["unknown_token_requests"],
    )
    # Net of the premium paid to write the cache (Anthropic: 1.25x input, 2x for 1 hour).
    in_use = rows(
        con,
        f"""SELECT coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
             count(*) FILTER (WHERE cache_read_tokens > 0) AS requests_with_cache_reads,
             coalesce(sum(coalesce(cache_write_tokens, 0) + coalesce(cache_write_1h_tokens, 0)),
                      0) AS cache_write_tokens,
             coalesce(sum(cache_read_tokens * (p_input - coalesce(p_cache_read, p_input))), 0)
               AS read_discount_usd,
             coalesce(sum(
               coalesce(cache_write_tokens, 0) * (coalesce(p_cache_write, p_input) - p_input)
               + coalesce(cache_write_1h_tokens, 0)
                 * (coalesce(p_cache_write_1h, p_cache_write, p_input) - p_input)), 0)
               AS write_premium_usd
           FROM {base} WHERE is_priced""",
    )[0]
    in_use["saved_usd"] = usd(in_use.pop("read_discount_usd") - in_use["write_premium_usd"])
    in_use["write_premium_usd"] = usd(in_use["write_premium_usd"])
    return {
        "exact_repeats": {
            "requests": totals["repeat_requests"],
            "share": (totals["repeat_requests"] / requests) if requests else 0.0,
            # of the repeats with a cost; None when none has one (unknown, never $0)
            "usd": line_usd(totals["usd"], totals["repeat_requests"]),
            "unpriced_requests": totals["unpriced_requests"],  # not counted as $0
            "unknown_token_requests": totals["unknown_token_requests"],  # nor these
            # the failed repeats without usage (not billed): in the former only when they
            # are all the repeats without a cost
            "error_unknown_token_requests": totals["error_unknown_token_requests"],
            "repeated_prompts": totals["repeated_prompts"],
            "top": groups,
            "assumption": EXACT_ASSUMPTION,
        },
        "prompt_caching": prompt_cache.prompt_caching(con, ctx),
        "near_duplicates": near_duplicates.near_duplicates(con, ctx),
        "prompt_caching_in_use": in_use,
        "requests_with_prompt_text": with_text,
        "note": None
        if with_text
        else "the logs carry no prompt text: exact repeats, shared prefixes and near-duplicates "
        "cannot be found (log the request messages to see them)",
    }
