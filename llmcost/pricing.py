"""Pricing tables: load and validate ``pricing/*.yaml``, resolve model names, price rows.

A table is data (schema in pricing/SCHEMA.md): USD per million tokens, each price row with
the date it took effect. ``PriceBook.rows()`` flattens every model × price row × service
tier × long-context tier into one record, so costing is a single SQL join.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from llmcost.errors import PricingError
from llmcost.yamlio import YamlProblem, line_of
from llmcost.yamlio import load as load_yaml

PRICE_KEYS = ("input", "output", "cache_read", "cache_write", "cache_write_1h")
TIERS = ("batch", "flex", "priority")
ROW_KEYS = {"from", "to", "per_request", "long_context", "note", *PRICE_KEYS, *TIERS}
MODEL_KEYS = {
    "aliases",
    "family",
    "downgrade_to",
    "encoding",
    "source",
    "note",
    "prices",
    "provider",
}
FILE_KEYS = {"provider", "version", "source", "rules", "models", "note"}
RULE_KEYS = {"long_context_counts_cache"}
FAR_FUTURE = dt.date(9999, 1, 1)
# When several tables know a name, the call's own provider wins, then this order.
PROVIDER_ORDER = ["openai", "anthropic", "google"]


def default_table_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "pricing_tables", here.parent / "pricing"):
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    raise PricingError("the built-in pricing tables are missing", hint="reinstall llmcost")


def _line(mapping, key: str) -> int:
    return line_of(mapping, key)


@dataclass
class PriceRow:
    """One flat price: a model's prices for one period, service tier and context tier."""

    provider: str
    model_key: str
    tier: str  # standard | batch | flex | priority
    above_input_tokens: int
    valid_from: dt.date
    valid_to: dt.date
    input: float
    output: float
    cache_read: float | None
    cache_write: float | None
    cache_write_1h: float | None
    per_request: float
    version: str
    source: str


@dataclass
class Model:
    provider: str
    key: str
    aliases: list[str]
    family: str | None
    downgrade_to: str | None
    encoding: str | None
    source: str
    prices: list[dict]
    file: str
    line: int
    note: str | None = None


@dataclass
class Table:
    provider: str
    version: str
    source: str
    file: str
    rules: dict = field(default_factory=dict)
    models: dict[str, Model] = field(default_factory=dict)


@dataclass(frozen=True)
class Resolution:
    """How a logged model name was matched to a priced model (or why it was not)."""

    name: str
    provider: str | None
    model_key: str | None
    how: str

    @property
    def priced(self) -> bool:
        return self.model_key is not None


class Problem(Exception):
    def __init__(self, file: str, line: int, message: str):
        super().__init__(f"{file}:{line}: {message}")
        self.file, self.line, self.message = file, line, message


