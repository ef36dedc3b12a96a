"""Anomalies and forecast: days, users and features far above their own recent past, and
where this month's spend is heading.

**Anomalies.** For each series (total cost per day; cost per day of each of the
``MAX_KEYS`` highest-spending users and features), a day is compared with the same series
over the previous ``savings.baseline_days`` (14) days, zeros included for idle days, once at
least ``MIN_HISTORY`` days of history exist, ``MIN_DAYS_WITH_CALLS`` of them with calls (a
history of mostly idle days has a median and a MAD of $0: any day with a call would be
'anomalous'; on a sparse log, a few calls a month, no day is checked, and the days with calls
that were not are counted by why, so that no anomaly is not read as 'all normal'):

    anomalous when cost > median + k x sigma,
    sigma = max(1.4826 x MAD, 10% of median, floor, sqrt(E[N] Var(C) + Var(N) E[C]^2))

and the day is still above that without its largest call, unless that call alone is of a size
the calls before never had: log(call) > mean + ``call_k`` x sd of the log sizes of the calls of
the same history (sd at least log 1.1); and its excess (cost - median) is at least
``savings.anomaly_min_share`` (10%) of the day's total cost. That last one is for long logs:
a 180-day log of 100 users and 40 features is some 16,000 checks (``checks``, beside the
count), and five such logs with no anomaly had 9 to 16 flags each (61 in all), small users
and features $0.03-$0.29 above their baseline on days of $0.63 (the floor below binds
there, and their days are heavier-tailed than a normal one): 29 with it.

MAD is the median absolute deviation from the median (a robust standard deviation: one spike
does not inflate its own baseline, as a mean and standard deviation would), k =
``savings.anomaly_k`` (3.5, the usual cut-off for robust z-scores, Iglewicz & Hoaglin 1993)
and ``floor`` = 1% of the average daily total, so that a user who usually spends nothing is
flagged only for a visible amount.

A MAD of 7 to 14 days alone flagged noise: random logs of lognormal call sizes and no anomaly
got a flag in 14 of 20 logs of 12 days of 3-8 calls (a day at 4x its median from one large
call), and in 20 of 20 of 30 days of 80-120 calls (users and features at 2x their median, out
of 184 checks). Two things a day's cost is made of set the rest:
- the calls: a day's cost is the sum of N calls of sizes C, whose variance is E[N] Var(C) +
  Var(N) E[C]^2 (a random sum); Var(C) and E[C] are read from every call of the history (many
  more than its days, so a calm week does not make a narrow band), Var(N) as (1.4826 x MAD)^2
  of its daily counts (so a series of exactly one call a day still finds a day of five);
- the heavy tail of call sizes: a day over by one call of a usual size is that call, not a level
  that went up, and a level that went up stays up without any one call; a call of a size never
  seen is news alone (``savings.anomaly_call_k``, 5: ~3e-7 of a lognormal's calls, about one
  in a thousand logs of 3,000 calls).
On those logs, flags on noise fell to 0 of 20 and 2 of 20 logs; on the 30-day ones the top
user's cost x5 on one day, the same user calling 5x as often and a feature moving to a model
10x the price are still found in 20 of 20 (a user of 10% of the calls, x5: 14 of 20, was 18);
on the 12-day ones, where a user makes one or two calls a day, fewer (a x5: 7 of 20, was 17
among flags on noise in 14 of 20 logs).

**Forecast.** Month-to-date spend of the month of the last call, and a month-end projection:
MTD + remaining days x the mean cost of the last ``FORECAST_DAYS`` complete days, with an 80%
range of +-1.28 x sd x sqrt(remaining days) (independent days, no weekly pattern assumed).
The month to date is what was billed; the days to come are billed at the prices in force at
the last call, so the complete days' calls are repriced at those (each model's price of that
date) before their mean and spread are taken: a price that doubled two weeks before the end
otherwise counted at its old level for half the days of the fit.
The range needs ``FORECAST_MIN_DAYS`` (7) complete days, with calls: the spread of fewer
days is no measure of it (one day has none, and read as a range of zero width), nor is the
spread of idle days: below that, the projection comes without a range, and says why
(``range_note``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from zoneinfo import ZoneInfo

from llmcost.analyses import local_ts, register, rows, savings, usd, zone
from llmcost.analyses.settings import settings
from llmcost.attribution import FAILED_WITHOUT_USAGE, without_tokens

MIN_HISTORY = 7
# days with calls a day's history needs (of its ``baseline_days``): a history of mostly idle
# days has a median of $0 and a MAD of $0, and any day with a call is 'anomalous' above it
MIN_DAYS_WITH_CALLS = MIN_HISTORY
MAX_KEYS = 100
MAD_SCALE = 1.4826
MEDIAN_FLOOR = 0.1
TOTAL_FLOOR = 0.01
# the spread of the log sizes of calls is at least that of sizes 10% apart (as sigma is at
# least 10% of the median): calls all of one size make no larger call an anomaly by itself
SIZE_FLOOR = 1.1
FORECAST_DAYS = 28
FORECAST_MIN_DAYS = MIN_HISTORY  # complete days an 80% range needs (a week, as an anomaly)
Z80 = 1.2816


# a series' day: its cost, its priced calls and those without a cost, and what the spread
# of its calls' sizes is read from (squares; logs of the calls with a cost: the sizes of
# calls are heavy-tailed, their logs are not), and its largest call
_CALL_STATS = """sum(cost) AS cost, count(*) FILTER (WHERE priced) AS calls,
        count(*) FILTER (WHERE NOT priced) AS uncosted,
        sum(c * c) AS sq, max(c) AS top, sum(ln(CASE WHEN c > 0 THEN c END)) AS lsum,
        sum(ln(CASE WHEN c > 0 THEN c END) ^ 2) AS lsq, count(*) FILTER (WHERE c > 0) AS sized"""


def _series(base: str, local: str = "ts", span: tuple | None = None) -> str:
    """Dense daily series: (scope, key, day, cost) for the total, top users, top features;
    days of ``local`` (analyses.local_ts: the report's zone). The total runs from its first
    day with a call to its last, or over ``span`` (first, last: dates) when that is wider:
    the days of a period report that the store had been logging, idle ones included."""
    first, last = (f"DATE '{d.isoformat()}'" if d else "NULL" for d in (span or (None, None)))
    return f"""
    WITH d AS (
      SELECT CAST({local} AS DATE) AS day, user_id, feature, coalesce(cost_usd, 0) AS cost,
        CAST(coalesce(cost_usd, 0) AS DOUBLE) AS c, cost_usd IS NOT NULL AS priced
      FROM {base} WHERE ts IS NOT NULL),
    span AS (SELECT least(min(day), {first}) AS first_day, greatest(max(day), {last}) AS last_day
             FROM d),
    days AS (
      SELECT CAST(unnest(generate_series(first_day, last_day, INTERVAL 1 DAY)) AS DATE) AS day
      FROM span),
    top_users AS (
      SELECT user_id AS key FROM d WHERE user_id IS NOT NULL GROUP BY 1
      ORDER BY sum(cost) DESC, 1 LIMIT {MAX_KEYS}),
    top_features AS (
      SELECT feature AS key FROM d WHERE feature IS NOT NULL GROUP BY 1
      ORDER BY sum(cost) DESC, 1 LIMIT {MAX_KEYS}),
    raw AS (
      SELECT 'day' AS scope, 'all calls' AS key, day, {_CALL_STATS} FROM d GROUP BY day
      UNION ALL
      SELECT 'user', user_id, day, {_CALL_STATS} FROM d
      WHERE user_id IN (SELECT key FROM top_users) GROUP BY ALL
      UNION ALL
      SELECT 'feature', feature, day, {_CALL_STATS} FROM d
      WHERE feature IN (SELECT key FROM top_features) GROUP BY ALL),
    starts AS (
      SELECT scope, key, CASE WHEN scope = 'day' THEN any_value(span.first_day) ELSE min(day)
                         END AS first_day
      FROM raw, span GROUP BY scope, key)
    SELECT s.scope, s.key, days.day,
      -- a day of calls without a cost only (unpriced, or no token counts) has none: null, no
      -- $0 day in a baseline (medians skip it) nor above one; an idle day is $0
      CASE WHEN r.calls = 0 AND r.uncosted > 0 THEN NULL ELSE coalesce(r.cost, 0) END AS cost,
      coalesce(r.calls, 0) AS calls,
      coalesce(r.uncosted, 0) AS uncosted,
      coalesce(r.sq, 0) AS sq, coalesce(r.top, 0) AS top, coalesce(r.lsum, 0) AS lsum,
      coalesce(r.lsq, 0) AS lsq, coalesce(r.sized, 0) AS sized
    FROM starts s JOIN days ON days.day >= s.first_day
    LEFT JOIN raw r ON r.scope = s.scope AND r.key = s.key AND r.day = days.day"""


def _with_history(con, ctx, base: str, days: int) -> tuple[str, tuple | None]:
    """A window that starts at ``--since`` (a period report: yesterday, last 7 days) holds
    no history of its own: its days are checked against the stored calls before it, and the
    month-to-date runs from the 1st, as a report of everything would give. Name of a table of
    the calls from ``days`` + a month before the window to its end (``base`` itself when
    the window has no start, or the store's priced calls are not there to read), and the
    days (first, last) its daily series covers, idle days included: from the first day of
    that history or of the store's logging (periods.logged_since), the later, to the
    window's last day; None when the series runs from the first call to the last."""
    options = ctx.options
    since = getattr(options, "since", None)
    priced = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = 'priced' AND temporary"
    ).fetchone()[0]
    if since is None or not priced:
        return base, None
    from llmcost import attribution

    columns = attribution.calls_columns(attribution.request_for(options).mapping)
    until = getattr(options, "until", None)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_history AS
            SELECT ts, user_id, feature, cost_usd, is_priced, status, input_tokens
            FROM (SELECT {columns} FROM priced
              WHERE ts >= CAST(? AS TIMESTAMPTZ) - to_days(CAST(? AS INTEGER))
                AND ts < coalesce(CAST(? AS TIMESTAMPTZ), 'infinity'))""",
        [since.isoformat(), days + 32, until.isoformat() if until else None],
    )
    from llmcost.periods import logged_since

    tz = ZoneInfo(zone(ctx))
    # a day the store was logging and no call came is an idle day ($0, a real observation);
    # a day before anything was logged is unknown, not history
    logged = logged_since(con)
    if logged is None:
        return "sv_history", None
    first = max(
        (since - dt.timedelta(days=days + 32)).astimezone(tz).date(),
        logged.astimezone(tz).date(),
    )
    # the window's last day ([since, until): the day of the instant before until)
    last = (until - dt.timedelta(microseconds=1)).astimezone(tz).date() if until else None
    return "sv_history", (first, last)


@register("anomalies", "Anomalies and forecast", order=70)
def anomalies(con, ctx) -> dict:
    cfg = settings(ctx)
    base = savings.base(con, ctx)
    k, window = float(cfg.anomaly_k), int(cfg.baseline_days)
    call_k, min_share = float(cfg.anomaly_call_k), float(cfg.anomaly_min_share)
    history, span = _with_history(con, ctx, base, max(window, FORECAST_DAYS))
    local = local_ts(ctx)  # days of the report's zone (report --tz), UTC else
    # the days of the window: only those are checked (the ones before are their history)
    first_day, last_day = con.execute(
        f"SELECT CAST(min({local}) AS DATE), CAST(max({local}) AS DATE) FROM {base}"
    ).fetchone()
    con.execute(f"CREATE OR REPLACE TEMP TABLE sv_series AS {_series(history, local, span)}")
    floor = con.execute(
        f"SELECT {TOTAL_FLOOR} * coalesce(avg(cost), 0) FROM sv_series WHERE scope = 'day'"
    ).fetchone()[0]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_baseline AS
            WITH hist AS (
              -- the days before whose cost is known: a day of calls without a cost only
              -- (null) is in no median, nor in the count of days or calls a day
              SELECT scope, key, day, cost, calls, top,
                list(cost) FILTER (WHERE cost IS NOT NULL) OVER past_days AS past,
                count(*) FILTER (WHERE calls > 0) OVER past_days AS active,
                -- the days of log before, with a cost or not: a day of fewer than
                -- MIN_HISTORY days with a cost may follow more days of log than that
                count(*) OVER past_days AS logged,
                list(calls) FILTER (WHERE cost IS NOT NULL) OVER past_days AS past_calls,
                sum(calls) OVER past_days AS h_calls,
                sum(CAST(cost AS DOUBLE)) OVER past_days AS h_cost,
                sum(sq) OVER past_days AS h_sq, sum(lsum) OVER past_days AS h_lsum,
                sum(lsq) OVER past_days AS h_lsq, sum(sized) OVER past_days AS h_sized
              FROM sv_series
              WINDOW past_days AS (PARTITION BY scope, key ORDER BY day
                                   ROWS BETWEEN {window} PRECEDING AND 1 PRECEDING)),
            med AS (
              SELECT *, coalesce(len(past), 0) AS n,
                coalesce(len(past), 0) >= {MIN_HISTORY} AND active >= {MIN_DAYS_WITH_CALLS}
                  AS checked,
                list_aggregate(past, 'median') AS median,
                list_aggregate(past_calls, 'median') AS median_calls,
                h_cost / nullif(h_calls, 0) AS mean_call,
                h_lsum / nullif(h_sized, 0) AS mean_log
              FROM hist),
            mad AS (
              SELECT *, list_aggregate(list_transform(past, lambda x: abs(x - median)),
                                       'median') AS mad,
                list_aggregate(list_transform(past_calls, lambda x: abs(x - median_calls)),
                               'median') AS mad_calls,
                -- Var(sum of N calls) = E[N] Var(C) + Var(N) E[C]^2, of the calls before
                sqrt(greatest(h_calls / n * (h_sq / h_calls - mean_call ^ 2), 0)
                     + ({MAD_SCALE} * mad_calls * mean_call) ^ 2) AS calls_sigma,
                sqrt(greatest(h_lsq / h_sized - mean_log ^ 2, 0)) AS sd_log
              FROM med)
            SELECT scope, key, day, cost, calls, top, n, active, logged, checked, median, mad,
              median + {k} * greatest({MAD_SCALE} * mad, {MEDIAN_FLOOR} * median, ?,
                                      coalesce(calls_sigma, 0)) AS threshold,
              -- the day's largest call alone is news: of a size the calls before never had
              -- (a day whose calls have no cost has top 0: its log is -inf, as DuckDB 2 has
              -- it, and no larger; DuckDB 1.5 refuses ln(0), even beside a true OR)
              h_sized = 0 OR CASE WHEN top > 0 THEN ln(top) WHEN top = 0 THEN '-inf'::DOUBLE END
                > mean_log + {call_k} * greatest(sd_log, ln({SIZE_FLOOR})) AS unusual_call
            FROM mad""",
        [floor],
    )
    found = rows(
        con,
        f"""SELECT scope, key, day, cost AS cost_usd, median AS baseline_usd,
             threshold AS threshold_usd, cost - median AS excess_usd, calls,
             top AS largest_call_usd, n AS history_days, active AS history_days_with_calls
           FROM sv_baseline b
           WHERE checked AND cost > threshold AND (cost - top > threshold OR unusual_call)
             -- material: the excess is a share of the day's bill (a user's $0.08 on a day
             -- of $0.63 is news on a log of 24,000 checks, where a few such are chance)
             AND cost - median >= {min_share} * (
               SELECT coalesce(t.cost, 0) FROM sv_baseline t
               WHERE t.scope = 'day' AND t.day = b.day)
             AND day BETWEEN ? AND ?
           ORDER BY (scope = 'day') DESC, excess_usd DESC, scope, key, day""",
        [first_day, last_day],
    )
    for item in found:
        item["day"] = item["day"].isoformat()
        for key in ("cost_usd", "baseline_usd", "threshold_usd", "excess_usd", "largest_call_usd"):
            item[key] = round(float(item[key]), 9)
    days = [a for a in found if a["scope"] == "day"]
    others = sorted(
        (a for a in found if a["scope"] != "day"), key=lambda a: (-a["excess_usd"], a["key"])
    )
    # the window's days (of the total series), checked or not, and why not
    counts = con.execute(
        f"""SELECT count(*) FILTER (WHERE scope = 'day' AND checked),
              count(DISTINCT (scope, key)) FILTER (WHERE checked),
              count(*) FILTER (WHERE scope = 'day' AND NOT checked AND n < {MIN_HISTORY}),
              count(*) FILTER (WHERE scope = 'day' AND NOT checked AND n >= {MIN_HISTORY}),
              count(*) FILTER (WHERE scope = 'day' AND NOT checked AND n < {MIN_HISTORY}
                               AND calls > 0),
              count(*) FILTER (WHERE scope = 'day' AND NOT checked AND n >= {MIN_HISTORY}
                               AND calls > 0),
              -- of the short ones with calls, those whose log was long enough, but not
              -- its days with a cost (days of calls without one are no history)
              count(*) FILTER (WHERE scope = 'day' AND NOT checked AND n < {MIN_HISTORY}
                               AND logged >= {MIN_HISTORY} AND calls > 0),
              count(*) FILTER (WHERE checked)
            FROM sv_baseline WHERE day BETWEEN ? AND ?""",
        [first_day, last_day],
    ).fetchone()
    checked, series, short, sparse, short_called, sparse_called, uncosted_called, checks = counts
    return {
        "days": days[: ctx.top],
        "users_and_features": others[: ctx.top],
        "count": len(found),
        "days_checked": checked,
        "series_checked": series,
        # the days checked of every series (total, users, features): the number of chances a
        # day of noise had to be flagged, beside the count (24,000 on a 180-day log of 40
        # features and 100 users, where a flag in 10,000 checks is 2 or 3 by chance)
        "checks": checks,
        # the window's other days, by why they were not checked: no anomaly among them is
        # no sign that they were usual (a day of no call is never one, so the days with
        # calls are what a reader misses)
        "days_not_checked": {"short_history": short, "few_days_with_calls": sparse},
        "days_with_calls_not_checked": {
            "short_history": short_called,
            "few_days_with_calls": sparse_called,
        },
        # of those short of history, the days with 7 days of log or more before them, but
        # fewer with a cost: not a young log (the note says which)
        "days_with_calls_short_of_days_with_a_cost": uncosted_called,
        "min_history_days": MIN_HISTORY,
        "min_days_with_calls": MIN_DAYS_WITH_CALLS,
        "not_checked_note": _not_checked_note(short_called, sparse_called, window, uncosted_called),
        "rule": f"cost above the median of the previous {window} days + {k:g} x robust sigma "
        "(1.4826 x MAD, at least 10% of the median, 1% of an average day's total and the spread "
        "its number of calls and their sizes give), and still above it without the day's "
        f"largest call unless that call is {call_k:g} sigmas above the usual log size of a call, "
        f"by at least {min_share:.0%} of the day's total cost; "
        f"needs {MIN_HISTORY} days of history, {MIN_DAYS_WITH_CALLS} of them with calls",
        "forecast": _forecast(
            con, base, history, getattr(ctx.options, "until", None), zone(ctx), local
        ),
        # the zone of the days above and of the forecast's month (report --tz)
        "timezone": zone(ctx),
    }


