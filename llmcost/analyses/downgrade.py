"""Model-downgrade savings: simple calls repriced on a cheaper model, at several coverages.

Each priced call gets a *target*: the first ``routing.rules`` entry of llmcost.yaml that
matches its feature and/or model, else the cheaper sibling its pricing table names
(``downgrade_to``). Calls are sorted into three classes by transparent signals:

* **complex** when any of: reasoning tokens were used; the model called a tool
  (``finish_reason`` tool_calls); input above ``LONG_INPUT`` tokens; output above
  ``LONG_OUTPUT`` tokens; the task hint says complex;
* **simple** when not complex, input at most ``SHORT_INPUT`` tokens, not truncated, not
  failed (a failed call's short output says nothing of its task), and either the task hint
  says simple with an output of at most ``SHORT_OUTPUT`` tokens, or the output is at most
  ``TINY_OUTPUT`` tokens (a label, a yes/no, a number);
* **medium** otherwise.

A call whose log holds no prompt text (neither messages nor a system prompt: a usage-only log)
cannot be seen: its task is judged by its feature name alone, so it is simple only when the
feature name says so. A short answer does not make it simple (a prompt we cannot read may be
a complex task with a one-number answer): such calls are medium, counted and said
(``no_prompt_text_calls``).

The *task hint* comes from the feature name, else from the first 500 characters of the
system prompt: whole words like classify, extract, label, yes/no, sentiment, triage, route
mean simple (``SIMPLE_HINT``); code, pull request, debug, step by step, reasoning, analysis,
proof, math, research mean complex (``COMPLEX_HINT``).

Savings are shown at three coverage levels: simple calls only; simple plus a share of the
medium ones (``routing.medium_share``, 50%); every call (the upper bound). A two-stage
cascade estimate sends every call to the target first and escalates a share of them
(``routing.escalation_share``, 20%) to the original model: cost = all calls on the target +
that share of the calls on the original. Token counts are assumed unchanged; answer quality
is NOT measured.
"""

from __future__ import annotations

import polars as pl

from llmcost.analyses import register, rows, savings, usd
from llmcost.analyses.settings import settings
from llmcost.errors import ConfigError

SHORT_INPUT = 4000
LONG_INPUT = 8000
TINY_OUTPUT = 50
SHORT_OUTPUT = 300
LONG_OUTPUT = 1000
SIMPLE_HINT = (
    r"\b(classif\w*|categori[sz]\w*|label\w*|tagging|extract\w*|pars(e|ing)|yes[ /-]?no|"
    r"true[ /-]?false|sentiment|detect\w*|triage|rout(e|ing)|short answer|one[- ]word|"
    r"entit(y|ies)|moderat\w*|spam)\b"
)
COMPLEX_HINT = (
    r"\b(code|codebase|pull requests?|diffs?|debug\w*|step[- ]by[- ]step|reasoning|"
    r"analy[sz]e|analysis|proofs?|prove|math\w*|research|architecture|essays?)\b"
)

ASSUMPTION = (
    "simple calls (short prompt and answer, a classification/extraction-type task, no "
    "reasoning or tool use) move to the cheaper model with the same token counts"
)
QUALITY = (
    "answer quality is not measured: compare the cheaper model's answers on a sample of "
    "these calls before switching"
)


