"""The JSON-lines reader: shapes, aliases, timestamps, usage styles, rejects, accounting."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from llmcost import store
from llmcost.ingest import ingest_file, ingest_paths
from tests.conftest import SAMPLES


def load(path):
    con = store.connect()
    result = ingest_file(con, str(path))
    cur = con.execute("SELECT * FROM requests ORDER BY source_line")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    rejects = con.execute("SELECT line, reason FROM rejects ORDER BY line").fetchall()
    return result, rows, rejects, con


SHAPE_FILES = sorted((SAMPLES / "shapes").glob("*.jsonl"))


@pytest.mark.parametrize("path", SHAPE_FILES, ids=lambda p: p.stem)
def test_every_sample_shape_reads_cleanly(path):
    result, rows, rejects, _ = load(path)
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    assert rejects == []
    assert result.accounted
    assert len(rows) == len(lines)
    for row in rows:
        assert row["model"]
        assert row["provider"] in {"openai", "anthropic", "google"}
        assert row["input_tokens"] is not None and row["output_tokens"] is not None
        assert row["input_tokens"] >= (row["cache_read_tokens"] or 0)
        assert row["output_tokens"] >= (row["reasoning_tokens"] or 0)


def test_shapes_are_detected_per_line(jsonl):
    path = jsonl(
        [
            {
                "object": "chat.completion",
                "model": "gpt-4o",
                "created": 1730000000,
                "choices": [{"message": {"content": "a"}, "finish_reason": "length"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 2},
            },
            {
                "object": "response",
                "model": "gpt-5",
                "created_at": 1730000000,
                "status": "completed",
                "output": [{"type": "message", "content": [{"type": "output_text", "text": "b"}]}],
                "usage": {
                    "input_tokens": 10,
                    "input_tokens_details": {"cached_tokens": 4},
                    "output_tokens": 7,
                    "output_tokens_details": {"reasoning_tokens": 3},
                },
            },
            {
                "type": "message",
                "role": "assistant",
                "model": "claude-haiku-4-5",
                "content": [{"type": "text", "text": "c"}],
                "stop_reason": "end_turn",
                "usage": {
                    "input_tokens": 5,
                    "output_tokens": 1,
                    "cache_read_input_tokens": 100,
                    "cache_creation_input_tokens": 20,
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": 5,
                        "ephemeral_1h_input_tokens": 15,
                    },
                },
            },
            {
                "modelVersion": "gemini-2.5-pro",
                "createTime": "2025-10-10T10:00:00Z",
                "candidates": [{"content": {"parts": [{"text": "d"}]}, "finishReason": "STOP"}],
                "usageMetadata": {
                    "promptTokenCount": 30,
                    "cachedContentTokenCount": 10,
                    "candidatesTokenCount": 5,
                    "thoughtsTokenCount": 50,
                },
            },
        ]
    )
    result, rows, rejects, con = load(path)
    assert rejects == []
    got = [
        (
            r["provider"],
            r["input_tokens"],
            r["cache_read_tokens"],
            r["cache_write_tokens"],
            r["cache_write_1h_tokens"],
            r["output_tokens"],
            r["reasoning_tokens"],
            r["finish_reason"],
        )
        for r in rows
    ]
    assert got == [
        ("openai", 10, None, None, None, 2, None, "length"),
        ("openai", 10, 4, None, None, 7, 3, "stop"),
        ("anthropic", 125, 100, 5, 15, 1, None, "stop"),
        ("google", 30, 10, None, None, 55, 50, "stop"),
    ]
    texts = dict(con.execute("SELECT hash, text FROM texts").fetchall())
    assert [texts[r["completion_hash"]] for r in rows] == ["a", "b", "c", "d"]


def test_flat_aliases(jsonl):
    path = jsonl(
        [
            {
                "ts": "2026-01-02T03:04:05+02:00",
                "model": "gpt-4o-mini",
                "user": "alice",
                "prompt": "hi",
                "completion": "yo",
                "input_tokens": "12",
                "output_tokens": 3,
                "tags": {"feature": "f1"},
                "duration": 1.5,
            },
            {
                "time": 1767323045,
                "model": "gpt-4o-mini",
                "user_id": "bob",
                "input": "q",
                "output": "a",
                "prompt_tokens": 7,
                "completion_tokens": 1,
                "metadata": {"route": "/x"},
                "latency_ms": 20,
            },
            {
                "created_at": "2026-01-02 03:04:05",
                "model": "gpt-4o-mini",
                "prompt_tokens": 1,
                "completion_tokens": 1,
                "status": "error",
            },
            {
                "created": 1767323045123,
                "model": "gpt-4o-mini",
                "input_tokens": 1,
                "output_tokens": 1,
            },
            {
                "timestamp": "1767323045123456",
                "model": "gpt-4o-mini",
                "input_tokens": 1,
                "output_tokens": 1,
            },
            {
                "timestamp": 1767323045123456789,
                "model": "gpt-4o-mini",
                "input_tokens": 1,
                "output_tokens": 1,
            },
        ]
    )
    result, rows, rejects, _ = load(path)
    assert rejects == []
    utc = dt.timezone.utc
    assert rows[0]["ts"] == dt.datetime(2026, 1, 2, 1, 4, 5, tzinfo=utc)
    assert (rows[0]["user_id"], rows[0]["feature"], rows[0]["latency_ms"]) == (
        "alice",
        "f1",
        1500.0,
    )
    assert (rows[0]["input_tokens"], rows[0]["output_tokens"]) == (12, 3)
    assert (rows[1]["user_id"], rows[1]["feature"], rows[1]["latency_ms"]) == ("bob", "/x", 20.0)
    assert rows[1]["ts"] == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=utc)
    assert rows[2]["ts"] == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=utc)  # no zone: UTC
    assert rows[2]["status"] == "error"
    assert result.naive_timestamps == 1
    assert rows[3]["ts"] == dt.datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=utc)  # ms
    assert rows[4]["ts"] == dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=utc)  # µs
    assert rows[5]["ts"] == dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=utc)  # ns


def test_envelope_takes_usage_from_response_and_text_from_request(jsonl):
    path = jsonl(
        [
            {
                "timestamp": "2026-03-01T00:00:00Z",
                "provider": "azure",
                "request": {
                    "model": "gpt-4o",
                    "max_tokens": 50,
                    "user": "u9",
                    "messages": [
                        {"role": "system", "content": "S"},
                        {"role": "user", "content": "Q"},
                    ],
                },
                "response": {
                    "object": "chat.completion",
                    "model": "gpt-4o-2024-08-06",
                    "choices": [{"message": {"content": "A"}, "finish_reason": "stop"}],
                    "usage": {
                        "prompt_tokens": 20,
                        "completion_tokens": 2,
                        "prompt_tokens_details": {"cached_tokens": 8},
                    },
                },
                "metadata": {"feature": "chat"},
            }
        ]
    )
    _, [row], rejects, con = load(path)
    assert rejects == []
    assert (row["provider"], row["model"], row["max_tokens"], row["user_id"], row["feature"]) == (
        "azure",
        "gpt-4o-2024-08-06",
        50,
        "u9",
        "chat",
    )
    assert (row["input_tokens"], row["cache_read_tokens"], row["output_tokens"]) == (20, 8, 2)
    texts = dict(con.execute("SELECT hash, text FROM texts").fetchall())
    assert json.loads(texts[row["prompt_hash"]])[1] == {"role": "user", "content": "Q"}
    assert texts[row["system_hash"]] == "S"


def test_anthropic_envelope_system_joins_the_prompt(jsonl):
    path = jsonl(
        [
            {
                "request": {
                    "model": "claude-haiku-4-5",
                    "system": "Be brief.",
                    "messages": [{"role": "user", "content": "Q"}],
                },
                "response": {
                    "type": "message",
                    "model": "claude-haiku-4-5",
                    "content": [],
                    "usage": {"input_tokens": 9, "output_tokens": 0},
                },
            }
        ]
    )
    _, [row], _, con = load(path)
    texts = dict(con.execute("SELECT hash, text FROM texts").fetchall())
    assert json.loads(texts[row["prompt_hash"]]) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Q"},
    ]
    assert texts[row["system_hash"]] == "Be brief."


def test_system_prompts_are_read_wherever_the_log_puts_them(jsonl):
    """A system prompt as the first message (system or developer, text or parts), as a
    separate field (which then goes first in the prompt, even before a system message),
    beside a text prompt: each call keeps its own."""
    usage = {"prompt_tokens": 1, "completion_tokens": 1}
    parts = [{"type": "text", "text": "Parts."}]
    records = [
        # first message is the system prompt (twice: hashed once, both rows point to it)
        {"model": "gpt-4o", "usage": usage, "messages": [
            {"role": "system", "content": "Sys A"}, {"role": "user", "content": "1"}]},
        {"model": "gpt-4o", "usage": usage, "messages": [
            {"role": "system", "content": "Sys A"}, {"role": "user", "content": "2"}]},
        {"model": "gpt-4o", "usage": usage, "messages": [
            {"role": "developer", "content": "Dev \"quoted\" \u00e9"},
            {"role": "user", "content": "3"}]},
        {"model": "gpt-4o", "usage": usage, "messages": [
            {"role": "system", "content": parts}, {"role": "user", "content": "4"}]},
        # a separate system field, first message a user's
        {"model": "claude-haiku-4-5", "usage": usage, "system": "Sys B",
         "messages": [{"role": "user", "content": "5"}]},
        # both: the first message is the system prompt, the field goes first in the prompt
        {"model": "claude-haiku-4-5", "usage": usage, "system": "Field",
         "messages": [{"role": "system", "content": "Sys C"}, {"role": "user", "content": "6"}]},
        # a text prompt with a system prompt
        {"model": "gpt-4o", "usage": usage, "instructions": "Sys B", "input": "7"},
        {"model": "gpt-4o", "usage": usage, "messages": [{"role": "user", "content": "8"}]},
        {"model": "gpt-4o", "usage": usage, "messages": []},
    ]  # fmt: skip
    _, rows, rejects, con = load(jsonl(records))
    assert rejects == []
    texts = dict(con.execute("SELECT hash, text FROM texts").fetchall())
    systems = [texts.get(row["system_hash"]) for row in rows]
    assert systems == [
        "Sys A", "Sys A", 'Dev "quoted" \u00e9', json.dumps(parts, separators=(",", ":")),
        "Sys B", "Sys C", "Sys B", None, None,
    ]  # fmt: skip
    assert [row["system_hash"] is None for row in rows] == [False] * 7 + [True] * 2
    assert json.loads(texts[rows[5]["prompt_hash"]])[0] == {"role": "system", "content": "Field"}


GARBAGE = [
    '{"model": "gpt-4o", "usage": {"prompt_tokens": 3, "completion_tokens": 1}}',  # 1 ok
    "not json",  # 2
    "[1, 2]",  # 3
    '"a string"',  # 4
    "42",  # 5
    '{"unknown": "object"}',  # 6: no model
    '{"model": "gpt-4o", "usage": {"prompt_tokens": -5}}',  # 7
    '{"model": "gpt-4o", "usage": {"prompt_tokens": {"x": 1}}}',  # 8
    '{"model": "gpt-4o", "timestamp": "yesterday-ish", "input_tokens": 1}',  # 9
    "",  # 10 blank: skipped
    '{"model": "gpt-4o", "usage": {"prompt_tokens": 3',  # 11 truncated
    '{"model": "gpt-4o", "usage": {"prompt_tokens": "7", "completion_tokens": 2.0}}',  # 12 ok
]


def test_garbage_lines_are_rejected_with_line_and_reason(jsonl, tmp_path):
    path = jsonl(GARBAGE)
    with path.open("ab") as fh:
        fh.write(b'\xff\xfe{"model": "x"}\n')  # 13: invalid UTF-8
        fh.write(b'{"model": "gpt-4o", "input_tokens": 1, "output_tokens": 1}')  # 14: no newline
    result, rows, rejects, _ = load(path)
    assert [r["source_line"] for r in rows] == [1, 12, 14]
    assert rows[1]["input_tokens"] == 7 and rows[1]["output_tokens"] == 2
    reasons = dict(rejects)
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8, 9, 11, 13]
    assert reasons[2] == "not valid JSON"
    # JSON's words for the line's value, not DuckDB's type names ('JSON varchar', 'ubigint')
    assert reasons[3] == "JSON array, not an object"
    assert reasons[4] == "JSON string, not an object"
    assert reasons[5] == "JSON number, not an object"
    assert reasons[6].startswith("no model")
    assert "prompt_tokens" in reasons[7] and "-5" in reasons[7]
    assert "prompt_tokens" in reasons[8]
    assert reasons[9].startswith("timestamp not understood")
    assert "truncated" in reasons[11]
    assert reasons[13].startswith("cannot decode line")
    assert (result.lines_read, result.ingested, result.skipped, result.rejected) == (14, 3, 1, 10)
    assert result.accounted


def test_huge_line_completes(jsonl):
    big = json.dumps(
        {
            "model": "gpt-4o",
            "input_tokens": 1,
            "output_tokens": 1,
            "prompt": "x" * (50 * 1024 * 1024),
        }
    )
    path = jsonl([big, '{"model": "gpt-4o", "input_tokens": 2, "output_tokens": 2}'])
    result, rows, rejects, con = load(path)
    assert len(rows) == 2 and rejects == []
    # the memory ceiling, lifted for that chunk, is back
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "1.3 GiB"


def test_duplicate_records_and_reingest_are_not_counted_twice(jsonl):
    line = {"id": "req-1", "model": "gpt-4o", "input_tokens": 1, "output_tokens": 1}
    path = jsonl([line, line, {**line, "id": "req-2"}])
    con = store.connect()
    first = ingest_paths(con, [str(path)])
    second = ingest_paths(con, [str(path)])
    assert (first.files[0].ingested, first.files[0].duplicates) == (2, 1)
    assert (second.files[0].mode, second.files[0].lines_read) == ("unchanged", 0)
    copy = path.with_name("copy.jsonl")
    copy.write_bytes(path.read_bytes())
    third = ingest_paths(con, [str(copy)])  # same records under another name
    assert (third.files[0].ingested, third.files[0].duplicates) == (0, 3)
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] == 2
    assert all(r.files[0].accounted for r in (first, second, third))


def test_gzip_input(tmp_path):
    import gzip

    path = tmp_path / "log.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write('{"model": "gpt-4o", "input_tokens": 5, "output_tokens": 1}\n')
    result, rows, _, _ = load(path)
    assert [r["input_tokens"] for r in rows] == [5]


def test_lines_keep_their_numbers_when_the_reader_splits_the_file(tmp_path):
    # 24 MB: DuckDB reads it on several threads; the lines are numbered after the parallel
    # read, from the order the rows were written in (see jsonl.create_keeping_order)
    path = tmp_path / "big.jsonl"
    bad = {30_000: "{not json", 59_990: '{"model": "gpt-4o", "input_tokens": "lots"}'}
    with path.open("w") as out:
        for i in range(1, 60_001):
            record = {"request_id": f"r{i}", "model": "gpt-4o", "input_tokens": i,
                      "output_tokens": 1, "prompt": "x" * 300}  # fmt: skip
            out.write(bad.get(i, json.dumps(record)) + "\n")
    result, rows, rejects, _ = load(path)
    assert [line for line, _ in rejects] == [30_000, 59_990]
    assert len(rows) == 59_998 and result.accounted
    assert all(r["source_line"] == r["input_tokens"] for r in rows)
    assert all(r["request_id"] == f"r{r['source_line']}" for r in rows)


def test_line_numbering_after_the_read_needs_an_order_keeping_plan(tmp_path):
    from llmcost.formats import jsonl

    path = tmp_path / "a.jsonl"
    path.write_text('{"model": "gpt-4o"}\n')
    con = store.connect()
    read = "SELECT model FROM read_json(?, format = 'newline_delimited')"
    assert jsonl.create_keeping_order(con, f"CREATE TEMP TABLE t1 AS {read}", [str(path)])
    # an IN list DuckDB plans as a join: the rows may come out in another order
    statuses = ", ".join(f"'s{i}'" for i in range(6))
    joined = f"SELECT model, lower(coalesce(model, '')) IN ({statuses}) OR model = 'x' AS e FROM ({read})"
    assert not jsonl.create_keeping_order(con, f"CREATE TEMP TABLE t2 AS {joined}", [str(path)])
    aggregated = f"SELECT model, count(*) FROM ({read}) GROUP BY model"
    assert not jsonl.create_keeping_order(con, f"CREATE TEMP TABLE t3 AS {aggregated}", [str(path)])
    assert con.execute("SELECT count(*) FROM t1, t2, t3").fetchone() == (1,)  # all were run


def _numbered_log(path, odd_line: int, odd: str, lines: int = 15_000):
    """A ~6 MB log (under one reader buffer: given to DuckDB as two halves) whose line i
    reports i input tokens, except line ``odd_line``, which is ``odd``."""
    with path.open("w") as out:
        for i in range(1, lines + 1):
            record = {"request_id": f"r{i}", "model": "gpt-4o", "input_tokens": i,
                      "output_tokens": 1, "prompt": "y" * 350}  # fmt: skip
            out.write((odd if i == odd_line else json.dumps(record)) + "\n")
    return path


def test_a_small_file_read_as_two_halves_keeps_its_line_numbers(tmp_path):
    # 6 MB: under one reader buffer, so it is given to DuckDB as two files read in parallel
    path = _numbered_log(tmp_path / "mid.jsonl", odd_line=7_777, odd="{broken")
    result, rows, rejects, _ = load(path)
    assert [line for line, _ in rejects] == [7_777] and len(rows) == 14_999
    assert all(r["source_line"] == r["input_tokens"] for r in rows)


def test_a_blank_line_in_a_file_read_as_two_halves_is_counted_and_skipped(tmp_path):
    # the fast reader drops blank lines, so its row count differs: the file is then read
    # line by line, and every line keeps its number
    path = _numbered_log(tmp_path / "blank.jsonl", odd_line=10_000, odd="")
    result, rows, rejects, _ = load(path)
    assert rejects == [] and len(rows) == 14_999
    assert (result.lines_read, result.skipped) == (15_000, 1) and result.accounted
    assert all(r["source_line"] == r["input_tokens"] for r in rows)


def _call(model, **extra) -> dict:
    return {"model": model, "usage": {"prompt_tokens": 3, "completion_tokens": 1}, **extra}


@pytest.mark.parametrize(
    "line, reason",
    [
        (_call(123), "model is a number, not a name"),
        (_call(["gpt-4o"]), "model is an array, not a name"),
        (_call(True), "model is true, not a name"),
        (_call({"name": "gpt-4o"}), "model is an object, not a name"),
        (_call(None, modelVersion=2.5), "modelVersion is a number, not a name"),
        (_call("gpt-4o", response={"model": 4}), "response.model is a number, not a name"),
        (_call(None, request={"model": [1]}), "request.model is an array, not a name"),
    ],
)
def test_a_model_that_is_not_a_string_is_rejected_on_the_fast_path(
    jsonl, monkeypatch, line, reason
):
    """DuckDB casts a number or a list read into the record struct's VARCHAR model to text:
    '123' and '["gpt-4o"]' were counted as unpriced calls of those models. The fast reader
    keeps no raw text: the line is read again the careful way and rejected with its reason
    and its number; the other nine lines are read."""
    from llmcost.formats import jsonl as reader

    redone = []
    redo = reader._redo_bad_lines
    monkeypatch.setattr(reader, "_redo_bad_lines", lambda *a: redone.append(1) or redo(*a))
    lines = [_call("gpt-4o", id=f"r{i}") for i in range(1, 11)]
    lines[4] = {**line, "id": "r5"}
    result, rows, rejects, _ = load(jsonl(lines))
    assert redone  # the fast reader read the file, and only the bad line again
    assert rejects == [(5, reason)]
    assert [r["source_line"] for r in rows] == [1, 2, 3, 4, 6, 7, 8, 9, 10]
    assert {r["model"] for r in rows} == {"gpt-4o"}
    assert result.ingested == 9 and result.rejected == 1 and result.accounted


def test_a_model_name_that_looks_like_json_is_still_a_name(jsonl):
    """A string model "123" (or "null") is read again the careful way, and kept: its JSON
    value is a string."""
    lines = [_call("gpt-4o", id="a"), _call("123", id="b"), _call("null", id="c"), "[1]"]
    _, rows, rejects, _ = load(jsonl(lines))
    assert [r["model"] for r in rows] == ["gpt-4o", "123", "null"]
    assert rejects == [(4, "JSON array, not an object")]


def test_a_streamed_answer_whose_model_is_not_a_string_is_rejected_with_its_reason(jsonl):
    """A stream without a usage chunk is made one call after the file is read, from chunks
    the fast reader skipped (and kept no text of): they are read again the careful way when
    their model may not be a string, so the call's reject says what the model is."""
    from llmcost.report import analyze

    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000}
    lines = [
        {**chunk, "model": 123, "choices": [{"index": 0, "delta": {"content": f"w{i} "}}]}
        for i in range(3)
    ] + [_call("gpt-4o", id="x")]
    report = analyze([jsonl(lines)])
    assert [(s["line"], s["reason"]) for s in report["rejected"]["samples"]] == [
        (3, "model is a number, not a name")
    ]
    assert [m["model"] for m in report["by_model"]] == ["gpt-4o"]


