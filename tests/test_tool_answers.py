"""Answers that are tool calls: how they are stored, counted and audited.

tests/data/tokens/tool_call_answers.jsonl holds three real OpenAI calls answered with tool
calls, with the usage the API reported (SOURCES.md there): two parallel chat tool calls
(completion_tokens 51), a Responses function call (output_tokens 15), and one forced by
tool_choice (output_tokens 8: a forced call's answer ends with 'completed', as any other).
"""

from __future__ import annotations

import json
from pathlib import Path

from llmcost import audit, tokens
from tests.conftest import REAL
from tests.test_real_fixtures import calls

ANSWERS = Path(__file__).parent / "data" / "tokens" / "tool_call_answers.jsonl"
# The arguments each call's answer holds, in line order.
ARGUMENTS = [
    ['{"location": "Seattle, WA"}', '{"location": "San Francisco, CA"}'],
    ['{"location":"London"}'],
    ['{"location":"Seattle, WA"}'],
]
REPORTED_OUTPUT = [51, 15, 8]


def _completions(path: Path) -> list[tuple]:
    from llmcost import store
    from llmcost.ingest import ingest_paths

    con = store.connect()
    ingest_paths(con, [str(path)])
    return con.execute(
        "SELECT r.finish_reason, t.text FROM requests r "
        "LEFT JOIN texts t ON t.hash = r.completion_hash ORDER BY r.source_line"
    ).fetchall()


def test_tool_call_answers_are_marked_and_keep_their_arguments() -> None:
    # Before: the chat answer (content null) and both Responses answers had no completion
    # text at all, and the Responses ones read finish_reason 'stop'.
    rows = _completions(ANSWERS)
    assert rows == [("tool_calls", "".join(arguments)) for arguments in ARGUMENTS]


def test_langfuse_and_claude_code_tool_call_answers() -> None:
    # Langfuse (OpenAI Agents SDK, Responses API): the generation that answered get_weather
    rows = _completions(REAL / "langfuse/openai-agents.trace.json")
    assert ("tool_calls", '{"city":"Tokyo"}') in rows
    assert sum(reason == "tool_calls" for reason, _ in rows) == 1
    # Claude Code: tool_use blocks (stop_reason tool_use) keep their input
    rows = _completions(REAL / "claude_code/claude_code_log_representative.jsonl")
    tool_rows = [text for reason, text in rows if reason == "tool_calls"]
    assert len(tool_rows) == 2
    assert all(json.loads(text) for text in tool_rows)


def _without_usage(jsonl) -> Path:
    """The recorded calls as a log without token counts: every count is llmcost's."""
    records = []
    for line in ANSWERS.read_text().splitlines():
        record = json.loads(line)
        del record["response"]["usage"]
        records.append(record)
    return jsonl(records, "no-usage.jsonl")


def test_tool_call_answers_without_counts_are_estimated_not_free(jsonl) -> None:
    # Before: the answers had no text, so their output stayed NULL and was priced at $0,
    # while the summary called the calls 'counted'.
    priced = calls(_without_usage(jsonl))
    for call, arguments, reported in zip(priced, ARGUMENTS, REPORTED_OUTPUT, strict=True):
        counted = tokens.count_texts(["".join(arguments)], "o200k_base")[0]
        assert call["output_tokens"] == counted
        # the arguments alone: a lower bound of what the API billed
        assert 0 < call["output_tokens"] <= reported
        assert call["token_source"] == "estimated"
        assert call["cost_output"] > 0


def test_audit_keeps_tool_call_answers_out_of_the_output_deltas(cli) -> None:
    # Before: only the chat call (finish_reason tool_calls) was known as one; the Responses
    # calls (status 'completed', no text) were left out of the output without a word.
    _audited_apart(cli, ANSWERS, 3, sum(REPORTED_OUTPUT), "3 calls")


def _audited_apart(cli, log, calls: int, reported: int, said: str) -> None:
    """The audit of ``log`` keeps its ``calls`` tool-call answers' output (``reported``
    tokens) out of the deltas, compares their prompts, and says so in every format."""
    result = audit.run([log])["audit"]["tokens"]
    assert result["tool_call_answers"]["calls"] == calls
    assert result["tool_call_answers"]["reported_output_tokens"] == reported
    assert "arguments" in result["tool_call_answers"]["reason"]
    [model] = result["by_model"]
    assert model["output"] is None  # no output compared
    assert model["input"]["calls"] == calls  # the prompts are
    assert result["off_calls"] == []
    for args in ((), ("--format", "markdown")):  # the terminal's, Markdown
        out = cli("audit", log, *args, env={"COLUMNS": "200"})
        assert out.exit_code == 0
        assert f"{said} answered with tool calls: output not recounted" in out.stdout
    data = json.loads(cli("audit", log, "--format", "json").stdout)
    assert data["audit"]["tokens"]["tool_call_answers"]["calls"] == calls


