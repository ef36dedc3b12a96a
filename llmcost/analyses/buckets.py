"""Provider usage reports: price the aggregate buckets, compare with the reported cost.

A bucket (formats/usage_reports.py) is N requests of one model over a time span, not a
call: it is priced here, apart from the per-call analyses, which never see it. Each bucket
is priced like one call at its start date, on the price row of its service tier (a batch
bucket at batch rates), at the model's base rates: a long-context surcharge applies per
request, and a bucket does not say how its input was spread over requests — unless it says
its context window (Anthropic groups by it): a "200k-1M" bucket is priced at the rates
for inputs above 200k. Web searches (Anthropic's ``server_tool_use``) add their per-search fee.
Audio tokens (OpenAI's ``input_audio_tokens``, ``input_cached_audio_tokens``,
``output_audio_tokens``) are billed at the model's audio prices.
"""

from __future__ import annotations

import polars as pl

from llmcost import store
from llmcost.analyses import register, rows, usd
from llmcost.costing import (
    cache_read_cost_sql,
    candidates_sql,
    input_cost_sql,
    output_cost_sql,
)

NEEDS_CALLS = [
    "most expensive calls and query families",
    "cache-hit potential (exact repeated prompts)",
    "peak times (busiest minute and hour)",
    "model-downgrade savings per call",
    "failed and truncated calls",
]

# the audio parts (OpenAI's audio counts) at the audio prices, as a call's are
_COST = f"""{input_cost_sql()}
  + {cache_read_cost_sql()}
  + coalesce(cache_write_tokens, 0) * coalesce(p_cache_write, p_input)
  + coalesce(cache_write_1h_tokens, 0) * coalesce(p_cache_write_1h, p_cache_write, p_input)
  + {output_cost_sql()}
  + coalesce(requests, 0) * coalesce(per_request, 0)
  + coalesce(web_search_requests, 0) * coalesce(per_search, 0)"""


def _window(ctx) -> tuple[str, list]:
    options = getattr(ctx, "options", None)
    clauses, params = [], []
    if getattr(options, "since", None) is not None:
        clauses.append("bucket_start >= CAST(? AS TIMESTAMPTZ)")
        params.append(options.since.isoformat())
    if getattr(options, "until", None) is not None:
        clauses.append("bucket_start < CAST(? AS TIMESTAMPTZ)")
        params.append(options.until.isoformat())
    return " AND ".join(clauses) or "TRUE", params


