"""Langfuse trace exports and observation lists: real traces and crafted files.

Expected numbers are worked out by hand from usageDetails and the price row in force on the
observation's date (USD per million tokens); Langfuse's own costDetails agree with them.
Crafted files: tests/data/formats/langfuse (README.md).
"""

from __future__ import annotations

import json

import pytest

from llmcost.formats import detect
from tests.conftest import (
    DATA,
    REAL,
    cost,
    load_priced,
    logged_tools,
    recorded_call,
    tokens,
    write_jsonl,
)

LANGFUSE = DATA / "formats" / "langfuse"


load = load_priced


def test_real_gemini_trace_reasoning_nested_in_output():
    """usageDetails {input 6, output 2055, completion_details.reasoning 1104, total 2061}:
    total = input + output, so the 1104 reasoning tokens are already inside output."""
    result, [call], rejects, texts = load(REAL / "langfuse/google-gemini.trace.json")
    assert result.format == "langfuse"
    assert (result.lines_read, result.ingested, result.skipped, result.rejected) == (1, 1, 0, 0)
    assert (call["request_id"], call["model"], call["provider"]) == (
        "b7a63ca7e1d083bc",
        "gemini-2.5-flash",
        "google",
    )
    assert tokens(call) == (6, None, None, None, 2055, 1104)
    assert call["ts"].isoformat() == "2025-08-01T13:22:00.147000+00:00"
    assert call["latency_ms"] == pytest.approx(12032)
    assert call["feature"] == "GenerateContent"  # the trace's name
    assert json.loads(call["tags"])["project_id"] == "cloramnkj0002jz088vzn1ja4"
    assert texts[call["prompt_hash"]] == "What is Langfuse?"
    assert texts[call["completion_hash"]].startswith("**Langfuse** is an **open-source")
    # gemini-2.5-flash: $0.30 in, $2.50 out; Langfuse reported 0.005139299999
    assert cost(call) == pytest.approx(6 * 0.3e-6 + 2055 * 2.5e-6)
    assert call["reported_cost_usd"] == pytest.approx(cost(call))


def test_real_openai_agents_trace_counts_generations_only():
    """Two AGENT observations, a TOOL and two GENERATIONs: two calls."""
    result, rows, rejects, texts = load(REAL / "langfuse/openai-agents.trace.json")
    assert (result.lines_read, result.ingested, result.skipped, result.rejected) == (5, 2, 3, 0)
    assert rejects == []
    second, first = rows  # observations 3 and 4 of the export
    assert [r["source_line"] for r in rows] == [3, 4]
    assert [r["request_id"] for r in rows] == ["90d94774e8e3724d", "98870087af69bf06"]
    assert {r["model"] for r in rows} == {"gpt-4.1-2025-04-14"}
    assert tokens(first) == (55, 0, None, None, 15, 0)
    assert tokens(second) == (85, 0, None, None, 29, 0)
    # the request's instructions (in modelParameters) are the system prompt
    assert json.loads(texts[first["prompt_hash"]]) == [
        {"role": "system", "content": "You are a helpful agent."},
        {"role": "user", "content": "What's the weather in Tokyo?"},
    ]
    assert texts[first["system_hash"]] == "You are a helpful agent."
    assert texts[second["completion_hash"]].startswith("The weather in Tokyo is currently sunny")
    # gpt-4.1: $2 in, $8 out -- Langfuse: 0.00023 and 0.000402
    assert cost(first) == pytest.approx(55 * 2e-6 + 15 * 8e-6) == pytest.approx(0.00023)
    assert cost(second) == pytest.approx(85 * 2e-6 + 29 * 8e-6) == pytest.approx(0.000402)
    assert [r["reported_cost_usd"] for r in rows] == [0.000402, 0.00023]


