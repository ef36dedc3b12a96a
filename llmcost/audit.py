"""Audit: what the logs claim against what llmcost counts and computes.

Two comparisons, each over the ``calls`` view (the report window):

- **Tokens**: the prompt and completion token counts a log reported, against a recount of
  the text it logged (``tokens.fill_missing_tokens(recount=True)``). ``recount`` must run
  *before* the missing counts are filled, so that only numbers the log itself reported are
  compared; it keeps them beside the recount in the temp table ``audit_recounts``.
  Deltas are ``reported - recounted`` (positive: the log claims more than its text holds),
  in tokens, in % of the recount, and in dollars (the delta tokens priced at the call's own
  input and output prices, ``p_input`` / ``p_output`` of the ``priced`` view; extra input
  tokens, up to the cache reads the call reports, at its cache-read price: caching is by
  prefix, and what a log leaves out of a prompt is at its front). Models whose
  tokenizer is not public are recounted as estimates (o200k_base × a family factor) and are
  kept apart from exactly counted ones.
- **Cost**: the cost a log claimed (``reported_cost_usd``: LiteLLM, Langfuse, Helicone,
  agents) against the cost computed from the pricing tables, per model, with the calls that
  disagree most.

A reasoning model's reported output includes hidden reasoning tokens the text cannot show:
the reported ``reasoning_tokens`` are taken out before comparing (when the log has them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path

import polars as pl

from llmcost import store
from llmcost.tokens import ESTIMATE_SPREAD_PCT

DEFAULT_THRESHOLD_PCT = 10.0
TOOL_ANSWERS_REASON = (
    "the log keeps the tool calls' arguments, not the framing the model wrote around each call"
)
RECOUNTS_TABLE = "audit_recounts"


# ---------------------------------------------------------------------------------------------
# Recount (before the fill)
# ---------------------------------------------------------------------------------------------


def tokenizer_choices(con, book, where: str = "TRUE") -> dict:
    """Each logged model (of the ``requests`` rows matching ``where``) → its TokenizerChoice:
    the pricing table's ``encoding:`` when the model resolves to one, else by name."""
    from llmcost import tokens

    choices = {}
    for model, provider in con.execute(
        f"SELECT DISTINCT model, provider FROM requests WHERE {where} ORDER BY ALL"
    ).fetchall():
        resolution = book.resolve(model, provider)
        encoding = None
        if resolution.priced:
            encoding = book.models[(resolution.provider, resolution.model_key)].encoding
        choices[model] = tokens.encoding_for(model, encoding, provider)
    return choices


