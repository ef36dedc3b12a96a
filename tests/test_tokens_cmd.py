"""`llmcost tokens`: count a string, a file or stdin for several models and price them.

Prices come from the round overlays in tests/data/audit (gpt-4o-mini $1/$2, claude-haiku-4-5
$10/$20 per million input/output tokens). "tiktoken is great!" is 6 o200k_base tokens
(test_tokens.test_known_token_ids): gpt-4o-mini counts 6, claude-haiku-4-5 is estimated as
round(6 x 1.2) = 7.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmcost.tokens import get_encoding

DATA = Path(__file__).parent / "data" / "audit"
PRICING = [
    "--pricing", str(DATA / "openai-prices.yaml"),
    "--pricing", str(DATA / "anthropic-prices.yaml"),
]  # fmt: skip
TEXT = "tiktoken is great!"
MODELS = ["--model", "gpt-4o-mini", "--model", "claude-haiku-4-5"]


def _json(cli, *args, input: str | None = None) -> dict:
    result = cli("tokens", *args, *PRICING, "--format", "json", input=input)
    assert result.exit_code == 0, result.stderr
    return {m["model"]: m for m in json.loads(result.stdout)["models"]}


def _check_input_prices(models: dict) -> None:
    mini, claude = models["gpt-4o-mini"], models["claude-haiku-4-5"]
    assert (mini["tokens"], mini["token_source"], mini["factor"]) == (6, "counted", 1.0)
    assert mini["cost_usd"] == pytest.approx(6 * 1.00 / 1e6)
    assert mini["usd_per_million"] == 1.0
    assert mini["priced_as"] == "openai/gpt-4o-mini"
    assert (claude["tokens"], claude["token_source"], claude["factor"]) == (7, "estimated", 1.2)
    assert claude["cost_usd"] == pytest.approx(7 * 10.00 / 1e6)


def test_string_for_two_models(cli) -> None:
    _check_input_prices(_json(cli, TEXT, *MODELS))


def test_file(cli, tmp_path: Path) -> None:
    path = tmp_path / "prompt.txt"
    path.write_text(TEXT, encoding="utf-8")
    _check_input_prices(_json(cli, "--file", path, *MODELS))


@pytest.mark.parametrize("args", [["-"], ["--file", "-"], []])
def test_stdin(cli, args: list[str]) -> None:
    _check_input_prices(_json(cli, *args, *MODELS, input=TEXT))


def test_text_that_is_not_utf8_is_refused_from_a_file_stdin_or_the_command_line(
    cli, tmp_path: Path
) -> None:
    # Latin-1 piped in raised a UnicodeDecodeError traceback under a strict UTF-8 stdin, and
    # was counted as U+FFFD characters under a surrogate-escaping one (as a command-line
    # argument with those bytes was); a file said so. Each now says the input is not UTF-8.
    latin1 = "café naïve".encode("latin-1")
    path = tmp_path / "latin1.txt"
    path.write_bytes(latin1)
    for args, input in (
        (["--file", path], None),
        (["--file", "-"], latin1),
        (["-"], latin1),
        ([], latin1),
        (["caf\udce9 na\udcefve"], None),  # argv bytes Python could not decode
    ):
        result = cli("tokens", *args, *MODELS, *PRICING, input=input)
        assert result.exit_code == 2, (args, result.stdout)
        assert "not UTF-8" in result.stderr, (args, result.stderr)
        assert result.stdout == ""


def test_a_crlf_text_is_counted_as_it_is_from_a_file_or_stdin(cli, tmp_path: Path) -> None:
    # --file read the text in text mode: a CRLF file's "\r\n" became "\n", 2 characters
    # fewer than the same bytes piped in (or sent to the API)
    data = b"tiktoken is great!\r\nSo is llmcost.\r\n"
    path = tmp_path / "crlf.txt"
    path.write_bytes(data)
    counted = len(get_encoding("o200k_base").encode_ordinary(data.decode()))
    for args, input in ((["--file", path], None), (["-"], data)):
        result = cli("tokens", *args, "--model", "gpt-4o-mini", *PRICING, "-f", "json", input=input)
        assert result.exit_code == 0, result.stderr
        out = json.loads(result.stdout)
        assert out["characters"] == len(data) == 36, args
        assert out["models"][0]["tokens"] == counted, args


def test_priced_as_output(cli) -> None:
    models = _json(cli, TEXT, *MODELS, "--as", "output")
    assert models["gpt-4o-mini"]["cost_usd"] == pytest.approx(6 * 2.00 / 1e6)
    assert models["claude-haiku-4-5"]["cost_usd"] == pytest.approx(7 * 20.00 / 1e6)


def test_messages_get_chat_framing(cli) -> None:
    messages = json.dumps([{"role": "user", "content": TEXT}])
    models = _json(cli, messages, *MODELS, "--messages")
    # 3 framing + "user" (1) + 6 content + 3 reply priming
    assert models["gpt-4o-mini"]["tokens"] == 13
    assert models["gpt-4o-mini"]["cost_usd"] == pytest.approx(13 / 1e6)
    assert models["claude-haiku-4-5"]["tokens"] == 16  # round(13 x 1.2)


def test_messages_of_a_responses_input_count_its_function_calls(cli) -> None:
    # a Responses API input pasted with --messages: its function call and output were not
    # counted (see test_api.test_count_tokens_of_a_responses_input_counts_its_function_calls)
    from llmcost import tokens

    items = [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": TEXT}]},
        {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": '{"q": 1}'},
        {"type": "function_call_output", "call_id": "c1", "output": "found it"},
    ]
    models = _json(cli, json.dumps(items), *MODELS, "--messages")
    exact = tokens.responses_input_tokens(items, None, "o200k_base")
    assert models["gpt-4o-mini"]["tokens"] == exact == 34  # 23 before
    assert models["claude-haiku-4-5"]["tokens"] == round(exact * 1.2)


def test_table_labels_estimates_and_unpriced(cli) -> None:
    result = cli("tokens", TEXT, *MODELS, "--model", "no-such-model-9", *PRICING)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    # an estimate is labelled by its factor beside the tokenizer and a '~' on its count (it
    # read 'o200k_base ×1.2 (est.)', which left 80 columns no room for the model's name)
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line}
    assert rows["claude-haiku-4-5"][1:4] == ["o200k_base", "×1.2", "~7"]
    assert rows["no-such-model-9"][1:4] == ["o200k_base", "×1.1", "~7"]  # the default factor
    assert rows["gpt-4o-mini"][1:3] == ["o200k_base", "6"]  # counted: no mark
    assert "~ estimated (tokenizer not public): the Tokenizer's count × a family factor" in out
    assert "unpriced" in out
    assert "$0.000006" in out and "$0.000070" in out
    assert "$1.00" in out and "$10.00" in out  # the prices per million, as money ("$1" before)
    assert "no-such-model-9" in result.stderr and "unpriced" in result.stderr


def test_unknown_model_still_counts(cli) -> None:
    models = _json(cli, TEXT, "--model", "no-such-model-9")
    unknown = models["no-such-model-9"]
    assert (unknown["tokens"], unknown["token_source"]) == (7, "estimated")  # round(6 x 1.1)
    assert unknown["priced"] is False and unknown["cost_usd"] is None
    assert "no price" in unknown["unpriced_reason"]


@pytest.mark.parametrize(
    ("args", "input"),
    [
        ([TEXT, "--bogus", "--model", "gpt-4o"], None),  # unknown option
        ([TEXT], None),  # no model
        ([TEXT, "--model", "gpt-4o", "--as", "sideways"], None),
        ([TEXT, "--file", "x.txt", "--model", "gpt-4o"], None),  # text and file
        (["--file", "missing.txt", "--model", "gpt-4o"], None),
        (["not json", "--messages", "--model", "gpt-4o"], None),
        (['{"role": "user"}', "--messages", "--model", "gpt-4o"], None),  # not an array
        (["[]", "--messages", "--as", "output", "--model", "gpt-4o"], None),
    ],
)
def test_usage_errors_exit_2(cli, args: list[str], input: str | None) -> None:
    result = cli("tokens", *args, input=input)
    assert result.exit_code == 2, result.stdout


def test_a_reasoning_models_answer_is_said_to_be_a_lower_bound(cli) -> None:
    """o4-mini bills hidden reasoning as output: a text priced --as output says so (stderr,
    and 'reasoning' in the JSON); gpt-4o-mini's count is its whole output."""
    models = _json(cli, TEXT, "--model", "o4-mini", "--model", "gpt-4o-mini", "--as", "output")
    assert (models["o4-mini"]["tokens"], models["o4-mini"]["reasoning"]) == (6, True)
    assert models["gpt-4o-mini"]["reasoning"] is False
    result = cli("tokens", TEXT, "--model", "o4-mini", "--model", "gpt-4o-mini", "--as", "output")
    assert result.exit_code == 0, result.stderr
    assert "reasoning models (o4-mini): they also bill hidden reasoning" in result.stderr
    assert "gpt-4o-mini" not in result.stderr
    assert "reasoning" not in cli("tokens", TEXT, "--model", "o4-mini").stderr  # as input


