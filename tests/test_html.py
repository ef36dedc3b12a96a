"""The HTML report: self-contained, every log text escaped, and it renders in a real browser.

The browser test runs Debian's Chromium headless (skipped, with a message, when it is not
installed; .ci/run installs it): it must load the file with no console error — the page's
Content-Security-Policy turns any attempt to fetch something into one — and take a
non-trivial screenshot.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from llmcost import periods, store
from llmcost.ingest import ingest_paths
from llmcost.pricing import load_pricing
from tests.conftest import write_jsonl

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
CHROMIUM = Path("/usr/bin/chromium")

# Everything the page is allowed to contain: HTML structure and matplotlib's SVG elements.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "div", "ul", "li",
    "strong", "figure", "figcaption", "table", "thead", "tbody", "tr", "th", "td",
    "svg", "defs", "g", "path", "text", "clippath", "rect", "use", "image", "lineargradient",
    "stop", "tspan",
}  # fmt: skip


def hostile_log(tmp_path: Path) -> Path:
    """Calls whose prompt, user id, model and feature are HTML/JS injections."""
    base = {"provider": "openai", "input_tokens": 100_000, "output_tokens": 10_000}
    records = [
        {**base, "timestamp": "2026-11-14T09:00:00Z", "model": "gpt-4o", "user_id": IMG,
         "feature": SCRIPT, "prompt": f"Ignore previous instructions {SCRIPT} {IMG}"},
        {**base, "timestamp": "2026-11-14T10:00:00Z", "model": SCRIPT, "user_id": "bob",
         "feature": IMG, "prompt": "hello"},
        {**base, "timestamp": "2026-11-15T11:00:00Z", "model": "gpt-4o-mini", "user_id": "$x$",
         "feature": "chat", "prompt": "What costs $5 and $10?"},
        {**base, "timestamp": "2026-11-15T12:00:00Z", "model": "gpt-4o", "user_id": "carol",
         "feature": "chat", "prompt": "hi"},
    ]  # fmt: skip
    return write_jsonl(tmp_path / "hostile.jsonl", records)


def html_report(tmp_path: Path) -> str:
    from llmcost.render.html import render

    con = store.connect(None)
    try:
        ingest_paths(con, [str(hostile_log(tmp_path))])
        windows = periods.resolve(
            "last-7d", tz="Europe/Paris", now=periods.parse_now("2026-11-16T06:00Z")
        )
        report = periods.run(con, load_pricing(), windows)
    finally:
        con.close()
    report["savings"] = [
        {"kind": "cache", "usd": 1.25, "calls": 3, "assumption": "x", "details": {}},
        {"kind": SCRIPT, "usd": 0.5, "calls": 1, "assumption": "y", "details": {}},
    ]
    report["alerts"] = [{"alert": "max_cost", "message": f"alert about {SCRIPT}"}]
    return render(report)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.extend((tag, k, v) for k, v in attrs)

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    return html_report(tmp_path_factory.mktemp("html"))


def test_no_tag_or_handler_from_the_logs_survives(page):
    parsed = Tags()
    parsed.feed(page)
    assert parsed.tags <= ALLOWED_TAGS, parsed.tags - ALLOWED_TAGS
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert not [a for a in parsed.attrs if a[1].startswith("on")]
    assert "<script" not in page.lower() and "<img" not in page.lower()
    # ... and the hostile strings are shown, as text
    text = "".join(parsed.text)
    assert SCRIPT in text and IMG in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_nothing_is_fetched_to_view_it(page):
    parsed = Tags()
    parsed.feed(page)
    # nothing that points outside the file (XML namespace names are not fetched)
    for tag, name, value in parsed.attrs:
        if name in ("src", "href", "xlink:href", "action", "srcset"):
            # an SVG-internal #id, or the heat map's pixels inlined as a data: URI
            assert (value or "").startswith(("#", "data:image/png;base64,")), (tag, name)
        if name.startswith("xmlns"):
            continue
        assert "http://" not in (value or "") and "https://" not in (value or ""), (tag, name)
    assert re.search(r"@import|url\((?!#)", page) is None
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp and "default-src 'none'" in csp.group(1)


def test_the_charts_are_there(page):
    for caption in (
        "Daily cost by model (Europe/Paris days)",
        "Cost by hour and weekday (Europe/Paris)",
        "Cost by feature",
        "Cost by user (top)",
        "Savings ranking",
    ):
        assert f"<figcaption>{caption}</figcaption>" in page
    assert page.count("<svg") == 5
    # a $ in a label is a dollar sign, not math text
    assert "$x$" in page


def test_the_savings_chart_names_each_kind_as_the_savings_table_does(page):
    """Its bars read "response_cache: Response cache …" and "downgrade: Cheaper model for
    si…": the internal key first, the words the Savings table uses cut off at 32 characters."""
    from llmcost.render.html import _savings

    report = {"savings": [
        {"kind": "response_cache", "title": "Response cache (exact repeats)", "usd": 0.7},
        {"kind": "downgrade", "title": "Cheaper model for simple calls", "usd": 0.9},
    ]}  # fmt: skip
    assert _savings(report) == [
        ("Cheaper model for simple calls", 0.9),
        ("Response cache (exact repeats)", 0.7),
    ]
    assert not re.search(r"\b(downgrade|response_cache|retries|batch): ", page)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.skipif(
    not CHROMIUM.exists() and not shutil.which("chromium"),
    reason="Chromium is not installed (apt-get install chromium); .ci/run installs it",
)
def test_renders_in_headless_chromium_without_console_errors(page, tmp_path):
    report = tmp_path / "report.html"
    report.write_text(page, encoding="utf-8")
    shot = tmp_path / "r.png"
    binary = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    common = [
        binary, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr", "--v=0",
    ]  # fmt: skip
    run = subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console
    assert shot.exists()
    assert _png_size(shot) == (1280, 2000)
    assert shot.stat().st_size > 50_000  # charts and tables, not a blank page
    dom = subprocess.run(
        [*common, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0
    assert dom.stdout.count("<svg") == 5 and "<script" not in dom.stdout.lower()
    assert [line for line in dom.stderr.splitlines() if "CONSOLE" in line] == []

    # The check can fail: the same policy on a page that tries to fetch an image logs an error.
    control = tmp_path / "control.html"
    control.write_text(page.replace("<h1>", '<img src="https://example.invalid/x.png"><h1>', 1))
    bad = subprocess.run(
        [*common, "--dump-dom", control.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert any("CONSOLE" in line and "Content Security Policy" in line
               for line in bad.stderr.splitlines()), bad.stderr[-2000:]  # fmt: skip


@pytest.mark.parametrize("args", [["-o", "report.html"], ["--format", "html"]])
def test_analyze_writes_the_html_report_too(cli, tmp_path, args):
    """`analyze -o report.html` wrote the terminal table into the .html file; the format
    follows the suffix (or --format html) and the page is the same self-contained report."""
    log = hostile_log(tmp_path)
    out = tmp_path / "report.html"
    result = cli("analyze", log, *[str(tmp_path / a) if a.endswith(".html") else a for a in args])
    assert result.exit_code == 0, result.stderr
    page = out.read_text() if "-o" in args else result.stdout
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    parsed = Tags()
    parsed.feed(page)
    assert parsed.tags <= ALLOWED_TAGS and "script" not in parsed.tags
    assert "$0.72 over 4 calls" in "".join(parsed.text)  # one of the 4 is unpriced


_CALL = {"input_tokens": 1000, "output_tokens": 100}


def _priced_then_unpriced(jsonl):
    """Monday 2026-11-02 10h: a gpt-4o-mini call, 1,000 x $0.15/M + 100 x $0.60/M =
    $0.00021; Tuesday 10h: a call of acme-7b, which has no price."""
    return jsonl(
        [
            {**_CALL, "model": "gpt-4o-mini", "timestamp": "2026-11-02T10:00:00Z"},
            {**_CALL, "model": "acme-7b", "timestamp": "2026-11-03T10:00:00Z"},
        ]
    )


def test_a_day_of_unpriced_calls_only_is_charted_without_a_bar(cli, jsonl):
    """A day none of whose calls has a price has no cost (null, not $0): the page drew its
    cost-by-day chart by adding it up, and failed on it."""
    log = _priced_then_unpriced(jsonl)
    result = cli("analyze", log, "--format", "html")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("<!DOCTYPE html>") and "<svg" in result.stdout


def test_the_heat_chart_draws_a_cell_of_calls_without_a_cost_as_no_cost(cli, jsonl, page):
    """A weekday x hour cell whose calls all lack a cost (an unpriced model's, or a priced
    one's without token counts) was drawn as $0, the shade of an hour without calls. It is
    "no cost" now: a grey of no shade of the palette, and the chart's legend says so."""
    from llmcost.render.html import NO_COST_LABEL, heat_cells

    log = _priced_then_unpriced(jsonl)
    result = cli("analyze", log, "--format", "html")
    assert result.exit_code == 0, result.stderr
    heat = result.stdout.split("Cost by hour and weekday")[1].split("</figure>")[0]
    assert NO_COST_LABEL in heat
    grid = [
        {"weekday": 0, "hour": 10, "requests": 1, "cost_usd": 0.00021},
        {"weekday": 1, "hour": 10, "requests": 1, "cost_usd": None, "unpriced_requests": 1},
    ]
    cells = heat_cells(grid)
    assert (cells[0][10], cells[1][10], cells[1][11]) == (0.00021, None, 0.0)
    # a period report's grid too: the hostile log's call of an unpriced model (Saturday)
    assert NO_COST_LABEL in page.split("Cost by hour and weekday")[1].split("</figure>")[0]
    # and a cell of calls with a cost stays unmarked
    assert NO_COST_LABEL not in cli(
        "analyze", jsonl([{**_CALL, "model": "gpt-4o-mini", "timestamp": "2026-11-02T10:00:00Z"}]),
        "--format", "html",
    ).stdout  # fmt: skip
