"""render.md_escape, read back by a CommonMark parser with GitHub's tables (markdown-it-py,
which Rich brings): log text in a table cell or a list item shows as written, nothing more."""

from __future__ import annotations

import json

import pytest
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

from llmcost.render import md_escape

MD = MarkdownIt("commonmark").enable("table")
ZWJ = "\u200d"

TEXTS = [
    "run `ls -l` then `x < y` and stop",  # a code span would show '&lt;' as it is
    "half a span ` here | and ` there",  # ... or run across what was a cell break
    "```python fenced``` and ``double``",
    "C:\\dir\\`not code` and \\[link](http://example.com) and \\| and \\<b>",
    "# a heading? no",
    "- a list item? no",
    "* neither",
    "+ nor this",
    "1. not a numbered list",
    "12) nor this one",
    "---",
    "* * *",
    "~~~ not a fence",
    "    indented: not code",
    "#123 stays a reference, -5 and +5% stay as they are",
    "a | b @someone <script>x</script> [x](y) ![i](z)\nsecond line",
]


def _shown(text: str) -> str:
    """What the reader should see: the text on one line, @ with its joiner, no leading blanks."""
    return text.replace("\n", " ").replace("@", "@" + ZWJ).lstrip(" ")


@pytest.mark.parametrize("text", TEXTS)
def test_log_text_shows_as_written_in_a_table_cell(text):
    html = MD.render(f"| a | b |\n| --- | --- |\n| {md_escape(text)} | end |\n")
    assert f"<td>{escapeHtml(_shown(text))}</td>\n<td>end</td>" in html


@pytest.mark.parametrize("text", TEXTS)
def test_log_text_shows_as_written_in_a_list_item(text):
    html = MD.render(f"- {md_escape(text)}\n- next\n")
    assert html == f"<ul>\n<li>{escapeHtml(_shown(text))}</li>\n<li>next</li>\n</ul>\n"


def test_a_prompt_with_backticks_in_the_analyze_markdown(cli, tmp_path):
    prompt = "why does `x < y` fail | with `KeyError`?"
    record = {"timestamp": "2026-11-02T09:00:00Z", "model": "gpt-4o",
              "messages": [{"role": "user", "content": prompt}],
              "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}  # fmt: skip
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps(record) + "\n")
    html = MD.render(cli("analyze", log, "-f", "markdown").stdout)
    assert "<code>" not in html
    assert f"<td>{escapeHtml(prompt)}</td>" in html
