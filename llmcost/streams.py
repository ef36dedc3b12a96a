"""A log file's bytes, decompressed as they are read: gzip, zstd, bzip2 and xz told by their
first bytes, and text in another encoding (UTF-16, Windows-1252) or with old Mac line endings
(CR) as the UTF-8 lines it holds; reads that stop, not fail, at a truncated or damaged end; a
one-ahead producer thread.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# How a compressed file starts, whatever its name (stdin, a rotated log without .gz).
MAGIC = {
    b"\x1f\x8b": "gzip",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
}

# What a name says of its file's compression, and the kinds a format read whole is given
# as they are (by name): DuckDB reads zstd too, but the formats' own looks at a file's start
# (a CSV header, a document's first bytes) inflate gzip only, so zstd is decompressed first.
SUFFIXES = {".gz": "gzip", ".zst": "zstd", ".bz2": "bzip2", ".xz": "xz"}
DUCKDB_READS = (None, "gzip")

# How much of the (decompressed) text its encoding and line endings are told from.
TEXT_HEAD = 64 * 1024

# Text that is not UTF-8 with LF line ends is read as the UTF-8 lines it holds, as a
# compressed file is read as the text it holds (a kind names each step: 'gzip+utf-16').
#  - 'utf-16': a UTF-16 BOM (Windows PowerShell's Out-File and > write UTF-16LE with one).
#  - 'utf-16-le', 'utf-16-be': no BOM (.NET's Encoding.Unicode without a preamble, iconv -t
#    UTF-16LE), told as RFC 4627 tells JSON's encoding: a log's first two characters are
#    ASCII, so the NULs among its first bytes give the byte order.
#  - 'cp1252': no UTF-8 anywhere, and every byte a Windows-1252 character (an export of
#    Excel or of an old Windows tool; Latin-1's printable characters are the same bytes).
#  - 'cr': lines ended by a CR alone (classic Mac OS, old Excel for Mac exports): its text
#    holds no LF, so it would be one line.
_UTF16_NULS = {"utf-16-le": (1, 3, 5, 7), "utf-16-be": (0, 2, 4, 6)}
# A byte of UTF-8 that Windows-1252 text would not hold by chance: a lead byte followed by
# its continuation bytes (cp1252's 'Ã©' is UTF-8's 'é').
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
# Bytes no Windows-1252 text holds: C0 controls but tab, LF, FF and CR, and the five bytes
# cp1252 leaves undefined (a binary file has them in its first bytes: it is not scanned on).
_NOT_CP1252 = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x81\x8d\x8f\x90\x9d]")
# A cp1252 letter (À-ÿ but × and ÷) that is in no word: beside another byte past ASCII with
# no ASCII letter on either side ('\xff\xfe' of a stray UTF-16 BOM, binary noise), where
# text's letters sit in words ('café', 'Ærø', 'à la'). Such a file is not read as cp1252:
# its lines that are not UTF-8 are rejected, with the note.
_LETTER = rb"[\xc0-\xd6\xd8-\xf6\xf8-\xff]"
_NOT_IN_A_WORD = re.compile(
    rb"[^A-Za-z]" + _LETTER + rb"[\x80-\xff]|[\x80-\xff]" + _LETTER + rb"[^A-Za-z]"
)


def compression(path: Path) -> str | None:
    """How the file's bytes become UTF-8 lines: None when they are them already, else the
    steps '+'-joined: its compression ('gzip', 'zstd', 'bzip2', 'xz', told by its first
    bytes), then its text's encoding ('utf-16', 'utf-16-le', 'utf-16-be', 'cp1252') and
    'cr' for CR line ends. A UTF-8 file costs a look at its first TEXT_HEAD bytes."""
    with path.open("rb") as fh:
        start = fh.read(6)
    outer = next((kind for magic, kind in MAGIC.items() if start.startswith(magic)), None)
    try:
        with opened(path, outer) as (stream, _):
            buffer = bytearray(TEXT_HEAD)
            size, _ = read_into(stream, memoryview(buffer), None)
    except read_errors():  # (a damaged compressed file: its reading says so)
        return outer
    head = bytes(buffer[:size])
    text = _encoding(head)
    if text is None and not _utf8_start(head) and _all_cp1252(path, outer):
        text = "cp1252"
    if text is not None:
        head = codecs.decode(head, text, "replace").encode("utf-8", "replace")
    cr = b"\r" in head and b"\n" not in head
    return "+".join(k for k in (outer, text, "cr" if cr else None) if k) or None


def _encoding(head: bytes) -> str | None:
    """'utf-16' (its BOM), 'utf-16-le' or 'utf-16-be' (its first four characters ASCII, their
    NULs where the byte order puts them), else None."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    if len(head) < 8 or b"\0\0" in head[:8]:  # (a file that starts with a hole of NULs)
        return None
    return next(
        (name for name, nuls in _UTF16_NULS.items() if all(head[i] == 0 for i in nuls)), None
    )


