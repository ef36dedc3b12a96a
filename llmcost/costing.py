"""Costing: one SQL join from each call to the price row in force at its timestamp.

``prepare`` puts the flat price rows and the model-name resolutions next to ``requests``
and creates the ``priced`` view: every request with its cost split into input, cache
read, cache write, output and web-search parts (exact DECIMAL arithmetic), the price row
that priced it (table version, effective date, tier, off-peak), or NULL cost when the model
is unpriced or the tokens are unknown. With ``as_of`` the view also carries
``as_of_cost_usd``: the same call priced at the prices in force on that date (what-if),
beside the historical ``cost_usd``, which does not change.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from llmcost import store
from llmcost.pricing import PRICE_KEYS, PriceBook

_MILLION = Decimal(1_000_000)
_WINDOW = pl.List(pl.Struct({"days": pl.Int32, "m_from": pl.Int32, "m_to": pl.Int32}))


def _per_token(value: float | None) -> str | None:
    return None if value is None else str(Decimal(repr(value)) / _MILLION)


def _usd(value: float | None) -> str | None:
    return None if value is None else str(Decimal(repr(value)))


def price_rows_frame(book: PriceBook) -> pl.DataFrame:
    rows = book.rows()
    data = {
        "provider": [r.provider for r in rows],
        "model_key": [r.model_key for r in rows],
        "tier": [r.tier for r in rows],
        "above_input_tokens": [r.above_input_tokens for r in rows],
        "counts_cache": [r.counts_cache for r in rows],
        "valid_from": [r.valid_from for r in rows],
        "valid_to": [r.valid_to for r in rows],
        "off_peak": [
            None
            if r.off_peak is None
            else [{"days": d, "m_from": a, "m_to": b} for d, a, b in r.off_peak]
            for r in rows
        ],
        "per_request": [_usd(r.per_request) for r in rows],
        "per_search": [_usd(r.per_search) for r in rows],
        "discount_pct": [r.discount_pct for r in rows],
        "inference_geo": [r.inference_geo for r in rows],
        "speed": [r.speed for r in rows],
        "version": [r.version for r in rows],
        "source": [r.source for r in rows],
    }
    for key in PRICE_KEYS:
        data[f"p_{key}"] = [_per_token(getattr(r, key)) for r in rows]
    return pl.DataFrame(
        data,
        schema_overrides={
            "valid_from": pl.Date,
            "valid_to": pl.Date,
            "off_peak": _WINDOW,
            "per_request": pl.String,
            "per_search": pl.String,
            "discount_pct": pl.Float64,
            "inference_geo": pl.String,
            "speed": pl.String,
            **{f"p_{k}": pl.String for k in PRICE_KEYS},
        },
    )


def prepare(con, book: PriceBook, as_of: dt.date | None = None) -> None:
    """Create temp tables ``price_rows`` and ``model_map`` and the view ``priced``."""
    store.register_frame(con, "llm_price_frame", price_rows_frame(book))
    casts = ", ".join(f"CAST(p_{k} AS DECIMAL(24, 12)) AS p_{k}" for k in PRICE_KEYS)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE price_rows AS SELECT provider, model_key, tier, "
        "above_input_tokens, counts_cache, valid_from, valid_to, off_peak, "
        "CAST(per_request AS DECIMAL(24, 12)) AS per_request, "
        "CAST(per_search AS DECIMAL(24, 12)) AS per_search, discount_pct, inference_geo, speed, "
        "version, source, "
        f"{casts} FROM llm_price_frame"
    )
    con.unregister("llm_price_frame")
    names = con.execute("SELECT DISTINCT model, provider FROM requests").fetchall()
    resolutions = [book.resolve(model, provider) for model, provider in names]
    mapping = pl.DataFrame(
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
    store.register_frame(con, "llm_model_map_frame", mapping)
    con.execute("CREATE OR REPLACE TEMP TABLE model_map AS SELECT * FROM llm_model_map_frame")
    con.unregister("llm_model_map_frame")
    if as_of is None:
        as_of_ctes, as_of_cols, as_of_join = "", AS_OF_NULLS, ""
    else:
        if not isinstance(as_of, dt.date):
            raise TypeError("as_of must be a date")
        # A view cannot hold parameters; the date is a validated date object, inlined.
        at = f"DATE '{as_of.isoformat()}'"
        as_of_ctes = ", as_of_candidates AS (" + candidates_sql("base", at, row_only=True) + ")"
        as_of_cols = AS_OF_COLUMNS
        as_of_join = (
            "LEFT JOIN as_of_candidates ak ON ak.request_id = b.request_id AND ak.rn = 1 "
            "LEFT JOIN price_rows a ON a.rowid = ak.price_row"
        )
    con.execute(
        PRICED_VIEW.format(
            candidates=candidates_sql("base", "coalesce(b.ts, now())", row_only=True),
            as_of_ctes=as_of_ctes,
            as_of_cols=as_of_cols,
            as_of_join=as_of_join,
            cost=cost_sql(""),
            as_of_cost=cost_sql("a_"),
            price_cols=", ".join(f"c.{c}" for c in _PRICE_COLUMNS),
            as_of_excluded=", ".join(f"a_{c}" for c in _PRICE_COLUMNS),
            cost_input=input_cost_sql(),
            cost_cache_read=cache_read_cost_sql(),
            cost_output=output_cost_sql(),
        )
    )


def candidates_sql(
    calls: str,
    price_at: str,
    targets: str | None = None,
    with_tokens: bool = False,
    row_only: bool = False,
) -> str:
    """Every price row that may price each call of ``calls`` (alias b) at ``price_at``,
    ranked: the wanted service tier first, then the highest long-context tier reached, then
    an off-peak window the call falls in, then the row for the call's reported
    ``inference_geo`` and ``speed`` (scaled prices) over the plain row. ``rn = 1`` is the
    row that prices the call.
    With ``targets(request_id, provider, model_key)``, the calls are priced on those models.
    ``row_only``: each candidate is the ``price_rows`` row's ``rowid`` (``price_row``), not its
    columns, for the caller to join the one it keeps: the ranking (a window over every call)
    then carries one number per row instead of some forty columns, a fifth faster."""
    model = (
        (
            f"JOIN {targets} t ON t.request_id = b.request_id JOIN price_rows p "
            "ON p.model_key = t.model_key AND p.provider = t.provider"
        )
        if targets
        else ("JOIN price_rows p ON p.model_key = b.model_key AND p.provider = b.priced_provider")
    )
    utc = "(b.ts AT TIME ZONE 'UTC')"
    mod = f"(hour({utc}) * 60 + minute({utc}))"  # the call's UTC minute of the day
    tokens = "".join(f" b.{c} AS t_{c}," for c in TOKEN_COLUMNS) if with_tokens else ""
    columns = "p.rowid AS price_row" if row_only else "p.*"
    return f"""
  SELECT b.request_id,{tokens} {columns},
         row_number() OVER (PARTITION BY b.request_id
                            ORDER BY {_MODIFIERS_MATCH} DESC,
                                     (p.tier = b.tier_wanted) DESC, p.above_input_tokens DESC,
                                     (p.off_peak IS NOT NULL) DESC,
                                     (p.inference_geo IS NOT NULL) DESC,
                                     (p.speed IS NOT NULL) DESC) AS rn
  FROM {calls} b
  {model}
   AND CAST({price_at} AS DATE) >= p.valid_from AND CAST({price_at} AS DATE) < p.valid_to
   AND p.tier IN (b.tier_wanted, 'standard')
   AND (p.above_input_tokens = 0 OR
        (CASE WHEN p.counts_cache THEN b.input_tokens
              ELSE b.input_tokens - coalesce(b.cache_read_tokens, 0)
                   - coalesce(b.cache_write_tokens, 0) - coalesce(b.cache_write_1h_tokens, 0)
         END) > p.above_input_tokens)
   AND (p.off_peak IS NULL OR (b.ts IS NOT NULL AND len(list_filter(p.off_peak, lambda w:
        ((w.days >> (isodow({utc}) - 1)) & 1) = 1 AND (
          CASE WHEN w.m_from < w.m_to THEN {mod} >= w.m_from AND {mod} < w.m_to
               ELSE {mod} >= w.m_from OR {mod} < w.m_to END))) > 0))
