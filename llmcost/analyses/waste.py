"""Output waste: truncated answers, failed-but-billed calls, retries, runaway generations,
and ``max_tokens`` caps far above what is used.

* **Truncated**: ``finish_reason`` length — the whole cost bought an answer that was cut off.
  Shown, but not counted as a saving (the answer is usually needed; the fix is a larger cap
  or a shorter answer, not skipping the call).
* **Failed but billed**: ``status`` error with a cost: paid for nothing.
* **Retries**: the same prompt to the same model from the same user and session within
  ``savings.retry_seconds`` (60) of the previous one. After a FAILED call a retry is
  legitimate (the failed call is the waste); after a SUCCESSFUL call the retry itself is
  waste (a client that re-sends, a double click, a retry loop).
* **Runaway generations**: per feature and model (groups of at least ``MIN_GROUP`` successful
  calls), an output above median + k x sigma, sigma = 1.4826 x MAD (the median absolute
  deviation, a robust standard deviation), floored at 10% of the median so that near-constant
  outputs do not flag tiny deviations; k = ``savings.runaway_k`` (5), that did NOT finish on
  its own: cut at ``max_tokens``, stopped by a filter, or with no finish reason in the log. A
  long answer that ended normally (``finish_reason`` stop, i.e. end of turn or a stop
  sequence, or a tool call) is an answer the model had finished, often one the user asked
  for: a cap at the threshold would have cut it, so it is listed apart (``long_finished``)
  with no dollars. The saving counted is the output above the threshold, at the call's
  output price: what a ``max_tokens`` cap at the threshold would have cut. A runaway call
  without a cost (an unpriced model, or input tokens the log does not give) saves nothing
  here: it is counted (``unpriced_calls``).
* **Looping answers** are runaways too, finished or not: a long answer (above the same
  threshold, so only the few long ones are read) that repeats itself, "the the the", one
  paragraph again and again, a list that starts over. Its text is cut into words (runs of
  letters, digits and ``_``, lower-cased; each Han or kana character is a word, as those
  scripts put no spaces between words) after the list markers that start a line (``12.``,
  ``3)``, ``-``, ``*``, ``+``) are taken out, so that a list that repeats its items under new
  numbers repeats. Its repeated share is the share of its word ``LOOP_N``-grams (8) that it
  says for the third time or more. Saying a thing twice is common in an honest answer (code
  before and after a change, a summary that restates); a loop says it again and again. An
  answer that says everything k times is at (k - 2) / k: 0 twice, 0.33 three times, 0.5
  four times. It is looping when that share is at least ``savings.loop_share`` (0.5).
  Measured on long honest answers (a real 4,000-character Markdown answer with nested
  lists, and tests/data/analyses/long_answers: long Markdown and numeric tables, a JSON array
  of 80 records with enum fields, an HTML form, a numbered list of one pattern, a Django
  test class of forty near-identical tests; also a CSV and llmcost's own Python files) the
  share was 0 to 0.22 (the Django tests); a Python file given before and after a change
  0.01, the same file in three versions 0.34. Answers that loop (a word repeated to the end,
  a paragraph ten times, an answer followed by one sentence forty times, a list cycling over
  five items under new numbers, a test function written sixty times) were at 0.55 to 0.95;
  an answer whose second half comes three more times is at 0.40, not flagged. The share of
  8-grams said before at all (1 - distinct / all, the "seq-rep-n" of the text-degeneration
  literature) put the before-and-after file at 0.50, on a threshold that must catch loops;
  with 4-grams, the JSON records and the Django tests were at 0.44 and 0.53, hence 8-grams
  (a longer n misses loops whose lines are shorter, with a counter in each). An answer of
  fewer than ``LOOP_MIN_WORDS`` words (100) is not judged: a share of a few words says
  little, and a long answer of few words spent its tokens elsewhere (reasoning). The saving
  counted is the same as for the others: the output above the threshold, what a cap there
  would have cut (here the loop, not the answer).
* **Caps**: per feature, the p99 of real outputs (successful, not truncated) rounded up to a
  multiple of 64 is the suggested ``max_tokens``. A lower cap does not lower cost by itself
  (a call pays for what it generates): it is risk control against runaways, so no dollars
  are counted for it.
"""

from __future__ import annotations

