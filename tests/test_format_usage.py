"""Usage objects in JSON-lines records (formats/usage.py, formats/flat.py): each provider's
and gateway's token fields → the canonical columns, and the price that follows."""

from __future__ import annotations

import pytest

from tests.conftest import DATA, cost, load_priced, tokens

USAGE = DATA / "formats" / "usage"


def test_litellm_style_claude_usage_keeps_its_tokens_and_cache():
    """OpenAI's keys plus Anthropic's cache keys (LiteLLM for Claude): prompt_tokens holds
    the reads and, from most versions, the writes; a version that adds only the reads gets
    the writes added on top (the LiteLLM adapter's rule)."""
    result, rows, rejects, _ = load_priced(USAGE / "litellm_claude_usage.jsonl")
    assert rejects == []
    # input, cache read, cache write (5m), cache write (1h), output, reasoning
    assert [tokens(r) for r in rows] == [
        (1167, 0, 1163, None, 187, None),
        (2200, 2000, 0, None, 100, None),
        (2200, 2000, 0, None, 100, None),
        (3167, 2000, 1163, None, 10, None),
    ]
    assert [r["token_source"] for r in rows] == ["reported"] * 4
    # claude-sonnet-4-5: $3 input, $0.30 cache read, $3.75 cache write, $15 output
    assert [cost(r) for r in rows] == pytest.approx(
        [0.00717825, 0.0027, 0.0027, (4 * 3 + 2000 * 0.3 + 1163 * 3.75 + 10 * 15) / 1e6]
    )


def test_flat_record_with_anthropic_cache_keys_at_the_top_level():
    """Top-level cache_read_input_tokens / cache_creation_input_tokens beside input_tokens
    are Anthropic's: outside input_tokens, added to it; beside prompt_tokens, inside it."""
    result, rows, rejects, _ = load_priced(USAGE / "flat_anthropic_cache.jsonl")
    assert [tokens(r) for r in rows] == [
        (6100, 5000, 1000, None, 50, None),
        (6100, 5000, 1000, None, 50, None),
    ]
    assert [cost(r) for r in rows] == pytest.approx([0.0063, 0.0063])
    assert rejects == [
        (3, "usage field cache_read_input_tokens is not a non-negative integer: lots")
    ]


def test_out_of_range_counts_are_rejected_with_their_line():
    """A count of 10^15 or more (1e30, 2^63 …) is a reject with its reason, not a crash of
    the run; one below is a count. max_tokens is the request's cap, not a billed count:
    out of range, it is unknown and the call is kept."""
    result, rows, rejects, _ = load_priced(USAGE / "huge_counts.jsonl")
    assert [(r["source_line"], r["input_tokens"], r["max_tokens"]) for r in rows] == [
        (1, 10, None),
        (4, 10, None),
        (7, 999_999_999_999_999, None),
    ]
    too_large = "is too large for a token count (10^15 or more)"
    assert rejects == [
        (2, f"usage field prompt_tokens {too_large}: 1e30"),
        (3, f"usage field prompt_tokens {too_large}: 9223372036854775808"),
        (5, f"usage field prompt_tokens_details.cached_tokens {too_large}: 1e30"),
        (6, f"usage field prompt_tokens {too_large}: 1000000000000000"),
        (8, f"usage field input_tokens {too_large}: 1e16"),
    ]
    assert result.accounted


def test_a_usage_that_is_not_an_object_is_rejected():
    """A usage of "lots" is a damaged record, not a call of unknown size (which would be
    priced from nothing); a null usage is no usage: the call is kept."""
    result, rows, rejects, _ = load_priced(USAGE / "usage_not_an_object.jsonl")
    assert [r["source_line"] for r in rows] == [1, 7]
    assert rejects == [
        (2, 'usage is not an object: "lots"'),
        (3, "usage is not an object: [10,1]"),
        (4, "usage is not an object: 42"),
        (5, 'usage is not an object: "lots"'),
        (6, "usage is not an object: true"),
    ]
    assert result.accounted


def test_openai_cache_writes_are_priced_as_writes():
    """input_tokens_details.cache_write_tokens (Responses) and
    prompt_tokens_details.cache_write_tokens (Chat) are inside the input, at the write
    price: gpt-5.6-terra 30k × $2 + 20k × $0.20 + 50k × $2.50 + 1k × $12 = $0.201."""
    result, rows, rejects, _ = load_priced(USAGE / "openai_cache_writes.jsonl")
    assert rejects == []
    assert [tokens(r) for r in rows] == [(100_000, 20_000, 50_000, None, 1000, 0)] + [
        (100_000, 20_000, 50_000, None, 1000, None)
    ]
    assert [cost(r) for r in rows] == pytest.approx([0.201, 0.201])