def _price(con, ctx) -> None:
    """The temp table ``bucket_costs``: every bucket in the window with its computed cost."""
    where, params = _window(ctx)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE bucket_base AS SELECT * FROM usage_buckets WHERE {where}",
        params,
    )
    names = con.execute(
        "SELECT DISTINCT model, provider FROM bucket_base WHERE model IS NOT NULL"
    ).fetchall()
    resolutions = [ctx.book.resolve(model, provider) for model, provider in names]
    mapping = pl.DataFrame(
        {
            "model": [m for m, _ in names],
            "logged_provider": [p for _, p in names],
            "priced_provider": [r.provider if r.priced else None for r in resolutions],
            "model_key": [r.model_key for r in resolutions],
            "how": [r.how for r in resolutions],
        },
        schema={
            k: pl.String
            for k in ("model", "logged_provider", "priced_provider", "model_key", "how")
        },
    )
    store.register_frame(con, "llm_bucket_map_frame", mapping)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE bucket_model_map AS SELECT * FROM llm_bucket_map_frame"
    )
    con.unregister("llm_bucket_map_frame")
    # The calls the shared candidate query expects (alias b), one per token bucket: no input
    # count (so no long-context tier), unless the bucket names its context window: then an
    # input just above the window's floor ("200k-1M": 200,001), which every request of the
    # bucket had; and no timestamp (so no off-peak window).
    floor = (
        "TRY_CAST(regexp_extract(k.context_window, '^(\\d+)[kKmM]?-', 1) AS BIGINT) * CASE "
        "lower(regexp_extract(k.context_window, '^\\d+([kKmM]?)-', 1)) WHEN 'k' THEN 1000 "
        "WHEN 'm' THEN 1000000 ELSE 1 END"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW bucket_calls AS
        SELECT k.bucket_id AS request_id, CAST(NULL AS TIMESTAMPTZ) AS ts,
               CAST(k.bucket_start AS DATE) AS price_day,
               coalesce(k.service_tier, 'standard') AS tier_wanted,
               CASE WHEN {floor} > 0 THEN {floor} + 1 END AS input_tokens,
               CAST(NULL AS BIGINT) AS cache_read_tokens,
               CAST(NULL AS BIGINT) AS cache_write_tokens,
               CAST(NULL AS BIGINT) AS cache_write_1h_tokens,
               k.inference_geo, k.speed, m.model_key, m.priced_provider
        FROM bucket_base k JOIN bucket_model_map m
          ON m.model = k.model AND m.logged_provider IS NOT DISTINCT FROM k.provider
        WHERE k.input_tokens IS NOT NULL AND m.model_key IS NOT NULL"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE bucket_costs AS
        WITH cand AS ({candidates_sql("bucket_calls", "b.price_day")}),
        joined AS (
          SELECT k.*, m.model_key, m.how, c.tier AS price_tier, c.p_input, c.p_output,
                 c.p_cache_read, c.p_cache_write, c.p_cache_write_1h, c.per_request,
                 c.per_search, c.p_input_audio, c.p_output_audio, c.p_cache_read_audio,
                 greatest(k.input_tokens - coalesce(k.cache_read_tokens, 0)
                          - coalesce(k.cache_write_tokens, 0)
                          - coalesce(k.cache_write_1h_tokens, 0), 0) AS uncached_input_tokens,
                 -- the audio parts, each within the part it belongs to (as in costing.py)
                 least(greatest(coalesce(k.input_audio_tokens, 0)
                                - coalesce(k.cache_read_audio_tokens, 0), 0),
                       uncached_input_tokens) AS audio_uncached_input,
                 least(coalesce(k.cache_read_audio_tokens, 0),
                       greatest(coalesce(k.cache_read_tokens, 0), 0)) AS audio_cache_read,
                 least(coalesce(k.output_audio_tokens, 0),
                       greatest(coalesce(k.output_tokens, 0), 0)) AS audio_output
          FROM bucket_base k
          LEFT JOIN bucket_model_map m
            ON m.model = k.model AND m.logged_provider IS NOT DISTINCT FROM k.provider
          LEFT JOIN cand c ON c.request_id = k.bucket_id AND c.rn = 1
        )
        SELECT *, input_tokens IS NOT NULL AS has_tokens,
          CASE WHEN input_tokens IS NOT NULL AND p_input IS NOT NULL THEN {_COST} END
            AS computed_cost_usd
        FROM joined"""
    )


@register("usage_reports", "Provider usage reports", order=85)
def usage_reports(con, ctx) -> dict:
    if con.execute("SELECT count(*) FROM usage_buckets").fetchone()[0] == 0:
        return {"buckets": 0}
    _price(con, ctx)
    totals = rows(
        con,
        """SELECT count(*) AS buckets,
             count(*) FILTER (WHERE has_tokens) AS token_buckets,
             count(*) FILTER (WHERE reported_cost_usd IS NOT NULL) AS cost_buckets,
             min(bucket_start) AS first_start, max(coalesce(bucket_end, bucket_start)) AS last_end,
             sum(requests) AS requests,
             count(*) FILTER (WHERE has_tokens AND requests IS NULL)
               AS token_buckets_without_request_count,
             coalesce(sum(input_tokens), 0) AS input_tokens,
             coalesce(sum(output_tokens), 0) AS output_tokens,
             coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
             coalesce(sum(coalesce(cache_write_tokens, 0) + coalesce(cache_write_1h_tokens, 0)), 0)
               AS cache_write_tokens,
             -- null, never $0, when no bucket was priced (every one unpriced, or none has
             -- token counts): the figures priced, not the ones left out
             sum(computed_cost_usd) AS computed_cost_usd,
             count(*) FILTER (WHERE has_tokens AND computed_cost_usd IS NULL) AS unpriced_buckets,
             sum(reported_cost_usd) AS reported_cost_usd
           FROM bucket_costs""",
    )[0]
    if totals["buckets"] == 0:  # every bucket is outside the window
        return {"buckets": 0}
    for key in ("first_start", "last_end"):
        totals[key] = totals[key].isoformat() if totals[key] is not None else None
    totals["computed_cost_usd"] = usd(totals["computed_cost_usd"])
    totals["reported_cost_usd"] = (
        None if totals["reported_cost_usd"] is None else round(totals["reported_cost_usd"], 9)
    )
    by_model = rows(
        con,
        """SELECT * EXCLUDE (sort_cost) FROM (
             SELECT provider, model, any_value(model_key) AS priced_as,
               coalesce(service_tier, 'standard') AS service_tier, count(*) AS buckets,
               sum(requests) AS requests, sum(input_tokens) AS input_tokens,
               sum(output_tokens) AS output_tokens, sum(cache_read_tokens) AS cache_read_tokens,
               sum(coalesce(cache_write_tokens, 0) + coalesce(cache_write_1h_tokens, 0))
                 AS cache_write_tokens,
               sum(computed_cost_usd) AS computed_cost_usd,
               bool_or(computed_cost_usd IS NULL) AS has_unpriced,
               count(*) FILTER (WHERE computed_cost_usd IS NULL) AS unpriced_buckets,
               sum(computed_cost_usd) AS sort_cost
             FROM bucket_costs WHERE has_tokens
             GROUP BY provider, model, coalesce(service_tier, 'standard'))
           ORDER BY sort_cost DESC NULLS LAST, input_tokens DESC, model""",
    )
    by_project = rows(
        con,
        """SELECT * EXCLUDE (sort_cost) FROM (
             SELECT provider, coalesce(project_id, workspace_id) AS project,
               CASE WHEN project_id IS NOT NULL THEN 'project'
                    WHEN workspace_id IS NOT NULL THEN 'workspace' END AS kind,
               count(*) AS buckets, sum(requests) AS requests,
               sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
               sum(computed_cost_usd) AS computed_cost_usd,
               count(*) FILTER (WHERE has_tokens AND computed_cost_usd IS NULL)
                 AS unpriced_buckets,
               sum(reported_cost_usd) AS reported_cost_usd,
               coalesce(sum(computed_cost_usd), 0) + coalesce(sum(reported_cost_usd), 0)
                 AS sort_cost
             FROM bucket_costs GROUP BY ALL)
           ORDER BY sort_cost DESC, project NULLS LAST""",
    )
    # Reported vs computed, per provider, over the days that have both.
    compared = rows(
        con,
        """WITH days AS (
             SELECT provider, CAST(bucket_start AS DATE) AS day,
               sum(reported_cost_usd) AS reported, sum(computed_cost_usd) AS computed,
               bool_or(reported_cost_usd IS NOT NULL) AS has_reported,
               bool_or(has_tokens) AS has_tokens,
               count(*) FILTER (WHERE has_tokens AND computed_cost_usd IS NULL) AS unpriced
             FROM bucket_costs GROUP BY ALL)
           SELECT provider, count(*) AS days, sum(reported) AS reported_cost_usd,
             sum(computed) AS computed_cost_usd, sum(unpriced) AS unpriced_buckets
           FROM days WHERE has_reported AND has_tokens GROUP BY provider ORDER BY provider""",
    )
    unpriced = rows(
        con,
        """SELECT provider, coalesce(model, '(no model: report not grouped by model)') AS model,
             count(*) AS buckets, sum(input_tokens) AS input_tokens,
             sum(output_tokens) AS output_tokens,
             CASE WHEN model IS NULL THEN 'the report does not name the model'
                  WHEN any_value(model_key) IS NULL THEN any_value(how)
                  ELSE 'known as ' || any_value(model_key)
                       || ', but no price was in force at the bucket''s date' END AS reason
           FROM bucket_costs WHERE has_tokens AND computed_cost_usd IS NULL
           GROUP BY provider, model ORDER BY buckets DESC, model""",
    )
    for item in by_model:
        item["computed_cost_usd"] = usd(item["computed_cost_usd"])
    for item in by_project:
        item["computed_cost_usd"] = usd(item["computed_cost_usd"])
        if item["reported_cost_usd"] is not None:
            item["reported_cost_usd"] = round(item["reported_cost_usd"], 9)
    for item in compared:
        item["computed_cost_usd"] = usd(item["computed_cost_usd"])
        item["reported_cost_usd"] = round(item["reported_cost_usd"], 9)
        item["difference_usd"] = (
            None
            if item["computed_cost_usd"] is None or item["unpriced_buckets"]
            else round(item["reported_cost_usd"] - item["computed_cost_usd"], 9)
        )
    notes = [
        "Buckets are aggregates (many requests each): priced at each model's rates on the "
        "bucket's start date and service tier, without a long-context surcharge (a bucket does "
        "not say how its input was spread over its requests) unless its context window says "
        'every request had one (Anthropic\'s "200k-1M"); per-call analyses do not include them.',
    ]
    if con.execute("SELECT count(*) FROM requests").fetchone()[0]:
        notes.append(
            "These totals are separate from the per-call totals: do not add the two if the "
            "logs and the reports cover the same traffic."
        )
    if con.execute(
        "SELECT count(*) FROM bucket_costs WHERE provider = 'openai' AND has_tokens "
        "AND service_tier = 'standard'"
    ).fetchone()[0]:
        notes.append(
            "OpenAI buckets that do not say batch: true are priced at standard rates: group "
            "the usage query by batch (group_by=batch) to price batch traffic at batch rates."
        )
    return {
        **totals,
        "by_model": by_model,
        "by_project": by_project,
        "reported_vs_computed": compared,
        "unpriced": unpriced,
        "needs_per_call_logs": NEEDS_CALLS,
        "notes": notes,
    }
