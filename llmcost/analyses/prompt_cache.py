"""Provider prompt caching: what calls sharing a long prefix would cost with cache reads.

Providers bill a cached prompt prefix at a fraction of the input price (``cache_read``),
and some charge a premium to write it (``cache_write``, 5-minute lifetime, or
``cache_write_1h``). The prefix must be at least the provider's minimum length and be
reused within the cache lifetime; each hit refreshes it.

Two prefixes are recognised, per call:

* the **system prompt**: calls of one model with the same system text form a *family*;
  ordered by time, a call within the lifetime of the previous one reads the prefix,
  otherwise it starts a new *run* and (if the run has a second call) writes it. The prefix
  length is the system text's token count (``system_tokens``: each distinct text counted
  once with the model's tokenizer; other providers' factor from tokens.py applies);
* the **conversation so far**: within a session and model, a call whose messages start with
  all of the previous call's messages reads the previous call's whole input (its logged
  ``input_tokens``), and that previous call writes it.

A call reads the longer of the two. Simulated input cost = read x cache_read + written x
write price + the rest x input, at the call's own price row (same date, tier, long context);
the saving is the logged input-side cost (which already includes any real cache reads and
writes) minus that, summed per family. Each family gets the better of the 5-minute and
(where offered) 1-hour lifetime; a family whose total is not positive is left alone.
Exact repeats are excluded (a response cache answers them).

Not modelled: tool definitions and images (not in the log text), explicit breakpoints
beyond the two prefixes above, storage fees of explicit caches (Gemini ``cachedContents``).
"""

from __future__ import annotations

import re

import polars as pl

from llmcost.analyses import rows, savings, usd
from llmcost.analyses.redact import preview
from llmcost.render import plural

# Minimum cacheable prefix, in tokens, by provider and model-key pattern (first match wins).
# Sources (checked 2026-11):
#   Anthropic: platform.claude.com/docs/en/build-with-claude/prompt-caching ("Cache
#     limitations"): 4096 for Opus 4.5-4.7, Haiku 4.5 and Mythos; 2048 for Haiku 3 / 3.5;
#     1024 for Opus 4 / 4.1 / 4.8, Sonnet 3.7 / 4 / 4.5 / 4.6. Unlisted Claude models: 4096
#     (the highest documented minimum: a conservative guess). Bedrock/Vertex Claude: same.
#   OpenAI: platform.openai.com/docs/guides/prompt-caching: 1024 tokens for every model.
#   Google: ai.google.dev/gemini-api/docs/caching (implicit caching): 2048 for Gemini 2.5
#     Flash and Pro (the API enforces 1024 for 2.5 Flash, 2048 for Flash-Lite:
#     discuss.ai.google.dev/t/178942); 4096 for Gemini 3 and newer.
#   DeepSeek: api-docs.deepseek.com/guides/kv_cache: automatic, 64-token units.
#   Others with a cache_read price: 1024 (a common floor; not documented per model).
MIN_TOKENS: list[tuple[str, str, int]] = [
    ("", r"claude-(opus-4-[567]|haiku-4-5|mythos)", 4096),
    ("", r"claude-(3-haiku|3-5-haiku|haiku-3)", 2048),
    (
        "",
        r"claude-(opus-4|opus-4-1|opus-4-8|sonnet-4|sonnet-4-5|sonnet-4-6|3-7-sonnet|3-5-sonnet)$",
        1024,
    ),
    ("", r"claude", 4096),
    ("openai", r".", 1024),
    ("azure", r".", 1024),
    ("", r"gemini-2\.5-flash-lite", 2048),
    ("", r"gemini-(2\.0|2\.5)", 2048),
    ("", r"gemini", 4096),
    ("deepseek", r".", 64),
    ("", r".", 1024),
]
# Cache lifetimes, in seconds. A hit refreshes the entry. The Anthropic API offers a 1-hour
# lifetime at the cache_write_1h price (other platforms serving Claude: 5 minutes assumed).
# OpenAI keeps prefixes 5-10 minutes (up to an hour off-peak): 5 minutes is assumed;
# Gemini's implicit cache lifetime is not documented: 5 minutes is assumed.
TTL_SECONDS = 300
TTL_1H_SECONDS = 3600
TTL_1H_PROVIDERS = {"anthropic"}

