"""Batch eligibility: offline traffic repriced at the providers' batch rates.

Batch APIs (OpenAI, Anthropic, Google, Bedrock, ...) answer within 24 hours at about half
price. Work that nobody waits for can use them. A *source* here is a feature (calls
without a feature form one source, "(no feature)"); it is offline when:

* it is listed in ``savings.offline_features`` of llmcost.yaml, or
* its shape says so — at least two of three signals:
  - **scheduled**: on at least ``MIN_DAYS`` different days, and at least ``SCHEDULED_SHARE``
    of its calls fall in the same two consecutive clock hours (UTC);
  - **no user**: at least ``USERLESS_SHARE`` of its calls have no user id, while the log
    does carry user ids (at least ``LOG_USER_SHARE`` of all calls have one);
  - **bursty**: at least ``BURST_SHARE`` of its calls come in bursts: ``BURST_CALLS`` or more
    calls of the source with at most ``BURST_GAP_SECONDS`` between consecutive calls.

Each call of an offline source is repriced on the batch tier of its own model (same date,
same long-context rule); calls already on the batch or flex tier (flex is the providers'
other discounted, slower tier: OpenAI and Gemini bill it at batch prices), and calls of
models with no batch price, are left out (the latter are counted).
"""

from __future__ import annotations

import polars as pl

from llmcost.analyses import register, rows, savings, usd
from llmcost.analyses.settings import settings

MIN_DAYS = 3
SCHEDULED_SHARE = 0.8
USERLESS_SHARE = 0.9
LOG_USER_SHARE = 0.1
BURST_SHARE = 0.5
BURST_CALLS = 5
BURST_GAP_SECONDS = 120

ASSUMPTION = (
    "calls of offline sources (configured, or shaped like a job: scheduled, without a user, "
    "in bursts) can wait up to 24 hours and go through the provider's batch API at its "
    "batch prices, same tokens"
)


