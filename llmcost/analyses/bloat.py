"""Prompt bloat: the system prompts that cost the most, and how much input spend is
repeated boilerplate.

A call's input-side cost (uncached input + cache reads + cache writes) is split between its
system prompt and the rest by tokens: the system prompt's tokens are its token count
(``prompt_cache.system_tokens``: counted once per text with the tokenizer), at most the
call's input tokens. A system text used by one call only is not counted with the tokenizer:
its share of the input is estimated from text lengths (system text bytes / prompt text
bytes). The system prompt opens the prompt, so its tokens are the cached prefix first: they
are priced as the call's cache reads, then its cache writes, then uncached input.

*Boilerplate* is the system-prompt part of calls whose system prompt is shared with other
calls: text the model re-reads on every call. Prompt caching makes it cheaper (see the cache
section); shortening it makes every call cheaper.
"""

from __future__ import annotations

from llmcost.analyses import register, rows, savings, usd
from llmcost.analyses.prompt_cache import system_tokens
from llmcost.analyses.redact import preview


@register("bloat", "Prompt bloat", order=66)
def bloat(con, ctx) -> dict:
    base = savings.base(con, ctx)
    sys_table = system_tokens(con, ctx)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_bloat AS
            WITH c AS (
              SELECT c.request_id, c.system_hash, c.prompt_hash, c.priced_provider,
                c.model_key, c.input_tokens, c.cost_usd,
                c.cost_input + c.cost_cache_read + c.cost_cache_write AS input_usd,
                coalesce(c.cache_read_tokens, 0) AS r_tokens,
                coalesce(c.cache_write_tokens, 0) AS w_tokens,
                coalesce(c.cache_write_1h_tokens, 0) AS w1_tokens, c.p_input,
                coalesce(c.p_cache_read, c.p_input) AS p_read,
                coalesce(c.p_cache_write, c.p_input) AS p_write,
                coalesce(c.p_cache_write_1h, c.p_cache_write, c.p_input) AS p_write_1h,
                st.tokens AS sys_tokens
              FROM {base} c LEFT JOIN {sys_table} st
                USING (system_hash, priced_provider, model_key)
              WHERE c.system_hash IS NOT NULL AND c.cost_usd IS NOT NULL
                AND c.input_tokens > 0),
            ratio AS (
              SELECT DISTINCT c.system_hash, c.prompt_hash,
                least(strlen(s.text) / greatest(strlen(p.text), 1), 1) AS byte_share
              FROM c JOIN texts s ON s.hash = c.system_hash
              JOIN texts p ON p.hash = c.prompt_hash
              WHERE c.sys_tokens IS NULL),
            uses AS (SELECT system_hash, count(*) AS uses FROM c GROUP BY system_hash),
            s AS (
              SELECT c.*, CAST(CASE WHEN c.sys_tokens IS NOT NULL
                               THEN least(c.sys_tokens / c.input_tokens, 1)
                               ELSE coalesce(r.byte_share, 0) END AS DECIMAL(38, 12)) AS share,
                u.uses
              FROM c LEFT JOIN ratio r USING (system_hash, prompt_hash)
              JOIN uses u USING (system_hash)),
            parts AS (  -- the system prompt's tokens: cache reads first, then writes, then input
              SELECT *, least(share * input_tokens, r_tokens) AS s_read,
                least(share * input_tokens - least(share * input_tokens, r_tokens), w_tokens)
                  AS s_write
              FROM s),
            parts2 AS (
              SELECT *, least(share * input_tokens - s_read - s_write, w1_tokens) AS s_write_1h
              FROM parts)
            SELECT * EXCLUDE (s_read, s_write, s_write_1h),
              CAST(s_read * p_read + s_write * p_write + s_write_1h * p_write_1h
                   + (share * input_tokens - s_read - s_write - s_write_1h) * p_input
                   AS DECIMAL(38, 12)) AS system_usd
            FROM parts2"""
    )
    top = rows(
        con,
        """WITH g AS (
             SELECT system_hash, count(*) AS calls, sum(cost_usd) AS cost_usd,
               sum(input_usd) AS input_usd, sum(system_usd) AS system_usd,
               avg(share * input_tokens) AS system_tokens,
               list(DISTINCT model_key ORDER BY model_key) AS models
             FROM sv_bloat GROUP BY system_hash
             ORDER BY system_usd DESC, system_hash LIMIT ?)
           SELECT g.*, t.text FROM g LEFT JOIN texts t ON t.hash = g.system_hash
           ORDER BY system_usd DESC, system_hash""",
        [ctx.top],
    )
    for item in top:
        item["share_of_input"] = (
            float(item["system_usd"]) / float(item["input_usd"]) if item["input_usd"] else 0.0
        )
        for key in ("cost_usd", "input_usd", "system_usd"):
            item[key] = usd(item[key])
        item["system_tokens"] = int(round(item["system_tokens"] or 0))
        item["preview"] = preview(item.pop("text"))
    totals = rows(
        con,
        f"""SELECT (SELECT coalesce(sum(cost_input + cost_cache_read + cost_cache_write), 0)
                    FROM {base} WHERE cost_usd IS NOT NULL) AS input_usd,
              coalesce(sum(system_usd) FILTER (WHERE uses >= 2), 0) AS boilerplate_usd,
              coalesce(sum(system_usd), 0) AS system_usd,
              count(DISTINCT system_hash) AS system_prompts
            FROM sv_bloat""",
    )[0]
    input_usd = usd(totals["input_usd"])
    boiler = usd(totals["boilerplate_usd"])
    return {
        "top": top,
        "system_prompts": totals["system_prompts"],
        "input_usd": input_usd,
        "system_usd": usd(totals["system_usd"]),
        "boilerplate_usd": boiler,
        "boilerplate_share": (boiler / input_usd) if input_usd else 0.0,
        "method": "input-side cost split by the system prompt's share of the call's input "
        "tokens (tokenizer count of each shared system text; text-length ratio for one-off "
        "texts), its tokens priced as the call's cache reads first (it opens the prompt)",
        "note": None
        if totals["system_prompts"]
        else "no system prompts in the logs: bloat cannot be measured",
    }
