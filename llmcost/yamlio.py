"""YAML reading that remembers line numbers, so errors can say file:line."""

from __future__ import annotations

import yaml

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~8x faster


class LineDict(dict):
    """A mapping that knows the line it starts on and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineLoader(_BaseLoader):
    """A safe loader whose mappings are LineDicts."""


def _construct_mapping(loader, node, deep=False):
    seen: dict = {}
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode):
            if key.value in seen:  # PyYAML keeps the last one: the first would vanish silently
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key.value!r} (first on line {seen[key.value]})",
                    key.start_mark,
                )
            seen[key.value] = key.start_mark.line + 1
    mapping = LineDict(_BaseLoader.construct_mapping(loader, node, deep=deep))
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {
        k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)
    }
    return mapping


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _construct_timestamp(loader, node):
    """A date that YAML's pattern takes for one but the calendar has not (2026-13-01,
    2026-02-30): PyYAML raises a bare ValueError, with no line, past the YAMLError a bad
    file is told by; it is a problem of the file, at the date's line."""
    try:
        return _BaseLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a date ({exc})", node.start_mark
        ) from None


LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def line_of(mapping, key: str | None = None) -> int:
    """The line of ``key`` in ``mapping`` (or of the mapping itself); 0 when unknown."""
    if isinstance(mapping, LineDict):
        return mapping.line_of(key) if key is not None else mapping.line
    return 0


class YamlProblem(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def load(text: str):
    """Parse YAML text into LineDicts; raises YamlProblem with the line of a syntax error."""
    try:
        return yaml.load(text, Loader=LineLoader)  # noqa: S506 - a safe loader subclass
    except yaml.reader.ReaderError as exc:  # a control character: no mark, a position
        raise YamlProblem(
            text.count("\n", 0, exc.position) + 1,
            f"not valid YAML: character #x{exc.character:04x} ({exc.reason})",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlProblem(
            mark.line + 1 if mark else 0, f"not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None


def decode(data: bytes) -> str:
    """YAML file bytes as text; raises YamlProblem naming the line of a byte that is not
    UTF-8 (a file saved in Latin-1)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise YamlProblem(line, f"not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
