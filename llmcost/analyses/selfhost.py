"""Self-hosting break-even: the monthly volume at which renting GPUs for an open-weight model
beats the API bill.

Workloads are the priced models whose work an open-weight model of similar class could
plausibly do (``SUBSTITUTES``: a rough capability map, a judgement, not a benchmark). For
each, the volume of the last month of the log (its last 30.44 days; the whole log, scaled to a
month, when it is shorter) is compared with one always-on replica of the reference model: the
volume spread over a long log gave a model used only in its last months part of its month,
and a model retired long before the end one it no longer has:

* GPU time the month's tokens need on one replica = input tokens / ``input_tps`` + output
  tokens / ``output_tps`` (prefill is far faster than decoding); replicas = that time over
  730 hours, rounded up (at least one: a replica is paid while idle);
* self-hosted cost per month = replicas x ``gpus`` x 730 h x ``savings.gpu_hour_usd``;
* break-even volume = the monthly token volume (same input/output mix) at which the API
  bill equals one replica's month. When the API's price per GPU-hour of work is below the
  GPU price, self-hosting never breaks even ("never").

A log whose calls have no timestamp has no span: nothing to scale to a month, so no monthly
figure and no saving is offered (a note says why), rather than one from a made-up day. When
only some calls have one, the month is the timed calls' (their volume over their span): an
untimed call cannot be placed in the span, and counting it as if it fell inside would
inflate the month's volume and the saving. The untimed calls are left out of the monthly
figures and of the saving, and counted (``untimed_calls``, said under the section).

Not included: engineers' time, redundancy, storage and egress, quality differences.
Throughputs and GPU counts per class are in ``settings.SELFHOST_CLASSES`` and can be set
under ``savings.selfhost``.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import polars as pl

from llmcost.analyses import register, rows, savings, usd
from llmcost.analyses.settings import settings

HOURS_PER_MONTH = 730.0
DAYS_PER_MONTH = 30.44

# (model-key pattern, class, reference open-weight model); first match wins.
SUBSTITUTES: list[tuple[str, str, str]] = [
    (
        r"gpt-4o-mini|gpt-4\.1-(mini|nano)|gpt-5(\.\d+)?-(mini|nano)|gpt-3\.5",
        "small",
        "Llama 3.1 8B class",
    ),
    (r"claude-(3-haiku|3-5-haiku|haiku)", "small", "Llama 3.1 8B class"),
    (
        r"gemini-[\d.]+-flash|gemma|mistral-small|ministral|open-mistral-7b|mistral-7b",
        "small",
        "Llama 3.1 8B class",
    ),
    (
        r"nova-(micro|lite)|titan-text-(lite|express)|llama.*\b(1b|3b|8b|11b)|gpt-oss-20b",
        "small",
        "Llama 3.1 8B class",
    ),
    (
        r"^(gpt-4o|gpt-4\.1|gpt-4-turbo|o3-mini|o4-mini)$",
        "large",
        "Llama 3.3 70B / gpt-oss-120b class",
    ),
    (r"claude-(3-5-sonnet|3-7-sonnet|sonnet-4)$", "large", "Llama 3.3 70B / gpt-oss-120b class"),
    (
        r"gemini-[\d.]+-pro|mistral-(large|medium)|mixtral|deepseek|qwen",
        "large",
        "Llama 3.3 70B / gpt-oss-120b class",
    ),
    (
        r"llama.*(70b|90b|405b|maverick|scout)|gpt-oss-120b|nova-pro|grok-3-mini",
        "large",
        "Llama 3.3 70B / gpt-oss-120b class",
    ),
]

ASSUMPTION = (
    "an open-weight model of similar class does the work on rented GPUs at the configured "
    "GPU-hour price and throughput; engineering, redundancy and quality differences excluded"
)


def substitute(model_key: str) -> tuple[str, str] | None:
    for pattern, klass, reference in SUBSTITUTES:
        if re.search(pattern, model_key):
            return klass, reference
    return None


@register("selfhost", "Self-hosting break-even", order=75)
def selfhost(con, ctx) -> dict:
    cfg = settings(ctx)
    base = savings.base(con, ctx)
    span, calls, timed, last = con.execute(
        f"SELECT (epoch(max(ts)) - epoch(min(ts))) / 86400, count(*), count(ts), max(ts) "
        f"FROM {base}"
    ).fetchone()
    if calls and not timed:  # no span to scale from: no "1 day of log" made up
        return {
            "gpu_hour_usd": float(cfg.gpu_hour_usd),
            "classes": cfg.selfhost,
            "log_days": None,
            "volume_days": None,
            "volume_since": None,
            "volume_window": None,
            "untimed_calls": calls,
            "workloads": [],
            "usd": None,
            "assumption": ASSUMPTION,
            "note": "no timestamps: no call in the log says when it was made, so the log has "
            "no span to scale its volume to a month and no monthly figure is given",
        }
    days = max(float(span or 0), 1.0)  # a log of less than a day counts as one day
    # the volume of the last month of the log (the whole log when it is shorter): spread
    # over the whole of a 180-day log, a model used only in its last 90 days showed half
    # its month and a model retired 90 days before the end a full one
    recent = days > DAYS_PER_MONTH
    volume_days = DAYS_PER_MONTH if recent else days
    since = last - dt.timedelta(days=DAYS_PER_MONTH) if recent else None
    scale = DAYS_PER_MONTH / volume_days
    workloads = rows(
        con,
        f"""SELECT priced_provider AS provider, model_key, any_value(model) AS model,
              count(*) AS calls, sum(input_tokens) AS input_tokens,
              sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd
            FROM {base} WHERE cost_usd IS NOT NULL AND input_tokens IS NOT NULL
              AND ts IS NOT NULL  -- an untimed call has no place in the span scaled
              AND ts >= coalesce(CAST(? AS TIMESTAMPTZ), '-infinity')
            GROUP BY priced_provider, model_key ORDER BY cost_usd DESC, model_key""",
        [since.isoformat() if since else None],
    )
    price = float(cfg.gpu_hour_usd)
    out = []
    tokenless = 0  # models with a substitute whose calls carry no token: nothing to move
    for w in workloads:
        match = substitute(w["model_key"])
        if match is None:
            continue
        if not (w["input_tokens"] or w["output_tokens"]):  # "$1,825 a month, never" is no offer
            tokenless += 1
            continue
        klass, reference = match
        spec = cfg.selfhost[klass]
        month_in = float(w["input_tokens"]) * scale
        month_out = float(w["output_tokens"] or 0) * scale
        api_month = float(w["cost_usd"]) * scale
        replica_hours = (month_in / spec["input_tps"] + month_out / spec["output_tps"]) / 3600
        replicas = max(1, math.ceil(replica_hours / HOURS_PER_MONTH))
        self_month = replicas * spec["gpus"] * HOURS_PER_MONTH * price
        replica_month = spec["gpus"] * HOURS_PER_MONTH * price
        # API dollars per replica-hour of work vs. the GPU price of that hour
        api_per_hour = api_month / replica_hours if replica_hours else 0.0
        breaks_even = api_per_hour > spec["gpus"] * price
        multiple = replica_month / api_month if api_month and breaks_even else None
        out.append(
            {
                "provider": w["provider"],
                "model": w["model"],
                "model_key": w["model_key"],
                "class": klass,
                "reference": reference,
                "calls": w["calls"],
                "monthly_input_tokens": round(month_in),
                "monthly_output_tokens": round(month_out),
                "monthly_api_usd": round(api_month, 6),
                "replicas": replicas,
                "gpus": spec["gpus"] * replicas,
                "selfhost_monthly_usd": round(self_month, 2),
                "breakeven_monthly_tokens": round(multiple * (month_in + month_out))
                if multiple is not None
                else None,
                "breakeven_multiple": round(multiple, 3) if multiple is not None else None,
                "monthly_saving_usd": round(max(api_month - self_month, 0.0), 6),
                # the saving over the log's span at that monthly rate
                "window_saving_usd": round(
                    max(api_month - self_month, 0.0) * days / DAYS_PER_MONTH, 9
                ),
            }
        )
    out.sort(key=lambda w: (-w["monthly_api_usd"], w["model"]))
    winners = [w for w in out if w["monthly_saving_usd"] > 0]
    frame = pl.DataFrame(
        {
            "provider": [w["provider"] for w in winners],
            "model_key": [w["model_key"] for w in winners],
            "keep": [w["selfhost_monthly_usd"] / w["monthly_api_usd"] for w in winners],
        },
        schema={"provider": pl.String, "model_key": pl.String, "keep": pl.Float64},
    )
    savings.load_frame(con, "sv_selfhost", frame)
    savings.offer(
        con,
        ctx,
        "self_hosting",
        f"""SELECT c.request_id, c.cost_usd * (1 - s.keep) AS usd,
              c.priced_provider || ' ' || c.model_key AS block
            FROM {base} c JOIN sv_selfhost s
              ON s.provider = c.priced_provider AND s.model_key = c.model_key
            WHERE c.cost_usd IS NOT NULL AND c.ts IS NOT NULL""",
        ASSUMPTION,
        {"section": "selfhost", "gpu_hour_usd": price},
        blocks=True,  # the GPUs cost the same for a part of the model's calls
    )
    return {
        "gpu_hour_usd": price,
        "classes": cfg.selfhost,
        "log_days": round(days, 2),
        # the calls whose volume is scaled to a month: those from volume_since (the last
        # month of the log), or the whole log (volume_since None) when it is a month or less
        "volume_days": round(volume_days, 2),
        "volume_since": since.isoformat() if since else None,
        "volume_window": "last month of the log" if recent else "whole log",
        "untimed_calls": calls - timed,  # left out of the monthly figures
        "workloads": out[: ctx.top],
        # how many models have an open-weight class, and what those past --top cost a month:
        # a log of 21 such models listed 10 and said nothing of the 11 it left out
        "models": len(out),
        "other_models_monthly_api_usd": round(
            sum((w["monthly_api_usd"] for w in out[ctx.top :]), 0.0), 6
        ),
        "usd": usd(sum(w["window_saving_usd"] for w in winners)),
        "assumption": ASSUMPTION,
        "note": None
        if out
        else "the calls of the models with an open-weight substitute carry no tokens: no "
        "volume to self-host"
        if tokenless
        else "no model in the log has an open-weight substitute in the class table",
    }