def test_a_generation_langfuse_did_not_price_reports_no_cost(tmp_path, cli):
    """Langfuse writes costDetails {} and totalCost 0 for a generation whose model has no
    Langfuse price (the AGENT and TOOL observations of the real export read the same): that
    0 was read as a cost of $0.00 it reported, and audit compared it (-100%, an 'off' call
    'logged at $0.00'). It is no reported cost; a cost Langfuse did compute still is."""
    export = json.loads((REAL / "langfuse/openai-agents.trace.json").read_text())
    priced = next(o for o in export["observations"] if o["id"] == "98870087af69bf06")
    unpriced = {**priced, "id": "unpriced-1", "costDetails": {}, "totalCost": 0}
    unpriced.update(inputCost=None, outputCost=None)
    export["observations"] = [priced, unpriced]
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(export))
    _, rows, _, _ = load(path)
    assert [(r["request_id"], r["reported_cost_usd"]) for r in rows] == [
        ("98870087af69bf06", 0.00023),
        ("unpriced-1", None),
    ]
    result = cli("audit", str(path), "--format", "json")
    costs = json.loads(result.stdout)["audit"]["cost"]
    assert (costs["requests_with_reported_cost"], costs["off_calls"]) == (1, 0)


def _recounted_inputs(path) -> list[int]:
    """The audit's recount of each call's input, in time order."""
    from llmcost import audit, store
    from llmcost.ingest import ingest_paths
    from llmcost.pricing import load_pricing

    con = store.connect()
    ingest_paths(con, [str(path)])
    audit.recount(con, load_pricing())
    return [
        n
        for (n,) in con.execute(
            f"""SELECT a.counted_input FROM {audit.RECOUNTS_TABLE} a
            JOIN requests r USING (request_id) ORDER BY r.ts"""
        ).fetchall()
    ]


def _agents_generations() -> list[dict]:
    trace = json.loads((REAL / "langfuse/openai-agents.trace.json").read_text())
    calls = [o for o in trace["observations"] if o["type"] == "GENERATION"]
    return sorted(calls, key=lambda o: o["startTime"])


def test_real_openai_agents_trace_recounts_as_its_requests_logged_as_json_lines(jsonl):
    """The openai-agents calls are Responses API requests: their instructions (in
    modelParameters) are the system prompt and their input items (a function_call and its
    function_call_output) are kept, and so are the tools OTel ingestion left in the metadata
    (OpenInference's llm.tools.0.tool.json_schema), so the recount equals that of the same
    requests logged as JSON lines with those tools: 50 and 75 for the 55 and 85 the API
    billed. The items were stored as messages of role 'function_call' and the instructions
    dropped (13 and 36); the tools were dropped (23 and 50)."""
    records = []
    for o in _agents_generations():
        attributes = json.loads(o["metadata"])["attributes"]
        records.append(
            {
                "timestamp": o["startTime"],
                "request": {
                    "model": o["model"],
                    "instructions": o["modelParameters"]["instructions"],
                    "input": json.loads(o["input"]),
                    "tools": [json.loads(attributes["llm.tools.0.tool.json_schema"])],
                },
                "response": {"object": "response", "model": o["model"], "output": []},
            }
        )
    as_lines = _recounted_inputs(jsonl(records))
    assert as_lines == [50, 75]
    assert _recounted_inputs(REAL / "langfuse/openai-agents.trace.json") == as_lines
    assert [o["usageDetails"]["input"] for o in _agents_generations()] == [55, 85]


def test_tools_of_the_langfuse_openai_integration_are_kept_and_counted(tmp_path, jsonl):
    """Langfuse's OpenAI integration logs a request with tools as the input object
    {tools, messages}: its messages were kept but its tools dropped, so a generation without
    usage was counted 26 for the recorded call the API billed 75. The tools are kept as the
    JSON-lines reader keeps the same request's (same tools_hash) and counted with them; so
    are tools in modelParameters, with their tool_choice (a forced function, given as the JSON
    string Langfuse keeps: 7 + the name's 3 tokens)."""
    case = recorded_call("chat_tools_with_system")
    request = case["request"]

    def generation(i: int, **fields) -> dict:
        return {"id": f"gen-{i}", "traceId": "t-1", "type": "GENERATION", "name": "chat",
                "startTime": "2026-10-01T10:00:00Z", "model": request["model"], **fields}  # fmt: skip

    observations = [
        generation(1, input={"tools": request["tools"], "messages": request["messages"]}),
        generation(
            2,
            input=request["messages"],
            modelParameters={
                "tools": request["tools"],
                "tool_choice": json.dumps({"type": "function", "name": "get_current_weather"}),
            },
        ),
    ]
    path = write_jsonl(
        tmp_path / "langfuse.jsonl", [{"trace": {"id": "t-1"}, "observations": observations}]
    )
    [(jsonl_hash, _, _, _)] = logged_tools(jsonl([{"request": request}]))
    logged = logged_tools(path)
    assert [(h, json.loads(t)) for h, t, _, _ in logged] == [(jsonl_hash, request["tools"])] * 2
    assert [(n, source) for _, _, n, source in logged] == [(75, "counted"), (85, "counted")]
    assert case["usage"]["prompt_tokens"] == 75