def test_audit_tool_call_answer_with_text(jsonl, cli) -> None:
    # An answer with text and tool calls: its text recounts far below the billed output. It
    # read as a log claiming several times what it holds (51 reported, 8 recounted: +537%),
    # a call 'off' at the top of the list; its output is now left out, and said so.
    record = json.loads(ANSWERS.read_text().splitlines()[0])
    record["response"]["choices"][0]["message"]["content"] = "Let me look both up for you."
    _audited_apart(cli, jsonl([record]), 1, 51, "1 call")


# Gemini: no real recording of a functionCall answer is at hand; this response is written
# from the generateContent response's documented shape (candidates[].content.parts[] with a
# functionCall {name, args}; finishReason STOP, as Gemini ends a function-call turn), as the
# REST API writes it and as the google-genai SDK's model_dump() does (function_call,
# finish_reason).
GEMINI_CALL = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {"text": "Checking both."},
                    {"functionCall": {"name": "get_weather", "args": {"location": "Paris"}}},
                    {"functionCall": {"name": "get_weather", "args": {"location": "Rome"}}},
                ],
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "modelVersion": "gemini-2.0-flash",
    "responseId": "gemini-tool-1",
}
GEMINI_SDK_CALL = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [{"function_call": {"name": "get_weather", "args": {"location": "Oslo"}}}],
            },
            "finish_reason": "STOP",
            "index": 0,
        }
    ],
    "model_version": "gemini-2.0-flash",
    "response_id": "gemini-tool-2",
}


def test_gemini_function_calls_keep_their_args(jsonl) -> None:
    # Before: the functionCall parts were dropped and the answer read STOP, so without usage
    # the SDK's answer (no text) had no output at all: priced at $0, and read 'counted'.
    rows = _completions(jsonl([GEMINI_CALL, GEMINI_SDK_CALL]))
    assert rows == [
        ("tool_calls", 'Checking both.{"location":"Paris"}{"location":"Rome"}'),
        ("tool_calls", '{"location":"Oslo"}'),
    ]
    # Without usageMetadata the output was 0 'reported' tokens (the Gemini usage style reads
    # a missing candidatesTokenCount as 0): it is unknown, so counted from the args.
    text_only = json.loads(json.dumps(GEMINI_CALL))
    text_only["candidates"][0]["content"]["parts"] = [{"text": "Sunny in Paris."}]
    text_only["responseId"] = "gemini-text-1"
    *answers, text = calls(jsonl([GEMINI_CALL, GEMINI_SDK_CALL, text_only]))
    for call in answers:
        assert call["output_tokens"] > 0
        assert call["token_source"] == "estimated"
        assert call["cost_output"] > 0
    assert text["output_tokens"] > 0  # a text answer without usage: counted, not $0
    assert text["cost_output"] > 0


def test_gemini_function_call_in_a_logged_response(jsonl) -> None:
    # A gateway's record of the same response (Helicone's, through rec_completion and
    # rec_tool_answer): the args kept, the answer told as tool calls.
    from llmcost import store
    from llmcost.formats.records import MACROS
    from llmcost.formats.sql import install_macros

    con = store.connect()
    install_macros(con)
    con.execute(MACROS)
    got = con.execute(
        "SELECT rec_completion(j), rec_tool_answer(j) FROM (SELECT ?::JSON AS j)",
        [json.dumps(GEMINI_SDK_CALL)],
    ).fetchone()
    assert got == ('{"location":"Oslo"}', "tool_calls")


def _chunk(stream_id: str, delta: dict, finish: str | None = None) -> dict:
    return {
        "id": stream_id,
        "object": "chat.completion.chunk",
        "created": 1731368636,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
    }


def _call_piece(index: int, arguments: str, name: str | None = None) -> dict:
    call: dict = {"index": index, "function": {"arguments": arguments}}
    if name:
        call = {"index": index, "id": f"call_{index}", "type": "function",
                "function": {"name": name, "arguments": arguments}}  # fmt: skip
    return {"tool_calls": [call]}


