"""Cache-hit potential: exact repeats, provider prompt caching, near-duplicates — worked by hand."""

from __future__ import annotations

import html

import pytest

from llmcost import tokens
from llmcost.analyses.prompt_cache import min_tokens
from tests.test_analyses_common import PRICES, M, call, offered, report

SYSTEM = "hello" + " hello" * 1199  # exactly 1,200 o200k tokens (checked below)
SHORT = "You are brief."  # far below every minimum cacheable length


def test_the_system_prompt_is_1200_tokens():
    assert tokens.count_texts([SYSTEM], "o200k_base") == [1200]


def test_minimum_cacheable_lengths_table():
    assert min_tokens("openai", "gpt-4o") == 1024
    assert min_tokens("anthropic", "claude-sonnet-4-5") == 1024
    assert min_tokens("anthropic", "claude-haiku-4-5") == 4096
    assert min_tokens("anthropic", "claude-3-5-haiku") == 2048
    assert min_tokens("anthropic", "claude-future-9") == 4096  # unlisted: conservative
    assert min_tokens("google", "gemini-2.5-flash") == 2048
    assert min_tokens("google", "gemini-3-pro") == 4096
    assert min_tokens("deepseek", "deepseek-chat") == 64


def test_openai_system_prompt_family(jsonl):
    # big-model: input $10/M, cache read $1/M, no write premium; 5-minute lifetime, min 1024.
    records = [
        call(0, system=SYSTEM, text="q1", inp=1500, out=10),
        call(60, system=SYSTEM, text="q2", inp=1500, out=10),
        # already cached 1,024 tokens of its prefix: that part is not a new saving
        call(120, system=SYSTEM, text="q3", inp=1500, out=10, cached=1024),
        call(1000, system=SYSTEM, text="q4", inp=1500, out=10),  # 880 s later: alone
        call(2000, system=SYSTEM, text="q5", inp=1500, out=10),
        call(2100, system=SYSTEM, text="q6", inp=1500, out=10),
        call(70, system=SYSTEM, text="q2", inp=1500, out=10, user="u2"),  # repeat of q2
        # a short system prompt (2 calls within a minute): below the minimum, no saving
        call(0, system=SHORT, text="a", inp=900, out=10),
        call(30, system=SHORT, text="b", inp=900, out=10),
    ]
    rep = report(jsonl, records)
    cache = rep["cache"]
    # exact repeat: the second "q2" call, 1500 x $10/M + 10 x $20/M
    assert cache["exact_repeats"]["requests"] == 1
    assert cache["exact_repeats"]["usd"] == pytest.approx(1500 * 10 * M + 10 * 20 * M)
    pc = cache["prompt_caching"]
    # runs (5 min): [q1 q2 q3] [q4] [q5 q6]; reads on q2, q3, q6 of the 1,200-token prefix at
    # $9/M less, 1,152 of it (OpenAI's hits come in steps of 128 past 1,024), minus what q3
    # already got from its 1,024 cached tokens
    expected = 3 * 1152 * 9 * M - 1024 * 9 * M
    assert pc["usd"] == pytest.approx(expected)
    [family] = pc["families"]
    assert family["model"] == "big-model"
    assert family["calls"] == 6  # the exact repeat is left to the response cache
    assert (family["cache_reads"], family["cache_writes"], family["ttl"]) == (3, 2, "5m")
    assert family["prefix_tokens"] == 1200
    assert family["already_saved_usd"] == pytest.approx(1024 * 9 * M)
    assert family["saving_usd"] == pytest.approx(expected)
    # the summary: the repeat goes to the response cache; the prefix saving is offered, but
    # these short-answer calls save more on the cheaper sibling (the larger price change wins)
    assert offered(rep, "response_cache")["usd"] == pytest.approx(0.0152)
    caching = offered(rep, "prompt_caching")
    assert caching["details"]["usd_before_overlap"] == pytest.approx(expected)
    assert caching["usd"] == 0


