"""Per-call export: round trips through CSV, Parquet (file and day partitions) and JSON lines
give back the report's totals exactly, and every row carries its price row and cost split."""

from __future__ import annotations

import functools
import json
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from llmcost.api import analyze
from llmcost.api import export_calls as export
from tests.conftest import DATA, SAMPLES

DEMO = SAMPLES / "demo.jsonl"
CALLS = DATA / "attribution" / "calls.jsonl"
PRICES = DATA / "attribution" / "prices.yaml"
NINE = Decimal("0.000000001")
COST_COLUMNS = ("cost_input", "cost_cache_read", "cost_cache_write", "cost_output", "cost_usd")


@functools.cache
def _demo_report() -> str:
    return json.dumps(analyze([DEMO], attribution={}).to_dict())


def demo_report() -> dict:
    return json.loads(_demo_report())


def exact(report_usd: float) -> Decimal:
    """A report amount (a float rounded to 9 decimals) as the exact Decimal it stands for."""
    return Decimal(repr(report_usd)).quantize(NINE)


def decimal_schema(path) -> dict:
    """Polars schema overrides: every cost column read as an exact decimal."""
    header = path.read_text().split("\n", 1)[0].split(",")
    return {c: pl.Decimal(38, 12) for c in header if c.startswith("cost_")}


# ------------------------------------------------------------------------------ round trips


def test_csv_round_trip_equals_the_report(tmp_path):
    report = demo_report()
    out = tmp_path / "calls.csv"
    result = export([DEMO], out)
    assert (result.format, result.rows, result.partitioned) == ("csv", 2993, False)
    frame = pl.read_csv(out, schema_overrides=decimal_schema(out))
    assert frame.height == report["summary"]["requests"]
    total = frame["cost_usd"].sum()
    assert isinstance(total, Decimal)
    assert total.quantize(NINE) == exact(report["summary"]["total_cost_usd"])
    assert result.total_cost_usd == total
    # unpriced calls: an empty cost, never 0
    assert frame["cost_usd"].null_count() == report["summary"]["unpriced_requests"] == 20
    # by model, to the cent
    by_model = dict(frame.group_by("model").agg(pl.col("cost_usd").sum()).iter_rows())
    for m in report["by_model"]:
        if m["cost_usd"] is not None:
            assert by_model[m["model"]].quantize(NINE) == exact(m["cost_usd"])
    # DuckDB reads the same file as exact decimals too
    con = duckdb.connect()
    [(n, s)] = con.execute(
        "SELECT count(*), sum(cost_usd) FROM read_csv(?, types = {'cost_usd': 'DECIMAL(38,12)'})",
        [str(out)],
    ).fetchall()
    assert (n, s) == (2993, total)


def test_parquet_file_round_trip(tmp_path):
    report = demo_report()
    out = tmp_path / "calls.parquet"
    export([DEMO], out)
    frame = pl.read_parquet(out)
    assert frame.schema["cost_usd"] == pl.Decimal(38, 12)
    assert frame.schema["ts"] == pl.Datetime("us", "UTC")
    assert frame["cost_usd"].sum().quantize(NINE) == exact(report["summary"]["total_cost_usd"])
    assert frame["input_tokens"].sum() == report["summary"]["input_tokens"]
    assert frame["output_tokens"].sum() == report["summary"]["output_tokens"]
    # the parts add up to the total on every priced row, exactly
    priced = frame.filter(pl.col("cost_usd").is_not_null())
    parts = [c for c in frame.columns if c.startswith("cost_") and c != "cost_usd"]
    assert {"cost_input", "cost_cache_read", "cost_cache_write", "cost_output"} <= set(parts)
    assert "cost_per_request" in parts
    assert priced.filter(pl.sum_horizontal(parts) != pl.col("cost_usd")).height == 0


def test_parquet_partitioned_by_day_reads_back_per_day(tmp_path, cli):
    report = demo_report()
    out = tmp_path / "lake"
    out.mkdir()
    result = cli("export", DEMO, "-o", out)  # an existing directory: parquet by day
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    days = sorted(p.name for p in out.iterdir())
    assert days == [f"day={d['day']}" for d in report["by_day"]]
    assert all(list((out / d).glob("*.parquet")) for d in days)
    con = duckdb.connect()
    rows = con.execute(
        f"""SELECT day, count(*), sum(cost_usd) FROM read_parquet(
              '{out}/day=*/*.parquet', hive_partitioning = true) GROUP BY day ORDER BY day"""
    ).fetchall()
    assert [(d.isoformat(), n) for d, n, _ in rows] == [
        (d["day"], d["requests"]) for d in report["by_day"]
    ]
    for (_, _, cost), d in zip(rows, report["by_day"]):
        assert cost.quantize(NINE) == exact(d["cost_usd"])
    # the README's worked example: the report's total from the partitioned files
    [(total,)] = con.execute(
        f"SELECT sum(cost_usd) FROM read_parquet('{out}/day=*/*.parquet', hive_partitioning = true)"
    ).fetchall()
    assert round(total, 2) == round(exact(report["summary"]["total_cost_usd"]), 2)


