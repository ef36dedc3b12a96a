"""The Python API: ``import llmcost``.

    >>> import llmcost
    >>> report = llmcost.analyze(["sample_logs/demo.jsonl"], by="feature")
    >>> report.total_cost_usd                          # the same numbers as --format json
    >>> cost = llmcost.price("gpt-4o", {"prompt_tokens": 1200, "completion_tokens": 300})
    >>> cost.total                                     # Decimal('0.006000000000')
    >>> llmcost.count_tokens("How do I rotate an API key?", "gpt-4o")
    >>> book = llmcost.load_pricing(["my-prices.yaml"])

Nothing here imports Typer or Rich: the command line is a thin layer over these functions.
Errors are ``llmcost.errors.LlmcostError`` subclasses with a ``message`` and a ``hint``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from llmcost import _API
from llmcost.errors import LlmcostError, UsageError
from llmcost.render import plural

if TYPE_CHECKING:
    import polars as pl

    from llmcost.export import ExportResult
    from llmcost.pricing import PriceBook

PathLike = Union[str, Path]
When = Union[dt.datetime, dt.date, str, None]

__all__ = list(_API)  # the names llmcost re-exports (llmcost/__init__.py), listed once


class UnpricedModelError(LlmcostError):
    """No price row for the model (unknown name, or no price in force on the date)."""


# --------------------------------------------------------------------------------------
# analyze
# --------------------------------------------------------------------------------------


class Report(Mapping[str, Any]):
    """The report of ``analyze``: the JSON object ``llmcost analyze --format json`` prints,
    as a read-only mapping, with attributes for the main numbers.

    ``report["summary"]["total_cost_usd"]`` and ``report.total_cost_usd`` are the same number;
    ``report.to_dict()`` is a fresh copy equal to the parsed CLI JSON. Every top-level key is
    also an attribute (``report.cache``, ``report.downgrade``); views that were not asked for
    (``attribution``, ``periods``, ``sessions``) are None.
    """

    def __init__(self, data: Mapping[str, Any]):
        # JSON types only (what the CLI prints), so the mapping and to_dict() agree.
        self._text = json.dumps(data, default=str, ensure_ascii=False)
        self._data: dict[str, Any] = json.loads(self._text)

    def to_dict(self) -> dict[str, Any]:
        """A copy of the report as plain JSON types (equal to the CLI's ``--format json``)."""
        return json.loads(self._text)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self._data, indent=indent, ensure_ascii=False)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._data:
            return self._data[name]
        if name in ("attribution", "periods", "sessions"):
            return None
        raise AttributeError(f"the report has no {name!r} (keys: {', '.join(self._data)})")

    @property
    def summary(self) -> dict[str, Any]:
        return self._data["summary"]

    @property
    def total_cost_usd(self) -> float | None:
        """Total cost of the priced calls, in USD (unpriced calls are not counted as $0);
        None when there are calls and none of them has a cost (unknown, not $0)."""
        return self.summary["total_cost_usd"]

    @property
    def requests(self) -> int:
        return self.summary["requests"]

    @property
    def priced_requests(self) -> int:
        return self.summary["priced_requests"]

    @property
    def unpriced_requests(self) -> int:
        return self.summary["unpriced_requests"]

    @property
    def by_model(self) -> list[dict[str, Any]]:
        return self._data["by_model"]

    @property
    def by_day(self) -> list[dict[str, Any]]:
        return self._data["by_day"]

    @property
    def unpriced_models(self) -> list[dict[str, Any]]:
        return self._data["unpriced_models"]

    @property
    def rejected(self) -> dict[str, Any]:
        return self._data["rejected"]

    def __repr__(self) -> str:
        return (
            f"<Report {plural(self.requests, 'call')}, "
            + ("cost unknown" if self.total_cost_usd is None else f"${self.total_cost_usd:,.2f}")
            + f", {self.unpriced_requests:,} unpriced>"
        )


def _window(since: When, until: When) -> dict[str, dt.datetime | None]:
    """``since`` and ``until`` read (``_when``) and checked as the commands check them."""
    from llmcost.periods import check_order

    start, end = _when(since, "since"), _when(until, "until")
    check_order(start, end, str(since), str(until), names=("since", "until"))
    return {"since": start, "until": end}