def test_a_streamed_answer_with_tool_calls_joins_their_arguments(jsonl) -> None:
    """Chat streams logged chunk by chunk without a usage chunk, written from the streaming
    format (a chunk's choices[0].delta.tool_calls[] carries {index, id, type, function: {name,
    arguments}} first, then pieces of the arguments under the same index): no real recording
    of one is at hand. Before: only delta.content was joined, so an answer of tool calls was
    '' (priced at $0 output) and one with text was its text alone."""
    parallel = [  # two calls; the second's pieces interleaved with the first's
        _chunk("chatcmpl-t1", {"role": "assistant", "content": None}),
        _chunk("chatcmpl-t1", _call_piece(0, "", "get_weather")),
        _chunk("chatcmpl-t1", _call_piece(0, '{"location": ')),
        _chunk("chatcmpl-t1", _call_piece(1, '{"location"', "get_weather")),
        _chunk("chatcmpl-t1", _call_piece(0, '"Seattle, WA"}')),
        _chunk("chatcmpl-t1", _call_piece(1, ': "Paris"}')),
        _chunk("chatcmpl-t1", {}, "tool_calls"),
    ]
    forced = [  # text first; a forced tool choice ends with 'stop'
        _chunk("chatcmpl-t2", {"role": "assistant", "content": "On it. "}),
        _chunk("chatcmpl-t2", _call_piece(0, '{"location":', "get_weather")),
        _chunk("chatcmpl-t2", _call_piece(0, '"Oslo"}')),
        _chunk("chatcmpl-t2", {}, "stop"),
    ]
    from llmcost import store
    from llmcost.ingest import ingest_paths

    log = jsonl(parallel + forced)
    con = store.connect()
    [result] = ingest_paths(con, [str(log)], resumable=False).files
    assert (result.ingested, result.rejected) == (2, 0)
    rows = con.execute(
        "SELECT r.request_id, r.finish_reason, t.text FROM requests r "
        "JOIN texts t ON t.hash = r.completion_hash ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("chatcmpl-t1", "tool_calls", '{"location": "Seattle, WA"}{"location": "Paris"}'),
        ("chatcmpl-t2", "tool_calls", 'On it. {"location":"Oslo"}'),
    ]
    # counted from the arguments (no usage chunk): an estimate, not $0
    from llmcost import costing
    from llmcost.pricing import load_pricing
    from llmcost.report import fill_tokens

    fill_tokens(con, load_pricing())
    costing.prepare(con, load_pricing())
    priced = con.execute(
        "SELECT output_tokens, token_source, cost_output FROM priced ORDER BY request_id"
    ).fetchall()
    assert len(priced) == 2
    for output_tokens, token_source, cost_output in priced:
        assert output_tokens > 0
        assert token_source == "estimated"
        assert cost_output > 0


def _usage_chunk(stream_id: str, prompt: int, completion: int) -> dict:
    """The last chunk of a stream with stream_options.include_usage: no choices, the usage."""
    usage = {"prompt_tokens": prompt, "completion_tokens": completion,
             "total_tokens": prompt + completion}  # fmt: skip
    return {**_chunk(stream_id, {}), "choices": [], "usage": usage}


