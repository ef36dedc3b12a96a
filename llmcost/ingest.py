"""Sources → format adapter → store: chunking, incremental resume, rejects, accounting.

Line-based formats are read in chunks of whole lines (bounded memory, a progress bar that
moves, and resuming a grown file at the first new line). Each file's state — size, a hash of
its first bytes, the byte offset and line reached — is kept in ``ingests``, so:

- a file read before and unchanged adds nothing;
- a file that grew (same first bytes, larger) is read from where the last ingest stopped;
- a file whose first bytes changed, or that shrank, was rotated or truncated: it is read
  again from the start (calls already stored are recognized by request id, rejected lines
  already kept by their line and text, and skipped);
- an OpenAI stream logged chunk by chunk that has not ended when the file ends (its writer
  is still writing it) is held: the place kept is its first chunk, read again next time
  with what follows (formats.pending_streams says when a held stream is let go).

Every line is accounted for: ingested + skipped + rejected = read.
"""

from __future__ import annotations

import datetime as dt
import errno
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from llmcost import streams
from llmcost.errors import InputError
from llmcost.formats import UTF8_BOM, FileFormat, detect, pending_streams
from llmcost.formats.stage import drop_staged

HEAD_BYTES = 64 * 1024
FINGERPRINT_BYTES = 4096
STDIN = "-"


def clock() -> dt.datetime:
    """The run's clock (aware, UTC): when an ingest started, how long a stream has been
    silent, and which calls are dated ahead of it. The one place ingest reads the time, so
    a test can set it."""
    return dt.datetime.now(dt.timezone.utc)


# How far ahead of the run's clock a call may be dated before it is pointed out: clocks of
# machines kept in time differ by milliseconds, and a call logged a moment ago on one that
# is a few seconds fast is no news; one dated minutes, days or years ahead is (a clock set
# ahead, a time of day in a zone read as UTC, a wrong date). Such calls are kept, as the log
# has them; a time in 2100 or later is rejected (formats/sql.py, llm_ts_fault).
AHEAD_GRACE = dt.timedelta(minutes=1)


def chunk_bytes() -> int:
    """Bytes per chunk of a line-based file (env LLMCOST_CHUNK_BYTES overrides, for tests)."""
    return int(os.environ.get("LLMCOST_CHUNK_BYTES", 128 * 1024 * 1024))


REQUEST_COLUMNS = [
    "request_id", "ts", "provider", "model", "input_tokens", "cache_read_tokens",
    "cache_write_tokens", "cache_write_1h_tokens", "output_tokens", "reasoning_tokens",
    "token_source", "service_tier", "prompt_hash", "system_hash", "completion_hash", "user_id",
    "session_id", "feature", "tags", "latency_ms", "status", "finish_reason", "max_tokens",
    "reported_cost_usd", "source", "source_line", "format", "ingest_id", "web_search_requests",
    "inference_geo", "speed", "tools_hash", "tool_choice", "input_audio_tokens",
    "cache_read_audio_tokens", "output_audio_tokens",
]  # fmt: skip


@dataclass
class FileResult:
    source: str
    format: str
    mode: str = "new"  # new | appended | unchanged | rotated
    lines_read: int = 0
    ingested: int = 0
    skipped: int = 0  # blank lines, records that are not calls, calls already stored
    duplicates: int = 0  # calls already stored (counted in skipped)
    known_rejects: int = 0  # lines an earlier run rejected already (counted in skipped)
    rejected: int = 0
    naive_timestamps: int = 0
    dated_ahead: int = 0  # calls stored dated after the run's clock (AHEAD_GRACE past it)
    latest_ahead: dt.datetime | None = None  # the latest of them
    pending_bytes: int = 0  # an unterminated last line left for the next ingest
    held_streams: int = 0  # streams still being written, held for the next ingest
    held_from: int = 0  # the line of their first chunk: the next ingest reads from there
    buckets: int = 0  # usage-report rows stored in usage_buckets (counted in skipped)
    error: str | None = None  # why the file could not be read to its end (or at all)
    note: str | None = None  # its text is not UTF-8: how it was read, or how to convert it

    @property
    def accounted(self) -> bool:
        return self.ingested + self.skipped + self.rejected == self.lines_read

    def held(self) -> str:
        """What of the file waits for the next ingest: the streams still being written."""
        from llmcost.render import plural

        return (
            f"{plural(self.held_streams, 'stream')} logged chunk by chunk still being written "
            f"(its last chunks or usage not read yet; from line {self.held_from:,}) held for the "
            "next ingest into this database, which reads on from there"
        )


