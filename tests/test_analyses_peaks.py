"""Peak times: the busiest minute and the costliest hour say which calls are in no cost."""

from __future__ import annotations

import html
import json
import re

import pytest


def test_peaks_leave_out_failed_calls_without_usage_as_the_total_does(jsonl, cli):
    """The busiest minute and the costliest hour counted a rate-limited call without usage
    (not billed: the summary's error_unknown_token_requests) among their 'without tokens',
    where the total leaves it out: a gpt-4o-mini call (1,000 x $0.15/M + 100 x $0.60/M =
    $0.00021) and a 429 of it in the same minute read '2 calls, ..., $0.0002 + 1 without
    tokens'. They count as Cost by day does (attribution.without_tokens); an hour of such
    calls only keeps them: its grid cell is '?', 'only calls ... without token counts'."""
    prompt = [{"role": "user", "content": "hello"}]
    ok = {"model": "gpt-4o-mini", "timestamp": "2026-11-02T10:00:00Z", "messages": prompt,
          "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}  # fmt: skip
    limited = {k: v for k, v in ok.items() if k != "usage"} | {"status": 429}
    log = jsonl(
        [
            ok,
            {**limited, "timestamp": "2026-11-02T10:00:30Z"},
            {**limited, "timestamp": "2026-11-02T14:00:00Z"},  # an hour of a 429 only
        ]
    )
    doc = json.loads(cli("analyze", log, "-f", "json").stdout)
    p = doc["peaks"]
    for key in ("busiest_minute", "costliest_hour"):
        got = p[key]
        assert got["cost_usd"] == pytest.approx(0.00021), key
        assert (got["requests"], got["unknown_token_requests"]) == (2, 0), key
        assert got["error_unknown_token_requests"] == 1, key
    cells = {c["hour"]: c for c in p["grid"]}
    assert (cells[10]["unknown_token_requests"], cells[10]["error_unknown_token_requests"]) == (
        0,
        1,
    )
    assert cells[14]["cost_usd"] is None
    assert (cells[14]["unknown_token_requests"], cells[14]["error_unknown_token_requests"]) == (
        1,
        1,
    )
    minute = (
        "Busiest minute: 2026-11-02 10:00 — 2 calls, 1,000 input and 100 output tokens, $0.0002."
    )
    hour = "Costliest hour: 2026-11-02 10h — 2 calls, $0.0002."
    grid = "'?' only calls without token counts"
    for fmt in ("table", "markdown", "html"):
        out = cli("analyze", log, "-f", fmt, env={"COLUMNS": "200"}).stdout
        # each line to its end: nothing after the cost ('+ 1 without tokens' before)
        text = html.unescape(re.sub(r"<[^>]+>", "\n", out))
        lines = [" ".join(line.replace("- ", "", 1).split()) for line in text.splitlines()]
        assert minute[:-1] in lines, fmt
        assert hour[:-1] in lines, fmt
        assert grid in " ".join(lines), fmt
