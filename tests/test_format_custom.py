"""Custom CSV / JSON-lines formats declared in llmcost.yaml (formats/custom.py).

Tests run in tmp_path (conftest chdirs there), so ./llmcost.yaml is the config in force.
Prices per million tokens: claude-sonnet-4-5 $3 in, $0.30 cache read, $15 out;
claude-haiku-4-5 $1 / $0.10 / $5; gpt-4o-mini $0.15 in, $0.60 out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmcost import costing, store
from llmcost.ingest import ingest_paths
from llmcost.pricing import load_pricing

CONFIG = """\
formats:
  custom:
    - name: billing-export
      match: "exports/*.csv"
      type: csv
      columns: {model: llm_model, timestamp: created, input_tokens: tokens_in,
                output_tokens: tokens_out, cache_read_tokens: cached, user_id: account,
                feature: product, cost_usd: billed}
      convention: anthropic
      provider: anthropic
      tags: [region]
    - name: gateway-lines
      type: jsonl
      columns: {model: req.model, timestamp: at, input_tokens: usage.in, output_tokens: usage.out,
                request_id: id}
"""

CSV = """\
created,llm_model,tokens_in,tokens_out,cached,account,product,billed,region
2025-10-20T10:00:00Z,claude-sonnet-4-5-20250929,1000,200,4000,acme,search,0.01,eu
2025-10-20T11:00:00Z,claude-sonnet-4-5-20250929,12.5,200,0,acme,search,0.01,eu
2025-10-20T12:00:00Z,claude-haiku-4-5-20251001,500,100
2025-10-20T13:00:00Z,,10,10,0,acme,chat,,us
yesterday,claude-haiku-4-5-20251001,10,10,0,acme,chat,,us
2025-10-20T14:00:00Z,claude-haiku-4-5-20251001,2000,300,,globex,chat,abc,us
2025-10-20T15:00:00Z,"claude-haiku-4-5-20251001",2000,300,1000,globex,chat,0.004,us
"""


@pytest.fixture
def export(tmp_path) -> Path:
    (tmp_path / "llmcost.yaml").write_text(CONFIG)
    (tmp_path / "exports").mkdir()
    path = tmp_path / "exports" / "oct.csv"
    path.write_text(CSV)
    return path


def test_a_csv_export_without_a_bad_row_is_read(cli, export):
    """Every export in these tests had a bad row; one without any (the README's own
    billing-export example, as a clean export is) stopped the run with a DuckDB traceback:
    DuckDB 2 refuses executemany of no rows."""
    export.write_text("\n".join(CSV.splitlines()[:2]) + "\n")
    out = cli("analyze", "exports/oct.csv", "--format", "json")
    assert out.exit_code == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["summary"]["requests"] == 1
    assert report["summary"]["total_cost_usd"] == pytest.approx(0.0072)  # the sonnet row above
    assert report["rejected"]["count"] == 0


def test_csv_mapping_end_to_end_through_the_cli(cli, export):
    out = cli("analyze", "exports/oct.csv", "--format", "json")
    assert out.exit_code == 0, out.stderr
    assert "billing-export" in out.stderr  # the detected format is named per file
    report = json.loads(out.stdout)
    summary = report["summary"]
    assert summary["requests"] == 2
    # anthropic convention: input 1000 EXCLUDES the 4000 cached -> 5000 canonical
    sonnet = 1000 * 3e-6 + 4000 * 0.3e-6 + 200 * 15e-6  # $0.0072
    haiku = 2000 * 1e-6 + 1000 * 0.1e-6 + 300 * 5e-6  # $0.0036
    assert summary["total_cost_usd"] == pytest.approx(sonnet + haiku)
    assert summary["input_tokens"] == 5000 + 3000
    assert report["rejected"]["count"] == 5
    assert [(r["line"], r["reason"]) for r in report["rejected"]["samples"]] == [
        (3, "column tokens_in (input_tokens) is not a non-negative integer: 12.5"),
        (4, "CSV row not readable: Expected Number of Columns: 9 Found: 8"),
        (5, "no model: column llm_model (model) is empty"),
        (6, "column created (timestamp) not understood: yesterday"),
        (7, "column billed (cost_usd) is not a number: abc"),
    ]
    [entry] = report["inputs"]
    assert (entry["format"], entry["lines_read"], entry["ingested"], entry["rejected"]) == (
        "billing-export",
        7,
        2,
        5,
    )


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_reject_is_reported_at_its_line_after_blank_and_multi_line_rows(cli, export, newline):
    """Rows were numbered, not lines: a blank line was not counted (nor skipped), and a
    quoted cell spanning lines (a note column with line breaks, not mapped) moved every
    later reject up by its extra lines. Lines: 1 header, 2 a call, 3 blank, 4-6 a call with
    a three-line note, 7 a count that is not an integer, 8 a row cut short, 9 a call."""
    header, sonnet, bad_count, cut, *_, haiku = CSV.splitlines()
    note = '"Ask about ""Oslo""\nthen\nanswer"'.replace("\n", newline)
    lines = [header + ",note", sonnet + ",", "", sonnet.replace("10:00", "10:30") + "," + note]
    lines += [bad_count + ",", cut, haiku + ","]
    export.write_bytes((newline.join(lines) + newline).encode())
    assert export.read_bytes().count(b"\n") == 9
    assert _counts_and_rejects(cli) == (
        (6, 3, 1, 2),
        [
            (7, "column tokens_in (input_tokens) is not a non-negative integer: 12.5"),
            (8, "CSV row not readable: Expected Number of Columns: 10 Found: 9"),
        ],
    )


def _counts_and_rejects(cli) -> tuple:
    """The export's (lines read, ingested, skipped, rejected) and its rejects' (line, reason)."""
    out = cli("analyze", "exports/oct.csv", "--format", "json")
    assert out.exit_code == 0, out.stderr
    report = json.loads(out.stdout)
    [entry] = report["inputs"]
    counts = tuple(entry[k] for k in ("lines_read", "ingested", "skipped", "rejected"))
    return counts, [(r["line"], r["reason"]) for r in report["rejected"]["samples"]]


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_line_of_spaces_and_tabs_is_skipped_as_blank(cli, export, newline):
    """A line of only spaces and tabs was a reject 'CSV row not readable: Expected Number of
    Columns: 9 Found: 1' where an empty line is skipped: it is blank, skipped. Lines: 1
    header, 2 a call, 3 spaces, 4 a bad count, 5 spaces and a tab, 6 a call."""
    header, sonnet, bad_count, *_, haiku = CSV.splitlines()
    lines = [header, sonnet, "   ", bad_count, " \t ", haiku]
    export.write_bytes((newline.join(lines) + newline).encode())
    assert _counts_and_rejects(cli) == (
        (5, 2, 2, 1),
        [(4, "column tokens_in (input_tokens) is not a non-negative integer: 12.5")],
    )


def test_a_custom_export_s_time_not_set_is_none_and_one_before_2000_is_rejected(cli, export):
    """A row dated 0 (no time) is a call without a timestamp, as a row with an empty
    created is; one dated before 2000 is rejected (tests/test_timestamps.py)."""
    rows = CSV.splitlines()
    export.write_text(
        "\n".join([rows[0], rows[1], "0" + rows[1][20:], "," + rows[1][21:],
                   "1999-12-31T23:59:59Z" + rows[1][20:]]) + "\n"
    )  # fmt: skip
    out = cli("analyze", "exports/oct.csv", "--format", "json")
    assert out.exit_code == 0, out.stderr
    report = json.loads(out.stdout)
    assert (report["summary"]["requests"], report["summary"]["requests_without_timestamp"]) == (
        3,
        2,
    )
    assert [(r["line"], r["reason"]) for r in report["rejected"]["samples"]] == [
        (5, "column created (timestamp) before 2000: 1999-12-31T23:59:59Z")
    ]


@pytest.mark.parametrize("kind", ["gzip", "zstd", "bzip2"])
def test_a_compressed_csv_export_reads_like_the_plain_one(cli, export, kind):
    # gzip asked DuckDB for an 8 GiB buffer (out of memory); zstd's header was read
    # compressed (no column found)
    import bz2
    import gzip

    import zstandard

    compress, suffix = {
        "gzip": (gzip.compress, ".gz"),
        "zstd": (zstandard.compress, ".zst"),
        "bzip2": (bz2.compress, ".bz2"),
    }[kind]
    packed = export.with_name("oct.csv" + suffix)
    packed.write_bytes(compress(export.read_bytes()))
    plain, out = (
        cli("analyze", str(path), "--input-format", "billing-export", "--format", "json")
        for path in (export, packed)
    )
    assert out.exit_code == 0, out.stderr
    summary, expected = json.loads(out.stdout)["summary"], json.loads(plain.stdout)["summary"]
    assert (summary["requests"], summary["total_cost_usd"]) == (2, expected["total_cost_usd"])
    assert json.loads(out.stdout)["rejected"]["count"] == 5


def test_csv_columns_land_in_the_canonical_record(export):
    con = store.connect()
    ingest_paths(con, [str(export)])
    costing.prepare(con, load_pricing())
    row = con.execute(
        "SELECT provider, model, user_id, feature, tags, reported_cost_usd, ts, source_line, "
        "cost_usd FROM priced ORDER BY source_line LIMIT 1"
    ).fetchone()
    assert row[:6] == (
        "anthropic",
        "claude-sonnet-4-5-20250929",
        "acme",
        "search",
        '{"region":"eu"}',
        0.01,
    )
    assert (row[6].isoformat(), row[7]) == ("2025-10-20T10:00:00+00:00", 2)
    assert float(row[8]) == pytest.approx(0.0072)


def test_jsonl_mapping_with_nested_keys_by_name(cli, tmp_path, jsonl):
    (tmp_path / "llmcost.yaml").write_text(CONFIG)
    path = jsonl(
        [
            {
                "id": "g-1",
                "at": "2025-01-02T03:04:05Z",
                "req": {"model": "gpt-4o-mini"},
                "usage": {"in": 1000, "out": 500},
            },
            {
                "id": "g-2",
                "at": "2025-01-02T03:05:05Z",
                "req": {"model": "gpt-4o-mini"},
                "usage": {"in": "x", "out": 1},
            },
        ]  # fmt: skip
    )
    out = cli("analyze", path, "--input-format", "gateway-lines", "--format", "json")
    assert out.exit_code == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["summary"]["requests"] == 1
    assert report["summary"]["total_cost_usd"] == pytest.approx(1000 * 0.15e-6 + 500 * 0.6e-6)
    assert report["rejected"]["samples"][0]["reason"] == (
        "column usage.in (input_tokens) is not a non-negative integer: x"
    )


def test_a_file_outside_the_glob_is_not_read_with_the_mapping(cli, export, jsonl):
    path = jsonl([{"model": "gpt-4o-mini", "usage": {"prompt_tokens": 5, "completion_tokens": 1}}])
    out = cli("analyze", path, "--format", "json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["inputs"][0]["format"] == "jsonl"


@pytest.mark.parametrize(
    "entry, line, message",
    [
        ("      colour: red\n", 9, "unknown key 'colour' in a formats.custom entry"),
        ("", 8, "unknown canonical column 'tokens'"),
    ],
)
def test_config_errors_name_the_line(cli, tmp_path, entry, line, message):
    (tmp_path / "llmcost.yaml").write_text(
        "formats:\n"
        "  custom:\n"
        "    - name: x\n"
        "      type: csv\n"
        "      match: '*.csv'\n"
        "      columns:\n"
        "        model: m\n"
        + ("        input_tokens: a\n" + entry if entry else "        tokens: t\n")
    )
    (tmp_path / "a.csv").write_text("m,a\ngpt-4o-mini,3\n")
    out = cli("analyze", "a.csv")
    assert out.exit_code == 2
    assert f"llmcost.yaml:{line}: {message}" in out.stderr


def test_a_mapped_column_missing_from_the_header_is_a_usage_error(cli, export):
    export.write_text("created,model\n2025-01-01,gpt-4o-mini\n")
    out = cli("analyze", "exports/oct.csv")
    assert out.exit_code == 2
    assert "column 'llm_model' of format 'billing-export' is not in" in out.stderr
    assert "llmcost.yaml:" in out.stderr