@dataclass
class IngestResult:
    files: list[FileResult] = field(default_factory=list)

    def total(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    def latest_ahead(self) -> dt.datetime | None:
        return max((f.latest_ahead for f in self.files if f.latest_ahead), default=None)


def dated_ahead(count: int, latest: dt.datetime) -> str:
    """What to say of ``count`` calls dated ahead of the run's clock, ``latest`` the last."""
    from llmcost.render import plural

    return (
        f"{plural(count, 'call')} dated after this run's clock (the latest "
        f"{latest.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC): kept as logged; a clock "
        "set ahead, a time of day read as UTC that was not, or a wrong date"
    )


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Files named, found under directories (recursively) or matched by globs; ``-`` is stdin."""
    return [name for name, _ in _expand(paths)]


def _expand(paths: Iterable[str], skip: frozenset[Path] = frozenset()) -> list[tuple[str, bool]]:
    """(file, named): ``named`` is False for files met while walking a directory, which
    leaves out the files in ``skip`` (the store's own database and its WAL)."""
    found: list[tuple[str, bool]] = []
    for raw in paths:
        path = Path(raw)
        if raw == STDIN:
            found.append((STDIN, True))
        elif path.is_dir():
            # (a symlink to a file gone is met too: it is said not to be read, not skipped)
            found.extend(
                (str(p), False)
                for p in sorted(path.rglob("*"))
                if (p.is_file() or (p.is_symlink() and not p.exists()))
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and _resolved(p) not in skip
            )
        elif path.is_file():
            found.append((str(path), True))
        elif any(ch in raw for ch in "*?["):
            matches = sorted(m for m in glob.glob(raw, recursive=True) if Path(m).is_file())
            if not matches:
                raise InputError(f"no file matches {raw}", hint="check the pattern and quote it")
            found.extend((m, True) for m in matches)
        elif path.exists():
            raise InputError(f"{raw} is not a regular file", hint="pass a log file or a directory")
        elif _symlink_loop(path):
            raise InputError(f"{raw}: a symlink loop", hint="point the symlink at a log file")
        else:
            raise InputError(f"{raw}: no such file or directory", hint="check the path")
    # A file named twice, or met again through a symlink (logs/current.jsonl -> app.jsonl),
    # is read once: read again in the same run, what the first read held would be let go.
    once: dict[Path | str, tuple[str, bool]] = {}
    for name, named in found:
        once.setdefault(name if name == STDIN else _resolved(Path(name)), (name, named))
    found = list(once.values())
    for name, named in found:  # a file met in a directory that cannot be read is not read
        if named and name != STDIN and (why := _cannot_read(name)):  # (ingest_paths says so)
            raise InputError(f"cannot read {name}: {why}", hint="check the file's permissions")
    return found


def _cannot_read(name: str) -> str | None:
    """Why the file cannot be read (None when it can)."""
    try:
        with open(name, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _not_readable(name: str, why: str) -> FileResult:
    """The result of a file met in a directory that cannot be opened."""
    gone = Path(name).is_symlink() and not Path(name).exists()
    if _symlink_loop(Path(name)):
        said = " (a symlink loop)"
    elif gone:
        said = " (a symlink to a file that is gone)"
    else:
        said = " (check the file's permissions)"
    return FileResult(
        source=str(Path(name).absolute() if gone else Path(name).resolve()),  # (as ingest_file)
        format="unreadable",
        mode="not read",
        error=f"cannot be read: {why}{said}",
    )


def _resolved(path: Path) -> Path:
    """``path.resolve()``; a symlink loop's own absolute path (Python before 3.13 raises
    RuntimeError on a loop, and 3.13 OSError with strict)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _symlink_loop(path: Path) -> bool:
    try:
        path.stat()
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def _store_files(con) -> frozenset[Path]:
    """The database file ``con`` writes to, and its WAL (none in memory)."""
    [(name,)] = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    if not name:
        return frozenset()
    path = Path(name).resolve()
    return frozenset({path, path.with_name(path.name + ".wal")})


def _head(path: Path, kind: str | None) -> bytes:
    """The file's first HEAD_BYTES, decompressed; a file that ends early gives what it has.
    (``_Unreadable`` when not one byte can be.)"""
    with streams.opened(path, kind) as (stream, _):
        buffer = bytearray(HEAD_BYTES)
        problems: list[str] = []
        size, _ = streams.read_into(stream, memoryview(buffer), problems)
        if problems and not size:
            raise _Unreadable(problems[0])
        return bytes(buffer[:size])


class _Unreadable(Exception):
    """Not one byte of the file could be read (decompressed)."""


@dataclass
class _Previous:
    size: int
    head_hash: str
    end_offset: int | None
    end_line: int | None
    read_line: int | None  # past end_line when streams were held
    ingest_id: int


def _previous(con, source: str) -> _Previous | None:
    row = con.execute(
        """SELECT size_bytes, head_hash, end_offset, end_line, read_line, ingest_id FROM ingests
           WHERE source = ? AND end_offset IS NOT NULL ORDER BY ingest_id DESC LIMIT 1""",
        [source],
    ).fetchone()
    return _Previous(*row) if row else None


@dataclass
class Chunk:
    """A temp file of whole lines cut from a log, and what was learnt while cutting it."""

    path: Path
    first: int  # lines of the log before this chunk
    nbytes: int
    lines: int
    terminated: bool  # ends with a newline
    plain: bool  # valid UTF-8: the fast JSON reader may read it
    longest: int  # the first of jsonl.FAST_LINE_BOUNDS no line exceeds; 0 when none holds


def _describe(path: Path, first: int, head: bytes, block: bytes, end: int) -> Chunk:
    """The chunk ``head + block[:end]``, described without copying ``block``."""
    from llmcost.formats.jsonl import FAST_LINE_BOUNDS

    nbytes = len(head) + end
    terminated = (block[end - 1 : end] or head[-1:]) == b"\n"
    lines = head.count(b"\n") + block.count(b"\n", 0, end) + (0 if terminated else 1)
    # A blank line or a line that is not an object is found by the fast reader's row count.
    # (all of the block ASCII: its first `end` bytes are; else decode just those)
    plain = (head.isascii() and block.isascii()) or _utf8(head + block[:end])
    return Chunk(
        path, first, nbytes, lines, terminated, plain,
        next((b for b in FAST_LINE_BOUNDS if _no_line_over(head, block, end, b)), 0),
    )  # fmt: skip


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _no_line_over(head: bytes, block: bytes, end: int, limit: int) -> bool:
    """No line of ``head + block[:end]`` is longer than ``limit`` bytes. ``head`` is part
    of the first line; a longer line elsewhere would hold a whole aligned window of
    ``limit // 2`` bytes without a newline, so look only at those."""
    first_newline = block.find(b"\n", 0, end)
    if len(head) + (end if first_newline < 0 else first_newline) > limit:
        return False
    window = limit // 2
    return all(block.find(b"\n", at, at + window) >= 0 for at in range(0, end - window + 1, window))


def _chunks(
    stream,
    start_line: int,
    workdir: Path,
    limit: int,
    expected: int | None = None,
    problems: list[str] | None = None,
) -> Iterator[Chunk]:
    """Split a byte stream (``expected`` bytes long, when known) into temp files of whole
    lines.

    The last chunk may end with an unterminated line; the caller decides whether to keep it.
    Blocks are written and described in place (no copy of a whole block). A stream that
    cannot be read to its end (a truncated or damaged compressed file) ends where it broke,
    its error added to ``problems`` (raised when that is None).
    """
    line = start_line
    n = 0
    leftover = b""
    # One buffer, read into again for each block: a fresh 128 MB object per block costs
    # more (the kernel maps and zeroes its pages each time) than reading the file does.
    # Past the bytes read, it holds zeros or an earlier block: every look is bounded by
    # `size`, but _describe's isascii (which then checks the chunk the exact way).
    block = bytearray(max(1, limit if expected is None else min(limit, expected + 1)))
    view = memoryview(block)
    broken = False
    while not broken:
        size, broken = streams.read_into(stream, view, problems)
        if not size:
            break
        cut = block.rfind(b"\n", 0, size) + 1
        if cut == 0:  # no newline in the whole block: part of a line longer than the chunk
            leftover += bytes(view[:size])
            continue
        n += 1
        path = workdir / f"chunk{n}.jsonl"
        with path.open("wb") as out:
            out.write(leftover)
            out.write(view[:cut])
        info = _describe(path, line, leftover, block, cut)
        leftover = bytes(view[cut:size])
        yield info
        line += info.lines
    if leftover:
        n += 1
        path = workdir / f"chunk{n}.jsonl"
        path.write_bytes(leftover)
        yield _describe(path, line, b"", leftover, len(leftover))


def _broken(kind: str | None, error, lines: int | None = None) -> str:
    """What a user is told of a file (of ``compression`` ``kind``) that could not be read
    to its end (or at all)."""
    what = kind or "the file"
    where = "could not be read" if lines is None else f"broke off after line {lines:,}"
    return f"{what} {where}: {error} (a truncated or damaged file?)"


def _named_as_it_is(path: Path, kind: str | None, workdir: Path, problems: list[str]) -> Path:
    """The path a format read whole by DuckDB is given. DuckDB tells compression by the
    name, so a plain file and gzip named .gz are given as they are; any other (gzip without
    .gz, plain text named .gz, zstd, bzip2: streams.DUCKDB_READS) is decompressed, or
    copied, to the workdir under its name without its compression suffix."""
    said = streams.SUFFIXES.get(path.suffix)
    if said == kind and kind in streams.DUCKDB_READS:
        return path
    target = workdir / "whole" / (path.stem if said else path.name)  # (stdin's copy is in
    target.parent.mkdir(exist_ok=True)  # the workdir already: never write over the file read)
    streams.decompressed_copy(path, kind, target, problems)
    return target


@contextmanager
def _file_chunks(
    path: Path,
    kind: str | None,
    start_offset: int,
    start_line: int,
    workdir: Path,
    problems: list[str],
):
    """The chunks of the file (decompressed when ``kind``) from ``start_offset``, each with
    the bytes of the file read when it was cut (a compressed file's compressed bytes). The
    next chunk is cut, and decompressed, on a thread while DuckDB reads this one."""
    with streams.opened(path, kind) as (stream, raw):
        if start_offset:
            stream.seek(start_offset)
        expected = None if kind else path.stat().st_size - start_offset
        parts = _chunks(stream, start_line, workdir, chunk_bytes(), expected, problems)
        ahead = streams.one_ahead((part, raw.tell()) for part in parts)
        try:
            yield ahead
        finally:
            ahead.close()  # the chunk being made is waited for, before the file is closed


@contextmanager
def _workdir():
    path = Path(tempfile.mkdtemp(prefix="llmcost-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def ingest_file(
    con,
    name: str,
    input_format: str | None = None,
    progress: Callable[[int], None] | None = None,
    workdir: Path | None = None,
    named: bool = True,
    resumable: bool = True,
) -> FileResult:
    """Read one file (or stdin) into ``requests``/``texts``; rejects go to ``rejects``.

    A file whose content no format recognizes is not read: its result says so (format
    'unrecognized'); one named (``named``, not met while walking a directory) is read as
    JSON lines when a line of it is a JSON object (``_holds_json_object``), else its
    ``error`` says it is no log llmcost reads. ``resumable``: a
    later ingest into this store may go on with the file (its unfinished last line waits)."""
    with _workdir() if workdir is None else _nullcontext(workdir) as wd:
        if name == STDIN:
            path = wd / "stdin.jsonl"
            with path.open("wb") as out:
                shutil.copyfileobj(sys.stdin.buffer, out, 1024 * 1024)
            source = "<stdin>"
        else:
            path = Path(name)
            source = str(path.resolve())
        kind = streams.compression(path)
        try:
            head = _head(path, kind)
        except _Unreadable as exc:
            if progress:
                progress(path.stat().st_size)
            return FileResult(
                source=source, format="unreadable", mode="not read", error=_broken(kind, exc)
            )
        hole = _hole(path) if kind is None and head[:1] == b"\0" else 0
        if hole:  # (copytruncate under a writer without O_APPEND: see _hole)
            with path.open("rb") as fh:
                fh.seek(hole)
                head = fh.read(HEAD_BYTES)
        fmt = detect(path, head, input_format, fallback=False)
        if fmt is None and len(head) < HEAD_BYTES and not head.removeprefix(UTF8_BOM).strip():
            # empty (a log rotated a moment ago, a service without traffic yet): a log of
            # JSON lines with none yet, not a file of no known format
            fmt = detect(path, head, input_format, fallback=True)
        if fmt is None and named and _holds_json_object(path, kind):
            # a file named, that no format recognizes by its start but that holds a JSON
            # object on some line: a damaged log, read as JSON lines (every line accounted)
            fmt = detect(path, head, input_format, fallback=True)
        if fmt is None:
            if progress:
                progress(path.stat().st_size)
            return FileResult(
                source=source,
                format="unrecognized",
                mode="not read",
                error=NOT_A_LOG if named else None,
            )
        result = _ingest(
            con, path, kind, source, head, fmt, progress, wd, resumable and name != STDIN, hole
        )
        result.note = _encoding_note(con, result, kind, name)
        return result


# How a file read from another encoding is said to be read (streams.compression's kinds).
_READ_AS = {
    "utf-16-le": "UTF-16LE without a BOM (told by its NUL bytes): read as the text it holds",
    "utf-16-be": "UTF-16BE without a BOM (told by its NUL bytes): read as the text it holds",
    "cp1252": (
        "not UTF-8: read as Windows-1252 (Latin-1), as every byte of it is one and none is "
        "UTF-8; to convert it once: {iconv}"
    ),
}


def _encoding_note(con, result: FileResult, kind: str | None, name: str) -> str | None:
    """What a user is told of a file whose text is not UTF-8: how it was read (a guess from
    its bytes), or, when some of its lines are not UTF-8 and were rejected, that it is likely
    Latin-1 / Windows-1252 and how to convert it."""
    steps = (kind or "").split("+")
    path = Path(name)
    iconv = "iconv -f cp1252 -t utf-8"
    if name != STDIN and steps[0] not in streams.SUFFIXES.values():
        converted = path.with_name(path.stem + ".utf8" + path.suffix)
        iconv += f" {shlex.quote(name)} > {shlex.quote(str(converted))}"
    read_as = next((_READ_AS[k] for k in steps if k in _READ_AS), None)
    if read_as:
        return read_as.format(iconv=iconv)
    if not result.rejected:
        return None
    # DuckDB's words for a line that is not UTF-8, in every reader's reason ('cannot decode
    # line: ...', 'bad CSV row: ...'); this ingest is the file's last
    [(count,)] = con.execute(
        """SELECT count(*) FROM rejects WHERE source = ? AND reason LIKE '%Invalid unicode%'
             AND ingest_id = (SELECT max(ingest_id) FROM ingests WHERE source = ?)""",
        [result.source, result.source],
    ).fetchall()
    if not count:
        return None
    from llmcost.render import plural

    return (
        f"{plural(count, 'line')} {'is' if count == 1 else 'are'} not UTF-8 (rejected, "
        "'cannot decode'): likely Latin-1 / Windows-1252 text, an export of Excel or an old "
        f"Windows tool; if the whole file is, convert it ({iconv}) and read that"
    )


# A line whose first character (after blanks, NULs or a BOM) opens a JSON object; a line
# that is not blank.
_OBJECT_LINE = re.compile(rb"^[ \t\r\x00]*(?:\xef\xbb\xbf)?(\{[^\n]*)", re.MULTILINE)
_TEXT_LINE = re.compile(rb"^[ \t\r\x00]*[^ \t\r\x00\n]", re.MULTILINE)


def _holds_json_object(path: Path, kind: str | None, tries: int = 1000) -> bool:
    """Whether the file (decompressed) is a log of JSON lines, however damaged: a line of it
    is a JSON object, or half its lines or more open one (cut short, or Python's repr of a
    dict: each is rejected with its line). A file named on the command line that no format
    recognizes is read as JSON lines only then; else it holds no log (a README with a line of
    JSON in it, a CSV, an image, a parquet file): its lines are not 'rejected'. Only the
    first ``tries`` lines that open an object are parsed."""
    view = memoryview(bytearray(1 << 20))
    carry = b""
    opened = lines = 0
    with streams.opened(path, kind) as (stream, _):
        while True:
            size, broken = streams.read_into(stream, view, [])
            data = carry + bytes(view[:size])
            last = broken or size < len(view)
            end = len(data) if last else data.rfind(b"\n") + 1
            for match in _OBJECT_LINE.finditer(data, 0, end):
                opened += 1
                if opened > tries:
                    continue
                try:
                    if isinstance(json.loads(match.group(1)), dict):
                        return True
                except ValueError:  # (UnicodeDecodeError too)
                    pass
            lines += len(_TEXT_LINE.findall(data, 0, end))
            if last:
                return opened > 0 and opened * 2 >= lines
            carry = data[end:]
            if not _OBJECT_LINE.match(carry):  # the rest of a line that opens no object: its
                carry = b"x"  # start is enough to say so (a binary file's newline-less MBs)


NOT_A_LOG = "not a log llmcost reads: no line is a JSON object, and no log format recognizes it"


def known_formats() -> str:
    """The formats llmcost reads, for a user who named a file that is none of them."""
    from llmcost.formats import formats

    names = ", ".join(f.name for f in formats())
    return (
        f"llmcost reads {names} (`llmcost formats` says how each is recognized), and a CSV or "
        "JSON lines of your own layout once its columns are mapped in llmcost.yaml "
        "(formats: custom:)"
    )


def _hole(path: Path) -> int:
    """How many NUL bytes the file starts with. logrotate's copytruncate empties a log its
    writer keeps open; a writer that does not append (O_APPEND) goes on writing where it
    was, and the file starts with a hole of zeros as long as the part copied away, glued
    to its first new line (which would be rejected, or the file not recognized)."""
    hole = 0
    with path.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            data = block.lstrip(b"\0")
            hole += len(block) - len(data)
            if data:
                break
    return hole


@contextmanager
def _nullcontext(value):
    yield value


def _ingest(
    con,
    path: Path,
    kind: str | None,  # the file's compression
    source: str,
    head: bytes,
    fmt: FileFormat,
    progress,
    workdir: Path,
    resumable: bool,
    hole: int = 0,  # NUL bytes the file starts with (_hole): the first line starts after
) -> FileResult:
    size = path.stat().st_size
    fingerprint = hashlib.sha256(head[:FINGERPRINT_BYTES]).hexdigest()  # stored for next time
    head_hash = fingerprint
    starts = _starts(con, head, fingerprint)
    previous = _previous(con, source) if resumable else None
    compressed = kind is not None
    if previous is not None:
        # compare the same prefix as last time: a small file's first bytes grow with it
        # (a compressed file's size is of its compressed bytes, not of the text it starts
        # with: its prefix is the same FINGERPRINT_BYTES of text each time, or all of it)
        seen = (
            FINGERPRINT_BYTES
            if compressed
            else min(FINGERPRINT_BYTES, max(previous.size - hole, 0))
        )
        head_hash = hashlib.sha256(head[:seen]).hexdigest()
    result = FileResult(source=source, format=fmt.name)
    start_offset, start_line = hole, 0
    if previous is not None:
        same_start = previous.head_hash == head_hash
        if same_start and previous.size == size and previous.end_offset == size:
            result.mode = "unchanged"  # read nothing: the place reached stays where it was
            start_offset, start_line = previous.end_offset, previous.end_line
        elif (
            same_start
            and size >= (previous.end_offset or 0)
            and fmt.line_based
            and not compressed
            # the last read reached a line (it was read by lines: a file that then read as
            # one JSON document, a few broken lines of a log just begun, has no line to go on
            # from, and is read again)
            and previous.end_line is not None
        ):
            result.mode = "appended"
            start_offset, start_line = previous.end_offset, previous.end_line
            # a last line read without its newline (a whole record): the newline written
            # since ends that line, it does not start one
            start_offset += _own_newline(path, start_offset)
        else:
            result.mode = "rotated"  # or rewritten: read again, stored calls are recognized
    # The last read took the file as one JSON document (its few first lines were no JSON
    # lines yet), or it is compressed (logrotate's compress step writing it when cron's
    # ingest ran: the last read broke off at a cut line, rejected), and it has grown since
    # from the same start: it was read while still being written. This read, of all of it,
    # takes the place of that one, whose rejects go (a line still bad is rejected again,
    # with its own line).
    superseded = (
        previous is not None
        and previous.end_line is None
        and previous.head_hash == head_hash
        and size > previous.size
    )
    ingest_id = con.execute("SELECT nextval('ingest_seq')").fetchone()[0]
    if superseded:
        con.execute(
            "DELETE FROM rejects WHERE ingest_id = ? AND source = ?",
            [previous.ingest_id, source],
        )
    end_offset, end_line = start_offset, start_line
    read_line = None  # the last line read, when streams held put end_line before it
    held_lines = None  # the held streams' own lines ('2-3, 5-6'): others lie between them
    # An unterminated last line waits for the next ingest (a writer may be in the middle of
    # it); when no ingest comes next it is read now, and rejected if it is cut.
    waits = resumable and not compressed
    pending_streams.discard(con)  # (what an ingest that failed on this connection left)
    if result.mode != "unchanged":
        if fmt.line_based:
            reported = 0  # bytes of the file told to progress (the skipped start too)
            problems: list[str] = []
            chunks = _file_chunks(path, kind, start_offset, start_line, workdir, problems)
            with chunks as parts:
                for part, compressed_at in parts:
                    chunk, first, nbytes = part.path, part.first, part.nbytes
                    if not part.terminated and waits:
                        # A writer may be in the middle of this line: keep it for next time,
                        # unless it is a complete record already.
                        if not _complete_json(chunk):
                            result.pending_bytes = nbytes
                            break
                    extra = {
                        "plain_lines": part.lines if part.plain else 0,
                        "line_bound": part.longest,
                    }
                    if fmt.name != "jsonl":
                        extra = {}
                    stats = fmt.load(con, chunk, source, ingest_id, line_offset=first, **extra)
                    _account(con, result, stats, ingest_id, starts)
                    end_offset += nbytes
                    end_line = first + stats.lines_read
                    chunk.unlink()
                    if progress:  # in the file's bytes: a compressed file's compressed ones
                        at = compressed_at if compressed else end_offset
                        progress(at - reported)
                        reported = at
            if problems:
                result.error = _broken(kind, problems[0], result.lines_read)
            if compressed:
                end_offset, end_line = size, None
            if progress:
                progress(size - reported)  # the part left pending, or gzip's read-ahead
        else:
            problems = []
            whole = _named_as_it_is(path, kind, workdir, problems)
            stats = fmt.load(con, whole, source, ingest_id)
            _account(con, result, stats, ingest_id, starts)
            if problems:
                result.error = _broken(kind, problems[0])
            end_offset, end_line = size, None
            if progress:
                progress(size)
        # streams logged chunk by chunk without usage, now that all their chunks are read;
        # those still being written wait for the next ingest, which reads them again whole
        if waits and fmt.line_based:
            _keep_chunk_lines(con)  # before hold lets go of the chunks of the streams it holds
        if (
            waits
            and fmt.line_based
            and (held := pending_streams.hold(con, _settled(con, source, result.mode), end_line))
        ):
            result.held_streams, result.held_from = held
            held_lines = _held_lines(con)
            read_line = end_line
            end_offset = _line_start(path, start_offset, start_line, result.held_from)
            end_line = result.held_from - 1
        con.execute(f"DROP TABLE IF EXISTS {CHUNK_LINES}")
        if (stats := pending_streams.finish(con, source, ingest_id, fmt.name)) is not None:
            _account(con, result, stats, ingest_id, starts)
        _dated_ahead(con, result, ingest_id)
    elif progress:
        progress(size)
    con.execute(
        """INSERT INTO ingests (ingest_id, started_at, source, format, size_bytes, head_hash,
             lines_read, ingested, skipped, rejected, end_offset, end_line, mode, read_line,
             held_lines)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            ingest_id,
            clock(),
            source,
            fmt.name,
            size,
            fingerprint,
            result.lines_read,
            result.ingested,
            result.skipped,
            result.rejected,
            end_offset if resumable else None,
            end_line,
            result.mode,
            read_line,
            held_lines,
        ],
    )
    return result


def _dated_ahead(con, result: FileResult, ingest_id: int) -> None:
    """Count the calls this ingest of a file stored that are dated ahead of the run's clock
    (by more than AHEAD_GRACE), and the latest of them: kept, and pointed out."""
    if not result.ingested:
        return
    result.dated_ahead, result.latest_ahead = con.execute(
        "SELECT count(*), max(ts) FROM requests WHERE ingest_id = ? AND ts > ?",
        [ingest_id, clock() + AHEAD_GRACE],
    ).fetchone()


CHUNK_LINES = "pending_stream_chunk_lines"  # the lines of the stream chunks kept, by stream


def _keep_chunk_lines(con) -> None:
    """The lines of the stream chunks pending_streams kept (none: an empty table)."""
    kept = con.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_name = ?"
        " AND table_schema = 'main' AND table_catalog = 'temp'",
        [pending_streams.PIECES],
    ).fetchall()
    source = pending_streams.PIECES if kept else "(SELECT NULL::VARCHAR, NULL::BIGINT LIMIT 0)"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {CHUNK_LINES} AS "
        f"SELECT request_id, line FROM {source} AS p(request_id, line)"
    )


def _held_lines(con) -> str:
    """The lines of the streams hold just held, as runs ('2-3, 5-6'): a call or another
    stream logged between their chunks is not theirs."""
    runs = con.execute(
        f"""SELECT min(line), max(line) FROM (
             SELECT line, line - row_number() OVER (ORDER BY line) AS run FROM (
               SELECT DISTINCT line FROM {CHUNK_LINES} c
               WHERE NOT EXISTS (SELECT 1 FROM {pending_streams.PIECES} p
                                 WHERE p.request_id = c.request_id)))
           GROUP BY run ORDER BY 1"""
    ).fetchall()
    return ", ".join(f"{lo:,}" if lo == hi else f"{lo:,}-{hi:,}" for lo, hi in runs)


def _own_newline(path: Path, offset: int) -> int:
    """How many bytes at ``offset`` end the line before it (1 or 2 for a newline written
    after an ingest read that line unterminated, else 0)."""
    if not offset:
        return 0
    with path.open("rb") as fh:
        fh.seek(offset - 1)
        data = fh.read(3)
    if data[:1] == b"\n":
        return 0
    return 1 if data[1:2] == b"\n" else 2 if data[1:3] == b"\r\n" else 0


def _settled(con, source: str, mode: str) -> int:
    """The last line of the file read by an earlier ingest that ran at least
    pending_streams.SILENCE ago (0: none; a file read from its start begins anew): a stream
    whose chunks all end there has been silent that long."""
    if mode != "appended":
        return 0
    [(line,)] = con.execute(
        """SELECT coalesce(max(coalesce(read_line, end_line)), 0) FROM ingests
           WHERE source = ? AND end_offset IS NOT NULL AND started_at <= ?
             AND ingest_id >= (SELECT max(ingest_id) FROM ingests WHERE source = ?
                               AND end_offset IS NOT NULL AND mode IN ('new', 'rotated'))""",
        [source, clock() - pending_streams.SILENCE, source],
    ).fetchall()
    return line


def _line_start(path: Path, offset: int, line: int, wanted: int) -> int:
    """The byte offset where line ``wanted`` of the file begins, counted from ``offset``,
    where line ``line + 1`` begins."""
    todo = wanted - 1 - line
    with path.open("rb") as fh:
        fh.seek(offset)
        while todo > 0:
            block = fh.read(1024 * 1024)
            found = block.count(b"\n")
            if found < todo:
                if not block:
                    raise ValueError(f"{path} has no line {wanted:,} past byte {offset:,}")
                todo -= found
                offset += len(block)
                continue
            at = -1
            for _ in range(todo):
                at = block.index(b"\n", at + 1)
            return offset + at + 1
    return offset


def _complete_json(path: Path) -> bool:
    import json

    try:
        json.loads(path.read_bytes())
        return True
    except ValueError:
        return False


def _starts(con, head: bytes, fingerprint: str) -> list[str]:
    """The head hashes an earlier ingest of a file that began as this one does stored: its
    first FINGERPRINT_BYTES, or, of a file smaller then, all of it (that file may have grown
    before it was rotated and renamed)."""
    sizes = con.execute(
        "SELECT DISTINCT size_bytes FROM ingests WHERE size_bytes BETWEEN 1 AND least(?, ?)",
        [FINGERPRINT_BYTES - 1, len(head)],
    ).fetchall()
    return [fingerprint, *(hashlib.sha256(head[:n]).hexdigest() for (n,) in sizes)]


def _account(con, result: FileResult, stats, ingest_id: int, starts: list[str]) -> None:
    duplicates = _store_staged(con, ingest_id)
    known = _drop_known_rejects(con, ingest_id, result.source, starts)
    result.lines_read += stats.lines_read
    result.ingested += stats.staged - duplicates
    result.skipped += stats.skipped + duplicates + known
    result.duplicates += duplicates
    result.known_rejects += known
    result.rejected += stats.rejected - known
    result.naive_timestamps += stats.naive_timestamps
    result.buckets += getattr(stats, "buckets", 0)  # formats/usage_reports.BucketStats


def _drop_known_rejects(con, ingest_id: int, source: str, starts: list[str]) -> int:
    """Drop this run's rejects of ``source`` that an earlier run kept already (the same line
    with the same text: a rotated or truncated file read again, under its name or, rotated
    and renamed — app.jsonl read again as app.jsonl.1.gz —, under another whose first bytes
    were the same, ``starts``), like calls already stored are recognized by request id;
    returns how many (they count as skipped).

    Another file's first bytes make it a candidate only: two logs that begin with the same
    calls (a shared header of FINGERPRINT_BYTES) are two files, and the second's bad lines
    were never shown. An earlier read of another file is the one this file was rotated
    from only while no line the two were read at differs: a line where this read stored a
    new call, or rejected a line, that the other read stored as a call or rejected with
    other text (a rotated file holds the lines read before, the calls among them already
    stored)."""
    others = con.execute(
        """SELECT list(DISTINCT x.ingest_id) FROM rejects r JOIN rejects x
             ON x.line = r.line AND x.raw IS NOT DISTINCT FROM r.raw
           WHERE r.ingest_id = ? AND r.source = ? AND x.ingest_id < r.ingest_id
             AND x.source <> r.source
             AND x.ingest_id IN (SELECT ingest_id FROM ingests WHERE head_hash IN (SELECT unnest(?)))""",
        [ingest_id, source, starts],
    ).fetchone()[0]
    differ = []
    if others:
        differ = (
            con.execute(
                """WITH theirs AS (
                 SELECT ingest_id, source_line AS line, NULL AS raw, true AS call FROM requests
                 WHERE ingest_id IN (SELECT unnest(?))
                 UNION ALL SELECT ingest_id, line, raw, false FROM rejects
                 WHERE ingest_id IN (SELECT unnest(?))),
               ours AS (
                 SELECT source_line AS line, NULL AS raw, true AS call FROM requests
                 WHERE ingest_id = ?
                 UNION ALL SELECT line, raw, false FROM rejects WHERE ingest_id = ? AND source = ?)
               SELECT list(DISTINCT t.ingest_id) FROM theirs t JOIN ours o ON o.line = t.line
               WHERE o.call OR t.call OR o.raw IS DISTINCT FROM t.raw""",
                [others, others, ingest_id, ingest_id, source],
            ).fetchone()[0]
            or []
        )
    rotated_from = [i for i in others or [] if i not in differ]
    row = con.execute(
        """DELETE FROM rejects r WHERE r.ingest_id = ? AND r.source = ?
           AND EXISTS (SELECT 1 FROM rejects x
                       WHERE x.ingest_id < r.ingest_id
                         AND (x.source = r.source OR x.ingest_id IN (SELECT unnest(?)))
                         AND x.line = r.line AND x.raw IS NOT DISTINCT FROM r.raw)""",
        [ingest_id, source, rotated_from],
    ).fetchone()
    return row[0] if row else 0


# The texts of ``staged``, each with a number that names its row and column (its line
# when lines name rows): the texts kept are picked by hash and number, so the large texts
# pass through no hash table (copying them into one cost more than storing them).
_STAGED_TEXTS = """
    SELECT prompt_hash AS hash, prompt_kind AS kind, prompt_text AS text, line * 4 AS pick
    FROM staged WHERE prompt_hash IS NOT NULL
    UNION ALL SELECT system_hash, 'text', system_text, line * 4 + 1 FROM staged
    WHERE system_hash IS NOT NULL
    UNION ALL SELECT completion_hash, 'text', completion_text, line * 4 + 2 FROM staged
    WHERE completion_hash IS NOT NULL
    UNION ALL SELECT tools_hash, 'tools', tools_text, line * 4 + 3 FROM staged
    WHERE tools_hash IS NOT NULL"""


def _store_staged(con, ingest_id: int) -> int:
    """Move ``staged`` into the store; returns how many were already stored (duplicates).

    A text is stored once (the first of its hash: the prompt's before the system prompt's,
    the completion's, the tools', each by line), a call once (its first line), what is
    stored already not again. When each row has its own line (every reader's), the rows kept
    are found by line alone, so the texts and calls are copied only into their tables;
    else (lines repeated or missing) by DISTINCT ON and row_number, which carry them."""
    before, lines = con.execute("SELECT count(*), count(DISTINCT line) FROM staged").fetchone()
    if lines == before:
        con.execute(
            f"""INSERT INTO texts SELECT hash, kind, text FROM ({_STAGED_TEXTS}) t
            WHERE pick IN (SELECT min(pick) FROM ({_STAGED_TEXTS}) u GROUP BY hash)
              AND NOT EXISTS (SELECT 1 FROM texts x WHERE x.hash = t.hash)"""
        )
        first = (
            "SELECT * FROM staged WHERE line IN (SELECT min(line) FROM staged GROUP BY request_id)"
        )
    else:
        con.execute(
            f"""INSERT INTO texts SELECT DISTINCT ON (hash) hash, kind, text FROM (
              {_STAGED_TEXTS}) t WHERE NOT EXISTS (SELECT 1 FROM texts x WHERE x.hash = t.hash)"""
        )
        first = "SELECT * FROM staged QUALIFY row_number() OVER (PARTITION BY request_id ORDER BY line) = 1"
    stored_before = con.execute(
        "SELECT count(*) FROM requests WHERE ingest_id = ?", [ingest_id]
    ).fetchone()[0]
    columns = ", ".join(REQUEST_COLUMNS)
    con.execute(
        f"""INSERT INTO requests ({columns})
        SELECT request_id, ts, provider, model, input_tokens, cache_read_tokens,
          cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens,
          coalesce(token_source, CASE WHEN input_tokens IS NOT NULL OR output_tokens IS NOT NULL
                                      THEN 'reported' END),
          service_tier, prompt_hash, system_hash, completion_hash,
          user_id, session_id, feature, tags, latency_ms, status, finish_reason, max_tokens,
          reported_cost_usd, source, line, format, ?, web_search_requests, inference_geo, speed,
          tools_hash, CASE WHEN tools_hash IS NOT NULL THEN tool_choice END,
          input_audio_tokens, cache_read_audio_tokens, output_audio_tokens
        FROM ({first}) s
        WHERE NOT EXISTS (SELECT 1 FROM requests x WHERE x.request_id = s.request_id)""",
        [ingest_id],
    )
    stored = (
        con.execute("SELECT count(*) FROM requests WHERE ingest_id = ?", [ingest_id]).fetchone()[0]
        - stored_before
    )
    drop_staged(con)
    return before - stored


@contextmanager
def _no_checkpoints(con, needed: bool):
    """No automatic checkpoint while a store in memory takes a log statement by statement:
    past ``checkpoint_threshold`` of commits DuckDB checkpoints it, compressing every table
    so far again and again (one transaction, as a store on disk is filled, checkpoints
    nothing until it ends). The threshold is set back afterwards."""
    if not needed:
        yield
        return
    [(threshold,)] = con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()
    con.execute("SET checkpoint_threshold = '1000TB'")
    try:
        yield
    finally:
        con.execute(f"SET checkpoint_threshold = '{threshold}'")


def ingest_paths(
    con,
    paths: Iterable[str],
    input_format: str | None = None,
    on_file: Callable[[FileResult], None] | None = None,
    progress: Callable[[int, int], Callable[[int], None]] | None = None,
    resumable: bool = True,
) -> IngestResult:
    """Ingest every file in one transaction. ``progress(total_bytes)`` may return a callback
    that is told the bytes done after each chunk. ``resumable=False``: no later ingest will
    go on with these files (a store that ends with this run), so an unfinished last line is
    read now, not left for the writer to finish.

    A store in memory that ends with this run (``resumable=False``: analyze without --db)
    has nothing to keep whole when an ingest fails, so its statements commit one by one:
    inside one transaction DuckDB keeps every chunk's staged rows, dropped or deleted, until
    COMMIT (a log's worth of texts, spilled to disk past the memory ceiling)."""
    store_files = _store_files(con)
    names = _expand(paths, store_files)
    total = sum(Path(n).stat().st_size for n, _ in names if n != STDIN and Path(n).exists())
    advance = progress(total, len(names)) if progress else None
    result = IngestResult()
    atomic = resumable or bool(store_files)
    if atomic:
        con.execute("BEGIN")
    try:
        with _workdir() as wd, _no_checkpoints(con, not atomic):
            for name, named in names:
                if not named and name != STDIN and (why := _cannot_read(name)):
                    file_result = _not_readable(name, why)
                    if advance and Path(name).exists():
                        advance(Path(name).stat().st_size)
                else:
                    file_result = ingest_file(
                        con, name, input_format, advance, wd, named, resumable=resumable
                    )
                result.files.append(file_result)
                if on_file:
                    on_file(file_result)
        if atomic:
            con.execute("COMMIT")
    except BaseException:
        if atomic:
            con.execute("ROLLBACK")
        raise
    return result
