"""Audit: reported vs recounted tokens (with ``--recount``) and reported vs computed cost.

Present only when it applies: ``analyze --recount`` (the recount ran before the fill, see
``llmcost.audit.recount``), or calls whose log carries a cost of its own to compare.
"""

from llmcost import audit as _audit
from llmcost.analyses import register


@register("audit", "Audit", order=88)
def audit(con, ctx) -> dict | None:
    recounted = bool(getattr(ctx.options, "recount", False)) and _audit.has_recounts(con)
    if not recounted and not _audit.has_reported_costs(con):
        return None
    return _audit.compute(con, _audit.DEFAULT_THRESHOLD_PCT, ctx.top)