def test_anthropic_picks_the_cheaper_cache_lifetime(jsonl):
    # claude-sonnet-4-5 (test prices): input 10, read 1, 5-min write 12.5, 1-hour write 20.
    # No encoding in the table: the system prompt is estimated as 1,200 x 1.2 = 1,440 tokens.
    other = SYSTEM.replace("hello", "world")  # another 1,200-token text
    claude = {"model": "claude-sonnet-4-5", "provider": "anthropic", "inp": 2000, "out": 10}
    records = [
        # calls 10 minutes apart: no 5-minute hit; one 1-hour run of 4
        *[call(600 * i, system=SYSTEM, text=f"s{i}", **claude) for i in range(4)],
        # calls a minute apart: 5-minute writes are cheaper
        *[call(60 * i, system=other, text=f"o{i}", **claude) for i in range(3)],
    ]
    pc = report(jsonl, records)["cache"]["prompt_caching"]
    spaced = 3 * 1440 * (10 - 1) * M - 1440 * (20 - 10) * M  # reads - 1-hour write premium
    close = 2 * 1440 * (10 - 1) * M - 1440 * (12.5 - 10) * M  # reads - 5-minute write premium
    by_ttl = {f["ttl"]: f for f in pc["families"]}
    assert by_ttl["1h"]["saving_usd"] == pytest.approx(spaced)
    assert by_ttl["1h"]["prefix_tokens"] == 1440
    assert by_ttl["5m"]["saving_usd"] == pytest.approx(close)
    assert pc["usd"] == pytest.approx(spaced + close)


def test_caching_in_use_is_net_of_the_write_premium(jsonl, cli):
    # claude-sonnet-4-5 (test prices): input 10, read 1, 5-min write 12.5, 1-hour write 20.
    # The log's own cache use: a 5-minute write of 2,000 tokens, a read of them, and a 1-hour
    # write of 1,000. The reads saved 2,000 x $9/M; the writes cost 2,000 x $2.5/M and
    # 1,000 x $10/M more than plain input. Before, the writes' premium was left out ($0.018).
    claude = {"model": "claude-sonnet-4-5", "provider": "anthropic", "inp": 3000, "out": 10}
    hour = call(120, text="c", **claude)
    hour["usage"]["input_tokens"] = 2000
    hour["usage"]["cache_creation"] = {
        "ephemeral_5m_input_tokens": 0,
        "ephemeral_1h_input_tokens": 1000,
    }
    records = [
        call(0, text="a", written=2000, **claude),
        call(60, text="b", cached=2000, **claude),
        hour,
    ]
    used = report(jsonl, records)["cache"]["prompt_caching_in_use"]
    premium = 2000 * 2.5 * M + 1000 * 10 * M
    assert used["write_premium_usd"] == pytest.approx(premium)
    assert used["saved_usd"] == pytest.approx(2000 * 9 * M - premium)
    assert (used["cache_read_tokens"], used["cache_write_tokens"]) == (2000, 3000)
    args = [x for p in PRICES for x in ("--pricing", str(p))]
    text = cli("analyze", str(jsonl(records)), *args).stdout
    # "net of $0.01 paid to write the cache" read as what the writes cost, beside a summary
    # whose "cache write" is the writes' whole price (2,000 x $12.5/M + 1,000 x $20/M =
    # $0.045): the $0.01 is their premium over the input price, and says so
    assert (
        "on 1 call saved $0.0030 (net of $0.01 paid above the input price to write the cache)."
        in " ".join(text.split())
    )
    assert "cache write $0.04," in " ".join(text.split())


