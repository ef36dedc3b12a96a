"""Report periods: named windows (yesterday, last-7d, …) computed in a time zone.

Every window is half-open, ``[since, until)``, and made of local calendar days: a day in
``Europe/Paris`` starts at local midnight, so it lasts 23 or 25 hours on the days the clocks
change. Bounds are returned as UTC instants, ready for the ``calls`` view. The period before
a window (what the report compares with) is the same number of local days just before it;
for month-based periods it is the previous calendar month (or the same span of it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from llmcost.attribution import FAILED_WITHOUT_USAGE, merged_without_tokens, without_tokens
from llmcost.errors import UsageError

PERIODS = ("yesterday", "last-7d", "last-30d", "month-to-date", "previous-month")


@dataclass(frozen=True)
class Window:
    """``[since, until)`` as aware UTC datetimes, with how to name it."""

    since: dt.datetime
    until: dt.datetime
    label: str
    tz: str

    def local(self, when: dt.datetime) -> dt.datetime:
        return when.astimezone(ZoneInfo(self.tz))

    def describe(self) -> str:
        """``2026-11-14 → 2026-11-15 (Europe/Paris)``, with times only when not midnight."""
        return f"{_show(self.local(self.since))} → {_show(self.local(self.until))} ({self.tz})"

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "describe": self.describe(),
            "tz": self.tz,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "local_since": self.local(self.since).isoformat(),
            "local_until": self.local(self.until).isoformat(),
        }


@dataclass(frozen=True)
class Periods:
    current: Window
    previous: Window


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--tz {name!r} is not a known time zone",
            hint="use an IANA name such as UTC, Europe/Paris or America/New_York",
        ) from None


def _show(local: dt.datetime) -> str:
    if local.time() == dt.time(0):
        return local.date().isoformat()
    return local.strftime("%Y-%m-%d %H:%M")


def midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The first instant of ``day`` in ``tz``, as UTC.

    Where a zone skips midnight (clocks jump from 00:00 to 01:00), the day starts at the
    jump; ``fold=0`` reads the missing time with the offset in force before it, which lands
    on exactly that instant.
    """
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.timezone.utc)


