"""Numbers budget rules and cost diffs need: the costliest call, cost per feature and user.

``by_feature`` and ``by_user`` list every feature and user (the costliest first) up to
``LIMIT`` entries; ``truncated`` says when more existed, so a per-user limit never reads a
missing user as $0 by mistake. Calls without a feature or user are grouped under ``null``.
A group none of whose calls has a cost (unpriced, or without token counts) has a null
``cost_usd``; ``unpriced_requests`` and ``unknown_token_requests`` say why.
"""

from llmcost.analyses import local_iso, register, rows, usd
from llmcost.attribution import FAILED_WITHOUT_USAGE, without_tokens

LIMIT = 1000


def _group(con, column: str, name: str) -> tuple[list[dict], bool]:
    items = rows(
        con,
        f"""SELECT {column} AS {name}, count(*) AS requests,
              count(*) FILTER (WHERE NOT is_priced) AS unpriced_requests,
              -- a priced model's calls without token counts: in no cost either (but the
              -- failed ones without usage, not billed, as by_model counts them)
              {without_tokens("is_priced AND cost_usd IS NULL")} AS unknown_token_requests,
              count(*) FILTER (WHERE {FAILED_WITHOUT_USAGE}) AS error_unknown_token_requests,
              -- null when none of its calls has a cost (unknown, never $0)
              sum(cost_usd) AS cost_usd
            FROM calls GROUP BY 1
            ORDER BY cost_usd DESC NULLS LAST, requests DESC, 1 NULLS LAST
            LIMIT ?""",
        [LIMIT + 1],
    )
    for item in items:
        item["cost_usd"] = usd(item["cost_usd"])
    return items[:LIMIT], len(items) > LIMIT


@register("limits", "Budget measures", order=85)
def limits(con, ctx) -> dict:
    top = rows(
        con,
        """SELECT request_id, ts, model, user_id, feature, cost_usd, source, source_line AS line
           FROM calls WHERE cost_usd IS NOT NULL
           ORDER BY cost_usd DESC, ts, request_id LIMIT 1""",
    )
    for item in top:
        item["cost_usd"] = usd(item["cost_usd"])
        item["ts"] = local_iso(ctx, item["ts"])
    by_feature, more_features = _group(con, "feature", "feature")
    by_user, more_users = _group(con, "user_id", "user_id")
    return {
        "max_request": top[0] if top else None,
        "by_feature": by_feature,
        "by_user": by_user,
        "truncated": {"by_feature": more_features, "by_user": more_users},
    }
