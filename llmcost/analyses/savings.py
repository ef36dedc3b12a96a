"""Savings: every analysis's per-call saving, ranked by dollars, no dollar counted twice.

Each savings analysis *offers* a table ``(request_id, usd)``: what it would save on each
call. Two offers can cover the same call: a retried call is also an exact repeat; a call
that a response cache would answer can also be batched, downgraded or cached. The summary
assigns each call's saving to ONE kind (in SQL, per call):

1. kinds that REMOVE the call (no call is made at all) win first, in this fixed order:
   failed calls, retries, exact repeats (response cache), near-duplicates (semantic cache);
2. otherwise the kind that CHANGES THE PRICE of the call with the largest saving on it:
   runaway-output caps, prompt caching, batch, downgrade, self-hosting.

Two kinds save on a *block* of calls as a whole, not call by call: prompt caching (a prompt
family: the first call pays to write the cache, the later ones read it) and self-hosting (a
model's calls share the fixed price of its GPUs). Their per-call saving is the block's saving
shared by its calls; given only some of them, it would still pay the whole write or GPU
bill. So a block is taken whole or not at all: after the per-call assignment above, in
``KINDS`` order, a block takes all its calls when its saving is larger than what the kinds
assigned to those calls save on them, else it saves nothing.

So a kind's ``usd`` is what it saves on the calls assigned to it; ``details`` keeps what it
would save on its own (``usd_before_overlap``). The sum of ``usd`` is therefore a floor of
what the kinds' estimates save together, never a ceiling: price changes can stack (a
batched call can also be cached, a downgraded one batched), and the stacked part is not
counted. It is a floor of the estimates, not a promise: each kind holds only under its
assumption (a downgrade's answer quality is not measured, a semantic cache is assumed to
hit). The reports call it a floor, not "up to".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llmcost import store
from llmcost.analyses import register, rows, usd

# kind: (class, order, title). Class 0 = removes the call, class 1 = changes its price.
KINDS: dict[str, tuple[int, int, str]] = {
    "failed_calls": (0, 1, "Failed but billed calls"),
    "retries": (0, 2, "Retries of calls that had succeeded"),
    "response_cache": (0, 3, "Response cache (exact repeats)"),
    "semantic_cache": (0, 4, "Semantic cache (near-duplicate prompts)"),
    "runaway_output": (1, 5, "Output caps on runaway generations"),
    "prompt_caching": (1, 6, "Provider prompt caching"),
    "batch": (1, 7, "Batch API for offline traffic"),
    "downgrade": (1, 8, "Cheaper model for simple calls"),
    "self_hosting": (1, 9, "Self-hosting an open-weight model"),
}

OVERLAP_RULE = (
    "each call's saving is counted once: kinds that remove the call win first (failed, "
    "retry, exact repeat, near-duplicate, in that order), otherwise the price change that "
    "saves the most on that call; prompt caching (per prompt family) and self-hosting (per "
    "model) count only where they win all the calls of the family or model; savings that "
    "could stack are not added up"
)


@dataclass
class Offer:
    kind: str
    table: str
    assumption: str
    details: dict = field(default_factory=dict)
    blocks: bool = False  # the table has a ``block`` column: its calls are taken whole
    # the kind's calls without a cost (unpriced, or without token counts): their saving is
    # unknown, in no table; a kind of such calls only is said apart from the total
    uncosted: int = 0


# The columns of ``calls`` the savings analyses read (copying all of them, JSON tags
# included, takes several times longer), plus those repricing needs (costing.TOKEN_COLUMNS).
_BASE_COLUMNS = (
    "request_id ts provider_eff priced_provider model model_key user_id session_id feature "
    "status finish_reason max_tokens service_tier tier_wanted input_tokens "
    "uncached_input_tokens cache_read_tokens cache_write_tokens cache_write_1h_tokens "
    "output_tokens reasoning_tokens prompt_hash system_hash completion_hash is_priced cost_usd "
    "cost_input cost_cache_read cost_cache_write cost_output p_input p_output p_cache_read "
    "p_cache_write p_cache_write_1h per_request source source_line"
).split()


def base(con, ctx) -> str:
    """Name of a table holding this run's calls: ``calls`` itself when it is a table (as
    ``report.window_view`` makes it: priced once), else a copy of the columns the savings
    analyses read, so that a ``calls`` view is priced once, not on each query."""
    if "sv_calls" not in ctx.memo:
        from llmcost import costing

        is_table = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'calls' AND temporary"
        ).fetchone()[0]
        if is_table:
            ctx.memo["sv_calls"] = "calls"
            return "calls"
        present = {row[0] for row in con.execute("DESCRIBE calls").fetchall()}
        wanted = dict.fromkeys([*_BASE_COLUMNS, *getattr(costing, "TOKEN_COLUMNS", ())])
        columns = ", ".join(c for c in wanted if c in present)
        con.execute(f"CREATE OR REPLACE TEMP TABLE sv_calls AS SELECT {columns} FROM calls")
        ctx.memo["sv_calls"] = "sv_calls"
    return ctx.memo["sv_calls"]


def reprice_sql(relation: str, targets: str | None = None) -> str:
    """``costing.reprice_sql`` over any relation of calls (alias-free name) instead of the
    ``calls`` view: each priced call of ``relation`` with ``target_cost_usd``, its tokens
    priced on ``targets(request_id, provider, model_key)`` (None: its own model) at the row
    its ``tier_wanted`` selects (same date, long-context tier and off-peak window)."""
    from llmcost.costing import candidates_sql, cost_sql

    cand = candidates_sql(
        relation, "coalesce(b.ts, now())", targets, with_tokens=True, row_only=True
    )
    return f"""
