"""The ``routing:`` and ``savings:`` sections of llmcost.yaml, with their defaults.

```yaml
routing:                       # model-downgrade analysis
  rules:                       # first matching rule wins; else the pricing table's downgrade_to
    - {feature: classify-ticket, to: gpt-4.1-nano}
    - {model: gpt-4o, to: gpt-4o-mini}          # model: as logged or its pricing key
  escalation_share: 0.2        # cascade: share of calls the small model hands back
  medium_share: 0.5            # coverage level "simple + this share of medium calls"
savings:
  offline_features: [nightly-summaries]        # batch-eligible whatever their shape
  retry_seconds: 60            # same prompt again within this many seconds = a retry
  near_duplicate_threshold: 0.8                # Jaccard similarity of word 3-shingles
  runaway_k: 5                 # runaway: above median + k x robust sigma, not finished
  loop_share: 0.5              # ... or looping: this share of word 8-grams said 3+ times
  anomaly_k: 3.5               # anomaly: above trailing median + k x robust sigma
  anomaly_call_k: 5            # ... one call alone is one when its log size is k sigmas out
  anomaly_min_share: 0.1       # ... and its excess is at least this share of the day's total
  baseline_days: 14            # trailing window of the anomaly baseline
  gpu_hour_usd: 2.5            # self-hosting: price of one GPU-hour
  selfhost:                    # per open-model class: GPUs per replica, tokens/second
    small: {gpus: 1, input_tps: 20000, output_tps: 2500}
```

Validators run when the config is loaded (unknown keys and bad values fail with file:line);
``settings(ctx)`` gives the analyses the merged values. When the report was built without
a loaded config (``ctx.config`` is None), llmcost.yaml is looked up as ``config.load()``
does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llmcost import config
from llmcost.yamlio import line_of

SELFHOST_CLASSES = {
    # Rough serving capacity of one replica with vLLM-class batching (many concurrent
    # requests), per open-weight class; override under savings.selfhost.
    "small": {"gpus": 1, "input_tps": 20000.0, "output_tps": 2500.0},  # ~8B on one H100 80GB
    "large": {"gpus": 2, "input_tps": 8000.0, "output_tps": 1200.0},  # ~70-120B on 2x H100
}


@dataclass
class Rule:
    to: str
    feature: str | None = None
    model: str | None = None
    line: int = 0


@dataclass
class Settings:
    rules: list[Rule] = field(default_factory=list)
    escalation_share: float = 0.2
    medium_share: float = 0.5
    offline_features: list[str] = field(default_factory=list)
    retry_seconds: float = 60.0
    near_duplicate_threshold: float = 0.8
    runaway_k: float = 5.0
    loop_share: float = 0.5
    anomaly_k: float = 3.5
    anomaly_call_k: float = 5.0
    anomaly_min_share: float = 0.1
    baseline_days: int = 14
    gpu_hour_usd: float = 2.5
    selfhost: dict = field(
        default_factory=lambda: {k: dict(v) for k, v in SELFHOST_CLASSES.items()}
    )
    path: str | None = None  # the config file, for messages


def _number(value, fail, line: int, what: str, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(line, f"{what} must be a number, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        fail(line, f"{what} must be {bounds}, got {value!r}")
    return float(value)


@config.section("routing")
def _routing(value, fail) -> dict:
    if value is None:
        return {}
    config.check_keys(value, {"rules", "escalation_share", "medium_share"}, fail, "routing")
    out: dict = {}
    for key in ("escalation_share", "medium_share"):
        if key in value:
            out[key] = _number(value[key], fail, line_of(value, key), f"routing.{key}", 0, 1)
    rules = value.get("rules") or []
    if not isinstance(rules, list):
        fail(line_of(value, "rules"), "routing.rules must be a list of {feature, model, to}")
    out["rules"] = []
    for rule in rules:
        config.check_keys(rule, {"feature", "model", "to"}, fail, "a routing rule")
        if not rule.get("to"):
            fail(line_of(rule), "a routing rule needs 'to': the model to route to")
        if not rule.get("feature") and not rule.get("model"):
            fail(line_of(rule), "a routing rule needs 'feature' or 'model' (or both)")
        out["rules"].append(
            Rule(
                to=str(rule["to"]),
                feature=str(rule["feature"]) if rule.get("feature") else None,
                model=str(rule["model"]) if rule.get("model") else None,
                line=line_of(rule),
            )
        )
    return out


_SAVINGS_NUMBERS = {
    # key: (low, high)
    "retry_seconds": (0, None),
    "near_duplicate_threshold": (0.05, 1),
    "runaway_k": (1, None),
    "loop_share": (0.1, 1),
    "anomaly_k": (1, None),
    "anomaly_call_k": (1, None),
    "anomaly_min_share": (0, 1),
    "baseline_days": (3, 90),
    "gpu_hour_usd": (0, None),
}


@config.section("savings")
def _savings(value, fail) -> dict:
    if value is None:
        return {}
    config.check_keys(value, {"offline_features", "selfhost", *_SAVINGS_NUMBERS}, fail, "savings")
    out: dict = {}
    for key, (low, high) in _SAVINGS_NUMBERS.items():
        if key in value:
            out[key] = _number(value[key], fail, line_of(value, key), f"savings.{key}", low, high)
    if "baseline_days" in out:
        out["baseline_days"] = int(out["baseline_days"])
    if "offline_features" in value:
        features = value["offline_features"]
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
            fail(line_of(value, "offline_features"), "savings.offline_features: a list of names")
        out["offline_features"] = list(features)
    if "selfhost" in value:
        classes = value["selfhost"]
        config.check_keys(classes, set(SELFHOST_CLASSES), fail, "savings.selfhost")
        out["selfhost"] = {}
        for name, spec in classes.items():
            what = f"savings.selfhost.{name}"
            config.check_keys(spec, {"gpus", "input_tps", "output_tps"}, fail, what)
            out["selfhost"][name] = {
                key: _number(spec[key], fail, line_of(spec, key), f"{what}.{key}", 1e-9)
                for key in spec
            }
    return out


def settings(ctx) -> Settings:
    """The routing and savings settings for this run (defaults where the config is silent)."""
    if getattr(ctx, "config", None) is None:
        ctx.config = config.load()
    cfg = ctx.config
    routing = cfg.get("routing") or {}
    saving = dict(cfg.get("savings") or {})
    selfhost = {k: dict(v) for k, v in SELFHOST_CLASSES.items()}
    for name, spec in (saving.pop("selfhost", None) or {}).items():
        selfhost[name].update(spec)
    return Settings(
        rules=list(routing.get("rules") or []),
        escalation_share=routing.get("escalation_share", 0.2),
        medium_share=routing.get("medium_share", 0.5),
        selfhost=selfhost,
        path=str(cfg.path) if getattr(cfg, "path", None) else None,
        **saving,
    )