def recount(con, book) -> int:
    """Recount every call that has logged text, without writing to ``requests``; keep the
    reported counts beside the recount in ``audit_recounts``. Returns the rows recounted.

    Only rows whose ``token_source`` is 'reported' contribute reported numbers (a store filled
    by an earlier run holds our own counts, which are not claims of the log)."""
    from llmcost import tokens

    choices = tokenizer_choices(con, book, "prompt_hash IS NOT NULL OR completion_hash IS NOT NULL")
    if choices:
        frame = tokens.fill_missing_tokens(con, choices, recount=True).recounts
    else:
        frame = pl.DataFrame(
            schema={"request_id": pl.String, "counted_input": pl.Int64, "counted_output": pl.Int64}
        )
    chosen = pl.DataFrame(
        {
            "model": list(choices),
            "count_source": [c.token_source for c in choices.values()],
            "encoding": [c.encoding for c in choices.values()],
            "factor": [float(c.factor) for c in choices.values()],
            "reasoning": [c.reasoning for c in choices.values()],
        },
        schema={
            "model": pl.String,
            "count_source": pl.String,
            "encoding": pl.String,
            "factor": pl.Float64,
            "reasoning": pl.Boolean,
        },
    )
    store.register_frame(con, "_audit_recounts", frame)
    store.register_frame(con, "_audit_choices", chosen)
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {RECOUNTS_TABLE} AS
            SELECT r.request_id,
                   CASE WHEN r.token_source = 'reported' THEN r.input_tokens END AS reported_input,
                   CASE WHEN r.token_source = 'reported' THEN r.output_tokens END
                     AS reported_output,
                   CASE WHEN r.token_source = 'reported' THEN r.reasoning_tokens END
                     AS reported_reasoning,
                   n.counted_input, n.counted_output,
                   c.count_source, c.encoding, c.factor, c.reasoning,
                   r.tools_hash IS NOT NULL AS tools_logged,
                   coalesce(r.finish_reason = 'tool_calls', FALSE) AS tool_answer
            FROM requests r
            JOIN _audit_recounts n ON n.request_id = r.request_id
            JOIN _audit_choices c ON c.model = r.model"""
        )
    finally:
        con.unregister("_audit_recounts")
        con.unregister("_audit_choices")
    return frame.height


# ---------------------------------------------------------------------------------------------
# The audit (after costing: over the calls view)
# ---------------------------------------------------------------------------------------------


def has_reported_costs(con) -> bool:
    return con.execute(
        "SELECT count(*) > 0 FROM calls WHERE reported_cost_usd IS NOT NULL"
    ).fetchone()[0]


def has_recounts(con) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?",
            [RECOUNTS_TABLE],
        ).fetchone()[0]
    )


def compute(con, threshold_pct: float = DEFAULT_THRESHOLD_PCT, top: int = 10) -> dict:
    """The ``audit`` report section: ``tokens`` (None unless ``recount`` ran on this
    connection) and ``cost`` (None when no call carries a reported cost)."""
    return {
        "threshold_pct": float(threshold_pct),
        "tokens": token_audit(con, threshold_pct, top) if has_recounts(con) else None,
        "cost": cost_audit(con, threshold_pct, top) if has_reported_costs(con) else None,
    }


# One row per compared (call, side): side = input | output. The output compared is the
# visible part: reported output minus the reasoning tokens the log reported. An answer with
# tool calls is not compared on its output: the log keeps the calls' arguments, not the
# recipient and framing the model wrote around each call (tokens it was billed for), so its
# recount is a lower bound that would read as the log claiming too much (_TOOL_ANSWERS_SQL
# counts them apart).
_SIDES_SQL = f"""
CREATE OR REPLACE TEMP TABLE _audit_sides AS
WITH a AS (
  SELECT c.request_id, c.model, c.provider_eff AS provider, c.source, c.source_line,
         n.count_source, n.encoding, n.factor, n.reasoning,
         n.reported_input, n.counted_input,
         n.reported_output - coalesce(n.reported_reasoning, 0) AS reported_output,
         n.reported_reasoning, n.counted_output, n.tools_logged, n.tool_answer,
         c.p_input, c.p_output,
         c.cache_read_tokens, c.p_cache_read
  FROM calls c JOIN {RECOUNTS_TABLE} n ON n.request_id = c.request_id
), sides AS (
  SELECT *, 'input' AS side, reported_input AS reported, counted_input AS counted,
         p_input AS price,
         -- extra input tokens the log reports read from cache, up to the extra: caching is
         -- by prefix, and what a log leaves out of the prompt (a system prompt, tools) is
         -- at its front, so it is read from cache whenever part of the prompt is
         CASE WHEN reported_input > counted_input AND cache_read_tokens > 0
                   AND p_cache_read IS NOT NULL
              THEN least(reported_input - counted_input, cache_read_tokens) ELSE 0 END
           AS cached_extra
  FROM a
  UNION ALL
  SELECT *, 'output', reported_output, counted_output, p_output, 0 FROM a
  WHERE NOT tool_answer
)
SELECT request_id, model, provider, source, source_line, count_source, encoding, factor,
       reasoning, reported_reasoning, tools_logged, side, reported, counted,
       reported - counted AS delta,
       CASE WHEN counted > 0 THEN 100.0 * (reported - counted) / counted END AS delta_pct,
       -- off by more than ? % of the recount (a recount of 0 is off when reported is not)
       abs(reported - counted) * 100 > ? * counted AS off,
       (reported - counted - cached_extra) * price + coalesce(cached_extra * p_cache_read, 0)
         AS delta_cost,
       -- every extra token at the input price (the figure before cache reads were told apart)
       (reported - counted) * price AS delta_cost_uncached,
       cached_extra