def _when(value: When, what: str) -> dt.datetime | None:
    """A datetime (naive = UTC), a date (its midnight, UTC) or an ISO 8601 string."""
    if value is None:
        return None
    if isinstance(value, str):  # read as a log's time is; without an offset, UTC
        from llmcost.timestamps import read_time

        return read_time(value, what)
    if not isinstance(value, dt.datetime):
        if isinstance(value, dt.date):
            value = dt.datetime(value.year, value.month, value.day)
        else:
            raise UsageError(f"{what} must be a datetime, a date or an ISO 8601 string")
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _day(value: dt.date | str | None, what: str) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise UsageError(f"{what} {value!r} is not a date", hint="e.g. 2026-11-01") from None


def _mapping(attribution: Any) -> dict | None:
    """``attribution=``: a mapping of dimension names to metadata paths, or None."""
    if attribution is None:
        return None
    if not isinstance(attribution, Mapping):
        raise UsageError(
            f"attribution must map dimension names to metadata paths, "
            f"not {type(attribution).__name__}",
            hint="e.g. attribution={'team': 'metadata.team'}",
        )
    return dict(attribution)


def _paths(paths: PathLike | Iterable[PathLike] | None) -> list[str]:
    if paths is None:
        return []
    if isinstance(paths, (str, Path)):
        return [str(paths)]
    return [str(p) for p in paths]


def analyze(
    paths: PathLike | Iterable[PathLike] | None,
    *,
    db: PathLike | None = None,
    pricing: PathLike | Iterable[PathLike] = (),
    input_format: str | None = None,
    since: When = None,
    until: When = None,
    top: int = 10,
    as_of: dt.date | str | None = None,
    by: str | Sequence[str] | None = None,
    period: str | None = None,
    breakdown: bool = False,
    attribution: Mapping[str, str | Sequence[str]] | None = None,
    on_file: Callable[..., None] | None = None,
    **more: Any,
) -> Report:
    """Read the logs at ``paths`` (files, directories, globs), price every call, and return
    the report — the same numbers as ``llmcost analyze --format json``.

    - ``db``: a DuckDB file to ingest into (calls already there are kept; ``paths`` may then
      be empty). Default: in memory.
    - ``pricing``: extra pricing YAML files overriding the built-in tables.
    - ``since`` / ``until``: the window ``[since, until)``; datetimes, dates or ISO strings
      (no zone: UTC).
    - ``by``: attribution dimensions, e.g. ``"user"``, ``"feature,model"``,
      ``["team", "tag:env"]`` (adds ``report.attribution``; ``session`` adds
      ``report.sessions``). ``period``: ``"daily"``, ``"weekly"`` or ``"monthly"`` (adds
      ``report.periods``); ``breakdown=True`` splits each period by model.
    - ``attribution``: where user/feature/… come from in the logs' metadata, e.g.
      ``{"feature": "metadata.route", "team": "metadata.team"}``. Default: the
      ``attribution:`` section of ./llmcost.yaml (or $LLMCOST_CONFIG) when there is one.
    - ``on_file``: called with each file's ingest result (lines read, calls, rejected).
    - other keyword options are passed to the report core unchanged.
    """
    from llmcost.report import analyze as core

    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise UsageError(f"top must be a whole number ≥ 1, not {top!r}", hint="e.g. top=10")
    if not _paths(paths) and db is None:  # as the CLI and calls() say
        raise UsageError("nothing to analyze", hint="name log files, or db= for stored calls")
    data = core(
        _paths(paths),
        db=db,
        pricing=[Path(p) for p in _paths(pricing)],
        input_format=input_format,
        **_window(since, until),
        top=top,
        as_of=_day(as_of, "as_of"),
        by=by,
        period=period,
        breakdown=breakdown,
        attribution=_mapping(attribution),
        on_file=on_file,
        **more,
    )
    return Report(data)


def export_calls(
    paths: PathLike | Iterable[PathLike] | None,
    output: PathLike,
    format: str | None = None,
    *,
    db: PathLike | None = None,
    pricing: PathLike | Iterable[PathLike] = (),
    input_format: str | None = None,
    since: When = None,
    until: When = None,
    attribution: Mapping[str, str | Sequence[str]] | None = None,
    overwrite: bool = False,
    on_file: Callable[..., None] | None = None,
) -> ExportResult:
    """Write one row per call (canonical columns, the price row used, the cost split) to
    ``output`` as CSV, Parquet or JSON lines (``format``, else told by the extension). A
    directory gets Parquet partitioned by day (``day=YYYY-MM-DD/``). What ``llmcost export``
    does. (Not ``llmcost.export``: that name is the module ``llmcost.export``.)"""
    from llmcost.export import export as core

    return core(
        _paths(paths),
        output,
        format,
        db=db,
        pricing=_paths(pricing),
        input_format=input_format,
        **_window(since, until),
        attribution=_mapping(attribution),
        overwrite=overwrite,
        on_file=on_file,
    )