def test_an_unpriced_model_says_why(cli, tmp_path: Path) -> None:
    # a retired model is in the tables, with no price in force today: stderr said 'no price
    # in the tables' for it as for a name no table knows
    retired = tmp_path / "retired.yaml"
    retired.write_text(
        "provider: openai\nversion: 2026-01-01\nsource: https://example.test/retired\n"
        "models:\n  old-model-x:\n    encoding: o200k_base\n    prices:\n"
        "      - from: 2024-01-01\n        to: 2025-01-01\n        input: 1.00\n"
        "        output: 2.00\n"
    )
    args = ["--model", "old-model-x", "--model", "mystery-model-y", "--pricing", retired]
    result = cli("tokens", TEXT, *args)
    assert result.exit_code == 0, result.stderr
    err = " ".join(result.stderr.split())
    assert "unpriced: no price for 'old-model-x': old-model-x has no price in force on" in err
    assert "unpriced: no price for 'mystery-model-y': no pricing table knows this model" in err
    assert "no price in the tables" not in err


def test_an_empty_text_still_shows_the_price(cli) -> None:
    # 0 tokens cost $0.00, but the model's price is known: 'USD / 1M' read '—', as for an
    # unpriced model
    models = _json(cli, "", *MODELS)
    assert models["gpt-4o-mini"]["tokens"] == 0
    assert models["gpt-4o-mini"]["cost_usd"] == 0
    assert models["gpt-4o-mini"]["usd_per_million"] == pytest.approx(1.00)
    assert models["claude-haiku-4-5"]["usd_per_million"] == pytest.approx(10.00)
    output = cli("tokens", "--as", "output", *MODELS, *PRICING, "--format", "json", input="")
    assert output.exit_code == 0, output.stderr
    prices = [m["usd_per_million"] for m in json.loads(output.stdout)["models"]]
    assert prices == [pytest.approx(2.00), pytest.approx(20.00)]
    table = cli("tokens", "", *MODELS, *PRICING, env={"COLUMNS": "120"})
    [row] = [line for line in table.stdout.splitlines() if line.startswith("gpt-4o-mini ")]
    assert "$1.00" in row and "—" not in row