from llmcost.analyses import line_usd, local_iso, register, rows, savings, usd
from llmcost.analyses.settings import settings
from llmcost.attribution import FAILED_WITHOUT_USAGE, without_tokens

MIN_GROUP = 10
MAD_SCALE = 1.4826
MEDIAN_FLOOR = 0.1
CAP_ROUND = 64
HEADROOM = 2  # a cap is "far above" use when the median max_tokens exceeds HEADROOM x p99
# finish reasons (as the adapters normalize them) of an answer the model ended itself
FINISHED = ("stop", "tool_calls")
LOOP_N = 8  # looping: word n-grams of this length
LOOP_MIN_WORDS = 100  # ... judged on answers of at least this many words
# A word: one Han or kana character, else a run of letters, digits and _.
WORD_RE = r"[\p{Han}\p{Hiragana}\p{Katakana}]|[\pL\pN_]+"
# The marker that opens a list item: '12.', '3)', '-', '*' or '+' at the start of a line.
LIST_MARKER_RE = r"(?m)^[ \t]*(?:[0-9]+[.)]|[-*+])[ \t]+"

FAILED_ASSUMPTION = (
    "failed calls that were still billed bought nothing; fixing their cause saves their cost"
)
RETRY_ASSUMPTION = (
    "a call that repeats the same prompt to the same model from the same user and session "
    "within seconds of a successful call is a retry the client did not need"
)
RUNAWAY_ASSUMPTION = (
    "outputs far above their feature's usual length (median + k x robust sigma) that did not "
    "finish on their own (cut at max_tokens, stopped by a filter, or no finish reason logged) "
    "or that loop (a share of their word 8-grams said for the third time or more) are runaway "
    "generations; a max_tokens cap at that threshold cuts the excess"
)
LONG_FINISHED_NOTE = (
    "answers above the same threshold that finished normally (stop or tool call) and do not "
    "loop: not counted as a saving, the model had finished them and a cap would have cut them"
)


def _money(items: list[dict], *keys: str) -> list[dict]:
    for item in items:
        for key in keys:
            item[key] = usd(item[key])
    return items


