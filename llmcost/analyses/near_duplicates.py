"""Near-duplicate prompts: the same question asked again in slightly different words.

A semantic cache could answer these. Found without any model download, by lexical
similarity, in SQL:

1. the compared text is the non-system part of the prompt (the user's messages), lower-cased,
   split into words at every run of non-alphanumeric characters; a text longer than 3,000
   characters is compared on its first 2,000 and last 1,000 (``HEAD_CHARS``, ``TAIL_CHARS``);
2. its *shingles* are the hashed word 3-grams (a text of fewer than 3 words is one shingle);
3. MinHash by one-permutation hashing: the shingle hashes fall into ``BINS`` bins, and the
   minimum per bin is the signature. The share of equal bins (among bins filled in either
   text) estimates the Jaccard similarity of the two shingle sets (standard error about
   sqrt(J(1-J)/64), ±0.05 near 0.8);
4. candidates come from locality-sensitive hashing: ``BANDS`` bands of ``BINS / BANDS``
   bins; texts with an identical band are candidates. Within one band bucket, each text is
   compared with the bucket's earliest text and with the one just before it;
5. candidate pairs of short texts (both at most ``EXACT_MAX`` shingles) are scored with their
   exact Jaccard similarity, longer ones with the MinHash estimate;
6. only the ``MAX_DOCS`` most recent distinct prompts are compared (a time bound for big
   logs; the result says so when it applies);
7. a prompt is a near-duplicate when an EARLIER prompt of the same model and system prompt,
   whose call was answered (not failed), has estimated Jaccard >= the threshold
   (``savings.near_duplicate_threshold``, 0.8).

Only the first call of each distinct prompt is considered: later calls with the very same
prompt are exact repeats (counted by the response-cache estimate), so nothing is counted
twice. Lexical similarity finds reworded/retyped copies, not paraphrases with other words.
"""

from __future__ import annotations

from llmcost.analyses import line_usd, local_iso, rows, savings, usd
from llmcost.analyses.redact import preview
from llmcost.analyses.settings import settings
from llmcost.attribution import FAILED_WITHOUT_USAGE, without_tokens

HEAD_CHARS = 2000  # the compared text: its first 2,000 and last 1,000 characters
TAIL_CHARS = 1000
MAX_DOCS = 10000  # the most recent distinct prompts compared (bounds the time on big logs)
BINS = 64
EXACT_MAX = 64  # texts of at most this many shingles are compared exactly
BANDS = 16

ASSUMPTION = (
    "a semantic cache answers a prompt that is nearly identical (Jaccard similarity of word "
    "3-shingles at or above the threshold) to an earlier prompt of the same model and system "
    "prompt; whether the earlier answer fits is not checked"
)

# The user part of a prompt. A chat prompt is parsed once, into (role, content) pairs: a
# content that is not a string (a list of parts, a number) reads as its JSON text, a message
# without a role counts as the user's. A Responses API input's tool items have no content:
# a function_call's is its arguments, a function_call_output's its output (without them, an
# agent's next turn, its question then a tool call and the tool's answer, read as its first
# turn again: a near-duplicate a semantic cache would answer with the first turn's tool
# call). (A 'messages' text that is not a JSON list gives NULL here, no words, like the
# empty text it would otherwise give.)
_USER_TEXT = """CASE WHEN kind = 'messages' THEN array_to_string(list_transform(
      list_filter(from_json(text, '[{"role": "VARCHAR", "content": "VARCHAR",
                                     "arguments": "VARCHAR", "output": "VARCHAR"}]'),
                  lambda m: coalesce(m.role, 'user') NOT IN ('system', 'developer')),
      lambda m: concat_ws(' ', m.content, m.arguments, m.output)), ' ')
    WHEN system_text IS NOT NULL AND starts_with(text, system_text)
    THEN substr(text, length(system_text) + 1)
    ELSE text END"""