def test_a_streams_usage_chunk_with_bad_usage_is_rejected_with_its_line(jsonl):
    """A stream's usage chunk is its call, made once the file is read from a row the fast
    reader skipped: when it is rejected, its line is read again the careful way, so the
    reject keeps its raw text (it would be None)."""
    from llmcost import store
    from llmcost.ingest import ingest_paths

    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000,
             "model": "gpt-4o"}  # fmt: skip
    usage = {**chunk, "choices": [], "usage": {"prompt_tokens": -5, "completion_tokens": 2}}
    lines = [
        {**chunk, "choices": [{"index": 0, "delta": {"content": f"w{i} "}}]} for i in range(3)
    ] + [usage, _call("gpt-4o", id="x")]
    con = store.connect()
    [result] = ingest_paths(con, [str(jsonl(lines))], resumable=False).files
    assert (result.ingested, result.skipped, result.rejected) == (1, 3, 1)
    assert con.execute("SELECT line, reason, raw FROM rejects").fetchall() == [
        (4, "usage field prompt_tokens is not a non-negative integer: -5", json.dumps(usage))
    ]


def test_a_call_logged_twice_counts_its_timestamp_once(jsonl):
    """Two lines of one request_id are one call, stored once: its timestamp without a zone
    is one timestamp read as UTC, not two."""
    line = {
        "request_id": "r1",
        "timestamp": "2026-01-02 03:04:05",
        "model": "gpt-4o",
        "usage": {"prompt_tokens": 10, "completion_tokens": 2},
    }
    result, rows, rejects, _ = load(jsonl([line, line, {**line, "request_id": "r2"}]))
    assert (len(rows), rejects) == (2, [])
    assert result.naive_timestamps == 2