WITH cand AS ({cand})
SELECT c.request_id, p.model_key AS target_key, p.tier AS target_tier, c.cost_usd,
  {cost_sql("p.", "r.t_")} AS target_cost_usd
FROM {relation} c JOIN cand r ON r.request_id = c.request_id AND r.rn = 1
JOIN price_rows p ON p.rowid = r.price_row
WHERE c.cost_usd IS NOT NULL"""


def load_frame(con, name: str, frame) -> str:
    """Create temp table ``name`` from a Polars frame."""
    # DuckDB 2 refuses register() while a result of execute() is unread (a fetchone() leaves
    # one); a new statement closes it.
    con.execute("SELECT 1").fetchall()
    store.register_frame(con, "sv_frame", frame)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM sv_frame")
    finally:
        con.unregister("sv_frame")
    return name


def offer(
    con,
    ctx,
    kind: str,
    select_sql: str,
    assumption: str,
    details: dict | None = None,
    params: list | None = None,
    blocks: bool = False,
    uncosted: int = 0,
) -> None:
    """Record ``kind``'s per-call saving: ``select_sql`` yields (request_id, usd), and with
    ``blocks`` a ``block`` column too: the calls that save only together (see above).
    ``uncosted``: the kind's calls that have no cost, and so no saving that can be counted."""
    if kind not in KINDS:
        raise ValueError(f"unknown savings kind {kind!r}")
    table = f"sv_offer_{kind}"
    block = ", block" if blocks else ""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT request_id, CAST(usd AS DECIMAL(38, 12)) AS usd{block} FROM ({select_sql}) o
            WHERE usd > 0""",
        params or [],
    )
    ctx.savings[:] = [o for o in ctx.savings if o.kind != kind]
    ctx.savings.append(Offer(kind, table, assumption, details or {}, blocks, uncosted))


@register("savings", "Savings", order=97)
def savings(con, ctx) -> list[dict]:
    offers = {o.kind: o for o in ctx.savings}
    # the share is of the priced calls' cost: the calls without one are counted, and said
    total_cost, no_cost = con.execute(
        f"SELECT coalesce(sum(cost_usd), 0), count(*) - count(cost_usd) FROM {base(con, ctx)}"
    ).fetchone()
    if not offers:
        ctx.memo["savings_total"] = _total(0.0, 0, total_cost, [], no_cost)
        return []
    # each call to one kind: the per-call kinds first, then each block kind, whole or not
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_assigned AS
            WITH offers AS ({_union(o for o in offers.values() if not o.blocks)}),
            ranked AS (
              SELECT *, row_number() OVER (
                PARTITION BY request_id
                ORDER BY cls, CASE WHEN cls = 0 THEN prec ELSE 0 END, usd DESC, prec) AS rn
              FROM offers)
            SELECT request_id, kind, usd FROM ranked WHERE rn = 1"""
    )
    for o in sorted((o for o in offers.values() if o.blocks), key=lambda o: KINDS[o.kind][1]):
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE sv_block_won AS
                WITH b AS (
                  SELECT o.block, sum(o.usd) AS usd, coalesce(sum(a.usd), 0) AS assigned_usd
                  FROM {o.table} o LEFT JOIN sv_assigned a USING (request_id) GROUP BY o.block)
                SELECT o.request_id, o.usd FROM {o.table} o SEMI JOIN b
                  ON b.block = o.block AND b.usd > b.assigned_usd"""
        )
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE sv_assigned AS
                SELECT * FROM sv_assigned ANTI JOIN sv_block_won w USING (request_id)
                UNION ALL SELECT request_id, '{o.kind}' AS kind, usd FROM sv_block_won"""
        )
    per_kind = rows(
        con,
        f"""WITH alone AS (
              SELECT kind, count(*) AS calls_alone, sum(usd) AS usd_alone
              FROM ({_union(offers.values())}) o GROUP BY kind),
            won AS (SELECT kind, count(*) AS calls, sum(usd) AS usd FROM sv_assigned GROUP BY kind)
            SELECT alone.*, coalesce(won.calls, 0) AS calls, coalesce(won.usd, 0) AS usd
            FROM alone LEFT JOIN won USING (kind)""",
    )
    out = []
    for item in per_kind:
        o = offers[item["kind"]]
        out.append(
            {
                "kind": o.kind,
                "title": KINDS[o.kind][2],
                "usd": usd(item["usd"]),
                "calls": item["calls"],
                "assumption": o.assumption,
                "details": {
                    **o.details,
                    "usd_before_overlap": usd(item["usd_alone"]),
                    "calls_before_overlap": item["calls_alone"],
                },
            }
        )
    out.sort(key=lambda s: (-s["usd"], KINDS[s["kind"]][1]))
    assigned = con.execute("SELECT count(*) FROM sv_assigned").fetchone()[0]
    ctx.memo["savings_total"] = _total(
        sum(s["usd"] for s in out), assigned, total_cost, out, no_cost, _unknown(offers, out)
    )
    return out


