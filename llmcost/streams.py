"""A log file's bytes, decompressed as they are read: gzip, zstd, bzip2 and xz told by their
first bytes, and UTF-16 text (told by its BOM) as UTF-8; reads that stop, not fail, at a
truncated or damaged end; a one-ahead producer thread.
"""

from __future__ import annotations

import gzip
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
    # Windows PowerShell's Out-File and > write UTF-16 (LE) with its BOM: read as the UTF-8
    # it would be, as a compressed file is read as the text it holds
    b"\xff\xfe": "utf-16",
    b"\xfe\xff": "utf-16",
}

# What a name says of its file's compression, and the kinds a format read whole is given
# as they are (by name): DuckDB reads zstd too, but the formats' own looks at a file's start
# (a CSV header, a document's first bytes) inflate gzip only, so zstd is decompressed first.
SUFFIXES = {".gz": "gzip", ".zst": "zstd", ".bz2": "bzip2", ".xz": "xz"}
DUCKDB_READS = (None, "gzip")


def compression(path: Path) -> str | None:
    """'gzip', 'zstd', 'bzip2', 'xz' or 'utf-16' when the file's first bytes say so, else
    None."""
    with path.open("rb") as fh:
        start = fh.read(6)
    return next((kind for magic, kind in MAGIC.items() if start.startswith(magic)), None)


@contextmanager
def opened(path: Path, kind: str | None):
    """``(stream, raw)``: the file's decompressed bytes as a stream, and the file itself
    (``raw.tell()``: the compressed bytes read). ``kind`` is the file's ``compression``:
    gzip and zstd (every frame of a file of several, as ``zstd`` writes when appending) are
    decompressed as they are read."""
    with path.open("rb") as raw:
        if kind == "gzip":
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                yield stream, raw
        elif kind == "zstd":
            yield ZstdReader(raw), raw
        elif kind == "utf-16":
            yield Utf16Reader(raw), raw
        elif kind in ("bzip2", "xz"):
            import bz2
            import lzma

            opener = bz2.BZ2File if kind == "bzip2" else lzma.LZMAFile
            with opener(raw, mode="rb") as stream:
                yield stream, raw
        else:
            yield raw, raw


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


class Utf16Reader:
    """A UTF-16 file's text (its BOM tells the byte order, and is dropped) as UTF-8 bytes. A
    byte that is no UTF-16 (an odd last byte, a lone surrogate) reads as U+FFFD: its line
    is then read, or rejected, with the others."""

    def __init__(self, raw, read_size: int = 1 << 20) -> None:
        import codecs

        self._raw, self._read_size = raw, read_size
        self._decoder = codecs.getincrementaldecoder("utf-16")("replace")
        self._out = memoryview(b"")
        self._done = False

    def readinto(self, view) -> int:
        while not self._out and not self._done:
            data = self._raw.read(self._read_size)
            self._done = not data
            self._out = memoryview(self._decoder.decode(data, final=self._done).encode())
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
