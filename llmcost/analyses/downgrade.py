"""Model-downgrade savings: each model's calls repriced on its cheaper sibling."""

import polars as pl

from llmcost.analyses import register, rows, usd
from llmcost.costing import reprice_sql

ASSUMPTION = (
    "upper bound: every call of the model moves to the cheaper sibling named in the pricing "
    "table (downgrade_to) with the same token counts; answer quality is not measured"
)


@register("downgrade", "Model-downgrade savings", order=60)
def downgrade(con, ctx) -> dict:
    pairs = [
        (m.provider, m.key, m.downgrade_to)
        for m in ctx.book.models.values()
        if m.downgrade_to and (m.provider, m.downgrade_to) in ctx.book.models
    ]
    if not pairs:
        return {"assumption": ASSUMPTION, "candidates": [], "total_savings_usd": 0.0}
    siblings = pl.DataFrame(  # noqa: F841 - read by DuckDB below
        {
            "provider": [p[0] for p in pairs],
            "model_key": [p[1] for p in pairs],
            "target_key": [p[2] for p in pairs],
        }
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE downgrade_targets AS
           SELECT c.request_id, s.provider, s.target_key AS model_key
           FROM calls c JOIN siblings s
             ON s.provider = c.priced_provider AND s.model_key = c.model_key
           WHERE c.cost_usd IS NOT NULL"""
    )
    candidates = rows(
        con,
        f"""WITH repriced AS ({reprice_sql("downgrade_targets")})
            SELECT c.provider_eff AS provider, c.model, r.target_key AS target,
              count(*) AS requests, sum(r.cost_usd) AS cost_usd,
              sum(r.target_cost_usd) AS target_cost_usd,
              sum(r.cost_usd) - sum(r.target_cost_usd) AS savings_usd
            FROM repriced r JOIN calls c USING (request_id)
            GROUP BY ALL HAVING sum(r.cost_usd) > sum(r.target_cost_usd)
            ORDER BY savings_usd DESC""",
    )
    for item in candidates:
        for key in ("cost_usd", "target_cost_usd", "savings_usd"):
            item[key] = usd(item[key])
    return {
        "assumption": ASSUMPTION,
        "candidates": candidates,
        "total_savings_usd": round(sum(c["savings_usd"] for c in candidates), 9),
    }