def _month_start(day: dt.date, back: int = 0) -> dt.date:
    month = day.year * 12 + day.month - 1 - back
    return dt.date(month // 12, month % 12 + 1, 1)


def _days(start: dt.date, end: dt.date, tz: ZoneInfo, label: str, name: str) -> Window:
    return Window(midnight(start, tz), midnight(end, tz), label, name)


def resolve(
    period: str | None = None,
    *,
    since: str | None = None,
    until: str | None = None,
    tz: str = "UTC",
    now: dt.datetime | None = None,
) -> Periods:
    """The window to report on and the one before it.

    ``period`` is one of PERIODS; or give ``since`` (and optionally ``until``, default now)
    as ISO dates or times, read in ``tz`` when they carry no offset.
    """
    zinfo = zone(tz)
    now = now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    today = now.astimezone(zinfo).date()
    if period is not None and (since or until):
        raise UsageError(
            "give either --period or --since/--until, not both",
            hint="e.g. --period yesterday, or --since 2026-11-01 --until 2026-11-08",
        )
    if period is None:
        if since is None:
            raise UsageError(
                "no period given", hint="use --period yesterday (or last-7d, …) or --since DATE"
            )
        start = _instant(since, zinfo, "--since")
        end = _instant(until, zinfo, "--until") if until else now.astimezone(dt.timezone.utc)
        check_order(start, end, since, until or "now")
        current = Window(start, end, f"{since} → {until or 'now'}", tz)
        previous = Window(start - (end - start), start, "the same length before", tz)
        return Periods(current, previous)
    if period == "yesterday":
        day = today - dt.timedelta(days=1)
        return Periods(
            _days(day, today, zinfo, f"yesterday ({day.isoformat()})", tz),
            _days(day - dt.timedelta(days=1), day, zinfo, "the day before", tz),
        )
    if period in ("last-7d", "last-30d"):
        n = 7 if period == "last-7d" else 30
        start = today - dt.timedelta(days=n)
        return Periods(
            _days(start, today, zinfo, f"last {n} days", tz),
            _days(start - dt.timedelta(days=n), start, zinfo, f"the {n} days before", tz),
        )
    if period == "previous-month":
        start, end = _month_start(today, 1), _month_start(today)
        before = _month_start(today, 2)
        return Periods(
            _days(start, end, zinfo, f"{start:%B %Y}", tz),
            _days(before, start, zinfo, f"{before:%B %Y}", tz),
        )
    if period == "month-to-date":
        start = _month_start(today)
        current = Window(
            midnight(start, zinfo), now.astimezone(dt.timezone.utc), f"{start:%B %Y} to date", tz
        )
        # The same span of the previous month, cut at its end (March 31 → all of February).
        before = _month_start(today, 1)
        try:
            local_now = now.astimezone(zinfo)
            same = local_now.replace(year=before.year, month=before.month)
            prev_end = same.astimezone(dt.timezone.utc)
        except ValueError:  # day 29-31 that the previous month does not have
            prev_end = current.since
        return Periods(current, Window(midnight(before, zinfo), prev_end, f"{before:%B %Y}", tz))
    raise UsageError(f"unknown period {period!r}", hint=f"use one of: {', '.join(PERIODS)}")


def check_order(
    start: dt.datetime | None,
    end: dt.datetime | None,
    since: str,
    until: str,
    names: tuple[str, str] = ("--since", "--until"),
) -> None:
    """The one check every command (and the Python API, whose ``names`` are its arguments)
    makes of a window ``[since, until)`` (``since`` and ``until`` as the user wrote them):
    ``until`` must be later, else nothing could be in it."""
    if start is not None and end is not None and end <= start:
        raise UsageError(
            f"{names[1]} ({until}) is not after {names[0]} ({since})",
            hint="the window is [since, until): until must be later",
        )


def _instant(value: str, zinfo: ZoneInfo, option: str) -> dt.datetime:
    """An ISO date (local midnight) or time (local unless it has an offset), as UTC, read
    as a log's time is (timestamps.read_time)."""
    from llmcost.timestamps import read_time

    return read_time(value, option, zinfo)


def parse_now(value: str | None, tz: str = "UTC") -> dt.datetime | None:
    """``--now``: pretend the report runs at this time; without an offset it is read in
    ``tz``, as ``--since`` and ``--until`` are (a time typed beside ``--tz Europe/Paris`` is
    a Paris time)."""
    if value is None:
        return None
    return _instant(value, zone(tz), "--now")


# ---------------------------------------------------------------- the scheduled report


def run(con, book, periods: Periods, *, top: int = 10, alerts=None, stage=None) -> dict:
    """The report for ``periods.current`` on an open store, compared with the period before.

    The result is the usual report dict (every analysis over the window) plus
    ``report_period`` (the windows, costs by local day and a local hour × weekday grid, the
    largest day-over-day rise), ``comparison`` (top movers, see budgets.compare) and
    ``alerts`` (see budgets.evaluate_alerts). ``stage`` is told each step (report.build's).
    """
    from llmcost import budgets
    from llmcost.analyses import usd
    from llmcost.report import Options, build, no_records

    cur, prev = periods.current, periods.previous
    if not _holds_calls(con):
        raise no_records(con, stored=True)
    options = Options(since=cur.since, until=cur.until, top=top, tz=cur.tz)
    report = build(con, book, options, stage=stage, empty_window=True)
    if stage:
        stage("comparing with the period before")
    previous = _previous(con, book, prev, top)

    tz = cur.tz
    by_model = con.execute(
        f"""SELECT CAST(timezone(?, ts) AS DATE) AS day, model, count(*) AS requests,
             -- of the calls with a cost: null when none has one (never $0), as by_day's
             sum(cost_usd) AS cost_usd,
             count(*) FILTER (WHERE NOT is_priced) AS unpriced_requests,  -- not counted as $0
             -- a priced model's calls without token counts, as by_day counts them (not the
             -- failed ones without usage, not billed, unless they are all the group has)
             {without_tokens("is_priced AND cost_usd IS NULL")} AS unknown_token_requests,
             count(*) FILTER (WHERE {FAILED_WITHOUT_USAGE}) AS error_unknown_token_requests
           FROM priced WHERE ts >= CAST(? AS TIMESTAMPTZ) AND ts < CAST(? AS TIMESTAMPTZ)
           GROUP BY ALL ORDER BY day, cost_usd DESC NULLS LAST, model""",
        [tz, prev.since.isoformat(), cur.until.isoformat()],
    ).fetchall()
    grid = con.execute(
        """SELECT isodow(timezone(?, ts)) - 1 AS weekday, hour(timezone(?, ts)) AS hour,
             -- null for a cell of calls none of which has a cost (never $0), as peaks' grid
             count(*) AS requests, sum(cost_usd) AS cost_usd
           FROM priced WHERE ts >= CAST(? AS TIMESTAMPTZ) AND ts < CAST(? AS TIMESTAMPTZ)
           GROUP BY ALL ORDER BY weekday, hour""",
        [tz, tz, cur.since.isoformat(), cur.until.isoformat()],
    ).fetchall()

    first_day = cur.local(cur.since).date().isoformat()
    daily: dict[str, dict] = {}
    daily_by_model = []
    groups: dict[str, list[dict]] = {}  # the day's models, as without_tokens counted them
    for day, model, requests, cost, unpriced, unknown, failed in by_model:
        key = day.isoformat()
        entry = daily.setdefault(
            key,
            {
                "day": key,
                "requests": 0,
                "cost_usd": None,  # a day none of whose calls has a cost: null, never $0
                "unpriced_requests": 0,
                "unknown_token_requests": 0,
                "error_unknown_token_requests": 0,
            },
        )
        entry["requests"] += requests
        entry["unpriced_requests"] += unpriced
        entry["error_unknown_token_requests"] += failed
        groups.setdefault(key, []).append(
            {
                "cost_usd": cost,
                "unpriced_requests": unpriced,
                "unknown_token_requests": unknown,
                "error_unknown_token_requests": failed,
            }
        )
        if cost is not None:  # exact DECIMAL sums; dollars once per day below
            entry["cost_usd"] = (entry["cost_usd"] or 0) + cost
        if key >= first_day:
            daily_by_model.append(
                {"day": key, "model": model, "requests": requests, "cost_usd": usd(cost)}
            )
    for key, entry in daily.items():
        entry["cost_usd"] = usd(entry["cost_usd"])
        # as Cost by day's row of that day: a model's failed calls without usage are not
        # billed beside another model's cost
        entry["unknown_token_requests"] = merged_without_tokens(groups[key])
    undated = con.execute("SELECT count(*) FROM requests WHERE ts IS NULL").fetchone()[0]
    logged = logged_since(con)
    idle, unlogged = _idle_days(cur, logged, set(daily))
    # logging began inside the period before: when, in the report's zone
    partly = (
        logged.astimezone(ZoneInfo(tz)).isoformat()
        if logged and prev.since < logged < prev.until
        else None
    )
    report["report_period"] = {
        **cur.as_dict(),
        "previous": {
            **prev.as_dict(),
            "requests": previous["summary"]["requests"] if previous else 0,
            "total_cost_usd": previous["summary"]["total_cost_usd"] if previous else 0.0,
            # the calls of the period before in no cost (never $0), as the period's own
            "unpriced_requests": previous["summary"]["unpriced_requests"] if previous else 0,
            "unknown_token_requests": (
                previous["summary"]["unknown_token_requests"] if previous else 0
            ),
            # of those, failed calls without usage: not billed, so in no count of calls
            # without a cost (budgets.uncosted_calls), as the period's own
            "error_unknown_token_requests": (
                previous["summary"]["error_unknown_token_requests"] if previous else 0
            ),
            # all of it before the store began logging (logged_since): no call is unknown,
            # not none
            "not_logged": bool(logged and prev.until <= logged),
            # logging began inside it: its calls, or its lack of any, cover only the part
            # from then on, not the whole period
            "partly_logged_since": partly,
        },
        "daily": [d for k, d in sorted(daily.items()) if k >= first_day],
        "daily_by_model": daily_by_model,
        "grid": [
            {"weekday": w, "hour": h, "requests": n, "cost_usd": usd(c)} for w, h, n, c in grid
        ],
        "day_over_day": budgets.day_over_day(list(daily.values()), first_day),
        # a period of no call: is it a quiet day, or an ingest that stopped (or reads the
        # wrong directory)? The last call stored before the period's end says which.
        "last_call_before_end": _last_call_before(con, cur.until, cur.tz)
        if not report["summary"]["requests"]
        else None,
        # calls logged without a time are in no period: said, not silently left out
        "undated_calls": undated,
        # the days of the period without a call: idle days ($0, history the anomalies and
        # the forecast read) from the day the store began logging; the days before it are
        # unknown, no history
        "logged_since": logged.astimezone(ZoneInfo(tz)).isoformat() if logged else None,
        "idle_days": idle,
        "days_not_logged": unlogged,
    }
    report["comparison"] = budgets.compare(previous, report, top) if previous else None
    if report["comparison"] and partly:
        report["comparison"]["notes"].append(
            f"before: logged only from {partly[:10]} (when logging began): its costs cover "
            "part of the period, not all of it"
        )
    report["alerts"] = budgets.evaluate_alerts(alerts or budgets.Alerts(), report)
    return report


def _idle_days(window: Window, logged: dt.datetime | None, called: set[str]):
    """The window's complete local days without a call since ``logged`` (ISO dates), and how
    many of its days came before it (none logged: unknown). A day still going on at the
    window's end (month-to-date's today) is no idle day yet."""
    first = window.local(window.since).date()
    last = window.local(window.until).date() - dt.timedelta(days=1)
    start = window.local(logged).date() if logged else last + dt.timedelta(days=1)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    idle = [d.isoformat() for d in days if d >= start and d.isoformat() not in called]
    return idle, sum(d < start for d in days)


def _last_call_before(con, until: dt.datetime, tz: str = "UTC") -> str | None:
    """ISO, with the offset of ``tz`` (the report's zone)."""
    last = con.execute(
        "SELECT max(ts) FROM requests WHERE ts < CAST(? AS TIMESTAMPTZ)", [until.isoformat()]
    ).fetchone()[0]
    return last.astimezone(ZoneInfo(tz)).isoformat() if last is not None else None


def logged_since(con) -> dt.datetime | None:
    """When the store began logging: its first stored call (or usage-report bucket), or its
    first ingest when that came before (a log ingested by cron before its first call). A day
    from then on without a call is an idle day ($0); a day before it is unknown, no history."""
    return con.execute(
        """SELECT least((SELECT min(ts) FROM requests), (SELECT min(started_at) FROM ingests),
                        (SELECT min(bucket_start) FROM usage_buckets))"""
    ).fetchone()[0]


def _holds_calls(con) -> bool:
    """The store holds calls (or usage-report buckets) of any time: a period without any is a
    report of none; a store without any is a run that found no usable records."""
    return bool(
        con.execute(
            "SELECT EXISTS (SELECT 1 FROM requests) OR EXISTS (SELECT 1 FROM usage_buckets)"
        ).fetchone()[0]
    )


# What the comparison reads of the period before: no need to run every analysis on it.
PREVIOUS_ANALYSES = ("summary", "by_model", "limits")


def _previous(con, book, window: Window, top: int) -> dict | None:
    """The summary, cost by model and the budget measures of ``window`` (None: no calls).

    Runs after ``build`` priced the store; the ``calls`` view is made the way ``build``
    makes it (attribution from llmcost.yaml included), over the earlier window.
    """
    from llmcost import attribution
    from llmcost.analyses import Context, analyses
    from llmcost.report import Options, window_view

    options = Options(since=window.since, until=window.until, top=top, tz=window.tz)
    mapping = attribution.request_for(options).mapping
    window_view(con, window.since, window.until, attribution.calls_columns(mapping))
    if con.execute("SELECT count(*) FROM calls").fetchone()[0] == 0:
        return None
    ctx = Context(top=top, book=book, options=options)
    found = {a.name: a.run(con, ctx) for a in analyses() if a.name in PREVIOUS_ANALYSES}
    return {"pricing_version": book.version, **found}