def test_a_streamed_answer_with_a_usage_chunk_keeps_its_answer_and_finish_reason(
    jsonl, cli
) -> None:
    """Streams logged chunk by chunk with their usage chunk, interleaved: the call was made
    from the usage chunk alone (choices: []), its answer '' and its finish reason blank, so
    the stream cut at max_tokens was not counted as truncated, the tool calls were not told
    apart, and the audit had no text to recount for any of the three. The call is the usage
    chunk's (its counts, its line) with its stream's answer and the finish reason its
    chunks gave."""
    cut, tool, done = "chatcmpl-cut", "chatcmpl-tool", "chatcmpl-done"
    lines = [
        _chunk(cut, {"role": "assistant", "content": ""}),
        _chunk(tool, {"role": "assistant", "content": None}),
        _chunk(cut, {"content": "Once upon"}),
        _chunk(tool, _call_piece(0, "", "get_weather")),
        _chunk(cut, {"content": " a time"}),
        _chunk(tool, _call_piece(0, '{"location": ')),
        _chunk(cut, {}, "length"),
        _chunk(tool, _call_piece(0, '"Oslo"}')),
        _usage_chunk(cut, 20, 4),  # line 9
        _chunk(tool, {}, "tool_calls"),
        _usage_chunk(tool, 30, 9),  # line 11
        _chunk(done, {"role": "assistant", "content": "Hi"}),
        _chunk(done, {"content": " there."}),
        _chunk(done, {}, "stop"),
        _usage_chunk(done, 10, 3),  # line 15
    ]
    log = jsonl(lines)
    from llmcost import store
    from llmcost.ingest import ingest_paths

    con = store.connect()
    [result] = ingest_paths(con, [str(log)], resumable=False).files
    assert (result.ingested, result.skipped, result.rejected) == (3, 12, 0)
    rows = con.execute(
        "SELECT r.request_id, r.source_line, r.input_tokens, r.output_tokens, r.finish_reason,"
        " t.text FROM requests r LEFT JOIN texts t ON t.hash = r.completion_hash ORDER BY 1"
    ).fetchall()
    assert rows == [
        (cut, 9, 20, 4, "length", "Once upon a time"),
        (done, 15, 10, 3, "stop", "Hi there."),
        (tool, 11, 30, 9, "tool_calls", '{"location": "Oslo"}'),
    ]
    report = cli("analyze", log, "--format", "json")
    assert report.exit_code == 0, report.stderr
    summary = json.loads(report.stdout)["summary"]
    # the usage chunks' counts (was: truncated_requests 0)
    assert (summary["requests"], summary["input_tokens"], summary["output_tokens"]) == (3, 60, 16)
    assert (summary["truncated_requests"], summary["tokens_reported"]) == (1, 3)
    # was: 0 compared, 3 without text to recount, no tool-call answer
    result = audit.run([log])["audit"]["tokens"]
    assert (result["compared_requests"], result["requests_without_text"]) == (2, 0)
    assert result["tool_call_answers"]["calls"] == 1
    assert result["tool_call_answers"]["reported_output_tokens"] == 9
    [model] = result["by_model"]
    assert (model["output"]["reported_tokens"], model["output"]["recounted_tokens"]) == (7, 7)
    assert result["off_calls"] == []


def test_a_stream_with_usage_in_every_chunk_is_one_call_with_the_last_counts(jsonl) -> None:
    """vLLM's continuous_usage_stats puts the usage so far in every chunk (cumulative), the
    last with choices [] as include_usage does: one call, the last chunk's counts (not a
    call per chunk, not their sum), the chunks' text as its answer, their finish reason.
    Without the closing usage chunk, the chunk with the finish reason is the last."""
    from llmcost import store
    from llmcost.ingest import ingest_paths

    words = ["Hello", " there", ",", " friend"]

    def counted(chunk: dict, completion: int) -> dict:
        usage = {"prompt_tokens": 12, "completion_tokens": completion,
                 "total_tokens": 12 + completion}  # fmt: skip
        return {**chunk, "usage": usage}

    lines = [counted(_chunk("chatcmpl-v", {"content": w}), i + 1) for i, w in enumerate(words)]
    lines += [counted(_chunk("chatcmpl-v", {}, "stop"), 4), _usage_chunk("chatcmpl-v", 12, 4)]
    for log, last in ((jsonl(lines), 6), (jsonl(lines[:-1]), 5)):
        con = store.connect()
        [result] = ingest_paths(con, [str(log)], resumable=False).files
        assert (result.ingested, result.skipped, result.rejected) == (1, last - 1, 0)
        assert con.execute(
            "SELECT r.source_line, r.input_tokens, r.output_tokens, r.finish_reason,"
            " r.token_source, t.text FROM requests r"
            " LEFT JOIN texts t ON t.hash = r.completion_hash"
        ).fetchall() == [(last, 12, 4, "stop", "reported", "Hello there, friend")]


def test_audit_counts_gemini_and_converse_tool_call_answers_apart(jsonl) -> None:
    # With usage, a Gemini or Converse answer of tool calls was compared on its text: the
    # Gemini one (no text kept, STOP) left out without a word, the Converse one's input lost.
    # Both are told as tool-call answers now, their output not recounted.
    from tests.test_format_bedrock import CONVERSE_TOOL_USE

    gemini = {**GEMINI_CALL, "usageMetadata": {"promptTokenCount": 30,
              "candidatesTokenCount": 24, "totalTokenCount": 54}}  # fmt: skip
    converse = {"model": "anthropic.claude-3-haiku-20240307-v1:0", "response": CONVERSE_TOOL_USE}
    result = audit.run([jsonl([gemini, converse])])["audit"]["tokens"]
    assert result["tool_call_answers"]["calls"] == 2
    assert result["tool_call_answers"]["reported_output_tokens"] == 24 + 36
    assert result["off_calls"] == []
