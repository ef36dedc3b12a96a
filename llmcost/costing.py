"""Costing: one SQL join from each call to the price row in force at its timestamp.

``prepare`` puts the flat price rows and the model-name resolutions next to ``requests``
and creates the ``priced`` view: every request with its cost split into input, cache
read, cache write and output parts (exact DECIMAL arithmetic), the price row that priced
it (table version, effective date, tier), or NULL cost when the model is unpriced or the
tokens are unknown.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from llmcost.pricing import PRICE_KEYS, PriceBook

_MILLION = Decimal(1_000_000)


def _per_token(value: float | None) -> str | None:
    return None if value is None else str(Decimal(repr(value)) / _MILLION)


def price_rows_frame(book: PriceBook) -> pl.DataFrame:
    counts_cache = {
        t.provider: bool(t.rules.get("long_context_counts_cache", True)) for t in book.tables
    }
    rows = book.rows()
    data = {
        "provider": [r.provider for r in rows],
        "model_key": [r.model_key for r in rows],
        "tier": [r.tier for r in rows],
        "above_input_tokens": [r.above_input_tokens for r in rows],
        "counts_cache": [counts_cache.get(r.provider, True) for r in rows],
        "valid_from": [r.valid_from for r in rows],
        "valid_to": [r.valid_to for r in rows],
        "per_request": [str(Decimal(repr(r.per_request))) for r in rows],
        "version": [r.version for r in rows],
        "source": [r.source for r in rows],
    }
    for key in PRICE_KEYS:
        data[f"p_{key}"] = [_per_token(getattr(r, key)) for r in rows]
    return pl.DataFrame(data, schema_overrides={"valid_from": pl.Date, "valid_to": pl.Date})


def prepare(con, book: PriceBook, as_of: dt.date | None = None) -> None:
    """Create temp tables ``price_rows`` and ``model_map`` and the view ``priced``."""
    frame = price_rows_frame(book)  # noqa: F841 - read by DuckDB below
    casts = ", ".join(f"CAST(p_{k} AS DECIMAL(24, 12)) AS p_{k}" for k in PRICE_KEYS)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE price_rows AS SELECT provider, model_key, tier, "
        "above_input_tokens, counts_cache, valid_from, valid_to, "
        f"CAST(per_request AS DECIMAL(24, 12)) AS per_request, version, source, {casts} FROM frame"
    )
    names = con.execute("SELECT DISTINCT model, provider FROM requests").fetchall()
    resolutions = [book.resolve(model, provider) for model, provider in names]
    mapping = pl.DataFrame(  # noqa: F841 - read by DuckDB below
        {
            "model": [m for m, _ in names],
            "logged_provider": [p for _, p in names],
            "priced_provider": [r.provider if r.priced else None for r in resolutions],
            "model_key": [r.model_key for r in resolutions],
            "how": [r.how for r in resolutions],
        },
        schema={
            "model": pl.String,
            "logged_provider": pl.String,
            "priced_provider": pl.String,
            "model_key": pl.String,
            "how": pl.String,
        },
    )
    con.execute("CREATE OR REPLACE TEMP TABLE model_map AS SELECT * FROM mapping")
    price_at = "coalesce(b.ts, now())" if as_of is None else f"DATE '{as_of.isoformat()}'"
    con.execute(PRICED_VIEW.format(price_at=price_at))


PRICED_VIEW = """
CREATE OR REPLACE TEMP VIEW priced AS
WITH base AS (
  SELECT r.*, m.model_key, m.priced_provider,
         coalesce(r.provider, m.priced_provider) AS provider_eff,
         coalesce(r.service_tier, 'standard') AS tier_wanted
  FROM requests r
  LEFT JOIN model_map m ON m.model = r.model AND m.logged_provider IS NOT DISTINCT FROM r.provider
), candidates AS (
  SELECT b.request_id, p.*,
         row_number() OVER (PARTITION BY b.request_id
                            ORDER BY (p.tier = b.tier_wanted) DESC, p.above_input_tokens DESC) AS rn
  FROM base b
  JOIN price_rows p
    ON p.model_key = b.model_key AND p.provider = b.priced_provider
   AND CAST({price_at} AS DATE) >= p.valid_from AND CAST({price_at} AS DATE) < p.valid_to
   AND p.tier IN (b.tier_wanted, 'standard')
   AND (p.above_input_tokens = 0 OR
        (CASE WHEN p.counts_cache THEN b.input_tokens
              ELSE b.input_tokens - coalesce(b.cache_read_tokens, 0)
                   - coalesce(b.cache_write_tokens, 0) - coalesce(b.cache_write_1h_tokens, 0)
         END) > p.above_input_tokens)
), joined AS (
  SELECT b.*, c.tier AS price_tier, c.above_input_tokens AS price_above_tokens,
         c.valid_from AS price_from, c.version AS pricing_version, c.source AS price_source,
         c.p_input, c.p_output, c.p_cache_read, c.p_cache_write, c.p_cache_write_1h,
         c.per_request,
         greatest(b.input_tokens - coalesce(b.cache_read_tokens, 0)
                  - coalesce(b.cache_write_tokens, 0) - coalesce(b.cache_write_1h_tokens, 0), 0)
           AS uncached_input_tokens
  FROM base b LEFT JOIN candidates c ON c.request_id = b.request_id AND c.rn = 1
)
SELECT *,
  (model_key IS NOT NULL AND p_input IS NOT NULL) AS is_priced,
  uncached_input_tokens * p_input AS cost_input,
  coalesce(cache_read_tokens, 0) * coalesce(p_cache_read, p_input) AS cost_cache_read,
  coalesce(cache_write_tokens, 0) * coalesce(p_cache_write, p_input)
    + coalesce(cache_write_1h_tokens, 0) * coalesce(p_cache_write_1h, p_cache_write, p_input)
    AS cost_cache_write,
  coalesce(output_tokens, 0) * p_output AS cost_output,
  CASE WHEN p_input IS NULL OR input_tokens IS NULL THEN NULL
       ELSE uncached_input_tokens * p_input
          + coalesce(cache_read_tokens, 0) * coalesce(p_cache_read, p_input)
          + coalesce(cache_write_tokens, 0) * coalesce(p_cache_write, p_input)
          + coalesce(cache_write_1h_tokens, 0) * coalesce(p_cache_write_1h, p_cache_write, p_input)
          + coalesce(output_tokens, 0) * p_output + per_request
  END AS cost_usd