def test_messages_with_an_image_say_the_count_is_a_lower_bound(cli) -> None:
    # the image part is billed by its size and not counted: the table read as the exact
    # prompt cost of a prompt whose image was left out
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": TEXT},
                {"type": "image_url", "image_url": {"url": "https://example.test/a.png"}},
            ],
        }
    ]
    args = ["-", "--messages", "--model", "gpt-4o-mini", *PRICING]
    table = cli("tokens", *args, input=json.dumps(messages))
    assert table.exit_code == 0, table.stderr
    assert "image, audio or file parts" in table.stderr and "lower bound" in table.stderr
    out = cli("tokens", *args, "--format", "json", input=json.dumps(messages))
    assert json.loads(out.stdout)["uncounted_parts"] is True
    plain = [{"role": "user", "content": TEXT}]
    out = cli("tokens", *args, "--format", "json", input=json.dumps(plain))
    assert json.loads(out.stdout)["uncounted_parts"] is False
    table = cli("tokens", *args, input=json.dumps(plain))
    assert "lower bound" not in table.stderr


def test_models_that_think_are_said_to_bill_more_output(cli) -> None:
    # Gemini 2.5 Pro always thinks (billed as output), yet only OpenAI's reasoning models
    # were said to make a counted answer a lower bound
    args = [TEXT, "--as", "output", "--model", "gemini-2.5-pro", "--model", "gpt-4o-mini"]
    result = cli("tokens", *args, *PRICING)
    assert result.exit_code == 0, result.stderr
    assert "reasoning models (gemini-2.5-pro): they also bill hidden reasoning" in " ".join(
        result.stderr.split()
    )
    models = _json(cli, *args)
    assert models["gemini-2.5-pro"]["reasoning"] is True
    assert models["gpt-4o-mini"]["reasoning"] is False
    lite = _json(cli, TEXT, "--as", "output", "--model", "gemini-2.5-flash-lite")
    assert lite["gemini-2.5-flash-lite"]["reasoning"] is False  # thinking off by default
    # the count itself is unchanged: o200k_base x 1.1, not an OpenAI reasoning framing
    assert models["gemini-2.5-pro"]["tokens"] == round(6 * 1.1)


