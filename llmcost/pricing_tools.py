"""What ``llmcost pricing`` does, callable without the CLI: list the prices in force, show a
model's history, check tables, diff two versions of them (and what that does to a log's
bill), and import LiteLLM's community price map as an overlay in our schema."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from llmcost.errors import PricingError, UsageError
from llmcost.pricing import (
    FAR_FUTURE,
    MODIFIERS,
    PRICE_KEYS,
    TIERS,
    Model,
    PriceBook,
    PriceRow,
    Problem,
    Table,
    _date,
    _flatten,
    _modifier,
    default_table_dir,
    load_tables,
    merge,
    parse_table,
)

# --------------------------------------------------------------------------------------
# list / show
# --------------------------------------------------------------------------------------


def _prices(r: PriceRow) -> dict:
    out = {k: getattr(r, k) for k in PRICE_KEYS if getattr(r, k) is not None}
    if r.per_request:
        out["per_request"] = r.per_request
    if r.per_search is not None:
        out["per_search"] = r.per_search
    return out


def _plain_row(r: PriceRow) -> bool:
    """A row as the table writes it, not one scaled for a reported inference_geo/speed."""
    return r.inference_geo is None and r.speed is None


def _modifiers(model: Model, start: dt.date) -> dict[str, dict[str, float]]:
    """The ``inference_geo`` / ``speed`` multipliers of the model's price row from ``start``,
    as the table writes them (``{"inference_geo": {"us": 1.1}, "speed": {"fast": 6.0}}``)."""
    for row in model.prices:
        if _date(row["from"], model.file, row.line, "from") == start:
            found = {name: _modifier(row, name, model.file, model.key) for name in MODIFIERS}
            return {name: values for name, values in found.items() if values}
    return {}


def _modifiers_text(modifiers: dict[str, dict[str, float]]) -> str:
    return ", ".join(
        f"{value} x{factor:g}" for values in modifiers.values() for value, factor in values.items()
    )


def _flat(book: PriceBook, model: Model) -> list[PriceRow]:
    return _flatten(book.table_of(model), model, book.discount_for(model))


def _in_force(book: PriceBook, model: Model, on: dt.date) -> tuple[PriceRow, list[PriceRow]] | None:
    """The model's standard row in force on ``on`` (no service tier, long-context tier,
    off-peak window or usage modifier) and every row in force that day; None when the model
    has no price that day (a call then is unpriced)."""
    rows = [r for r in _flat(book, model) if r.valid_from <= on < r.valid_to]
    base = [
        r
        for r in rows
        if r.tier == "standard" and not r.above_input_tokens and not r.off_peak and _plain_row(r)
    ]
    return (base[0], rows) if base else None


def _variants(rows: list[PriceRow]) -> dict:
    """The tiers, long-context thresholds and off-peak windows beside the standard row."""
    return {
        "tiers": sorted({r.tier for r in rows} - {"standard"}, key=TIERS.index),
        "long_context_above": sorted({r.above_input_tokens for r in rows} - {0}),
        "off_peak": any(r.off_peak for r in rows),
    }


def in_force(book: PriceBook, on: dt.date, provider: str | None = None) -> list[dict]:
    """Every model's standard prices in force on ``on`` (models without a price that day are
    left out), with the tiers, long-context thresholds and off-peak windows it has."""
    out = []
    for (prov, key), model in sorted(book.models.items()):
        if provider and prov != provider.lower():
            continue
        found = _in_force(book, model, on)
        if found is None:
            continue
        row, rows = found
        discount = book.discount_for(model)
        out.append(
            {
                "provider": prov,
                "model": key,
                **_prices(row),
                "from": row.valid_from.isoformat(),
                **_variants(rows),
                "discount_pct": discount.percent if discount else 0.0,
                "source": model.source,
            }
        )
    return out


def price_on(book: PriceBook, provider: str, key: str, on: dt.date) -> dict:
    """The standard price a call to ``provider``/``key`` on ``on`` gets: the row in force
    that day (its effective dates and the file:line that writes it), the table version, the
    source and the tiers beside it. ``price`` is None when no row is in force that day (the
    call is unpriced), ``first`` and ``last`` then say when the model's prices start and
    end."""
    model = book.models[(provider, key)]
    flat = _flat(book, model)
    found = _in_force(book, model, on)
    out: dict = {
        "as_of": on.isoformat(),
        "price": None,
        "first": min(r.valid_from for r in flat).isoformat() if flat else None,
        "last": _plain_value(max(r.valid_to for r in flat)) if flat else None,
    }
    if found is None:
        return out
    row, rows = found
    line = next(
        (
            r.line
            for r in model.prices
            if _date(r["from"], model.file, r.line, "from") == row.valid_from
        ),
        model.line,
    )
    discount = book.discount_for(model)
    out["price"] = {
        **_prices(row),
        "from": row.valid_from.isoformat(),
        "to": _plain_value(row.valid_to),
        **_variants(rows),
        "discount_pct": discount.percent if discount else 0.0,
        "table_version": row.version,
        "defined_at": f"{model.file}:{line}",
        "source": model.source,
    }
    return out


def _window_text(windows) -> str:
    from llmcost.pricing import ALL_DAYS, DAYS

    parts = []
    for days, start, end in windows:
        span = f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d} UTC"
        if days != ALL_DAYS:
            span += " " + ",".join(d for i, d in enumerate(DAYS) if days >> i & 1)
        parts.append(span)
    return "; ".join(parts)


def show(book: PriceBook, name: str, provider: str | None = None) -> dict:
    """A model's resolution, history (every price row, tier, long-context and off-peak
    variant), aliases, source, note and any override that applies to it."""
    resolution = book.resolve(name, provider)
    if not resolution.priced:
        raise UsageError(
            f"no pricing table knows {name!r}",
            hint="see `llmcost pricing resolve NAME` for the names tried, `llmcost pricing list`",
        )
    model = book.models[(resolution.provider, resolution.model_key)]
    table = book.table_of(model)
    discount = book.discount_for(model)
    history = []
    for r in sorted(
        filter(_plain_row, _flat(book, model)),
        key=lambda r: (
            r.valid_from,
            TIERS.index(r.tier) + 1 if r.tier in TIERS else 0,
            r.above_input_tokens,
            bool(r.off_peak),
        ),
        reverse=True,
    ):
        history.append(
            {
                "from": r.valid_from.isoformat(),
                "to": None if r.valid_to == FAR_FUTURE else r.valid_to.isoformat(),
                "tier": r.tier,
                "above_input_tokens": r.above_input_tokens or None,
                "off_peak": _window_text(r.off_peak) if r.off_peak else None,
                **_prices(r),
                # every token price times this when the call's usage reports the value
                "modifiers": _modifiers(model, r.valid_from) or None,
            }
        )
    return {
        "name": name,
        "provider": model.provider,
        "model": model.key,
        "resolved_by": resolution.how,
        "aliases": model.aliases,
        "family": model.family,
        "downgrade_to": model.downgrade_to,
        "source": model.source,
        "defined_at": f"{model.file}:{model.defined_line or model.line}",
        "table_version": table.version,
        "long_context_counts_cache": bool(table.rules.get("long_context_counts_cache", True)),
        "note": model.note,
        "discount": (
            {"percent": discount.percent, "origin": discount.origin} if discount else None
        ),
        "history": history,
    }


# --------------------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------------------


@dataclass
class CheckResult:
    files: list[str] = field(default_factory=list)
    models: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def shipped_paths() -> list[Path]:
    return sorted(default_table_dir().glob("*.yaml"))


def check(
    paths: list[Path], shipped: bool = False, overlays: list[Path] | None = None
) -> CheckResult:
    """Validate tables: the schema (pricing/SCHEMA.md), dates that overlap, cache read above
    input, sources present (http(s) URLs in the shipped tables), one name meaning one model
    per provider; output below input is a warning. Every problem has its file:line.

    ``overlays`` (a user's tables, checked after ``paths``) are held to the rules of the
    tables they are: their sources need not be URLs (a contract), and a model of theirs that
    has a same-named model before it replaces it, as ``pricing.merge`` does, rather than
    being a second model of that name."""
    result = CheckResult(files=[str(p) for p in [*paths, *(overlays or [])]])
    tables, warnings = load_tables(paths, result.errors)
    layers, overlay_warnings = load_tables(overlays or [], result.errors)
    result.warnings.extend(warnings + overlay_warnings)
    owner: dict[tuple[str, str], Model] = {}
    for overlay, table in [*((False, t) for t in tables), *((True, t) for t in layers)]:
        try:
            dt.date.fromisoformat(table.version)
        except ValueError:
            result.warnings.append(
                Problem(table.file, 1, f"version {table.version!r} is not a date YYYY-MM-DD")
            )
        for model in table.models.values():
            result.models += 1
            if shipped and not overlay and not re.match(r"https?://", model.source):
                result.errors.append(
                    Problem(model.file, model.line, f"model {model.key!r}: source is not a URL")
                )
            if overlay:  # the model it replaces, and that model's names with it
                owner = {
                    name: m
                    for name, m in owner.items()
                    if (m.provider, m.key) != (model.provider, model.key)
                }
            for name in [model.key, *model.aliases]:
                other = owner.get((model.provider, name))
                if other is not None and other is not model:
                    result.errors.append(
                        Problem(
                            model.file,
                            model.line,
                            f"{model.provider} name {name!r} means both {other.key!r} "
                            f"({Path(other.file).name}:{other.line}) and {model.key!r}",
                        )
                    )
                owner[(model.provider, name)] = model
    result.errors.sort(key=lambda p: (p.file, p.line))
    result.warnings.sort(key=lambda p: (p.file, p.line))
    return result


# --------------------------------------------------------------------------------------
# diff
# --------------------------------------------------------------------------------------


def _repo_root() -> Path:
    return default_table_dir().parent


def load_version(spec: str | Path | None) -> tuple[list[Table], str]:
    """Tables from a file, a directory of *.yaml, or a git revision (``HEAD~3``: the
    ``pricing/*.yaml`` of that commit); None = the tables in the working tree."""
    if spec is None:
        tables, _ = load_tables(shipped_paths())
        return tables, str(default_table_dir())
    path = Path(spec)
    if path.is_file():
        return load_tables([path])[0], str(path)
    if path.is_dir():
        files = sorted(path.glob("*.yaml"))
        if not files:
            raise UsageError(f"{path}: no *.yaml tables in this directory")
        return load_tables(files)[0], str(path)
    root = _repo_root()
    rev = str(spec)
    listing = _git(root, "ls-tree", "--name-only", f"{rev}:pricing")
    if listing is None:
        raise UsageError(
            f"{rev!r} is not a file, a directory or a git revision of {root}",
            hint="e.g. llmcost pricing diff HEAD~3, or two table files",
        )
    tables = []
    for name in sorted(n for n in listing.splitlines() if n.endswith(".yaml")):
        text = _git(root, "show", f"{rev}:pricing/{name}")
        label = f"{rev}:pricing/{name}"
        try:
            table, _ = parse_table(text or "", label)
        except Problem as problem:
            raise PricingError(f"{problem.file}:{problem.line}: {problem.message}") from None
        tables.append(table)
    return tables, rev


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return out.stdout if out.returncode == 0 else None


def _row_map(table: Table, model: Model) -> dict[tuple, dict]:
    out = {}
    for r in _flatten(table, model):
        key = (
            r.valid_from, r.tier, r.above_input_tokens, bool(r.off_peak),
            r.inference_geo or "", r.speed or "",
        )  # fmt: skip
        out[key] = {**_prices(r), "to": r.valid_to}
    return out


def _key_text(key: tuple) -> str:
    start, tier, above, off, geo, speed = key
    text = f"from {start.isoformat()}"
    if tier != "standard":
        text += f" {tier}"
    if above:
        text += f" above {above:,} input tokens"
    if off:
        text += " off-peak"
    if geo:
        text += f" inference_geo {geo}"
    if speed:
        text += f" speed {speed}"
    return text


def diff(old: list[Table], new: list[Table]) -> list[dict]:
    """What changed, model by model: added, removed, or each price row that differs."""

    def index(tables):
        return {(m.provider, m.key): (t, m) for t in tables for m in t.models.values()}

    a, b = index(old), index(new)
    changes = []
    for key in sorted(set(a) | set(b)):
        provider, model = key
        if key not in a:
            changes.append({"provider": provider, "model": model, "change": "added", "rows": []})
            continue
        if key not in b:
            changes.append({"provider": provider, "model": model, "change": "removed", "rows": []})
            continue
        ra, rb = _row_map(*a[key]), _row_map(*b[key])
        rows = []
        for rk in sorted(set(ra) | set(rb)):
            if rk not in ra:
                rows.append({"row": _key_text(rk), "change": "added", "new": _plain(rb[rk])})
            elif rk not in rb:
                rows.append({"row": _key_text(rk), "change": "removed", "old": _plain(ra[rk])})
            elif ra[rk] != rb[rk]:
                fields = {
                    f: [_plain_value(ra[rk].get(f)), _plain_value(rb[rk].get(f))]
                    for f in sorted(set(ra[rk]) | set(rb[rk]))
                    if ra[rk].get(f) != rb[rk].get(f)
                }
                rows.append({"row": _key_text(rk), "change": "changed", "fields": fields})
        if rows:
            changes.append(
                {"provider": provider, "model": model, "change": "changed", "rows": rows}
            )
    return changes


def alias_diff(old: list[Table], new: list[Table]) -> list[dict]:
    """The aliases (logged names a model is priced as) added, removed, or moved to another
    model of the same provider between two versions of the tables; an added or removed
    model's aliases too (a log's name that priced, or did not, before)."""

    def index(tables):
        return {
            (m.provider, alias): m.key
            for t in tables
            for m in t.models.values()
            for alias in m.aliases
        }

    a, b = index(old), index(new)
    out = []
    for provider, alias in sorted(set(a) | set(b)):
        before, after = a.get((provider, alias)), b.get((provider, alias))
        if before == after:
            continue
        change = "added" if before is None else "removed" if after is None else "moved"
        out.append(
            {"provider": provider, "alias": alias, "change": change, "old_model": before,
             "new_model": after}
        )  # fmt: skip
    return out


def _plain_value(v):
    if isinstance(v, dt.date):
        return None if v == FAR_FUTURE else v.isoformat()
    return v


def _plain(d: dict) -> dict:
    return {k: _plain_value(v) for k, v in d.items()}


def bill_delta(log_paths: list[str], old: PriceBook, new: PriceBook) -> dict:
    """How much a log's bill moves from ``old`` to ``new`` prices: total and per model.

    ``old_cost_usd`` and ``new_cost_usd`` are each version's bill: the cost of the calls it
    prices. A call one version prices and the other does not (a model added or removed, a
    price row that starts or ends) is in one bill only, so the two bills may cover
    different calls: ``unpriced_old`` and ``unpriced_new`` count the calls of models each
    has no price for, and ``delta_usd`` is the change over the calls both price
    (``priced_by_both``: their count and their cost by each), never a call's cost read as
    $0 on the side that has none. It is None when no call is priced by both."""
    from llmcost import costing, store
    from llmcost.analyses import rows, usd
    from llmcost.ingest import ingest_paths

    con = store.connect()
    try:
        ingest_paths(con, log_paths, resumable=False)
        for side, book in (("old", old), ("new", new)):
            costing.prepare(con, book)
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE bill_{side} AS
                    SELECT request_id, provider_eff, model, cost_usd, is_priced FROM priced"""
            )
        # each call under both versions, grouped by model (the new version's provider for
        # it, else the old's: a call neither prices has none)
        both = "o.cost_usd IS NOT NULL AND n.cost_usd IS NOT NULL"
        groups = rows(
            con,
            f"""SELECT coalesce(n.provider_eff, o.provider_eff) AS provider, o.model,
                  count(*) AS requests,
                  sum(o.cost_usd) AS old_cost, sum(n.cost_usd) AS new_cost,
                  count(o.cost_usd) AS old_costed, count(n.cost_usd) AS new_costed,
                  count(*) FILTER (WHERE NOT o.is_priced) AS unpriced_old,
                  count(*) FILTER (WHERE NOT n.is_priced) AS unpriced_new,
                  count(*) FILTER (WHERE {both}) AS both_priced,
                  sum(o.cost_usd) FILTER (WHERE {both}) AS both_old,
                  sum(n.cost_usd) FILTER (WHERE {both}) AS both_new
                FROM bill_old o JOIN bill_new n USING (request_id) GROUP BY ALL""",
        )
    finally:
        con.close()
    models = [
        {
            "provider": g["provider"],
            "model": g["model"],
            "requests": g["requests"],
            "old_cost_usd": usd(g["old_cost"]),
            "new_cost_usd": usd(g["new_cost"]),
            # over the calls priced by both versions (None: no such call)
            "delta_usd": usd(g["both_new"] - g["both_old"]) if g["both_priced"] else None,
            "priced_by_both_requests": g["both_priced"],
            "unpriced_old": g["unpriced_old"],
            "unpriced_new": g["unpriced_new"],
        }
        for g in groups
    ]
    models.sort(key=lambda m: (-abs(m["delta_usd"] or 0), str(m["provider"]), m["model"]))

    def total(key: str):
        return sum((g[key] for g in groups if g[key] is not None), start=0)

    n_both = total("both_priced")
    return {
        # None: the version has a cost for no call of the log (unknown, never $0)
        "old_cost_usd": usd(total("old_cost")) if total("old_costed") else None,
        "new_cost_usd": usd(total("new_cost")) if total("new_costed") else None,
        "unpriced_old": total("unpriced_old"),
        "unpriced_new": total("unpriced_new"),
        "delta_usd": usd(total("both_new") - total("both_old")) if n_both else None,
        "priced_by_both": {
            "requests": n_both,
            "old_cost_usd": usd(total("both_old")) if n_both else None,
            "new_cost_usd": usd(total("both_new")) if n_both else None,
        },
        "by_model": models,
    }


def book_of(tables: list[Table], overlays: list[Table] | None = None) -> PriceBook:
    return PriceBook(merge(tables, overlays or []))


# --------------------------------------------------------------------------------------
# import-litellm
# --------------------------------------------------------------------------------------

LITELLM_SOURCE = "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json"
LITELLM_PROVIDERS = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "vertex_ai-language-models": "google",
    "vertex_ai-anthropic_models": "anthropic",
    "bedrock": "aws-bedrock",
    "bedrock_converse": "aws-bedrock",
    "azure": "azure",
    "azure_ai": "azure",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "xai": "xai",
    "groq": "groq",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
}
# realtime: the Realtime API's models (token-priced, audio at their audio prices)
LITELLM_MODES = {"chat", "completion", "responses", "realtime"}
# our audio keys <- LiteLLM's (each with the tier suffixes _batches, _flex, _priority)
LITELLM_AUDIO = (
    ("input_audio", "input_cost_per_audio_token"),
    ("output_audio", "output_cost_per_audio_token"),
    ("cache_read_audio", "cache_read_input_audio_token_cost"),
)
_ABOVE = re.compile(
    r"^(input|output|cache_read_input)_(?:token_)?cost(?:_per_(?:audio_)?token)?"
    r"_above_(\d+)k_tokens$"
)


# A 0 input and 0 output price in LiteLLM's map mostly means "not known": local runtimes
# (ollama/*, lemonade/*, whose cloud models are paid), image- or audio-priced models (Lyria:
# 0/0 tokens beside a price per output), entries with no price filled in (gigachat/*,
# volcengine, sagemaker/*). It marks a free model by saying so: in its name ("…-free",
# opencode_go's free models) or in its metadata notes (Vertex AI's Llama MaaS previews,
# "at no cost"). Only those are imported at $0; the others are left out, unpriced.
_FREE_NAME = re.compile(r"(?:^|[-_:.])free(?:$|[-_:.])")
_FREE_NOTE = re.compile(r"\b(?:at no cost|no charge|free of charge|free to use)\b", re.I)


def _litellm_free(name: str, v: dict) -> str | None:
    """Why LiteLLM's map says the model is free (None: it does not say so)."""
    if _FREE_NAME.search(name.rsplit("/", 1)[-1].lower()):
        return "its name says free"
    meta = v.get("metadata")
    notes = meta.get("notes") if isinstance(meta, dict) else None
    if isinstance(notes, str) and _FREE_NOTE.search(notes):
        return f"LiteLLM's note: {notes.strip()}"
    return None


@dataclass
class ImportResult:
    models: dict = field(default_factory=dict)  # key -> entry (table schema)
    skipped_known: int = 0
    skipped_other: int = 0
    dropped: list[str] = field(default_factory=list)  # "model: why" for values left out
    # names priced 0 input and 0 output that the map does not mark free: left out, unpriced
    zero_priced: list[str] = field(default_factory=list)
    free: list[str] = field(default_factory=list)  # 0/0 names imported: the map says free


def _m(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return round(float(value) * 1_000_000, 6)


def import_litellm(
    data: dict,
    book: PriceBook | None = None,
    only_missing: bool = False,
    start: dt.date = dt.date(2020, 1, 1),
) -> ImportResult:
    """LiteLLM's map (USD per token) -> model entries of our schema (USD per million).

    Only chat/completion/responses/realtime entries with input and output prices are taken
    (audio prices too). An entry priced 0 input and 0 output is taken only when the map
    marks it free (``_litellm_free``): else its price is not known, and a $0 row would bill
    its calls $0 rather than count them unpriced (``zero_priced`` lists them). LiteLLM
    has no effective dates: every row starts at ``start``. With ``only_missing``, entries
    whose name our tables already resolve (for that provider) are skipped."""
    result = ImportResult()
    entries = []
    for name, v in sorted(data.items()):
        if not isinstance(v, dict) or v.get("mode") not in LITELLM_MODES:
            result.skipped_other += 1
            continue
        inp, out = _m(v.get("input_cost_per_token")), _m(v.get("output_cost_per_token"))
        if inp is None or out is None:
            result.skipped_other += 1
            continue
        provider = LITELLM_PROVIDERS.get(v.get("litellm_provider"), v.get("litellm_provider"))
        provider = str(provider or "litellm").lower()
        if only_missing and book is not None and book.resolve(name, provider).priced:
            result.skipped_known += 1
            continue
        if inp == 0 and out == 0 and _litellm_free(name, v) is None:
            result.zero_priced.append(name)
            continue
        entries.append((name.lower(), provider, v, inp, out))
    tails: dict[tuple[str, str], int] = {}
    for name, provider, *_ in entries:
        tail = name.rsplit("/", 1)[-1]
        tails[(provider, tail)] = tails.get((provider, tail), 0) + 1
    for name, provider, v, inp, out in entries:
        row: dict = {"from": start, "input": inp, "output": out}
        for ours, theirs in (
            ("cache_read", "cache_read_input_token_cost"),
            ("cache_write", "cache_creation_input_token_cost"),
            ("cache_write_1h", "cache_creation_input_token_cost_above_1hr"),
            *LITELLM_AUDIO,
        ):
            value = _m(v.get(theirs))
            if value is not None:
                row[ours] = value
        if row.get("cache_read", 0) > inp:
            result.dropped.append(f"{name}: cache_read {row.pop('cache_read')} above input")
        if "input_audio" in row and row.get("cache_read_audio", 0) > row["input_audio"]:
            result.dropped.append(
                f"{name}: cache_read_audio {row.pop('cache_read_audio')} above input_audio"
            )
        for tier, suffix in (("batch", "_batches"), ("flex", "_flex"), ("priority", "_priority")):
            prices = {
                "input": _m(v.get(f"input_cost_per_token{suffix}")),
                "output": _m(v.get(f"output_cost_per_token{suffix}")),
                "cache_read": _m(v.get(f"cache_read_input_token_cost{suffix}")),
                **{ours: _m(v.get(f"{theirs}{suffix}")) for ours, theirs in LITELLM_AUDIO},
            }
            prices = {k: p for k, p in prices.items() if p is not None}
            if "input" in prices and "output" in prices:
                if prices.get("cache_read", 0) > prices["input"]:
                    prices.pop("cache_read")
                if prices.get("cache_read_audio", 0) > prices.get("input_audio", float("inf")):
                    prices.pop("cache_read_audio")
                row[tier] = prices
        above: dict[int, dict] = {}
        for key, value in v.items():
            match = _ABOVE.match(key)
            if match and _m(value) is not None:
                ours = {"input": "input", "output": "output", "cache_read_input": "cache_read"}
                key_ours = ours[match[1]] + ("_audio" if "_audio_" in key else "")
                above.setdefault(int(match[2]) * 1000, {})[key_ours] = _m(value)
        tiers = [
            {"above_input_tokens": threshold, **prices}
            for threshold, prices in sorted(above.items())
            if "input" in prices
            and "output" in prices
            and prices.get("cache_read", 0) <= prices["input"]
        ]
        # a long-context tier must give the row's audio prices: one LiteLLM gives none for is
        # left out (said), else the tier would bill the audio at its text prices
        for t in list(tiers):
            missing = [k for k, _ in LITELLM_AUDIO if k in row and k not in t]
            if missing or t.get("cache_read_audio", 0) > t.get("input_audio", float("inf")):
                tiers.remove(t)
                result.dropped.append(
                    f"{name}: long_context above {t['above_input_tokens']} "
                    f"(no {', '.join(missing) or 'cache_read_audio within input_audio'})"
                )
        if tiers:
            row["long_context"] = tiers
        search = v.get("search_context_cost_per_query")
        if isinstance(search, dict) and _m(search.get("search_context_size_medium")) is not None:
            row["per_search"] = float(search["search_context_size_medium"])
        # Anthropic's US-only inference and fast-mode multipliers (provider_specific_entry)
        special = v.get("provider_specific_entry")
        if isinstance(special, dict):
            for ours, theirs, value in (("inference_geo", "us", "us"), ("speed", "fast", "fast")):
                factor = special.get(theirs)
                if isinstance(factor, (int, float)) and not isinstance(factor, bool) and factor > 0:
                    row[ours] = {value: float(factor)}
        entry: dict = {"provider": provider}
        tail = name.rsplit("/", 1)[-1]
        if tail != name and tails[(provider, tail)] == 1:
            entry["aliases"] = [tail]
        entry["source"] = v.get("source") or LITELLM_SOURCE
        entry["note"] = "imported from LiteLLM's price map; no effective date known"
        free = _litellm_free(name, v) if inp == 0 and out == 0 else None
        if free:  # said in the file: a $0 row a reader should be able to check
            entry["note"] += f"; free ({free})"
            result.free.append(name)
        entry["prices"] = [row]
        result.models[name] = entry
    return result


def litellm_yaml(result: ImportResult, today: dt.date, start: dt.date, file: str) -> str:
    header = (
        f"# Imported from {file} by `llmcost pricing import-litellm` on {today.isoformat()}.\n"
        "# LiteLLM's community map, converted to USD per million tokens. It has no effective\n"
        f"# dates: every row starts {start.isoformat()}. Check the prices against the\n"
        "# providers' pages, then apply with --pricing FILE or pricing.tables in llmcost.yaml.\n"
    )
    doc = {
        "provider": "litellm",
        "version": today.isoformat(),
        "source": LITELLM_SOURCE,
        "models": result.models,
    }
    return header + yaml.dump(
        doc, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=100
    )


class _NoAliases(yaml.SafeDumper):
    """Every value written out in full: the one start date shared by every row was written
    once as '&id001' and then '*id001', so correcting one model's 'from' in the file (as the
    header asks) moved every model's."""

    def ignore_aliases(self, data) -> bool:
        return True


def read_litellm(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}", hint="check the path") from None
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path}:{exc.lineno}: not valid JSON ({exc.msg})",
            hint="pass LiteLLM's model_prices_and_context_window.json",
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object of model name -> prices")
    return data
