"""Input formats: a registry of file formats and of the record shapes a JSON line can take.

Built-in formats register the way a plugin would: each module calls ``register_format`` or
``register_shape`` at import time, and ``load_builtin`` imports them all. Detection happens
in one place, ``detect``: an explicit ``--input-format`` wins, else each format sniffs the
first bytes of the file (content, not only the extension).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from llmcost.errors import UsageError


@dataclass(frozen=True)
class LineShape:
    """One shape a JSON record (a log line, or the ``response`` of an envelope) can take.

    Every attribute is SQL over the parsed structs ``r`` (the response object, or the line
    itself), ``q`` (the request body, or the line itself) and ``p`` (the line) — never over
    the raw line text, which the fast reader does not keep; a field a shape needs must be in
    ``formats.sql.RECORD_STRUCT``. ``usage``
    is a JSON expression; its style is told from its keys (see formats/usage.py) unless
    ``usage_style`` names one.
    """

    name: str
    description: str
    match: str
    usage: str
    completion: str = "NULL"
    finish_reason: str = "NULL"
    provider: str = "NULL"
    request_id: str = "NULL"
    ts: str = "NULL"
    service_tier: str = "NULL"
    usage_style: str | None = None
    # SQL: a reason (VARCHAR) when the record is recognized but is not a billed call
    # (a stream chunk without usage, a summary line); such records are skipped, not rejected.
    skip: str = "NULL"
    priority: int = 50  # lower is tried first; the flat fallback is last


@dataclass(frozen=True)
class FileFormat:
    """A file-level format: how to recognize a file and load it into the staging table."""

    name: str
    description: str
    recognized_by: str
    sniff: Callable[[bytes, Path], bool]
    load: Callable[..., object] = field(repr=False)
    priority: int = 50
    # Line-based formats are read in chunks and resumed at the last line read; their load()
    # takes ``line_offset`` (the number of lines before the chunk). Others are read whole.
    line_based: bool = False


# What Windows tools (PowerShell 5's Out-File -Encoding utf8, Notepad, .NET) write before
# UTF-8 text: no format's look at a file's first bytes expects it, and DuckDB skips it.
UTF8_BOM = b"\xef\xbb\xbf"

_FORMATS: dict[str, FileFormat] = {}
_SHAPES: dict[str, LineShape] = {}

BUILTIN_MODULES = [
    "llmcost.formats.openai",
    "llmcost.formats.anthropic",
    "llmcost.formats.gemini",
    "llmcost.formats.flat",
    "llmcost.formats.otel",
    "llmcost.formats.litellm",
    "llmcost.formats.langfuse",
    "llmcost.formats.helicone",
    "llmcost.formats.bedrock",
    "llmcost.formats.bedrock_converse",
    "llmcost.formats.openai_batch",
    "llmcost.formats.usage_reports",
    "llmcost.formats.claude_code",
    "llmcost.formats.codex",
    "llmcost.formats.custom",
    "llmcost.formats.jsonl",
]


def register_format(fmt: FileFormat) -> FileFormat:
    _FORMATS[fmt.name] = fmt
    return fmt


def register_shape(shape: LineShape) -> LineShape:
    _SHAPES[shape.name] = shape
    return shape


def load_builtin() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


# Formats known only at run time (the column mappings of llmcost.yaml): functions returning
# FileFormats, asked on every formats() call, so detect() and --input-format see them.
_FORMAT_SOURCES: list[Callable[[], list[FileFormat]]] = []


def register_format_source(source: Callable[[], list[FileFormat]]):
    _FORMAT_SOURCES.append(source)
    return source


def formats() -> list[FileFormat]:
    load_builtin()
    extra = [fmt for source in _FORMAT_SOURCES for fmt in source()]
    return sorted([*_FORMATS.values(), *extra], key=lambda f: (f.priority, f.name))


def shapes() -> list[LineShape]:
    load_builtin()
    return sorted(_SHAPES.values(), key=lambda s: (s.priority, s.name))


def detect(path: Path, head: bytes, override: str | None = None,
           fallback: bool = True) -> FileFormat | None:
    """The format to read ``path`` with: ``override`` if given, else the first that sniffs,
    else JSON lines when ``fallback`` (a file the user named), else None (a file met while
    walking a directory that holds no log we know)."""
    known = formats()
    if override:
        for fmt in known:
            if fmt.name == override:
                return fmt
        names = ", ".join(f.name for f in known)
        raise UsageError(
            f"unknown input format {override!r}", hint=f"choose one of: {names} (llmcost formats)"
        )
    head = head.removeprefix(UTF8_BOM)
    for fmt in known:
        if fmt.sniff(head, path):
            return fmt
    # JSON lines is the default for a named file: every line is then accounted for.
    return _FORMATS["jsonl"] if fallback else None
