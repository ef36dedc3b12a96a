"""``llmcost tokens``: count a text's tokens for some models and price them at today's prices."""

from __future__ import annotations

import json
import math
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from llmcost.commands import common
from llmcost.commands.common import PricingOption, handles_errors
from llmcost.errors import InputError, UsageError

# Models that think before they answer, billed as output, though their tokenizer is not an
# OpenAI reasoning model's (TokenCount.reasoning, which also sets the chat framing): Gemini 2.5
# and 3 (thinking on by default; always on for Pro), DeepSeek's reasoner, Grok 4 and 3 mini,
# Magistral, QwQ.
_THINKING = (
    "gemini-2.5",
    "gemini-3",
    "deepseek-reasoner",
    "deepseek-r1",
    "grok-4",
    "grok-3-mini",
    "magistral",
    "qwq",
)


# ... but not these variants: no thinking (grok-4-fast-non-reasoning), or off by default
# (gemini-2.5-flash-lite), or no text answer (an image, speech or embedding model)
_NOT_THINKING = ("non-reasoning", "-lite", "-image", "-tts", "embedding")


def _thinks(model: str, reasoning: bool) -> bool:
    """Whether ``model``'s answers carry hidden reasoning tokens billed as output."""
    name = model.lower().rsplit("/", 1)[-1]
    return reasoning or (
        name.startswith(_THINKING) and not any(part in name for part in _NOT_THINKING)
    )


class Side(str, Enum):
    input = "input"
    output = "output"


class Format(str, Enum):
    table = "table"
    json = "json"


def _read_input(text: str | None, file: str | None) -> str:
    if text is not None and file is not None:
        raise UsageError("give the text or --file, not both", hint="llmcost tokens --file F")
    if file is not None and file != "-":
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise InputError(
                f"cannot read {file}: {exc}", hint="give a readable UTF-8 text file"
            ) from None
        return _decode(data, file)
    if text is not None and text != "-":
        try:  # bytes of the command line that are not UTF-8 come as lone surrogates
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InputError(
                f"the text is not UTF-8 (a byte that is not, at character {exc.start})",
                hint="give the text as UTF-8, or convert the file it comes from (iconv -t UTF-8)",
            ) from None
        return text
    if file is None and text is None and sys.stdin.isatty():
        raise UsageError(
            "no text to count",
            hint="llmcost tokens 'some text' --model gpt-4o, or --file F, or pipe it in with -",
        )
    # stdin's bytes, decoded as a file's are: its text stream, as the locale has it, either
    # raised on bytes that are not UTF-8 (a traceback) or let them through as lone surrogates,
    # which tiktoken counts as U+FFFD
    stdin = getattr(sys.stdin, "buffer", None)
    return sys.stdin.read() if stdin is None else _decode(stdin.read(), "stdin")