def calls(
    paths: PathLike | Iterable[PathLike] | None,
    *,
    db: PathLike | None = None,
    pricing: PathLike | Iterable[PathLike] = (),
    input_format: str | None = None,
    since: When = None,
    until: When = None,
    attribution: Mapping[str, str | Sequence[str]] | None = None,
) -> pl.DataFrame:
    """Every call as a Polars DataFrame: the rows ``export`` writes (costs as exact
    ``Decimal(38, 12)``), for a notebook."""
    from llmcost import report
    from llmcost.export import prepare_calls, select_sql

    options = report.Options(
        paths=_paths(paths),
        db=Path(db) if db else None,
        pricing=[Path(p) for p in _paths(pricing)],
        input_format=input_format,
        **_window(since, until),
        attribution=_mapping(attribution),
    )
    if not options.paths and db is None:
        raise UsageError("nothing to read", hint="name log files, or db= for stored calls")
    con = prepare_calls(options)
    try:
        return con.sql(select_sql(con, text_times=False)).pl()
    finally:
        con.close()


# --------------------------------------------------------------------------------------
# pricing
# --------------------------------------------------------------------------------------


def load_pricing(
    overlays: PathLike | Iterable[PathLike] = (), table_dir: PathLike | None = None
) -> PriceBook:
    """The built-in pricing tables, then each overlay file (its models replace same-named
    ones): what ``--pricing`` does. ``table_dir`` replaces the built-in tables' folder."""
    from llmcost.pricing import load_pricing as core

    return core(
        [Path(p) for p in _paths(overlays)], Path(table_dir) if table_dir is not None else None
    )


@functools.lru_cache(maxsize=1)
def _default_book() -> PriceBook:
    return load_pricing()


def _book(pricing: PriceBook | PathLike | Iterable[PathLike] | None) -> PriceBook:
    from llmcost.pricing import PriceBook

    if pricing is None:
        return _default_book()
    if isinstance(pricing, PriceBook):
        return pricing
    return load_pricing(pricing)


@dataclass(frozen=True)
class Cost:
    """What one call costs: exact decimal USD parts, the tokens as normalized, and the
    price row used. ``input`` is the uncached input; ``total`` = input + cache_read +
    cache_write + output + per_request."""

    model: str
    provider: str | None  # as given, else inferred from the model name
    model_key: str  # the pricing-table model it was priced as
    priced_provider: str
    resolution: str  # how the name was matched, e.g. "snapshot/alias suffix removed: gpt-4o"
    at: dt.datetime
    service_tier: str  # wanted
    price_tier: str  # the tier of the price row used
    pricing_version: str
    price_from: dt.date  # the date the price row took effect
    price_above_tokens: int  # long-context threshold of the row (0: base prices)
    price_source: str
    usage_style: str  # openai_chat | openai_responses | anthropic | gemini | generic
    input_tokens: int  # ALL input, cache reads and writes included
    cache_read_tokens: int
    cache_write_tokens: int
    cache_write_1h_tokens: int
    output_tokens: int  # ALL output, reasoning included
    reasoning_tokens: int
    # the audio parts of input, cache reads and output (billed at the audio prices)
    input_audio_tokens: int
    cache_read_audio_tokens: int
    output_audio_tokens: int
    input: Decimal
    cache_read: Decimal
    cache_write: Decimal
    output: Decimal
    per_request: Decimal
    search: Decimal  # server-side web searches x the row's per-search fee
    total: Decimal

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


_PRICE_SQL = """
WITH a AS (SELECT CAST(? AS JSON) AS u, CAST(? AS VARCHAR) AS forced),
r AS (SELECT *, {raw} AS u_raw FROM a),
b AS (SELECT u, u_raw, coalesce(forced, {auto}) AS usage_style, {tokens} AS u_tok FROM r)
SELECT usage_style, {input}, {cache_read}, {cache_write}, {cache_write_1h}, {output},
  {reasoning}, {input_audio}, {cache_read_audio}, {output_audio}, {web_search},
  {inference_geo}, {speed}, {bad}
FROM b
"""