@register("batch", "Batch eligibility", order=62)
def batch(con, ctx) -> dict:
    cfg = settings(ctx)
    base = savings.base(con, ctx)
    savings.load_frame(
        con,
        "sv_batch_configured",
        pl.DataFrame({"source": list(cfg.offline_features)}, schema={"source": pl.String}),
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_batch_shape AS
            WITH c AS (
              SELECT coalesce(feature, '(no feature)') AS source, ts, user_id, request_id
              FROM {base}),
            log AS (SELECT count(user_id) / count(*) AS user_share FROM c),
            hours AS (
              SELECT source, hour(ts) AS h, count(*) AS n FROM c WHERE ts IS NOT NULL
              GROUP BY ALL),
            two_hours AS (
              SELECT a.source, max(a.n + coalesce(b.n, 0)) AS best
              FROM hours a LEFT JOIN hours b ON b.source = a.source AND b.h = (a.h + 1) % 24
              GROUP BY a.source),
            ordered AS (  -- each timed call's gap to the previous one and its position
              SELECT source, epoch(ts) - epoch(lag(ts) OVER w) AS gap, row_number() OVER w AS pos
              FROM c WHERE ts IS NOT NULL WINDOW w AS (PARTITION BY source ORDER BY ts, request_id)),
            starts AS (  -- the first call of each run, and the first of the next run
              SELECT source, pos, lead(pos) OVER (PARTITION BY source ORDER BY pos) AS next_pos
              FROM ordered WHERE gap IS NULL OR gap > {BURST_GAP_SECONDS}),
            s AS (
              SELECT source, count(*) AS calls, count(DISTINCT CAST(ts AS DATE)) AS days,
                count(ts) AS timed, count(user_id) AS with_user
              FROM c GROUP BY source),
            bursts AS (  -- a run's length: up to the next run's start, or the last timed call
              SELECT source, sum(n) FILTER (WHERE n >= {BURST_CALLS}) AS burst_calls
              FROM (SELECT r.source, coalesce(r.next_pos, s.timed + 1) - r.pos AS n
                    FROM starts r JOIN s USING (source))
              GROUP BY source)
            SELECT s.source, s.calls, s.days,
              coalesce(t.best, 0) / greatest(s.timed, 1) AS two_hour_share,
              1 - s.with_user / s.calls AS userless_share,
              coalesce(b.burst_calls, 0) / greatest(s.timed, 1) AS burst_share,
              s.days >= {MIN_DAYS} AND coalesce(t.best, 0) >= {SCHEDULED_SHARE} * s.timed
                AND s.timed > 0 AS scheduled,
              1 - s.with_user / s.calls >= {USERLESS_SHARE}
                AND (SELECT user_share FROM log) >= {LOG_USER_SHARE} AS userless,
              coalesce(b.burst_calls, 0) >= {BURST_SHARE} * s.timed AND s.timed > 0 AS bursty,
              s.source IN (SELECT source FROM sv_batch_configured) AS configured
            FROM s LEFT JOIN two_hours t USING (source) LEFT JOIN bursts b USING (source)"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE sv_batch_sources AS
           SELECT source, CASE WHEN configured THEN 'configured offline (savings.offline_features)'
             ELSE 'shape: ' || array_to_string(list_filter(
               [CASE WHEN scheduled THEN 'scheduled' END, CASE WHEN userless THEN 'no user' END,
                CASE WHEN bursty THEN 'bursty' END], lambda x: x IS NOT NULL), ' + ') END AS why
           FROM sv_batch_shape
           WHERE configured
              OR CAST(scheduled AS INTEGER) + CAST(userless AS INTEGER) + CAST(bursty AS INTEGER) >= 2"""
    )
    # each call of an offline source asks for the batch tier of its own model; calls whose
    # model has no batch price fall back to the standard row and are dropped
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW sv_batch_wanted AS
            SELECT c.* REPLACE ('batch' AS tier_wanted), s.source AS batch_source
            FROM {base} c JOIN sv_batch_sources s ON s.source = coalesce(c.feature, '(no feature)')
            WHERE c.cost_usd IS NOT NULL AND c.tier_wanted NOT IN ('batch', 'flex')"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_batch_calls AS
            SELECT r.request_id, w.batch_source AS source, r.cost_usd,
              r.target_cost_usd AS batch_cost_usd
            FROM ({savings.reprice_sql("sv_batch_wanted")}) r
            JOIN sv_batch_wanted w USING (request_id)
            WHERE r.target_tier = 'batch'"""
    )
    sources = rows(
        con,
        f"""WITH b AS (
              SELECT source, count(*) AS batchable_calls, sum(cost_usd) AS cost_usd,
                sum(batch_cost_usd) AS batch_cost_usd,
                sum(cost_usd - batch_cost_usd) AS savings_usd
              FROM sv_batch_calls GROUP BY source),
            already AS (
              SELECT coalesce(feature, '(no feature)') AS source, count(*) AS n
              FROM {base} WHERE tier_wanted IN ('batch', 'flex') GROUP BY 1)
            SELECT s.source, s.why, sh.calls, sh.days,
              round(sh.two_hour_share, 3) AS two_hour_share,
              round(sh.userless_share, 3) AS userless_share,
              round(sh.burst_share, 3) AS burst_share,
              coalesce(b.batchable_calls, 0) AS batchable_calls,
              coalesce(b.cost_usd, 0) AS cost_usd,
              coalesce(b.batch_cost_usd, 0) AS batch_cost_usd,
              coalesce(b.savings_usd, 0) AS savings_usd,
              coalesce(a.n, 0) AS already_batch_calls
            FROM sv_batch_sources s JOIN sv_batch_shape sh USING (source)
            LEFT JOIN b USING (source) LEFT JOIN already a USING (source)
            ORDER BY savings_usd DESC, s.source""",
    )
    for item in sources:
        for key in ("cost_usd", "batch_cost_usd", "savings_usd"):
            item[key] = usd(item[key])
        item["unbatchable_calls"] = (
            item["calls"] - item["batchable_calls"] - item["already_batch_calls"]
        )
    savings.offer(
        con,
        ctx,
        "batch",
        "SELECT request_id, cost_usd - batch_cost_usd AS usd FROM sv_batch_calls",
        ASSUMPTION,
        {"section": "batch", "sources": [s["source"] for s in sources]},
    )
    return {
        "usd": round(sum(s["savings_usd"] for s in sources), 9),
        "sources": sources,
        "assumption": ASSUMPTION,
        "rules": {
            "min_days": MIN_DAYS,
            "scheduled_share": SCHEDULED_SHARE,
            "userless_share": USERLESS_SHARE,
            "burst_share": BURST_SHARE,
            "burst_calls": BURST_CALLS,
            "burst_gap_seconds": BURST_GAP_SECONDS,
            "offline_features": list(cfg.offline_features),
        },
    }