ASSUMPTION = (
    "calls sharing a system prompt (or continuing a conversation) reuse it from the "
    "provider's prompt cache when they come within its lifetime (5 minutes, 1 hour where "
    "offered and cheaper) and it is above the model's minimum length (OpenAI reads it in "
    "steps of 128 tokens past that); prefix lengths of the "
    "system prompts are counted with the tokenizer (estimated for non-OpenAI models)"
)


def min_tokens(provider: str | None, model_key: str) -> int:
    for want, pattern, minimum in MIN_TOKENS:
        if (not want or want == provider) and re.search(pattern, model_key):
            return minimum
    return 1024


MAX_SYSTEM_TEXTS = 5000


def system_tokens(con, ctx) -> str:
    """Temp table ``(system_hash, priced_provider, model_key, tokens)``: the token count of
    each system text shared by two or more calls of a model (the ``MAX_SYSTEM_TEXTS`` with the
    highest spend), each distinct text counted once per tokenizer."""
    if "sv_system_tokens" in ctx.memo:
        return "sv_system_tokens"
    base = savings.base(con, ctx)
    pairs = rows(
        con,
        f"""SELECT system_hash, priced_provider, model_key FROM {base}
            WHERE system_hash IS NOT NULL AND model_key IS NOT NULL
            GROUP BY ALL HAVING count(*) >= 2
            ORDER BY sum(cost_usd) DESC NULLS LAST, system_hash LIMIT ?""",
        [MAX_SYSTEM_TEXTS],
    )
    choices = {}
    for p in pairs:
        key = (p["priced_provider"], p["model_key"])
        if key not in choices:
            choices[key] = _tokenizer(ctx, *key)
    by_encoding: dict[str, set[str]] = {}
    for p in pairs:
        by_encoding.setdefault(choices[(p["priced_provider"], p["model_key"])][0], set()).add(
            p["system_hash"]
        )
    counts: dict[tuple[str, str], int] = {}
    for encoding, hashes in by_encoding.items():
        from llmcost import tokens

        savings.load_frame(con, "sv_wanted", pl.DataFrame({"hash": sorted(hashes)}))
        found = con.execute(
            "SELECT t.hash, t.text FROM texts t JOIN sv_wanted w ON w.hash = t.hash ORDER BY 1"
        ).fetchall()
        numbers = tokens.count_texts([text for _, text in found], encoding, threads=2)
        counts.update({(encoding, h): n for (h, _), n in zip(found, numbers)})
    frame = pl.DataFrame(
        {
            "system_hash": [p["system_hash"] for p in pairs],
            "priced_provider": [p["priced_provider"] for p in pairs],
            "model_key": [p["model_key"] for p in pairs],
            "tokens": [
                counts.get(
                    (choices[(p["priced_provider"], p["model_key"])][0], p["system_hash"]), 0
                )
                * choices[(p["priced_provider"], p["model_key"])][1]
                for p in pairs
            ],
        },
        schema={
            "system_hash": pl.String,
            "priced_provider": pl.String,
            "model_key": pl.String,
            "tokens": pl.Float64,
        },
    )
    savings.load_frame(con, "sv_system_tokens", frame)
    ctx.memo["sv_system_tokens"] = True
    return "sv_system_tokens"


def _tokenizer(ctx, provider: str | None, model_key: str) -> tuple[str, float]:
    """The model's tiktoken encoding and the factor tokens.py applies to other providers."""
    from llmcost import tokens  # tiktoken is loaded only when a prefix must be counted

    model = ctx.book.models.get((provider, model_key)) if ctx.book is not None else None
    choice = tokens.encoding_for(model_key, model.encoding if model else None, provider)
    return choice.encoding, choice.factor


def _rules_table(con, base: str) -> None:
    keys = con.execute(
        f"SELECT DISTINCT priced_provider, model_key FROM {base} WHERE model_key IS NOT NULL"
    ).fetchall()
    frame = pl.DataFrame(
        {
            "priced_provider": [p for p, _ in keys],
            "model_key": [k for _, k in keys],
            "min_tokens": [min_tokens(p, k) for p, k in keys],
            "ttl_1h": [p in TTL_1H_PROVIDERS for p, _ in keys],
        },
        schema={
            "priced_provider": pl.String,
            "model_key": pl.String,
            "min_tokens": pl.Int64,
            "ttl_1h": pl.Boolean,
        },
    )
    savings.load_frame(con, "sv_pc_rules", frame)