FROM joined
"""


def reprice_sql(targets: str, price_at: str = "coalesce(c.ts, now())") -> str:
    """SQL: each call of ``calls`` joined to ``targets(request_id, provider, model_key)``,
    with ``target_cost_usd``, the call's tokens priced on the target model (same date, same
    service tier when the target has it, the target's long-context tier)."""
    return f"""
WITH cand AS (
  SELECT c.request_id, c.cost_usd,
    p.p_input, p.p_output, p.p_cache_read, p.p_cache_write, p.p_cache_write_1h, p.per_request,
    c.uncached_input_tokens, c.cache_read_tokens, c.cache_write_tokens, c.cache_write_1h_tokens,
    c.output_tokens, t.model_key AS target_key,
    row_number() OVER (PARTITION BY c.request_id
                       ORDER BY (p.tier = c.tier_wanted) DESC, p.above_input_tokens DESC) AS rn
  FROM calls c
  JOIN {targets} t ON t.request_id = c.request_id
  JOIN price_rows p ON p.model_key = t.model_key AND p.provider = t.provider
   AND CAST({price_at} AS DATE) >= p.valid_from AND CAST({price_at} AS DATE) < p.valid_to
   AND p.tier IN (c.tier_wanted, 'standard')
   AND (p.above_input_tokens = 0 OR c.input_tokens > p.above_input_tokens)
  WHERE c.cost_usd IS NOT NULL
)
SELECT request_id, target_key, cost_usd,
  uncached_input_tokens * p_input
  + coalesce(cache_read_tokens, 0) * coalesce(p_cache_read, p_input)
  + coalesce(cache_write_tokens, 0) * coalesce(p_cache_write, p_input)
  + coalesce(cache_write_1h_tokens, 0) * coalesce(p_cache_write_1h, p_cache_write, p_input)
  + coalesce(output_tokens, 0) * p_output + per_request AS target_cost_usd
FROM cand WHERE rn = 1
"""