def _not_checked_note(short: int, sparse: int, window: int, uncosted: int = 0) -> str | None:
    """Why days with calls were not checked, in words; None when every one was. ``uncosted``
    of the ``short`` ones followed enough days of log, but too few of them with a cost."""
    if not short and not sparse:
        return None
    total = short + sparse
    each = "it" if total == 1 else "each"
    few = (
        f"fewer than {MIN_DAYS_WITH_CALLS} days with calls among the {window} before {each} "
        "(not enough days with calls: a history of idle days cannot say what a usual day costs)"
    )
    young = f"fewer than {MIN_HISTORY} days of log before {each}"
    # a day after 14 days of log, 7 of them of calls without a cost (unpriced, no token
    # counts): no young log, but those days are no history (no cost to compare with)
    costless = (
        f"fewer than {MIN_HISTORY} days with a cost before {each} (days whose calls "
        "have no cost, unpriced or without token counts, are no history)"
    )
    reasons = [(sparse, few), (short - uncosted, young), (uncosted, costless)]
    reasons = [(n, text) for n, text in reasons if n]
    why = reasons[0][1] if len(reasons) == 1 else ", ".join(f"{n} with {t}" for n, t in reasons)
    return (
        f"{total} day{'' if total == 1 else 's'} with calls not checked: {why}; no anomaly "
        "found there does not mean all was usual"
    )