FROM sides WHERE reported IS NOT NULL AND counted IS NOT NULL
"""

_SIDE_STATS_SQL = """
SELECT model, provider, side, count(*) AS calls,
       sum(reported) AS reported_tokens, sum(counted) AS recounted_tokens,
       sum(delta) AS delta_tokens, avg(delta) AS mean_delta,
       -- the percentage beside the mean delta: the delta of the sums in % of the recounted
       -- sum, so it has the mean delta's sign and weighs calls by size (a mean of per-call
       -- percentages read '+0.5%' beside a mean delta of -0.3 tokens: a few short calls a
       -- token over outweighed a long one several under)
       CASE WHEN sum(counted) > 0
            THEN 100.0 * (sum(reported) - sum(counted)) / sum(counted) END AS mean_delta_pct,
       avg(delta_pct) AS mean_call_delta_pct,
       count(*) FILTER (WHERE off) AS off_calls,
       sum(delta_cost) AS delta_cost_usd, count(*) FILTER (WHERE delta_cost IS NULL) AS unpriced,
       sum(cached_extra) AS cached_extra, sum(delta_cost_uncached) AS delta_cost_uncached
FROM _audit_sides GROUP BY ALL
"""

# The worst call of each (model, side): by |delta tokens| and by |delta %|.
_WORST_SQL = """
SELECT model, provider, side, kind, request_id, source, source_line, reported, counted, delta,
       delta_pct
FROM (
  SELECT *, 'tokens' AS kind, row_number() OVER (
      PARTITION BY model, provider, side ORDER BY abs(delta) DESC, request_id) AS rn
  FROM _audit_sides
  UNION ALL
  SELECT *, 'pct', row_number() OVER (
      PARTITION BY model, provider, side
      ORDER BY abs(delta_pct) DESC NULLS LAST, abs(delta) DESC, request_id) AS rn
  FROM _audit_sides
) WHERE rn = 1
"""

_MODELS_SQL = """
SELECT model, provider, any_value(count_source) AS token_source, any_value(encoding) AS encoding,
       any_value(factor) AS factor, bool_or(reasoning) AS reasoning,
       bool_or(reported_reasoning IS NOT NULL) AS reasoning_reported,
       sum(reported_reasoning) FILTER (WHERE side = 'output') AS reasoning_excluded_tokens,
       bool_and(tools_logged) AS tools_logged,
       count(DISTINCT request_id) AS calls, sum(delta_cost) AS delta_cost_usd,
       count(DISTINCT request_id) FILTER (WHERE off) AS off_calls,
       count(DISTINCT request_id) FILTER (WHERE delta_cost IS NULL) AS unpriced_calls
FROM _audit_sides GROUP BY ALL
ORDER BY abs(coalesce(sum(delta_cost), 0)) DESC, model, provider
"""

# The calls off by more than the threshold on either side, costliest deltas first.
_OFF_CALLS_SQL = """
SELECT request_id, model, any_value(count_source) AS token_source, any_value(source) AS source,
       any_value(source_line) AS line,
       max(reported) FILTER (WHERE side = 'input') AS reported_input,
       max(counted) FILTER (WHERE side = 'input') AS recounted_input,
       max(reported) FILTER (WHERE side = 'output') AS reported_output,
       max(counted) FILTER (WHERE side = 'output') AS recounted_output,
       sum(delta_cost) AS delta_cost_usd, sum(abs(delta)) AS abs_delta
FROM _audit_sides GROUP BY request_id, model HAVING bool_or(off)
ORDER BY abs(sum(delta_cost)) DESC NULLS LAST, abs_delta DESC, request_id
LIMIT ?
"""

_NOT_COMPARED_SQL = f"""
SELECT count(*) FILTER (WHERE n.request_id IS NULL OR
                              (n.counted_input IS NULL AND n.counted_output IS NULL))
         AS without_text,
       count(*) FILTER (WHERE n.counted_input IS NOT NULL OR n.counted_output IS NOT NULL)
         AS recounted,
       count(*) FILTER (WHERE (n.counted_input IS NOT NULL OR n.counted_output IS NOT NULL)
                        AND n.reported_input IS NULL AND n.reported_output IS NULL)
         AS without_reported_counts
