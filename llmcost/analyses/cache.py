"""Cache-hit potential: exactly repeated prompts, and what prompt caching already saves."""

from llmcost.analyses import register, rows, usd
from llmcost.analyses.redact import preview


@register("cache", "Cache-hit potential", order=50)
def cache(con, ctx) -> dict:
    with_text = con.execute("SELECT count(*) FROM calls WHERE prompt_hash IS NOT NULL").fetchone()[
        0
    ]
    totals = rows(
        con,
        """WITH ranked AS (
             SELECT model, prompt_hash, cost_usd,
               row_number() OVER (PARTITION BY model, prompt_hash ORDER BY ts, request_id) AS nth
             FROM calls WHERE prompt_hash IS NOT NULL)
           SELECT count(*) FILTER (WHERE nth > 1) AS repeat_requests,
             coalesce(sum(cost_usd) FILTER (WHERE nth > 1), 0) AS usd,
             count(DISTINCT (model, prompt_hash)) FILTER (WHERE nth > 1) AS repeated_prompts
           FROM ranked""",
    )[0]
    groups = rows(
        con,
        f"""SELECT c.model, c.prompt_hash, count(*) AS requests,
              sum(c.cost_usd) - arg_min(c.cost_usd, c.ts) AS usd,
              any_value(CASE WHEN t.kind = 'messages'
                             THEN json_extract_string(t.text, '$[#-1].content') ELSE t.text END)
                AS prompt
            FROM calls c LEFT JOIN texts t ON t.hash = c.prompt_hash
            WHERE c.prompt_hash IS NOT NULL
            GROUP BY c.model, c.prompt_hash HAVING count(*) > 1
            ORDER BY usd DESC NULLS LAST LIMIT {int(ctx.top)}""",
    )
    for group in groups:
        group["usd"] = usd(group["usd"])
        group["preview"] = preview(group.pop("prompt"))
    in_use = rows(
        con,
        """SELECT coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
             count(*) FILTER (WHERE cache_read_tokens > 0) AS requests_with_cache_reads,
             coalesce(sum(cache_read_tokens * (p_input - coalesce(p_cache_read, p_input))), 0)
               AS saved_usd
           FROM calls WHERE is_priced""",
    )[0]
    in_use["saved_usd"] = usd(in_use["saved_usd"])
    requests = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    return {
        "exact_repeats": {
            "requests": totals["repeat_requests"],
            "share": (totals["repeat_requests"] / requests) if requests else 0.0,
            "usd": usd(totals["usd"]),
            "repeated_prompts": totals["repeated_prompts"],
            "top": groups,
            "assumption": "a response cache answers every repeat of an identical prompt to the "
            "same model (the first call still pays); safe only where answers may be reused",
        },
        "prompt_caching_in_use": in_use,
        "requests_with_prompt_text": with_text,
        "note": None if with_text else "the logs carry no prompt text: repeats cannot be found",
    }