def _end_price_deltas(con, base: str, history: str, last, start, end, local: str):
    """Temp table ``sv_fc_repriced(day, delta)``: for each day (of ``local``) of the calls
    from ``start`` to before ``end`` (instants), what its calls with a cost would have cost
    more at the prices in force at ``last`` (the last call: each model's price row of that
    date, at the call's own service tier, long-context tier and off-peak window) than they
    were billed. A call whose model has no price on that date (retired) keeps its billed
    cost. Returns how many calls cost otherwise, and how many were kept so."""
    from llmcost.costing import candidates_sql, cost_sql

    # the calls with their token columns: ``calls`` (report.window_view's table of the
    # priced view's columns) when it is the history, else the priced view (a period's
    # history reaches before its window, and sv_history keeps no token column it prices)
    own = history == base and base == "calls"
    source = base if own else "priced"
    # the priced view holds every stored call: only those of ``base`` when it is the history
    mine = (
        "" if own or history != base else f" AND {{}}request_id IN (SELECT request_id FROM {base})"
    )
    calls = f"""(SELECT *, CAST(? AS TIMESTAMPTZ) AS price_end FROM {source}
                 WHERE cost_usd IS NOT NULL AND ts >= CAST(? AS TIMESTAMPTZ)
                   AND ts < CAST(? AS TIMESTAMPTZ){mine.format("")})"""
    span = [start.isoformat(), end.isoformat()]
    # A call is priced by the rows in force on its date; when no row of its model starts or
    # ends after the first such date up to the last call's, the rows in force then are the
    # same ones, and so are the costs: nothing to reprice (most logs: 0.12 s on 200k calls)
    [(moved,)] = con.execute(
        f"""WITH w AS (SELECT model_key, priced_provider AS provider,
                         min(CAST(ts AS DATE)) AS first_day, any_value(price_end) AS price_end
                       FROM {calls} b GROUP BY ALL)
            SELECT count(*) FROM price_rows p JOIN w USING (model_key, provider)
            WHERE p.valid_from > w.first_day AND p.valid_from <= CAST(w.price_end AS DATE)
               OR p.valid_to > w.first_day AND p.valid_to <= CAST(w.price_end AS DATE)""",
        [last.isoformat(), *span],
    ).fetchall()
    if not moved:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE sv_fc_repriced
               (day DATE, delta DOUBLE, changed BIGINT, kept BIGINT)"""
        )
        return 0, 0
    cand = candidates_sql(calls, "b.price_end", with_tokens=True, row_only=True)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_fc_repriced AS
            WITH cand AS ({cand}),
            ended AS (
              SELECT r.request_id, {cost_sql("p.", "r.t_")} AS end_cost
              FROM cand r JOIN price_rows p ON p.rowid = r.price_row WHERE r.rn = 1)
            SELECT CAST({local} AS DATE) AS day,
              sum(coalesce(e.end_cost, c.cost_usd) - c.cost_usd) AS delta,
              count(*) FILTER (WHERE e.end_cost <> c.cost_usd) AS changed,
              count(*) FILTER (WHERE e.end_cost IS NULL) AS kept
            FROM {source} c LEFT JOIN ended e USING (request_id)
            WHERE c.cost_usd IS NOT NULL AND c.ts >= CAST(? AS TIMESTAMPTZ)
              AND c.ts < CAST(? AS TIMESTAMPTZ){mine.format("c.")}
            GROUP BY 1""",
        [last.isoformat(), *span, *span],
    )
    changed, kept = con.execute(
        "SELECT coalesce(sum(changed), 0), coalesce(sum(kept), 0) FROM sv_fc_repriced"
    ).fetchone()
    return int(changed), int(kept)


