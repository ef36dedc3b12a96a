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
    frame = zstandard.compress(b"hello\n" * 1000)
    for data, expected in ((b"", b""), (frame + frame, b"hello\n" * 2000)):
        reader = streams.ZstdReader(io.BytesIO(data), read_size=7)  # input fed in small pieces
        assert reader.read(100_000) == expected
    reader = streams.ZstdReader(io.BytesIO(frame[:-5]))
    with pytest.raises(EOFError, match="truncated"):
        reader.read(100_000)
