"""Custom CSV / JSON-lines formats: a column mapping declared in ``llmcost.yaml``.

```yaml
formats:
  custom:
    - name: billing-export
      match: "exports/*.csv"        # glob(s) on the path; or pick it with --input-format NAME
      type: csv                     # csv | jsonl
      columns: {model: llm_model, timestamp: created, input_tokens: tokens_in,
                output_tokens: tokens_out, cache_read_tokens: cached, user_id: account,
                feature: product, cost_usd: billed}
      convention: canonical         # canonical | openai | anthropic | gemini
      provider: openai              # optional: when no provider column is mapped
      tags: [region, team]          # optional: source columns kept as tags
      delimiter: ";"                # optional, CSV only (default ",")
```

``columns`` maps canonical names (``CANONICAL``) to the file's column names (for JSON lines,
a key or a dotted path ``usage.in``); ``model`` is required. ``convention`` says how the
file counts tokens: ``canonical``/``openai`` input includes cache reads and writes and output
includes reasoning; ``anthropic`` input EXCLUDES cache reads and writes (they are added);
``gemini`` output EXCLUDES reasoning (it is added).

A CSV is read by DuckDB with every column as text (the header gives the names), then each
value is cast: a row with a count that is not a non-negative integer, a cost that is not a
number, an unreadable timestamp or no model is rejected with its line; the others are kept.
A row with the wrong number of fields is rejected too.

The formats are registered at detection time (``formats.register_format_source``) from the
llmcost.yaml in force (``./llmcost.yaml`` or ``$LLMCOST_CONFIG``), ahead of every built-in
format: a path that matches a custom format's glob is read with it.
"""

from __future__ import annotations

import csv
import fnmatch
import functools
import io
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from llmcost import config
from llmcost.errors import ConfigError
from llmcost.formats import FileFormat, register_format_source
from llmcost.formats.lines import (
    BLANK_CSV_REJECT,
    INVALID_JSON,
    LINE_STATE,
    MAX_LINE_BYTES,
    RAW_KEEP_CHARS,
    csv_records_after_read,
    finish,
    read_lines,
)
from llmcost.formats.sql import install_macros
from llmcost.yamlio import line_of

# canonical name -> what it becomes
CANONICAL = {
    "request_id": "the call's id (else a hash of the record)",
    "timestamp": "when the call started (ISO 8601 or epoch s/ms/us/ns)",
    "provider": "openai, anthropic, … (else the entry's provider, else from the model name)",
    "model": "the model name (required)",
    "input_tokens": "input tokens (see convention)",
    "output_tokens": "output tokens (see convention)",
    "cache_read_tokens": "input tokens read from the prompt cache",
    "cache_write_tokens": "input tokens written to the prompt cache (5-minute)",
    "cache_write_1h_tokens": "input tokens written to the prompt cache (1-hour)",
    "reasoning_tokens": "reasoning/thinking output tokens",
    "service_tier": "standard, batch, flex, priority",
    "user_id": "user",
    "session_id": "session / conversation",
    "feature": "feature / route / product",
    "cost_usd": "the cost the file itself claims (kept for audit)",
    "latency_ms": "latency in milliseconds",
    "status": "ok / error (or an HTTP status)",
    "finish_reason": "stop / length / …",
    "max_tokens": "the request's output cap",
    "prompt": "prompt text",
    "completion": "completion text",
    "system": "system prompt text",
}
TOKEN_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
    "max_tokens",
)
CONVENTIONS = ("canonical", "openai", "anthropic", "gemini")
TYPES = ("csv", "jsonl")
ENTRY_KEYS = {"name", "match", "type", "columns", "convention", "provider", "tags", "delimiter"}


