"""Every reader rejects a line that is not a JSON object with a reason in JSON's words
(a string, a number, an array, true, null), never DuckDB's type names ('JSON varchar',
'JSON ubigint'), and a model that is not a string as a bad line naming the field."""

from __future__ import annotations

import json

import pytest

from llmcost import store
from llmcost.ingest import ingest_file
from tests.conftest import DATA, REAL

NOT_OBJECTS = ['"a string"', "42", "[1, 2]", "true", "null"]
WORDS = ["JSON string", "JSON number", "JSON array", "JSON true", "JSON null"]


def _first_object(path) -> str:
    for line in path.read_text().splitlines():
        try:
            if isinstance(json.loads(line), dict):
                return line
        except ValueError:
            continue
    raise AssertionError(path)


def _rejects(path, fmt: str) -> list[tuple[int, str]]:
    con = store.connect()
    ingest_file(con, str(path), fmt)
    return con.execute("SELECT line, reason FROM rejects ORDER BY line, reason").fetchall()


# (format, a log of it whose first object is a call); an export reader (records.py) reads
# the elements of an array line as records: [1, 2] is two numbers on line 4
READERS = [
    ("jsonl", DATA / "formats/usage/sdk_field_names.jsonl", False),
    ("bedrock", DATA / "formats/bedrock/crafted_invocation_logs.jsonl", False),
    ("openai-batch", REAL / "openai/batch_output.jsonl", False),
    ("litellm", DATA / "formats/litellm/standard_logging_payload.jsonl", True),
    ("helicone", DATA / "formats/helicone/export.jsonl", True),
    ("langfuse", DATA / "formats/langfuse/observations.jsonl", True),
    ("otel", DATA / "formats/otel/file_exporter.jsonl", True),
]


@pytest.mark.parametrize("fmt, log, records", READERS, ids=[r[0] for r in READERS])
def test_a_line_that_is_not_an_object_is_named_in_json_words(tmp_path, fmt, log, records):
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join([_first_object(log), *NOT_OBJECTS]) + "\n")
    expected = [(n, f"{w}, not an object") for n, w in enumerate(WORDS, start=2)]
    if records:
        expected[2:3] = [(4, "JSON number, not an object")] * 2
    assert [r for r in _rejects(path, fmt) if r[0] > 1] == expected


def test_a_custom_format_names_a_line_in_json_words(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "llmcost.yaml").write_text(
        "formats:\n  custom:\n    - name: gateway-lines\n      type: jsonl\n"
        "      columns: {model: req.model, input_tokens: usage.in, output_tokens: usage.out}\n"
    )
    ok = json.dumps({"req": {"model": "gpt-4o-mini"}, "usage": {"in": 10, "out": 5}})
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join([ok, *NOT_OBJECTS]) + "\n")
    expected = [(n, f"{w}, not an object") for n, w in enumerate(WORDS, start=2)]
    assert _rejects(path, "gateway-lines") == expected


# Agent session logs skip a line that is not an object (it is not a call), with the reason.
SKIPPERS = [
    ("claude_code", DATA / "formats/claude_code/crafted_streamed_session.jsonl", ["s"]),
    ("codex", DATA / "formats/codex/crafted_rollout.jsonl", []),
]


@pytest.mark.parametrize("module, log, params", SKIPPERS, ids=[r[0] for r in SKIPPERS])
def test_a_session_log_skips_a_line_that_is_not_an_object_in_json_words(
    tmp_path, module, log, params
):
    import importlib

    from llmcost.formats.lines import read_lines

    records_sql = importlib.import_module(f"llmcost.formats.{module}").RECORDS_SQL
    path = tmp_path / "session.jsonl"
    path.write_text("\n".join([_first_object(log), *NOT_OBJECTS]) + "\n")
    con = store.connect()
    read_lines(con, path, "s", 1)
    reasons = con.execute(
        f"SELECT line, skip_reason FROM ({records_sql}) WHERE line > 1 ORDER BY line", params
    ).fetchall()
    assert reasons == [(n, f"{w}, not an object") for n, w in enumerate(WORDS, start=2)]


def _set(line: str, path: list[str], value) -> str:
    record = json.loads(line)
    at = record
    for key in path[:-1]:
        at = at[key]
    at[path[-1]] = value
    return json.dumps(record)


