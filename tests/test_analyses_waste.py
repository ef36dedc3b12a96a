"""Output waste: truncated, failed-but-billed, retries, runaway outputs and caps, by hand."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from llmcost.report import analyze
from tests.conftest import REAL
from tests.test_analyses_common import PRICES, M, call, offered, report

PRICING_ARGS = [x for p in PRICES for x in ("--pricing", str(p))]


def _log() -> list[dict]:
    records = [
        # twelve answers of one feature: ten of 100 tokens, one of 110, one runaway of 1,000
        # (no finish reason: nothing says the model had finished it)
        *[call(100 * i, feature="faq", out=100, text=f"f{i}", max_tokens=4096) for i in range(10)],
        call(1000, feature="faq", out=110, text="f10", max_tokens=4096),
        call(1100, feature="faq", out=1000, text="f11", max_tokens=4096, finish=None),
        # truncated at max_tokens
        call(2000, feature="story", out=256, finish="length", max_tokens=256, text="t1"),
        # failed but billed: input only
        call(3000, feature="story", out=0, status="error", finish=None, text="e1"),
        # a retry 10 s after a successful identical call (same user and session)
        call(4000, feature="story", session="s", text="same", out=50),
        call(4010, feature="story", session="s", text="same", out=50),
        # a retry 5 s after a FAILED call: legitimate
        call(5000, feature="story", session="s", text="again", status="error", finish=None, out=0),
        call(5005, feature="story", session="s", text="again", out=50),
        # the same prompt from another user: not a retry
        call(4005, feature="story", user="u2", session="s", text="same", out=50),
        # 90 s later: outside the 60-second window
        call(4100, feature="story", session="s", text="same", out=50),
    ]
    return records


def test_waste(jsonl):
    rep = report(jsonl, _log())
    w = rep["waste"]
    # truncated: 1000 in + 256 out at 10/20 per million
    assert w["truncated"]["calls"] == 1
    assert w["truncated"]["usd"] == pytest.approx(1000 * 10 * M + 256 * 20 * M)
    # failed and billed: two calls of 1000 input tokens
    assert w["failed"]["calls"] == 2
    assert w["failed"]["usd"] == pytest.approx(2 * 1000 * 10 * M)
    retries = w["retries"]
    assert (retries["after_success"], retries["after_failure"]) == (1, 1)
    assert retries["usd"] == pytest.approx(1000 * 10 * M + 50 * 20 * M)
    # runaway: faq median 100, MAD 0 -> sigma floored at 10% of the median = 10; threshold
    # 100 + 5 x 10 = 150; the 1,000-token answer has 850 tokens above it
    runaway = w["runaway"]
    assert runaway["calls"] == 1
    assert runaway["usd"] == pytest.approx(850 * 20 * M)
    assert runaway["top"][0]["threshold"] == 150
    # caps: p99 of the twelve faq outputs = 110 + 0.89 x 890 = 902.1 -> 960 (15 x 64), far
    # below the 4,096 asked for; one answer is above it
    [cap] = w["caps"]["features"]
    assert cap["feature"] == "faq"
    assert cap["suggested_max_tokens"] == 960
    assert cap["median_max_tokens"] == 4096
    assert cap["calls_above_suggested"] == 1
    assert offered(rep, "failed_calls")["usd"] == pytest.approx(0.02)
    assert offered(rep, "retries")["calls"] == 1
    assert offered(rep, "runaway_output")["usd"] == pytest.approx(850 * 20 * M)


def test_long_answers_that_finished_are_not_runaways(jsonl, cli):
    # Hand-worked (big-model: out $20/M). faq: ten answers of 100 tokens and one of 110 that
    # stopped, and five long ones. Sixteen outputs: median 100, MAD 0, so sigma is floored at
    # 10 and the threshold is 100 + 5 x 10 = 150. Three did not finish on their own: 1,000
    # tokens cut at max_tokens, 600 with no finish reason, 400 stopped by a content filter:
    # (850 + 450 + 250) x $20/M = $0.031 above the threshold. Two finished normally: 2,000
    # tokens that stopped and 800 that ended on a tool call. Before, all five were runaways
    # and a cap at 150 tokens "saved" (850 + 450 + 250 + 1,850 + 650) x $20/M = $0.081,
    # $0.05 of it by cutting answers the model had finished.
    records = [
        *[call(100 * i, feature="faq", out=100, text=f"f{i}") for i in range(10)],
        call(1000, feature="faq", out=110, text="f10"),
        call(1100, feature="faq", out=1000, text="cut", finish="length", max_tokens=1000),
        call(1200, feature="faq", out=600, text="silent", finish=None),
        call(1300, feature="faq", out=400, text="filtered", finish="content_filter"),
        call(1400, feature="faq", out=2000, text="essay", finish="stop"),
        call(1500, feature="faq", out=800, text="tool", finish="tool_calls"),
    ]
    rep = report(jsonl, records)
    runaway = rep["waste"]["runaway"]
    assert runaway["calls"] == 3
    assert runaway["usd"] == pytest.approx(1550 * 20 * M)
    [group] = runaway["top"]
    assert (group["threshold"], group["max_output"], group["calls"]) == (150, 1000, 3)
    assert offered(rep, "runaway_output")["usd"] == pytest.approx(1550 * 20 * M)
    assert offered(rep, "runaway_output")["calls"] == 3
    long = runaway["long_finished"]
    assert long["calls"] == 2
    [finished] = long["top"]
    assert (finished["feature"], finished["calls"], finished["max_output"]) == ("faq", 2, 2000)
    assert finished["threshold"] == 150
    assert "usd" not in finished  # not a saving: no dollars
    assert finished["example"]["line"] == 15  # the 2,000-token answer
    text = " ".join(cli("analyze", str(jsonl(records)), *PRICING_ARGS).stdout.split())
    assert "third time or more): 3 calls; a cap at that length saves $0.03." in text
    assert "Long answers above that length: 2 calls — answers above the same threshold" in text


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_the_runaway_table_says_what_it_leaves_out(jsonl, cli, fmt):
    """The runaway table lists --top groups (feature and model): a log of 40 features listed
    10 and said nothing of the others, so its rows read as the whole of the line's saving.
    The groups past --top are summed on one row, and the JSON counts them and sums them."""
    # Three features of ten 100-token answers and one cut at max_tokens (threshold 150, as
    # above): 2,150, 1,150 and 650 tokens, 2,000, 1,000 and 500 above it at $20/M.
    records = [
        call(1000 * i + t, feature=feature, out=100, text=f"{feature}{t}")
        for i, feature in enumerate("abc")
        for t in range(10)
    ] + [
        call(1000 * i + 500, feature=feature, out=out, text=f"{feature}-cut", finish="length")
        for i, (feature, out) in enumerate([("a", 2150), ("b", 1150), ("c", 650)])
    ]
    ru = report(jsonl, records, top=1)["waste"]["runaway"]
    assert [g["feature"] for g in ru["top"]] == ["a"] and ru["groups"] == 3
    other = ru["other_groups"]
    assert (other["calls"], other["looping_calls"], other["max_repeated"]) == (2, 0, None)
    assert other["usd"] == pytest.approx(1500 * 20 * M)  # $0.03
    # their costs: 1,000 input tokens at $10/M and their outputs at $20/M
    assert other["cost_usd"] == pytest.approx(2 * 1000 * 10 * M + 1800 * 20 * M)
    log = str(jsonl(records))
    out = cli("analyze", log, *PRICING_ARGS, "--top", "1", "-f", fmt).stdout
    text = " ".join(out.split())
    if fmt == "html":
        text = re.sub(r"\s*<[^>]+>\s*", " | ", text)
    assert "a cap at that length saves $0.07." in text
    # $0.04 on the listed row + $0.03 on the others' row: the line's $0.07
    assert re.search(r"\$0\.04\W+1\W+a\W", text), text
    assert re.search(r"\$0\.03\W+2\W+\(2 more\)\W+2 unfinished", text), text
    # with every group listed, no row is said to be left out
    every = cli("analyze", log, *PRICING_ARGS, "-f", fmt).stdout
    assert not re.search(r"\(\d+ more\)", every)


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_retries_long_answers_and_caps_tables_say_what_they_leave_out(jsonl, cli, fmt):
    """The retries, long-answers and max_tokens tables listed --top rows and said nothing of
    the others (a log of 40 features: 10 rows read as the whole). Each now ends with a row of
    the rest, and the JSON counts and sums them."""
    # Three features: ten 100-token answers and a 2,000-token one that stopped (above the
    # threshold of 150, finished: a long answer), and a call re-sent 10 s after it succeeded
    # (a retry of 50, 100 or 150 output tokens), all with max_tokens 16,384 (far above use).
    records = []
    for i, feature in enumerate("abc"):
        base = 10_000 * i
        records += [
            call(base + 10 * t, feature=feature, out=100, text=f"{feature}{t}",
                 max_tokens=16384)
            for t in range(10)
        ] + [
            call(base + 200, feature=feature, out=2000, text=f"{feature}-essay",
                 max_tokens=16384),
            *[call(base + 300 + 10 * n, feature=feature, session="s", out=50 * (i + 1),
                   text=f"{feature}-same", max_tokens=16384) for n in range(2)],
        ]  # fmt: skip
    w = report(jsonl, records, top=1)["waste"]
    rt, long, caps = w["retries"], w["runaway"]["long_finished"], w["caps"]
    assert [x["feature"] for x in rt["top"]] == ["c"] and rt["groups"] == 3
    other = rt["other_groups"]
    assert (other["calls"], other["unpriced_calls"], other["unknown_token_calls"]) == (2, 0, 0)
    # the re-sent calls of a and b: 1,000 input tokens at $10/M, 50 and 100 out at $20/M
    assert other["usd"] == pytest.approx(2 * 1000 * 10 * M + 150 * 20 * M)  # $0.023
    assert (len(long["top"]), long["groups"], long["other_calls"]) == (1, 3, 2)
    assert (len(caps["features"]), caps["feature_count"], caps["other_calls"]) == (1, 3, 26)
    log = str(jsonl(records))
    text = " ".join(cli("analyze", log, *PRICING_ARGS, "--top", "1", "-f", fmt).stdout.split())
    if fmt == "html":
        text = re.sub(r"\s*<[^>]+>\s*", " | ", text)
    waste = text[text.index("Output waste") : text.index("Prompt bloat")]
    # the tables follow the section's lines: retries, long answers, caps, in that order
    heads = (
        r"(?=Retry cost\W+Calls)|(?=Calls\W+Feature\W+Model\W+Median out)"
        r"|(?=Feature\W+Calls\W+p99)"
    )
    retries, long_rows, caps_rows = re.split(heads, waste)[1:]
    assert re.search(r"\$0\.02\W+2\W+\(2 more\)", retries), retries
    assert re.search(r"\W2\W+\(2 more\)\W", long_rows), long_rows  # 2 calls
    assert re.search(r"\(2 more\)\W+26\W", caps_rows), caps_rows  # 26 calls
    # with every row listed, no row is said to be left out
    every = cli("analyze", log, *PRICING_ARGS, "-f", fmt).stdout
    assert not re.search(r"\(\d+ more\)", every)
    whole = report(jsonl, records)["waste"]
    assert whole["retries"]["other_groups"] is None and whole["retries"]["groups"] == 3
    assert (whole["runaway"]["long_finished"]["other_calls"], whole["caps"]["other_calls"]) == (
        0, 0
    )  # fmt: skip


def test_retry_window_and_runaway_k_from_config(jsonl):
    config = "savings:\n  retry_seconds: 120\n  runaway_k: 100\n"
    w = report(jsonl, _log(), config=config)["waste"]
    # the call 90 s after the previous identical one is now a retry too
    assert w["retries"]["after_success"] == 2
    # threshold 100 + 100 x 10 = 1,100: nothing runs away
    assert w["runaway"]["calls"] == 0


def test_retries_without_user_or_session(jsonl):
    # no user and no session on either call: the same (empty) user and session, so a retry
    records = [
        call(0, user=None, text="q", out=50),
        call(10, user=None, text="q", out=50),
        call(20, user="u1", text="q", out=50),  # another user: starts its own sequence
    ]
    retries = report(jsonl, records)["waste"]["retries"]
    assert (retries["after_success"], retries["after_failure"]) == (1, 0)
    assert retries["usd"] == pytest.approx(1000 * 10 * M + 50 * 20 * M)


def test_examples_name_their_file_as_the_report_does(tmp_path):
    # Two logs of the same name in two directories: the bare name 'logs.jsonl:1' would not
    # say which; the examples are named as every other file:line of the report is.
    from llmcost.render import markdown
    from tests.conftest import write_jsonl

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write_jsonl(tmp_path / "a" / "logs.jsonl", [call(0, text="hi")])
    # ... and in b, after _log()'s 20 lines, a near-duplicate (line 22) of line 21
    phrase = "please check why the export of tickets from the billing queue stops at row ten"
    more = [call(9000, text=phrase + " applies"), call(9100, text=phrase + " matters")]
    b = write_jsonl(tmp_path / "b" / "logs.jsonl", _log() + more)
    rep = analyze([a, b], pricing=PRICES)
    [retry] = rep["waste"]["retries"]["top"]
    assert retry["example"] == {"source": str(b), "line": 16}
    [runaway] = rep["waste"]["runaway"]["top"]
    assert runaway["example"] == {"source": str(b), "line": 12}
    [dup] = rep["cache"]["near_duplicates"]["top"]
    assert (dup["source"], dup["line"]) == (str(b), 22)
    assert (dup["earlier_source"], dup["earlier_line"]) == (str(b), 21)
    text = markdown.render(rep)
    for where in ("b/logs.jsonl:16", "b/logs.jsonl:12", "b/logs.jsonl:22"):
        assert f"| {where} |" in text
    assert "| logs.jsonl:" not in text


def test_unpriced_truncated_and_failed_calls_are_not_zero(jsonl, cli):
    # Hand-worked (big-model: in $10/M, out $20/M; mystery-model: no price). One priced and
    # one unpriced call cut at max_tokens, one priced and one unpriced failed call. Before, the
    # unpriced truncated call was a $0 row, and the unpriced failed call was not mentioned:
    # "Failed calls: 2 (billed $0.01)" read as both billed.
    records = [
        call(0, feature="f", text="a", inp=1000, out=100, finish="length"),
        call(10, model="mystery-model", feature="f", text="b", inp=1000, finish="length"),
        call(20, feature="f", text="c", inp=1000, out=0, status="error", finish=None),
        call(30, model="mystery-model", feature="f", text="d", status="error", finish=None),
    ]
    rep = report(jsonl, records)
    truncated, failed = rep["waste"]["truncated"], rep["waste"]["failed"]
    assert (truncated["calls"], truncated["unpriced_calls"]) == (2, 1)
    assert truncated["usd"] == pytest.approx(1000 * 10 * M + 100 * 20 * M)
    assert {t["model"]: t["usd"] for t in truncated["top"]}["mystery-model"] is None
    assert (failed["calls"], failed["unpriced_calls"]) == (1, 1)
    assert failed["usd"] == pytest.approx(1000 * 10 * M)
    summary = rep["summary"]
    assert (summary["error_requests"], summary["error_unpriced_requests"]) == (2, 1)
    assert (summary["truncated_requests"], summary["truncated_unpriced_requests"]) == (2, 1)
    text = " ".join(cli("analyze", str(jsonl(records)), *PRICING_ARGS).stdout.split())
    assert "Failed calls: 2 (billed $0.01 + 1 unpriced)" in text
    assert "Truncated answers (hit max tokens): 2 ($0.01 + 1 unpriced)" in text
    assert "Truncated answers (hit max_tokens): 2 calls, $0.01 + 1 unpriced —" in text
    assert "Failed but billed: 1 call, $0.01 (1 more failed call unpriced)." in text


def test_runaway_calls_without_a_cost_are_counted_not_saved(jsonl, cli):
    # _log()'s faq calls (threshold 150, one runaway of 1,000 tokens: 850 x $20/M = $0.017)
    # and one more unfinished faq answer of 1,000 tokens whose log gives no input count and no
    # prompt text: its cost is unknown (input tokens missing), its output price is known.
    # Before, its 850 excess tokens were counted ($0.017 more: $0.034), a saving on a call that
    # is in no total ("1 call without a price not included", yet its saving was).
    no_input = call(1200, feature="faq", out=1000, max_tokens=4096, finish=None)
    no_input["usage"] = {"completion_tokens": 1000}
    no_input["messages"] = None
    rep = report(jsonl, _log() + [no_input])
    assert rep["savings_total"]["calls_without_cost"] == 1
    runaway = rep["waste"]["runaway"]
    assert (runaway["calls"], runaway["unpriced_calls"]) == (1, 1)
    assert runaway["usd"] == pytest.approx(850 * 20 * M)
    assert offered(rep, "runaway_output")["details"]["usd_before_overlap"] == pytest.approx(
        850 * 20 * M
    )
    text = " ".join(cli("analyze", str(jsonl(_log() + [no_input])), *PRICING_ARGS).stdout.split())
    assert "a cap at that length saves $0.02 (1 more runaway call without a cost)." in text


def _no_usage(record: dict) -> dict:
    """``record`` as a log without token counts writes it."""
    del record["usage"]
    return record


# The calls the tests of costs left unknown are made of: a reworded question (near-duplicates),
# a model without a price, a failed call.
QUESTION = "please check why the export of tickets from the billing queue stops at row ten"
MYSTERY = {"model": "mystery-model"}
FAILED = {"status": "error", "finish": None}


def test_calls_without_token_counts_are_said_apart_from_unpriced_ones(jsonl, cli):
    # big-model has a price (in $10/M, out $20/M), mystery-model none. Each kind of waste has
    # one call of mystery-model and one or more big-model calls whose log has no usage: a
    # truncated call without usage or text, failed calls without usage (their text is not
    # counted: an error before any token was processed is not billed), a retry of an
    # answered call that failed so, a reworded question that failed so. Before, each read
    # them all as unpriced ('$0.01 + 2 unpriced', '3 more failed calls unpriced'). A retry
    # or a near-duplicate that failed without usage is not billed: no call 'without tokens'
    # beside an unpriced one (attribution.without_tokens, as Cost by model); the retry line
    # says it as what it is, the near-duplicates' line leaves it out as the total does.
    bare = _no_usage(call(20, feature="f", finish="length"))
    bare["messages"] = bare["response"] = None  # nothing to count either
    records = [
        # truncated: $0.012 (1,000 x $10/M + 100 x $20/M), unpriced, without tokens
        call(0, feature="f", text="a", inp=1000, out=100, finish="length"),
        call(10, feature="f", text="b", finish="length", **MYSTERY),
        bare,
        # failed: billed $0.01 (1,000 x $10/M), unpriced, without usage
        call(30, text="d", inp=1000, out=0, **FAILED),
        call(40, text="e", **MYSTERY, **FAILED),
        _no_usage(call(50, text="g", **FAILED)),
        # retries within 60s of an answered call: without usage, unpriced
        call(100, text="q"),
        _no_usage(call(110, text="q", **FAILED)),
        call(200, text="q", **MYSTERY),
        call(210, text="q", **MYSTERY),
        # near-duplicates: without usage, unpriced
        call(1000, text=QUESTION + " today"),
        _no_usage(call(2000, text=QUESTION + " tonight", **FAILED)),
        call(3000, text=QUESTION + " today", **MYSTERY),
        call(4000, text=QUESTION + " tonight", **MYSTERY),
    ]
    rep = report(jsonl, records)
    w = rep["waste"]
    t, f, rt = w["truncated"], w["failed"], w["retries"]
    assert (t["calls"], t["unpriced_calls"], t["unknown_token_calls"]) == (3, 1, 1)
    assert t["usd"] == pytest.approx(1000 * 10 * M + 100 * 20 * M)
    assert (f["calls"], f["unpriced_calls"], f["unknown_token_calls"]) == (1, 1, 3)
    assert (rt["after_success"], rt["unpriced_calls"], rt["unknown_token_calls"]) == (2, 1, 0)
    assert rt["error_unknown_token_calls"] == 1
    near = rep["cache"]["near_duplicates"]
    assert (near["requests"], near["unpriced_requests"], near["unknown_token_requests"]) == (
        2,
        1,
        0,
    )
    assert near["error_unknown_token_requests"] == 1
    s = rep["summary"]
    assert (s["truncated_unpriced_requests"], s["truncated_unknown_token_requests"]) == (1, 1)
    text = " ".join(cli("analyze", str(jsonl(records)), *PRICING_ARGS).stdout.split())
    assert "Truncated answers (hit max tokens): 3 ($0.01 + 1 unpriced + 1 without tokens)" in text
    assert (
        "Truncated answers (hit max_tokens): 3 calls, $0.01 + 1 unpriced + 1 without tokens —"
        in (text)
    )
    assert (
        "Failed but billed: 1 call, $0.01 (1 more failed call unpriced; 3 without usage, cost "
        "unknown)." in text
    )
    # none of the retries nor of the near-duplicates has a cost: the amount is unknown (it
    # read "$0.00 + 1 unpriced + 1 without tokens", a saving of $0)
    assert (rt["usd"], near["usd"]) == (None, None)
    assert (
        "identical call: 2 calls, an unknown amount (1 unpriced call) + 1 failed without usage "
        "(not billed); 0 more" in text
    )
    assert "at similarity ≥ 0.8 — an unknown amount (1 unpriced call)." in text


def test_waste_lines_of_calls_without_a_cost_have_an_unknown_amount(jsonl, cli):
    # _log() with every call of mystery-model (no price), and one question asked twice an
    # hour apart of big-model ($0.012 a call: 1,000 x $10/M + 100 x $20/M), a response-cache
    # saving with an amount. Each waste line of the mystery-model calls read "$0.00 + 1
    # unpriced" (or "0 calls, $0.00"), a saving of $0, and the Savings total left them out
    # without a word: they have no amount (usd None), and the total says which kinds.
    records = [{**r, "model": "mystery-model"} for r in _log()]
    records += [call(6000, text="twice"), call(9600, text="twice")]
    rep = report(jsonl, records)
    w = rep["waste"]
    t, f, rt, ru = w["truncated"], w["failed"], w["retries"], w["runaway"]
    assert (t["calls"], t["unpriced_calls"], t["usd"]) == (1, 1, None)
    assert (f["calls"], f["unpriced_calls"], f["usd"]) == (0, 2, None)
    assert (rt["after_success"], rt["unpriced_calls"], rt["usd"]) == (1, 1, None)
    assert (ru["calls"], ru["unpriced_calls"], ru["usd"]) == (0, 1, None)
    assert [s["kind"] for s in rep["savings"]] == ["response_cache"]
    total = rep["savings_total"]
    assert total["usd"] == pytest.approx(1000 * 10 * M + 100 * 20 * M)
    assert [(u["kind"], u["calls"]) for u in total["unknown_kinds"]] == [
        ("failed_calls", 2),
        ("retries", 1),
        ("runaway_output", 1),
    ]
    for fmt in ("table", "markdown"):
        out = cli("analyze", str(jsonl(records)), *PRICING_ARGS, "--format", fmt).stdout
        text = " ".join(out.split())
        assert "Truncated answers (hit max_tokens): 1 call, an unknown amount (1 unpriced call) —" in text, fmt  # fmt: skip
        assert "Failed but billed: an unknown amount (2 failed calls unpriced)." in text, fmt
        assert "identical call: 1 call, an unknown amount (1 unpriced call); 1 more retried" in text, fmt  # fmt: skip
        assert "or more): 1 call; a cap at that length saves an unknown amount (none of them has a cost)." in text, fmt  # fmt: skip
        assert (
            "Not in that sum: 3 kinds of an unknown amount, whose calls have no cost (Failed but "
            "billed calls: 2 calls; Retries of calls that had succeeded: 1 call; Output caps on "
            "runaway generations: 1 call)." in text
        ), fmt


LONG = Path(__file__).parent / "data" / "analyses" / "long_answers"


def _gemini_answer() -> str:
    """The real long answer: Gemini's 4,184-character Markdown answer to 'What is Langfuse?'
    (nested numbered and bulleted lists), from the real Langfuse trace."""
    trace = json.loads((REAL / "langfuse" / "google-gemini.trace.json").read_text())
    output = json.loads(trace["observations"][0]["output"])
    return output["candidates"][0]["content"]["parts"][0]["text"]


def _answer(t: float, response: str, out: int, finish: str | None = "stop", **kw) -> dict:
    record = call(t, feature="faq", out=out, text=f"q{t}", finish=finish, **kw)
    record["response"] = response
    return record


def _faq() -> list[dict]:
    # thirty faq answers of 100 tokens: with up to 29 long ones, median 100, MAD 0, so the
    # threshold is 100 + 5 x 10 (sigma floored at 10% of the median) = 150
    return [call(10 * i, feature="faq", out=100, text=f"f{i}") for i in range(30)]


HONEST = ["fields_table.md", "costs_table.md", "accounts.json", "signup_form.html",
          "api_tests.py.txt", "rename_steps.md"]  # fmt: skip


def test_looping_answers_are_runaways_finished_or_not(jsonl, cli):
    # Hand-worked (big-model: out $20/M; faq threshold 150). Seven long honest answers that
    # stopped (the real Gemini answer, tables, JSON records, a form, near-identical tests, a
    # numbered list of one pattern): long answers, not runaways. Four loops: a word to the
    # end that stopped (2,000 tokens), a paragraph ten times cut at max_tokens (1,000), an
    # answer then one sentence forty times that stopped (1,200), a list cycling over five
    # items with new numbers that stopped (800). Before, the three loops that stopped were
    # 'long answers' with no dollars: now each is a runaway, and a cap at 150 saves
    # (1,850 + 850 + 1,050 + 650) x $20/M = $0.088.
    gemini = _gemini_answer()
    sentence = (
        "Prompt caching bills the shared prefix of a request at the cache-read price "
        "instead of the full input price."
    )
    tips = ["Use prompt caching for shared prefixes", "Batch the nightly jobs",
            "Cap max_tokens on summaries", "Route simple calls to a smaller model",
            "Retry only failed calls"]  # fmt: skip
    honest = [gemini] + [(LONG / name).read_text() for name in HONEST]
    records = _faq() + [_answer(1000 + i, text, out=1000) for i, text in enumerate(honest)]
    records += [
        _answer(2000, gemini[:800] + " the" * 1500, out=2000),
        _answer(2100, (gemini[:900] + "\n\n") * 10, out=1000, finish="length", max_tokens=1000),
        _answer(2200, gemini + ("\n" + sentence) * 40, out=1200),
        _answer(2300, "".join(f"{i}. {tips[i % 5]}.\n" for i in range(1, 160)), out=800),
    ]
    rep = report(jsonl, records)
    runaway = rep["waste"]["runaway"]
    assert runaway["calls"] == 4
    assert runaway["usd"] == pytest.approx(4400 * 20 * M)
    [group] = runaway["top"]
    assert (group["calls"], group["looping_calls"]) == (4, 4)
    loops = runaway["looping"]
    assert (loops["calls"], loops["share"], loops["n"]) == (4, 0.5, 8)
    assert loops["usd"] == pytest.approx(4400 * 20 * M)
    # the lines of the log: the thirty faq answers, seven honest ones, then the four loops
    shares = {x["line"]: x["repeated"] for x in loops["top"]}
    assert sorted(shares) == [38, 39, 40, 41]
    assert all(0.5 <= share < 1 for share in shares.values())
    assert shares[41] > 0.9  # the list that starts over under new numbers
    assert {x["line"]: x["finish_reason"] for x in loops["top"]}[39] == "length"
    assert offered(rep, "runaway_output")["usd"] == pytest.approx(4400 * 20 * M)
    long = runaway["long_finished"]
    assert long["calls"] == len(honest) == 7
    text = " ".join(cli("analyze", str(jsonl(records)), *PRICING_ARGS).stdout.split())
    assert "or looping, finished or not: at least 50% of the answer's word 8-grams" in text
    assert "): 4 calls; a cap at that length saves $0.09." in text
    assert f"4 looping (up to {int(group['max_repeated'] * 100)}% repeated)" in text
    assert "Looping answers among them: 4 calls, $0.09 above the threshold." in text
    assert f"{int(shares[38] * 100)}% | faq | big-model | 2,000 | stop" in cli(
        "analyze", str(jsonl(records)), *PRICING_ARGS, "--format", "markdown"
    ).stdout.replace("$0.04 | ", "")
    # --top 2 lists two looping answers and says the other two are left out
    short = cli("analyze", str(jsonl(records)), *PRICING_ARGS, "--top", "2", "-f", "markdown")
    looping_table = short.stdout.split("| Excess cost | Repeated |")[1].split("\n\n")[0]
    assert looping_table.count("| big-model |") == 2
    assert "| (2 more) |" in looping_table
    assert not re.search(r"\(\d+ more\)", cli("analyze", str(jsonl(records)), *PRICING_ARGS).stdout)


def test_loop_share_from_config_and_short_answers(jsonl):
    # 400 distinct words then 'the' 1,000 times: 1,400 words, 1,393 8-grams; the 400 that
    # start on a distinct word differ, the other 993 are one 8-gram said 993 times: its
    # third time and those after are 991 / 1,393 = 0.711 repeated. Looping at the default
    # 0.5; at 0.75 a long answer that stopped (no dollars).
    # An answer of 99 words, all the same, is not judged (fewer than 100 words): its 1,000
    # output tokens are not its text.
    opening = " ".join(f"w{i}" for i in range(400))
    records = _faq() + [
        _answer(1000, opening + " the" * 1000, out=2000),
        _answer(1100, "again " * 99, out=1000),
    ]
    w = report(jsonl, records)["waste"]
    assert (w["runaway"]["calls"], w["runaway"]["long_finished"]["calls"]) == (1, 1)
    [loop] = w["runaway"]["looping"]["top"]
    assert loop["repeated"] == pytest.approx(991 / 1393, abs=1e-4)
    assert loop["usd"] == pytest.approx(1850 * 20 * M)
    w = report(jsonl, records, config="savings:\n  loop_share: 0.75\n")["waste"]
    assert (w["runaway"]["calls"], w["runaway"]["long_finished"]["calls"]) == (0, 2)


def test_an_answer_that_says_things_twice_or_three_times_does_not_loop(jsonl):
    # A coding answer: the tests as they were, as they are with the fix, then the first
    # quarter again ('the tests that changed'). 63% of its 8-grams were said before, but
    # said twice is not a loop: only those said a third time or more count, 30% (the
    # tests' own boilerplate, and the quarter). Before (the share said before at all), it
    # was a looping runaway, and a cap at 150 tokens 'saved' 850 x $20/M = $0.017.
    code = (LONG / "api_tests.py.txt").read_text()
    fixed = code.replace("400", "422")
    answer = (
        f"Your tests:\n```python\n{code}```\nWith the fix:\n```python\n{fixed}```\n"
        f"The tests that changed:\n```python\n{fixed[: len(fixed) // 4]}```\n"
    )
    w = report(jsonl, _faq() + [_answer(1000, answer, out=1000)])["waste"]
    assert (w["runaway"]["calls"], w["runaway"]["long_finished"]["calls"]) == (0, 1)


def test_looping_in_scripts_without_spaces(jsonl):
    # Han and kana characters are words each: a Japanese sentence said again and again
    # loops; the same sentence once, with a long answer of distinct sentences, does not.
    sentence = "キャッシュを使うと入力の料金が下がります。"
    varied = "".join(f"第{i}章では料金表の{i}行目を説明します。" for i in range(60))
    records = _faq() + [
        _answer(1000, sentence * 40, out=1000),
        _answer(1100, sentence + varied, out=1000),
    ]
    w = report(jsonl, records)["waste"]
    [loop] = w["runaway"]["looping"]["top"]
    assert loop["line"] == 31
    assert w["runaway"]["long_finished"]["calls"] == 1


def test_looping_answers_without_a_cost_are_counted_not_zero(jsonl, cli):
    # faq answers of mystery-model (no price) and one of them looping, beside a looping
    # big-model answer ($20/M out, 1,850 tokens above the threshold of 150: $0.037). The
    # unpriced loop is said, with no amount: not "$0.00".
    mystery = [{**r, "model": "mystery-model"} for r in _faq()]
    loop = _answer(2000, "Prompt caching, in short:" + " the" * 1500, out=2000)
    records = _faq() + mystery + [loop, {**loop, "model": "mystery-model"}]
    loops = report(jsonl, records)["waste"]["runaway"]["looping"]
    assert (loops["calls"], loops["unpriced_calls"]) == (1, 1)
    assert loops["usd"] == pytest.approx(1850 * 20 * M)
    text = " ".join(cli("analyze", str(jsonl(records)), *PRICING_ARGS).stdout.split())
    assert "Looping answers among them: 1 call, $0.04 above the threshold (1 more looping call without a cost)." in text  # fmt: skip
    only = report(jsonl, mystery + [{**loop, "model": "mystery-model"}])["waste"]["runaway"]
    assert (only["looping"]["calls"], only["looping"]["unpriced_calls"]) == (0, 1)
    assert only["looping"]["usd"] is None
    text = " ".join(cli("analyze", str(jsonl(mystery + [{**loop, "model": "mystery-model"}])), *PRICING_ARGS).stdout.split())  # fmt: skip
    assert "Looping answers among them: 1 call, none of them with a cost." in text


def test_savings_rows_without_a_cost_say_why(jsonl, cli):
    # big-model has a price, mystery-model none. An exact repeat, a retry and a near-
    # duplicate of each: of mystery-model (unpriced), and of big-model failed without usage
    # (no token counts). None of their rows has a cost: each read '—', which says neither
    # that the saving is unknown nor why; they read as a Cost by model row reads now, but
    # the retry that failed without usage, said as what it is (not billed, the retry).
    records = [
        # an answered call, and a failed call without usage 10s later: a repeat and a retry
        call(100, feature="f", text="q"),
        _no_usage(call(110, feature="f", text="q", **FAILED)),
        # the same of mystery-model: a repeat and a retry of no price
        call(200, feature="f", text="q", **MYSTERY),
        call(210, feature="f", text="q", **MYSTERY),
        # near-duplicates: without usage, unpriced
        call(1000, text=QUESTION + " today"),
        _no_usage(call(2000, text=QUESTION + " tonight", **FAILED)),
        call(3000, text=QUESTION + " today", **MYSTERY),
        call(4000, text=QUESTION + " tonight", **MYSTERY),
    ]
    rep = report(jsonl, records)
    groups = {g["model"]: g for g in rep["cache"]["exact_repeats"]["top"]}
    retries = {x["model"]: x for x in rep["waste"]["retries"]["top"]}
    near = {x["model"]: x for x in rep["cache"]["near_duplicates"]["top"]}
    assert [(g["usd"], g["unpriced_requests"], g["unknown_token_requests"])
            for g in (groups["mystery-model"], groups["big-model"])] == [(None, 1, 0), (None, 0, 1)]  # fmt: skip
    assert [(x["usd"], x["unpriced_calls"], x["unknown_token_calls"])
            for x in (retries["mystery-model"], retries["big-model"])] == [(None, 1, 0), (None, 0, 1)]  # fmt: skip
    assert [(x["usd"], x["unpriced_requests"], x["unknown_token_requests"])
            for x in (near["mystery-model"], near["big-model"])] == [(None, 1, 0), (None, 0, 1)]  # fmt: skip
    # the rows, as Markdown writes them and as HTML's cells read (one layout for both)
    rows = [
        "| unpriced | 2 | mystery-model | q |",  # exact repeats: Saving, Calls, Model, Prompt
        "| no tokens | 2 | big-model | q |",
        "| no tokens | 0.87 | big-model |",  # near-duplicates: Cost, Similar, Model
        "| unpriced | 0.87 | mystery-model |",
        "| 1 failed without usage | 1 | f | big-model |",  # retries: Retry cost, Calls, …
        "| unpriced | 1 | f | mystery-model |",
    ]
    log = str(jsonl(records))
    md = cli("analyze", log, *PRICING_ARGS, "-f", "markdown").stdout
    html = cli("analyze", log, *PRICING_ARGS, "-f", "html").stdout
    html_rows = [
        "| " + " | ".join(re.findall(r"<td[^>]*>(.*?)</td>", tr)) + " |"
        for tr in html.split("</tr>")
    ]
    for row in rows:
        assert row in md, row
        assert any(r.startswith(row) for r in html_rows), row


def test_a_looping_call_reads_one_repeated_share_in_both_tables(jsonl, cli):
    # One sentence 200 times: its share is 0.98996 (words 8-grams said a third time or more).
    # The looping list rounds shares to 4 places (0.99, read 99%), and the runaway row's
    # 'up to' share was not rounded (read 98%): one call, two percents.
    loop = _answer(2000, "I will check the billing export for you now. " * 200, out=2000)
    rep = report(jsonl, _faq() + [loop])["waste"]["runaway"]
    [group] = rep["top"]
    assert group["max_repeated"] == rep["looping"]["top"][0]["repeated"] == 0.99
    text = " ".join(cli("analyze", str(jsonl(_faq() + [loop])), *PRICING_ARGS).stdout.split())
    assert "1 looping (99% repeated)" in text and "98%" not in text, text


def test_a_retry_or_repeat_that_failed_without_usage_is_no_call_without_tokens(jsonl, cli):
    """A failed call without usage (a 429: not billed, the summary's
    error_unknown_token_requests) was a call 'without tokens' in the exact repeats',
    near-duplicates' and retries' lines and rows, beside their amounts, where the total and
    Cost by model leave it out: '$0.02 + 1 without tokens'. The repeats and near-duplicates
    count it as Cost by model does (attribution.without_tokens): not beside a cost. A retry
    that failed so is what the retries' row is of (a client re-sent a call that had
    succeeded, and was rate-limited): said as what it is, '+ 1 failed without usage (not
    billed)', and counted apart in the JSON (error_unknown_token_calls; unknown_token_calls
    as the repeats count it). big-model: 1,000 x $10/M + 100 x $20/M = $0.012 a call."""
    records = [
        call(100, text="q"),
        _no_usage(call(110, text="q", **FAILED)),  # a retry of an answered call, a 429
        call(120, text="q"),  # a retry of the failed call: legitimate
        call(130, text="q"),  # a retry of an answered call: $0.012
        # near-duplicates: a reworded question answered ($0.012), and one rate-limited
        call(1000, text=QUESTION + " today"),
        call(2000, text=QUESTION + " tonight"),
        _no_usage(call(3000, text=QUESTION + " now", **FAILED)),
    ]
    rep = report(jsonl, records)
    rt, e = rep["waste"]["retries"], rep["cache"]["exact_repeats"]
    near = rep["cache"]["near_duplicates"]
    assert (rt["after_success"], rt["after_failure"], rt["usd"]) == (2, 1, pytest.approx(0.012))
    [row] = rt["top"]
    assert (e["requests"], e["usd"]) == (3, pytest.approx(0.024))
    assert (near["requests"], near["usd"]) == (2, pytest.approx(0.012))
    # no call without tokens in any (each was 1: the 429)
    unknown = [rt["unknown_token_calls"], row["unknown_token_calls"]]
    unknown += [e["unknown_token_requests"], e["top"][0]["unknown_token_requests"]]
    assert unknown + [near["unknown_token_requests"]] == [0, 0, 0, 0, 0]
    # the 429, counted apart
    failed = [rt["error_unknown_token_calls"], row["error_unknown_token_calls"]]
    failed += [e["error_unknown_token_requests"], near["error_unknown_token_requests"]]
    assert failed == [1, 1, 1, 1]
    lines = [
        "Retries within 60s of a successful identical call: 2 calls, $0.01 + 1 failed without "
        "usage (not billed); 1 more retried a failed call: legitimate.",
        "a response cache would save $0.02.",
        "at similarity ≥ 0.8 — $0.01.",
    ]
    rows = [
        "| $0.01 + 1 failed without usage | 2 | (none) | big-model |",
        "| $0.02 | 4 | big-model |",
    ]
    log = str(jsonl(records))
    for fmt in ("table", "markdown", "html"):
        out = cli("analyze", log, *PRICING_ARGS, "-f", fmt).stdout
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", out)).split())
        for line in lines:
            assert line in text, (fmt, line)
        if fmt == "markdown":
            assert all(r in out for r in rows), out
        if fmt == "html":  # the rows' cells, as Markdown writes them (one layout for both)
            cells = [
                "| " + " | ".join(re.findall(r"<td[^>]*>(.*?)</td>", tr)) + " |"
                for tr in out.split("</tr>")
            ]
            assert all(any(c.startswith(r) for c in cells) for r in rows)