@pytest.mark.parametrize("shape", ["items", "system first", "input object"])
def test_responses_inputs_as_the_langfuse_sdk_logs_them(jsonl, shape):
    """Langfuse's OpenAI integration logs a Responses request's instructions as a leading
    system message ([system, *input]), wrapped in {input, tools} when the request has tools;
    OTel ingestion keeps the instructions in modelParameters. Each counts as the request."""
    call = _agents_generations()[1]  # the one with a function_call and its output
    items = json.loads(call["input"])
    instructions = call["modelParameters"]["instructions"]
    system = {"role": "system", "content": instructions}
    keys = ("id", "traceId", "type", "startTime", "model", "usageDetails")
    observation = {k: call[k] for k in keys} | {"modelParameters": {}}
    if shape == "items":
        observation |= {"input": items, "modelParameters": {"instructions": instructions}}
    elif shape == "system first":
        observation["input"] = [system, *items]
    else:
        observation["input"] = {"input": [system, *items], "tools": [{"type": "function"}]}
    path = jsonl([observation])
    assert detect(path, path.read_bytes()).name == "langfuse"
    assert _recounted_inputs(path) == [50]


def test_observation_lines_usage_styles_and_accounting():
    result, rows, rejects, texts = load(LANGFUSE / "observations.jsonl")
    # 7 lines: 4 calls, a SPAN skipped, a truncated line and a bad count rejected
    assert (result.lines_read, result.ingested, result.skipped, result.rejected) == (7, 4, 1, 2)
    assert rejects == [
        (5, "not valid JSON (truncated or malformed line)"),
        (7, "usageDetails.input is not a non-negative integer: many"),
    ]
    disjoint, anthropic, legacy, vertex = rows
    assert [r["source_line"] for r in rows] == [1, 2, 3, 6]
    # disjoint parts: 800 + 1200 cached = 2000 in, 150 + 50 reasoning = 200 out (total 2200)
    assert tokens(disjoint) == (2000, 1200, None, None, 200, 50)
    assert disjoint["max_tokens"] == 4000
    assert texts[disjoint["system_hash"]] == "You are a router."
    assert texts[disjoint["completion_hash"]] == "billing"
    # Anthropic keys: 20 + 3000 cache writes = 3020 in
    assert tokens(anthropic) == (3020, 0, 3000, None, 400, None)
    assert anthropic["max_tokens"] == 2048  # "2048"
    assert (legacy["input_tokens"], legacy["output_tokens"], legacy["status"]) == (100, 30, "error")
    assert legacy["reported_cost_usd"] == pytest.approx(0.000033)  # calculatedTotalCost
    assert texts[legacy["prompt_hash"]] == "plain prompt"
    # nested (total 60 = input + output): reasoning 20 already inside output 50
    assert tokens(vertex) == (10, None, None, None, 50, 20)
    assert vertex["model"].startswith("projects/demo/")  # kept as logged
    # o4-mini: $1.10 in, $0.275 cache read, $4.40 out
    assert cost(disjoint) == pytest.approx(800 * 1.1e-6 + 1200 * 0.275e-6 + 200 * 4.4e-6)
    # claude-sonnet-4: $3 in, $3.75 cache write, $15 out
    assert cost(anthropic) == pytest.approx(20 * 3e-6 + 3000 * 3.75e-6 + 400 * 15e-6)
    assert anthropic["reported_cost_usd"] == pytest.approx(cost(anthropic))
    # the Vertex resource path resolves to gemini-2.5-flash: $0.30 in, $2.50 out
    assert cost(vertex) == pytest.approx(10 * 0.3e-6 + 50 * 2.5e-6)