def _date(value, file: str, line: int, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise Problem(file, line, f"{what} must be a date YYYY-MM-DD, got {value!r}") from None


def _number(value, file: str, line: int, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise Problem(file, line, f"{what} must be a non-negative number, got {value!r}")
    return float(value)


def _check_keys(mapping: dict, allowed: set[str], file: str, what: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        line = _line(mapping, unknown[0])
        raise Problem(file, line, f"unknown key(s) in {what}: {', '.join(unknown)}")


def parse_table(text: str, file: str) -> tuple[Table, list[Problem]]:
    """Parse one table; raise Problem on structural errors, return soft warnings."""
    try:
        doc = load_yaml(text)
    except YamlProblem as exc:
        raise Problem(file, exc.line, exc.message) from None
    if not isinstance(doc, dict):
        raise Problem(file, 1, "a pricing table must be a mapping with provider, version, models")
    _check_keys(doc, FILE_KEYS, file, "the table")
    for key in ("provider", "version", "models"):
        if key not in doc:
            raise Problem(file, doc.line, f"missing '{key}'")
    rules = doc.get("rules") or {}
    _check_keys(rules, RULE_KEYS, file, "rules")
    table = Table(
        provider=str(doc["provider"]).lower(),
        version=str(doc["version"]),
        source=str(doc.get("source") or ""),
        file=file,
        rules=dict(rules),
    )
    warnings: list[Problem] = []
    models = doc["models"]
    if not isinstance(models, dict):
        raise Problem(file, doc.line, "'models' must be a mapping of model name to entry")
    for key, entry in models.items():
        if not isinstance(entry, dict):
            raise Problem(file, doc.line, f"model {key!r} must be a mapping")
        line = entry.line
        _check_keys(entry, MODEL_KEYS, file, f"model {key!r}")
        source = entry.get("source") or table.source
        if not source:
            raise Problem(file, line, f"model {key!r} has no source URL")
        prices = entry.get("prices")
        if not isinstance(prices, list) or not prices:
            raise Problem(file, line, f"model {key!r} needs a non-empty 'prices' list")
        for row in prices:
            _validate_row(row, file, f"model {key!r}", warnings)
        periods = sorted(
            ((_date(r["from"], file, r.line, "from"), r) for r in prices), key=lambda x: x[0]
        )
        for (start, row), (nxt, _) in zip(periods, periods[1:]):
            if start == nxt:
                raise Problem(file, row.line, f"model {key!r}: two price rows from {start}")
            if "to" in row and _date(row["to"], file, row.line, "to") > nxt:
                raise Problem(
                    file, row.line, f"model {key!r}: row from {start} overlaps the row from {nxt}"
                )
        aliases = entry.get("aliases") or []
        if not isinstance(aliases, list):
            raise Problem(file, line, f"model {key!r}: aliases must be a list")
        table.models[str(key).lower()] = Model(
            provider=str(entry.get("provider") or table.provider).lower(),
            key=str(key).lower(),
            aliases=[str(a).lower() for a in aliases],
            family=entry.get("family"),
            downgrade_to=(
                str(entry["downgrade_to"]).lower() if entry.get("downgrade_to") else None
            ),
            encoding=entry.get("encoding"),
            source=str(source),
            prices=prices,
            file=file,
            line=line,
            note=entry.get("note"),
        )
    return table, warnings


def _validate_row(row, file: str, what: str, warnings: list[Problem]) -> None:
    if not isinstance(row, dict):
        raise Problem(file, 0, f"{what}: each price row must be a mapping")
    _check_keys(row, ROW_KEYS, file, f"{what} price row")
    if "from" not in row:
        raise Problem(file, row.line, f"{what}: price row without 'from' (the date it took effect)")
    _date(row["from"], file, _line(row, "from"), "from")
    if "to" in row and row["to"] is not None:
        _date(row["to"], file, _line(row, "to"), "to")
    for key in ("input", "output"):
        if key not in row:
            raise Problem(file, row.line, f"{what}: price row without '{key}'")
    _validate_prices(row, file, row.line, what, warnings)
    for tier in TIERS:
        _validate_tier(row.get(tier), row, file, f"{what} {tier}", warnings)
    for lc in row.get("long_context") or []:
        if not isinstance(lc, dict) or "above_input_tokens" not in lc:
            raise Problem(file, row.line, f"{what}: long_context entries need above_input_tokens")
        _check_keys(lc, {"above_input_tokens", *PRICE_KEYS, *TIERS}, file, f"{what} long_context")
        _validate_prices(lc, file, lc.line, f"{what} long_context", warnings)
        for tier in TIERS:
            _validate_tier(lc.get(tier), lc, file, f"{what} long_context {tier}", warnings)


def _validate_tier(tier, base, file, what, warnings) -> None:
    if tier is None:
        return
    if isinstance(tier, dict):
        _check_keys(tier, set(PRICE_KEYS), file, what)
        _validate_prices(tier, file, tier.line, what, warnings, partial=True)
    else:
        value = _number(tier, file, base.line, what)
        if value > 1:
            warnings.append(Problem(file, base.line, f"{what}: multiplier {value} above 1"))


def _validate_prices(prices, file, line, what, warnings, partial=False) -> None:
    for key in PRICE_KEYS:
        if key in prices:
            _number(prices[key], file, _line(prices, key), f"{what} {key}")
    if "input" in prices and "cache_read" in prices and prices["cache_read"] > prices["input"]:
        raise Problem(
            file,
            _line(prices, "cache_read"),
            f"{what}: cache_read {prices['cache_read']} above input",
        )
    if not partial and prices.get("output", 0) < prices.get("input", 0):
        warnings.append(Problem(file, line, f"{what}: output price below input price"))


def _tier_prices(base: dict, tier) -> dict:
    """Prices of a service tier given as a multiplier or as a (partial) dict."""
    if isinstance(tier, dict):
        ratio = (
            tier["input"] / base["input"] if tier.get("input") is not None and base["input"] else 1
        )
        return {
            k: (tier[k] if k in tier else (base[k] * ratio if base.get(k) is not None else None))
            for k in PRICE_KEYS
        }
    return {k: (base[k] * tier if base.get(k) is not None else None) for k in PRICE_KEYS}


class PriceBook:
    """All loaded tables, with name resolution and flat price rows."""

    def __init__(self, tables: list[Table]):
        self.tables = tables
        self.models: dict[tuple[str, str], Model] = {}
        self._names: dict[str, list[Model]] = {}
        self._patterns: list[tuple[str, Model]] = []
        for table in tables:
            for model in table.models.values():
                self.models[(model.provider, model.key)] = model
                for name in [model.key, *model.aliases]:
                    if name.endswith("*"):
                        self._patterns.append((name[:-1], model))
                    else:
                        self._names.setdefault(name, []).append(model)
        self._patterns.sort(key=lambda p: -len(p[0]))

    @property
    def version(self) -> str:
        return max((t.version for t in self.tables), default="")

    def table_of(self, model: Model) -> Table:
        for table in self.tables:
            if table.file == model.file:
                return table
        raise KeyError(model.key)

    def find(self, key: str, provider: str | None = None) -> Model | None:
        found = self._names.get(key.lower(), [])
        return self._prefer(found, provider)

    @staticmethod
    def _prefer(found: list[Model], provider: str | None) -> Model | None:
        if not found:
            return None
        for model in found:
            if provider and model.provider == provider:
                return model

        def rank(m: Model) -> tuple[int, str]:
            order = PROVIDER_ORDER.index(m.provider) if m.provider in PROVIDER_ORDER else 99
            return (order, m.provider)

        return sorted(found, key=rank)[0]

    def resolve(self, name: str, provider: str | None = None) -> Resolution:
        """Match a logged model name to a priced model; ``how`` explains the choice."""
        for candidate, how in candidate_names(name):
            model = self.find(candidate, provider)
            if model is not None:
                return Resolution(name, model.provider, model.key, how.format(candidate))
            for prefix, pmodel in self._patterns:
                if candidate.startswith(prefix):
                    return Resolution(
                        name,
                        pmodel.provider,
                        pmodel.key,
                        f"pattern {prefix}* ({how.format(candidate)})",
                    )
        return Resolution(name, provider, None, "no pricing table knows this model")

    def rows(self) -> list[PriceRow]:
        out: list[PriceRow] = []
        for table in self.tables:
            for model in table.models.values():
                out.extend(_flatten(table, model))
        return out


_DATE_SUFFIX = re.compile(
    r"(-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-\d{2}-\d{4}|-\d{3}|@\d{3}|-latest|@latest)$"
)
_BEDROCK_VERSION = re.compile(r"-v\d+(:\d+)?$|:\d+$")
_BEDROCK_REGION = re.compile(r"^(us|eu|apac|global|us-gov|jp|au|ca)\.")
_BEDROCK_VENDOR = re.compile(
    r"^(anthropic|amazon|meta|mistral|cohere|ai21|deepseek|openai|qwen|writer)\."
)


def candidate_names(name: str) -> Iterable[tuple[str, str]]:
    """Names to try for a logged model name, most literal first, each with its explanation."""
    seen: set[str] = set()

    def emit(n: str, how: str):
        if n and n not in seen:
            seen.add(n)
            yield n, how

    s = name.strip().lower()
    yield from emit(s, "exact name {}")
    base = s
    if s.startswith("arn:"):
        base = s.rsplit("/", 1)[-1]
        yield from emit(base, "ARN resource {}")
    if "/" in base:
        base = base.rsplit("/", 1)[-1]  # openai/gpt-4o, projects/…/models/x, openrouter/a/b
        yield from emit(base, "provider/path prefix removed: {}")
    region_free = _BEDROCK_REGION.sub("", base)
    yield from emit(region_free, "inference-profile region removed: {}")
    vendor_free = _BEDROCK_VENDOR.sub("", region_free)
    if vendor_free != region_free:
        yield from emit(vendor_free, "Bedrock vendor prefix removed: {}")
        unversioned = _BEDROCK_VERSION.sub("", vendor_free)
        yield from emit(unversioned, "Bedrock version suffix removed: {}")
        vendor_free = unversioned
    stem = vendor_free
    while True:
        shorter = _DATE_SUFFIX.sub("", stem)
        if shorter == stem:
            break
        stem = shorter
        yield from emit(stem, "snapshot/alias suffix removed: {}")


def _flatten(table: Table, model: Model) -> list[PriceRow]:
    rows = sorted(model.prices, key=lambda r: _date(r["from"], model.file, r.line, "from"))
    out: list[PriceRow] = []
    for i, row in enumerate(rows):
        start = _date(row["from"], model.file, row.line, "from")
        if row.get("to") is not None:
            end = _date(row["to"], model.file, row.line, "to")
        elif i + 1 < len(rows):
            end = _date(rows[i + 1]["from"], model.file, rows[i + 1].line, "from")
        else:
            end = FAR_FUTURE
        contexts = [(0, row)] + [
            (int(lc["above_input_tokens"]), lc) for lc in row.get("long_context") or []
        ]
        for threshold, prices in contexts:
            standard = {k: prices.get(k) for k in PRICE_KEYS}
            variants = [("standard", standard)]
            for tier in TIERS:
                spec = prices.get(tier, row.get(tier))
                if threshold and tier not in prices and isinstance(spec, dict):
                    # the row's tier applies to long context as the same discount ratio
                    spec = spec["input"] / row["input"] if row["input"] else 1.0
                if spec is not None:
                    variants.append((tier, _tier_prices(standard, spec)))
            for tier, p in variants:
                out.append(
                    PriceRow(
                        provider=model.provider,
                        model_key=model.key,
                        tier=tier,
                        above_input_tokens=threshold,
                        valid_from=start,
                        valid_to=end,
                        input=float(p["input"]),
                        output=float(p["output"]),
                        cache_read=p["cache_read"],
                        cache_write=p["cache_write"],
                        cache_write_1h=p["cache_write_1h"],
                        per_request=float(row.get("per_request") or 0.0),
                        version=table.version,
                        source=model.source,
                    )
                )
    return out


def load_tables(paths: Iterable[Path]) -> tuple[list[Table], list[Problem]]:
    tables, warnings = [], []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise PricingError(
                f"cannot read pricing table {path}: {exc.strerror}",
                hint="check the path given to --pricing",
            ) from None
        try:
            table, warns = parse_table(text, str(path))
        except Problem as problem:
            raise PricingError(
                f"{problem.file}:{problem.line}: {problem.message}",
                hint="fix the table (schema: pricing/SCHEMA.md) or run `llmcost pricing check`",
            ) from None
        tables.append(table)
        warnings.extend(warns)
    return tables, warnings


def load_pricing(overlays: Iterable[Path] = (), table_dir: Path | None = None) -> PriceBook:
    """The built-in tables, then each overlay: an overlay's model replaces a same-named one."""
    builtin, _ = load_tables(sorted((table_dir or default_table_dir()).glob("*.yaml")))
    extra, _ = load_tables(list(overlays))
    merged: dict[str, Table] = {}
    for table in builtin:
        merged[table.file] = table
    for table in extra:
        for model in table.models.values():
            for other in merged.values():
                if other.provider == model.provider and model.key in other.models:
                    del other.models[model.key]
        merged[table.file] = table
    return PriceBook(list(merged.values()))
