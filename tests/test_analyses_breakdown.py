"""Where the money goes, by day: calls without a price are counted, never $0."""

from __future__ import annotations

import pytest

from tests.test_analyses_common import PRICES, M, call, report

DAY = 86400
PRICING_ARGS = [x for p in PRICES for x in ("--pricing", str(p))]


def test_a_day_of_unpriced_calls_is_not_a_zero_day(jsonl, cli):
    # Hand-worked: day 1, a big-model call (1000 in x $10/M + 100 out x $20/M = $0.012) and
    # an unpriced one; day 2, two calls of a model no table prices. Before, day 2 read $0.00.
    records = [
        call(0, text="a", inp=1000, out=100),
        call(10, model="mystery-model", text="b"),
        call(DAY, model="mystery-model", text="c"),
        call(DAY + 10, model="mystery-model", text="d"),
    ]
    days = report(jsonl, records)["by_day"]
    assert [(d["requests"], d["unpriced_requests"]) for d in days] == [(2, 1), (2, 2)]
    assert days[0]["cost_usd"] == pytest.approx(1000 * 10 * M + 100 * 20 * M)
    # no priced call: no cost (null, as by_model's), not the $0 of an empty sum
    assert days[1]["cost_usd"] is None
    lines = cli("analyze", str(jsonl(records)), *PRICING_ARGS).stdout.splitlines()
    assert any(line.split() == ["2026-03-02", "2", "$0.01", "+", "1", "unpriced"] for line in lines)
    assert any(line.split() == ["2026-03-03", "2", "unpriced"] for line in lines)
