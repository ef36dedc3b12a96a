"""``llmcost report``: a period of the persistent database, for cron (exit 1 on an alert)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from llmcost.commands import common
from llmcost.commands.common import handles_errors, spinner, stderr


class PeriodName(str, Enum):
    yesterday = "yesterday"
    last_7d = "last-7d"
    last_30d = "last-30d"
    month_to_date = "month-to-date"
    previous_month = "previous-month"


class PeriodFormat(str, Enum):
    table = "table"
    markdown = "markdown"
    html = "html"
    json = "json"


ALERTS = "Alerts (override llmcost.yaml alerts:)"


@handles_errors
def report(
    period: Annotated[
        Optional[PeriodName], typer.Option(help="The period to report on, in --tz days.")
    ] = None,
    since: Annotated[
        Optional[str],
        typer.Option(help="Start (ISO date or time, in --tz unless it has an offset)."),
    ] = None,
    until: Annotated[Optional[str], typer.Option(help="End, excluded (default: now).")] = None,
    tz: Annotated[
        str, typer.Option("--tz", help="Time zone of days and periods (IANA name).")
    ] = "UTC",
    db: Annotated[
        Optional[Path],
        typer.Option(
            help="Database made by `llmcost ingest` (default: $LLMCOST_DB, else "
            "~/.local/share/llmcost/llmcost.duckdb)."
        ),
    ] = None,
    format: Annotated[
        Optional[PeriodFormat],
        typer.Option(
            "--format", "-f", help="Output format (default: from the -o suffix, else table)."
        ),
    ] = None,
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    config: common.ConfigOption = None,
    alert_cost: Annotated[
        Optional[float],
        typer.Option(
            help="Alert when the period costs more.", metavar="USD", min=0, rich_help_panel=ALERTS
        ),
    ] = None,
    alert_jump: Annotated[
        Optional[float],
        typer.Option(
            help="Alert when a day costs more than PCT % above the day before.",
            metavar="PCT",
            min=0,
            rich_help_panel=ALERTS,
        ),
    ] = None,
    alert_anomalies: Annotated[
        bool,
        typer.Option(
            "--alert-anomalies",
            help="Alert on anomalies found by the analyses.",
            rich_help_panel=ALERTS,
        ),
    ] = False,
    top: Annotated[int, typer.Option(help="How many rows in the top-N lists.", min=1)] = 10,
    pricing: common.PricingOption = None,
    now: Annotated[
        Optional[str],
        typer.Option(
            help="Compute the period as if it were this time (ISO, UTC unless it has an "
            "offset; default: now)."
        ),
    ] = None,
) -> None:
    """Report a period (yesterday, last 7 days, …) of the stored calls, compared with the one
    before it; exit 1 when an alert threshold is crossed (so cron mails it).

    Nothing is printed on stderr unless an alert is raised or something fails.
    """

    from rich.console import Console

    from llmcost import budgets, periods, store
    from llmcost import config as cfg
    from llmcost.pricing import load_pricing
    from llmcost.render import budget as view

    windows = periods.resolve(
        period.value if period else None,
        since=since,
        until=until,
        tz=tz,
        now=periods.parse_now(now),
    )
    path = db or store.default_db_path()
    format = common.output_format(format, output, PeriodFormat, PeriodFormat.table)
    common.check_writable(output)
    with cfg.using(config) as settings:
        alerts = (settings.get("alerts") or budgets.Alerts()).merged(
            budgets.Alerts(alert_cost, alert_jump, alert_anomalies)
        )
        book = load_pricing(pricing or [])
        con = store.connect(path, must_exist=True)
        try:
            with spinner() as stage:
                result = periods.run(con, book, windows, top=top, alerts=alerts, stage=stage)
        finally:
            con.close()

    sections = view.period_sections(result, emoji=format is not PeriodFormat.table)
    if format is PeriodFormat.html:
        from llmcost.render.html import render

        text = render(result)
    elif format is PeriodFormat.json:
        from llmcost.render.json import render

        text = render(result)
    elif format is PeriodFormat.markdown:
        from llmcost.render.layout import sections as report_sections

        text = view.markdown(sections + report_sections(result))
    else:
        from llmcost.render.terminal import renderable

        def show(console: Console) -> None:
            view.terminal(sections, console)
            console.print(renderable(result), crop=False)

        if output:
            with common.output_file(output) as fh:
                show(Console(file=fh, width=160, force_terminal=False))
        else:
            show(common.stdout_console())
        text = None
    if text is not None:
        if output:
            common.write_output(output, text)
        else:
            common.write_stdout(text)

    err = stderr()
    for alert in result["alerts"]:
        err.print(f"ALERT: {alert['message']}", soft_wrap=True, markup=False)
    if output and err.is_terminal:
        err.print(f"wrote {output}", soft_wrap=True, markup=False)
    if result["alerts"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(report)