def _reads(ttl: int) -> str:
    """Tokens each call reads from the cache for one lifetime: the system prompt when the
    previous call of its family came within ``ttl``; the previous call's whole input when it
    continues that call's conversation within ``ttl``; the longer of the two, down to the
    provider's step (``step``: OpenAI reads 1024 tokens, then steps of 128)."""
    reads = f"""greatest(
        CASE WHEN sys_prefix > 0 AND sys_gap <= {ttl} THEN sys_prefix ELSE 0 END,
        CASE WHEN chain_gap <= {ttl} AND prev_input >= min_tokens
             THEN least(prev_input, input_tokens) ELSE 0 END)"""
    return f"""CASE WHEN step > 1 AND {reads} >= min_tokens
             THEN min_tokens + floor(({reads} - min_tokens) / step) * step
             ELSE {reads} END AS read_{ttl}"""


def _writes(ttl: int) -> str:
    """Tokens each call writes: its whole uncached prompt when the next call of its session
    continues it; else the system prompt when it opens a run that a later call reads."""
    return f"""least(input_tokens - read_{ttl}, greatest(
        CASE WHEN session_id IS NOT NULL AND next_chain_gap <= {ttl}
                  AND next_prev_input >= min_tokens
             THEN input_tokens - read_{ttl} ELSE 0 END,
        CASE WHEN sys_prefix > 0 AND (sys_gap IS NULL OR sys_gap > {ttl})
                  AND next_sys_gap <= {ttl}
             THEN sys_prefix - read_{ttl} ELSE 0 END,
        0)) AS write_{ttl}"""


def _simulated(ttl: int, write_price: str) -> str:
    """The call's input-side cost with those reads and writes, at its own price row."""
    return f"""CAST(read_{ttl} * coalesce(p_cache_read, p_input) + write_{ttl} * {write_price}
        + (input_tokens - read_{ttl} - write_{ttl}) * p_input AS DECIMAL(38, 12)) AS sim_{ttl}"""