@register("waste", "Output waste", order=64)
def waste(con, ctx) -> dict:
    cfg = settings(ctx)
    base = savings.base(con, ctx)
    top = ctx.top
    truncated = _money(
        rows(
            con,
            f"""SELECT coalesce(feature, '(none)') AS feature, model, count(*) AS calls,
                  sum(cost_usd) AS usd, count(*) FILTER (WHERE NOT is_priced) AS unpriced_calls,
                  -- a priced model's calls without token counts: no cost either, not unpriced
                  count(*) FILTER (WHERE is_priced AND cost_usd IS NULL) AS unknown_token_calls,
                  median(max_tokens) AS max_tokens
                FROM {base} WHERE finish_reason = 'length' GROUP BY ALL
                ORDER BY usd DESC NULLS LAST, calls DESC, feature, model""",
        ),
        "usd",
    )
    failed = _money(
        rows(
            con,
            f"""SELECT coalesce(feature, '(none)') AS feature, model, count(*) AS calls,
                  sum(cost_usd) AS usd
                FROM {base} WHERE status = 'error' AND cost_usd > 0 GROUP BY ALL
                ORDER BY usd DESC, calls DESC, feature, model""",
        ),
        "usd",
    )
    # failed calls without a cost: of models without a price (billed or not, unknown), and
    # of priced ones whose log has no usage (an error before any token was processed is not
    # billed: cost unknown, no call 'unpriced')
    failed_unpriced, failed_unknown = con.execute(
        f"""SELECT count(*) FILTER (WHERE NOT is_priced),
              count(*) FILTER (WHERE is_priced AND cost_usd IS NULL)
            FROM {base} WHERE status = 'error'"""
    ).fetchone()
    savings.offer(
        con,
        ctx,
        "failed_calls",
        f"SELECT request_id, cost_usd AS usd FROM {base} WHERE status = 'error'",
        FAILED_ASSUMPTION,
        {"section": "waste.failed"},
        # (not the failed calls without usage: an error before any token was processed is
        # not billed, no saving of an unknown amount)
        uncosted=failed_unpriced,
    )
    # Only calls whose (model, prompt, user, session) comes more than once can follow an
    # earlier one: the window runs over those alone.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_retries AS
            WITH again AS (
              SELECT model, prompt_hash, user_id, session_id
              FROM {base} WHERE prompt_hash IS NOT NULL AND ts IS NOT NULL
              GROUP BY ALL HAVING count(*) > 1)
            SELECT * FROM (
              SELECT request_id, feature, model, is_priced, cost_usd, status, input_tokens, ts,
                source, source_line,
                epoch(ts) - epoch(lag(ts) OVER w) AS gap, lag(status) OVER w AS prev_status
              FROM {base} c SEMI JOIN again a
                ON a.model = c.model AND a.prompt_hash = c.prompt_hash
                AND a.user_id IS NOT DISTINCT FROM c.user_id
                AND a.session_id IS NOT DISTINCT FROM c.session_id
              WHERE c.prompt_hash IS NOT NULL AND c.ts IS NOT NULL
              WINDOW w AS (PARTITION BY model, prompt_hash, user_id, session_id
                           ORDER BY ts, request_id))
            WHERE gap <= ?""",
        [cfg.retry_seconds],
    )
    # the retries in no cost, by why: of models without a price, and a priced model's
    # retries without token counts, as Cost by model counts them (attribution.without_tokens),
    # and apart the retries that failed without usage: not billed, but what the row is of
    # (a client that re-sent a call that had succeeded and was rate-limited), so said as such
    uncosted = f"""count(*) FILTER (WHERE NOT is_priced) AS unpriced_calls,
             {without_tokens("is_priced AND cost_usd IS NULL")} AS unknown_token_calls,
             count(*) FILTER (WHERE {FAILED_WITHOUT_USAGE}) AS error_unknown_token_calls"""
    retries = rows(
        con,
        f"""SELECT (SELECT count(*) FROM sv_retries WHERE prev_status = 'error') AS after_failure,
             count(*) AS after_success, sum(cost_usd) AS usd, {uncosted}
           FROM sv_retries WHERE coalesce(prev_status, 'ok') <> 'error'""",
    )[0]
    # None when no retry has a cost (unknown, never $0)
    retries["usd"] = line_usd(retries["usd"], retries["after_success"])
    retries["seconds"] = cfg.retry_seconds
    retries["top"] = _money(
        rows(
            con,
            f"""SELECT coalesce(feature, '(none)') AS feature, model, count(*) AS calls,
                 sum(cost_usd) AS usd,
                 -- the retries in no cost, by why (as the line's): its row says which
                 {uncosted},
                 min(ts) AS first_ts,
                 first({{'source': source, 'line': source_line}}
                       ORDER BY ts, source, source_line) AS example
               FROM sv_retries WHERE coalesce(prev_status, 'ok') <> 'error'
               GROUP BY ALL ORDER BY usd DESC NULLS LAST, calls DESC, feature, model LIMIT ?""",
            [top],
        ),
        "usd",
    )
    for item in retries["top"]:
        item["first_ts"] = local_iso(ctx, item["first_ts"])
    # the groups past --top, summed as one group is (its calls in no cost by the same rule):
    # a table of the 10 costliest said nothing of the others
    retries["groups"], retries["other_groups"] = _retry_rest(con, top, uncosted)
    savings.offer(
        con,
        ctx,
        "retries",
        "SELECT request_id, cost_usd AS usd FROM sv_retries "
        "WHERE coalesce(prev_status, 'ok') <> 'error'",
        RETRY_ASSUMPTION,
        {"section": "waste.retries", "seconds": cfg.retry_seconds},
        uncosted=retries["unpriced_calls"] + retries["unknown_token_calls"],
    )
    k = float(cfg.runaway_k)
    loop_share = float(cfg.loop_share)
    finished = ", ".join(f"'{f}'" for f in FINISHED)
    unfinished = f"coalesce(c.finish_reason NOT IN ({finished}), TRUE)"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_runaway_groups AS
            WITH ok AS (
              SELECT coalesce(feature, '(none)') AS feature, model, output_tokens
              FROM {base} WHERE status = 'ok' AND output_tokens IS NOT NULL),
            med AS (
              SELECT feature, model, count(*) AS n, median(output_tokens) AS median
              FROM ok GROUP BY ALL HAVING count(*) >= {MIN_GROUP}),
            mad AS (
              SELECT o.feature, o.model, median(abs(o.output_tokens - m.median)) AS mad
              FROM ok o JOIN med m USING (feature, model) GROUP BY ALL)
            SELECT m.feature, m.model, m.n, m.median, d.mad,
              m.median + {k} * greatest({MAD_SCALE} * d.mad, {MEDIAN_FLOOR} * m.median)
                AS threshold
            FROM med m JOIN mad d USING (feature, model)"""
    )
    # The long answers: above their group's threshold, each with the repeated share of its
    # text (NULL: no text in the log, or too short to judge). Only their texts are read.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_long AS
            SELECT c.request_id, g.feature, c.model, c.output_tokens, g.threshold, g.median,
              c.cost_usd, c.p_output, c.finish_reason, c.source, c.source_line,
              c.completion_hash, {unfinished} AS unfinished
            FROM {base} c JOIN sv_runaway_groups g
              ON g.feature = coalesce(c.feature, '(none)') AND g.model = c.model
            WHERE c.output_tokens > g.threshold"""
    )
    # Each text once (its n-grams are made per text, not per call): list markers out, then
    # the words, then the hashes of its word LOOP_N-grams, sorted: there an n-gram equal to
    # the one two places before it is the third (or a later) time the answer says it. An
    # n-gram is hash(w[i], ..., w[i + 7]), not hash(w[i:i + 7]): a slice builds a list per
    # n-gram, 35 times slower (5,000 texts of 1,500 words: 300 s against 8.4 s).
    ngram = "hash(" + ", ".join(f"w[i + {k}]" for k in range(LOOP_N)) + ")"
    # The long answers' texts first, on their own: in one query, the filter on the number of
    # words went below the join, and the words of every text of the log were made (0.5 s of
    # the benchmark's 200,000-call log, which has no long answer; this way, 3 ms).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE sv_long_texts AS
           SELECT t.hash, t.text FROM texts t SEMI JOIN sv_long l ON l.completion_hash = t.hash"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sv_repeats AS
            WITH words AS (
              SELECT hash, regexp_extract_all(lower(regexp_replace(text, ?, '', 'g')), ?) AS w
              FROM sv_long_texts),
            grams AS (
              SELECT hash, list_sort(list_transform(range(1, len(w) - {LOOP_N} + 2),
                                                    lambda i: {ngram})) AS g
              FROM words WHERE len(w) >= {LOOP_MIN_WORDS})
            SELECT hash,
              len(list_filter(range(3, len(g) + 1), lambda i: g[i] = g[i - 2])) / len(g)
                AS repeated
            FROM grams""",
        [LIST_MARKER_RE, WORD_RE],
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE sv_long_judged AS
           SELECT l.*, r.repeated, coalesce(r.repeated >= ?, FALSE) AS looping
           FROM sv_long l LEFT JOIN sv_repeats r ON r.hash = l.completion_hash""",
        [loop_share],
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE sv_runaways AS
           SELECT request_id, feature, model, output_tokens, threshold, median, cost_usd,
             CAST((output_tokens - threshold) * p_output AS DECIMAL(38, 12)) AS excess_usd,
             repeated, looping, finish_reason, source, source_line
           FROM sv_long_judged
           WHERE p_output IS NOT NULL AND cost_usd IS NOT NULL AND (unfinished OR looping)"""
    )
    # Runaways without a cost (an unpriced model, or input tokens the log does not give): no
    # saving is counted on a call that is in no total, but they are said.
    runaway_unpriced = con.execute(
        """SELECT count(*) FROM sv_long_judged
           WHERE (cost_usd IS NULL OR p_output IS NULL) AND (unfinished OR looping)"""
    ).fetchone()[0]
    # Long answers that ended normally and do not loop: above the threshold; no saving.
    long_finished = rows(
        con,
        """SELECT feature, model, count(*) AS calls, any_value(median) AS median_output,
             round(any_value(threshold)) AS threshold, max(output_tokens) AS max_output,
             first({'source': source, 'line': source_line}
                   ORDER BY output_tokens DESC, source, source_line) AS example
           FROM sv_long_judged WHERE NOT unfinished AND NOT looping
           GROUP BY ALL ORDER BY calls DESC, max_output DESC, feature, model""",
    )
    runaway = _money(
        rows(
            con,
            """SELECT feature, model, count(*) AS calls, any_value(median) AS median_output,
                 round(any_value(threshold)) AS threshold, max(output_tokens) AS max_output,
                 sum(excess_usd) AS usd, sum(cost_usd) AS cost_usd,
                 count(*) FILTER (WHERE looping) AS looping_calls,
                 -- (rounded as the looping list's shares are: one call reads one percent)
                 round(max(repeated) FILTER (WHERE looping), 4) AS max_repeated,
                 first({'source': source, 'line': source_line}
                       ORDER BY excess_usd DESC, source, source_line) AS example
               FROM sv_runaways GROUP BY ALL ORDER BY usd DESC, calls DESC, feature, model""",
        ),
        "usd",
        "cost_usd",
    )
    # The looping ones, each with its repeated share: why it was flagged, where to look.
    looping = _money(
        rows(
            con,
            """SELECT feature, model, output_tokens, round(repeated, 4) AS repeated,
                 finish_reason, excess_usd AS usd, source, source_line AS line
               FROM sv_runaways WHERE looping
               ORDER BY excess_usd DESC, repeated DESC, source, source_line LIMIT ?""",
            [top],
        ),
        "usd",
    )
    looping_calls, looping_usd = con.execute(
        "SELECT count(*), coalesce(sum(excess_usd), 0) FROM sv_runaways WHERE looping"
    ).fetchone()
    looping_unpriced = con.execute(
        """SELECT count(*) FROM sv_long_judged
           WHERE looping AND (cost_usd IS NULL OR p_output IS NULL)"""
    ).fetchone()[0]
    savings.offer(
        con,
        ctx,
        "runaway_output",
        "SELECT request_id, excess_usd AS usd FROM sv_runaways",
        RUNAWAY_ASSUMPTION,
        {"section": "waste.runaway", "k": k, "loop_share": loop_share},
        uncosted=runaway_unpriced,
    )
    caps = rows(
        con,
        f"""WITH real AS (
              SELECT coalesce(feature, '(none)') AS feature,
                quantile_cont(output_tokens, 0.99) AS p99, median(max_tokens) AS max_tokens,
                count(*) AS calls
              FROM {base}
              WHERE status = 'ok' AND coalesce(finish_reason, '') <> 'length'
                AND output_tokens IS NOT NULL
              GROUP BY 1 HAVING count(*) >= {MIN_GROUP}),
            over AS (
              SELECT coalesce(c.feature, '(none)') AS feature, count(*) AS n
              FROM {base} c JOIN real r ON r.feature = coalesce(c.feature, '(none)')
              WHERE c.output_tokens > ceil(r.p99 / {CAP_ROUND}) * {CAP_ROUND} GROUP BY 1)
            SELECT r.feature, r.calls, round(r.p99) AS p99_output,
              CAST(ceil(r.p99 / {CAP_ROUND}) * {CAP_ROUND} AS BIGINT) AS suggested_max_tokens,
              CAST(r.max_tokens AS BIGINT) AS median_max_tokens,
              coalesce(o.n, 0) AS calls_above_suggested
            FROM real r LEFT JOIN over o USING (feature)
            WHERE r.max_tokens > {HEADROOM} * ceil(r.p99 / {CAP_ROUND}) * {CAP_ROUND}
            ORDER BY r.max_tokens / greatest(r.p99, 1) DESC, r.feature""",
    )
    # a line none of whose calls has a cost has no amount (None, never $0): the truncated
    # calls' groups of no cost, and failed calls or runaways of none but calls without a cost
    truncated_usd = [t["usd"] for t in truncated if t["usd"] is not None]
    failed_usd = round(sum(f["usd"] for f in failed), 9)
    runaway_usd = round(sum(r["usd"] for r in runaway), 9)
    # the groups past --top, summed: a log of 40 features listed 10 runaway groups and said
    # nothing of the others (every runaway has a cost: those without one are unpriced_calls)
    rest = runaway[top:]
    other_groups = None
    if rest:
        other_groups = {
            "calls": sum(r["calls"] for r in rest),
            "usd": round(sum(r["usd"] for r in rest), 9),
            "cost_usd": round(sum(r["cost_usd"] for r in rest), 9),
            "looping_calls": sum(r["looping_calls"] for r in rest),
            "max_repeated": max(
                (r["max_repeated"] for r in rest if r["looping_calls"]), default=None
            ),
        }
    return {
        "truncated": {
            "calls": sum(t["calls"] for t in truncated),
            # of the priced ones
            "usd": round(sum(truncated_usd), 9) if truncated_usd or not truncated else None,
            "unpriced_calls": sum(t["unpriced_calls"] for t in truncated),
            "unknown_token_calls": sum(t["unknown_token_calls"] for t in truncated),
            "top": truncated[:top],
            "note": "money spent on answers cut at max_tokens; not counted as a saving (the "
            "answer is usually needed: raise the cap or ask for shorter answers)",
        },
        "failed": {
            "calls": sum(f["calls"] for f in failed),
            # of the billed ones (with a cost); failed calls of unpriced models only: unknown
            "usd": None if not failed and failed_unpriced else failed_usd,
            "unpriced_calls": failed_unpriced,  # failed, no price: billed or not, unknown
            "unknown_token_calls": failed_unknown,  # failed without usage: cost unknown
            "top": failed[:top],
            "assumption": FAILED_ASSUMPTION,
        },
        "retries": {**retries, "assumption": RETRY_ASSUMPTION},
        "runaway": {
            "calls": sum(r["calls"] for r in runaway),
            "usd": None if not runaway and runaway_unpriced else runaway_usd,
            "unpriced_calls": runaway_unpriced,  # above the threshold, no cost: not counted
            "k": k,
            "top": runaway[:top],
            "groups": len(runaway),  # of feature and model; top has the costliest of them
            "other_groups": other_groups,  # the rest, summed (None: none left out)
            "assumption": RUNAWAY_ASSUMPTION,
            "looping": {
                "calls": looping_calls,
                # looping calls without a cost only: unknown, never $0
                "usd": None if not looping_calls and looping_unpriced else usd(looping_usd),
                "unpriced_calls": looping_unpriced,  # in runaway's unpriced_calls too
                "share": loop_share,
                "n": LOOP_N,
                "min_words": LOOP_MIN_WORDS,
                "top": looping,
            },
            "long_finished": {
                "calls": sum(x["calls"] for x in long_finished),
                "top": long_finished[:top],
                "groups": len(long_finished),  # of feature and model; top lists the first
                "other_calls": sum(x["calls"] for x in long_finished[top:]),
                "note": LONG_FINISHED_NOTE,
            },
        },
        "caps": {
            "features": caps[:top],
            "feature_count": len(caps),  # features lists the first --top of them
            "other_calls": sum(c["calls"] for c in caps[top:]),
            "note": "a lower max_tokens does not lower cost by itself (calls pay for what they "
            "generate): it bounds runaway outputs; suggested cap = p99 of real outputs, rounded "
            f"up to a multiple of {CAP_ROUND}",
        },
    }