def _calls(log, n: int) -> list[str]:
    """The first n objects of the log that are calls with distinct ids (for the readers
    below, the lines that carry a model and usage)."""
    lines = []
    for line in log.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            lines.append(line)
    return lines[:n]


# (format, log, where its model is, the reject's name for it); the log's first line is kept
MODELS = [
    ("bedrock", DATA / "formats/bedrock/crafted_invocation_logs.jsonl", ["modelId"], "modelId"),
    ("openai-batch", REAL / "openai/batch_output.jsonl", ["response", "body", "model"],
     "response.body.model"),
    ("openai-batch", REAL / "openai/batch_input.jsonl", ["body", "model"], "body.model"),
    ("helicone", DATA / "formats/helicone/export.jsonl", ["model"], "model"),
    ("langfuse", DATA / "formats/langfuse/observations.jsonl", ["model"], "model"),
]  # fmt: skip


@pytest.mark.parametrize("fmt, log, where, name", MODELS, ids=lambda v: str(v)[-30:])
@pytest.mark.parametrize(
    "value, what", [(123, "a number"), (["gpt-4o"], "an array"), (False, "false")]
)
def test_a_model_that_is_not_a_string_is_a_bad_line(tmp_path, fmt, log, where, name, value, what):
    """A struct's VARCHAR model (or ->>) took 123 as the model '123', ["gpt-4o"] as the model
    '["gpt-4o"]': the call was counted, unpriced, under a name the log never gave."""
    first, second = _calls(log, 2)
    path = tmp_path / "log.jsonl"
    path.write_text(first + "\n" + _set(second, where, value) + "\n")
    con = store.connect()
    ingest_file(con, str(path), fmt)
    rejects = con.execute("SELECT line, reason FROM rejects").fetchall()
    assert rejects == [(2, f"{name} is {what}, not a name")]
    models = con.execute("SELECT model FROM requests").fetchall()
    assert len(models) == 1 and models[0][0] not in ("123", '["gpt-4o"]', "false")


def test_a_litellm_model_that_is_not_a_string_is_a_bad_line(tmp_path):
    first, second = _calls(DATA / "formats/litellm/standard_logging_payload.jsonl", 2)
    record = json.loads(second)
    record["model"], record["response"] = 7, {"model": None}
    record["id"] = "not-the-first"
    path = tmp_path / "log.jsonl"
    path.write_text(first + "\n" + json.dumps(record) + "\n")
    assert _rejects(path, "litellm") == [(2, "model is a number, not a name")]


def test_a_claude_code_model_that_is_not_a_string_is_a_bad_line(tmp_path):
    log = DATA / "formats/claude_code/crafted_streamed_session.jsonl"
    calls = [c for c in _calls(log, 100) if '"usage"' in c and '"assistant"' in c]
    path = tmp_path / "session.jsonl"
    path.write_text(calls[0] + "\n" + _set(calls[-1], ["message", "model"], 4.5) + "\n")
    assert _rejects(path, "claude-code") == [(2, "message.model is a number, not a name")]


def test_a_custom_format_model_that_is_not_a_string_is_a_bad_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "llmcost.yaml").write_text(
        "formats:\n  custom:\n    - name: gateway-lines\n      type: jsonl\n"
        "      columns: {model: req.model, input_tokens: usage.in, output_tokens: usage.out}\n"
    )
    lines = [
        json.dumps({"req": {"model": model}, "usage": {"in": 10, "out": 5}})
        for model in ("gpt-4o-mini", 7, ["gpt-4o"], "123")
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert _rejects(path, "gateway-lines") == [
        (2, "column req.model (model) is a number, not a name"),
        (3, "column req.model (model) is an array, not a name"),
    ]


def _codex_with_model(tmp_path, value) -> str:
    """The crafted rollout with its second turn_context's model (gpt-5, line 10: the call on
    line 11 is its turn's) set to value."""
    lines = (DATA / "formats/codex/crafted_rollout.jsonl").read_text().splitlines()
    assert json.loads(lines[9])["payload"]["model"] == "gpt-5"
    lines[9] = _set(lines[9], ["payload", "model"], value)
    path = tmp_path / "rollout.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.mark.parametrize(
    "value, what",
    [(123, "a number"), (["gpt-5"], "an array"), (True, "true"), ({"a": 1}, "an object")],
)
def test_a_codex_turn_model_that_is_not_a_string_rejects_its_calls(tmp_path, value, what):
    """The turn_context's model was read by ->> as the model '123' (or '["gpt-5"]', 'true'),
    and the turn's call counted under it, unpriced; the call is a bad line naming the
    turn_context's line, and the other turn's calls are kept."""
    con = store.connect()
    ingest_file(con, _codex_with_model(tmp_path, value), "codex")
    rejects = con.execute("SELECT line, reason FROM rejects ORDER BY line").fetchall()
    assert rejects[0] == (11, f"turn_context.model is {what}, not a name (line 10)")
    assert [r[0] for r in rejects[1:]] == [12, 13]  # the log's own damage, as before
    models = con.execute("SELECT model, count(*) FROM requests GROUP BY 1").fetchall()
    assert models == [("gpt-5-codex", 2)]


