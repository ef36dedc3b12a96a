"""The shared formatting helpers of llmcost.render: amounts and counts as people read them."""

from __future__ import annotations

import pytest

from llmcost.render import money
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
    ],
)
def test_money(value, text):
    assert money(value) == text


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