def _usage_json(usage: Any) -> str:
    if isinstance(usage, (str, bytes)):
        try:
            usage = json.loads(usage)
        except ValueError:
            raise UsageError(
                "usage is not valid JSON", hint="pass a dict of token counts"
            ) from None
    elif hasattr(usage, "model_dump"):  # OpenAI / Anthropic / google-genai SDK objects
        usage = usage.model_dump(mode="json", by_alias=True)
    elif hasattr(usage, "to_dict") and callable(usage.to_dict):
        usage = usage.to_dict()
    if not isinstance(usage, Mapping):
        raise UsageError(
            f"usage must be a mapping of token counts, got {type(usage).__name__}",
            hint='e.g. {"prompt_tokens": 1200, "completion_tokens": 300}',
        )
    try:
        return json.dumps(dict(usage))
    except (TypeError, ValueError):
        raise UsageError("usage holds values that are not JSON") from None


def normalize_usage(usage: Any, style: str | None = None) -> dict[str, Any]:
    """A provider's usage object → the canonical token columns, with the SQL the log
    reader uses (``llmcost.formats.usage``), run in an in-memory DuckDB."""
    import duckdb

    from llmcost.formats.sql import install_macros

    con = duckdb.connect()
    try:
        install_macros(con)
        return _normalize(con, usage, style)
    finally:
        con.close()


def _normalize(con, usage: Any, style: str | None) -> dict[str, Any]:
    """``normalize_usage`` on a connection that has the log reader's macros."""
    from llmcost.formats.usage import (
        AUTO_STYLE_SQL,
        STYLES,
        bad_field_sql,
        column_sql,
        modifier_sql,
        tokens_sql,
        usage_strings_sql,
    )

    if style is not None and style not in STYLES:
        raise UsageError(f"unknown usage style {style!r}", hint=f"use one of: {', '.join(STYLES)}")
    fields = ("input", "cache_read", "cache_write", "cache_write_1h", "output", "reasoning")
    fields += ("input_audio", "cache_read_audio", "output_audio")
    sql = _PRICE_SQL.format(
        auto=AUTO_STYLE_SQL,
        raw=usage_strings_sql(),
        tokens=tokens_sql("u_raw"),
        bad=bad_field_sql(raw="u_raw"),
        **{f: column_sql(f) for f in (*fields, "web_search")},
        inference_geo=modifier_sql("inference_geo"),
        speed=modifier_sql("speed"),
    )
    row = con.execute(sql, [_usage_json(usage), style]).fetchone()
    if row[-1] is not None:
        raise UsageError(row[-1], hint="token counts must be non-negative integers")
    out = {"usage_style": row[0]}
    for name, value in zip(fields, row[1:-4]):
        out[f"{name}_tokens"] = value
    # what else of the usage prices the call: server-side web searches (a fee per search),
    # where and how it ran (Anthropic's inference_geo, speed: multipliers of the row)
    out["web_search_requests"], out["inference_geo"], out["speed"] = row[-4:-1]
    return out


_TIERS = ("standard", "batch", "flex", "priority")