FROM calls c LEFT JOIN {RECOUNTS_TABLE} n ON n.request_id = c.request_id
"""


# Calls answered with tool calls whose reported output was left out of the comparison.
_TOOL_ANSWERS_SQL = f"""
SELECT count(*) AS calls, coalesce(sum(n.reported_output), 0) AS reported_output_tokens
FROM calls c JOIN {RECOUNTS_TABLE} n ON n.request_id = c.request_id
WHERE n.tool_answer AND n.reported_output IS NOT NULL
"""


def token_audit(con, threshold_pct: float, top: int) -> dict:
    """Reported vs recounted tokens per model (``audit.tokens``)."""
    from llmcost.analyses import rows, usd

    con.execute(_SIDES_SQL, [float(threshold_pct)])
    try:
        stats = {(r["model"], r["provider"], r["side"]): r for r in rows(con, _SIDE_STATS_SQL)}
        worst: dict[tuple, dict] = {}
        for r in rows(con, _WORST_SQL):
            worst[(r["model"], r["provider"], r["side"], r["kind"])] = _call(r)
        by_model = []
        for m in rows(con, _MODELS_SQL):
            key = (m["model"], m["provider"])
            item = {
                "model": m["model"],
                "provider": m["provider"],
                "token_source": m["token_source"],
                "encoding": m["encoding"],
                "factor": m["factor"],
                "reasoning": m["reasoning"],
                "reasoning_reported": m["reasoning_reported"],
                # reported reasoning tokens taken out of the output before comparing
                "reasoning_excluded_tokens": m["reasoning_excluded_tokens"] or 0,
                # every compared call's tool definitions are in the log (and recounted)
                "tools_logged": m["tools_logged"],
                "calls": m["calls"],
                "off_calls": m["off_calls"],
                "delta_cost_usd": usd(m["delta_cost_usd"]),
                "unpriced_calls": m["unpriced_calls"],  # not in delta_cost_usd
            }
            for side in ("input", "output"):
                s = stats.get((*key, side))
                item[side] = (
                    None
                    if s is None
                    else {
                        "calls": s["calls"],
                        "reported_tokens": s["reported_tokens"],
                        "recounted_tokens": s["recounted_tokens"],
                        "delta_tokens": s["delta_tokens"],
                        "mean_delta": _round(s["mean_delta"]),
                        # (Σ reported − Σ recounted) / Σ recounted, in %: the sign of
                        # mean_delta, calls weighed by size (what the hints go by)
                        "mean_delta_pct": _round(s["mean_delta_pct"]),
                        # the mean of the per-call percentages (calls with a recount > 0)
                        "mean_call_delta_pct": _round(s["mean_call_delta_pct"]),
                        "off_calls": s["off_calls"],
                        "delta_cost_usd": usd(s["delta_cost_usd"]),
                        # extra input tokens priced at the cache-read price (the log reports
                        # that many read from cache), and the Δ $ with them at the input price
                        "cache_read_priced_tokens": int(s["cached_extra"] or 0),
                        "delta_cost_at_input_price_usd": usd(s["delta_cost_uncached"]),
                        "unpriced_calls": s["unpriced"],
                        "worst": worst[(*key, side, "tokens")],
                        "worst_pct": worst[(*key, side, "pct")],
                    }
                )
            by_model.append(item)
        off = rows(con, _OFF_CALLS_SQL, [top])
        for r in off:
            r.pop("abs_delta")
            r["delta_cost_usd"] = usd(r["delta_cost_usd"])
        not_compared = rows(con, _NOT_COMPARED_SQL)[0]
        tool_answers = rows(con, _TOOL_ANSWERS_SQL)[0]
    finally:
        con.execute("DROP TABLE IF EXISTS _audit_sides")
    return {
        "compared_requests": sum(m["calls"] for m in by_model),
        "recounted_requests": not_compared["recounted"],
        "requests_without_text": not_compared["without_text"],
        "requests_without_reported_counts": not_compared["without_reported_counts"],
        # answers with tool calls: their reported output is not compared (see _SIDES_SQL)
        "tool_call_answers": {
            "calls": tool_answers["calls"],
            "reported_output_tokens": tool_answers["reported_output_tokens"],
            "reason": TOOL_ANSWERS_REASON,
        },
        "by_model": by_model,
        "totals": {source: _totals(by_model, source) for source in ("counted", "estimated")},
        "off_calls": off,
        "hints": _token_hints(by_model, threshold_pct),
    }


def _call(r: dict) -> dict:
    return {
        "request_id": r["request_id"],
        "source": r["source"],
        "line": r["source_line"],
        "reported": r["reported"],
        "recounted": r["counted"],
        "delta": r["delta"],
        "delta_pct": _round(r["delta_pct"]),
    }


def _round(value, digits: int = 4) -> float | None:
    # + 0.0: a difference that rounds to nothing is 0, not -0 ('-0.0%' beside '$0.00')
    return None if value is None else round(float(value), digits) + 0.0


def _totals(by_model: list[dict], source: str) -> dict:
    """Totals over the models whose recount is ``source`` (counted or estimated)."""
    models = [m for m in by_model if m["token_source"] == source]
    out: dict = {
        "models": len(models),
        "calls": sum(m["calls"] for m in models),
        "off_calls": sum(m["off_calls"] for m in models),
        "unpriced_calls": sum(m["unpriced_calls"] for m in models),  # not in delta_cost_usd
    }
    for side in ("input", "output"):
        sides = [m[side] for m in models if m[side]]
        out[f"{side}_reported_tokens"] = sum(s["reported_tokens"] for s in sides)
        out[f"{side}_recounted_tokens"] = sum(s["recounted_tokens"] for s in sides)
        out[f"{side}_delta_tokens"] = sum(s["delta_tokens"] for s in sides)
    costs = [m["delta_cost_usd"] for m in models if m["delta_cost_usd"] is not None]
    out["delta_cost_usd"] = round(sum(costs), 9) if costs else None
    # extra input tokens priced at the cache-read price, and the Δ $ had they been at the input
    # price (their log reports them read from cache)
    inputs = [m["input"] for m in models if m["input"]]
    out["cache_read_priced_tokens"] = sum(s["cache_read_priced_tokens"] for s in inputs)
    full = [s["delta_cost_at_input_price_usd"] for s in inputs]
    full += [m["output"]["delta_cost_usd"] for m in models if m["output"]]
    full = [c for c in full if c is not None]
    out["delta_cost_at_input_price_usd"] = round(sum(full), 9) if full else None
    return out


def _share_off(side: dict | None, threshold_pct: float, sign: int) -> bool:
    """The side is off in direction ``sign`` on average by more than the threshold."""
    return bool(
        side
        and side["mean_delta_pct"] is not None
        and sign * side["mean_delta_pct"] > threshold_pct
    )


# The usual explanations of a model whose reported count is off its recount on average:
# (side, direction, explanation); {models} names the models, {tools} is _UNLOGGED_TOOLS when
# some of their calls were logged without tool definitions (else the recount has them).
_OFF_HINTS = [
    ("input", 1, "Reported input above the recount ({models}): something was sent that the log "
     "does not hold: a hidden system prompt,{tools} retrieved context, or images and files "
     "(billed by size)."),
    ("input", -1, "Reported input below the recount ({models}): the logged prompt holds more "
     "than was sent (history trimmed before the call, text added after it), or the counts "
     "belong to another call: a logging bug."),
    ("output", 1, "Reported output above the recount ({models}): tool-call arguments or "
     "structured output not logged as text, an answer logged incomplete (streaming), or "
     "hidden reasoning the log does not split out."),
    ("output", -1, "Reported output below the recount ({models}): the logged answer is more "
     "than was billed (several choices or retries joined), or the counts belong to another "
     "call: a logging bug."),
]  # fmt: skip


_UNLOGGED_TOOLS = " tool/function definitions (when the log does not keep them),"


def _token_hints(by_model: list[dict], threshold_pct: float) -> list[str]:
    """The usual explanations of the deltas found (none of them is proven by the numbers)."""
    counted = [m for m in by_model if m["token_source"] == "counted"]
    names = lambda ms: ", ".join(m["model"] for m in ms)  # noqa: E731
    hints = []
    explained: list[dict] = []
    for side, sign, text in _OFF_HINTS:
        off = [m for m in counted if _share_off(m[side], threshold_pct, sign)]
        if off:
            tools = "" if all(m.get("tools_logged") for m in off) else _UNLOGGED_TOOLS
            hints.append(text.format(models=names(off), tools=tools))
            explained += off
    scattered = [m for m in counted if m["off_calls"] and m not in explained]
    if scattered:
        hints.append(
            f"A few calls far off while most match ({names(scattered)}): typical of logging "
            "bugs: counts attached to the wrong call, cumulative counts of a stream, a retry "
            "logged with the first attempt's text."
        )
    hidden = [m for m in by_model if m["reasoning"] and not m["reasoning_reported"]]
    if hidden:
        hints.append(
            f"Reasoning models whose log does not split out reasoning tokens ({names(hidden)}): "
            "their reported output includes hidden reasoning the text cannot show, so it "
            "exceeds any recount."
        )
    excluded = [m for m in by_model if m.get("reasoning_excluded_tokens")]
    if excluded:
        counts = ", ".join(f"{m['model']}: {m['reasoning_excluded_tokens']:,}" for m in excluded)
        hints.append(
            f"Output compared without the reasoning tokens the log reports ({counts} tokens): "
            "reasoning has no text to recount, so the reported output shown is the log's "
            "output less its reasoning."
        )
    estimated = [m for m in by_model if m["token_source"] == "estimated"]
    if estimated:
        factors = ", ".join(f"{m['model']} ×{m['factor']:g}" for m in estimated)
        hints.append(
            f"Estimated, not counted: {factors}. These tokenizers are not public, so the "
            "recount is o200k_base times a rough family factor; a mean delta up to "
            f"{ESTIMATE_SPREAD_PCT}% is expected there, does not by itself mean the log is "
            "wrong and gets no hint."
        )
    # an estimated model's mean delta beyond what its estimate may be off: the same causes as
    # a counted model's, unless the factor does not fit this text
    beyond = max(threshold_pct, ESTIMATE_SPREAD_PCT)
    for side, sign, text in _OFF_HINTS:
        off = [m for m in estimated if _share_off(m[side], beyond, sign)]
        if off:
            tools = "" if all(m.get("tools_logged") for m in off) else _UNLOGGED_TOOLS
            models = ", ".join(
                f"{m['model']} " + f"{m[side]['mean_delta_pct']:+.1f}%".replace("-", "−")
                for m in off
            )
            said = text.format(models=models, tools=tools)
            hints.append(
                "Estimated models: "
                + (said[:1].lower() + said[1:]).replace(
                    "the recount", "the estimated recount, beyond its usual error", 1
                )
                + " Or the estimate is what is off: the family factor fits English prose, "
                "less so code, math or other languages."
            )
    if by_model and not any(m["off_calls"] for m in by_model):
        hints.append(f"Every compared call is within {threshold_pct:g}% of its recount.")
    return hints


_COST_CALLS_SQL = """
CREATE OR REPLACE TEMP TABLE _audit_costs AS
SELECT request_id, model, provider_eff AS provider, source, source_line,
       reported_cost_usd AS reported, CAST(cost_usd AS DOUBLE) AS computed,
       reported_cost_usd - CAST(cost_usd AS DOUBLE) AS delta,
       CASE WHEN cost_usd > 0
            THEN 100.0 * (reported_cost_usd - CAST(cost_usd AS DOUBLE)) / CAST(cost_usd AS DOUBLE)
       END AS delta_pct,
       abs(reported_cost_usd - CAST(cost_usd AS DOUBLE)) * 100
         > ? * CAST(cost_usd AS DOUBLE) + 1e-9 AS off
