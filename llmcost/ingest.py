"""Sources → format adapter → store: staging, rejects, idempotency, line accounting."""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from llmcost.errors import InputError
from llmcost.formats import detect

HEAD_BYTES = 64 * 1024

REQUEST_COLUMNS = [
    "request_id",
    "ts",
    "provider",
    "model",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "token_source",
    "service_tier",
    "prompt_hash",
    "system_hash",
    "completion_hash",
    "user_id",
    "session_id",
    "feature",
    "tags",
    "latency_ms",
    "status",
    "finish_reason",
    "max_tokens",
    "reported_cost_usd",
    "source",
    "source_line",
    "format",
    "ingest_id",
]


@dataclass
class FileResult:
    source: str
    format: str
    lines_read: int = 0
    ingested: int = 0
    skipped: int = 0  # blank lines, records that are not calls, duplicates of stored calls
    duplicates: int = 0
    rejected: int = 0
    naive_timestamps: int = 0

    @property
    def accounted(self) -> bool:
        return self.ingested + self.skipped + self.rejected == self.lines_read


@dataclass
class IngestResult:
    files: list[FileResult] = field(default_factory=list)

    def total(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)


def expand_paths(paths: Iterable[str]) -> list[Path]:
    """Files named, found under directories (recursively) or matched by globs."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            )
        elif path.is_file():
            found.append(path)
        elif any(ch in raw for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(raw, recursive=True) if Path(m).is_file())
            if not matches:
                raise InputError(f"no file matches {raw}", hint="check the pattern and quote it")
            found.extend(matches)
        elif path.exists():
            raise InputError(f"{raw} is not a regular file", hint="pass a log file or a directory")
        else:
            raise InputError(f"{raw}: no such file or directory", hint="check the path")
    for path in found:
        try:
            with path.open("rb") as fh:
                fh.read(1)
        except OSError as exc:
            raise InputError(
                f"cannot read {path}: {exc.strerror}", hint="check the file's permissions"
            ) from None
    return found


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(HEAD_BYTES)


def ingest_file(con, path: Path, input_format: str | None = None) -> FileResult:
    """Read one file into ``requests``/``texts``; rejected records go to ``rejects``."""
    head = _head(path)
    fmt = detect(path, head, input_format)
    source = str(path)
    ingest_id = con.execute("SELECT nextval('ingest_seq')").fetchone()[0]
    con.execute("BEGIN")
    try:
        stats = fmt.load(con, path, source, ingest_id)
        duplicates = _store_staged(con, ingest_id)
        result = FileResult(
            source=source,
            format=fmt.name,
            lines_read=stats.lines_read,
            ingested=stats.staged - duplicates,
            skipped=stats.skipped + duplicates,
            duplicates=duplicates,
            rejected=stats.rejected,
            naive_timestamps=stats.naive_timestamps,
        )
        con.execute(
            "INSERT INTO ingests (ingest_id, started_at, source, format, size_bytes, head_hash, "
            "lines_read, ingested, skipped, rejected) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ingest_id,
                dt.datetime.now(dt.timezone.utc),
                source,
                fmt.name,
                path.stat().st_size,
                hashlib.sha256(head[:4096]).hexdigest(),
                result.lines_read,
                result.ingested,
                result.skipped,
                result.rejected,
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


def _store_staged(con, ingest_id: int) -> int:
    """Move ``staged`` into the store; returns how many were already stored (duplicates)."""
    con.execute(
        """INSERT INTO texts
        SELECT DISTINCT ON (hash) hash, kind, text FROM (
          SELECT md5(prompt_text) AS hash, prompt_kind AS kind, prompt_text AS text FROM staged
          WHERE prompt_text IS NOT NULL
          UNION ALL SELECT md5(system_text), 'text', system_text FROM staged
          WHERE system_text IS NOT NULL
          UNION ALL SELECT md5(completion_text), 'text', completion_text FROM staged
          WHERE completion_text IS NOT NULL
        ) t WHERE NOT EXISTS (SELECT 1 FROM texts x WHERE x.hash = t.hash)"""
    )
    before = con.execute("SELECT count(*) FROM staged").fetchone()[0]
    columns = ", ".join(REQUEST_COLUMNS)
    con.execute(
        f"""INSERT INTO requests ({columns})
        SELECT request_id, ts, provider, model, input_tokens, cache_read_tokens,
          cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens,
          coalesce(token_source, CASE WHEN input_tokens IS NOT NULL OR output_tokens IS NOT NULL
                                      THEN 'reported' END),
          service_tier, md5(prompt_text), md5(system_text), md5(completion_text),
          user_id, session_id, feature, tags, latency_ms, status, finish_reason, max_tokens,
          reported_cost_usd, source, line, format, ?
        FROM (SELECT * FROM staged QUALIFY row_number() OVER (PARTITION BY request_id ORDER BY line) = 1) s
        WHERE NOT EXISTS (SELECT 1 FROM requests x WHERE x.request_id = s.request_id)""",
        [ingest_id],
    )
    stored = con.execute(
        "SELECT count(*) FROM requests WHERE ingest_id = ?", [ingest_id]
    ).fetchone()[0]
    con.execute("DROP TABLE staged")
    return before - stored


def ingest_paths(
    con,
    paths: Iterable[str],
    input_format: str | None = None,
    on_file: Callable[[FileResult], None] | None = None,
) -> IngestResult:
    result = IngestResult()
    for path in expand_paths(paths):
        file_result = ingest_file(con, path, input_format)
        result.files.append(file_result)
        if on_file:
            on_file(file_result)
    return result