@pytest.mark.parametrize(
    "value, what",
    [
        (None, "turn_context.model is null"),
        ("  ", "turn_context.model is blank"),
        (..., "turn_context has no model"),  # (the key left out)
        ("drop", "no model (no turn_context before this token_count)"),
    ],
)
def test_a_codex_turn_without_a_model_rejects_its_calls_saying_why(tmp_path, value, what):
    """A turn_context whose model was JSON null (or blank, or missing) was passed over, and
    its turn's calls rejected as 'no model (no turn_context before this token_count)':
    there was one, on line 3. The reason names it and what it has instead of a model; with
    no turn_context at all, the reason is as before. The next turn (gpt-5) is kept."""
    lines = (DATA / "formats/codex/crafted_rollout.jsonl").read_text().splitlines()
    assert json.loads(lines[2])["payload"]["model"] == "gpt-5-codex"
    if value == "drop":
        lines[2] = json.dumps({"timestamp": "2025-10-06T09:00:01.100Z", "type": "compacted"})
    elif value is ...:
        record = json.loads(lines[2])
        del record["payload"]["model"]
        lines[2] = json.dumps(record)
    else:
        lines[2] = _set(lines[2], ["payload", "model"], value)
    path = tmp_path / "rollout.jsonl"
    path.write_text("\n".join(lines) + "\n")
    con = store.connect()
    ingest_file(con, str(path), "codex")
    rejects = con.execute("SELECT line, reason FROM rejects ORDER BY line").fetchall()
    where = "" if value == "drop" else " (line 3)"
    assert rejects[:2] == [(6, what + where), (9, what + where)]
    assert [r[0] for r in rejects[2:]] == [12, 13]  # the log's own damage, as before
    assert con.execute("SELECT model, count(*) FROM requests GROUP BY 1").fetchall() == [
        ("gpt-5", 1)
    ]


@pytest.mark.parametrize(
    "value, what",
    [
        (None, "turn_context.model is null"),
        ("  ", "turn_context.model is blank"),
        (..., "turn_context has no model"),  # (the key left out)
    ],
)
def test_a_codex_turn_without_a_model_after_a_named_one_rejects_its_calls(tmp_path, value, what):
    """The second turn_context (line 10) without a model left the first one's model
    (gpt-5-codex, line 3) in force, and its turn's call (line 11) was priced as gpt-5-codex,
    silently. Codex writes a whole TurnContextItem each turn, its model a required string
    (openai/codex codex-rs/protocol/src/protocol.rs), and that is where a model switch shows
    (this very line was gpt-5): one without a model says nothing about the turn's model. The
    call is rejected naming that line, as it is when the first turn_context has no model."""
    if value is ...:
        lines = (DATA / "formats/codex/crafted_rollout.jsonl").read_text().splitlines()
        record = json.loads(lines[9])
        del record["payload"]["model"]
        lines[9] = json.dumps(record)
        path = tmp_path / "rollout.jsonl"
        path.write_text("\n".join(lines) + "\n")
    else:
        path = _codex_with_model(tmp_path, value)
    con = store.connect()
    ingest_file(con, str(path), "codex")
    rejects = con.execute("SELECT line, reason FROM rejects ORDER BY line").fetchall()
    assert rejects[0] == (11, f"{what} (line 10)")
    assert [r[0] for r in rejects[1:]] == [12, 13]  # the log's own damage, as before
    models = con.execute("SELECT model, count(*) FROM requests GROUP BY 1").fetchall()
    assert models == [("gpt-5-codex", 2)]