def test_conversation_history_is_a_cacheable_prefix(jsonl):
    # one session, the conversation grows: each call starts with all of the previous one
    turns = [
        {"role": "system", "content": SHORT},
        {"role": "user", "content": "u1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "u2"},
        {"role": "assistant", "content": "a2"},
        {"role": "user", "content": "u3"},
    ]
    records = [
        call(0, session="s1", messages=turns[:2], inp=1100, out=10),
        call(30, session="s1", messages=turns[:4], inp=1300, out=10),
        call(60, session="s1", messages=turns[:6], inp=1500, out=10),
        # another session starting like the first: not a continuation of it
        call(
            90,
            session="s2",
            messages=turns[:2] + [{"role": "user", "content": "x"}],
            inp=1200,
            out=10,
        ),
    ]
    pc = report(jsonl, records)["cache"]["prompt_caching"]
    # the 2nd call reads the 1st call's 1,100 tokens, the 3rd the 2nd's 1,300, at $9/M less:
    # 1,024 and 1,280 of them (OpenAI's cache hits: 1,024 tokens, then steps of 128)
    assert pc["usd"] == pytest.approx((1024 + 1280) * 9 * M)
    [family] = pc["families"]
    assert (family["cache_reads"], family["calls"]) == (2, 4)


def test_near_duplicates(jsonl):
    base = "My invoice for March is wrong, please fix the amount on invoice 1234. Thanks!"
    long = (
        "please check why the export of tickets from the billing queue stops at row ten "
        "thousand every night and tell me which setting"
    )
    records = [
        call(0, model="small-model", system=SHORT, text=base.lower().replace(",", "")),
        call(100, model="small-model", system=SHORT, text=base),  # same words: J = 1
        call(200, model="small-model", system=SHORT, text="How do I export tickets to CSV?"),
        call(300, model="small-model", system=SHORT, text=base),  # exact repeat of the 2nd
        call(400, model="big-model", system=SHORT, text=base),  # another model: no match
        call(500, model="small-model", system=SHORT, text=long + " applies"),
        # one word changed at the end: 21 of 22 shingles shared, J = 21/23 = 0.91
        call(600, model="small-model", system=SHORT, text=long + " matters"),
    ]
    rep = report(jsonl, records)
    nd = rep["cache"]["near_duplicates"]
    cost = 1000 * 1 * M + 100 * 2 * M  # small-model, 1000 in / 100 out
    assert nd["requests"] == 2
    assert nd["usd"] == pytest.approx(2 * cost)
    assert nd["share"] == pytest.approx(2 / 7)
    assert nd["threshold"] == 0.8
    assert rep["cache"]["exact_repeats"]["requests"] == 1  # never counted twice
    assert {round(x["similarity"], 1) for x in nd["top"]} <= {1.0, 0.9, 0.8}
    assert offered(rep, "semantic_cache")["calls"] == 2


def test_near_duplicate_threshold_from_config(jsonl):
    long = "please check why the export of tickets from the billing queue stops at row ten"
    records = [
        call(0, text=long + " thousand every night"),
        call(10, text=long + " million every day"),  # J = 13/19 = 0.68
    ]
    assert report(jsonl, records)["cache"]["near_duplicates"]["requests"] == 0
    loose = report(jsonl, records, config="savings:\n  near_duplicate_threshold: 0.4\n")
    assert loose["cache"]["near_duplicates"]["requests"] == 1


def test_no_text_says_what_cannot_be_computed(jsonl):
    records = [call(i * 10, messages=[]) for i in range(3)]
    for record in records:
        del record["messages"]
    cache = report(jsonl, records)["cache"]
    assert cache["requests_with_prompt_text"] == 0
    assert "no prompt text" in cache["note"]
    assert cache["prompt_caching"]["usd"] == 0
    assert any("no system prompt" in n for n in cache["prompt_caching"]["notes"])
    assert cache["near_duplicates"]["requests"] == 0


def test_near_duplicates_of_long_and_multipart_prompts(jsonl):
    def parts(text: str) -> list[dict]:
        return [{"role": "user", "content": [{"type": "text", "text": text}]}]

    long = " ".join(f"w{i}" for i in range(120))  # 118 shingles: MinHash, not exact
    head = " ".join(f"h{i}" for i in range(500))  # 2,389 characters
    tail = " ".join(f"t{i}" for i in range(300))  # 1,389 characters
    records = [
        # a list of parts reads as its JSON text: words type, text, text, alpha, beta, ...
        # 5 and 6 shingles, 5 shared: J = 5/6
        call(0, system=SHORT, messages=parts("alpha beta gamma delta")),
        call(10, system=SHORT, messages=parts("alpha beta gamma delta epsilon")),
        # one word changed at the end of a long prompt: J = 117/119, estimated
        call(20, system=SHORT, text=long),
        call(30, system=SHORT, text=long.rsplit(" ", 1)[0] + " changed"),
        call(40, system=SHORT, text=" ".join(f"v{i}" for i in range(120))),  # unrelated
        # over 3,000 characters: compared on the first 2,000 and last 1,000 only, lower-cased
        call(50, system=SHORT, text=f"{head} one middle {tail}"),
        call(60, system=SHORT, text=f"{head.upper()} another quite different middle {tail}"),
    ]
    nd = report(jsonl, records)["cache"]["near_duplicates"]
    assert nd["requests"] == 3
    similarity = sorted(x["similarity"] for x in nd["top"])
    assert similarity[0] == round(5 / 6, 3)
    assert 0.9 <= similarity[1] < 1  # the MinHash estimate of 117/119 = 0.98
    assert similarity[2] == 1.0  # the compared parts are the same


def test_unpriced_repeats_are_not_zero_savings(jsonl, cli):
    # Hand-made: calls of a model no table prices. "q" is sent twice 10 s apart (an exact
    # repeat, and a retry of an answered call); a question is asked again reworded (a
    # near-duplicate). Before, each read "$0.00" as if the repeats cost nothing, and then
    # "$0.00 + 1 unpriced" with a JSON usd of 0: a saving of $0 to a reader. None of their
    # calls has a cost: the amount is unknown (usd None), and the Savings section, which
    # read "no saving found", says which kinds found calls it cannot count.
    question = "please check why the export of tickets from the billing queue stops at row ten"
    mystery = {"model": "mystery-model"}
    records = [
        call(0, text="q", **mystery),
        call(10, text="q", **mystery),
        call(1000, text=question + " today", **mystery),
        call(2000, text=question + " tonight", **mystery),
    ]
    rep = report(jsonl, records)
    repeats, near = rep["cache"]["exact_repeats"], rep["cache"]["near_duplicates"]
    retries = rep["waste"]["retries"]
    assert (repeats["requests"], repeats["unpriced_requests"], repeats["usd"]) == (1, 1, None)
    assert (near["requests"], near["unpriced_requests"], near["usd"]) == (1, 1, None)
    assert (retries["after_success"], retries["unpriced_calls"], retries["usd"]) == (1, 1, None)
    total = rep["savings_total"]
    assert (rep["savings"], total["usd"], total["share_of_cost"]) == ([], None, None)
    assert [(u["kind"], u["calls"]) for u in total["unknown_kinds"]] == [
        ("retries", 1),
        ("response_cache", 1),
        ("semantic_cache", 1),
    ]
    args = [x for p in PRICES for x in ("--pricing", str(p))]
    for fmt in ("table", "markdown", "html"):
        out = cli("analyze", str(jsonl(records)), *args, "--format", fmt).stdout
        text = " ".join(html.unescape(out).split())
        assert "a response cache would save an unknown amount (1 unpriced call)." in text, fmt
        assert "at similarity ≥ 0.8 — an unknown amount (1 unpriced call)." in text, fmt
        assert (
            "of a successful identical call: 1 call, an unknown amount (1 unpriced call); 0 more"
            in text
        ), fmt
        assert (
            "Savings found: an unknown amount, 3 kinds found only calls without a cost "
            "(Retries of calls that had succeeded: 1 call; Response cache (exact repeats): "
            "1 call; Semantic cache (near-duplicate prompts): 1 call); see the sections below."
            in text
        ), fmt
        assert "no saving found" not in text, fmt


def test_a_null_last_message_is_no_preview(cli, jsonl):
    """A near-duplicate whose prompt ends on a message with no content (a function_call_output
    of the Langfuse openai-agents trace read so) had the preview 'null', as did a Most
    expensive call whose last message's content is JSON null. Neither is text: no preview."""
    import json

    question = {"role": "user", "content": "What's the weather in Tokyo?"}
    log = jsonl(
        [
            {"model": "gpt-4o", "timestamp": "2026-11-02T10:00:00Z", "messages": [question], "usage": {"prompt_tokens": 9}},
            {"model": "gpt-4o", "timestamp": "2026-11-02T10:00:05Z", "messages": [question, {"role": "assistant", "content": None}], "usage": {"prompt_tokens": 12}},
        ]
    )  # fmt: skip
    data = json.loads(cli("analyze", log, "--format", "json").stdout)
    [top] = data["cache"]["near_duplicates"]["top"]
    assert (top["preview"], top["earlier_preview"]) == (None, "What's the weather in Tokyo?")
    assert [x["preview"] for x in data["expensive"]["requests"]] == [None, "What's the weather in Tokyo?"]  # fmt: skip


def test_an_agents_next_turn_is_no_near_duplicate_of_its_first(cli):
    """The Langfuse openai-agents trace: the agent asks gpt-4.1 "What's the weather in Tokyo?"
    (it answers with a get_weather call), then again with the call and the tool's answer
    ("The weather in Tokyo is sunny.") after the question. The second turn's Responses API
    items, function_call and function_call_output, have no content: the compared text was
    the question alone, so the second call read as a near-duplicate of the first (similarity
    1.00), a 'semantic cache' saving of 63.6% of the trace that would answer it with the
    first turn's tool call. Their arguments and output are compared too."""
    import json

    from tests.conftest import REAL

    result = cli("analyze", REAL / "langfuse" / "openai-agents.trace.json", "--format", "json")
    data = json.loads(result.stdout)
    near = data["cache"]["near_duplicates"]
    assert (near["requests"], near["distinct_prompts"], near["top"]) == (0, 2, [])
    assert "semantic_cache" not in {s["kind"] for s in data["savings"]}


def test_caching_in_use_that_costs_more_than_it_saves_says_so(jsonl, cli):
    # claude-sonnet-4-5 (test prices): input 10, 5-min write 12.5. Three calls an hour apart
    # each write 4,000 tokens to the cache, and nothing reads them: 12,000 x $2.5/M = $0.03
    # paid above the input price. Before: "0 cached input tokens on 0 calls saved $-0.03 (net
    # of $0.03 ...)" and "already save ($-0.03)": a loss written as a saving.
    claude = {"model": "claude-sonnet-4-5", "provider": "anthropic", "inp": 5000, "out": 10}
    records = [call(3600 * i, text=f"q{i}", written=4000, **claude) for i in range(3)]
    rep = report(jsonl, records)
    used = rep["cache"]["prompt_caching_in_use"]
    assert used["saved_usd"] == pytest.approx(-12000 * 2.5 * M)
    # not writing a cache nobody reads saves the premium: the family's saving
    [family] = rep["cache"]["prompt_caching"]["families"]
    assert family["saving_usd"] == pytest.approx(12000 * 2.5 * M)
    assert family["already_saved_usd"] == pytest.approx(-12000 * 2.5 * M)
    args = [x for p in PRICES for x in ("--pricing", str(p))]
    text = " ".join(cli("analyze", str(jsonl(records)), *args).stdout.split())
    assert (
        "Prompt caching already in use: 12,000 tokens written to the cache and none read from "
        "it: $0.03 paid above the input price for nothing in these logs." in text
    )
    assert "Saving includes the $0.03 these families' own cache writes cost beyond what" in text
    assert "$-" not in text
    # one read of 1,000 tokens saves 1,000 x $9/M = $0.009: still a net cost of $0.021
    records.append(call(3 * 3600 + 60, text="q3", cached=1000, **claude))
    text = " ".join(cli("analyze", str(jsonl(records)), *args).stdout.split())
    assert (
        "Prompt caching already in use: 1,000 cached input tokens on 1 call saved $0.0090, "
        "less than the $0.03 paid above the input price to write the cache: a net cost of "
        "$0.02." in text
    )


def test_exact_repeats_say_calls_without_tokens_apart_from_unpriced_ones(jsonl, cli):
    # A prompt answered by big-model, then repeated: once answered (1,000 x $10/M + 100 x
    # $20/M = $0.012), once failed without usage (big-model has a price; the call no token
    # counts); and a model no table prices asked it twice (its second call a repeat). The
    # section read '$0.01 + 2 unpriced', as if big-model's failed call had no price; and
    # then '$0.01 + 1 unpriced + 1 without tokens', though a failed call without usage is
    # not billed (the summary's total leaves it out, as Cost by model does).
    failed = call(120, text="same", status="error")
    del failed["usage"]
    records = [
        call(0, text="same"),
        call(60, text="same"),
        failed,
        call(200, model="mystery-model", text="same"),
        call(260, model="mystery-model", text="same"),
    ]
    e = report(jsonl, records)["cache"]["exact_repeats"]
    assert (e["requests"], e["usd"]) == (3, pytest.approx(0.012))
    assert (e["unpriced_requests"], e["unknown_token_requests"]) == (1, 0)
    assert e["error_unknown_token_requests"] == 1
    pricing = [x for p in PRICES for x in ("--pricing", str(p))]
    text = " ".join(cli("analyze", str(jsonl(records)), *pricing).stdout.split())
    assert "a response cache would save $0.01 + 1 unpriced." in text
