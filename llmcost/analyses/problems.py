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


# A rejected line has no time of its own: for a period, it is dated by the call logged
# before it in its file by the same ingest, else the one after it, else by its ingest's start
# (an ingest that stored no call). Each line falls in one period, beside the calls around it.
_DATED_REJECTS = """
    CREATE OR REPLACE TEMP TABLE dated_rejects AS
    WITH near AS (  -- the calls that can date a rejected line: of the ingests that rejected
      SELECT ingest_id, source, source_line, ts FROM requests
      WHERE ts IS NOT NULL AND ingest_id IN (SELECT DISTINCT ingest_id FROM rejects))
    SELECT r.source, r.line, r.reason, coalesce(b.ts, a.ts, i.started_at) AS dated_at
    FROM rejects r
    ASOF LEFT JOIN near b
      ON b.ingest_id = r.ingest_id AND b.source = r.source AND r.line >= b.source_line
    ASOF LEFT JOIN near a
      ON a.ingest_id = r.ingest_id AND a.source = r.source AND r.line <= a.source_line
    LEFT JOIN ingests i ON i.ingest_id = r.ingest_id"""


@register("rejected", "Rejected lines", order=95)
def rejected(con, ctx) -> dict:
    """The rejected lines in the store; with a window (--since/--until, a stored period's
    report), those dated in it (``_DATED_REJECTS``), as the calls are: a check of last week
    over a log of months counts the week's. An open end of the window is open here too."""
    options = ctx.options
    scope, params, period = "rejects", [], None
    if options is not None and (options.since or options.until):
        con.execute(_DATED_REJECTS)
        ends = [("since", ">=", options.since), ("until", "<", options.until)]
        clauses = [f"dated_at {op} CAST(? AS TIMESTAMPTZ)" for _, op, at in ends if at]
        params = [at.isoformat() for _, _, at in ends if at]
        scope = f"(SELECT * FROM dated_rejects WHERE {' AND '.join(clauses)})"
        period = {name: at.isoformat() if at else None for name, _, at in ends}
    count = con.execute(f"SELECT count(*) FROM {scope}", params).fetchone()[0]
    # every rejected line stored, whatever its date: a window's count is of those it places
    # among its calls, and reads beside the ingest's ('5 rejected') as what it is
    stored = count if period is None else con.execute("SELECT count(*) FROM rejects").fetchone()[0]
    samples = rows(
        con,
        f"SELECT source, line, reason FROM {scope} ORDER BY source, line LIMIT ?",
        [*params, max(ctx.top, 20)],
    )
    by_reason = rows(
        con,
        f"""SELECT regexp_replace(reason, ':.*', '') AS reason, count(*) AS lines
           FROM {scope} GROUP BY 1 ORDER BY lines DESC, min(source), min(line), reason""",
        params,
    )
    return {
        "count": count,
        "samples": samples,
        "by_reason": by_reason,
        "period": period,
        "in_store": stored,
    }