def test_jsonl_round_trip_keeps_exact_decimals(tmp_path):
    report = demo_report()
    out = tmp_path / "calls.jsonl"
    export([DEMO], out)
    lines = out.read_text().splitlines()
    rows = [json.loads(line, parse_float=Decimal) for line in lines]
    assert len(rows) == 2993
    total = sum(r["cost_usd"] for r in rows if r["cost_usd"] is not None)
    assert total.quantize(NINE) == exact(report["summary"]["total_cost_usd"])
    assert isinstance(rows[0]["tags"], dict)  # metadata stays a JSON object


# ------------------------------------------------------------------------------ columns


@functools.cache
def _crafted_rows() -> str:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "calls.jsonl"
        export([CALLS], out, pricing=[PRICES], attribution={})
        return out.read_text()


def crafted() -> dict[str, dict]:
    rows = [json.loads(line, parse_float=Decimal) for line in _crafted_rows().splitlines()]
    return {r["request_id"]: r for r in rows}


def test_each_row_has_the_price_row_and_the_cost_split():
    rows = crafted()
    c10 = rows["c10"]  # 100,000 input of which 80,000 cache reads, acme-small
    assert c10["model_key"] == "acme-small" and c10["priced_provider"] == "acme"
    assert c10["pricing_version"] == "2025-12-01"
    assert c10["price_from"] == "2025-01-01"
    assert c10["price_tier"] == "standard" and c10["service_tier"] == "standard"
    assert c10["model_resolution"] == "exact name acme-small"
    assert c10["cost_input"] == Decimal("0.02")  # 20,000 uncached × $1/M
    assert c10["cost_cache_read"] == Decimal("0.04")  # 80,000 × $0.50/M
    assert c10["cost_cache_write"] == 0 and c10["cost_output"] == 0
    assert c10["cost_usd"] == Decimal("0.06")
    assert c10["ts"] == "2026-01-02T10:00:00.000000Z" and c10["day"] == "2026-01-02"
    c3 = rows["c3"]  # logged with a +02:00 offset: stored and exported in UTC
    assert c3["ts"] == "2025-12-31T23:45:00.000000Z" and c3["day"] == "2025-12-31"
    c2 = rows["c2"]
    assert (c2["cost_input"], c2["cost_output"], c2["cost_usd"]) == (
        Decimal("0.1"),
        Decimal("0.3"),
        Decimal("0.4"),
    )
    assert c2["tags"]["team"] == "search" and c2["user_id"] == "u1" and c2["session_id"] == "s1"
    c7 = rows["c7"]  # unpriced: no model_key, empty costs, and why
    assert c7["is_priced"] is False and c7["model_key"] is None
    assert all(c7[c] is None for c in COST_COLUMNS)
    assert c7["model_resolution"] == "no pricing table knows this model"
    assert sum(r["cost_usd"] or 0 for r in rows.values()) == Decimal("3.64")
    # rows come in time order
    assert list(rows) == ["c1", "c2", "c3", "c4", "c10", "c5", "c6", "c7", "c8", "c9"]


def test_config_attribution_applies_to_the_export(tmp_path):
    (tmp_path / "llmcost.yaml").write_text("attribution:\n  user: metadata.customer_id\n")
    out = tmp_path / "calls.csv"
    export([CALLS], out, pricing=[PRICES])
    frame = pl.read_csv(out)
    assert frame.filter(pl.col("request_id") == "c5")["user_id"].item() == "cust-9"
    assert frame.filter(pl.col("request_id") == "c1")["user_id"].item() == "u1"


# ------------------------------------------------------------------------------ CLI


