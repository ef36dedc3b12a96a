"""The most expensive calls, and the most expensive query families (same system prompt)."""

from llmcost.analyses import local_iso, register, rows, usd
from llmcost.analyses.redact import preview

# The last message of a chat prompt (the question asked), else the plain prompt. A content
# of parts reads as its JSON text; a null content is no text (not "null").
_LAST_MESSAGE = """CASE WHEN t.kind = 'messages'
      THEN coalesce(json_extract_string(t.text, '$[#-1].content'),
                    CASE WHEN json_type(t.text, '$[#-1].content') <> 'NULL'
                      THEN CAST(json_extract(t.text, '$[#-1].content') AS VARCHAR) END)
      ELSE t.text END"""


@register("expensive", "Most expensive", order=30)
def expensive(con, ctx) -> dict:
    top = rows(
        con,
        # The top calls first, then their texts: a preview is made for the rows shown only.
        f"""WITH c AS (
              SELECT request_id, ts, provider_eff, model, user_id, feature, input_tokens,
                output_tokens, cost_usd, source, source_line, prompt_hash
              FROM calls WHERE cost_usd IS NOT NULL ORDER BY cost_usd DESC, request_id LIMIT ?)
            SELECT c.request_id, c.ts, c.provider_eff AS provider, c.model, c.user_id, c.feature,
              c.input_tokens, c.output_tokens, c.cost_usd, c.source, c.source_line AS line,
              {_LAST_MESSAGE} AS prompt
            FROM c LEFT JOIN texts t ON t.hash = c.prompt_hash
            ORDER BY c.cost_usd DESC, c.request_id""",
        [ctx.top],
    )
    for item in top:
        item["cost_usd"] = usd(item["cost_usd"])
        item["ts"] = local_iso(ctx, item["ts"])
        item["preview"] = preview(item.pop("prompt"))
    families = rows(
        con,
        """WITH f AS (
              SELECT system_hash, count(*) AS requests, sum(cost_usd) AS cost_usd,
                avg(cost_usd) AS avg_cost_usd, list(DISTINCT model ORDER BY model) AS models,
                sum(cost_usd) / nullif((SELECT sum(cost_usd) FROM calls), 0) AS share
              FROM calls WHERE system_hash IS NOT NULL AND cost_usd IS NOT NULL
              GROUP BY system_hash ORDER BY cost_usd DESC, system_hash LIMIT ?)
            SELECT f.system_hash, f.requests, f.cost_usd, f.avg_cost_usd, f.models,
              t.text AS system_prompt, f.share
            FROM f LEFT JOIN texts t ON t.hash = f.system_hash
            ORDER BY f.cost_usd DESC, f.system_hash""",
        [ctx.top],
    )
    for item in families:
        item["cost_usd"] = usd(item["cost_usd"])
        item["avg_cost_usd"] = usd(item["avg_cost_usd"])
        item["preview"] = preview(item.pop("system_prompt"))
    note = None if families else "no system prompts in the logs: query families need prompt text"
    return {"requests": top, "families": families, "note": note}