def test_openai_shaped_answers_of_other_providers_keep_their_provider():
    """A chat.completion or Responses object names its model: DeepSeek's, xAI's and
    Claude through a gateway are theirs; OpenAI's and a model no provider is known for
    are OpenAI's."""
    _, rows, rejects, _ = load_priced(USAGE / "openai_compatible.jsonl")
    assert rejects == []
    assert [(r["model"], r["provider"]) for r in rows] == [
        ("deepseek-v4-pro", "deepseek"),
        ("deepseek-v4-pro", "deepseek"),
        ("grok-4", "xai"),
        ("gpt-4o-mini", "openai"),
        ("llama-3.3-70b-instruct", "openai"),
    ]
    _, rows, _, _ = load_priced(USAGE / "litellm_claude_usage.jsonl")
    assert rows[2]["provider"] == "anthropic"  # Claude's answer as a chat.completion


def test_deepseek_cache_hits_are_read_from_its_own_fields():
    """prompt_cache_hit_tokens is DeepSeek's name for the cache reads (inside prompt_tokens):
    an answer with only DeepSeek's fields costs what one with OpenAI's does."""
    _, rows, rejects, _ = load_priced(USAGE / "openai_compatible.jsonl")
    assert rejects == []
    deepseek = rows[:2]
    assert [tokens(r) for r in deepseek] == [(100_000, 90_000, None, None, 1000, None)] * 2
    # deepseek-v4-pro, Monday 2026-11-02 10:00 UTC: off-peak, half of $1.32 / $0.044 / $3.96
    assert [cost(r) for r in deepseek] == pytest.approx([0.01056, 0.01056])


def test_the_service_tier_in_a_usage_object_prices_the_call():
    """Anthropic reports the tier in usage.service_tier: a Messages response, an envelope
    and a flat record with that usage are priced alike (batch: half price)."""
    _, rows, rejects, _ = load_priced(USAGE / "service_tier_in_usage.jsonl")
    assert rejects == []
    assert [r["service_tier"] for r in rows] == ["batch", "priority", "batch", "batch"]
    # claude-sonnet-4-5: 100 × $3 + 1000 × $3.75 (write) + 10 × $15 = $0.0042; batch half
    assert [cost(rows[i]) for i in (0, 2, 3)] == pytest.approx([0.0021] * 3)


def test_sdk_field_names_are_read_like_the_rest_names():
    """The google-genai SDK's model_dump() writes snake_case (usage_metadata,
    prompt_token_count, model_version: the call was rejected, or its tokens unknown); boto3's
    Converse names the model modelId (rejected: no model). gemini-2.5-flash: 600 × $0.30 +
    400 cached × $0.03 + (200 + 300 thinking) × $2.50; nova-lite: 1000 × $0.06 + 100 × $0.24."""
    result, rows, rejects, _ = load_priced(USAGE / "sdk_field_names.jsonl")
    assert [line for line, _ in rejects] == [4]
    assert "prompt_token_count is not a non-negative integer" in rejects[0][1]
    gemini = [r for r in rows if r["model"] == "gemini-2.5-flash"]
    assert [tokens(r) for r in gemini] == [(1000, 400, None, None, 500, 300)] * 3
    assert [cost(r) for r in gemini] == pytest.approx(
        [(600 * 0.3 + 400 * 0.03 + 500 * 2.5) / 1e6] * 3
    )
    assert [r["request_id"] for r in gemini][::2] == ["sdk-dump-1", "rest-1"]
    assert [r["finish_reason"] for r in gemini][::2] == ["stop", "stop"]
    [nova] = [r for r in rows if r["source_line"] == 5]
    assert (nova["model"], nova["provider"]) == ("amazon.nova-lite-v1:0", "aws-bedrock")
    assert cost(nova) == pytest.approx((1000 * 0.06 + 100 * 0.24) / 1e6)