def _long_context_tables(tmp_path: Path, above: int) -> list:
    """Both overlay models with a long-context tier above ``above`` input tokens (x4)."""
    paths = []
    for provider, model, encoding in [
        ("openai", "gpt-4o-mini", "    encoding: o200k_base\n"),
        ("anthropic", "claude-haiku-4-5", ""),
    ]:
        path = tmp_path / f"{provider}-long.yaml"
        base = {"gpt-4o-mini": (1, 2), "claude-haiku-4-5": (10, 20)}[model]
        path.write_text(
            f"provider: {provider}\nversion: 2026-01-01\nsource: https://example.test/x\n"
            f"models:\n  {model}:\n{encoding}    prices:\n      - from: 2024-01-01\n"
            f"        input: {base[0]}\n        output: {base[1]}\n        long_context:\n"
            f"          - above_input_tokens: {above}\n            input: {base[0] * 4}\n"
            f"            output: {base[1] * 4}\n"
        )
        paths += ["--pricing", path]
    return paths


def test_a_tier_chosen_from_an_estimate_prices_both_tiers(cli, tmp_path: Path) -> None:
    # claude-haiku-4-5's 7 tokens are round(6 x 1.2), an estimate: the true count may be 6, at
    # or under the threshold of 6, so the long-context price ($40/1M) read as exact when the
    # standard one ($10/1M) may apply. gpt-4o-mini's 6 are counted: its tier is known.
    tables = _long_context_tables(tmp_path, 6)
    result = cli("tokens", TEXT, *MODELS, *tables, "--format", "json")
    assert result.exit_code == 0, result.stderr
    models = {m["model"]: m for m in json.loads(result.stdout)["models"]}
    claude, mini = models["claude-haiku-4-5"], models["gpt-4o-mini"]
    assert (claude["tokens"], claude["usd_per_million"], claude["above_input_tokens"]) == (7, 40, 6)
    assert [(t["above_input_tokens"], t["usd_per_million"]) for t in claude["tiers"]] == [
        (0, 10),
        (6, 40),
    ]
    assert [t["cost_usd"] for t in claude["tiers"]] == [pytest.approx(7e-5), pytest.approx(28e-5)]
    assert (mini["usd_per_million"], mini["tiers"], mini["above_input_tokens"]) == (1, None, None)
    table = cli("tokens", TEXT, *MODELS, *tables, env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("claude-haiku-4-5 "))
    assert "$40.00" in lines[at]
    assert lines[at + 1].split() == ["if", "at", "most", "6", "$10.00", "$0.000070"]
    err = " ".join(table.stderr.split())
    assert "tier uncertain: claude-haiku-4-5's 7 tokens are an estimate" in err
    assert "gpt-4o-mini" not in err
    # an unpriced model's row has the same keys
    mystery = _json(cli, TEXT, "-m", "mystery-model-y", "-m", "gpt-4o-mini")
    assert set(mystery["mystery-model-y"]) == set(mystery["gpt-4o-mini"])
    # far from the threshold, the estimate's tier is the only one
    far = _json(cli, TEXT, *MODELS, *_long_context_tables(tmp_path, 1000))
    assert far["claude-haiku-4-5"]["tiers"] is None