"""


# A price row for a reported inference_geo/speed fits only a call that reports it. Ranked
# first, not joined on: a join condition on the call's columns here lets DuckDB join every
# call with every price row of the day before the model (out of memory on 200k calls). A
# plain row is there beside every scaled one, so the first row always fits.
_MODIFIERS_MATCH = """((p.inference_geo IS NULL OR p.inference_geo = b.inference_geo)
                                      AND (p.speed IS NULL OR p.speed = b.speed))"""


TOKEN_COLUMNS = (
    "uncached_input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "web_search_requests",
    # the audio parts of the three above (the priced view's, never NULL, never above them)
    "audio_uncached_input",
    "audio_cache_read",
    "audio_output",
)

# Audio parts are billed at the audio price, else at the text price of the same key.
_IN_AUDIO = "coalesce({p}p_input_audio, {p}p_input)"
_READ_AUDIO = "coalesce({p}p_cache_read_audio, {p}p_cache_read, {p}p_input)"
_OUT_AUDIO = "coalesce({p}p_output_audio, {p}p_output)"


def input_cost_sql(p: str = "", t: str = "") -> str:
    """The uncached input's cost: its text part at ``input``, its audio part at
    ``input_audio``."""
    return (
        f"({t}uncached_input_tokens - {t}audio_uncached_input) * {p}p_input"
        f" + {t}audio_uncached_input * {_IN_AUDIO.format(p=p)}"
    )


def cache_read_cost_sql(p: str = "", t: str = "") -> str:
    return (
        f"(coalesce({t}cache_read_tokens, 0) - {t}audio_cache_read)"
        f" * coalesce({p}p_cache_read, {p}p_input)"
        f" + {t}audio_cache_read * {_READ_AUDIO.format(p=p)}"
    )


def output_cost_sql(p: str = "", t: str = "") -> str:
    return (
        f"(coalesce({t}output_tokens, 0) - {t}audio_output) * {p}p_output"
        f" + {t}audio_output * {_OUT_AUDIO.format(p=p)}"
    )


def cost_sql(prefix: str, tokens: str = "") -> str:
    """The cost of a call from its token columns ``{tokens}*`` and the price columns
    ``{prefix}p_*``."""
    p, t = prefix, tokens
    return f"""{input_cost_sql(p, t)}
          + {cache_read_cost_sql(p, t)}
          + coalesce({t}cache_write_tokens, 0) * coalesce({p}p_cache_write, {p}p_input)
          + coalesce({t}cache_write_1h_tokens, 0)
            * coalesce({p}p_cache_write_1h, {p}p_cache_write, {p}p_input)
          + {output_cost_sql(p, t)} + {p}per_request
          + coalesce({t}web_search_requests, 0) * coalesce({p}per_search, 0)"""


_PRICE_COLUMNS = [f"p_{k}" for k in PRICE_KEYS] + ["per_request", "per_search"]
AS_OF_NULLS = ", CAST(NULL AS DATE) AS as_of_price_from, " + ", ".join(
    f"CAST(NULL AS DECIMAL(24, 12)) AS a_{c}" for c in _PRICE_COLUMNS
)
AS_OF_COLUMNS = ", a.valid_from AS as_of_price_from, " + ", ".join(
    f"a.{c} AS a_{c}" for c in _PRICE_COLUMNS
)

PRICED_VIEW = """
CREATE OR REPLACE TEMP VIEW priced AS
WITH base AS (
  SELECT r.*, m.model_key, m.priced_provider,
         coalesce(r.provider, m.priced_provider) AS provider_eff,
         coalesce(r.service_tier, 'standard') AS tier_wanted
  FROM requests r
  LEFT JOIN model_map m ON m.model = r.model AND m.logged_provider IS NOT DISTINCT FROM r.provider
), candidates AS ({candidates}){as_of_ctes}, joined AS (
  SELECT b.*, c.tier AS price_tier, c.above_input_tokens AS price_above_tokens,
         c.valid_from AS price_from, c.version AS pricing_version, c.source AS price_source,
         (c.off_peak IS NOT NULL) AS price_off_peak, c.discount_pct AS price_discount_pct,
         c.inference_geo AS price_inference_geo, c.speed AS price_speed,
         {price_cols},
         greatest(b.input_tokens - coalesce(b.cache_read_tokens, 0)
                  - coalesce(b.cache_write_tokens, 0) - coalesce(b.cache_write_1h_tokens, 0), 0)
           AS uncached_input_tokens,
         -- the audio parts, each within the part it belongs to (billed at audio prices)
         least(greatest(coalesce(b.input_audio_tokens, 0)
                        - coalesce(b.cache_read_audio_tokens, 0), 0),
               uncached_input_tokens) AS audio_uncached_input,
         least(coalesce(b.cache_read_audio_tokens, 0), greatest(coalesce(b.cache_read_tokens, 0), 0))
           AS audio_cache_read,
         least(coalesce(b.output_audio_tokens, 0), greatest(coalesce(b.output_tokens, 0), 0))
           AS audio_output
         {as_of_cols}
  FROM base b LEFT JOIN candidates k ON k.request_id = b.request_id AND k.rn = 1
  LEFT JOIN price_rows c ON c.rowid = k.price_row
  {as_of_join}
)
SELECT * EXCLUDE ({as_of_excluded}),
  (model_key IS NOT NULL AND p_input IS NOT NULL) AS is_priced,
  {cost_input} AS cost_input,
  {cost_cache_read} AS cost_cache_read,
  coalesce(cache_write_tokens, 0) * coalesce(p_cache_write, p_input)
    + coalesce(cache_write_1h_tokens, 0) * coalesce(p_cache_write_1h, p_cache_write, p_input)
    AS cost_cache_write,
  {cost_output} AS cost_output,
  coalesce(web_search_requests, 0) * coalesce(per_search, 0) AS cost_search,
  CASE WHEN p_input IS NULL OR input_tokens IS NULL THEN NULL
       ELSE {cost} END AS cost_usd,
  CASE WHEN a_p_input IS NULL OR input_tokens IS NULL THEN NULL
       ELSE {as_of_cost} END AS as_of_cost_usd