def test_trace_from_the_api_with_user_and_session():
    result, [call], rejects, texts = load(LANGFUSE / "trace_api.json")
    assert (result.lines_read, result.ingested, result.skipped) == (2, 1, 1)  # EVENT skipped
    assert (call["user_id"], call["session_id"], call["feature"]) == (
        "user-99",
        "session-5",
        "support-chat",
    )
    tags = json.loads(call["tags"])
    assert tags["tags"] == ["beta"] and tags["release"] == "v1.2"
    assert tags["team"] == "growth" and "request" not in tags  # short metadata values only
    assert tags["time_to_first_token_ms"] == 300  # completionStartTime - startTime
    assert json.loads(texts[call["prompt_hash"]]) == [
        {"role": "user", "content": "Where is my order?"}
    ]
    assert texts[call["completion_hash"]] == "On its way."
    assert cost(call) == pytest.approx(120 * 2e-6 + 15 * 8e-6)  # gpt-4.1


def test_observations_csv():
    result, [call], rejects, texts = load(LANGFUSE / "observations.csv")
    assert result.format == "langfuse"
    assert (result.lines_read, result.ingested, result.skipped, result.rejected) == (2, 1, 1, 0)
    assert call["source_line"] == 2  # the header is line 1
    assert tokens(call)[0::4] == (400, 60)  # usageDetails is a JSON string in a cell
    assert call["reported_cost_usd"] == pytest.approx(0.000096)
    assert cost(call) == pytest.approx(400 * 0.15e-6 + 60 * 0.6e-6)  # gpt-4o-mini


def test_detection(jsonl):
    for path in (
        REAL / "langfuse/openai-agents.trace.json",
        LANGFUSE / "observations.jsonl",
        LANGFUSE / "observations.csv",
        LANGFUSE / "trace_api.json",
    ):
        assert detect(path, path.read_bytes()[:65536]).name == "langfuse", path
    plain = jsonl([{"model": "gpt-4o", "type": "chat", "startTime": "2025-01-01T00:00:00Z"}])
    assert detect(plain, plain.read_bytes()).name == "jsonl"


def test_formats_command_lists_langfuse(cli):
    result = cli("formats")
    assert result.exit_code == 0 and "langfuse" in result.stdout


def _tool_answer_shapes() -> dict[str, tuple[dict, str]]:
    """The tool-call answer of a recorded call (tests/data/tokens/tool_call_answers.jsonl,
    line 1: two parallel calls, completion_tokens 51) as Langfuse's integrations log a
    generation's output, with the text each answer holds: the OpenAI integration
    (langfuse/openai.py _extract_chat_response: {role, tool_calls, content}); the LangChain
    integration (langfuse/langchain/CallbackHandler.py: LangChain's tool_calls with their args
    and OpenAI's under additional_kwargs; the v2 handler langfuse/callback/langchain.py:
    additional_kwargs only; a non-chat generation: additional_kwargs itself); and
    langchain-anthropic's answer, whose tool_use blocks in its content are its tool_calls."""
    line = (DATA / "tokens" / "tool_call_answers.jsonl").read_text().splitlines()[0]
    message = json.loads(line)["response"]["choices"][0]["message"]
    raw = message["tool_calls"]
    args = "".join(c["function"]["arguments"] for c in raw)
    langchain = [{"name": c["function"]["name"], "args": json.loads(c["function"]["arguments"]),
                  "id": c["id"], "type": "tool_call"} for c in raw]  # fmt: skip
    blocks = [{"type": "text", "text": "Checking."}] + [
        {"type": "tool_use", "id": c["id"], "name": c["name"], "input": c["args"]}
        for c in langchain
    ]
    return {
        "openai": ({"role": "assistant", "tool_calls": raw, "content": None}, args),
        "langchain": (
            {
                "role": "assistant",
                "content": "",
                "tool_calls": langchain,
                "additional_kwargs": {"tool_calls": raw},
            },
            args,
        ),  # fmt: skip
        "langchain v2": (
            {"role": "assistant", "content": "", "additional_kwargs": {"tool_calls": raw}},
            args,
        ),
        "non-chat": ({"tool_calls": raw}, args),
        "anthropic": (
            {"role": "assistant", "content": blocks, "tool_calls": langchain},
            'Checking.{"location":"Seattle, WA"}{"location":"San Francisco, CA"}',
        ),
    }


