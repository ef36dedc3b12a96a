"""``llmcost check``: the CI budget gate (exit 1 when a rule is breached)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from llmcost.commands import common
from llmcost.commands.common import (
    InputFormatOption,
    PricingOption,
    SinceOption,
    UntilOption,
    handles_errors,
    parse_window,
    stderr,
)


class CheckFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


USD = "USD"
RULES = "Rules (override llmcost.yaml budgets:)"
WARN = "Warn-only rules (never fail the run)"


@handles_errors
def check(
    paths: Annotated[
        Optional[list[str]],
        typer.Argument(
            help="Log files, directories, globs or - for stdin (none: what --db holds)."
        ),
    ] = None,
    db: Annotated[
        Optional[Path], typer.Option(help="DuckDB file to ingest into and check (default: memory).")
    ] = None,
    config: common.ConfigOption = None,
    max_cost: Annotated[
        Optional[float],
        typer.Option(help="Fail above this total cost.", metavar=USD, min=0, rich_help_panel=RULES),
    ] = None,
    max_daily_cost: Annotated[
        Optional[float],
        typer.Option(
            help="Fail when a day (UTC) costs more.", metavar=USD, min=0, rich_help_panel=RULES
        ),
    ] = None,
    max_request_cost: Annotated[
        Optional[float],
        typer.Option(
            help="Fail when one call costs more.", metavar=USD, min=0, rich_help_panel=RULES
        ),
    ] = None,
    max_model_cost: Annotated[
        Optional[list[str]],
        typer.Option(
            help="Per-model limit, NAME=USD; '*=USD' for each model not named (repeatable).",
            metavar="NAME=USD",
            rich_help_panel=RULES,
        ),
    ] = None,
    max_feature_cost: Annotated[
        Optional[list[str]],
        typer.Option(
            help="Per-feature limit, NAME=USD or '*=USD' (repeatable).",
            metavar="NAME=USD",
            rich_help_panel=RULES,
        ),
    ] = None,
    max_user_cost: Annotated[
        Optional[list[str]],
        typer.Option(
            help="Per-user limit, ID=USD or '*=USD' (repeatable).",
            metavar="ID=USD",
            rich_help_panel=RULES,
        ),
    ] = None,
    max_increase: Annotated[
        Optional[float],
        typer.Option(
            help="Fail when the total cost grew more than PCT % on --baseline.",
            metavar="PCT",
            min=0,
            rich_help_panel=RULES,
        ),
    ] = None,
    baseline: Annotated[
        Optional[Path],
        typer.Option(
            help="A previous `analyze --format json` report to compare with.", rich_help_panel=RULES
        ),
    ] = None,
    fail_on_unpriced: Annotated[
        bool,
        typer.Option(
            "--fail-on-unpriced", help="Fail when some calls have no price.", rich_help_panel=RULES
        ),
    ] = False,
    warn_cost: Annotated[
        Optional[float],
        typer.Option(help="Warn above this total cost.", metavar=USD, min=0, rich_help_panel=WARN),
    ] = None,
    warn_daily_cost: Annotated[
        Optional[float],
        typer.Option(
            help="Warn when a day (UTC) costs more.", metavar=USD, min=0, rich_help_panel=WARN
        ),
    ] = None,
    warn_request_cost: Annotated[
        Optional[float],
        typer.Option(
            help="Warn when one call costs more.", metavar=USD, min=0, rich_help_panel=WARN
        ),
    ] = None,
    warn_increase: Annotated[
        Optional[float],
        typer.Option(
            help="Warn when the total grew more than PCT %.",
            metavar="PCT",
            min=0,
            rich_help_panel=WARN,
        ),
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    pricing: PricingOption = None,
    input_format: InputFormatOption = None,
    format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="Output format of the rules.")
    ] = CheckFormat.table,
    top: Annotated[
        Optional[int],
        typer.Option(
            help="Models listed under Top models (default 5); the others are summed on one row.",
            min=1,
        ),
    ] = None,
    markdown: Annotated[
        Optional[Path],
        typer.Option(
            "--markdown", help="Also write the Markdown summary here (for a PR/MR comment)."
        ),
    ] = None,
) -> None:
    """Fail (exit 1) when LLM spend breaks a budget rule — the CI gate.

    Rules come from the flags and from `budgets:` in llmcost.yaml (flags win).

    Exit codes: 0 every rule holds (warnings allowed), 1 a rule is breached,
    2 usage or config error, 3 no usable records.

    With GITHUB_ACTIONS=true it also appends a Markdown summary to
    $GITHUB_STEP_SUMMARY and prints ::error:: / ::warning:: annotations.
    """
    import sys

    from llmcost import budgets
    from llmcost import config as cfg
    from llmcost.budgets import Limits, Policy
    from llmcost.commands.common import file_printer, progress_bar
    from llmcost.errors import UsageError
    from llmcost.render import budget as view
    from llmcost.render import github
    from llmcost.report import analyze

    flags = Policy(
        fail=Limits(
            max_cost=max_cost,
            max_daily_cost=max_daily_cost,
            max_request_cost=max_request_cost,
            max_increase_pct=max_increase,
            per_model=budgets.parse_named(max_model_cost, "--max-model-cost"),
            per_feature=budgets.parse_named(max_feature_cost, "--max-feature-cost"),
            per_user=budgets.parse_named(max_user_cost, "--max-user-cost"),
        ),
        warn=Limits(
            max_cost=warn_cost,
            max_daily_cost=warn_daily_cost,
            max_request_cost=warn_request_cost,
            max_increase_pct=warn_increase,
        ),
        fail_on_unpriced=fail_on_unpriced,
    )
    since_ts, until_ts = parse_window(since, until)
    if not paths and db is None:
        raise UsageError("nothing to check", hint="name log files, or --db FILE for stored calls")
    common.check_writable(markdown)  # before reading any log, not after the verdict
    err = stderr()
    with cfg.using(config) as settings:
        policy = (settings.get("budgets") or Policy()).merged(flags)
        if policy.empty():
            raise UsageError(
                "no budget rules to check",
                hint="give e.g. --max-cost 100, or a budgets: section in llmcost.yaml",
            )
        base = budgets.load_report(baseline, "baseline") if baseline else None
        if policy.needs_baseline and base is None:
            raise UsageError(
                "--max-increase (budgets.max_increase_pct) needs a baseline report",
                hint="give --baseline report.json, written by `llmcost analyze --format json`",
            )
        with progress_bar() as progress:
            report = analyze(
                paths or [],
                db=db,
                pricing=pricing or [],
                input_format=input_format,
                since=since_ts,
                until=until_ts,
                on_file=file_printer(err),
                progress=progress,
                stage=progress.stage,
            )
    if report["summary"].get("usage_reports_only"):
        # Provider usage reports alone: their buckets are no calls, so every rule read $0.00
        # over 0 calls and held, a green gate on a log it could not check (audit and export
        # say so too: exit 3)
        from llmcost.errors import NoRecordsError
        from llmcost.render import plural

        buckets = report["usage_reports"]["buckets"]
        raise NoRecordsError(
            "no usable LLM call records were found"
            f" (only {plural(buckets, 'usage-report bucket')}: aggregates, not calls)",
            hint="budget rules are checked on per-call logs; `llmcost analyze` prices usage"
            " and cost reports and compares the cost they report",
        )
    result = budgets.evaluate(report, policy, base, top=top or budgets.TOP_MODELS)

    sections = view.check_sections(result, emoji=format is not CheckFormat.table)
    if format is CheckFormat.json:
        from llmcost.render.json import render

        common.write_stdout(render(result))
    elif format is CheckFormat.markdown:
        common.write_stdout(view.markdown(sections))
    else:
        view.terminal(sections, common.stdout_console(soft_wrap=False))

    summary = github.summary_markdown(result)
    if markdown:
        common.write_output(markdown, summary)
    if github.in_actions():
        target = github.step_summary_path()
        if target:
            try:
                common.write_output(
                    target, summary if summary.endswith("\n") else summary + "\n", append=True
                )
            except UsageError as exc:
                # the job summary is a courtesy: the budget's verdict (its exit code) stands
                text = f"the job summary was not written: {exc.message}"
                err.print(
                    f"warning: {text} ({exc.hint})" if exc.hint else f"warning: {text}",
                    soft_wrap=True,
                    markup=False,
                    highlight=False,
                )
                sys.stderr.write(github.warning(text) + "\n")
        # The runner reads workflow commands from stderr as well: stdout stays the report
        # (JSON for jq, Markdown for a comment), whatever the format.
        for line in github.annotations(result):
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
    err.print(f"llmcost check: {view.headline(result)}", soft_wrap=True)
    if result["status"] == "fail":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(check)