@dataclass
class CustomFormat:
    name: str
    type: str
    columns: dict[str, str]
    patterns: list[str] = field(default_factory=list)
    convention: str = "canonical"
    provider: str | None = None
    tags: list[str] = field(default_factory=list)
    delimiter: str = ","
    line: int = 0  # of the entry in llmcost.yaml
    column_lines: dict[str, int] = field(default_factory=dict)
    config_path: Path | None = None

    def where(self, key: str | None = None) -> str:
        line = self.column_lines.get(key, self.line) if key else self.line
        return f"{self.config_path}:{line}" if self.config_path else f"llmcost.yaml:{line}"

    def matches(self, path: Path) -> bool:
        text = path.as_posix()
        return any(
            PurePath(text).match(p) or fnmatch.fnmatch(text, p) or fnmatch.fnmatch(path.name, p)
            for p in self.patterns
        )


# ---------------------------------------------------------------------------------------------
# llmcost.yaml `formats:` section
# ---------------------------------------------------------------------------------------------


@config.section("formats")
def validate_formats(value, fail) -> list[CustomFormat]:
    """``formats: {custom: [entry, …]}``; every unknown key fails with its line."""
    config.check_keys(value, {"custom"}, fail, "formats")
    entries = value.get("custom") or []
    if not isinstance(entries, list):
        fail(line_of(value, "custom"), "formats.custom must be a list of format entries")
    from llmcost.formats import _FORMATS, load_builtin

    load_builtin()
    out: list[CustomFormat] = []
    for entry in entries:
        out.append(_entry(entry, fail, set(_FORMATS), {c.name for c in out}))
    return out


def _entry(entry, fail, builtin: set[str], seen: set[str]) -> CustomFormat:
    if not isinstance(entry, dict):
        fail(line_of(entry), "each formats.custom entry must be a mapping (name, type, columns)")
    config.check_keys(entry, ENTRY_KEYS, fail, "a formats.custom entry")
    for key in ("name", "type", "columns"):
        if key not in entry:
            fail(line_of(entry), f"formats.custom entry without '{key}'")
    name = entry["name"]
    if not isinstance(name, str) or not name.strip():
        fail(line_of(entry, "name"), "name must be a non-empty string")
    if name in builtin:
        fail(line_of(entry, "name"), f"{name!r} is a built-in format: choose another name")
    if name in seen:
        fail(line_of(entry, "name"), f"two formats.custom entries are named {name!r}")
    kind = entry["type"]
    if kind not in TYPES:
        fail(line_of(entry, "type"), f"type must be one of {', '.join(TYPES)}, got {kind!r}")
    columns = entry["columns"]
    if not isinstance(columns, dict):
        fail(line_of(entry, "columns"), "columns must map canonical names to the file's columns")
    for key, source in columns.items():
        if key not in CANONICAL:
            fail(
                line_of(columns, key),
                f"unknown canonical column {key!r} (known: {', '.join(CANONICAL)})",
            )
        if not isinstance(source, str) or not source.strip():
            fail(line_of(columns, key), f"columns.{key} must name a column of the file")
    if "model" not in columns:
        fail(line_of(entry, "columns"), "columns must map 'model' (every call needs its model)")
    match = entry.get("match", [])
    patterns = [match] if isinstance(match, str) else match
    if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        fail(line_of(entry, "match"), "match must be a glob or a list of globs")
    convention = entry.get("convention", "canonical")
    if convention not in CONVENTIONS:
        fail(
            line_of(entry, "convention"),
            f"convention must be one of {', '.join(CONVENTIONS)}, got {convention!r}",
        )
    tags = entry.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        fail(line_of(entry, "tags"), "tags must be a list of the file's column names")
    delimiter = entry.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        fail(line_of(entry, "delimiter"), "delimiter must be one character")
    provider = entry.get("provider")
    if provider is not None and not isinstance(provider, str):
        fail(line_of(entry, "provider"), "provider must be a string")
    return CustomFormat(
        name=name,
        type=kind,
        columns={k: v.strip() for k, v in columns.items()},
        patterns=list(patterns),
        convention=convention,
        provider=provider.lower() if provider else None,
        tags=list(tags),
        delimiter=delimiter,
        line=line_of(entry),
        column_lines={k: line_of(columns, k) for k in columns},
    )


# ---------------------------------------------------------------------------------------------
# Detection: the formats of the llmcost.yaml in force
# ---------------------------------------------------------------------------------------------

_loaded: dict[tuple, list[FileFormat]] = {}