def _band_slots(names_only: bool = False, match: bool = False) -> str:
    """A band as ``BINS / BANDS`` columns, one per bin of the band: the bin's minimum, NULL
    where the text has no shingle in that bin. Two texts have an identical band when these
    columns are equal (NULL = NULL), that is, the same bins filled with the same minima.
    ``names_only``: the column names; ``match``: the condition that ``s`` and ``k`` have
    equal slots."""
    width = BINS // BANDS
    if names_only:
        return ", ".join(f"b{i}" for i in range(width))
    if match:
        return " AND ".join(f"s.b{i} IS NOT DISTINCT FROM k.b{i}" for i in range(width))
    return ", ".join(f"max(s.v) FILTER (WHERE s.bin % {width} = {i}) AS b{i}" for i in range(width))


def near_duplicates(con, ctx) -> dict:
    from llmcost.analyses.cache import exact_repeats

    threshold = settings(ctx).near_duplicate_threshold
    base = savings.base(con, ctx)
    repeats = exact_repeats(con, ctx)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_nd_docs AS
            WITH firsts AS (
              SELECT c.request_id, c.model, c.system_hash, c.prompt_hash, c.ts, c.is_priced,
                c.cost_usd, c.status, c.input_tokens,
                c.source, c.source_line, coalesce(c.status, 'ok') <> 'error' AS answered
              FROM {base} c
              WHERE c.prompt_hash IS NOT NULL
                AND c.request_id NOT IN (SELECT request_id FROM {repeats})
              ORDER BY c.ts DESC NULLS LAST, c.request_id DESC LIMIT {MAX_DOCS})
            SELECT request_id, model, system_hash, prompt_hash, ts, is_priced, cost_usd,
              status, input_tokens, source, source_line AS line, answered,
              row_number() OVER (ORDER BY ts NULLS LAST, request_id) AS doc
            FROM firsts"""
    )
    con.execute(
        # The words are the runs of [a-z0-9]: what splitting at every run of other characters
        # leaves. A text without words gives an empty list, not a filter: a filter on the
        # words would compute them twice. Only the compared part is lower-cased (lower() maps
        # each character to one character, so the cut is the same before or after it).
        f"""CREATE OR REPLACE TEMP TABLE sv_nd_shingles AS
            WITH src AS (
              SELECT d.doc, t.kind, t.text, s.text AS system_text
              FROM sv_nd_docs d JOIN texts t ON t.hash = d.prompt_hash
              LEFT JOIN texts s ON s.hash = d.system_hash),
            users AS (SELECT doc, {_USER_TEXT} AS x FROM src),
            words AS (
              SELECT doc, regexp_extract_all(
                  CASE WHEN length(x) > {HEAD_CHARS + TAIL_CHARS}
                       THEN lower(left(x, {HEAD_CHARS})) || ' ' || lower(right(x, {TAIL_CHARS}))
                       ELSE lower(x) END,
                  '[a-z0-9]+') AS w
              FROM users)
            SELECT DISTINCT doc, unnest(CASE WHEN len(w) = 0 THEN []
                WHEN len(w) < 3 THEN [hash(array_to_string(w, ' '))]
                ELSE list_transform(range(1, len(w) - 1),
                                    lambda i: hash(w[i], w[i + 1], w[i + 2])) END) AS h
            FROM words"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_nd_sig AS
            SELECT doc, h % {BINS} AS bin, min(h // {BINS}) AS v
            FROM sv_nd_shingles GROUP BY doc, bin"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_nd_pairs AS
            WITH bands AS (
              SELECT s.doc, s.bin // {BINS // BANDS} AS band, {_band_slots()}
              FROM sv_nd_sig s GROUP BY s.doc, band),
            keyed AS (
              SELECT b.*, d.model, coalesce(d.system_hash, '') AS fam
              FROM bands b JOIN sv_nd_docs d USING (doc)),
            shared AS (  -- the band buckets of two texts or more: the others give no pair
              SELECT model, fam, band, {_band_slots(names_only=True)} FROM keyed
              GROUP BY ALL HAVING count(*) > 1),
            cand AS (
              SELECT doc,
                first_value(doc) OVER g AS first_doc, lag(doc) OVER g AS prev_doc
              FROM keyed k SEMI JOIN shared s
                ON s.model = k.model AND s.fam = k.fam AND s.band = k.band
               AND {_band_slots(match=True)}
              WINDOW g AS (
                PARTITION BY model, fam, band, {_band_slots(names_only=True)} ORDER BY doc)),
            pairs AS (
              SELECT DISTINCT doc, other FROM (
                SELECT doc, first_doc AS other FROM cand WHERE first_doc < doc
                UNION ALL SELECT doc, prev_doc FROM cand WHERE prev_doc IS NOT NULL))
            SELECT doc, other FROM pairs"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_nd_matches AS
            WITH sizes AS (SELECT doc, count(*) AS n FROM sv_nd_shingles GROUP BY doc),
            filled AS (SELECT doc, count(*) AS bins FROM sv_nd_sig GROUP BY doc),
            p AS (
              SELECT p.doc, p.other, sa.n AS na, sb.n AS nb
              FROM sv_nd_pairs p JOIN sizes sa ON sa.doc = p.doc
              JOIN sizes sb ON sb.doc = p.other),
            exact AS (  -- short texts: the exact Jaccard similarity of the shingle sets
              SELECT p.doc, p.other, count(*) / (any_value(p.na) + any_value(p.nb) - count(*)) AS j
              FROM p JOIN sv_nd_shingles a ON a.doc = p.doc
              JOIN sv_nd_shingles b ON b.doc = p.other AND b.h = a.h
              WHERE p.na <= {EXACT_MAX} AND p.nb <= {EXACT_MAX}
              GROUP BY p.doc, p.other),
            estimated AS (  -- long texts: the MinHash estimate
              SELECT p.doc, p.other, count(*) FILTER (WHERE a.v = b.v)
                / (any_value(fa.bins) + any_value(fb.bins) - count(*)) AS j
              FROM p JOIN sv_nd_sig a ON a.doc = p.doc
              JOIN sv_nd_sig b ON b.doc = p.other AND b.bin = a.bin
              JOIN filled fa ON fa.doc = p.doc JOIN filled fb ON fb.doc = p.other
              WHERE p.na > {EXACT_MAX} OR p.nb > {EXACT_MAX}
              GROUP BY p.doc, p.other),
            scored AS (SELECT * FROM exact UNION ALL SELECT * FROM estimated)
            SELECT doc, first(other ORDER BY j DESC, other) AS other, max(j) AS similarity
            FROM scored  -- the earlier prompt's call was answered: a failed one has no answer
            WHERE j >= ? AND other IN (SELECT doc FROM sv_nd_docs WHERE answered)
            GROUP BY doc""",
        [threshold],
    )
    totals = rows(
        con,
        f"""SELECT (SELECT count(*) FROM {base} WHERE prompt_hash IS NOT NULL) AS with_text,
              (SELECT count(*) FROM sv_nd_docs) AS distinct_prompts,
              (SELECT count(*) FROM {base} WHERE prompt_hash IS NOT NULL AND request_id NOT IN
                 (SELECT request_id FROM {repeats})) AS distinct_prompts_total,
              count(*) AS calls, sum(d.cost_usd) AS usd,
              count(*) FILTER (WHERE NOT d.is_priced) AS unpriced,
              -- a priced model's calls without token counts: not unpriced; as Cost by model
              -- counts them (a failed call without usage is not billed, no call 'without
              -- tokens' beside a saving, unless they are all the calls without a cost)
              {without_tokens("is_priced AND cost_usd IS NULL")} AS unknown,
              count(*) FILTER (WHERE {FAILED_WITHOUT_USAGE}) AS failed_unknown
            FROM sv_nd_matches m JOIN sv_nd_docs d USING (doc)""",
    )[0]
    top = rows(
        con,
        """WITH top AS (
             SELECT d.doc, d.model, d.cost_usd AS usd,
               -- a call without a cost, by why (as the line's): its row says which
               CAST(NOT d.is_priced AS INTEGER) AS unpriced_requests,
               CAST(d.is_priced AND d.cost_usd IS NULL AS INTEGER) AS unknown_token_requests,
               m.similarity, d.ts, o.ts AS earlier_ts,
               d.source, d.line, o.source AS earlier_source, o.line AS earlier_line,
               d.prompt_hash, o.prompt_hash AS earlier_hash
             FROM sv_nd_matches m JOIN sv_nd_docs d USING (doc)
             JOIN sv_nd_docs o ON o.doc = m.other
             ORDER BY d.cost_usd DESC NULLS LAST, d.doc LIMIT ?)
           SELECT top.* EXCLUDE (doc, prompt_hash, earlier_hash),
             t.text AS prompt_text, t.kind, ot.text AS earlier_text, ot.kind AS earlier_kind
           FROM top LEFT JOIN texts t ON t.hash = top.prompt_hash
           LEFT JOIN texts ot ON ot.hash = top.earlier_hash
           ORDER BY top.usd DESC NULLS LAST, top.doc""",
        [ctx.top],
    )
    for item in top:
        item["usd"] = usd(item["usd"])
        item["similarity"] = round(float(item["similarity"]), 3)
        for key in ("ts", "earlier_ts"):
            item[key] = local_iso(ctx, item[key])
        item["preview"] = preview(_last_message(item.pop("prompt_text"), item.pop("kind")))
        item["earlier_preview"] = preview(
            _last_message(item.pop("earlier_text"), item.pop("earlier_kind"))
        )
    savings.offer(
        con,
        ctx,
        "semantic_cache",
        """SELECT d.request_id, d.cost_usd AS usd
           FROM sv_nd_matches m JOIN sv_nd_docs d USING (doc) WHERE d.cost_usd IS NOT NULL""",
        ASSUMPTION,
        {"section": "cache.near_duplicates", "threshold": threshold},
        uncosted=totals["unpriced"] + totals["unknown"],
    )
    with_text = totals["with_text"]
    note = None if with_text else "no prompt text in the logs: near-duplicates cannot be found"
    if totals["distinct_prompts_total"] > totals["distinct_prompts"]:
        note = (
            f"only the {totals['distinct_prompts']:,} most recent of "
            f"{totals['distinct_prompts_total']:,} distinct prompts were compared (time bound); "
            "the share is over the calls compared"
        )
        with_text = totals["distinct_prompts"]
    return {
        "requests": totals["calls"],
        "share": (totals["calls"] / with_text) if with_text else 0.0,
        # of the calls with a cost; None when none has one (unknown, never $0)
        "usd": line_usd(totals["usd"], totals["calls"]),
        "unpriced_requests": totals["unpriced"],  # not counted as $0
        "unknown_token_requests": totals["unknown"],  # nor these
        # the failed calls without usage (not billed): in the former only when they are all
        # the calls without a cost
        "error_unknown_token_requests": totals["failed_unknown"],
        "distinct_prompts": totals["distinct_prompts"],
        "threshold": threshold,
        "method": f"MinHash ({BINS} bins, {BANDS} LSH bands) over word 3-shingles of the "
        f"user messages (first {HEAD_CHARS} and last {TAIL_CHARS} characters), same model "
        "and system prompt",
        "top": top,
        "assumption": ASSUMPTION,
        "note": note,
    }


def _last_message(text: str | None, kind: str | None) -> str | None:
    if text is None or kind != "messages":
        return text
    import json

    try:
        messages = json.loads(text)
        content = messages[-1].get("content")
    except (ValueError, AttributeError, IndexError, TypeError):
        return text
    if content is None:  # null or none (a tool call's output): no text, not "null"
        return None
    return content if isinstance(content, str) else json.dumps(content)
