"""GitHub Actions: the job summary ($GITHUB_STEP_SUMMARY) and workflow-command annotations.

Annotations are ``::error title=…::message`` lines that the runner turns into red and
yellow notes on the job page and the pull request. Their text comes partly from logs, so it
is escaped the way the runner expects (``%``, CR, LF; and ``:`` / ``,`` in properties): a
model name holding a newline cannot start a workflow command of its own.
"""

from __future__ import annotations

import os
from pathlib import Path

from llmcost.render.budget import actual_text, check_sections, limit_text, markdown

TITLE = "llmcost budget"


def in_actions(environ=None) -> bool:
    return (environ or os.environ).get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotations(result: dict) -> list[str]:
    """One ``::error`` per breached rule, one ``::warning`` per warning."""
    out = []
    for rule in result["rules"]:
        if rule["status"] == "ok":
            continue
        command = "error" if rule["status"] == "fail" else "warning"
        if rule["status"] == "unknown":
            verb = "cannot be checked against"
        else:  # "1 call is above", "20 calls are above" (a count of calls is plural)
            several = rule["unit"] == "calls" and rule["actual"] != 1
            verb = "are above" if several else "is above"
        message = (
            f"{rule['title']} ({rule['scope']}): {actual_text(rule)} {verb} the limit "
            f"{limit_text(rule)}"
        )
        if rule["detail"]:
            message += f" — {rule['detail']}"
        out.append(f"::{command} title={escape_property(TITLE)}::{escape_data(message)}")
    return out


def warning(message: str) -> str:
    """A ``::warning`` annotation of the tool itself (not of a rule)."""
    return f"::warning title={escape_property(TITLE)}::{escape_data(message)}"


def summary_markdown(result: dict) -> str:
    """The Markdown a job summary or a pull-request comment shows."""
    return markdown(check_sections(result, emoji=True))


def step_summary_path(environ=None) -> Path | None:
    """The job summary file ($GITHUB_STEP_SUMMARY) the check appends to, when set."""
    target = (environ or os.environ).get("GITHUB_STEP_SUMMARY")
    return Path(target) if target else None