@register_format_source
def configured_formats() -> list[FileFormat]:
    """FileFormats of the ``formats.custom`` entries of the llmcost.yaml in force."""
    path = config.find()
    if path is None:
        return []
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _loaded:
        parsed = config.parse(path.read_text(encoding="utf-8"), path)
        customs: list[CustomFormat] = parsed.get("formats") or []
        for custom in customs:
            custom.config_path = path
        _loaded.clear()
        _loaded[key] = [_file_format(c) for c in customs]
    return _loaded[key]


def _file_format(custom: CustomFormat) -> FileFormat:
    globs = ", ".join(custom.patterns) or "(none: --input-format only)"
    return FileFormat(
        name=custom.name,
        description=f"custom {custom.type} column mapping ({custom.where()})",
        recognized_by=f"path matches {globs}",
        sniff=lambda head, path: custom.matches(path),
        load=functools.partial(load_custom, custom),
        priority=0,  # the user's own mapping wins over content sniffing
        line_based=custom.type == "jsonl",
    )


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def load_custom(
    custom: CustomFormat, con, path: Path, source: str, ingest_id: int, line_offset: int = 0
):
    """Stage ``path`` through ``custom``'s column mapping."""
    install_macros(con)
    if custom.type == "jsonl":
        undecodable = read_lines(con, path, source, ingest_id, line_offset)
        src_sql, params = _jsonl_source(custom)
    else:
        undecodable = _read_csv(custom, con, path, source, ingest_id)
        src_sql, params = _csv_source(custom)
    return finish(
        con,
        _records_sql(custom, src_sql),
        params=[*params, custom.provider],  # the entry's provider: the one ? after src_sql
        source=source,
        ingest_id=ingest_id,
        format=custom.name,
        extra_read=undecodable,
    )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_path(key: str) -> str:
    return "$" + "".join('."' + part.replace('"', '\\"') + '"' for part in key.split("."))


def _jsonl_source(custom: CustomFormat) -> tuple[str, list]:
    params: list = []
    cols = []
    for name in CANONICAL:
        if name in custom.columns:
            cols.append(f"json_extract_string(text, ?) AS c_{name}")
            params.append(_json_path(custom.columns[name]))
        else:
            cols.append(f"NULL::VARCHAR AS c_{name}")
    # the model as JSON too: json_extract_string gives a number's or a list's text
    cols.append("json_extract(text, ?) AS c_model_json")
    params.append(_json_path(custom.columns["model"]))
    tag_pairs = []
    for tag in custom.tags:
        tag_pairs.append("?, json_extract_string(text, ?)")
        params.extend([tag, _json_path(tag)])
    tags = f"json_object({', '.join(tag_pairs)})" if tag_pairs else "NULL::JSON"
    sql = f"""SELECT line, text, {LINE_STATE} AS state, {", ".join(cols)}, {tags} AS c_tags
              FROM lines"""
    return sql, params