def _unknown(offers: dict[str, Offer], out: list[dict]) -> list[dict]:
    """The kinds that found calls and none with a saving that has an amount: their calls have
    no cost (unpriced, or without token counts). They are in no row of the list: their
    saving is unknown, and a $0 row (or nothing) read as no saving."""
    listed = {s["kind"] for s in out}
    return sorted(
        (
            {"kind": o.kind, "title": KINDS[o.kind][2], "calls": o.uncosted}
            for o in offers.values()
            if o.uncosted and o.kind not in listed
        ),
        key=lambda u: KINDS[u["kind"]][1],
    )


def _union(items) -> str:
    """The offers of ``items`` as one relation (kind, cls, prec, request_id, usd)."""
    return " UNION ALL ".join(
        f"SELECT '{o.kind}' AS kind, {KINDS[o.kind][0]} AS cls, {KINDS[o.kind][1]} AS prec, "
        f"request_id, usd FROM {o.table}"
        for o in items
    ) or (
        "SELECT CAST(NULL AS VARCHAR) AS kind, 0 AS cls, 0 AS prec, "
        "CAST(NULL AS VARCHAR) AS request_id, CAST(0 AS DECIMAL(38, 12)) AS usd LIMIT 0"
    )


def _total(
    amount: float,
    calls: int,
    total_cost,
    out: list[dict],
    no_cost: int = 0,
    unknown: list[dict] | None = None,
) -> dict:
    cost = usd(total_cost) or 0.0
    unknown = unknown or []
    # no kind with an amount, and kinds of calls without a cost: the sum is unknown, never $0
    none_known = not out and bool(unknown)
    return {
        "usd": None if none_known else round(amount, 9),
        "calls": calls,
        "share_of_cost": None if none_known else (amount / cost) if cost else 0.0,
        "total_cost_usd": cost,  # of the priced calls
        "calls_without_cost": no_cost,  # unpriced, or no token counts: not in total_cost_usd
        "overlap_rule": OVERLAP_RULE,
        "kinds": len(out),
        # kinds whose calls all lack a cost: their saving is unknown, in no row and not in
        # usd (a floor of the kinds with an amount), said apart
        "unknown_kinds": unknown,
    }


@register("savings_total", "Savings total", order=98)
def savings_total(con, ctx) -> dict:
    return ctx.memo.get("savings_total") or _total(0.0, 0, 0, [])