def _retry_rest(con, top: int, uncosted: str) -> tuple[int, dict | None]:
    """How many feature-and-model groups of retries there are, and those past the first
    ``top`` (in the table's order) summed as one group: calls, cost (None: none has one) and
    the calls in no cost by why (``uncosted``, as a row counts them). None when none is left."""
    [groups] = con.execute(
        """SELECT count(DISTINCT (coalesce(feature, '(none)'), model))
           FROM sv_retries WHERE coalesce(prev_status, 'ok') <> 'error'"""
    ).fetchone()
    if groups <= top:
        return groups, None
    rest = rows(
        con,
        f"""WITH g AS (
              SELECT coalesce(feature, '(none)') AS feature, model, count(*) AS calls,
                sum(cost_usd) AS usd
              FROM sv_retries WHERE coalesce(prev_status, 'ok') <> 'error' GROUP BY ALL),
            past AS (
              SELECT feature, model FROM g
              ORDER BY usd DESC NULLS LAST, calls DESC, feature, model OFFSET ?)
            SELECT count(*) AS calls, sum(cost_usd) AS usd, {uncosted}
            FROM sv_retries r SEMI JOIN past p
              ON p.feature = coalesce(r.feature, '(none)') AND p.model = r.model
            WHERE coalesce(r.prev_status, 'ok') <> 'error'""",
        [top],
    )[0]
    rest["usd"] = line_usd(rest["usd"], rest["calls"])
    return groups, _money([rest], "usd")[0]