def _read_csv(custom: CustomFormat, con, path: Path, source: str, ingest_id: int) -> int:
    """Create ``csv_rows(_llm_line, _llm_text, <columns>)`` and ``csv_blank(line)`` (blank
    lines, skipped); rows DuckDB cannot split are rejected."""
    header = _header(path, custom.delimiter)
    wanted = [*custom.columns.values(), *custom.tags]
    missing = [c for c in dict.fromkeys(wanted) if c not in header]
    if missing:
        key = next((k for k, v in custom.columns.items() if v == missing[0]), None)
        raise ConfigError(
            f"{custom.where(key)}: column {missing[0]!r} of format {custom.name!r} is not in "
            f"{path}'s header",
            hint=f"the header has: {', '.join(header) or '(nothing)'}",
        )
    for table in ("csv_raw", "csv_rows", "csv_blank", "llm_reject_errors", "llm_reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    names = list(dict.fromkeys(header))
    columns = (
        "{" + ", ".join(f"'{n.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for n in names) + "}"
    )
    con.execute(
        f"""CREATE TEMP TABLE csv_raw AS SELECT * FROM read_csv(?, columns = {columns},
            header = true, auto_detect = false, delim = ?, quote = '"', escape = '"',
            max_line_size = {MAX_LINE_BYTES}, buffer_size = {MAX_LINE_BYTES * 2},
            ignore_errors = true, store_rejects = true,
            rejects_scan = 'llm_reject_scans', rejects_table = 'llm_reject_errors')""",
        [str(path), custom.delimiter],
    )
    csv_records_after_read(con, path, "csv_raw", custom.delimiter)
    # DuckDB numbers a rejected row by the line breaks outside quoted cells before it, and
    # skips blank lines; csv_records gives each record's line in the file.
    # A row DuckDB rejected may be reported once per problem: keep each line once.
    bad = con.execute(
        f"""SELECT coalesce(r.line, e.line), csv_line, error_message
        FROM csv_rejects e LEFT JOIN csv_records r ON r.n = e.line
        WHERE NOT {BLANK_CSV_REJECT} ORDER BY e.line, e.seen"""
    ).fetchall()
    bad = list({line: (line, raw, msg) for line, raw, msg in bad}.values())
    if bad:
        con.executemany(
            "INSERT INTO rejects VALUES (?, ?, ?, ?, ?)",
            [
                (
                    ingest_id,
                    source,
                    line,
                    f"CSV row not readable: {msg}",
                    (raw or "")[:RAW_KEEP_CHARS],
                )
                for line, raw, msg in bad
            ],
        )
    # The k-th row read is the k-th record after the header that is neither blank nor rejected.
    con.execute(
        """CREATE TEMP TABLE csv_rows AS
        WITH good AS (
          SELECT row_number() OVER (ORDER BY n) AS k, line FROM csv_records
          WHERE n > 1 AND NOT blank AND n NOT IN (SELECT line FROM csv_rejects)),
        r AS (SELECT row_number() OVER () AS _llm_k, to_json(c) AS _llm_text, c.* FROM csv_raw c)
        SELECT coalesce(g.line, r._llm_k + 1) AS _llm_line, r.*
        FROM r LEFT JOIN good g ON g.k = r._llm_k ORDER BY r._llm_k"""
    )
    con.execute(
        f"""CREATE TEMP TABLE csv_blank AS SELECT line FROM csv_records WHERE blank AND n > 1
        UNION SELECT coalesce(r.line, e.line) FROM csv_rejects e
          LEFT JOIN csv_records r ON r.n = e.line WHERE {BLANK_CSV_REJECT}"""
    )
    for table in ("csv_raw", "csv_records", "csv_rejects"):
        con.execute(f"DROP TABLE {table}")
    return len(bad)


def _header(path: Path, delimiter: str) -> list[str]:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as fh:
        first = fh.readline()
    row = next(csv.reader(io.StringIO(first), delimiter=delimiter), [])
    return [c.strip() for c in row]


def _csv_source(custom: CustomFormat) -> tuple[str, list]:
    cols = [
        f"{_ident(custom.columns[name])} AS c_{name}"
        if name in custom.columns
        else f"NULL::VARCHAR AS c_{name}"
        for name in CANONICAL
    ]
    params: list = []
    tag_pairs = []
    for tag in custom.tags:
        tag_pairs.append(f"?, {_ident(tag)}")
        params.append(tag)
    tags = f"json_object({', '.join(tag_pairs)})" if tag_pairs else "NULL::JSON"
    sql = (
        f"SELECT _llm_line AS line, _llm_text AS text, 'ok' AS state, {', '.join(cols)}, "
        "NULL::JSON AS c_model_json, "
        f"{tags} AS c_tags FROM csv_rows "
        "UNION ALL BY NAME SELECT line, NULL AS text, 'blank' AS state FROM csv_blank"
    )
    return sql, params


# what is wrong with a record's timestamp (sql.py: one not set is none, not wrong)
_TS_FAULT = "llm_ts_fault(llm_blank(c_timestamp), llm_ts(llm_blank(c_timestamp)))"


def _records_sql(custom: CustomFormat, src_sql: str) -> str:
    col = custom.columns

    def label(name: str) -> str:
        return f"column {col[name]} ({name})".replace("'", "''")

    token_checks = " ".join(
        f"WHEN llm_bad_tok(c_{name}) THEN '{label(name)} ' || llm_tok_fault(c_{name}) || ': ' "
        f"|| left(c_{name}, 40)"
        for name in TOKEN_COLUMNS
        if name in col
    )
    number_checks = " ".join(
        f"WHEN c_{name} IS NOT NULL AND trim(c_{name}) <> '' AND TRY_CAST(c_{name} AS DOUBLE) "
        f"IS NULL THEN '{label(name)} is not a number: ' || left(c_{name}, 40)"
        for name in ("cost_usd", "latency_ms")
        if name in col
    )
    model_label = label("model")
    time_check = (
        f"WHEN {_TS_FAULT} IS NOT NULL THEN '{label('timestamp')} ' || {_TS_FAULT}"
        if "timestamp" in col
        else ""
    )
    n = {name: f"llm_tok(c_{name})" for name in TOKEN_COLUMNS}
    if custom.convention == "anthropic":
        input_sql = (
            f"{n['input_tokens']} + coalesce({n['cache_read_tokens']}, 0) "
            f"+ coalesce({n['cache_write_tokens']}, 0) + coalesce({n['cache_write_1h_tokens']}, 0)"
        )
    else:
        input_sql = n["input_tokens"]
    if custom.convention == "gemini":
        output_sql = f"{n['output_tokens']} + coalesce({n['reasoning_tokens']}, 0)"
    else:
        output_sql = n["output_tokens"]
    return f"""
WITH src AS ({src_sql})
SELECT line, text,
  CASE WHEN state = 'blank' THEN 'blank line' END AS skip_reason,
  CASE
    WHEN state = 'invalid' THEN {INVALID_JSON}
    WHEN state = 'notobject' THEN 'JSON ' || llm_json_kind(text) || ', not an object'
    WHEN llm_blank(c_model) IS NULL THEN 'no model: {model_label} is empty'
    WHEN llm_name_fault('{model_label}', c_model, c_model_json) IS NOT NULL
      THEN llm_name_fault('{model_label}', c_model, c_model_json)
    {token_checks} {number_checks} {time_check}
  END AS reject_reason,
  coalesce(llm_blank(c_request_id), md5(text)) AS request_id,
  llm_ts(llm_blank(c_timestamp)) AS ts,
  llm_ts_naive(llm_blank(c_timestamp)) AS naive_ts,
  coalesce(lower(llm_blank(c_provider)), CAST(? AS VARCHAR), llm_provider_of(c_model))
    AS provider,
  trim(c_model) AS model,
  {input_sql} AS input_tokens,
  {n["cache_read_tokens"]} AS cache_read_tokens,
  {n["cache_write_tokens"]} AS cache_write_tokens,
  {n["cache_write_1h_tokens"]} AS cache_write_1h_tokens,
  {output_sql} AS output_tokens,
  {n["reasoning_tokens"]} AS reasoning_tokens,
  CASE WHEN llm_blank(c_service_tier) IS NOT NULL THEN llm_tier(trim(c_service_tier)) END
    AS service_tier,
  llm_blank(c_user_id) AS user_id,
  llm_blank(c_session_id) AS session_id,
  llm_blank(c_feature) AS feature,
  c_tags AS tags,
  TRY_CAST(c_latency_ms AS DOUBLE) AS latency_ms,
  CASE WHEN lower(coalesce(c_status, '')) IN ('error', 'failed', 'failure', 'fail', 'cancelled',
                                              'timeout')
         OR TRY_CAST(c_status AS INTEGER) >= 400 THEN 'error' ELSE 'ok' END AS status,
  llm_finish(llm_blank(c_finish_reason)) AS finish_reason,
  {n["max_tokens"]} AS max_tokens,
  TRY_CAST(c_cost_usd AS DOUBLE) AS reported_cost_usd,
  CASE WHEN llm_blank(c_prompt) IS NOT NULL THEN 'text' END AS prompt_kind,
  llm_blank(c_prompt) AS prompt_text,
  llm_blank(c_system) AS system_text,
  llm_blank(c_completion) AS completion_text
FROM src
"""