def price(
    model: str,
    usage: Any,
    at: When = None,
    *,
    provider: str | None = None,
    service_tier: str | None = None,
    style: str | None = None,
    pricing: PriceBook | PathLike | Iterable[PathLike] | None = None,
) -> Cost:
    """What one call of ``model`` with ``usage`` costs at time ``at`` (default: now).

    ``usage`` is the usage object in any provider's style, as a dict, a JSON string or an SDK
    object: OpenAI Chat (``prompt_tokens``, ``prompt_tokens_details.cached_tokens``),
    OpenAI Responses, Anthropic (``input_tokens`` + ``cache_read_input_tokens`` +
    ``cache_creation_input_tokens``), Gemini (``promptTokenCount``, ``thoughtsTokenCount``)
    or canonical (``input_tokens``, ``cache_read_tokens``, …). It is normalized exactly as
    the log reader does (told by its keys, or ``style``), then priced with the price row in
    force on ``at``'s date — the same SQL as ``analyze``. Audio counts
    (``prompt_tokens_details.audio_tokens``, Gemini's AUDIO modality, …) are billed at the
    model's audio prices.

    ``service_tier``: standard (default), batch, flex or priority. ``pricing``: a PriceBook
    from ``load_pricing`` or overlay YAML paths. Raises ``UnpricedModelError`` when no price
    applies, ``UsageError`` for a bad usage object.
    """
    from llmcost import costing, store
    from llmcost.formats.sql import install_macros

    if not isinstance(model, str) or not model.strip():
        raise UsageError("model must be a model name, e.g. 'gpt-4o'")
    when = _when(at, "at") or dt.datetime.now(dt.timezone.utc)
    book = _book(pricing)
    con = store.connect(None)
    try:
        install_macros(con)
        tokens = _normalize(con, usage, style)
        if tokens["input_tokens"] is None:
            raise UsageError(
                "usage has no input token count",
                hint="give prompt_tokens / input_tokens / promptTokenCount",
            )
        logged_provider = (provider or "").strip().lower() or con.execute(
            "SELECT llm_provider_of(?)", [model]
        ).fetchone()[0]
        if service_tier is not None:
            tier = con.execute("SELECT llm_tier(?)", [str(service_tier)]).fetchone()[0]
            if tier not in _TIERS:  # the log reader's names, read by the same macro
                raise UsageError(
                    f"unknown service tier {service_tier!r}",
                    hint=f"use one of: {', '.join(_TIERS)}",
                )
        con.execute(
            """INSERT INTO requests (request_id, ts, provider, model, input_tokens,
                 cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens,
                 reasoning_tokens, input_audio_tokens, cache_read_audio_tokens,
                 output_audio_tokens, token_source, service_tier, web_search_requests,
                 inference_geo, speed)
               VALUES ('price', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'reported', llm_tier(?),
                       ?, ?, ?)""",
            [
                when,
                logged_provider,
                model,
                tokens["input_tokens"],
                tokens["cache_read_tokens"],
                tokens["cache_write_tokens"],
                tokens["cache_write_1h_tokens"],
                tokens["output_tokens"],
                tokens["reasoning_tokens"],
                tokens["input_audio_tokens"],
                tokens["cache_read_audio_tokens"],
                tokens["output_audio_tokens"],
                service_tier,
                tokens["web_search_requests"],
                tokens["inference_geo"],
                tokens["speed"],
            ],
        )
        costing.prepare(con, book)
        cur = con.execute(
            """SELECT p.*, m.how FROM priced p LEFT JOIN model_map m
                 ON m.model = p.model AND m.logged_provider IS NOT DISTINCT FROM p.provider"""
        )
        names = [d[0] for d in cur.description]
        row = dict(zip(names, cur.fetchone()))
    finally:
        con.close()
    if row["cost_usd"] is None:
        why = (
            row["how"]
            if row["model_key"] is None
            else f"{row['model_key']} has no price in force on {when.date().isoformat()}"
        )
        raise UnpricedModelError(
            f"no price for {model!r}: {why}",
            hint="check the name (llmcost pricing), or add it with a pricing overlay file",
        )
    zero = Decimal(0)
    return Cost(
        model=model,
        provider=row["provider"],
        model_key=row["model_key"],
        priced_provider=row["priced_provider"],
        resolution=row["how"],
        at=when,
        service_tier=row["tier_wanted"],
        price_tier=row["price_tier"],
        pricing_version=row["pricing_version"],
        price_from=row["price_from"],
        price_above_tokens=row["price_above_tokens"],
        price_source=row["price_source"],
        usage_style=tokens["usage_style"],
        input_tokens=row["input_tokens"],
        cache_read_tokens=row["cache_read_tokens"] or 0,
        cache_write_tokens=row["cache_write_tokens"] or 0,
        cache_write_1h_tokens=row["cache_write_1h_tokens"] or 0,
        output_tokens=row["output_tokens"] or 0,
        reasoning_tokens=row["reasoning_tokens"] or 0,
        input_audio_tokens=row["input_audio_tokens"] or 0,
        cache_read_audio_tokens=row["cache_read_audio_tokens"] or 0,
        output_audio_tokens=row["output_audio_tokens"] or 0,
        input=row["cost_input"] if row["cost_input"] is not None else zero,
        cache_read=row["cost_cache_read"] if row["cost_cache_read"] is not None else zero,
        cache_write=row["cost_cache_write"] if row["cost_cache_write"] is not None else zero,
        output=row["cost_output"] if row["cost_output"] is not None else zero,
        per_request=row["per_request"] if row["per_request"] is not None else zero,
        search=row["cost_search"] if row["cost_search"] is not None else zero,
        total=row["cost_usd"],
    )


