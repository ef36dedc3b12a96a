"""What could not be priced, and which input lines were rejected."""

from llmcost.analyses import register, rows


@register("unpriced_models", "Unpriced models", order=90)
def unpriced_models(con, ctx) -> list[dict]:
    return rows(
        con,
        """SELECT c.model, c.provider, count(*) AS requests,
             coalesce(sum(c.input_tokens), 0) AS input_tokens,
             coalesce(sum(c.output_tokens), 0) AS output_tokens,
             CASE WHEN any_value(m.model_key) IS NULL THEN any_value(m.how)
                  ELSE 'known as ' || any_value(m.model_key)
                       || ', but no price was in force at the call''s date'
                       || ' (first call ' || coalesce(CAST(min(CAST(c.ts AS DATE)) AS VARCHAR), '?') || ')'
             END AS reason
           FROM calls c LEFT JOIN model_map m
             ON m.model = c.model AND m.logged_provider IS NOT DISTINCT FROM c.provider
           WHERE NOT c.is_priced GROUP BY c.model, c.provider ORDER BY requests DESC, model""",
    )


@register("rejected", "Rejected lines", order=95)
def rejected(con, ctx) -> dict:
    count = con.execute("SELECT count(*) FROM rejects").fetchone()[0]
    samples = rows(
        con,
        "SELECT source, line, reason FROM rejects ORDER BY source, line LIMIT ?",
        [max(ctx.top, 20)],
    )
    by_reason = rows(
        con,
        """SELECT regexp_replace(reason, ':.*', '') AS reason, count(*) AS lines
           FROM rejects GROUP BY 1 ORDER BY lines DESC, min(source), min(line), reason""",
    )
    return {"count": count, "samples": samples, "by_reason": by_reason}