FROM calls WHERE reported_cost_usd IS NOT NULL
"""

_COST_BY_MODEL_SQL = """
SELECT model, provider, count(*) AS calls,
       count(*) FILTER (WHERE computed IS NULL) AS unpriced_calls,
       -- what computed_cost_usd is compared with: the calls priced; the others apart
       sum(reported) FILTER (WHERE computed IS NOT NULL) AS reported_cost_usd,
       sum(reported) FILTER (WHERE computed IS NULL) AS unpriced_reported_cost_usd,
       sum(computed) AS computed_cost_usd, sum(delta) AS delta_usd,
       count(*) FILTER (WHERE off) AS off_calls,
       -- a cost of exactly 0 on a call that has one: the logger had no price for it
       count(*) FILTER (WHERE reported = 0 AND computed > 0) AS zero_reported_calls
FROM _audit_costs GROUP BY ALL
ORDER BY abs(coalesce(sum(delta), 0)) DESC, sum(reported) DESC, model, provider
"""

_COST_DISAGREEMENTS_SQL = """
SELECT request_id, model, source, source_line AS line, reported AS reported_cost_usd,
       computed AS computed_cost_usd, delta AS delta_usd, delta_pct
FROM _audit_costs WHERE computed IS NOT NULL AND off
ORDER BY abs(delta) DESC, request_id LIMIT ?
"""


def cost_audit(con, threshold_pct: float, top: int) -> dict:
    """Reported vs computed cost per model (``audit.cost``). ``delta`` = reported - computed;
    the totals compare the calls that have both (unpriced calls are counted apart)."""
    con.execute(_COST_CALLS_SQL, [float(threshold_pct)])
    try:
        by_model = []
        for m in _dict_rows(con, _COST_BY_MODEL_SQL):
            reported, computed = m["reported_cost_usd"], m["computed_cost_usd"]
            m["delta_pct"] = (
                _round(100 * (reported - computed) / computed)
                if computed and reported is not None
                else None
            )
            for key in (
                "reported_cost_usd",
                "unpriced_reported_cost_usd",
                "computed_cost_usd",
                "delta_usd",
            ):
                m[key] = _money(m[key])
            by_model.append(m)
        disagreements = _dict_rows(con, _COST_DISAGREEMENTS_SQL, [top])
        for d in disagreements:
            for key in ("reported_cost_usd", "computed_cost_usd", "delta_usd"):
                d[key] = _money(d[key])
            d["delta_pct"] = _round(d["delta_pct"])
        total = _dict_rows(
            con,
            """SELECT count(*) AS requests, count(*) FILTER (WHERE computed IS NULL) AS unpriced,
                      count(*) FILTER (WHERE off) AS off_calls,
                      sum(reported) FILTER (WHERE computed IS NOT NULL) AS reported,
                      sum(reported) FILTER (WHERE computed IS NULL) AS unpriced_reported,
                      sum(computed) AS computed FROM _audit_costs""",
        )[0]
    finally:
        con.execute("DROP TABLE IF EXISTS _audit_costs")
    reported, computed = total["reported"], total["computed"]
    return {
        "requests_with_reported_cost": total["requests"],
        "unpriced_requests": total["unpriced"],
        "off_calls": total["off_calls"],
        "reported_cost_usd": _money(reported),  # of the calls we could price too
        "unpriced_reported_cost_usd": _money(total["unpriced_reported"]),  # of the others
        "computed_cost_usd": _money(computed),
        "delta_usd": _money(None if computed is None else reported - computed),
        "delta_pct": _round(100 * (reported - computed) / computed) if computed else None,
        "by_model": by_model,
        "disagreements": disagreements,
        "hints": _cost_hints(by_model, threshold_pct, total["unpriced"]),
    }


def _dict_rows(con, sql: str, params: list | None = None) -> list[dict]:
    from llmcost.analyses import rows

    return rows(con, sql, params)


def _money(value) -> float | None:
    return None if value is None else round(float(value), 9) + 0.0  # never -0


def _cost_hints(by_model: list[dict], threshold_pct: float, unpriced: int) -> list[str]:
    hints = []
    over = [
        m["model"]
        for m in by_model
        if m["delta_pct"] is not None and m["delta_pct"] > threshold_pct
    ]
    # a model whose every priced call was logged at $0.00 is not cheaper: its logger had no
    # price for it (said apart below)
    zero = [m for m in by_model if m["zero_reported_calls"]]
    all_zero = {
        m["model"] for m in zero if m["zero_reported_calls"] == m["calls"] - m["unpriced_calls"]
    }
    under = [
        m["model"]
        for m in by_model
        if m["delta_pct"] is not None
        and m["delta_pct"] < -threshold_pct
        and m["model"] not in all_zero
    ]
    if over:
        hints.append(
            f"The log's cost is above list price ({', '.join(over)}): a gateway markup, fees "
            "llmcost does not price (images, tools, search), a price change not yet in the "
            "tables, or the logger priced another model."
        )
    if under:
        hints.append(
            f"The log's cost is below list price ({', '.join(under)}): negotiated discounts "
            "or credits (add them to llmcost.yaml's pricing: section), cache or batch "
            "discounts the logger knew of, or an outdated price in the logger."
        )
    if zero:
        calls = sum(m["zero_reported_calls"] for m in zero)
        names = ", ".join(f"{m['model']}: {m['zero_reported_calls']:,}" for m in zero)
        hints.append(
            f"{calls:,} {'call is' if calls == 1 else 'calls are'} logged at a cost of $0.00 "
            f"({names}): the logger had no price for the model (LiteLLM logs 0 then), or "
            "served the answer from its own cache, rather than a discount."
        )
    scattered = [
        m["model"]
        for m in by_model
        if m["off_calls"] and m["model"] not in over + under and m["model"] not in all_zero
    ]
    if scattered:
        hints.append(
            f"Some calls disagree while the model's total agrees ({', '.join(scattered)}): "
            "the logger priced those calls differently (cache reads or writes, a service "
            "tier, a long-context price), or summed retries into one call."
        )
    if unpriced:
        calls = "call" if unpriced == 1 else "calls"
        hints.append(
            f"{unpriced:,} {calls} with a reported cost {'has' if unpriced == 1 else 'have'} "
            "no price in llmcost's tables (for their model, or on their date: a model priced "
            "from a later day): add their prices with --pricing to compare them."
        )
    if by_model and not over and not under and not any(m["off_calls"] for m in by_model):
        hints.append(f"Reported and computed costs agree within {threshold_pct:g}%.")
    return hints


# ---------------------------------------------------------------------------------------------
# `llmcost audit`
# ---------------------------------------------------------------------------------------------


def run(
    paths: Iterable[str | Path],
    *,
    db: str | Path | None = None,
    pricing: Iterable[str | Path] = (),
    input_format: str | None = None,
    threshold_pct: float = DEFAULT_THRESHOLD_PCT,
    top: int = 10,
    on_file: Callable | None = None,
    progress=None,
) -> dict:
    """What ``llmcost audit`` does: read the logs, recount every call's text, fill what the
    logs lack, price, and return ``{llmcost_version, pricing_version, audit, rejected}``."""
    from llmcost import __version__, costing, store
    from llmcost.ingest import ingest_paths
    from llmcost.pricing import load_pricing
    from llmcost.report import fill_tokens, no_records, window_view

    paths = [str(p) for p in paths]
    book = load_pricing([Path(p) for p in pricing])
    con = store.connect(Path(db) if db else None, must_exist=not paths)
    try:
        ingest_paths(
            con,
            paths,
            input_format,
            on_file=on_file,
            progress=progress,
            resumable=db is not None,
        )
        recount(con, book)
        fill_tokens(con, book)
        costing.prepare(con, book)
        window_view(con, None, None)
        if con.execute("SELECT count(*) FROM calls").fetchone()[0] == 0:
            raise no_records(con)
        rejected = con.execute("SELECT count(*) FROM rejects").fetchone()[0]
        return {
            "llmcost_version": __version__,
            "pricing_version": book.version,
            "pricing_overlays": book.overlays,
            "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "audit": compute(con, threshold_pct, top),
            "rejected": {"count": rejected},
        }
    finally:
        con.close()
