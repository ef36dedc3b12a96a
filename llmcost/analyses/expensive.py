"""The most expensive calls, and the most expensive query families (same system prompt)."""

from llmcost.analyses import register, rows, usd
from llmcost.analyses.redact import preview

# The last message of a chat prompt (the question asked), else the plain prompt.
_LAST_MESSAGE = """CASE WHEN t.kind = 'messages'
      THEN coalesce(json_extract_string(t.text, '$[#-1].content'),
                    CAST(json_extract(t.text, '$[#-1].content') AS VARCHAR))
      ELSE t.text END"""


@register("expensive", "Most expensive", order=30)
def expensive(con, ctx) -> dict:
    top = rows(
        con,
        f"""SELECT c.request_id, c.ts, c.provider_eff AS provider, c.model, c.user_id, c.feature,
              c.input_tokens, c.output_tokens, c.cost_usd, c.source, c.source_line AS line,
              {_LAST_MESSAGE} AS prompt
            FROM calls c LEFT JOIN texts t ON t.hash = c.prompt_hash
            WHERE c.cost_usd IS NOT NULL ORDER BY c.cost_usd DESC, c.request_id LIMIT ?""",
        [ctx.top],
    )
    for item in top:
        item["cost_usd"] = usd(item["cost_usd"])
        item["ts"] = item["ts"].isoformat() if item["ts"] else None
        item["preview"] = preview(item.pop("prompt"))
    families = rows(
        con,
        """SELECT c.system_hash, count(*) AS requests, sum(c.cost_usd) AS cost_usd,
              avg(c.cost_usd) AS avg_cost_usd, list(DISTINCT c.model ORDER BY c.model) AS models,
              any_value(t.text) AS system_prompt,
              sum(c.cost_usd) / nullif((SELECT sum(cost_usd) FROM calls), 0) AS share
            FROM calls c LEFT JOIN texts t ON t.hash = c.system_hash
            WHERE c.system_hash IS NOT NULL AND c.cost_usd IS NOT NULL
            GROUP BY c.system_hash ORDER BY cost_usd DESC LIMIT ?""",
        [ctx.top],
    )
    for item in families:
        item["cost_usd"] = usd(item["cost_usd"])
        item["avg_cost_usd"] = usd(item["avg_cost_usd"])
        item["preview"] = preview(item.pop("system_prompt"))
    note = None if families else "no system prompts in the logs: query families need prompt text"
    return {"requests": top, "families": families, "note": note}