def prompt_caching(con, ctx) -> dict:
    from llmcost.analyses.cache import exact_repeats

    base = savings.base(con, ctx)
    repeats = exact_repeats(con, ctx)
    sys_table = system_tokens(con, ctx)
    _rules_table(con, base)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_pc_elig AS
            SELECT c.request_id, c.ts, c.priced_provider, c.model, c.model_key, c.session_id,
              c.system_hash, c.prompt_hash, c.input_tokens, c.cache_read_tokens,
              c.p_input, c.p_cache_read, c.p_cache_write, c.p_cache_write_1h,
              c.cost_input + c.cost_cache_read + c.cost_cache_write AS current_usd,
              r.min_tokens, r.ttl_1h,
              -- OpenAI's cache hits come in steps of 128 tokens past the 1024 minimum (its
              -- prompt caching guide, for the models before GPT-5.6: those without a
              -- cache-write price; 5.6 and later cache at explicit breakpoints)
              CASE WHEN c.priced_provider IN ('openai', 'azure') AND c.p_cache_write IS NULL
                   THEN 128 ELSE 1 END AS step,
              CASE WHEN st.tokens >= r.min_tokens THEN least(st.tokens, c.input_tokens)
                   ELSE 0 END AS sys_prefix
            FROM {base} c
            JOIN sv_pc_rules r USING (priced_provider, model_key)
            LEFT JOIN {sys_table} st USING (system_hash, priced_provider, model_key)
            WHERE c.cost_usd IS NOT NULL AND c.p_cache_read IS NOT NULL AND c.ts IS NOT NULL
              AND c.input_tokens > 0
              AND c.request_id NOT IN (SELECT request_id FROM {repeats})"""
    )
    # Conversation continuation: the previous call (same session and model) whose messages
    # are a prefix of this call's messages.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_pc_chain AS
            WITH s AS (
              SELECT request_id, prompt_hash, input_tokens, ts,
                lag(prompt_hash) OVER w AS prev_hash, lag(input_tokens) OVER w AS prev_input,
                epoch(ts) - epoch(lag(ts) OVER w) AS gap
              FROM sv_pc_elig WHERE session_id IS NOT NULL AND prompt_hash IS NOT NULL
              WINDOW w AS (PARTITION BY session_id, priced_provider, model_key
                           ORDER BY ts, request_id)),
            cand AS (
              SELECT * FROM s WHERE prev_hash IS NOT NULL AND prev_hash <> prompt_hash
                AND input_tokens > prev_input AND gap <= {TTL_1H_SECONDS}),
            texts2 AS (
              SELECT cand.request_id, cand.prev_input, cand.gap, a.text AS this_text,
                rtrim(b.text, ' ]') AS prev_prefix
              FROM cand JOIN texts a ON a.hash = cand.prompt_hash
              JOIN texts b ON b.hash = cand.prev_hash
              WHERE a.kind = 'messages' AND b.kind = 'messages')
            SELECT request_id, prev_input, gap FROM texts2
            WHERE starts_with(this_text, prev_prefix)
              AND starts_with(ltrim(substr(this_text, length(prev_prefix) + 1)), ',')"""
    )
    # The two orderings are computed over narrow rows, and each only where it is read: the
    # family gaps for calls with a system prefix, the next call of the session for calls
    # with a session (a window over every call would sort all the sessionless calls as one
    # partition, on one thread).
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_pc_calls AS
            WITH fam AS (
              SELECT request_id,
                epoch(ts) - epoch(lag(ts) OVER fam) AS sys_gap,
                epoch(lead(ts) OVER fam) - epoch(ts) AS next_sys_gap
              FROM sv_pc_elig WHERE sys_prefix > 0
              WINDOW fam AS (PARTITION BY priced_provider, model_key, system_hash
                             ORDER BY ts, request_id)),
            ses AS (
              SELECT e.request_id,
                lead(coalesce(ch.gap, 1e18)) OVER ses AS next_chain_gap,
                lead(ch.prev_input) OVER ses AS next_prev_input
              FROM sv_pc_elig e LEFT JOIN sv_pc_chain ch USING (request_id)
              WHERE e.session_id IS NOT NULL
              WINDOW ses AS (PARTITION BY e.session_id, e.priced_provider, e.model_key
                             ORDER BY e.ts, e.request_id)),
            e AS (
              SELECT e.*, ch.prev_input, coalesce(ch.gap, 1e18) AS chain_gap,
                fam.sys_gap, fam.next_sys_gap, ses.next_chain_gap, ses.next_prev_input
              FROM sv_pc_elig e LEFT JOIN sv_pc_chain ch USING (request_id)
              LEFT JOIN fam USING (request_id) LEFT JOIN ses USING (request_id)),
            r AS (SELECT *, {_reads(TTL_SECONDS)}, {_reads(TTL_1H_SECONDS)} FROM e),
            w AS (SELECT *, {_writes(TTL_SECONDS)}, {_writes(TTL_1H_SECONDS)} FROM r)
            SELECT request_id, priced_provider, model, model_key, system_hash, sys_prefix,
              ttl_1h, input_tokens, current_usd, p_input, cache_read_tokens,
              read_{TTL_SECONDS}, write_{TTL_SECONDS},
              {_simulated(TTL_SECONDS, "coalesce(p_cache_write, p_input)")},
              read_{TTL_1H_SECONDS}, write_{TTL_1H_SECONDS},
              {_simulated(TTL_1H_SECONDS, "coalesce(p_cache_write_1h, p_cache_write, p_input)")}
            FROM w"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_pc_families AS
            WITH f AS (
              SELECT priced_provider AS provider, model_key, system_hash,
                any_value(model ORDER BY model) AS model, count(*) AS calls,
                max(sys_prefix) AS prefix_tokens, bool_or(ttl_1h) AS ttl_1h,
                sum(current_usd) AS current_usd,
                sum(input_tokens * p_input) - sum(current_usd) AS already_saved_usd,
                sum(current_usd) - sum(sim_{TTL_SECONDS}) AS saving_5m,
                sum(current_usd) - sum(sim_{TTL_1H_SECONDS}) AS saving_1h,
                count(*) FILTER (WHERE read_{TTL_SECONDS} > 0) AS reads_5m,
                count(*) FILTER (WHERE write_{TTL_SECONDS} > 0) AS writes_5m,
                count(*) FILTER (WHERE read_{TTL_1H_SECONDS} > 0) AS reads_1h,
                count(*) FILTER (WHERE write_{TTL_1H_SECONDS} > 0) AS writes_1h,
                sum(sim_{TTL_SECONDS}) AS sim_5m, sum(sim_{TTL_1H_SECONDS}) AS sim_1h
              FROM sv_pc_calls GROUP BY priced_provider, model_key, system_hash)
            SELECT *, CASE WHEN ttl_1h AND saving_1h > saving_5m THEN '1h' ELSE '5m' END AS ttl
            FROM f"""
    )
    families = rows(
        con,
        """SELECT f.provider, f.model, f.model_key, f.system_hash, f.calls, f.ttl,
             CASE WHEN f.ttl = '1h' THEN reads_1h ELSE reads_5m END AS cache_reads,
             CASE WHEN f.ttl = '1h' THEN writes_1h ELSE writes_5m END AS cache_writes,
             f.prefix_tokens, f.current_usd AS input_cost_usd,
             CASE WHEN f.ttl = '1h' THEN sim_1h ELSE sim_5m END AS with_caching_usd,
             f.already_saved_usd,
             CASE WHEN f.ttl = '1h' THEN saving_1h ELSE saving_5m END AS saving_usd,
             t.text AS system_text
           FROM sv_pc_families f LEFT JOIN texts t ON t.hash = f.system_hash
           WHERE (CASE WHEN f.ttl = '1h' THEN saving_1h ELSE saving_5m END) > 1e-9
           ORDER BY saving_usd DESC, f.provider, f.model_key, f.system_hash""",
    )
    total = sum(float(f["saving_usd"]) for f in families)
    for f in families:
        for key in ("input_cost_usd", "with_caching_usd", "already_saved_usd", "saving_usd"):
            f[key] = usd(f[key])
        f["prefix_tokens"] = int(round(f["prefix_tokens"] or 0))
        f["preview"] = (
            preview(f.pop("system_text"))
            if f["system_hash"]
            else ("(no system prompt: conversation history only)")
        )
    savings.offer(
        con,
        ctx,
        "prompt_caching",
        """WITH best AS (
             SELECT provider AS priced_provider, model_key, system_hash, ttl,
               CASE WHEN ttl = '1h' THEN saving_1h ELSE saving_5m END AS saving, current_usd
             FROM sv_pc_families)
           SELECT c.request_id, b.saving * c.current_usd / b.current_usd AS usd,
             concat_ws(' ', c.priced_provider, c.model_key, c.system_hash) AS block
           FROM sv_pc_calls c JOIN best b
             ON b.priced_provider = c.priced_provider AND b.model_key = c.model_key
            AND b.system_hash IS NOT DISTINCT FROM c.system_hash
           WHERE b.saving > 1e-9 AND b.current_usd > 0""",
        ASSUMPTION + "; the saving of a family is shared by its calls in proportion to their "
        "input cost",
        {"section": "cache.prompt_caching", "families": len(families)},
        blocks=True,  # a family's reads need its writes: its saving is not the calls' alone
    )
    counts = rows(
        con,
        f"""SELECT count(*) AS calls,
              count(*) FILTER (WHERE cost_usd IS NOT NULL AND p_cache_read IS NULL)
                AS no_cache_price,
              count(*) FILTER (WHERE system_hash IS NULL AND session_id IS NULL) AS no_prefix_text,
              count(*) FILTER (WHERE ts IS NULL) AS no_timestamp
            FROM {base}""",
    )[0]
    considered = con.execute("SELECT count(*) FROM sv_pc_calls").fetchone()[0]
    notes = []
    if counts["no_prefix_text"]:
        notes.append(
            f"{plural(counts['no_prefix_text'], 'call has', 'calls have')} no system prompt and "
            "no session id: their shared prefixes cannot be seen"
        )
    if counts["no_cache_price"]:
        notes.append(
            f"{plural(counts['no_cache_price'], 'priced call is', 'priced calls are')} on models "
            "with no cache price in the pricing tables: left out"
        )
    if counts["no_timestamp"]:
        notes.append(
            f"{plural(counts['no_timestamp'], 'call has', 'calls have')} no timestamp: left out"
        )
    return {
        "usd": round(total, 9),
        "calls_considered": considered,
        "families": families[: ctx.top],
        "family_count": len(families),
        "ttl_seconds": {"5m": TTL_SECONDS, "1h": TTL_1H_SECONDS},
        "assumption": ASSUMPTION,
        "notes": notes,
    }
