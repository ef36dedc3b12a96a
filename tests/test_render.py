"""The shared formatting helpers of llmcost.render: amounts and counts as people read them."""

from __future__ import annotations

import re

import pytest

from llmcost.render import money, plural
from llmcost.render.budget import signed_money
from llmcost.render.layout import _audit_signed_money


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (0, "$0.00"),
        (1234.5, "$1,234.50"),
        (0.0123, "$0.01"),
        (0.0042, "$0.0042"),
        (0.000042, "$0.000042"),
        (0.0000006, "$0.000001"),
        # under half a millionth: not zero, so never '$0.000000'
        (0.0000004, "<$0.000001"),
        (1e-12, "<$0.000001"),
        (-0.0000004, "−<$0.000001"),
        # a negative amount (a downgrade that costs more, a cache that cost more than it
        # saved) has its minus before the dollar sign: it read '$-0.03'
        (-0.03, "−$0.03"),
        (-1234.5, "−$1,234.50"),
        (-0.0042, "−$0.0042"),
    ],
)
def test_money(value, text):
    assert money(value) == text


def test_amounts_given_more_digits_keep_the_minus_before_the_dollar_sign():
    from llmcost.render import money_apart, money_beside

    assert money_beside(-0.0218, -0.02) == "−$0.022"
    assert money_apart([-0.00017, -0.00024]) == ["−$0.00017", "−$0.00024"]


@pytest.mark.parametrize("signed", [signed_money, _audit_signed_money])
def test_signed_money_of_a_tiny_change_is_not_zero(signed):
    """A change of a tenth of a millionth of a dollar read '+$0.000000'."""
    assert signed(0.0000001) == "+<$0.000001"
    assert signed(-0.0000001) == "−<$0.000001"
    assert signed(0.5) == "+$0.50"


def test_a_tiny_total_reads_as_not_zero(cli, jsonl, tmp_path):
    """One input token of gpt-4.1-nano ($0.10 per million) costs $0.0000001: the report read
    'Total cost: $0.000000'; the HTML head escapes the '<'."""
    log = jsonl(
        [
            {
                "timestamp": "2026-10-01T10:00:00Z",
                "model": "gpt-4.1-nano",
                "usage": {"prompt_tokens": 1, "completion_tokens": 0},
            }
        ]
    )
    result = cli("analyze", log)
    assert result.exit_code == 0
    assert "Total cost: <$0.000001 over" in result.stdout
    assert "$0.000000" not in result.stdout
    db, page = tmp_path / "calls.duckdb", tmp_path / "report.html"
    assert cli("ingest", log, "--db", db).exit_code == 0
    period = ("--since", "2026-10-01", "--until", "2026-10-02")
    assert cli("report", "--db", db, *period, "-o", page).exit_code == 0
    assert '<p class="meta">&lt;$0.000001 over' in page.read_text()


@pytest.mark.parametrize(
    ("n", "words", "text"),
    [
        (0, ("call",), "0 calls"),
        (1, ("call",), "1 call"),
        (2, ("call",), "2 calls"),
        (1234, ("call",), "1,234 calls"),
        (None, ("call",), "— calls"),
        (1, ("prompt family", "prompt families"), "1 prompt family"),
        (3, ("prompt family", "prompt families"), "3 prompt families"),
        (1, ("line was", "lines were"), "1 line was"),
        (2, ("line was", "lines were"), "2 lines were"),
        (1.0, ("day",), "1 day"),
        (2.5, ("day",), "2.5 days"),
    ],
)
def test_plural(n, words, text):
    assert plural(n, *words) == text


# A count of one with a plural noun after it ('1 calls', '1 lines'), not '21 calls' or '0.1 days'
ONE_PLURAL = re.compile(r"(?<![\d.,])1 [a-z]+s\b")


def test_a_count_of_one_agrees_in_number(cli, jsonl, tmp_path):
    """One call and one rejected line: every output said '1 calls', '1 lines were rejected',
    'over 1 calls', '1 of 1 budget rules', '1 new calls', …"""
    call = {
        "timestamp": "2026-10-01T10:00:00Z",
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hello"}],
        "usage": {"prompt_tokens": 8, "completion_tokens": 1},
    }
    log = jsonl([call])
    log.write_text(log.read_text() + "{oops\n")
    table = cli("analyze", log, env={"COLUMNS": "200"})
    markdown = cli("analyze", log, "-f", "markdown")
    check = cli("check", log, "--max-cost", "0.000001")
    db = tmp_path / "calls.duckdb"
    ingest = cli("ingest", log, "--db", db)
    assert (table.exit_code, markdown.exit_code, check.exit_code, ingest.exit_code) == (0, 0, 1, 0)
    assert f"{log}: jsonl, 2 lines → 1 call, 0 skipped, 1 rejected" in table.stderr
    assert "Total cost: $0.000002 over 1 call, 2026-10-01" in table.stdout
    assert "Busiest minute: 2026-10-01 10:00 — 1 call, 8 input and 1 output token" in table.stdout
    assert "volumes scaled to a month from 1 day of log" in table.stdout
    assert "1 call has no system prompt and no session id" in table.stdout
    assert "1 line was rejected: kept with their reason" in table.stdout
    assert "- 1 line was rejected: kept with their reason" in markdown.stdout
    assert "LLM budget check: 1 of 1 budget rule breached" in check.stdout
    assert "Not counted: 1 log line was rejected" in check.stdout
    assert re.search(r"Total cost .* FAIL +1 call\b", check.stdout)
    assert "2 lines read = 1 new call + 0 skipped + 1 rejected; 1 call in" in ingest.stderr
    for result in (table, markdown, check, ingest):
        assert not ONE_PLURAL.findall(result.stdout + result.stderr)


def test_no_priced_call_says_why_the_top_calls_are_empty(cli, jsonl):
    """Ten calls of models no table prices printed "Most expensive calls (top 0)" over a
    header row and no rows; the section says there is no priced call and why."""
    from tests.conftest import DATA

    path = DATA / "attribution" / "calls.jsonl"
    for fmt in ("table", "markdown", "html"):
        text = cli("analyze", path, "--format", fmt).stdout
        assert "top 0" not in text
        assert "no priced calls: 10 calls of unpriced models" in text, fmt
        assert "In/out tok" not in text  # the empty table's header
    unknown = jsonl([{"model": "gpt-4o"}, {"model": "acme-small", "usage": {"input_tokens": 5}}])
    text = cli("analyze", unknown, "--format", "markdown").stdout
    assert (
        "no priced calls: 1 call of unpriced models (listed under Unpriced models); "
        "1 call without token counts" in text
    ), text