def test_priced_as_keeps_the_model_at_80_columns(cli) -> None:
    # 'google/gemini-2.5-pro' and 'anthropic/claude-sonnet-4-5' were cut to 'google/gemini…'
    # and 'anthro…net-4-5' at 80 columns: the provider kept, the model priced as cut. The
    # provider is a column of its own, left out first.
    args = ["-m", "gemini-2.5-pro", "-m", "claude-sonnet-4-5", "-m", "claude-sonnet-4-6"]
    result = cli("tokens", TEXT, *args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line}
    assert rows["gemini-2.5-pro"][-1].startswith("gemini-2.5")  # the model, not 'google/'
    assert "google/" not in result.stdout and "anthropic/" not in result.stdout
    cut = rows["claude-sonnet-4-5"][-1], rows["claude-sonnet-4-6"][-1]
    assert cut[0] != cut[1] and cut[0].startswith("claud") and cut[0].endswith("4-5")
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    wide = cli("tokens", TEXT, *args, env={"COLUMNS": "160"})
    rows = {line.split()[0]: line.split() for line in wide.stdout.splitlines() if line}
    assert rows["claude-sonnet-4-5"][-2:] == ["claude-sonnet-4-5", "anthropic"]


def test_an_output_price_by_the_prompts_size_shows_each_tier(cli, tmp_path: Path) -> None:
    # a long-context model's output price depends on the INPUT size: --as output showed the
    # standard output price ($2/1M) as if certain, though above 1,000 input tokens it is $8/1M
    tables = _long_context_tables(tmp_path, 1000)
    result = cli("tokens", TEXT, *MODELS, *tables, "--as", "output", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["input_tokens"] is None
    models = {m["model"]: m for m in data["models"]}
    mini = models["gpt-4o-mini"]
    assert (mini["usd_per_million"], mini["above_input_tokens"]) == (2, None)
    assert [(t["above_input_tokens"], t["usd_per_million"]) for t in mini["tiers"]] == [
        (0, 2),
        (1000, 8),
    ]
    assert [t["cost_usd"] for t in mini["tiers"]] == [pytest.approx(12e-6), pytest.approx(48e-6)]
    claude = models["claude-haiku-4-5"]
    assert [t["usd_per_million"] for t in claude["tiers"]] == [20, 80]
    table = cli("tokens", TEXT, *MODELS, *tables, "--as", "output", env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("gpt-4o-mini "))
    assert "$2.00" in lines[at]
    assert lines[at + 1].split() == ["prompt", ">1,000", "$8.00", "$0.000048"]
    err = " ".join(table.stderr.split())
    assert (
        "tier unknown: gpt-4o-mini's output price depends on the prompt's size, and none was "
        "given: $2.00/1M ($0.000012) with a prompt of at most 1,000 input tokens (shown), "
        "$8.00/1M ($0.000048) above 1,000; give --input-tokens N to price one"
    ) in err
    assert "tier uncertain" not in err  # that note is of an estimated input's tier
    # the prompt's size given: one tier, the one it picks
    for size, per_million, above in ((1000, 2, None), (1001, 8, 1000)):
        given = cli(
            "tokens", TEXT, *MODELS, *tables, "--as", "output", "--input-tokens", str(size),
            "--format", "json",
        )  # fmt: skip
        assert given.exit_code == 0, given.stderr
        row = {m["model"]: m for m in json.loads(given.stdout)["models"]}["gpt-4o-mini"]
        assert (row["usd_per_million"], row["above_input_tokens"], row["tiers"]) == (
            per_million,
            above,
            None,
        )
    # a model with one output price: no tiers, no note
    plain = cli("tokens", TEXT, *MODELS, *PRICING, "--as", "output")
    assert "tier unknown" not in plain.stderr
    assert cli("tokens", TEXT, *MODELS, "--input-tokens", "5").exit_code == 2  # --as input


def test_a_long_model_name_keeps_the_model_at_80_columns(cli) -> None:
    """A Bedrock inference profile alone, too long for its column, read 'us.anthropic.cl…':
    cut at its end, it kept its region and vendor and lost the model. Its prefix goes first:
    '…claude-3-7-son…'; two regions' profiles of one model keep their regions apart."""
    profile = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
    result = cli("tokens", TEXT, "-m", profile, "-m", "gpt-4o", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    [row] = [line for line in lines if "o200k_base ×" in line]
    assert row.split()[0].startswith("…claude-3-7-s"), row
    # the model priced as, prefix left out; the two name columns share the cut (17 cells
    # each: Model took it all, 16 cells, and Priced as kept 18)
    assert row.split()[-1] == "…claude-3-7-sonn…"
    both = [profile, "eu." + profile.removeprefix("us.")]
    result = cli("tokens", TEXT, "-m", both[0], "-m", both[1], env={"COLUMNS": "80"})
    names = [line.split()[0] for line in result.stdout.splitlines() if "o200k_base ×" in line]
    assert len(set(names)) == 2 and all("claude-3-7" in n for n in names), names


def test_a_long_model_name_fits_80_columns(cli) -> None:
    # a Bedrock id printed the table 133 columns wide at 80: Model and Tokenizer were never cut
    bedrock = [
        "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
    ]
    result = cli("tokens", TEXT, "-m", bedrock[0], "-m", bedrock[1], "-m", "gpt-4o",
                 env={"COLUMNS": "80"})  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    # the rows picked by what the names say, not by their "us." start: the region and
    # vendor prefix is what a name too long for its column now leaves out
    names = [line.split()[0] for line in result.stdout.splitlines() if "o200k_base ×" in line]
    assert len(names) == 2 and names[0] != names[1]  # cut, and told apart
    assert all("…" in n for n in names)
    assert "o200k_base ×1.2" in result.stdout
    # the common case keeps every name whole at 80 columns
    common = ["-m", "gpt-4o", "-m", "claude-sonnet-4-5", "-m", "gemini-2.5-pro"]
    result = cli("tokens", TEXT, *common, env={"COLUMNS": "80"})
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line}
    assert rows["claude-sonnet-4-5"][-1] == "claude-sonnet-4-5"  # the model priced as, whole
    assert rows["gemini-2.5-pro"][1:4] == ["o200k_base", "×1.1", "~7"]


def test_two_tiers_costs_never_read_alike(cli, tmp_path: Path) -> None:
    """With price tiers of $15 and $22.50 per million, 11 output tokens cost $0.000165 and
    $0.0002475: the Cost column and the note read '$0.0002' for both."""
    table = tmp_path / "tiers.yaml"
    table.write_text(
        "provider: anthropic\nversion: 2026-01-01\nsource: https://example.test/x\n"
        "models:\n  claude-haiku-4-5:\n    prices:\n      - from: 2024-01-01\n"
        "        input: 1\n        output: 15\n        long_context:\n"
        "          - above_input_tokens: 1000\n            input: 4\n            output: 22.5\n"
    )
    text = "tiktoken is great! hello there you"
    args = ("tokens", text, "-m", "claude-haiku-4-5", "--as", "output", "--pricing", table)
    data = json.loads(cli(*args, "--format", "json").stdout)
    [tiers] = [m["tiers"] for m in data["models"]]
    assert [t["cost_usd"] for t in tiers] == [pytest.approx(165e-6), pytest.approx(247.5e-6)]
    result = cli(*args, env={"COLUMNS": "80"})
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("claude-haiku-4-5 "))
    costs = [lines[at].split()[-2], lines[at + 1].split()[-1]]
    assert costs[0] != costs[1] and "$0.0002" not in costs, costs
    assert "($0.0002)" not in result.stderr


