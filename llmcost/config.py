"""``llmcost.yaml``: one file for budgets, alerts, pricing overrides, attribution, routing.

Found in the working directory, or given with ``--config``. Each top-level section belongs
to the module that uses it and is validated by that module's validator, registered with
``section``; an unknown key anywhere is an error that names the file and line.

Validators receive the section's value (LineDicts: ``yamlio.line_of`` gives key lines) and a
``fail(line, message)`` callable, and return the parsed section (any object).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from llmcost.errors import ConfigError
from llmcost.yamlio import YamlProblem, line_of
from llmcost.yamlio import decode as decode_yaml
from llmcost.yamlio import load as load_yaml

CONFIG_NAME = "llmcost.yaml"

Validator = Callable[[object, Callable[[int, str], None]], object]
_SECTIONS: dict[str, Validator] = {}
SECTION_MODULES = [
    "llmcost.config_sections",
    "llmcost.analyses.settings",
    "llmcost.budgets",
    "llmcost.attribution",
    "llmcost.pricing_overrides",
    "llmcost.formats.custom",
]


def section(name: str):
    """Register the validator of a top-level section."""

    def wrap(fn: Validator) -> Validator:
        _SECTIONS[name] = fn
        return fn

    return wrap


@dataclass
class Config:
    path: Path | None = None
    sections: dict[str, object] = field(default_factory=dict)

    def get(self, name: str, default=None):
        return self.sections.get(name, default)


def _load_sections() -> None:
    import importlib

    for module in SECTION_MODULES:
        importlib.import_module(module)


def find(explicit: Path | None = None, origin: str = "--config") -> Path | None:
    """The config to use: ``--config``, else $LLMCOST_CONFIG, else ./llmcost.yaml if present.
    ``origin``: where ``explicit`` came from, named in the error when it is no file."""
    if explicit is not None:
        if not explicit.is_file():
            what = "a directory, not a config file" if explicit.is_dir() else "no such config file"
            raise ConfigError(
                f"{explicit}: {what}" + (f" (named by {origin})" if origin != "--config" else ""),
                hint=f"check the path given to {origin}"
                + (", or unset it" if origin != "--config" else ""),
            )
        return explicit
    env = os.environ.get("LLMCOST_CONFIG")
    if env:
        return find(Path(env), "$LLMCOST_CONFIG")
    local = Path.cwd() / CONFIG_NAME
    return local if local.is_file() else None


@contextlib.contextmanager
def using(explicit: Path | None):
    """Validate the config (``--config`` or the usual search) and, for the duration of a
    command, make every ``load()`` read that same file."""
    cfg = load(explicit)
    if explicit is None:
        yield cfg
        return
    old = os.environ.get("LLMCOST_CONFIG")
    os.environ["LLMCOST_CONFIG"] = str(explicit.resolve())
    try:
        yield cfg
    finally:
        if old is None:
            os.environ.pop("LLMCOST_CONFIG", None)
        else:
            os.environ["LLMCOST_CONFIG"] = old


def load(explicit: Path | None = None) -> Config:
    path = find(explicit)
    if path is None:
        return Config()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the config ({exc.strerror or exc})",
            hint="check the file and its permissions",
        ) from None
    try:
        text = decode_yaml(data)
    except YamlProblem as problem:
        raise ConfigError(
            f"{path}:{problem.line}: {problem.message}", hint="save llmcost.yaml as UTF-8"
        ) from None
    return parse(text, path)


def parse(text: str, path: Path) -> Config:
    _load_sections()

    def fail(line: int, message: str) -> None:
        raise ConfigError(
            f"{path}:{line}: {message}",
            hint="see the commented example in the README (Configuration)",
        )

    try:
        doc = load_yaml(text)
    except YamlProblem as exc:
        fail(exc.line, exc.message)
    if doc is None:
        return Config(path)
    if not isinstance(doc, dict):
        fail(1, "the config must be a mapping of sections")
    config = Config(path)
    for key, value in doc.items():
        if key not in _SECTIONS:
            known = ", ".join(sorted(_SECTIONS))
            fail(line_of(doc, key), f"unknown section {key!r} (known: {known})")
        config.sections[key] = _SECTIONS[key](value, _near(fail, line_of(doc, key)))
    return config


def _near(fail: Callable[[int, str], None], line: int) -> Callable[[int, str], None]:
    """``fail`` that names ``line`` (the section's) when the validator knows no line: a
    value that is not a mapping (a list, a number) carries no line of its own."""
    return lambda at, message: fail(at or line, message)


def check_keys(mapping, allowed: set[str], fail, what: str) -> None:
    """Fail on the first key of ``mapping`` that is not in ``allowed``."""
    if not isinstance(mapping, dict):
        fail(line_of(mapping), f"{what} must be a mapping")
    for key in mapping:
        if key not in allowed:
            fail(
                line_of(mapping, key),
                f"unknown key {key!r} in {what} (known: {', '.join(sorted(allowed))})",
            )
