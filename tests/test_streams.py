"""Decompressed log streams: the zstd reader and the one-ahead producer."""

from __future__ import annotations

import io
import time

import pytest
import zstandard

from llmcost import streams


def test_one_ahead_keeps_order_and_makes_only_the_next_item():
    made: list[int] = []

    def items():
        for i in range(5):
            made.append(i)
            yield i

    seen = []
    for item in streams.one_ahead(items()):
        time.sleep(0.02)  # the thread has time to run ahead, if it would
        seen.append(item)
        assert made[-1] <= item + 1
    assert seen == [0, 1, 2, 3, 4]


def test_one_ahead_raises_the_makers_error_in_turn_and_waits_for_it_when_left_early():
    def failing():
        yield 1
        raise OSError("disk full")

    ahead = streams.one_ahead(failing())
    assert next(ahead) == 1
    with pytest.raises(OSError, match="disk full"):
        next(ahead)

    done: list[int] = []

    def slow():
        for i in range(3):
            time.sleep(0.1)
            done.append(i)
            yield i

    ahead = streams.one_ahead(slow())
    assert next(ahead) == 0  # item 1 is being made now
    ahead.close()
    assert done == [0, 1]  # close waited for it, and made nothing more


def test_the_zstd_reader_ends_quietly_only_at_a_frame_end():
    def read(data: bytes, read_size: int = 1 << 20) -> tuple[bytes, list[str]]:
        reader = streams.ZstdReader(io.BytesIO(data), read_size)
        buffer, problems = bytearray(100_000), []
        size, _ = streams.read_into(reader, memoryview(buffer), problems)
        return bytes(buffer[:size]), problems

    frame = zstandard.compress(b"hello\n" * 1000)
    assert read(b"") == (b"", [])
    # two frames, the input fed in small pieces
    assert read(frame + frame, read_size=7) == (b"hello\n" * 2000, [])
    # a frame cut short: what it gave, and why it stopped
    data, problems = read(frame[:-5])
    assert (b"hello\n" * 1000).startswith(data)
    assert problems == ["the zstd file ends inside a frame: it is truncated"]