def _targets(con, ctx, base: str) -> None:
    """Temp table ``sv_dg_targets(request_id, provider, model_key, how)``."""
    cfg = settings(ctx)
    book = ctx.book
    rules = []
    for i, rule in enumerate(cfg.rules):
        resolved = book.resolve(rule.to)
        if not resolved.priced:
            raise ConfigError(
                f"{cfg.path or 'llmcost.yaml'}:{rule.line}: routing target {rule.to!r} has no "
                "price in the pricing tables",
                hint="use a model name the pricing tables know (llmcost pricing), or add its "
                "price with --pricing",
            )
        rules.append((i, rule.feature, rule.model, resolved.provider, resolved.model_key))
    savings.load_frame(
        con,
        "sv_dg_rules",
        pl.DataFrame(
            {
                "idx": [r[0] for r in rules],
                "feature": [r[1] for r in rules],
                "model": [r[2].lower() if r[2] else None for r in rules],
                "provider": [r[3] for r in rules],
                "model_key": [r[4] for r in rules],
            },
            schema={
                "idx": pl.Int64,
                "feature": pl.String,
                "model": pl.String,
                "provider": pl.String,
                "model_key": pl.String,
            },
        ),
    )
    pairs = [
        (m.provider, m.key, m.downgrade_to)
        for m in book.models.values()
        if m.downgrade_to and (m.provider, m.downgrade_to) in book.models
    ]
    savings.load_frame(
        con,
        "sv_dg_siblings",
        pl.DataFrame(
            {
                "provider": [p[0] for p in pairs],
                "model_key": [p[1] for p in pairs],
                "target_key": [p[2] for p in pairs],
            },
            schema={"provider": pl.String, "model_key": pl.String, "target_key": pl.String},
        ),
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_dg_targets AS
            WITH ruled AS (
              SELECT c.request_id, arg_min(r.provider, r.idx) AS provider,
                arg_min(r.model_key, r.idx) AS model_key, min(r.idx) AS idx
              FROM {base} c JOIN sv_dg_rules r
                ON (r.feature IS NULL OR r.feature = c.feature)
               AND (r.model IS NULL OR r.model = lower(c.model) OR r.model = c.model_key)
              WHERE c.cost_usd IS NOT NULL
              GROUP BY c.request_id)
            SELECT r.request_id, r.provider, r.model_key, 'routing rule ' || (r.idx + 1) AS how
            FROM ruled r JOIN {base} c USING (request_id)
            WHERE NOT (r.provider = c.priced_provider AND r.model_key = c.model_key)
            UNION ALL
            SELECT c.request_id, s.provider, s.target_key, 'downgrade_to' AS how
            FROM {base} c JOIN sv_dg_siblings s
              ON s.provider = c.priced_provider AND s.model_key = c.model_key
            WHERE c.cost_usd IS NOT NULL
              AND c.request_id NOT IN (SELECT request_id FROM ruled)"""
    )


def _classified(con, base: str) -> None:
    """Temp table ``sv_dg_calls``: each call with a target, its class, cost on the target."""
    repriced = savings.reprice_sql(base, "sv_dg_targets")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_dg_hints AS
            SELECT system_hash,
              CASE WHEN regexp_matches(head, ?) THEN 'simple'
                   WHEN regexp_matches(head, ?) THEN 'complex' END AS hint
            FROM (SELECT h.system_hash, lower(left(t.text, 500)) AS head
                  FROM (SELECT DISTINCT system_hash FROM {base}) h
                  JOIN texts t ON t.hash = h.system_hash)""",
        [SIMPLE_HINT, COMPLEX_HINT],
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_dg_calls AS
            WITH r AS ({repriced}),
            f AS (  -- each distinct feature name matched once
              SELECT feature,
                CASE WHEN regexp_matches(lower(feature), ?) THEN 'simple'
                     WHEN regexp_matches(lower(feature), ?) THEN 'complex' END AS hint
              FROM (SELECT DISTINCT feature FROM {base} WHERE feature IS NOT NULL)),
            j AS (
              SELECT c.request_id, c.provider_eff AS provider, c.model, c.feature,
                c.input_tokens, c.output_tokens, c.reasoning_tokens, c.finish_reason, c.status,
                t.model_key AS target, t.how, r.cost_usd, r.target_cost_usd,
                coalesce(f.hint, h.hint) AS hint,
                c.prompt_hash IS NULL AND c.system_hash IS NULL AS no_text
              FROM r JOIN {base} c USING (request_id)
              JOIN sv_dg_targets t USING (request_id)
              LEFT JOIN f ON f.feature = c.feature
              LEFT JOIN sv_dg_hints h ON h.system_hash = c.system_hash),
            k AS (
              SELECT *, CASE
                  WHEN coalesce(reasoning_tokens, 0) > 0 THEN 'reasoning tokens used'
                  WHEN finish_reason = 'tool_calls' THEN 'tool use'
                  WHEN input_tokens > {LONG_INPUT} THEN 'long prompt'
                  WHEN output_tokens > {LONG_OUTPUT} THEN 'long answer'
                  WHEN hint = 'complex' THEN 'task hint'
                END AS complex_reason
              FROM j)
            SELECT * EXCLUDE (short), CASE
                WHEN complex_reason IS NOT NULL THEN 'complex'
                WHEN short AND ((hint = 'simple' AND output_tokens <= {SHORT_OUTPUT})
                                OR (output_tokens <= {TINY_OUTPUT} AND NOT no_text))
                  THEN 'simple'
                ELSE 'medium' END AS class,
              -- simple by its short answer alone, but its task cannot be seen: medium
              complex_reason IS NULL AND short AND no_text AND coalesce(hint, '') <> 'simple'
                AND output_tokens <= {TINY_OUTPUT} AS unseen,
              cost_usd - target_cost_usd AS saving
            FROM (SELECT *, coalesce(input_tokens <= {SHORT_INPUT}
                       AND coalesce(finish_reason, '') <> 'length'
                       AND coalesce(status, 'ok') <> 'error', FALSE) AS short
                  FROM k)""",
        [SIMPLE_HINT, COMPLEX_HINT],
    )


def _levels_sql(medium_share: float, escalation: float) -> str:
    return f"""count(*) AS calls,
      count(*) FILTER (WHERE class = 'simple') AS simple_calls,
      count(*) FILTER (WHERE class = 'medium') AS medium_calls,
      count(*) FILTER (WHERE class = 'complex') AS complex_calls,
      count(*) FILTER (WHERE unseen) AS no_prompt_text_calls,
      sum(cost_usd) AS cost_usd, sum(target_cost_usd) AS target_cost_usd,
      coalesce(sum(saving) FILTER (WHERE class = 'simple'), 0) AS savings_simple_usd,
      coalesce(sum(saving) FILTER (WHERE class = 'simple'), 0)
        + {medium_share} * coalesce(sum(saving) FILTER (WHERE class = 'medium'), 0)
        AS savings_partial_usd,
      sum(saving) AS savings_all_usd,
      sum(target_cost_usd) + {escalation} * sum(cost_usd) AS cascade_cost_usd,
      sum(cost_usd) - sum(target_cost_usd) - {escalation} * sum(cost_usd) AS cascade_savings_usd"""


_MONEY = (
    "cost_usd",
    "target_cost_usd",
    "savings_simple_usd",
    "savings_partial_usd",
    "savings_all_usd",
    "cascade_cost_usd",
    "cascade_savings_usd",
)


def _money(items: list[dict]) -> list[dict]:
    for item in items:
        for key in _MONEY:
            if key in item:
                item[key] = usd(item[key])
    return items


@register("downgrade", "Model-downgrade savings", order=60)
def downgrade(con, ctx) -> dict:
    cfg = settings(ctx)
    base = savings.base(con, ctx)
    _targets(con, ctx, base)
    _classified(con, base)
    medium, escalation = float(cfg.medium_share), float(cfg.escalation_share)
    levels = _levels_sql(medium, escalation)
    # Only pairs where the target is cheaper overall: a rule or sibling that costs more is
    # shown but saves nothing.
    by_model = _money(
        rows(
            con,
            f"""SELECT provider, model, target, how, {levels}
                FROM sv_dg_calls GROUP BY provider, model, target, how
                ORDER BY savings_simple_usd DESC, savings_all_usd DESC, model, provider, target""",
        )
    )
    features = _money(
        rows(
            con,
            f"""SELECT coalesce(feature, '(none)') AS feature, {levels}
                FROM sv_dg_calls WHERE saving > 0 GROUP BY 1
                ORDER BY savings_simple_usd DESC, savings_all_usd DESC, feature""",
        )
    )
    # the top features, and the others summed: a log of 40 features listed 10 and said
    # nothing of the 30 it left out
    by_feature, rest = features[: ctx.top], features[ctx.top :]
    other_features = None
    if rest:
        other_features = {
            key: sum(f[key] for f in rest)
            for key in ("calls", "simple_calls", "medium_calls", "complex_calls")
        }
        for key in ("savings_simple_usd", "savings_partial_usd", "savings_all_usd"):
            other_features[key] = usd(sum(f[key] or 0 for f in rest))
    total = _money(rows(con, f"SELECT {levels} FROM sv_dg_calls WHERE saving > 0"))[0]
    # calls with a target that had no price on their date (not released yet): not repriced
    unpriced_target = con.execute(
        "SELECT count(*) FROM sv_dg_targets t ANTI JOIN sv_dg_calls c USING (request_id)"
    ).fetchone()[0]
    reasons = rows(
        con,
        """SELECT complex_reason AS reason, count(*) AS calls FROM sv_dg_calls
           WHERE class = 'complex' GROUP BY 1 ORDER BY calls DESC, reason""",
    )
    # the calls left out of "simple" for want of prompt text, with or without a saving
    unseen = con.execute("SELECT count(*) FROM sv_dg_calls WHERE unseen").fetchone()[0]
    unseen_note = (
        (
            "1 call with a short answer has no prompt text in the log: counted as medium, not "
            "simple (its task cannot be seen)"
            if unseen == 1
            else f"{unseen} calls with a short answer have no prompt text in the log: counted "
            "as medium, not simple (their task cannot be seen)"
        )
        if unseen
        else None
    )
    savings.offer(
        con,
        ctx,
        "downgrade",
        "SELECT request_id, saving AS usd FROM sv_dg_calls WHERE class = 'simple'",
        "; ".join(x for x in (ASSUMPTION, unseen_note, QUALITY) if x),
        {"section": "downgrade", "coverage": "simple calls only"},
    )
    coverage = [
        {
            "level": "simple calls",
            "calls": total["simple_calls"],
            "savings_usd": total["savings_simple_usd"] or 0.0,
        },
        {
            "level": f"simple + {medium:.0%} of medium calls",
            "calls": total["simple_calls"] + round(medium * (total["medium_calls"] or 0)),
            "savings_usd": total["savings_partial_usd"] or 0.0,
        },
        {
            "level": "every call (upper bound)",
            "calls": total["calls"],
            "savings_usd": total["savings_all_usd"] or 0.0,
        },
    ]
    return {
        "assumption": ASSUMPTION,
        "quality": QUALITY,
        "signals": {
            "short_input_tokens": SHORT_INPUT,
            "long_input_tokens": LONG_INPUT,
            "tiny_output_tokens": TINY_OUTPUT,
            "short_output_tokens": SHORT_OUTPUT,
            "long_output_tokens": LONG_OUTPUT,
            "simple_hint": SIMPLE_HINT,
            "complex_hint": COMPLEX_HINT,
        },
        "coverage": coverage,
        "by_model": by_model,
        "by_feature": by_feature,
        "features": len(features),  # with a saving; by_feature has the top of them
        "other_features": other_features,  # the rest, summed (None: none left out)
        "complex_reasons": reasons,
        "cascade": {
            "escalation_share": escalation,
            "cost_usd": total["cost_usd"] or 0.0,
            "cascade_cost_usd": total["cascade_cost_usd"] or 0.0,
            "savings_usd": total["cascade_savings_usd"] or 0.0,
            "rule": "every call goes to the target first; the escalated share is sent again "
            "to the original model (paid twice)",
        },
        "total_savings_usd": total["savings_all_usd"] or 0.0,
        "target_unpriced_calls": unpriced_target,
        "no_prompt_text_calls": unseen,
        "no_prompt_text_note": unseen_note,
    }