FROM joined
"""


def reprice_sql(targets: str, price_at: str = "coalesce(b.ts, now())") -> str:
    """SQL: each call of ``calls`` joined to ``targets(request_id, provider, model_key)``,
    with ``target_cost_usd``, the call's tokens priced on the target model (same date, same
    service tier when the target has it, the target's long-context tier and off-peak window)."""
    return f"""
WITH cand AS ({candidates_sql("calls", price_at, targets, with_tokens=True)})
SELECT c.request_id, t.model_key AS target_key, c.cost_usd,
  {cost_sql("p.", "p.t_")} AS target_cost_usd
FROM calls c
JOIN cand p ON p.request_id = c.request_id AND p.rn = 1
JOIN {targets} t ON t.request_id = c.request_id
WHERE c.cost_usd IS NOT NULL
"""


def add_as_of(con, report: dict, as_of: dt.date) -> None:
    """What-if: put the cost at ``as_of``'s prices beside the historical cost in ``report``
    (``summary.as_of_cost_usd``, ``by_model[].as_of_cost_usd``). The what-if covers only
    the calls priced on that date (``summary.as_of_priced_requests``); priced calls whose
    model had no price then are counted in ``summary.as_of_unpriced_requests``."""
    from llmcost.analyses import usd

    total, priced, unpriced = con.execute(
        "SELECT coalesce(sum(as_of_cost_usd), 0), count(as_of_cost_usd), "
        "count(*) FILTER (WHERE cost_usd IS NOT NULL AND as_of_cost_usd IS NULL) FROM calls"
    ).fetchone()
    summary = report.setdefault("summary", {})
    summary["as_of"] = as_of.isoformat()
    summary["as_of_cost_usd"] = usd(total)
    summary["as_of_priced_requests"] = priced
    summary["as_of_unpriced_requests"] = unpriced
    per_model = {
        (p, m): c
        for p, m, c in con.execute(
            "SELECT provider_eff, model, sum(as_of_cost_usd) FROM calls GROUP BY ALL"
        ).fetchall()
    }
    for item in report.get("by_model") or []:
        item["as_of_cost_usd"] = usd(per_model.get((item.get("provider"), item.get("model"))))