def _forecast(
    con, base: str, history: str, until=None, tz: str = "UTC", local: str = "ts"
) -> dict | None:
    """``base``'s last call fixes the month (of zone ``tz``: report --tz); its month-to-date
    is of ``history`` (the calls before the window too), up to that call, as billed. The
    remaining days are priced at the prices in force at the last call: the complete days of
    the fit are their calls repriced at those prices (a price that changed within the last
    ``FORECAST_DAYS`` days otherwise mixed in the old price). A window that ends
    (``until``) after its last call ran to its end without a call: the month is that far on
    (a report of a month that is over projects nothing more, though its log stopped on the
    15th). Days elapsed are days of the zone's clock (a month is 30 or 31 of them, though a
    day is 23 or 25 hours long when the clocks change)."""
    from llmcost.periods import midnight

    last = con.execute(f"SELECT max(ts) FROM {base}").fetchone()[0]
    if last is None:
        return None
    zinfo = ZoneInfo(tz)

    def wall(when: dt.datetime) -> dt.datetime:  # the zone's clock, naive
        return when.astimezone(zinfo).replace(tzinfo=None)

    start = wall(last).date().replace(day=1)
    days_in_month = calendar.monthrange(start.year, start.month)[1]
    # the month's calls in no cost, by why: no price for their model, or no token counts,
    # as Cost by day counts them (not the failed calls without usage, not billed, unless they
    # are all the month has) (sum() is null when no call of the month has a cost: unknown,
    # never $0)
    mtd, first, unpriced, unknown, failed = con.execute(
        f"""SELECT sum(cost_usd), min(ts), count(*) FILTER (WHERE NOT is_priced),
              {without_tokens("is_priced AND cost_usd IS NULL")},
              count(*) FILTER (WHERE {FAILED_WITHOUT_USAGE})
            FROM {history} WHERE ts >= CAST(? AS TIMESTAMPTZ) AND ts <= CAST(? AS TIMESTAMPTZ)""",
        [midnight(start, zinfo).isoformat(), last.isoformat()],
    ).fetchone()
    month_start = dt.datetime.combine(start, dt.time())
    elapsed = (wall(last) - month_start).total_seconds() / 86400
    # from the first logged day of the month (the days before it are not in the log)
    logged = wall(last) - dt.datetime.combine(wall(first or last).date(), dt.time())
    logged = logged.total_seconds() / 86400
    # complete days before the last one (which may be partial), at most FORECAST_DAYS; a day
    # whose calls all lack a cost (unpriced, no token counts) is left out of the fit: its
    # cost is unknown, and as $0 it dragged the mean (and the projection) down
    fit = f"""SELECT day, cost, calls, uncosted FROM sv_series
              WHERE scope = 'day' AND day < CAST(? AS DATE)
              ORDER BY day DESC LIMIT {FORECAST_DAYS}"""
    today = wall(last).date()
    fit_first = con.execute(f"SELECT min(day) FROM ({fit})", [today.isoformat()]).fetchone()[0]
    # the days to come are billed at the prices in force now: the fit's days, at those
    # prices (a price that doubled 14 days ago read as one 50% up, the old price mixed in)
    prices_on = last.astimezone(dt.timezone.utc).date()  # a call's price is of its UTC date
    changed, kept = _end_price_deltas(  # no complete day: an empty span, no call repriced
        con, base, history, last, midnight(fit_first or today, zinfo), midnight(today, zinfo), local
    )
    stats = con.execute(
        f"""SELECT count(*) FILTER (WHERE known), avg(cost) FILTER (WHERE known),
              coalesce(stddev_samp(cost) FILTER (WHERE known), 0),
              count(*) FILTER (WHERE known AND calls > 0), count(*) FILTER (WHERE NOT known)
            FROM (
              SELECT f.cost + coalesce(r.delta, 0) AS cost, f.calls,
                f.calls > 0 OR f.uncosted = 0 AS known
              FROM ({fit}) f
              LEFT JOIN sv_fc_repriced r ON r.day = f.day)""",
        [today.isoformat()],
    ).fetchone()
    n, mean, sd, active = stats[0], float(stats[1] or 0), float(stats[2] or 0), stats[3]
    unknown_days = stats[4]
    mtd = usd(mtd)
    if until is not None and until > last:
        month_end = midnight(start + dt.timedelta(days=days_in_month), zinfo)
        elapsed = (wall(min(until, month_end)) - month_start).total_seconds() / 86400
        # and it was logged that far: a first day's yesterday report has the whole day
        # for its rate, not the hours up to its last call
        logged += (wall(min(until, month_end)) - wall(last)).total_seconds() / 86400
    remaining = max(days_in_month - float(elapsed or 0), 0.0)
    if n == 0 and mtd is not None:
        # a single (partial) day: its own rate, over the time it was logged (not since the
        # 1st: a log that starts on the 29th is not a month of little spend)
        mean = mtd / max(float(logged or 0), 1 / 24)
    # no call of the month with a cost: its month to date is unknown, and so is its end
    projection = None if mtd is None else mtd + remaining * mean
    spread = Z80 * sd * math.sqrt(remaining)
    # the spread of idle days is no measure of it either: 28 days of $0 read '80% range
    # $0.000059 - $0.000059' on a log of a few calls a month (as the anomaly check, a week of
    # days with calls)
    ranged = projection is not None and n >= FORECAST_MIN_DAYS and active >= FORECAST_MIN_DAYS
    history = "no complete day" if n == 0 else f"{n} complete day{'' if n == 1 else 's'}"
    rate = (
        "the month-to-date cost per day logged (no complete day before the last call's)"
        if n == 0
        else "the cost of the one complete day before the last"
        if n == 1
        else f"the mean of the last {history}"
    )
    if unknown_days:
        rate += (
            f" ({unknown_days} complete day{'' if unknown_days == 1 else 's'} left out: "
            "no call with a cost, unknown, not $0)"
        )
    if n:
        rate += ", their calls repriced so"
    if kept:
        rate += (
            f" ({kept} call{'' if kept == 1 else 's'} of a model with no price then "
            "at the price billed)"
        )
    return {
        "month": start.strftime("%Y-%m"),
        "as_of": last.astimezone(zinfo).isoformat(),
        "month_to_date_usd": mtd,  # of the calls with a cost
        # this month's calls in no sum: of models without a price, and of a priced model
        # whose log gave no token counts (attribution.without_tokens), and of those the
        # failed calls without usage (not billed: in the latter only when they are all)
        "unpriced_requests": unpriced,
        "unknown_token_requests": unknown,
        "error_unknown_token_requests": failed,
        "days_elapsed": round(float(elapsed or 0), 2),
        "days_in_month": days_in_month,
        "daily_mean_usd": round(mean, 9),
        "daily_sd_usd": round(sd, 9),
        "history_days": n,
        "history_days_with_calls": active,
        # complete days of the history whose calls all lack a cost: unknown, not $0 days,
        # so not in the mean, the spread nor history_days
        "history_days_without_cost": unknown_days,
        "projection_usd": None if projection is None else round(projection, 6),
        "low_usd": round(max(mtd, projection - spread), 6) if ranged else None,
        "high_usd": round(projection + spread, 6) if ranged else None,
        "range_note": None
        if ranged
        else f"no projection: no call of {start.strftime('%Y-%m')} has a cost"
        if projection is None
        else f"no 80% range: {history} of history, and a range needs {FORECAST_MIN_DAYS}"
        if n < FORECAST_MIN_DAYS
        else f"no 80% range: {active} of the {history} of history had calls, and a range "
        f"needs {FORECAST_MIN_DAYS}: the spread of idle days is no measure of it",
        # the remaining days are priced at the prices in force at the last call (its UTC
        # date, as a call's price is read); the month to date is what was billed
        "prices_as_of": prices_on.isoformat(),
        # calls of the fit whose cost at those prices differs from the one billed, and
        # those whose model had no price then (retired: kept at the price billed)
        "history_requests_repriced": changed,
        "history_requests_without_end_price": kept,
        "method": f"month-to-date as billed + remaining days at the prices in force on "
        f"{prices_on.isoformat()} x {rate}; "
        + (
            "range = 80% interval (+-1.28 sd x sqrt(remaining days))"
            if ranged
            else f"a range needs the spread of {FORECAST_MIN_DAYS} complete days with calls"
            " at least"
        ),
    }
