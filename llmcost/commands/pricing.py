"""``llmcost pricing …``: list, show, resolve, check, diff and import price tables."""

from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from llmcost.commands import common
from llmcost.commands.common import handles_errors
from llmcost.render import count, plural

app = typer.Typer(
    name="pricing",
    help="Inspect, check and update the pricing tables.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
)

PRICING_HELP = "Extra pricing YAML overriding the built-in tables (repeatable)."


class Format(str, Enum):
    table = "table"
    json = "json"


def _book(pricing: list[Path] | None):
    from llmcost.pricing import load_pricing

    return load_pricing(pricing or [])


def _json(data) -> None:
    common.write_stdout(json.dumps(data, indent=2, default=str) + "\n")


def _console():
    return common.stdout_console()


def _money(value) -> str:
    return "" if value is None else f"{value:g}"


@app.command("list")
@handles_errors
def list_(
    provider: Annotated[Optional[str], typer.Option(help="Only this provider.")] = None,
    as_of: Annotated[
        Optional[str], typer.Option("--as-of", help="Prices in force on this date (default today).")
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    pricing: Annotated[Optional[list[Path]], typer.Option("--pricing", help=PRICING_HELP)] = None,
) -> None:
    """Models and their prices in force (USD per million tokens)."""
    from llmcost.pricing_tools import in_force

    on = common.parse_day(as_of, "--as-of") or dt.datetime.now(dt.timezone.utc).date()
    book = _book(pricing)
    known = sorted({prov for prov, _ in book.models})
    if provider and provider.lower() not in known:  # a typo listed nothing, with exit 0
        from llmcost.errors import UsageError

        raise UsageError(
            f"--provider: no pricing table is for {provider!r}",
            hint=f"one of: {', '.join(known)}",
        )
    items = in_force(book, on, provider)
    if format is Format.json:
        _json({"as_of": on.isoformat(), "models": items})
        return
    from rich.text import Text

    from llmcost.render.layout import Table
    from llmcost.render.terminal import FitTable

    rows = []
    for m in items:
        extras = list(m["tiers"])
        extras += [f">{t:,} tok" for t in m["long_context_above"]]
        if m["off_peak"]:
            extras.append("off-peak")
        if m["discount_pct"]:
            extras.append(f"-{m['discount_pct']:g}%")
        rows.append(
            [
                m["provider"],
                m["model"],
                _money(m.get("input")),
                _money(m.get("cache_read")),
                _money(m.get("cache_write")),
                _money(m.get("output")),
                m["from"],
                " ".join(extras),
            ]
        )
    table = Table(
        ["provider", "model", "input", "cache read", "cache write", "output", "from", "extras"],
        rows,
        "llrrrrll",
        optional=("extras", "from"),
        whole=("model",),  # a model name is what the list is for: never cut
    )
    console = _console()
    console.print(Text(f"Prices in force on {on} (USD per million tokens)", style="italic"))
    console.print(FitTable(table), crop=False)
    common.stderr().print(f"[dim]{plural(len(items), 'model')}[/dim]")


@app.command()
@handles_errors
def show(
    model: Annotated[str, typer.Argument(help="A model name as logged (any alias form).")],
    provider: Annotated[Optional[str], typer.Option(help="The provider the call went to.")] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    pricing: Annotated[Optional[list[Path]], typer.Option("--pricing", help=PRICING_HELP)] = None,
) -> None:
    """A model's price history, tiers, long-context and off-peak prices, source and note."""
    from llmcost.pricing_tools import _modifiers_text
    from llmcost.pricing_tools import show as show_model

    info = show_model(_book(pricing), model, provider)
    if format is Format.json:
        _json(info)
        return
    from rich.text import Text

    from llmcost.render.layout import Table
    from llmcost.render.terminal import FitTable

    console = _console()
    console.print(f"[bold]{info['provider']}/{info['model']}[/bold]  ({info['resolved_by']})")
    console.print(f"source: {info['source']}   defined at {info['defined_at']}")
    console.print(f"table version: {info['table_version']}", soft_wrap=True)
    if info["aliases"]:
        console.print("aliases: " + ", ".join(info["aliases"]), soft_wrap=True)
    if info["discount"]:
        console.print(
            f"discount: {info['discount']['percent']:g}% ({info['discount']['origin']}), "
            "applied to every price below"
        )
    if info["note"]:
        console.print(f"note: {info['note']}", soft_wrap=True)
    cols = (
        "from",
        "to",
        "tier",
        "context",
        "time",
        "input",
        "cache read",
        "cache write",
        "write 1h",
        "output",
        "audio in",
        "audio cached",
        "audio out",
        "fees",
        "if usage says",
    )
    rows = []
    for h in info["history"]:
        fees = []
        if h.get("per_request"):
            fees.append(f"${h['per_request']:g}/call")
        if h.get("per_search") is not None:
            fees.append(f"${h['per_search']:g}/search")
        rows.append(
            [
                h["from"],
                h["to"] or "",
                h["tier"],
                f">{h['above_input_tokens']:,}" if h["above_input_tokens"] else "",
                h["off_peak"] or "",
                _money(h.get("input")),
                _money(h.get("cache_read")),
                _money(h.get("cache_write")),
                _money(h.get("cache_write_1h")),
                _money(h.get("output")),
                _money(h.get("input_audio")),
                _money(h.get("cache_read_audio")),
                _money(h.get("output_audio")),
                " ".join(fees),
                _modifiers_text(h.get("modifiers") or {}),
            ]
        )
    # a column no row of this model fills says nothing: left out, so the prices fit
    shown = [j for j, c in enumerate(cols) if c in ("from", "tier") or any(r[j] for r in rows)]
    table = Table(
        [cols[j] for j in shown],
        [[r[j] for j in shown] for r in rows],
        "".join("llllrrrrrrrrrll"[j] for j in shown),
        whole=("tier", "context"),
    )
    console.print(Text("History (USD per million tokens)", style="italic"))
    console.print(FitTable(table), crop=False)


@app.command()
@handles_errors
def resolve(
    name: Annotated[str, typer.Argument(help="A model name as logged.")],
    provider: Annotated[Optional[str], typer.Option(help="The provider the log names.")] = None,
    as_of: Annotated[
        Optional[str],
        typer.Option(
            "--as-of",
            help="The (UTC) date of the call, YYYY-MM-DD: show the price row in force that day "
            "(default today).",
        ),
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    pricing: Annotated[Optional[list[Path]], typer.Option("--pricing", help=PRICING_HELP)] = None,
) -> None:
    """Explain which priced model a logged name resolves to: each candidate name tried,
    in order, which table had it and why it won; then the price a call on --as-of gets, its
    effective dates and source. Exit 1 when nothing matches or no price is in force that
    day (such a call is unpriced)."""
    from llmcost.pricing_tools import price_on

    on = common.parse_day(as_of, "--as-of") or dt.datetime.now(dt.timezone.utc).date()
    book = _book(pricing)
    r = book.resolve(name, provider)
    # prices are effective-dated: a name that resolves prices no call before its first row
    # or after its last one
    when = price_on(book, r.provider, r.model_key, on) if r.priced else None
    priced = when is not None and when["price"] is not None
    if format is Format.json:
        _json(
            {
                "name": name,
                "provider": r.provider,
                "model": r.model_key,
                "priced": priced,
                "how": r.how,
                "steps": list(r.steps),
                "as_of": on.isoformat(),
                "price": when["price"] if when else None,
            }
        )
    else:
        console = _console()
        for i, step in enumerate(r.steps, 1):
            console.print(f"{i:>2}. {step}", soft_wrap=True)
        if not r.priced:
            console.print("→ [bold red]unpriced[/bold red]: no pricing table knows this model")
        elif not priced:
            first, last = when["first"], when["last"]
            if first is None:
                why = "it has no price row"
            elif on.isoformat() < first:
                why = f"its first priced day is {first}"
            elif last is not None and on.isoformat() >= last:  # a row's end is the day after
                why = f"its last priced day is {dt.date.fromisoformat(last) - dt.timedelta(1)}"
            else:
                why = "no row covers that day: a gap between its rows"
            console.print(
                f"→ {r.provider}/{r.model_key}: [bold red]unpriced on {on}[/bold red] ({why})",
                soft_wrap=True,
            )
        else:
            console.print(f"→ [bold]{r.provider}/{r.model_key}[/bold]")
            _print_price_on(console, on, when["price"])
    if not priced:
        raise typer.Exit(1)


def _print_price_on(console, on: dt.date, p: dict) -> None:
    names = (
        ("input", "input"),
        ("cache_read", "cache read"),
        ("cache_write", "cache write"),
        ("cache_write_1h", "cache write 1h"),
        ("output", "output"),
        ("input_audio", "audio in"),
        ("cache_read_audio", "audio cached"),
        ("output_audio", "audio out"),
    )
    prices = ", ".join(f"{label} {p[key]:g}" for key, label in names if p.get(key) is not None)
    fees = []
    if p.get("per_request"):
        fees.append(f"${p['per_request']:g}/call")
    if p.get("per_search") is not None:
        fees.append(f"${p['per_search']:g}/search")
    extras = [f"{tier} tier" for tier in p["tiers"]]
    extras += [f"long context above {t:,} input tokens" for t in p["long_context_above"]]
    if p["off_peak"]:
        extras.append("off-peak prices")
    lines = [
        f"price on {on}: {prices} (USD per million tokens)"
        + (f", {' '.join(fees)}" if fees else "")
        + (f", your -{p['discount_pct']:g}% discount applied" if p["discount_pct"] else ""),
        f"row: from {p['from']} to {p['to'] or 'open'} ({p['defined_at']}, table version "
        f"{p['table_version']})",
        f"source: {p['source']}",
    ]
    if extras:  # the standard row is shown; these price some calls of that day otherwise
        lines.append("also in force: " + ", ".join(extras) + " (see `llmcost pricing show`)")
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False)


@app.command()
@handles_errors
def check(
    files: Annotated[
        Optional[list[Path]],
        typer.Argument(help="Tables to check (default: the shipped tables and llmcost.yaml's)."),
    ] = None,
) -> None:
    """Validate pricing tables: schema, overlapping dates, cache read above input, sources,
    names meaning two models (errors, exit 2); output below input (warnings)."""
    from llmcost import pricing_overrides
    from llmcost.pricing_tools import check as run_check
    from llmcost.pricing_tools import shipped_paths

    if not files:  # llmcost.yaml's tables overlay the shipped ones, as analyze loads them
        settings = pricing_overrides.from_config()
        overlays = pricing_overrides.existing_table_paths(settings)
        result = run_check(shipped_paths(), shipped=True, overlays=overlays)
    else:
        result = run_check(list(files))
    err = common.stderr()
    for w in result.warnings:
        err.print(f"[yellow]warning:[/yellow] {w.file}:{w.line}: {w.message}", soft_wrap=True)
    for e in result.errors:
        err.print(f"[bold red]error:[/bold red] {e.file}:{e.line}: {e.message}", soft_wrap=True)
    summary = (
        f"{plural(len(result.files), 'table')}, {plural(result.models, 'model')}: "
        f"{plural(len(result.errors), 'error')}, {plural(len(result.warnings), 'warning')}"
    )
    print(summary)
    if result.errors:
        raise typer.Exit(2)


@app.command()
@handles_errors
def diff(
    old: Annotated[str, typer.Argument(help="Old tables: a file, a directory or a git revision.")],
    new: Annotated[
        Optional[str],
        typer.Argument(
            help="New tables: a file, a directory or a git revision (default: pricing/)."
        ),
    ] = None,
    log: Annotated[
        Optional[list[str]],
        typer.Option("--log", help="A log whose bill to recompute with both (repeatable)."),
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """What changed between two versions of the tables, and how much a log's bill moves."""
    from llmcost.pricing_tools import alias_diff, bill_delta, book_of, load_version
    from llmcost.pricing_tools import diff as run_diff

    old_tables, old_label = load_version(old)
    new_tables, new_label = load_version(new)
    changes = run_diff(old_tables, new_tables)
    aliases = alias_diff(old_tables, new_tables)
    bill = None
    if log:
        # each side is complete when it is a full directory/revision; a single file is
        # applied on top of the shipped tables, so that other providers still price
        base, _ = load_version(None) if Path(old).is_file() else ([], "")
        old_book = book_of(base, old_tables) if base else book_of(old_tables)
        base, _ = load_version(None) if new and Path(new).is_file() else ([], "")
        new_book = book_of(base, new_tables) if base else book_of(new_tables)
        bill = bill_delta(log, old_book, new_book)
    if format is Format.json:
        _json(
            {"old": old_label, "new": new_label, "changes": changes, "aliases": aliases,
             "bill": bill}
        )  # fmt: skip
        return
    console = _console()
    console.print(
        f"[bold]{old_label} → {new_label}[/bold]: {plural(len(changes), 'model')} changed"
        + (f", {plural(len(aliases), 'alias', 'aliases')} changed" if aliases else "")
    )
    for c in changes:
        console.print(f"  {c['change']:<8} {c['provider']}/{c['model']}", soft_wrap=True)
        for r in c["rows"]:
            if r["change"] == "changed":
                # (no value: a row without an end date, or a price the row does not set)
                shown = lambda k, v: v if v is not None else "open" if k == "to" else "none"  # noqa: E731
                what = ", ".join(
                    f"{k} {shown(k, a)} → {shown(k, b)}" for k, (a, b) in r["fields"].items()
                )
            else:
                what = ", ".join(
                    f"{k} {v}" for k, v in (r.get("new") or r.get("old")).items() if v is not None
                )
            console.print(f"           {r['change']} row {r['row']}: {what}", soft_wrap=True)
    for a in aliases:  # a logged name priced as another model now, or no longer
        what = {
            "added": f"→ {a['new_model']}",
            "removed": f"(was → {a['old_model']})",
            "moved": f"→ {a['new_model']} (was → {a['old_model']})",
        }[a["change"]]
        console.print(
            f"  {a['change']:<8} alias {a['provider']}/{a['alias']} {what}", soft_wrap=True
        )
    if bill:
        _print_bill(console, bill, log)


def _print_bill(console, bill: dict, log: list[str]) -> None:
    """Each version's bill, and the change over the calls both price: a call one version
    does not price is in the other's bill only, and its cost is no change (never $0)."""

    def usd(value) -> str:
        return "unpriced" if value is None else f"${value:,.6f}"

    both = bill["priced_by_both"]
    apart = bill["unpriced_old"] or bill["unpriced_new"]
    head = f"\nBill of {', '.join(log)}: {usd(bill['old_cost_usd'])} → {usd(bill['new_cost_usd'])}"
    if not apart:
        head += f" ({_signed_usd(bill['delta_usd'])})" if bill["delta_usd"] is not None else ""
        console.print(head, soft_wrap=True)
    else:
        # the two bills are of different calls: their difference is no change of price
        console.print(
            head + f" (calls without a price: {count(bill['unpriced_old'])} by the old tables, "
            f"{count(bill['unpriced_new'])} by the new; each bill leaves its own out)",
            soft_wrap=True,
        )
        console.print(
            f"Change over the {plural(both['requests'], 'call')} both price: "
            f"{usd(both['old_cost_usd'])} → {usd(both['new_cost_usd'])} "
            f"({_signed_usd(bill['delta_usd'])})"
            if both["requests"]
            else "Change: none to compare, no call is priced by both versions",
            soft_wrap=True,
        )
    for m in bill["by_model"]:
        old_cost, new_cost = (
            "unpriced" if m[k] is None else m[k] for k in ("old_cost_usd", "new_cost_usd")
        )
        # calls priced by one version only: in one bill, never $0 in the other
        gained, lost = (max(m["unpriced_old"] - m["unpriced_new"], 0),
                        max(m["unpriced_new"] - m["unpriced_old"], 0))  # fmt: skip
        one_side = "; ".join(
            f"{plural(n, 'call')} priced by the {side} tables only: not in the {other} bill"
            for n, side, other in ((lost, "old", "new"), (gained, "new", "old"))
            if n
        )
        if m["delta_usd"]:
            over = (
                plural(m["requests"], "call")
                if m["priced_by_both_requests"] == m["requests"]
                else f"over the {plural(m['priced_by_both_requests'], 'call')} both price"
            )
            console.print(
                f"  {m['provider']}/{m['model']}: {old_cost} → {new_cost} "
                f"({_signed_usd(m['delta_usd'])}, {over}" + (f"; {one_side})" if one_side else ")"),
                soft_wrap=True,
            )
        elif one_side:
            console.print(
                f"  {m['provider']}/{m['model']}: {old_cost} → {new_cost} ({one_side})",
                soft_wrap=True,
            )


def _signed_usd(value: float) -> str:
    """A change in dollars signed as every renderer signs it: "−$2.500000", "+$0.000010"."""
    return ("+" if value > 0 else "−" if value < 0 else "") + f"${abs(value):,.6f}"


@app.command("import-litellm")
@handles_errors
def import_litellm(
    file: Annotated[Path, typer.Argument(help="LiteLLM's model_prices_and_context_window.json.")],
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Write the YAML here (default stdout).")
    ] = None,
    only_missing: Annotated[
        bool,
        typer.Option("--only-missing", help="Only models our tables (and overrides) cannot price."),
    ] = False,
    start: Annotated[
        Optional[str],
        typer.Option("--from", help="Effective date of the imported prices (default 2020-01-01)."),
    ] = None,
) -> None:
    """Convert LiteLLM's community price map into an overlay YAML in our schema.

    A model the map prices 0 input and 0 output is left out (counted on
    stderr) unless the map marks it free, in its name ("-free") or its notes
    ("at no cost"): in the map 0/0 mostly means the price is not known (local
    runtimes, models billed per image), and a $0 row would bill its calls $0
    instead of listing them as unpriced. To price one, add it to the overlay
    by hand with the provider's prices."""
    from llmcost.pricing import load_pricing
    from llmcost.pricing_tools import import_litellm as convert
    from llmcost.pricing_tools import litellm_yaml, read_litellm

    since = common.parse_day(start, "--from") or dt.date(2020, 1, 1)
    data = read_litellm(file)
    result = convert(data, load_pricing() if only_missing else None, only_missing, since)
    text = litellm_yaml(result, dt.datetime.now(dt.timezone.utc).date(), since, file.name)
    if output:
        common.write_output(output, text)
    else:
        common.write_stdout(text)
    err = common.stderr()
    for why in result.dropped:
        err.print(f"[yellow]left out:[/yellow] {why}", soft_wrap=True)
    free = f" ({count(len(result.free))} free, as the map says)" if result.free else ""
    parts = [f"{plural(len(result.models), 'model')} imported{free}"]
    if only_missing:  # without it no name is looked up in our tables
        parts.append(f"{count(result.skipped_known)} already priced")
    parts.append(f"{count(result.skipped_other)} not chat models or without token prices")
    if result.zero_priced:
        parts.append(f"{count(len(result.zero_priced))} priced 0/0")
    err.print(", ".join(parts), soft_wrap=True)
    if result.zero_priced:
        shown = ", ".join(result.zero_priced[:3]) + (", …" if len(result.zero_priced) > 3 else "")
        err.print(
            f"left out {plural(len(result.zero_priced), 'model')} LiteLLM prices 0 input and 0 "
            f"output without marking them free ({shown}): in its map 0/0 mostly means the price "
            "is not known, and they stay unpriced. To price one, add it to the YAML by hand "
            "with the provider's prices (input: 0, output: 0 only if it really is free).",
            soft_wrap=True,
            markup=False,
        )


def register(root) -> None:
    root.add_typer(app, name="pricing")