def _utf8_start(head: bytes) -> bool:
    """The head is UTF-8 (a character cut at its end is)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return True
    except UnicodeDecodeError:
        return False


def _all_cp1252(path: Path, outer: str | None) -> bool:
    """Every byte of the file (decompressed) is Windows-1252 text, its letters in words, and
    no sequence of them is UTF-8: read whole, only for a file whose head is not UTF-8."""
    view = memoryview(bytearray(1 << 20))
    carry = b""  # a block's last 3 bytes: a UTF-8 sequence may cross into the next
    try:
        with opened(path, outer) as (stream, _):
            while True:
                size, broken = read_into(stream, view, [])
                block = carry + bytes(view[:size])
                if any(r.search(block) for r in (_NOT_CP1252, _UTF8_SEQUENCE, _NOT_IN_A_WORD)):
                    return False
                if broken or size < len(view):
                    return True
                carry = block[-3:]
    except OSError:
        return False


@contextmanager
def opened(path: Path, kind: str | None):
    """``(stream, raw)``: the file's decompressed bytes as a stream, and the file itself
    (``raw.tell()``: the compressed bytes read). ``kind`` is the file's ``compression``:
    gzip and zstd (every frame of a file of several, as ``zstd`` writes when appending) are
    decompressed as they are read, and text that is not UTF-8 with LF line ends read as
    the UTF-8 lines it holds (TextReader)."""
    outer, *text = (kind or "").split("+")
    if outer not in MAGIC.values():
        outer, text = "", [outer, *text]
    text = [k for k in text if k]
    with path.open("rb") as raw, _decompressed(raw, outer) as stream:
        yield (TextReader(stream, *text) if text else stream), raw


@contextmanager
def _decompressed(raw, kind: str):
    if kind == "gzip":
        with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            yield stream
    elif kind == "zstd":
        yield ZstdReader(raw)
    elif kind in ("bzip2", "xz"):
        import bz2
        import lzma

        opener = bz2.BZ2File if kind == "bzip2" else lzma.LZMAFile
        with opener(raw, mode="rb") as stream:
            yield stream
    else:
        yield raw


class ZstdReader:
    """A zstd file's decompressed bytes, frame after frame. A file that ends inside a frame
    raises EOFError, as gzip does (zstandard's own stream reader just stops there)."""

    def __init__(self, raw, read_size: int = 1 << 20) -> None:
        import zstandard

        self._raw, self._read_size = raw, read_size
        self._frame = zstandard.ZstdDecompressor().decompressobj
        self._obj = self._frame()
        self._in_frame = False  # input fed to the current frame, and its end not yet seen
        self._out = memoryview(b"")  # decompressed, not yet read

    def readinto(self, view) -> int:
        while not self._out:
            data = self._raw.read(self._read_size)
            if not data:
                if self._in_frame:
                    raise EOFError("the zstd file ends inside a frame: it is truncated")
                return 0
            self._out = memoryview(self._feed(data))
        n = min(len(view), len(self._out))
        view[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def _feed(self, data: bytes) -> bytes:
        out = []
        while data:
            self._in_frame = True
            out.append(self._obj.decompress(data))
            if not self._obj.eof:
                break
            data, self._obj, self._in_frame = self._obj.unused_data, self._frame(), False
        return b"".join(out)


class TextReader:
    """Text as UTF-8 bytes, as it is read from ``raw``: ``steps`` are an encoding ('utf-16',
    its BOM telling the byte order and dropped; 'utf-16-le', 'utf-16-be'; 'cp1252') and
    'cr', every line end (CR, CRLF) an LF. A byte that is no UTF-16 (an odd last byte, a
    lone surrogate) reads as U+FFFD; a byte of a CR-ended file that is no UTF-8 stays as it
    is: its line is then read, or rejected, with the others."""

    def __init__(self, raw, *steps: str, read_size: int = 1 << 20) -> None:
        encoding = next((s for s in steps if s != "cr"), "utf-8")
        errors = "surrogateescape" if encoding == "utf-8" else "replace"
        # one read of the source at a time (read_into's readinto1: what a broken gzip gave
        # before it broke is kept)
        self._read = getattr(raw, "readinto1", raw.readinto)
        self._buffer, self._errors = memoryview(bytearray(read_size)), errors
        self._decoder = codecs.getincrementaldecoder(encoding)(errors)
        if "cr" in steps:
            self._decoder = io.IncrementalNewlineDecoder(self._decoder, translate=True)
        self._out = memoryview(b"")
        self._done = False

    def readinto(self, view) -> int:
        while not self._out and not self._done:
            size = self._read(self._buffer)
            self._done = not size
            text = self._decoder.decode(bytes(self._buffer[:size]), final=self._done)
            self._out = memoryview(text.encode("utf-8", self._errors))
        n = min(len(view), len(self._out))
        view[:n] = self._out[:n]
        self._out = self._out[n:]
        return n


def one_ahead(items: Iterator[T]) -> Iterator[T]:
    """``items``, each next one made on a thread while the caller uses this one (one ahead,
    no more). A log's chunks: cutting (and decompressing: zlib lets go of the GIL) the next
    overlaps DuckDB reading this one, where it would otherwise wait for it. The thread's
    errors reach the caller; when the caller stops early, the item being made is waited for
    (its chunk file lands in the workdir before that is removed)."""
    from concurrent.futures import ThreadPoolExecutor

    end = object()
    with ThreadPoolExecutor(1, thread_name_prefix="llmcost-read") as pool:
        upcoming = pool.submit(next, items, end)
        try:
            while (item := upcoming.result()) is not end:
                upcoming = pool.submit(next, items, end)
                yield item
        finally:
            with suppress(BaseException):  # the caller's exit or error goes on, not this one
                upcoming.result()


def read_into(stream, view: memoryview, problems: list[str] | None) -> tuple[int, bool]:
    """Fill ``view`` from ``stream``: the bytes read (fewer only at the end of the stream)
    and whether reading broke off (its error added to ``problems``, or raised)."""
    # readinto1: one read of the stream's source at a time, so that when one breaks (a
    # truncated gzip), what the reads before it gave is kept (readinto would drop it)
    read = getattr(stream, "readinto1", stream.readinto)
    filled = 0
    try:
        while filled < len(view) and (got := read(view[filled:])):
            filled += got
    except read_errors() as exc:
        if problems is None:
            raise
        problems.append(str(exc) or type(exc).__name__)
        return filled, True
    return filled, False


def decompressed_copy(path: Path, kind: str | None, target: Path, problems: list[str]) -> None:
    """Write ``path``'s bytes, decompressed (``kind``), to ``target``: all of them, or what
    could be read before the file broke off (its error added to ``problems``)."""
    view = memoryview(bytearray(1 << 20))
    with opened(path, kind) as (stream, _), target.open("wb") as out:
        broken = False
        while not broken:
            size, broken = read_into(stream, view, problems)
            out.write(view[:size])
            if size < len(view):
                break


def read_errors() -> tuple[type[BaseException], ...]:
    """What reading a damaged or truncated file raises: OSError (gzip.BadGzipFile and bzip2's
    invalid data too), EOFError (a compressed stream ending inside a block), zlib.error,
    lzma.LZMAError, and zstandard's ZstdError when zstandard has been loaded."""
    import lzma
    import zlib

    errors: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error, lzma.LZMAError)
    zstandard = sys.modules.get("zstandard")
    return errors + (zstandard.ZstdError,) if zstandard else errors