def test_cli_format_from_extension_and_summary_on_stderr(cli, tmp_path):
    out = tmp_path / "calls.csv"
    result = cli("export", CALLS, "--pricing", PRICES, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    err = result.stderr.replace("\n", " ")
    assert "10 calls" in err and "$3.64" in err and "1 of unpriced models" in err
    assert out.read_text().startswith("request_id,ts,day,provider,model,")


def test_cli_summary_counts_every_call_and_never_reads_a_cost_as_zero(cli, jsonl, tmp_path):
    log = jsonl(
        [
            {"timestamp": "2026-01-01T00:00:00Z", "model": "acme-small", "provider": "acme",
             "usage": {"input_tokens": 10, "output_tokens": 0}},  # $0.00001
            {"timestamp": "2026-01-01T00:00:00Z", "model": "acme-small", "provider": "acme"},
        ]
    )  # fmt: skip
    result = cli("export", log, "--pricing", PRICES, "-o", tmp_path / "calls.csv")
    assert result.exit_code == 0, result.stderr
    err = result.stderr.replace("\n", " ")
    # it read '1 with a cost totalling $0.00, 0 of unpriced models': one call unaccounted for
    assert (
        "2 calls → " in err
        and "1 with a cost totalling $0.000010, 0 of unpriced models, 1 without token counts "
        "(cost left empty)"
        in err
    )


def test_cli_csv_to_stdout(cli):
    result = cli("export", CALLS, "--pricing", PRICES, "--format", "csv", "-o", "-")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 11 and lines[0].startswith("request_id,")


def test_cli_since_until_window(cli, tmp_path):
    out = tmp_path / "jan.jsonl"
    result = cli(
        "export",
        CALLS,
        "--pricing",
        PRICES,
        "-o",
        out,
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
    )
    assert result.exit_code == 0, result.stderr
    ids = [json.loads(line)["request_id"] for line in out.read_text().splitlines()]
    assert ids == ["c4", "c10", "c5", "c6", "c7", "c8"]


def test_cli_db_then_export_what_it_holds(cli, tmp_path):
    db = tmp_path / "llm.duckdb"
    first = tmp_path / "a.csv"
    assert cli("export", CALLS, "--pricing", PRICES, "--db", db, "-o", first).exit_code == 0
    again = tmp_path / "b.csv"
    result = cli("export", "--db", db, "--pricing", PRICES, "-o", again)
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(again).drop("source").equals(pl.read_csv(first).drop("source"))


def test_cli_overwrite_partitions(cli, tmp_path):
    out = tmp_path / "lake"
    assert cli("export", CALLS, "--pricing", PRICES, "-o", f"{out}/").exit_code == 0
    assert (out / "day=2025-12-31").is_dir()
    again = cli("export", CALLS, "--pricing", PRICES, "-o", out)
    assert again.exit_code == 2 and "not empty" in again.stderr and "--overwrite" in again.stderr
    # re-export two days: they are replaced, the other days are kept, nothing is doubled
    window = cli(
        "export", CALLS, "--pricing", PRICES, "-o", out, "--overwrite", "--since", "2026-01-31"
    )
    assert window.exit_code == 0, window.stderr
    assert len(list(out.iterdir())) == 8
    [(n, total)] = (
        duckdb.connect()
        .execute(
            f"SELECT count(*), sum(cost_usd) FROM read_parquet('{out}/*/*.parquet', hive_partitioning = true)"
        )
        .fetchall()
    )
    assert (n, total) == (10, Decimal("3.64"))


@pytest.mark.parametrize(
    "window", [["--since", "2026-01-31T12:00:00"], ["--until", "2026-01-05T08:30:00Z"]]
)
def test_cli_overwrite_refuses_a_window_that_cuts_a_day(cli, tmp_path, window):
    out = tmp_path / "lake"
    assert cli("export", CALLS, "--pricing", PRICES, "-o", f"{out}/").exit_code == 0
    again = cli("export", CALLS, "--pricing", PRICES, "-o", out, "--overwrite", *window)
    assert again.exit_code == 2
    assert "inside a day" in again.stderr and "would be lost" in again.stderr
    # every day folder is as the first export wrote it: no day lost calls
    [(n, total)] = (
        duckdb.connect()
        .execute(
            f"SELECT count(*), sum(cost_usd) FROM read_parquet('{out}/*/*.parquet', hive_partitioning = true)"
        )
        .fetchall()
    )
    assert (n, total) == (10, Decimal("3.64"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["-o", "calls.txt"], "cannot tell the export format"),
        (["-o", "-", "--format", "parquet"], "Parquet cannot go to stdout"),
        (["-o", "missing/dir/calls.csv"], "no such directory"),
        (["-o", "x.csv", "--format", "xlsx"], "xlsx"),
    ],
)
def test_cli_bad_output_exits_2(cli, args, message):
    result = cli("export", CALLS, *args)
    assert result.exit_code == 2
    assert message in result.stderr.replace("\n", " ")


