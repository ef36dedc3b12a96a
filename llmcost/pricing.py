"""Pricing tables: load and validate ``pricing/*.yaml``, resolve model names, price rows.

A table is data (schema in pricing/SCHEMA.md): USD per million tokens, each price row with
the date it took effect. ``PriceBook.rows()`` flattens every model × price row × service
tier × long-context tier × time-of-day window into one record, so costing is a single SQL
join. ``PriceBook.explain()`` says, step by step, how a logged model name was matched.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

from llmcost.errors import PricingError
from llmcost.yamlio import YamlProblem, line_of
from llmcost.yamlio import decode as decode_yaml
from llmcost.yamlio import load as load_yaml

PRICE_KEYS = (
    "input", "output", "cache_read", "cache_write", "cache_write_1h",
    # audio parts of the input, the output and the cache reads (OpenAI audio/realtime
    # models, Gemini Flash): absent => billed at the text price of the same key
    "input_audio", "output_audio", "cache_read_audio",
)  # fmt: skip
# an audio price and the text price it falls back to
AUDIO_KEYS = {"input_audio": "input", "output_audio": "output", "cache_read_audio": "cache_read"}
FEE_KEYS = ("per_request", "per_search")
TIERS = ("batch", "flex", "priority")
# Per-call price modifiers a provider reports in the usage object (Anthropic: where the call
# ran, ``usage.inference_geo``, and fast mode, ``usage.speed``): a row maps each value to a
# multiplier of every token price of the row (its tiers and long-context tiers too); the
# fees (per request, per search) are not scaled.
MODIFIERS = ("inference_geo", "speed")
ROW_KEYS = {
    "from", "to", "long_context", "off_peak", "note", *PRICE_KEYS, *FEE_KEYS, *TIERS, *MODIFIERS
}  # fmt: skip
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
RULE_KEYS = {"long_context_counts_cache", "fallback_provider"}
OFF_PEAK_KEYS = {"utc_from", "utc_to", "days", "windows", "discount", *PRICE_KEYS}
WINDOW_KEYS = {"utc_from", "utc_to", "days"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = 0b1111111
FAR_FUTURE = dt.date(9999, 1, 1)
# When several tables know a name and the call's provider has none of them: the provider's
# fallback (rules.fallback_provider, e.g. azure -> openai), then this order, then by name.
PROVIDER_ORDER = ["openai", "anthropic", "google"]
# First segment of a "provider/model" name (LiteLLM, OpenRouter, gateways) -> provider id.
NAME_PREFIX_PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "gemini": "google",
    "vertex_ai": "google",
    "vertex_ai_beta": "google",
    "bedrock": "aws-bedrock",
    "bedrock_converse": "aws-bedrock",
    "aws-bedrock": "aws-bedrock",
    "azure": "azure",
    "azure_ai": "azure",
    "mistral": "mistral",
    "mistralai": "mistral",
    "deepseek": "deepseek",
    "xai": "xai",
    "x-ai": "xai",
    "groq": "groq",
    "together_ai": "together",
    "together": "together",
    "fireworks_ai": "fireworks",
    "fireworks": "fireworks",
}
# Prefixes naming where the call was served (a host or gateway): they override the logged
# provider. A vendor prefix (openai/gpt-oss-120b on Groq) is only used when the log has none.
HOST_PREFIXES = {
    "groq", "together_ai", "together", "fireworks_ai", "fireworks", "azure", "azure_ai",
    "bedrock", "bedrock_converse", "aws-bedrock", "vertex_ai", "vertex_ai_beta", "openrouter",
}  # fmt: skip
AZURE_REGIONS = ("us", "eu", "apac", "us-gov")


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
    """One flat price: a model's prices for one period, service tier, context tier and
    time-of-day window (``off_peak``: None = any time, else [(days mask, from min, to min)])."""

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
    per_search: float | None = None
    counts_cache: bool = True
    off_peak: list[tuple[int, int, int]] | None = None
    discount_pct: float = 0.0
    # the call's usage.inference_geo / usage.speed this row is for (None: any, unscaled)
    inference_geo: str | None = None
    speed: str | None = None
    # audio prices (None: audio billed at the text price of the same key)
    input_audio: float | None = None
    output_audio: float | None = None
    cache_read_audio: float | None = None


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
    line: int  # the entry's first line, where its problems are reported
    note: str | None = None
    defined_line: int = 0  # the line of the model's name ("defined at"); 0: ``line``


@dataclass
class Table:
    provider: str
    version: str
    source: str
    file: str
    rules: dict = field(default_factory=dict)
    models: dict[str, Model] = field(default_factory=dict)
    overlay: bool = False  # the user's prices (llmcost.yaml, --pricing), laid over the tables


@dataclass(frozen=True)
class Discount:
    """A negotiated discount: ``percent`` off every price of a provider's or a model's calls."""

    percent: float
    provider: str | None = None
    model: str | None = None
    origin: str = ""


@dataclass(frozen=True)
class Resolution:
    """How a logged model name was matched to a priced model (or why it was not)."""

    name: str
    provider: str | None
    model_key: str | None
    how: str
    steps: tuple[str, ...] = ()

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


def parse_table(
    text: str, file: str, errors: list[Problem] | None = None
) -> tuple[Table, list[Problem]]:
    """Parse one table; raise Problem on structural errors, return soft warnings.

    With ``errors`` given, an error inside one model entry is appended there and parsing
    goes on with the next model (``pricing check`` reports every broken model at once).
    """
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
    if not isinstance(rules, dict):
        raise Problem(file, _line(doc, "rules"), "'rules' must be a mapping")
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
        try:
            model = parse_model(
                key, entry, file, table.provider, table.source, warnings, _line(models, key)
            )
        except Problem as problem:
            if errors is None:
                raise
            errors.append(problem)
            continue
        table.models[model.key] = model
    return table, warnings


def parse_model(
    key,
    entry,
    file: str,
    provider: str,
    default_source: str,
    warnings: list[Problem],
    key_line: int = 0,
) -> Model:
    """Validate one model entry of the table schema and return it as a Model.

    ``key_line`` is the line of the model's name, where it is defined (a block-style entry's
    own mapping, whose line problems name, starts a line below it).
    """
    if not isinstance(entry, dict):
        raise Problem(file, key_line, f"model {key!r} must be a mapping")
    line = entry.line
    _check_keys(entry, MODEL_KEYS, file, f"model {key!r}")
    source = entry.get("source") or default_source
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
        if row.get("to") is not None and _date(row["to"], file, row.line, "to") > nxt:
            raise Problem(
                file, row.line, f"model {key!r}: row from {start} overlaps the row from {nxt}"
            )
    for start, row in periods:
        if row.get("to") is not None and _date(row["to"], file, row.line, "to") <= start:
            raise Problem(file, row.line, f"model {key!r}: row from {start} ends before it starts")
    aliases = entry.get("aliases") or []
    if not isinstance(aliases, list):
        raise Problem(file, line, f"model {key!r}: aliases must be a list")
    return Model(
        provider=str(entry.get("provider") or provider).lower(),
        key=str(key).lower(),
        aliases=[str(a).lower() for a in aliases],
        family=entry.get("family"),
        downgrade_to=(str(entry["downgrade_to"]).lower() if entry.get("downgrade_to") else None),
        encoding=entry.get("encoding"),
        source=str(source),
        prices=prices,
        file=file,
        line=line,
        note=entry.get("note"),
        defined_line=key_line or line,
    )


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
    for key in FEE_KEYS:
        if key in row:
            _number(row[key], file, _line(row, key), f"{what} {key}")
    for tier in TIERS:
        _validate_tier(row.get(tier), row, file, f"{what} {tier}", warnings)
    long_context = row.get("long_context") or []
    if not isinstance(long_context, list):
        raise Problem(file, _line(row, "long_context"), f"{what}: long_context must be a list")
    for lc in long_context:
        if not isinstance(lc, dict) or "above_input_tokens" not in lc:
            raise Problem(file, row.line, f"{what}: long_context entries need above_input_tokens")
        _check_keys(lc, {"above_input_tokens", *PRICE_KEYS, *TIERS}, file, f"{what} long_context")
        _number(
            lc["above_input_tokens"], file, _line(lc, "above_input_tokens"), "above_input_tokens"
        )
        _validate_prices(lc, file, lc.line, f"{what} long_context", warnings)
        for key in AUDIO_KEYS:  # else the tier would bill audio at its text price
            if key in row and key not in lc:
                raise Problem(
                    file, lc.line, f"{what}: the row has {key}, its long_context needs one too"
                )
        for tier in TIERS:
            _validate_tier(lc.get(tier), lc, file, f"{what} long_context {tier}", warnings)
    if row.get("off_peak") is not None:
        off_peak_windows(row["off_peak"], file, f"{what} off_peak")
        _off_peak_factors(row, file, f"{what} off_peak")
    for name in MODIFIERS:
        _modifier(row, name, file, what)


def _modifier(row, name: str, file: str, what: str) -> dict[str, float]:
    """A row's ``inference_geo:`` / ``speed:`` mapping: the value the usage object reports
    (lower case) → the multiplier of every token price ({} when the row has none)."""
    spec = row.get(name)
    if spec is None:
        return {}
    if not isinstance(spec, dict) or not spec:
        raise Problem(
            file,
            _line(row, name),
            f"{what} {name} must map a value to a multiplier, e.g. {{us: 1.1}}",
        )
    out = {}
    for value, factor in spec.items():
        number = _number(factor, file, _line(spec, value), f"{what} {name} {value}")
        if number == 0:
            raise Problem(file, _line(spec, value), f"{what} {name} {value}: multiplier 0")
        out[str(value).lower()] = number
    return out


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
    for read, base in (("cache_read", "input"), ("cache_read_audio", "input_audio")):
        if base in prices and read in prices and prices[read] > prices[base]:
            raise Problem(file, _line(prices, read), f"{what}: {read} {prices[read]} above {base}")
    # (an output price of 0 is an input-only model: embeddings)
    if not partial and 0 < prices.get("output", 0) < prices.get("input", 0):
        warnings.append(Problem(file, line, f"{what}: output price below input price"))


def _minutes(value, file: str, line: int, what: str) -> int:
    text = str(value)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if (
        not match
        or int(match[1]) > 24
        or int(match[2]) > 59
        or (int(match[1]) == 24 and int(match[2]))
    ):
        raise Problem(file, line, f"{what} must be a UTC time HH:MM, got {value!r}")
    return int(match[1]) * 60 + int(match[2])


def _days_mask(value, file: str, line: int, what: str) -> int:
    """``days: [mon, tue]`` or ``days: mon-fri`` -> bit mask (bit 0 = Monday)."""
    if value is None:
        return ALL_DAYS
    items = value if isinstance(value, list) else [value]
    mask = 0
    for item in items:
        text = str(item).lower()
        ends = text.split("-")
        if not all(e in DAYS for e in ends) or len(ends) > 2:
            raise Problem(
                file, line, f"{what}: days are mon..sun or a range like mon-fri, got {item!r}"
            )
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        for i in range(7):
            if (first <= last and first <= i <= last) or (
                first > last and (i >= first or i <= last)
            ):
                mask |= 1 << i
    return mask


def off_peak_windows(spec, file: str, what: str) -> list[tuple[int, int, int]]:
    """The off-peak windows of an ``off_peak`` entry: [(days mask, from minute, to minute)].

    A window may wrap midnight (16:30 -> 00:30); its days are the UTC day of the call.
    """
    if not isinstance(spec, dict):
        raise Problem(file, 0, f"{what} must be a mapping (utc_from, utc_to, discount)")
    _check_keys(spec, OFF_PEAK_KEYS, file, what)
    windows = spec.get("windows")
    if windows is None:
        if "utc_from" not in spec or "utc_to" not in spec:
            raise Problem(file, spec.line, f"{what} needs utc_from and utc_to, or windows")
        windows = [spec]
    elif not isinstance(windows, list) or not windows:
        raise Problem(file, _line(spec, "windows"), f"{what}: windows must be a non-empty list")
    out = []
    for w in windows:
        if not isinstance(w, dict):
            raise Problem(file, spec.line, f"{what}: each window is a mapping")
        if w is not spec:
            _check_keys(w, WINDOW_KEYS, file, f"{what} window")
        line = w.line
        start = _minutes(w.get("utc_from"), file, line, f"{what} utc_from")
        end = _minutes(w.get("utc_to"), file, line, f"{what} utc_to")
        if start == end:
            raise Problem(file, line, f"{what}: empty window {w.get('utc_from')}-{w.get('utc_to')}")
        out.append((_days_mask(w.get("days"), file, line, f"{what}"), start, end))
    return out


def _off_peak_factors(row, file: str, what: str) -> dict[str, float]:
    """Off-peak price / standard price for each price key of the row."""
    spec = row["off_peak"]
    if "discount" in spec:
        discount = _number(spec["discount"], file, _line(spec, "discount"), f"{what} discount")
        if discount > 1:
            raise Problem(file, _line(spec, "discount"), f"{what}: discount is a fraction 0..1")
        if any(k in spec for k in PRICE_KEYS):
            raise Problem(file, spec.line, f"{what}: give a discount or explicit prices, not both")
        return {k: 1 - discount for k in PRICE_KEYS}
    if not any(k in spec for k in PRICE_KEYS):
        raise Problem(file, spec.line, f"{what}: needs a discount or explicit prices")
    factors = {}
    for key in PRICE_KEYS:
        if key in spec:
            value = _number(spec[key], file, _line(spec, key), f"{what} {key}")
            base = row.get(key)
            factors[key] = value / base if base else 1.0
        else:
            factors[key] = 1.0
    return factors


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


def _scaled(value: float | None, factor: float) -> float | None:
    if value is None:
        return None
    return round(value * factor, 9) if factor != 1 else value


class PriceBook:
    """All loaded tables, with name resolution and flat price rows.

    ``discounts`` (negotiated, from llmcost.yaml) scale a provider's or a model's prices;
    ``deployments`` map Azure deployment names to model names.
    """

    def __init__(
        self,
        tables: list[Table],
        discounts: Iterable[Discount] = (),
        deployments: dict[str, tuple[str, str]] | None = None,
    ):
        self.tables = tables
        self.discounts = list(discounts)
        self.deployments = {k.lower(): v for k, v in (deployments or {}).items()}
        self.models: dict[tuple[str, str], Model] = {}
        self._names: dict[str, list[Model]] = {}
        self._patterns: list[tuple[str, Model]] = []
        self._table_of: dict[tuple[str, str], Table] = {}
        self._layer: dict[int, int] = {}  # id(model) -> table index: later tables are overlays
        for index, table in enumerate(tables):
            for model in table.models.values():
                self.models[(model.provider, model.key)] = model
                self._table_of[(model.provider, model.key)] = table
                self._layer[id(model)] = index
                for name in [model.key, *model.aliases]:
                    if name.endswith("*"):
                        self._patterns.append((name[:-1], model))
                    else:
                        self._names.setdefault(name, []).append(model)
        self._patterns.sort(key=lambda p: -len(p[0]))
        self.fallbacks = {
            t.provider: str(t.rules["fallback_provider"]).lower()
            for t in tables
            if t.rules.get("fallback_provider")
        }

    @property
    def version(self) -> str:
        """The date the tables were checked against the providers' pages: the user's own
        overlays are named apart (``overlays``); their version is theirs, not a date."""
        tables = [t for t in self.tables if not t.overlay] or self.tables
        return max((t.version for t in tables), default="")

    @property
    def overlays(self) -> list[dict]:
        """The user's price files laid over the tables, in the order they were laid: each
        file once, with the version it gives (llmcost.yaml's own prices have none)."""
        found: dict[str, dict] = {}
        for t in self.tables:
            if t.overlay:
                name = "llmcost.yaml" if t.version == "llmcost.yaml" else Path(t.file).name
                version = None if t.version == "llmcost.yaml" else t.version
                found.setdefault(name, {"file": name, "version": version})
        return list(found.values())

    def table_of(self, model: Model) -> Table:
        return self._table_of[(model.provider, model.key)]

    def find(self, key: str, provider: str | None = None) -> Model | None:
        return self._prefer(self._names.get(key.lower(), []), provider)

    def _prefer(self, found: list[Model], provider: str | None) -> Model | None:
        """The call's own provider, then its fallback provider, then PROVIDER_ORDER, then
        alphabetical (an overlay before a built-in table of the same provider): the same
        name always resolves the same way."""
        if not found:
            return None
        preferred = [provider, self.fallbacks.get(provider or "")]

        def rank(m: Model) -> tuple[int, int, str, int]:
            layer = -self._layer.get(id(m), 0)  # same provider twice: the overlay wins
            if m.provider in preferred:
                return (0, preferred.index(m.provider), "", layer)
            order = PROVIDER_ORDER.index(m.provider) if m.provider in PROVIDER_ORDER else 99
            return (1, order, m.provider, layer)

        return sorted(found, key=rank)[0]

    def resolve(self, name: str, provider: str | None = None) -> Resolution:
        """Match a logged model name to a priced model; ``how`` explains the choice and
        ``steps`` lists every candidate name tried."""
        steps: list[str] = []
        provider = provider.lower() if provider else None
        target = self.deployments.get(name.strip().lower()) or self.deployments.get(
            name.strip().lower().rsplit("/", 1)[-1]
        )
        if target is not None:
            mapped, origin = target
            steps.append(f"Azure deployment {name!r} mapped to {mapped!r} ({origin})")
            name, provider = mapped, provider or "azure"
        hinted = name_provider(name)
        host = name.strip().lower().split("/", 1)[0] in HOST_PREFIXES
        if hinted and hinted != provider and (host or not provider):
            steps.append(
                f"name prefix says provider {hinted!r}"
                + (f" (log said {provider!r})" if provider else "")
            )
            provider = hinted
        for candidate, how in candidate_names(name):
            found = self._names.get(candidate, [])
            model = self._prefer(found, provider)
            text = how.format(candidate)
            if model is not None:
                why = _why(model, found, provider, self.fallbacks)
                steps.append(f"{text}: found in {model.provider} ({Path(model.file).name}){why}")
                return Resolution(name, model.provider, model.key, f"{text}{why}", tuple(steps))
            for prefix, pmodel in self._patterns:
                if candidate.startswith(prefix):
                    steps.append(
                        f"{text}: matches pattern {prefix}* of {pmodel.provider}/{pmodel.key}"
                    )
                    return Resolution(
                        name,
                        pmodel.provider,
                        pmodel.key,
                        f"pattern {prefix}* ({text})",
                        tuple(steps),
                    )
            steps.append(f"{text}: no table has it")
        return Resolution(name, provider, None, "no pricing table knows this model", tuple(steps))

    def discount_for(self, model: Model) -> Discount | None:
        """The model's own discount wins over its provider's (they do not compound)."""
        for d in self.discounts:
            if d.model and self._discount_target(d) == (model.provider, model.key):
                return d
        for d in self.discounts:
            if d.provider and d.provider == model.provider:
                return d
        return None

    def _discount_target(self, d: Discount) -> tuple[str, str] | None:
        r = self.resolve(d.model, d.provider) if d.model else None
        return (r.provider, r.model_key) if r and r.priced else None

    def rows(self) -> list[PriceRow]:
        out: list[PriceRow] = []
        for table in self.tables:
            for model in table.models.values():
                out.extend(_flatten(table, model, self.discount_for(model)))
        return out


def _why(model: Model, found: list[Model], provider: str | None, fallbacks: dict) -> str:
    others = sorted({m.provider for m in found} - {model.provider})
    if provider and model.provider == provider:
        return ""
    reason = (
        f"; {provider} has no such model, its fallback is {model.provider}"
        if provider and fallbacks.get(provider) == model.provider
        else (f"; {provider} has no such model" if provider else "")
    )
    if others:
        reason += f"; also in {', '.join(others)} — {model.provider} wins by provider order"
    return reason


_DATE_SUFFIX = re.compile(
    r"(-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-\d{2}-\d{4}|-\d{4}|-\d{3}|@\d{3}|-latest|@latest|@default)$"
)
_BEDROCK_VERSION = re.compile(r"-v\d+(:\d+)?$|:\d+$")
# A Bedrock cross-region inference profile's region ("us.") and a Bedrock id's vendor
# ("anthropic."): left out to find a price, and to cut a long name (render.terminal).
BEDROCK_REGIONS = ("us", "eu", "apac", "global", "us-gov", "jp", "au", "ca")
BEDROCK_VENDORS = ("anthropic", "amazon", "meta", "mistral", "cohere", "ai21", "deepseek",
                   "openai", "qwen", "writer", "moonshotai", "minimax")  # fmt: skip
_BEDROCK_REGION = re.compile(rf"^({'|'.join(BEDROCK_REGIONS)})\.")
_BEDROCK_VENDOR = re.compile(rf"^({'|'.join(BEDROCK_VENDORS)})\.")
_ROUTER_SUFFIX = re.compile(r":(beta|free|thinking|online|nitro|floor|extended|exacto)$")
_DOTTED_VERSION = re.compile(r"(\d)\.(\d)")


def name_provider(name: str) -> str | None:
    """The provider a ``provider/model`` name states (``groq/…``, ``openrouter/anthropic/…``)."""
    parts = name.strip().lower().split("/")
    if len(parts) < 2 or name.lower().startswith(("arn:", "projects/")):
        return None
    if parts[0] == "openrouter" and len(parts) > 2:
        return NAME_PREFIX_PROVIDERS.get(parts[1])
    return NAME_PREFIX_PROVIDERS.get(parts[0])


def candidate_names(name: str) -> Iterable[tuple[str, str]]:
    """Names to try for a logged model name, most literal first, each with its explanation.

    Order: the exact name; an ARN's resource; the last path segment (provider/model prefixes,
    Vertex resource paths); the Azure data-zone variant (``azure/eu/gpt-4o`` -> ``gpt-4o@eu``);
    an OpenRouter ``:beta``-style suffix removed; the Bedrock region and vendor prefixes and
    version suffix removed; then snapshot suffixes (dates, ``-001``, ``@…``, ``-latest``)
    removed one at a time; then the same with dotted versions as dashes (OpenRouter writes
    ``claude-3.5-sonnet`` for ``claude-3-5-sonnet``).
    """
    seen: set[str] = set()

    def emit(n: str, how: str):
        if n and n not in seen:
            seen.add(n)
            yield n, how

    s = name.strip().lower()
    yield from emit(s, "exact name {}")
    base = s
    region = None
    if s.startswith("arn:"):
        base = s.rsplit("/", 1)[-1]
        yield from emit(base, "ARN resource {}")
    if "/" in base:
        parts = base.split("/")
        if parts[0] in ("azure", "azure_ai") and len(parts) > 2 and parts[1] in AZURE_REGIONS:
            region = parts[1]
        base = parts[-1]  # openai/gpt-4o, projects/…/models/x, openrouter/a/b
        if region:
            yield from emit(f"{base}@{region}", f"Azure {region} data-zone deployment: {{}}")
        yield from emit(base, "provider/path prefix removed: {}")
    if not base.startswith("ft:"):
        unsuffixed = _ROUTER_SUFFIX.sub("", base)
        if unsuffixed != base:
            base = unsuffixed
            yield from emit(base, "router suffix removed: {}")
    region_free = _BEDROCK_REGION.sub("", base)
    yield from emit(region_free, "inference-profile region removed: {}")
    vendor_free = _BEDROCK_VENDOR.sub("", region_free)
    if vendor_free != region_free:
        yield from emit(vendor_free, "Bedrock vendor prefix removed: {}")
        unversioned = _BEDROCK_VERSION.sub("", vendor_free)
        yield from emit(unversioned, "Bedrock version suffix removed: {}")
        vendor_free = unversioned
    stems = [vendor_free]
    dashed = _DOTTED_VERSION.sub(r"\1-\2", vendor_free)
    if dashed != vendor_free:
        stems.append(dashed)
    for i, stem in enumerate(stems):
        if i:
            yield from emit(stem, "dotted version as dashes: {}")
        while True:
            shorter = _DATE_SUFFIX.sub("", stem)
            if shorter == stem:
                break
            stem = shorter
            if region:
                yield from emit(f"{stem}@{region}", f"Azure {region} data-zone deployment: {{}}")
            yield from emit(stem, "snapshot/alias suffix removed: {}")


def _flatten(table: Table, model: Model, discount: Discount | None = None) -> list[PriceRow]:
    rows = sorted(model.prices, key=lambda r: _date(r["from"], model.file, r.line, "from"))
    counts_cache = bool(table.rules.get("long_context_counts_cache", True))
    factor = 1 - discount.percent / 100 if discount else 1.0
    out: list[PriceRow] = []
    for i, row in enumerate(rows):
        start = _date(row["from"], model.file, row.line, "from")
        if row.get("to") is not None:
            end = _date(row["to"], model.file, row.line, "to")
        elif i + 1 < len(rows):
            end = _date(rows[i + 1]["from"], model.file, rows[i + 1].line, "from")
        else:
            end = FAR_FUTURE
        windows = None
        off_factors = None
        if row.get("off_peak") is not None:
            windows = off_peak_windows(row["off_peak"], model.file, "off_peak")
            off_factors = _off_peak_factors(row, model.file, "off_peak")
        contexts = [(0, row)] + [
            (int(lc["above_input_tokens"]), lc) for lc in row.get("long_context") or []
        ]
        per_search = row.get("per_search")
        # (None, 1.0): the row as written; then one variant per reported value, and per pair
        geos = [(None, 1.0), *_modifier(row, "inference_geo", model.file, model.key).items()]
        speeds = [(None, 1.0), *_modifier(row, "speed", model.file, model.key).items()]
        modifiers = [(g, s, fg * fs) for g, fg in geos for s, fs in speeds]
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
                periods = [(None, {k: 1.0 for k in PRICE_KEYS})]
                if windows:
                    periods.append((windows, off_factors))
                for (window, f), (geo, speed, m) in product(periods, modifiers):
                    out.append(
                        PriceRow(
                            provider=model.provider,
                            model_key=model.key,
                            tier=tier,
                            above_input_tokens=threshold,
                            valid_from=start,
                            valid_to=end,
                            input=_scaled(float(p["input"]), f["input"] * factor * m),
                            output=_scaled(float(p["output"]), f["output"] * factor * m),
                            **{
                                k: _scaled(p[k], f[k] * factor * m)
                                for k in PRICE_KEYS
                                if k not in ("input", "output")
                            },
                            per_request=_scaled(float(row.get("per_request") or 0.0), factor),
                            per_search=_scaled(
                                float(per_search) if per_search is not None else None, factor
                            ),
                            version=table.version,
                            source=model.source,
                            counts_cache=counts_cache,
                            off_peak=window,
                            discount_pct=discount.percent if discount else 0.0,
                            inference_geo=geo,
                            speed=speed,
                        )
                    )
    return out


def load_tables(
    paths: Iterable[Path], errors: list[Problem] | None = None
) -> tuple[list[Table], list[Problem]]:
    tables, warnings = [], []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise PricingError(
                f"cannot read pricing table {path}: {exc.strerror}",
                # named by --pricing, llmcost.yaml or `pricing check`/`diff`: no one flag to name
                hint="check the path",
            ) from None
        try:
            text = decode_yaml(data)
        except YamlProblem as problem:
            raise PricingError(
                f"{path}:{problem.line}: {problem.message}",
                hint="save the pricing table as UTF-8",
            ) from None
        try:
            table, warns = parse_table(text, str(path), errors)
        except Problem as problem:
            if errors is not None:
                errors.append(problem)
                continue
            raise PricingError(
                f"{problem.file}:{problem.line}: {problem.message}",
                hint="fix the table (schema: pricing/SCHEMA.md) or run `llmcost pricing check`",
            ) from None
        tables.append(table)
        warnings.extend(warns)
    return tables, warnings


def merge(builtin: list[Table], extra: list[Table]) -> list[Table]:
    """Overlay ``extra`` on ``builtin``: an overlay's model replaces a same-named one of the
    same provider (its aliases and history go with it)."""
    merged: list[Table] = list(builtin)
    for table in extra:
        for model in table.models.values():
            for other in merged:
                for key, m in list(other.models.items()):
                    if m.provider == model.provider and m.key == model.key:
                        del other.models[key]
        merged.append(table)
    return merged


AUTO = "auto"


def load_pricing(
    overlays: Iterable[Path] = (), table_dir: Path | None = None, settings=AUTO
) -> PriceBook:
    """The built-in tables, then the ``pricing:`` settings of llmcost.yaml (``settings``:
    ``"auto"`` finds the config, ``None`` ignores it), then each ``--pricing`` overlay: an
    overlay's model replaces a same-named one."""
    from llmcost import pricing_overrides

    if settings == AUTO:
        settings = pricing_overrides.from_config()
    files = sorted((table_dir or default_table_dir()).glob("*.yaml"))
    if table_dir is not None and not files:  # else every model would read as unpriced
        raise PricingError(
            f"{table_dir}: "
            + (
                "no pricing tables (*.yaml) in it"
                if Path(table_dir).is_dir()
                else "no such directory"
            ),
            hint="give the folder that holds the tables (like pricing/ of llmcost)",
        )
    builtin, _ = load_tables(files)
    layers = pricing_overrides.tables(settings) if settings else []
    extra, _ = load_tables(list(overlays))
    for table in layers + extra:
        table.overlay = True
    tables = merge(builtin, layers + extra)
    if settings:
        return PriceBook(tables, settings.discounts, settings.deployments)
    return PriceBook(tables)