@pytest.mark.parametrize("shape", list(_tool_answer_shapes()))
def test_a_generation_answered_with_tool_calls_counts_their_arguments(tmp_path, shape):
    """A generation whose output is a chat message of tool calls alone was read as no answer
    (content null or ''), or as the whole JSON ({"tool_calls": [...]}): without usage its
    output was NULL, priced at nothing, or the JSON's tokens. The answer is its tool calls'
    arguments (OpenAI's raw strings over LangChain's re-serialized args; tool_use blocks
    once), it reads 'tool_calls', and its counted output is an estimate, as the JSON-lines
    reader counts the same recorded answer (tests/test_tool_answers.py)."""
    output, text = _tool_answer_shapes()[shape]
    observation = {"id": "gen-1", "traceId": "t-1", "type": "GENERATION", "name": "chat",
                   "startTime": "2026-10-01T10:00:00Z", "model": "gpt-4o-mini",
                   "input": [{"role": "user", "content": "Weather in Seattle and SF?"}],
                   "output": output}  # fmt: skip
    path = write_jsonl(
        tmp_path / "langfuse.jsonl", [{"trace": {"id": "t-1"}, "observations": [observation]}]
    )
    result, [call], rejects, texts = load(path)
    assert (result.format, rejects) == ("langfuse", [])
    assert (call["finish_reason"], texts[call["completion_hash"]]) == ("tool_calls", text)
    from llmcost import tokens as tok
    from tests.conftest import load_priced_paths

    _, [call], _ = load_priced_paths(path)
    counted = tok.count_texts([text], "o200k_base")[0]
    assert (call["output_tokens"], call["token_source"]) == (counted, "estimated")
    assert 0 < counted <= 51


def test_a_generation_with_several_choices_of_tool_calls_is_read(tmp_path, jsonl):
    """Langfuse's OpenAI integration logs a call with several choices as a list of their
    messages ("If multiple choices were generated, we'll show all of them in the UI as a
    list.": langfuse/openai.py, each message from _extract_chat_response: {role, tool_calls,
    content}). The list was read as its messages' contents alone: an answer of tool calls
    was no answer (completion NULL, output uncounted and unpriced without usage) and did not
    read 'tool_calls'. The recorded answer of two parallel tool calls (completion_tokens 51)
    as choice 0, a text answer as choice 1: the answer is what the JSON-lines reader keeps of
    the same two-choice response (the contents, then the calls' arguments), it reads
    'tool_calls', and its counted output is an estimate."""
    line = json.loads((DATA / "tokens" / "tool_call_answers.jsonl").read_text().splitlines()[0])
    response = line["response"]
    calls = response["choices"][0]["message"]
    text = {"role": "assistant", "content": "Let me check the weather for you."}
    response["choices"].append({"index": 1, "message": text, "finish_reason": "stop"})
    observation = {"id": "gen-1", "traceId": "t-1", "type": "GENERATION", "name": "chat",
                   "startTime": "2026-10-01T10:00:00Z", "model": "gpt-4o-mini",
                   "input": line["request"]["messages"],
                   "output": [{"role": "assistant", "tool_calls": calls["tool_calls"],
                               "content": None}, {**text}]}  # fmt: skip
    path = write_jsonl(
        tmp_path / "langfuse.jsonl", [{"trace": {"id": "t-1"}, "observations": [observation]}]
    )
    result, [call], rejects, texts = load(path)
    assert (result.format, rejects) == ("langfuse", [])
    _, [as_lines], _, lines_texts = load(jsonl([line]))
    answer = lines_texts[as_lines["completion_hash"]]
    assert answer == text["content"] + "".join(
        c["function"]["arguments"] for c in calls["tool_calls"]
    )
    assert (call["finish_reason"], texts[call["completion_hash"]]) == ("tool_calls", answer)
    from llmcost import tokens as tok
    from tests.conftest import load_priced_paths

    _, [call], _ = load_priced_paths(path)
    counted = tok.count_texts([answer], "o200k_base")[0]
    assert (call["output_tokens"], call["token_source"]) == (counted, "estimated")
