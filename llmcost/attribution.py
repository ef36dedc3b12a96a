"""Attribution: who and what spent it — cost by any dimension, by period, by session.

Everything is SQL over the ``calls`` view (one priced row per call in the report window).

Dimensions (``--by DIM[,DIM]``): the built-ins in ``DIMENSIONS`` (provider, model, user,
feature, session, api_key, project, team, …), ``tag:KEY`` for any top-level key of the log's
metadata/tags object, and any name the ``attribution:`` section of ``llmcost.yaml`` defines::

    attribution:
      user: metadata.customer_id      # used where the log has no user id
      feature: metadata.route
      team: metadata.team             # a new dimension: --by team

A mapped path reads the log's metadata object (kept as the ``tags`` column); ``metadata.``
or ``tags.`` in front is optional, dots go down nested objects, and a list of paths means
the first one present. ``user``, ``feature`` and ``session`` fill the canonical columns
where the log had none, in the ``calls`` view itself (``calls_columns``), so every analysis
and the export see the same attribution; other names only define ``--by`` dimensions.

Periods (``--period daily|weekly|monthly``) are calendar buckets of the session time zone
(UTC unless changed): weeks are ISO weeks starting on Monday, labelled ``2026-W01`` (the ISO
week-year, so 2025-12-31 falls in 2026-W01).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from llmcost.errors import UsageError

# Which tag keys the built-in key/project/team dimensions read, first present wins.
API_KEY_TAGS = ("api_key", "api_key_id", "api_key_name", "api_key_alias", "user_api_key_alias")
PROJECT_TAGS = ("project", "project_id", "project_name")
TEAM_TAGS = ("team", "team_id", "team_name")

# Canonical columns a config mapping may fill (dimension name → column of ``calls``).
CANONICAL = {"user": "user_id", "feature": "feature", "session": "session_id"}
# Built-in dimensions a config mapping may redefine.
OVERRIDABLE = {*CANONICAL, "api_key", "project", "team"}


class Period(str, Enum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"


# date_trunc unit, label format (strftime), interval to the next period
_PERIODS = {
    "daily": ("day", "%Y-%m-%d", "INTERVAL 1 DAY"),
    "weekly": ("week", "%G-W%V", "INTERVAL 7 DAY"),
    "monthly": ("month", "%Y-%m", "INTERVAL 1 MONTH"),
}


def split_path(path: str) -> list[str]:
    """'metadata.route' → ['route']; 'tags.a.b' → ['a', 'b']; 'team' → ['team']."""
    parts = path.strip().split(".")
    if parts and parts[0] in ("metadata", "tags") and len(parts) > 1:
        parts = parts[1:]
    return parts


def json_path(parts: Sequence[str]) -> str:
    """A JSON path with every key quoted: ['a', 'b c'] → '$."a"."b c"'."""
    for part in parts:
        if not part or any(ch in part for ch in '"\\') or not part.isprintable():
            raise ValueError(f"unusable key {part!r}")
    return "$" + "".join(f'."{p}"' for p in parts)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _tags_any(keys: Sequence[str]) -> tuple[str, list[str]]:
    sql = "coalesce(" + ", ".join("tags ->> ?" for _ in keys) + ")"
    return sql, [json_path([k]) for k in keys]


@dataclass(frozen=True)
class Dimension:
    """One ``--by`` dimension: its name (the key in result rows) and SQL over ``calls``."""

    name: str
    sql: str
    params: tuple[str, ...] = ()
    description: str = ""


def _builtin() -> dict[str, Dimension]:
    key_sql, key_params = _tags_any(API_KEY_TAGS)
    project_sql, project_params = _tags_any(PROJECT_TAGS)
    team_sql, team_params = _tags_any(TEAM_TAGS)
    dims = [
        Dimension("provider", "provider_eff", description="provider (as logged, else priced)"),
        Dimension("model", "model", description="model name as logged"),
        Dimension(
            "priced_as", "model_key", description="pricing-table model the call was priced as"
        ),
        Dimension("user", "user_id", description="user id"),
        Dimension("feature", "feature", description="feature / route"),
        Dimension("session", "session_id", description="session or conversation id"),
        Dimension(
            "api_key",
            key_sql,
            tuple(key_params),
            "tags " + "/".join(API_KEY_TAGS),
        ),
        Dimension("project", project_sql, tuple(project_params), "tags " + "/".join(PROJECT_TAGS)),
        Dimension("team", team_sql, tuple(team_params), "tags " + "/".join(TEAM_TAGS)),
        Dimension("tier", "tier_wanted", description="service tier (standard, batch, flex, …)"),
        Dimension("status", "status", description="ok / error"),
        Dimension("finish_reason", "finish_reason", description="stop / length / …"),
        Dimension("token_source", "token_source", description="reported / counted / estimated"),
        Dimension("source", "source", description="the log file"),
    ]
    return {d.name: d for d in dims}


DIMENSIONS = _builtin()
_RESERVED = {
    *DIMENSIONS,
    "requests",
    "cost_usd",
    "share",
    "tokens",
    "day",
    "week",
    "month",
    "period",
}
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


# --------------------------------------------------------------------------------------
# Config: the `attribution:` section of llmcost.yaml
# --------------------------------------------------------------------------------------


def validate_section(value, fail) -> dict[str, list[list[str]]]:
    """``attribution: {name: path or [paths]}`` → {name: [[key, …], …]}."""
    from llmcost.yamlio import line_of

    if value is None:
        return {}
    if not isinstance(value, dict):
        fail(line_of(value), "attribution must map a dimension name to a metadata path")
    out: dict[str, list[list[str]]] = {}
    for name, spec in value.items():
        line = line_of(value, name)
        name = str(name)
        if name in DIMENSIONS and name not in OVERRIDABLE:
            fail(line, f"attribution: {name!r} is a built-in dimension read from the call itself")
        if not _NAME.match(name) or (name in _RESERVED and name not in OVERRIDABLE):
            fail(
                line,
                f"attribution: {name!r} is not a usable dimension name "
                "(lower-case letters, digits and _, not a report column)",
            )
        paths = spec if isinstance(spec, list) else [spec]
        if not paths or not all(isinstance(p, str) and p.strip() for p in paths):
            fail(
                line,
                f"attribution: {name} must be a metadata path like metadata.{name} "
                "(or a list of them)",
            )
        parsed = []
        for p in paths:
            parts = split_path(p)
            try:
                json_path(parts)
            except ValueError as exc:
                fail(line, f"attribution: {name}: path {p!r}: {exc}")
            parsed.append(parts)
        out[name] = parsed
    return out


def _register_section() -> None:
    from llmcost import config

    config.section("attribution")(validate_section)


_register_section()


def configured() -> dict[str, list[list[str]]]:
    """The ``attribution:`` section of the llmcost.yaml in use (``{}`` without one)."""
    from llmcost import config

    return config.load().get("attribution") or {}


def normalize_mapping(mapping) -> dict[str, list[list[str]]]:
    """An API/CLI mapping ``{name: "metadata.x" | [paths]}`` validated like the config."""
    if not mapping:
        return {}
    if all(isinstance(v, list) and v and isinstance(v[0], list) for v in mapping.values()):
        return mapping  # already parsed (from the config loader)

    def fail(line: int, message: str) -> None:
        raise UsageError(message, hint="e.g. attribution={'team': 'metadata.team'}")

    return validate_section(dict(mapping), fail)


def _mapped_sql(paths: list[list[str]]) -> str:
    exprs = [f"(tags ->> {_sql_literal(json_path(p))})" for p in paths]
    return exprs[0] if len(exprs) == 1 else "coalesce(" + ", ".join(exprs) + ")"


def calls_columns(mapping: dict[str, list[list[str]]] | None) -> str:
    """The select list of the ``calls`` view: ``*``, with mapped user/feature/session filled
    in where the log had none (a view cannot hold parameters: the paths are quoted literals)."""
    replace = [
        f"coalesce({column}, {_mapped_sql(mapping[name])}) AS {column}"
        for name, column in CANONICAL.items()
        if mapping and name in mapping
    ]
    return "*" if not replace else "* REPLACE (" + ", ".join(replace) + ")"


# --------------------------------------------------------------------------------------
# Dimensions
# --------------------------------------------------------------------------------------


def parse_by(by: str | Iterable[str] | None) -> list[str]:
    """``"user,model"`` or ``["user", "tag:team"]`` → ``["user", "model", "tag:team"]``."""
    if not by:
        return []
    items = [by] if isinstance(by, str) else by
    if not isinstance(items, Iterable) or not all(isinstance(i, str) for i in items):
        raise UsageError(
            f"by must be dimension names, not {by!r}",
            hint='e.g. by="user,feature" or by=["team", "tag:env"]',
        )
    out = []
    for item in items:
        for name in item.split(","):
            name = name.strip()
            if name and name not in out:
                out.append(name)
    if not out:  # '--by ,' or '--by " "': a table was asked for, of nothing
        raise UsageError(f"by names no dimension: {by!r}", hint="e.g. --by user,feature")
    return out


def dimension(name: str, mapping: dict[str, list[list[str]]] | None = None) -> Dimension:
    """The Dimension for a ``--by`` name; UsageError naming the known ones otherwise."""
    mapping = mapping or {}
    if name.startswith("tag:"):
        key = name[4:]
        try:
            path = json_path([key])
        except ValueError:
            raise UsageError(
                f"--by {name}: {key!r} is not a usable tag key",
                hint="name one top-level key of the log's metadata, e.g. --by tag:team",
            ) from None
        return Dimension(name, "tags ->> ?", (path,), f"tag {key}")
    if name in mapping and name not in CANONICAL:
        paths = mapping[name]
        sql = "coalesce(" + ", ".join("tags ->> ?" for _ in paths) + ")"
        return Dimension(name, sql, tuple(json_path(p) for p in paths), "from llmcost.yaml")
    if name in DIMENSIONS:
        return DIMENSIONS[name]
    known = ", ".join([*DIMENSIONS, *(k for k in mapping if k not in DIMENSIONS)])
    hint = f"use one of: {known}, or tag:KEY for a key of the log's metadata"
    if name in ("day", "week", "month", "date", "hour"):
        hint = "for time buckets use --period daily|weekly|monthly"
    raise UsageError(f"unknown --by dimension {name!r}", hint=hint)


def check_period(period: str | None, breakdown: bool) -> str | None:
    if period is not None:
        period = period.value if isinstance(period, Period) else str(period)
        if period not in _PERIODS:
            raise UsageError(
                f"unknown period {period!r}", hint="use --period daily, weekly or monthly"
            )
    if breakdown and period is None:
        raise UsageError(
            "--breakdown splits each period by model: it needs --period",
            hint="e.g. --period daily --breakdown",
        )
    return period


@dataclass
class Request:
    """What attribution views a report asked for (validated)."""

    by: list[Dimension] = field(default_factory=list)
    period: str | None = None
    breakdown: bool = False
    mapping: dict[str, list[list[str]]] = field(default_factory=dict)

    @property
    def sessions(self) -> bool:
        return any(d.name == "session" for d in self.by)


def request(by=None, period=None, breakdown: bool = False, mapping=None) -> Request:
    """Validate the options (before any ingest, so a typo fails fast)."""
    mapping = normalize_mapping(mapping)
    dims = [dimension(name, mapping) for name in parse_by(by)]
    return Request(dims, check_period(period, breakdown), bool(breakdown), mapping)


# --------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------


def _rows(con, sql: str, params: Sequence = ()) -> list[dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


# A group's failed calls whose log has no usage (the summary's error_unknown_token_requests):
# an error before any token was processed is not billed, and a total's line leaves them out
# of its calls 'without token counts' (budgets.uncosted_calls).
FAILED_WITHOUT_USAGE = "status = 'error' AND is_priced AND input_tokens IS NULL"


def without_tokens(no_tokens: str) -> str:
    """SQL of a group's calls 'without tokens' (``no_tokens``: a priced model's calls without
    token counts) as a total's line counts them: not the failed ones without usage, so that a
    row of $1.40 and a rate-limited call reads '$1.40' as the total does, not '$1.40 + 1
    without tokens'; but a group of such calls only (no cost, no unpriced call) keeps them,
    the reason its cost is unknown ('no tokens', never 'unpriced')."""
    return f"""CASE WHEN sum(cost_usd) IS NULL AND count(*) FILTER (WHERE NOT is_priced) = 0
      THEN count(*) FILTER (WHERE {no_tokens})
      ELSE count(*) FILTER (WHERE {no_tokens} AND NOT coalesce({FAILED_WITHOUT_USAGE}, FALSE))
      END"""


def merged_without_tokens(groups: Iterable[dict]) -> int:
    """``without_tokens`` of the union of ``groups`` (each counted by it, with its
    ``error_unknown_token_requests``): the count of a row that sums rows, such as the earlier
    days of Cost by day or a table's '(N more)', so that it reads as one group of their calls
    would. A group of failed calls without usage only kept them; beside another group's cost
    or unpriced call they are not billed, and no call 'without tokens'."""
    groups = list(groups)
    kept = [g for g in groups if g.get("cost_usd") is None and not g.get("unpriced_requests")]
    unknown = sum(g.get("unknown_token_requests") or 0 for g in groups)
    if len(kept) == len(groups):  # no cost and no unpriced call in any: they are the reason
        return unknown
    return unknown - sum(g.get("error_unknown_token_requests") or 0 for g in kept)


# A group's counts, which the rows that a table leaves out add up on its '(N more)' row.
COUNTS = (
    "requests",
    "unpriced_requests",
    "unknown_token_requests",
    "error_unknown_token_requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


def rest_of(rows: Sequence[dict]) -> dict:
    """The groups a table leaves out (rows of ``_MEASURES``, or by_model's), summed as one
    group is: its counts (those the rows have), and a cost and share that are None when no
    row of them has one (rows of unpriced calls only: no cost, never $0). Its calls without
    tokens are counted as ``without_tokens`` counts a group's (``merged_without_tokens``): a
    row of failed calls without usage only (no cost, no unpriced call) counts them, the reason
    it has no cost; beside a cost or an unpriced call they are not billed, and not 'without
    tokens' (as a row's are not)."""
    out = {k: sum(x.get(k) or 0 for x in rows) for k in COUNTS if any(k in x for x in rows)}
    for k in ("cost_usd", "share"):
        known = [x[k] for x in rows if x.get(k) is not None]
        out[k] = sum(known) if known else None
    if "unknown_token_requests" in out:
        out["unknown_token_requests"] = merged_without_tokens(rows)
    return out


_MEASURES = f"""count(*) AS requests,
  count(*) FILTER (WHERE NOT is_priced) AS unpriced_requests,
  {without_tokens("is_priced AND input_tokens IS NULL")} AS unknown_token_requests,
  count(*) FILTER (WHERE {FAILED_WITHOUT_USAGE}) AS error_unknown_token_requests,
  coalesce(sum(input_tokens), 0) AS input_tokens,
  coalesce(sum(output_tokens), 0) AS output_tokens,
  coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
  coalesce(sum(coalesce(cache_write_tokens, 0) + coalesce(cache_write_1h_tokens, 0)), 0)
    AS cache_write_tokens,
  coalesce(sum(reasoning_tokens), 0) AS reasoning_tokens,
  sum(cost_usd) AS cost_usd"""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def by_dimensions(con, dims: Sequence[Dimension]) -> list[dict]:
    """Cost, calls and tokens per combination of ``dims``, most expensive first.

    ``cost_usd`` is None for a group with no priced call (never $0); ``unpriced_requests``
    counts the calls of models without a price in each group.
    """
    select = ", ".join(f"{d.sql} AS {_quote(d.name)}" for d in dims)
    params = [p for d in dims for p in d.params]
    keys = ", ".join(f"{_quote(d.name)} NULLS LAST" for d in dims)
    return _rows(
        con,
        f"""SELECT {select}, {_MEASURES},
              sum(cost_usd) / nullif((SELECT sum(cost_usd) FROM calls), 0) AS share
            FROM calls GROUP BY ALL
            ORDER BY cost_usd DESC NULLS LAST, requests DESC, {keys}""",
        params,
    )


def periods(con, period: str, breakdown: bool = False) -> dict:
    """Calls per calendar period (session time zone) with totals; ``breakdown`` adds the
    models of each period, most expensive first. Calls without a timestamp are counted apart."""
    unit, label, step = _PERIODS[period]
    bucket = f"CAST(date_trunc('{unit}', ts) AS DATE)"
    models_cte = models_col = models_join = ""
    if breakdown:
        models_cte = f""", m AS (
              SELECT {bucket} AS start, provider_eff AS provider, model, {_MEASURES}
              FROM calls WHERE ts IS NOT NULL GROUP BY ALL),
            ml AS (
              SELECT start, list({{'provider': provider, 'model': model, 'requests': requests,
                  'unpriced_requests': unpriced_requests,
                  'unknown_token_requests': unknown_token_requests,
                  'error_unknown_token_requests': error_unknown_token_requests,
                  'input_tokens': input_tokens,
                  'output_tokens': output_tokens, 'cache_read_tokens': cache_read_tokens,
                  'cache_write_tokens': cache_write_tokens, 'reasoning_tokens': reasoning_tokens,
                  'cost_usd': cost_usd}}
                  ORDER BY cost_usd DESC NULLS LAST, requests DESC, model) AS models
              FROM m GROUP BY start)"""
        models_col = ", ml.models"
        models_join = "LEFT JOIN ml USING (start)"
    rows = _rows(
        con,
        f"""WITH p AS (
              SELECT {bucket} AS start, {_MEASURES}
              FROM calls WHERE ts IS NOT NULL GROUP BY 1){models_cte}
            SELECT strftime(start, '{label}') AS period, start,
              CAST(start + {step} AS DATE) AS "end", p.* EXCLUDE (start){models_col}
            FROM p {models_join} ORDER BY start""",
    )
    totals = _rows(con, f"SELECT {_MEASURES} FROM calls WHERE ts IS NOT NULL")[0]
    return {
        "period": period,
        "timezone": con.execute("SELECT current_setting('TimeZone')").fetchone()[0],
        "week_starts": "Monday (ISO 8601 weeks)" if period == "weekly" else None,
        "rows": rows,
        "totals": totals,
        "requests_without_timestamp": con.execute(
            "SELECT count(*) FROM calls WHERE ts IS NULL"
        ).fetchone()[0],
    }


def sessions(con, top: int) -> dict:
    """Cost per session (where the logs carry a session/conversation id): the most expensive,
    the longest by calls and by duration (first to last call start). A session's cost is its
    priced calls' (``unpriced_requests`` are not in it); a session of unpriced calls only has
    no cost and is left out of the average and median (``unpriced_sessions``)."""
    base = """SELECT session_id,
          arg_min(user_id, ts) AS user_id, arg_min(feature, ts) AS feature,
          count(*) AS requests, count(*) FILTER (WHERE NOT is_priced) AS unpriced_requests,
          sum(cost_usd) AS cost_usd,
          coalesce(sum(input_tokens), 0) AS input_tokens,
          coalesce(sum(output_tokens), 0) AS output_tokens,
          min(ts) AS first_ts, max(ts) AS last_ts,
          (epoch_ms(max(ts)) - epoch_ms(min(ts))) / 1000.0 AS duration_s,
          list(DISTINCT model ORDER BY model) AS models
        FROM calls WHERE session_id IS NOT NULL GROUP BY session_id"""
    stats = _rows(
        con,
        f"""WITH s AS ({base})
            SELECT count(*) AS sessions, coalesce(sum(requests), 0) AS requests,
              coalesce(sum(unpriced_requests), 0) AS unpriced_requests,
              count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_sessions,
              sum(cost_usd) AS cost_usd, avg(cost_usd) AS avg_cost_usd,
              median(cost_usd) AS median_cost_usd, avg(requests) AS avg_requests,
              avg(duration_s) AS avg_duration_s
            FROM s""",
    )[0]
    stats["requests_without_session"] = con.execute(
        "SELECT count(*) FROM calls WHERE session_id IS NULL"
    ).fetchone()[0]

    def top_by(order: str) -> list[dict]:
        return _rows(
            con,
            f"WITH s AS ({base}) SELECT * FROM s ORDER BY {order}, session_id LIMIT ?",
            [top],
        )

    return {
        **stats,
        "most_expensive": top_by("cost_usd DESC NULLS LAST"),
        "most_calls": top_by("requests DESC, cost_usd DESC NULLS LAST"),
        "longest": top_by("duration_s DESC NULLS LAST, requests DESC"),
    }


def request_for(options) -> Request:
    """The attribution views a report's ``Options`` ask for, validated. The field mapping is
    ``options.attribution`` when set, else the ``attribution:`` section of llmcost.yaml (then
    remembered on ``options``, so the file is read once)."""
    mapping = getattr(options, "attribution", None)
    if mapping is None:
        mapping = configured()
    req = request(
        getattr(options, "by", None),
        getattr(options, "period", None),
        bool(getattr(options, "breakdown", False)),
        mapping,
    )
    if hasattr(options, "attribution"):
        options.attribution = req.mapping
    return req
