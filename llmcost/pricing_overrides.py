"""Your own prices: the ``pricing:`` section of llmcost.yaml.

```yaml
pricing:
  tables: [prices/contract.yaml]            # extra tables (pricing/SCHEMA.md), relative to this file
  discounts:                                # negotiated: percent off every price
    - {provider: openai, percent: 15}
    - {model: claude-sonnet-4-5, percent: 20}   # a model's discount wins over its provider's
  models:                                   # entries in the table schema (fine-tunes, private models)
    "ft:gpt-4o-mini:acme:support:*":
      provider: openai
      prices: [{from: 2024-07-18, input: 0.30, output: 1.20, cache_read: 0.15}]
  self_hosted:                              # priced from what the GPU costs
    llama-3.1-8b-local: {gpu_hour_usd: 2.0, tokens_per_second: 1500}
  azure_deployments:                        # Azure deployment name -> model it runs
    my-gpt4o-prod: gpt-4o
```

Every override remembers where it was written ("llmcost.yaml:LINE"), and ``llmcost pricing
show`` prints it. Self-hosted price per million tokens, input and output alike:
``gpu_hour_usd × 1,000,000 / (3,600 × tokens_per_second)``, rounded to 6 decimals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from llmcost import config
from llmcost.errors import ConfigError
from llmcost.pricing import Discount, Problem, Table, parse_model
from llmcost.yamlio import LineDict, line_of

SECTION_KEYS = {"tables", "discounts", "models", "self_hosted", "azure_deployments"}
DISCOUNT_KEYS = {"provider", "model", "percent"}
SELF_HOSTED_KEYS = {"gpu_hour_usd", "tokens_per_second", "provider", "from"}
CONFIG_MARK = "<llmcost.yaml>"  # replaced by the config's file name once it is known
SELF_HOSTED_FROM = dt.date(2000, 1, 1)


@dataclass
class PricingSettings:
    tables: list[tuple[str, int]] = field(default_factory=list)  # (path, line)
    discounts: list[Discount] = field(default_factory=list)
    models: Table | None = None
    self_hosted: Table | None = None
    deployments: dict[str, tuple[str, str]] = field(default_factory=dict)
    path: Path | None = None

    def located(self, path: Path | None) -> PricingSettings:
        """Name the config file in every origin ("llmcost.yaml:12")."""
        self.path = path
        name = path.name if path else "llmcost.yaml"

        def fix(text: str) -> str:
            return text.replace(CONFIG_MARK, name)

        self.discounts = [
            Discount(d.percent, d.provider, d.model, fix(d.origin)) for d in self.discounts
        ]
        self.deployments = {k: (m, fix(o)) for k, (m, o) in self.deployments.items()}
        for table in (self.models, self.self_hosted):
            if table is not None:
                table.file = fix(table.file)
                for model in table.models.values():
                    model.file, model.source = fix(model.file), fix(model.source)
        return self


def self_hosted_price(gpu_hour_usd: float, tokens_per_second: float) -> float:
    """USD per million tokens for a GPU costing ``gpu_hour_usd`` that serves
    ``tokens_per_second``: gpu_hour_usd × 1e6 / (3600 × tokens_per_second)."""
    return round(gpu_hour_usd * 1_000_000 / (3600 * tokens_per_second), 6)


def _where(line: int) -> str:
    return f"{CONFIG_MARK}:{line}"


@config.section("pricing")
def validate(value, fail) -> PricingSettings:
    if value is None:
        return PricingSettings()
    config.check_keys(value, SECTION_KEYS, fail, "pricing")
    settings = PricingSettings()
    tables = value.get("tables") or []
    if not isinstance(tables, list):
        fail(line_of(value, "tables"), "pricing.tables must be a list of YAML files")
    for item in tables:
        if not isinstance(item, str):
            fail(line_of(value, "tables"), f"pricing.tables: {item!r} is not a file path")
        settings.tables.append((item, line_of(value, "tables")))
    discounts = value.get("discounts") or []
    if not isinstance(discounts, list):
        fail(line_of(value, "discounts"), "pricing.discounts must be a list")
    for d in discounts:
        config.check_keys(d, DISCOUNT_KEYS, fail, "a pricing discount")
        line = line_of(d)
        if ("provider" in d) == ("model" in d):
            fail(line, "a discount names either a provider or a model")
        percent = d.get("percent")
        if (
            isinstance(percent, bool)
            or not isinstance(percent, (int, float))
            or not 0 <= percent <= 100
        ):
            fail(line_of(d, "percent"), f"discount percent must be 0..100, got {percent!r}")
        settings.discounts.append(
            Discount(
                float(percent),
                provider=str(d["provider"]).lower() if "provider" in d else None,
                model=str(d["model"]).lower() if "model" in d else None,
                origin=_where(line),
            )
        )
    models = value.get("models") or {}
    if not isinstance(models, dict):
        fail(line_of(value, "models"), "pricing.models must be a mapping of model name to entry")
    if models:
        table = Table("custom", "llmcost.yaml", "", CONFIG_MARK, {})
        for key, entry in models.items():
            try:
                line = line_of(models, key)
                model = parse_model(key, entry, CONFIG_MARK, "custom", _where(line), [], line)
            except Problem as problem:
                fail(problem.line, problem.message)
            if model.provider == "custom" and not (isinstance(entry, dict) and "provider" in entry):
                fail(line_of(entry), f"model {key!r}: say which provider bills it (provider: …)")
            table.models[model.key] = model
        settings.models = table
    hosted = value.get("self_hosted") or {}
    if not isinstance(hosted, dict):
        fail(line_of(value, "self_hosted"), "pricing.self_hosted must be a mapping")
    if hosted:
        settings.self_hosted = _self_hosted(hosted, fail)
    deployments = value.get("azure_deployments") or {}
    if not isinstance(deployments, dict):
        fail(line_of(value, "azure_deployments"), "pricing.azure_deployments must be a mapping")
    for name, target in deployments.items():
        if not isinstance(target, str) or not target:
            fail(line_of(deployments, name), f"deployment {name!r} must map to a model name")
        settings.deployments[str(name).lower()] = (target, _where(line_of(deployments, name)))
    return settings


def _self_hosted(hosted: dict, fail) -> Table:
    table = Table("self-hosted", "llmcost.yaml", "", CONFIG_MARK, {})
    for key, spec in hosted.items():
        config.check_keys(spec, SELF_HOSTED_KEYS, fail, f"self_hosted model {key!r}")
        for need in ("gpu_hour_usd", "tokens_per_second"):
            value = spec.get(need)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                fail(
                    line_of(spec, need) or line_of(spec), f"{key}: {need} must be a positive number"
                )
        price = self_hosted_price(spec["gpu_hour_usd"], spec["tokens_per_second"])
        start = spec.get("from", SELF_HOSTED_FROM)
        row = LineDict({"from": start, "input": price, "output": price})
        row.line, row.key_lines = line_of(spec), {}
        defined = line_of(hosted, key)  # the model's name: its settings may start a line below
        entry = LineDict(
            {
                "provider": str(spec.get("provider") or "self-hosted"),
                "source": _where(defined),
                "note": (
                    f"self-hosted: ${spec['gpu_hour_usd']}/GPU-hour at "
                    f"{spec['tokens_per_second']} tokens/s = gpu_hour_usd x 1e6 / (3600 x "
                    f"tokens_per_second) = ${price}/M tokens, input and output"
                ),
                "prices": [row],
            }
        )
        entry.line, entry.key_lines = line_of(spec), {}
        try:
            model = parse_model(key, entry, CONFIG_MARK, "self-hosted", "", [], defined)
        except Problem as problem:
            fail(problem.line or line_of(spec), problem.message)
        table.models[model.key] = model
    return table


def from_config() -> PricingSettings | None:
    """The ``pricing:`` section of the llmcost.yaml in use (None when there is none)."""
    cfg = config.load()
    settings = cfg.get("pricing")
    return settings.located(cfg.path) if settings else None


def table_paths(settings: PricingSettings | None) -> list[Path]:
    if not settings:
        return []
    base = settings.path.parent if settings.path else Path.cwd()
    return [(base / p) if not Path(p).is_absolute() else Path(p) for p, _ in settings.tables]


def existing_table_paths(settings: PricingSettings | None) -> list[Path]:
    """``table_paths``; one that is no file is a ConfigError naming the llmcost.yaml line
    that lists it (not the --pricing flag no one gave)."""
    paths = table_paths(settings)
    for path, (name, line) in zip(paths, settings.tables if settings else []):
        if not path.is_file():
            raise ConfigError(
                f"{settings.path or 'llmcost.yaml'}:{line}: pricing.tables: {name}: "
                f"no such file ({path})",
                hint="a path in pricing.tables is relative to the llmcost.yaml that lists it",
            )
    return paths


def tables(settings: PricingSettings | None) -> list[Table]:
    """The tables the settings add, in order: listed files, then models, then self-hosted."""
    from llmcost.pricing import load_tables

    if not settings:
        return []
    files, _ = load_tables(existing_table_paths(settings))
    return files + [t for t in (settings.models, settings.self_hosted) if t is not None]