# --------------------------------------------------------------------------------------
# tokens
# --------------------------------------------------------------------------------------


class TokenCount(int):
    """A token count (an ``int``) that also says how it was obtained: ``encoding`` is the
    tiktoken encoding used, ``source`` is 'counted' (the model's own tokenizer) or
    'estimated' (a model whose tokenizer is not public: o200k_base times a family factor).
    ``reasoning``: the model bills hidden reasoning tokens as output, which no text shows (an
    answer's count is a lower bound of its output tokens)."""

    encoding: str
    source: str
    factor: float
    reasoning: bool

    def __new__(
        cls, value: int, encoding: str, source: str, factor: float = 1.0, reasoning: bool = False
    ):
        obj = super().__new__(cls, value)
        obj.encoding, obj.source, obj.factor, obj.reasoning = encoding, source, factor, reasoning
        return obj

    def __repr__(self) -> str:
        return f"TokenCount({int(self)}, encoding={self.encoding!r}, source={self.source!r})"

    def __str__(self) -> str:
        return str(int(self))


def count_tokens(
    text_or_messages: str | Sequence[Mapping[str, Any]],
    model: str,
    *,
    provider: str | None = None,
    pricing: PriceBook | PathLike | Iterable[PathLike] | None = None,
) -> TokenCount:
    """Tokens of a text, or the prompt tokens of a list of chat messages
    (``[{"role": "user", "content": "…"}]``, with the Chat Completions framing the API
    bills; or a Responses API ``input`` list, its function calls and outputs included), for
    ``model`` — offline, with the tokenizer ``analyze`` would use for it.

    OpenAI models are counted exactly with their encoding; other providers' tokenizers are
    not public, so their counts are estimates (see ``TokenCount.source``).
    """
    return _count_tokens(text_or_messages, model, provider=provider, pricing=pricing)


def _count_tokens(
    text_or_messages: str | Sequence[Mapping[str, Any]],
    model: str,
    *,
    provider: str | None = None,
    pricing: PriceBook | PathLike | Iterable[PathLike] | None = None,
    counted: dict[tuple[str, int | None], int] | None = None,
) -> TokenCount:
    """``count_tokens``, with ``counted`` a memo of raw counts of this same text by
    (encoding, reply priming) that it reads and fills: models that share an encoding count the
    text once (``llmcost tokens`` with five o200k_base models tokenized a 20 MB file five
    times)."""
    from llmcost import tokens

    if not isinstance(model, str) or not model.strip():
        raise UsageError("model must be a model name, e.g. 'gpt-4o'")
    book = _book(pricing)
    resolution = book.resolve(model, provider)
    encoding = None
    if resolution.priced:
        encoding = book.models[(resolution.provider, resolution.model_key)].encoding
    choice = tokens.encoding_for(model, encoding, provider or resolution.provider)
    if isinstance(text_or_messages, str):
        key = (choice.encoding, None)
    elif isinstance(text_or_messages, Sequence) and all(
        isinstance(m, Mapping) for m in text_or_messages
    ):
        key = (choice.encoding, choice.reply_priming)  # the framing differs with the priming
    else:
        raise UsageError(
            "count_tokens takes a string or a list of chat messages",
            hint='e.g. [{"role": "user", "content": "Hello"}]',
        )
    if counted is not None and key in counted:
        raw = counted[key]
    elif isinstance(text_or_messages, str):
        raw = tokens.count_texts([text_or_messages], choice.encoding, threads=1)[0]
    else:
        raw = tokens.chat_prompt_tokens(
            tokens.as_chat_messages(text_or_messages),
            choice.encoding,
            reply_priming=choice.reply_priming,
        )
    if counted is not None:
        counted[key] = raw
    # As the store fill does: estimates are the count times the factor, rounded half up.
    value = raw if choice.factor == 1.0 else math.floor(raw * choice.factor + 0.5)
    return TokenCount(value, choice.encoding, choice.token_source, choice.factor, choice.reasoning)