def test_cli_nothing_to_export(cli):
    result = cli("export", "-o", "calls.csv")  # no logs and no database at the default path
    assert result.exit_code == 2
    assert "no logs named" in result.stderr


def test_cli_a_usage_report_says_it_holds_no_calls(cli, tmp_path):
    """A provider's usage report is aggregates, stored as buckets and never as calls: export
    said 'no calls to export', hint 'check the input and the --since/--until window', of an
    input that is right and a window that is none."""
    report = DATA / "formats" / "usage_reports" / "crafted_openai_usage_completions.json"
    result = cli("export", report, "-o", tmp_path / "calls.csv")
    assert result.exit_code == 3
    assert "the input holds 5 usage-report buckets" in result.stderr
    assert "`llmcost analyze` prices usage reports" in result.stderr
    assert "--since/--until" not in result.stderr
    assert not (tmp_path / "calls.csv").exists()
    # calls outside the window: the window is what to check, as before
    log = tmp_path / "log.jsonl"
    log.write_text('{"ts": "2026-11-01T10:00:00Z", "model": "gpt-4o", "input_tokens": 1}\n')
    result = cli("export", log, "--since", "2027-01-01", "-o", tmp_path / "calls.csv")
    assert result.exit_code == 3
    assert "hint: check the input and the --since/--until window" in result.stderr


def test_calls_without_a_timestamp_go_to_the_hive_default_partition(jsonl, tmp_path):
    log = jsonl(
        [
            {
                "model": "acme-small",
                "provider": "acme",
                "timestamp": "2026-01-01T10:00:00Z",
                "usage": {"input_tokens": 1000000, "output_tokens": 0},
            },
            {
                "model": "acme-small",
                "provider": "acme",
                "usage": {"input_tokens": 2000000, "output_tokens": 0},
            },
        ]
    )
    out = tmp_path / "lake"
    result = export([log], f"{out}/", pricing=[PRICES], attribution={})
    assert result.partitioned and result.rows == 2
    assert sorted(p.name for p in out.iterdir()) == [
        "day=2026-01-01",
        "day=__HIVE_DEFAULT_PARTITION__",
    ]
    rows = (
        duckdb.connect()
        .execute(
            f"""SELECT day, sum(cost_usd) FROM read_parquet('{out}/*/*.parquet',
              hive_partitioning = true) GROUP BY day ORDER BY day NULLS LAST"""
        )
        .fetchall()
    )
    assert [(str(d) if d else None, c) for d, c in rows] == [
        ("2026-01-01", Decimal(1)),
        (None, Decimal(2)),
    ]


def test_cli_summary_tells_a_call_before_its_models_first_price_from_an_unpriced_model(
    cli, jsonl, tmp_path
):
    # acme-small's price starts in 2025 (tests/data/attribution/prices.yaml): its 2020 call has no cost, and
    # stderr counted it among '2 of unpriced models' with the model no table knows
    usage = {"input_tokens": 10, "output_tokens": 0}
    log = jsonl(
        [
            {"timestamp": "2026-01-01T00:00:00Z", "model": "acme-small", "provider": "acme",
             "usage": usage},
            {"timestamp": "2020-01-01T00:00:00Z", "model": "acme-small", "provider": "acme",
             "usage": usage},
            {"timestamp": "2026-01-01T00:00:00Z", "model": "mystery-model-x", "usage": usage},
        ]
    )  # fmt: skip
    result = cli("export", log, "--pricing", PRICES, "-o", tmp_path / "calls.csv")
    assert result.exit_code == 0, result.stderr
    err = " ".join(result.stderr.split())
    assert (
        "1 with a cost totalling $0.000010, 1 of unpriced models, 1 dated when its model had "
        "no price in force (cost left empty)" in err
    )


def test_cli_summary_of_calls_all_priced_leaves_no_empty_cost_unsaid(cli, jsonl, tmp_path):
    # the real fixtures read '22 with a cost totalling $0.04, 0 of unpriced models (cost left
    # empty)': a cost left empty on no call
    usage = {"input_tokens": 10, "output_tokens": 0}
    log = jsonl(
        [{"timestamp": "2026-01-01T00:00:00Z", "model": "acme-small", "provider": "acme",
          "usage": usage}]
    )  # fmt: skip
    result = cli("export", log, "--pricing", PRICES, "-o", tmp_path / "calls.csv")
    assert result.exit_code == 0, result.stderr
    err = " ".join(result.stderr.split())
    assert err.endswith("(csv): 1 with a cost totalling $0.000010"), err