def test_money_apart_tells_different_amounts_apart() -> None:
    from llmcost.render import money, money_apart

    values = [0.000165, 0.0002475, 0.0002475, 1.5, None, 0]
    assert money_apart(values) == ["$0.00016", "$0.00025", "$0.00025", "$1.50", "—", "$0.00"]
    assert money_apart([0.01, 2.0]) == [money(0.01), money(2.0)]  # apart already: as before
    assert money_apart([1.234, 1.2345])[0] != money_apart([1.234, 1.2345])[1]


def test_models_that_share_an_encoding_count_the_text_once(cli, monkeypatch) -> None:
    """Each model re-tokenized the whole text: five o200k_base models took 3x one model's time
    on a 20 MB file. A text is counted once per encoding (a chat prompt once per encoding and
    reply priming), each model's count the same as counted alone."""
    from llmcost import api, tokens

    names = ["gpt-4o", "gpt-4o-mini", "o3", "gpt-4", "gpt-3.5-turbo", "claude-sonnet-4-5"]
    models = [arg for name in names for arg in ("-m", name)]
    calls = []
    count_texts, chat_prompt_tokens = tokens.count_texts, tokens.chat_prompt_tokens

    def counting_texts(texts, encoding, threads=2):
        calls.append(encoding)
        return count_texts(texts, encoding, threads)

    def counting_chat(messages, encoding, counts=None, **kwargs):
        calls.append((encoding, kwargs["reply_priming"]))
        return chat_prompt_tokens(messages, encoding, counts, **kwargs)

    monkeypatch.setattr(tokens, "count_texts", counting_texts)
    monkeypatch.setattr(tokens, "chat_prompt_tokens", counting_chat)
    counted = _json(cli, TEXT, *models)
    assert sorted(calls) == ["cl100k_base", "o200k_base"]
    alone = {name: api.count_tokens(TEXT, name) for name in names}
    assert {m: (c["tokens"], c["encoding"]) for m, c in counted.items()} == {
        m: (int(n), n.encoding) for m, n in alone.items()
    }
    assert counted["claude-sonnet-4-5"]["tokens"] == 7  # 6 x 1.2, the factor still applied

    calls.clear()
    chat = json.dumps([{"role": "user", "content": TEXT}])
    counted = _json(cli, "--messages", "-", *models, input=chat)
    # o3 primes the reply with 2 tokens, the others with 3: counted apart
    assert sorted(calls, key=str) == [("cl100k_base", 3), ("o200k_base", 2), ("o200k_base", 3)]
    assert counted["o3"]["tokens"] == counted["gpt-4o"]["tokens"] - 1