def test_a_codex_model_that_is_a_string_of_digits_is_a_name(tmp_path):
    con = store.connect()
    ingest_file(con, _codex_with_model(tmp_path, "123"), "codex")
    assert [r[0] for r in con.execute("SELECT line FROM rejects ORDER BY 1").fetchall()] == [12, 13]
    models = con.execute("SELECT model, count(*) FROM requests GROUP BY 1 ORDER BY 1").fetchall()
    assert models == [("123", 1), ("gpt-5-codex", 2)]


def _otel_model(span: dict, key: str, value) -> None:
    for attribute in span["attributes"]:
        if attribute["key"] == key:
            attribute["value"] = value
            return
    raise AssertionError(key)


@pytest.mark.parametrize(
    "value, what",
    [
        ({"intValue": "123"}, "a number"),  # OTLP JSON writes an int64 as a string
        ({"intValue": 123}, "a number"),
        ({"doubleValue": 4.5}, "a number"),
        ({"boolValue": True}, "true"),
        ({"arrayValue": {"values": [{"stringValue": "gpt-4o"}]}}, "an array"),
        ({"kvlistValue": {"values": []}}, "an object"),
        (123, "a number"),  # unwrapped values
        (["gpt-4o"], "an array"),
        # a stringValue that holds no string was cast to text, and the span counted under
        # the model '123' (or '{"a": 1}'), unpriced
        ({"stringValue": 123}, "a stringValue holding a number"),
        ({"stringValue": {"a": 1}}, "a stringValue holding an object"),
        ({"stringValue": ["gpt-4o"]}, "a stringValue holding an array"),
    ],
)
def test_an_otel_model_attribute_that_is_not_a_string_is_a_bad_span(tmp_path, value, what):
    """OTel attribute values are typed: the model's intValue was read as the model '123',
    an arrayValue as '["gpt-4o"]', and the span counted under it, unpriced."""
    first = (DATA / "formats/otel/file_exporter.jsonl").read_text().splitlines()[0]
    doc = json.loads(first)
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["spanId"] = "f00000000000000a"
    _otel_model(span, "gen_ai.response.id", {"stringValue": "chatcmpl-other"})
    _otel_model(span, "gen_ai.request.model", value)
    path = tmp_path / "spans.jsonl"
    path.write_text(first + "\n" + json.dumps(doc) + "\n")
    assert _rejects(path, "otel") == [(2, f"attribute gen_ai.request.model is {what}, not a name")]
    con = store.connect()
    ingest_file(con, str(path), "otel")
    assert con.execute("SELECT model FROM requests").fetchall() == [("gpt-4o-mini",)]


@pytest.mark.parametrize("value", [{"stringValue": "123"}, "123"])
def test_an_otel_model_that_is_a_string_of_digits_is_a_name(tmp_path, value):
    first = (DATA / "formats/otel/file_exporter.jsonl").read_text().splitlines()[0]
    doc = json.loads(first)
    _otel_model(doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0], "gen_ai.request.model", value)
    path = tmp_path / "spans.jsonl"
    path.write_text(json.dumps(doc) + "\n")
    con = store.connect()
    ingest_file(con, str(path), "otel")
    assert con.execute("SELECT model FROM requests").fetchall() == [("123",)]
    assert con.execute("SELECT count(*) FROM rejects").fetchone() == (0,)


def test_an_otel_document_s_response_model_that_is_not_a_string_rejects_its_span(tmp_path):
    """In one OTLP document a span's record is its ordinal in the file; the document's other
    calls are kept."""
    log = DATA / "formats/otel/anthropic_cache_conventions.otlp.json"
    doc = json.loads(log.read_text())
    spans = [s for rs in doc["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    at = [
        n
        for n, s in enumerate(spans, start=1)
        if any(a["key"] == "gen_ai.response.model" for a in s["attributes"])
    ]
    assert len(at) == 1 and len(spans) == 3
    _otel_model(spans[at[0] - 1], "gen_ai.response.model", {"intValue": "20250514"})
    path = tmp_path / "trace.otlp.json"
    path.write_text(json.dumps(doc))
    con = store.connect()
    ingest_file(con, str(path), "otel")
    assert con.execute("SELECT line, reason FROM rejects").fetchall() == [
        (at[0], "attribute gen_ai.response.model is a number, not a name")
    ]
    assert con.execute("SELECT count(*) FROM requests").fetchone() == (2,)