def test_anthropic_cache_writes_given_only_by_their_ttl_breakdown(jsonl):
    """Anthropic's Usage type has cache_creation_input_tokens and the cache_creation
    breakdown (ephemeral_5m/1h_input_tokens) both optional: a usage with only the breakdown
    wrote 300 + 200 tokens, inside the input as the total's would be (they were left out of
    the input, and the 5-minute writes out of every count). claude-sonnet-4-5: 10 × $3 +
    100 read × $0.30 + 300 × $3.75 + 200 × $6 (1h) + 5 × $15."""
    usage = {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 100}
    breakdown = {"ephemeral_5m_input_tokens": 300, "ephemeral_1h_input_tokens": 200}
    message = {"type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
               "content": [{"type": "text", "text": "Hi"}], "stop_reason": "end_turn"}  # fmt: skip
    path = jsonl([
        {**message, "id": "msg_only_breakdown", "usage": {**usage, "cache_creation": breakdown}},
        {**message, "id": "msg_both", "usage": {**usage, "cache_creation": breakdown,
                                                "cache_creation_input_tokens": 500}},
        {**message, "id": "msg_only_5m", "usage": {
            **usage, "cache_creation": {"ephemeral_5m_input_tokens": 300}}},
    ])  # fmt: skip
    _, rows, rejects, _ = load_priced(path)
    assert rejects == []
    assert [tokens(r) for r in rows] == [
        (610, 100, 300, 200, 5, None),
        (610, 100, 300, 200, 5, None),
        (410, 100, 300, None, 5, None),
    ]
    assert cost(rows[0]) == pytest.approx((10 * 3 + 100 * 0.3 + 300 * 3.75 + 200 * 6 + 75) / 1e6)


def test_anthropic_usage_with_only_the_write_breakdown_is_read_as_anthropic(jsonl):
    """A usage with no cache_read/cache_creation_input_tokens key but the cache_creation
    breakdown is Anthropic's (no other provider writes that key): it was read as a generic
    usage, its 250 written tokens left out (input 10). claude-sonnet-4-5: 10 × $3 +
    200 × $3.75 + 50 × $6 (1h) + 5 × $15."""
    usage = {"input_tokens": 10, "output_tokens": 5, "cache_creation": {
        "ephemeral_5m_input_tokens": 200, "ephemeral_1h_input_tokens": 50}}  # fmt: skip
    path = jsonl([{"ts": "2026-11-02T10:00:00Z", "model": "claude-sonnet-4-5",
                   "request_id": "plain-writes-only", "usage": usage}])  # fmt: skip
    _, rows, rejects, _ = load_priced(path)
    assert rejects == []
    assert [tokens(r) for r in rows] == [(260, None, 200, 50, 5, None)]
    assert cost(rows[0]) == pytest.approx((10 * 3 + 200 * 3.75 + 50 * 6 + 75) / 1e6)


def test_a_bad_total_is_rejected_though_no_style_prices_it():
    """total_tokens (totalTokenCount) is no part of the price, but a total that is not a
    count marks a damaged record like any other count. Counts written as strings or as a
    whole float are counts; "1,0" and true are not."""
    _, rows, rejects, _ = load_priced(USAGE / "bad_totals.jsonl")
    assert [(r["source_line"], r["input_tokens"], r["output_tokens"]) for r in rows] == [
        (2, 10, 5),
        (4, 10, 5),
    ]
    bad = "is not a non-negative integer"
    assert rejects == [
        (1, f"usage field total_tokens {bad}: lots"),
        (3, f"usage field totalTokenCount {bad}: -1"),
        (5, f"usage field prompt_tokens {bad}: 1,0"),
        (6, f"usage field completion_tokens_details.reasoning_tokens {bad}: true"),
    ]


def test_web_searches_are_charged_whatever_else_the_usage_holds():
    """Anthropic's server_tool_use.web_search_requests was charged only in a usage with
    Anthropic's cache keys: without them (a message logged by hand, an older SDK) the usage
    read as generic, and in OpenAI's shape (LiteLLM's Usage for Claude) no search was read,
    $0.02 of searches lost each time. claude-sonnet-4-5: 100 in x $3 + 10 out x $15 per
    million, 2 searches x $10 per thousand."""
    _, rows, rejects, _ = load_priced(USAGE / "web_searches.jsonl")
    assert rejects == []
    assert [r["web_search_requests"] for r in rows] == [2, 2, 2]
    assert [cost(r) for r in rows] == pytest.approx([0.00045 + 0.02] * 3)