def _decode(data: bytes, name: str) -> str:
    """``data`` as UTF-8, as it is: no newline translation (a text-mode read made a CRLF
    file's line ends one character each, which stdin did not), no byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"cannot read {name}: not UTF-8 ({exc.reason} at byte {exc.start})",
            hint="give a UTF-8 text file (convert it with iconv -t UTF-8)",
        ) from None


def _messages(raw: str) -> list[dict]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise UsageError(
            f"--messages: the input is not JSON ({exc})",
            hint='give a JSON array like [{"role": "user", "content": "Hello"}]',
        ) from None
    if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
        raise UsageError(
            "--messages: the input is not a JSON array of message objects",
            hint='e.g. [{"role": "system", "content": "…"}, {"role": "user", "content": "…"}]',
        )
    return value


@handles_errors
def tokens(
    text: Annotated[
        Optional[str], typer.Argument(help="The text to count; - (or nothing, piped) reads stdin.")
    ] = None,
    file: Annotated[
        Optional[str], typer.Option("--file", help="Read the text from this file (- is stdin).")
    ] = None,
    model: Annotated[
        Optional[list[str]],
        typer.Option("--model", "-m", help="A model to count and price for (repeatable)."),
    ] = None,
    as_: Annotated[
        Side, typer.Option("--as", help="Price the tokens as the prompt (input) or the answer.")
    ] = Side.input,
    messages: Annotated[
        bool,
        typer.Option(
            "--messages",
            help="The input is a JSON array of chat messages (or a Responses API input): "
            "count it with the chat framing the API bills.",
        ),
    ] = False,
    input_tokens: Annotated[
        Optional[int],
        typer.Option(
            "--input-tokens",
            help="With --as output: the prompt's size in tokens, which picks a long-context "
            "model's output price (without it, each tier's price is shown).",
            min=0,
        ),
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    pricing: PricingOption = None,
) -> None:
    """Count the tokens of a text, a file or stdin for one or more models, and price them as
    input or output at today's prices: what will this prompt cost on model X, Y and Z?
    OpenAI models are counted exactly; others (tokenizer not public) are estimated."""
    from llmcost.api import UnpricedModelError, _count_tokens, load_pricing, price

    if not model:
        raise UsageError("name at least one model", hint="--model gpt-4o --model claude-sonnet-4-5")
    if messages and as_ is Side.output:
        raise UsageError(
            "--messages counts a prompt; it cannot be priced --as output",
            hint="drop --messages to count an answer's text",
        )
    if input_tokens is not None and as_ is Side.input:
        raise UsageError(
            "--input-tokens gives the prompt's size for --as output",
            hint="the text is the prompt when priced --as input",
        )
    raw = _read_input(text, file)
    subject = _messages(raw) if messages else raw
    book = load_pricing(pricing or [])
    rows = []
    counted = {}  # the text's count by encoding: models that share one count it once
    for name in dict.fromkeys(model):
        n = _count_tokens(subject, name, pricing=book, counted=counted)
        usage = {"input_tokens": int(n), "output_tokens": 0}
        if as_ is Side.output:  # the prompt's size picks a long-context tier's output price
            usage = {"input_tokens": input_tokens or 0, "output_tokens": int(n)}
        row = {
            "model": name,
            "tokens": int(n),
            "token_source": n.source,
            "encoding": n.encoding,
            "factor": n.factor,
            "reasoning": _thinks(name, n.reasoning),  # hidden reasoning billed as output
            "priced": False,
            "priced_as": None,
            "usd_per_million": None,
            "cost_usd": None,
            "price_from": None,
            "above_input_tokens": None,  # the long-context tier priced at (None: standard)
            # each tier the price may be at: an estimated input near a threshold, or an
            # output priced with no --input-tokens (a long-context model's tier is by input)
            "tiers": None,
            "unpriced_reason": None,
        }
        try:
            cost = price(name, usage, style="generic", pricing=book)
        except UnpricedModelError as exc:
            row["unpriced_reason"] = exc.message
        else:
            part = cost.input if as_ is Side.input else cost.output
            per_token = part / int(n) if int(n) else None
            if per_token is None:  # no token (an empty text): the price of one, not "—"
                one = (
                    {"input_tokens": 1, "output_tokens": 0}
                    if as_ is Side.input
                    else {"input_tokens": input_tokens or 0, "output_tokens": 1}
                )
                unit = price(name, one, style="generic", pricing=book)
                per_token = unit.input if as_ is Side.input else unit.output
            row.update(
                priced=True,
                priced_as=f"{cost.priced_provider}/{cost.model_key}",
                cost_usd=float(round(part, 12)),
                usd_per_million=float(round(per_token * 1_000_000, 9)),
                price_from=cost.price_from.isoformat(),
                above_input_tokens=cost.price_above_tokens or None,
            )
            if n.source == "estimated" and as_ is Side.input and int(n):
                row["tiers"] = _tiers_near(name, int(n), book)
            elif as_ is Side.output and input_tokens is None:
                row["tiers"] = _output_tiers(name, int(n), cost, book)
        rows.append(row)
    from llmcost.tokens import has_uncounted_parts

    # an image, audio or file part is billed by its size, which no text count can give
    uncounted = messages and has_uncounted_parts(subject)
    result = {
        "as": as_.value,
        "input_tokens": input_tokens,  # the prompt's size given for --as output (None: not)
        "messages": messages,
        "uncounted_parts": bool(uncounted),
        "characters": len(raw),
        "pricing_version": book.version,
        "pricing_overlays": book.overlays,
        "models": rows,
    }
    if format is Format.json:
        common.write_stdout(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        return
    _print_table(result)
    if uncounted:
        common.stderr().print(
            "[yellow]not counted:[/yellow] the messages hold image, audio or file parts, "
            "billed by their size: every count and cost above is a lower bound",
            soft_wrap=True,
        )
    reasoning = [r["model"] for r in rows if r["reasoning"]]
    if reasoning and as_ is Side.output:
        common.stderr().print(
            f"[yellow]reasoning models ({', '.join(reasoning)}):[/yellow] they also bill "
            "hidden reasoning (thinking) tokens as output, which no text shows: their count "
            "is a lower bound",
            soft_wrap=True,
        )
    from llmcost.render import money_apart
    from llmcost.tokens import ESTIMATE_SPREAD_PCT

    for r in rows:  # the price tier chosen from an estimate: each tier it may be in
        if r.get("tiers") and as_ is Side.input:
            low, high = r["tiers"][0], r["tiers"][-1]
            low_cost, high_cost = money_apart([low["cost_usd"], high["cost_usd"]])
            side = "above" if r["above_input_tokens"] else "at or below"
            common.stderr().print(
                f"[yellow]tier uncertain:[/yellow] {escape(r['model'])}'s {r['tokens']:,} "
                f"tokens are an estimate (±{ESTIMATE_SPREAD_PCT}%) near its "
                f"{high['above_input_tokens']:,}-token long-context threshold: "
                f"{_per_million(low['usd_per_million'])}/1M ({low_cost}) at or "
                f"below it, {_per_million(high['usd_per_million'])}/1M "
                f"({high_cost}) above; the estimate is {side} it",
                soft_wrap=True,
            )
    for r in rows:  # an output price by the prompt's size, and no size given
        if r.get("tiers") and as_ is Side.output:
            low, *high = r["tiers"]
            low_cost, *high_costs = money_apart([t["cost_usd"] for t in r["tiers"]])
            above = ", ".join(
                f"{_per_million(t['usd_per_million'])}/1M ({cost}) above "
                f"{t['above_input_tokens']:,}"
                for t, cost in zip(high, high_costs)
            )
            common.stderr().print(
                f"[yellow]tier unknown:[/yellow] {escape(r['model'])}'s output price depends "
                f"on the prompt's size, and none was given: "
                f"{_per_million(low['usd_per_million'])}/1M ({low_cost}) with "
                f"a prompt of at most {high[0]['above_input_tokens']:,} input tokens (shown), "
                f"{above}; give --input-tokens N to price one",
                soft_wrap=True,
            )
    # each model's own reason: a retired model is in the tables, with no price in force today
    for r in rows:
        if not r["priced"]:
            common.stderr().print(
                f"[yellow]unpriced:[/yellow] {escape(r['unpriced_reason'])} (counted anyway; "
                "add a price with --pricing)",
                soft_wrap=True,
            )


def _tiers_near(name: str, n: int, book) -> list[dict] | None:
    """The long-context tiers an estimated input count of ``n`` may fall in (the true count
    may be ESTIMATE_SPREAD_PCT either side of it): None when all of that is in one tier, else
    each tier's price and the cost of the ``n`` tokens at it (lowest first), with the
    threshold it starts above."""
    from llmcost.api import price
    from llmcost.tokens import ESTIMATE_SPREAD_PCT

    spread = ESTIMATE_SPREAD_PCT / 100
    found = {}
    for count in (max(1, int(n * (1 - spread))), n, math.ceil(n * (1 + spread))):
        usage = {"input_tokens": count, "output_tokens": 0}
        cost = price(name, usage, style="generic", pricing=book)
        per_token = cost.input / count
        found[cost.price_above_tokens or 0] = per_token
    return _tier_rows(found, n) if len(found) > 1 else None


def _output_tiers(name: str, n: int, cost, book) -> list[dict] | None:
    """A long-context model's output price at each of its tiers (by input tokens), and the
    cost of ``n`` output tokens at it, standard first; None when its output price has one
    tier today."""
    from llmcost.api import price

    model = book.models.get((cost.priced_provider, cost.model_key))
    thresholds = sorted(
        {
            int(lc["above_input_tokens"])
            for row in (model.prices if model else [])
            for lc in row.get("long_context") or []
        }
    )
    found = {}
    for above in [0, *thresholds]:
        usage = {"input_tokens": above + 1 if above else 0, "output_tokens": max(n, 1)}
        tier = price(name, usage, style="generic", pricing=book)
        if (tier.price_above_tokens or 0) == above:  # a tier in force today
            found[above] = tier.output / max(n, 1)
    return _tier_rows(found, n) if len(set(found.values())) > 1 else None


def _tier_rows(found: dict[int, float], n: int) -> list[dict]:
    """``found`` (the input tokens a tier starts above -> its price per token) as the JSON's
    rows, lowest tier first, each with the cost of ``n`` tokens at it."""
    return [
        {
            "above_input_tokens": above,
            "usd_per_million": float(round(per_token * 1_000_000, 9)),
            "cost_usd": float(round(per_token * n, 12)),
        }
        for above, per_token in sorted(found.items())
    ]


def _per_million(usd: float | None) -> str:
    """A price per million tokens as money: "$2.50", "$3.00", or every digit it has
    ("$0.075", "$0.0375")."""
    if usd is None:
        return "—"
    return f"${usd:,.2f}" if round(usd, 2) == usd else f"${usd:,g}"


def _print_table(result: dict) -> None:
    from rich.text import Text

    from llmcost.render import money_apart, plural
    from llmcost.render.layout import Table
    from llmcost.render.terminal import FitTable

    rows = []
    for r in result["models"]:
        estimated = r["token_source"] == "estimated"
        rows.append(
            [
                r["model"],
                # an estimate is '~' in Tokens, its factor here: 'o200k_base ×1.2 (est.)'
                # made the table too wide for 80 columns with the model's name whole
                r["encoding"] + (f" ×{r['factor']:g}" if estimated else ""),
                ("~" if estimated else "") + f"{r['tokens']:,}",
                _per_million(r["usd_per_million"]),
                r["cost_usd"] if r["priced"] else "unpriced",  # in dollars below
                # the model priced as, and its provider apart: 'google/gemini-2.5-pro' cut at
                # 80 columns read 'google/gemini…', the provider kept and the model lost
                *(r["priced_as"].split("/", 1) if r["priced_as"] else ["—", "—"])[::-1],
            ]
        )
        # an estimate near a long-context threshold: the other tier's price, a row under it
        for t in r.get("tiers") or []:
            if t["above_input_tokens"] == (r["above_input_tokens"] or 0):
                continue
            side = (
                # an output price by the prompt's size (no --input-tokens given)
                f"prompt >{t['above_input_tokens']:,}"
                if result["as"] == "output"
                else f"if over {t['above_input_tokens']:,}"
                if t["above_input_tokens"]
                else f"if at most {r['above_input_tokens']:,}"
            )
            rows.append(["", side, "", _per_million(t["usd_per_million"]), t["cost_usd"], "", ""])
    # the Cost column's amounts with the digits that tell them apart: a model's two tiers of
    # 11 tokens ($15 and $22.50 per million) both read "$0.0002"
    costs = [row[4] for row in rows if not isinstance(row[4], str)]
    shown = iter(money_apart(costs))
    for row in rows:
        if not isinstance(row[4], str):
            row[4] = next(shown)
    table = Table(
        # "USD/1M", not "USD / 1M": a header that does not wrap leaves the names their width
        ["Model", "Tokenizer", "Tokens", "USD/1M", "Cost", "Priced as", "Provider"],
        rows,
        "llrrrll",
        optional=("Provider",),  # the model priced as names it, mostly
        # the model asked for is cut as names are, told apart from the others; how it was
        # counted wraps rather than being cut (both were never cut: a Bedrock id printed the
        # table 133 columns wide at 80)
        fold=("Tokenizer",),
    )
    console = common.stdout_console()
    console.print(
        Text(
            f"{plural(result['characters'], 'character')} priced as {result['as']} at today's "
            "prices",
            style="italic",
        )
    )
    if any(r["token_source"] == "estimated" for r in result["models"]):
        console.print(
            Text(
                "~ estimated (tokenizer not public): the Tokenizer's count × a family factor",
                style="italic",
            )
        )
    console.print(FitTable(table), crop=False)


def register(app: typer.Typer) -> None:
    app.command()(tokens)
