"""Persistent, incremental ingest: idempotency, growth, rotation, chunks, stdin, accounting."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess

import pytest
import zstandard

from llmcost import store
from llmcost.ingest import ingest_paths
from tests.conftest import DATA, REAL


def call(i: int, **extra) -> str:
    return json.dumps(
        {
            "id": f"r{i}",
            "timestamp": f"2026-11-01T00:00:{i % 60:02d}Z",
            "model": "gpt-4o-mini",
            "input_tokens": 10 + i,
            "output_tokens": 1,
            **extra,
        }
    )


def lines_of(con, column="source_line"):
    return [
        r[0] for r in con.execute(f"SELECT {column} FROM requests ORDER BY source_line").fetchall()
    ]


def test_growth_reads_only_new_lines(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text("".join(call(i) + "\n" for i in range(3)))
    con = store.connect(tmp_path / "db.duckdb")
    first = ingest_paths(con, [str(log)]).files[0]
    with log.open("a") as fh:
        fh.write(call(3) + "\n" + "garbage\n" + call(4) + "\n")
    second = ingest_paths(con, [str(log)]).files[0]
    assert (first.mode, first.lines_read, first.ingested) == ("new", 3, 3)
    assert (second.mode, second.lines_read, second.ingested, second.rejected) == (
        "appended",
        3,
        2,
        1,
    )
    assert lines_of(con) == [1, 2, 3, 4, 6]  # line numbers continue from the last run
    assert con.execute("SELECT line, reason FROM rejects").fetchall() == [(5, "not valid JSON")]
    third = ingest_paths(con, [str(log)]).files[0]
    assert (third.mode, third.lines_read) == ("unchanged", 0)


def test_a_run_that_found_nothing_new_keeps_the_place_for_the_next(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text(call(0) + "\n" + "garbage\n" + call(1) + "\n")
    con = store.connect(tmp_path / "db.duckdb")
    ingest_paths(con, [str(log)])
    assert ingest_paths(con, [str(log)]).files[0].mode == "unchanged"
    with log.open("a") as fh:
        fh.write(call(2) + "\n")
    grown = ingest_paths(con, [str(log)]).files[0]
    assert (grown.mode, grown.lines_read, grown.ingested, grown.skipped, grown.rejected) == (
        "appended",
        1,
        1,
        0,
        0,
    )
    assert lines_of(con) == [1, 3, 4]
    assert con.execute("SELECT line FROM rejects").fetchall() == [(2,)]


def test_rotation_and_truncation_are_detected(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text("".join(call(i) + "\n" for i in range(4)))
    con = store.connect()
    ingest_paths(con, [str(log)])
    log.write_text(call(0) + "\n")  # truncated: shorter than what was read
    truncated = ingest_paths(con, [str(log)]).files[0]
    assert (truncated.mode, truncated.lines_read, truncated.ingested, truncated.duplicates) == (
        "rotated",
        1,
        0,
        1,
    )
    log.write_text(call(10) + "\n" + call(11) + "\n")  # rotated: a new file under the old name
    rotated = ingest_paths(con, [str(log)]).files[0]
    assert (rotated.mode, rotated.ingested) == ("rotated", 2)
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] == 6
    assert truncated.accounted and rotated.accounted


def test_a_file_read_again_keeps_each_rejected_line_once(tmp_path, cli):
    log = tmp_path / "app.jsonl"
    log.write_text(call(0) + "\n" + "garbage\n" + call(1) + "\n" + call(2) + "\n")
    db = tmp_path / "db.duckdb"
    con = store.connect(db)
    ingest_paths(con, [str(log)])
    log.write_text(call(0) + "\n" + "garbage\n" + call(1) + "\n")  # truncated: read again
    again = ingest_paths(con, [str(log)]).files[0]
    assert (again.mode, again.lines_read, again.ingested, again.skipped, again.rejected) == (
        "rotated",
        3,
        0,
        3,
        0,
    )
    log.write_text(call(5) + "\n" + "garbage\n" + "other garbage\n")  # rotated: new lines
    rotated = ingest_paths(con, [str(log)]).files[0]
    assert (rotated.ingested, rotated.skipped, rotated.rejected) == (1, 1, 1)
    assert con.execute("SELECT line, raw FROM rejects ORDER BY line").fetchall() == [
        (2, "garbage"),
        (3, "other garbage"),
    ]
    con.close()
    report = json.loads(cli("analyze", "--db", db, "--format", "json").stdout)
    assert report["rejected"]["count"] == 2


def test_a_rotated_file_renamed_keeps_each_rejected_line_once(tmp_path, cli):
    """logrotate: app.jsonl read, then renamed and compressed (app.jsonl.1.gz) and a new
    app.jsonl started. Its calls were recognized by id, but its bad lines were stored again
    under the new name (2 bad lines counted 4)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.jsonl"
    text = call(0) + "\n" + "garbage\n" + call(1) + "\n" + "[1]\n"
    log.write_text(text)
    db = tmp_path / "db.duckdb"
    con = store.connect(db)
    ingest_paths(con, [str(logs)])
    (logs / "app.jsonl.1.gz").write_bytes(gzip.compress(text.encode()))
    log.write_text(call(7) + "\n" + "new garbage\n")  # the new file: its bad line is new
    old, new = sorted(ingest_paths(con, [str(logs)]).files, key=lambda f: f.source, reverse=True)
    assert old.source.endswith("app.jsonl.1.gz")
    assert (old.ingested, old.duplicates, old.skipped, old.rejected) == (0, 2, 4, 0)
    assert (new.mode, new.ingested, new.rejected) == ("rotated", 1, 1)
    assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == 3
    con.close()
    report = json.loads(cli("analyze", "--db", db, "--format", "json").stdout)
    assert report["rejected"]["count"] == 3


def test_unfinished_last_line_waits_for_the_writer(tmp_path):
    log = tmp_path / "app.jsonl"
    full = call(1)
    log.write_text(call(0) + "\n" + full[:20])
    con = store.connect()
    first = ingest_paths(con, [str(log)]).files[0]
    assert (first.lines_read, first.ingested, first.rejected, first.pending_bytes) == (1, 1, 0, 20)
    with log.open("a") as fh:
        fh.write(full[20:] + "\n")
    second = ingest_paths(con, [str(log)]).files[0]
    assert (second.mode, second.lines_read, second.ingested) == ("appended", 1, 1)
    assert lines_of(con) == [1, 2]


def test_a_log_that_began_as_no_json_lines_is_read_again_as_it_grows(tmp_path):
    """A log just begun whose first lines are broken ('{not json', '[1, 2]') and whose
    writer is inside the third reads as one JSON document, rejected. Grown into JSON
    lines from the same start, it was taken as appended to a read that reached no line,
    and the ingest crashed (TypeError). It is read again, by lines; the document read's
    reject gives way to the lines' own (found by hypothesis, tests/test_properties.py)."""
    log = tmp_path / "app.jsonl"
    data = ("\n".join(["{not json", "[1, 2]", call(0), call(1)]) + "\n").encode()
    log.write_bytes(data[:30])
    con = store.connect()
    first = ingest_paths(con, [str(log)]).files[0]
    assert (first.format, first.rejected) == ("json", 1)
    log.write_bytes(data)
    second = ingest_paths(con, [str(log)]).files[0]
    assert (second.format, second.lines_read, second.ingested, second.rejected) == (
        "jsonl",
        4,
        2,
        2,
    )
    assert lines_of(con) == [3, 4]
    assert con.execute("SELECT line FROM rejects ORDER BY line").fetchall() == [(1,), (2,)]


def test_complete_last_line_without_newline_is_read(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text(call(0) + "\n" + call(1))
    con = store.connect()
    assert ingest_paths(con, [str(log)]).files[0].ingested == 2


@pytest.mark.parametrize("chunk", [64, 300, 10**9])
def test_chunking_keeps_line_numbers_and_totals(tmp_path, monkeypatch, chunk):
    monkeypatch.setenv("LLMCOST_CHUNK_BYTES", str(chunk))
    log = tmp_path / "app.jsonl"
    body = [call(i) for i in range(40)]
    body[7] = "{broken"
    body[21] = ""
    log.write_text("\n".join(body) + "\n")
    con = store.connect()
    result = ingest_paths(con, [str(log)]).files[0]
    assert (result.lines_read, result.ingested, result.skipped, result.rejected) == (40, 38, 1, 1)
    assert lines_of(con) == [i + 1 for i in range(40) if i not in (7, 21)]
    assert con.execute("SELECT line FROM rejects").fetchall() == [(8,)]
    assert con.execute("SELECT sum(input_tokens) FROM requests").fetchone()[0] == sum(
        10 + i for i in range(40) if i not in (7, 21)
    )


def test_gzip_and_zstd(tmp_path):
    body = "".join(call(i) + "\n" for i in range(5))
    gz = tmp_path / "a.jsonl.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write(body)
    con = store.connect()
    assert ingest_paths(con, [str(gz)]).files[0].ingested == 5
    if shutil.which("zstd"):  # as the zstd tool writes it
        plain = tmp_path / "b.jsonl"
        plain.write_text("".join(call(i) + "\n" for i in range(5, 9)))
        subprocess.run(["zstd", "-q", str(plain), "-o", str(tmp_path / "b.jsonl.zst")], check=True)
        plain.unlink()
        result = ingest_paths(con, [str(tmp_path / "b.jsonl.zst")]).files[0]
        assert (result.format, result.ingested, result.error) == ("jsonl", 4, None)


def test_a_compressed_log_read_before_is_unchanged_not_rotated(tmp_path):
    """A rotated log kept as .gz (app.jsonl.1.gz beside the live file, as cron's ingest of the
    log directory sees it) read 'jsonl (rotated), 12 lines → 0 calls, 12 skipped' on every
    run, and was read whole again each time: its first bytes of text were compared with the
    stored ones only up to its compressed size (2,956 bytes of gzip for 7 kB of text), never
    the same prefix as the one stored."""
    gz = tmp_path / "app.jsonl.1.gz"
    gz.write_bytes(gzip.compress("".join(call(i) + "\n" for i in range(60)).encode()))
    assert gz.stat().st_size < 4096 < len(gzip.decompress(gz.read_bytes()))
    con = store.connect()
    first = ingest_paths(con, [str(gz)]).files[0]
    assert (first.mode, first.ingested) == ("new", 60)
    again = ingest_paths(con, [str(gz)]).files[0]
    assert (again.mode, again.lines_read, again.skipped) == ("unchanged", 0, 0)


def test_a_rotated_log_read_again_says_its_skipped_lines_were_stored_before(tmp_path, cli):
    """cron's ingest of a log directory after a rotation (app.jsonl renamed app.jsonl.1, a new
    app.jsonl begun) read 'app.jsonl.1: jsonl, 4 lines → 0 calls, 4 skipped, 0 rejected':
    every line of a file of calls 'skipped', as a blank line or a record that is no call is,
    without saying that each was stored (or rejected) by the run before."""
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.jsonl"
    log.write_text(call(1) + "\n" + call(2) + "\n" + "not json\n" + call(3) + "\n")
    db = tmp_path / "costs.duckdb"
    assert cli("ingest", logs, "--db", db).exit_code == 0
    log.rename(logs / "app.jsonl.1")
    log.write_text(call(4) + "\n")
    result = cli("ingest", logs, "--db", db)
    assert result.exit_code == 0, result.stderr
    assert (
        f"{logs / 'app.jsonl.1'}: jsonl, 4 lines → 0 calls, 4 skipped, 0 rejected (of the "
        "skipped: 3 calls already stored, 1 line rejected before)"
    ) in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"5 lines read = 1 new call + 4 skipped + 0 rejected; 4 calls in {db}; of the "
        "skipped: 3 calls already stored, 1 line rejected before"
    )


def _stored(path) -> tuple:
    con = store.connect()
    result = ingest_paths(con, [str(path)]).files[0]
    rows = con.execute(
        "SELECT source_line, request_id, input_tokens FROM requests ORDER BY source_line"
    ).fetchall()
    rejects = con.execute("SELECT line FROM rejects ORDER BY line").fetchall()
    return result, rows, [line for (line,) in rejects]


def test_a_zstd_log_of_several_frames_is_read_in_chunks_like_the_plain_one(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMCOST_CHUNK_BYTES", "4096")  # bounded memory: many chunks
    lines = [call(i) + "\n" for i in range(300)]
    plain = tmp_path / "log.jsonl"
    plain.write_text("".join(lines))
    # two frames, as `zstd` appending to a file writes them; the first ends mid-line
    zst = tmp_path / "log.jsonl.zst"
    text = "".join(lines).encode()
    zst.write_bytes(zstandard.compress(text[:10_001]) + zstandard.compress(text[10_001:]))
    expected, got = _stored(plain), _stored(zst)
    assert got[1] == expected[1] and len(got[1]) == 300
    assert (got[0].ingested, got[0].rejected, got[0].error) == (300, 0, None)


def _compress(text: bytes, kind: str) -> bytes:
    import bz2
    import lzma

    compress = {"gzip": gzip.compress, "zstd": zstandard.compress, "bzip2": bz2.compress}
    return compress.get(kind, lzma.compress)(text)


@pytest.mark.parametrize("suffix", [".gz", ".zst", ".bz2", ".xz"])
def test_a_truncated_compressed_log_keeps_what_it_holds_and_says_where_it_broke(
    tmp_path, cli, suffix
):
    text = "".join(call(i) + "\n" for i in range(20_000)).encode()  # zstd: 128 KB blocks
    kind = {".gz": "gzip", ".zst": "zstd", ".bz2": "bzip2", ".xz": "xz"}[suffix]
    whole = _compress(text, kind)
    cut = tmp_path / f"log.jsonl{suffix}"
    cut.write_bytes(whole[: len(whole) // 2])  # a copy that stopped half-way
    result, rows, rejects = _stored(cut)
    # every whole line before the break is read; the cut one is rejected with its number
    assert result.lines_read == len(rows) + 1 and rejects == [result.lines_read]
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1)) and len(rows) > 5000
    assert result.accounted
    assert f"broke off after line {result.lines_read:,}" in result.error
    assert "truncated" in result.error

    out = cli("analyze", cut, "--format", "json")
    assert out.exit_code == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["inputs"][0]["error"] == result.error
    assert any(result.error in note for note in report["notes"])
    assert result.error in out.stderr


def test_a_compressed_log_read_while_being_compressed_keeps_no_reject_of_its_cut_line(
    tmp_path, cli
):
    """logrotate's compress step was writing app.jsonl.1.gz when cron's ingest of the log
    directory ran: the half-written gzip was read to its break, its cut last line rejected.
    The next run read the finished file again and stored that line's call, but the cut line's
    reject stayed: 400 calls and 2 rejected lines in the store for 399 calls and 1 bad line
    written, the cut line counted twice (a call, and 'not valid JSON' in every report). A
    compressed file grown from the same start was read while still being written: the read
    of all of it takes the place of that one, as for a JSON document."""
    logs = tmp_path / "logs"
    logs.mkdir()
    lines = [call(i) for i in range(400)]
    lines[10] = "not json"
    whole = gzip.compress("".join(line + "\n" for line in lines).encode())
    gz = logs / "app.jsonl.1.gz"
    gz.write_bytes(whole[: len(whole) // 2])
    db = tmp_path / "llm.duckdb"
    first = cli("ingest", logs, "--db", db)
    assert first.exit_code == 0 and "gzip broke off after line" in first.stderr
    gz.write_bytes(whole)
    second = cli("ingest", logs, "--db", db)
    assert second.exit_code == 0, second.stderr
    con = store.connect(db)
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] == 399
    assert con.execute("SELECT line, raw FROM rejects").fetchall() == [(11, "not json")]
    con.close()
    report = cli("report", "--db", db, "--since", "2026-11-01", "--until", "2026-11-02",
                 "-f", "json")  # fmt: skip
    r = json.loads(report.stdout)
    assert (r["summary"]["requests"], r["rejected"]["count"]) == (399, 1)


def test_a_compressed_file_that_cannot_be_decompressed_is_left_unread_and_the_run_goes_on(
    tmp_path, cli
):
    bad = tmp_path / "a.jsonl.gz"
    bad.write_bytes(b"\x1f\x8b" + b"\x00" * 40)  # gzip's first bytes, then no gzip at all
    good = tmp_path / "b.jsonl"
    good.write_text(call(1) + "\n")
    out = cli("analyze", bad, good, "--format", "json")
    assert out.exit_code == 0, out.stderr
    report = json.loads(out.stdout)
    first, second = report["inputs"]
    assert (first["format"], first["lines_read"], second["ingested"]) == ("unreadable", 0, 1)
    assert first["error"].startswith("gzip could not be read: ")
    assert report["summary"]["requests"] == 1
    assert f"{bad}: not read — gzip could not be read" in out.stderr


@pytest.mark.parametrize("kind", ["gzip", "zstd", "bzip2", "xz"])
def test_compression_is_told_by_the_first_bytes_not_the_name(tmp_path, cli, kind):
    text = "".join(call(i) + "\n" for i in range(3)).encode()
    data = _compress(text, kind)
    rotated = tmp_path / "app.log-20261101"  # compressed by a rotation, no suffix
    rotated.write_bytes(data)
    plain_named = tmp_path / "calls.jsonl.gz"  # named .gz, written plain
    plain_named.write_bytes(text)
    for path in (rotated, plain_named):
        result = ingest_paths(store.connect(), [str(path)]).files[0]
        assert (result.ingested, result.rejected, result.error) == (3, 0, None), path
    # and piped in: `cat app.log.gz | llmcost analyze -`
    out = cli("analyze", "-", "--format", "json", input=data)
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["summary"]["requests"] == 3


def test_json_documents(tmp_path):
    array = tmp_path / "calls.json"
    array.write_text(json.dumps([json.loads(call(i)) for i in range(3)], indent=2))
    pretty = tmp_path / "pretty.json"
    pretty.write_text(
        json.dumps(json.loads(call(7)), indent=2) + "\n" + json.dumps(json.loads(call(8)), indent=2)
    )
    broken = tmp_path / "broken.json"
    broken.write_text('[{"model": "gpt-4o", ')
    con = store.connect()
    results = {
        r.source.rsplit("/", 1)[-1]: r
        for r in ingest_paths(con, [str(array), str(pretty), str(broken)]).files
    }
    assert (results["calls.json"].format, results["calls.json"].ingested) == ("json", 3)
    assert (results["pretty.json"].format, results["pretty.json"].ingested) == ("json", 2)
    assert (results["broken.json"].lines_read, results["broken.json"].rejected) == (1, 1)
    assert all(r.accounted for r in results.values())


@pytest.mark.parametrize("layout", ["array", "objects"])
def test_a_json_document_cut_short_keeps_the_records_before_the_cut(tmp_path, cli, layout):
    records = [json.loads(call(i)) for i in range(20)]
    if layout == "array":
        text = json.dumps(records, indent=2)
    else:
        text = "\n".join(json.dumps(r, indent=2) for r in records)
    cut = tmp_path / "cut.json"
    cut.write_text(text[: text.index('"id": "r10"') + 12])  # inside the 11th record
    result = ingest_paths(store.connect(), [str(cut)]).files[0]
    assert (result.format, result.lines_read, result.ingested, result.rejected) == (
        "json",
        11,
        10,
        1,
    )
    assert result.accounted
    out = cli("analyze", cut, "--format", "json")
    assert out.exit_code == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["summary"]["requests"] == 10
    [reject] = report["rejected"]["samples"]
    assert reject["line"] == 11
    assert reject["reason"].startswith("the JSON document ends inside record 11 (cut short?)")


def test_a_json_document_broken_inside_keeps_the_records_before_the_break(tmp_path):
    text = json.dumps([json.loads(call(i)) for i in range(20)], indent=2)
    broken = tmp_path / "broken.json"
    broken.write_text(text.replace('"r2",', '"r2" oops', 1))
    gz = tmp_path / "cut.json.gz"  # a compressed one cut short: what it held is read
    packed = gzip.compress(text.replace('"r', '"z').encode())
    gz.write_bytes(packed[: len(packed) // 2])
    con = store.connect()
    bad, cut = ingest_paths(con, [str(broken), str(gz)]).files
    assert (bad.ingested, bad.rejected, cut.rejected) == (2, 1, 1)
    assert 0 < cut.ingested < 20 and cut.lines_read == cut.ingested + 1
    [(line, reason), (cut_line, cut_reason)] = con.execute(
        "SELECT line, reason FROM rejects ORDER BY source"
    ).fetchall()
    assert (line, reason) == (
        3,
        "record 3 of the JSON document is not valid JSON: Expecting ',' delimiter; "
        "nothing after it is read",
    )
    assert cut_line == cut.ingested + 1
    assert cut_reason.startswith(f"the JSON document ends inside record {cut_line} (cut short?)")


@pytest.mark.parametrize("n, records", [(1, "1 record"), (2, "2 records")])
def test_text_after_a_json_array_is_rejected_saying_what_was_kept(tmp_path, n, records):
    doc = tmp_path / "trailing.json"
    doc.write_text(json.dumps([json.loads(call(i)) for i in range(n)], indent=2) + "\nEOF junk\n")
    con = store.connect()
    [result] = ingest_paths(con, [str(doc)]).files
    assert (result.ingested, result.rejected) == (n, 1)
    [(reason,)] = con.execute("SELECT reason FROM rejects").fetchall()
    assert reason.startswith(f"text after the JSON array of {records}")


def test_a_json_document_whose_name_hides_its_compression_is_read_the_same(tmp_path, cli):
    text = json.dumps([json.loads(call(i)) for i in range(3)], indent=2).encode()
    files = {
        "gzip named plain": ("calls.json", gzip.compress(text)),
        "zstd named .gz": ("calls.json.gz", zstandard.compress(text)),
        "plain named .zst": ("calls.json.zst", text),
        "gzip named .gz": ("calls.json.gz", gzip.compress(text)),
        "xz named .xz": ("calls.json.xz", _compress(text, "xz")),  # DuckDB reads no xz
    }
    for what, (name, data) in files.items():
        (tmp_path / what).mkdir()
        path = tmp_path / what / name
        path.write_bytes(data)
        result = ingest_paths(store.connect(), [str(path)]).files[0]
        assert (result.format, result.ingested, result.error) == ("json", 3, None), what
    # piped in: stdin is copied to the workdir first, and read from there
    out = cli("analyze", "-", "--format", "json", input=gzip.compress(text))
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["summary"]["requests"] == 3
    cut = tmp_path / "cut.json"  # a compressed document cut short: what it held, and why
    cut.write_bytes(gzip.compress(text)[:-20])
    result = ingest_paths(store.connect(), [str(cut)]).files[0]
    assert result.rejected == 1 and result.error.startswith("gzip could not be read: ")


@pytest.mark.parametrize(
    "export", ["langfuse/observations.csv", "litellm/spend_logs.csv", "helicone/export.csv"]
)
def test_a_compressed_csv_export_is_read_like_the_plain_one(tmp_path, export):
    # Read whole, by DuckDB, after the format looked at its header: zstd (which DuckDB reads
    # but the header readers did not) was read as no calls at all
    text = (DATA / "formats" / export).read_bytes()
    plain = tmp_path / "plain.csv"
    plain.write_bytes(text)
    result, rows, rejects = _stored(plain)
    assert rows and result.error is None
    for suffix, kind in [(".gz", "gzip"), (".zst", "zstd"), (".bz2", "bzip2")]:
        path = tmp_path / f"export.csv{suffix}"
        path.write_bytes(_compress(text, kind))
        got, got_rows, got_rejects = _stored(path)
        assert (got.format, got_rows, got_rejects) == (result.format, rows, rejects), kind


def test_directory_walk_skips_files_that_are_not_logs(tmp_path):
    (tmp_path / "logs" / "old").mkdir(parents=True)
    (tmp_path / "logs" / "README.md").write_text("# notes\nnothing here\n")
    (tmp_path / "logs" / "a.jsonl").write_text(call(1) + "\n")
    (tmp_path / "logs" / "old" / "b.jsonl").write_text("oops\n" + call(2) + "\n")
    (tmp_path / "logs" / ".hidden.jsonl").write_text(call(3) + "\n")
    con = store.connect()
    result = ingest_paths(con, [str(tmp_path / "logs")])
    formats = sorted((r.source.rsplit("/", 1)[-1], r.format) for r in result.files)
    assert formats == [("README.md", "unrecognized"), ("a.jsonl", "jsonl"), ("b.jsonl", "jsonl")]
    assert result.total("ingested") == 2 and result.total("rejected") == 1


def test_ingest_is_one_transaction(tmp_path, monkeypatch):
    db = tmp_path / "db.duckdb"
    good = tmp_path / "good.jsonl"
    good.write_text(call(1) + "\n")
    con = store.connect(db)
    import llmcost.ingest as ingest_module

    calls = {"n": 0}
    real = ingest_module._store_staged

    def failing(con, ingest_id):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(con, ingest_id)

    monkeypatch.setattr(ingest_module, "_store_staged", failing)
    other = tmp_path / "other.jsonl"
    other.write_text(call(2) + "\n")
    with pytest.raises(RuntimeError):
        ingest_paths(con, [str(good), str(other)])
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM ingests").fetchone()[0] == 0


def test_cli_ingest_then_analyze_and_rejects(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("LLMCOST_DB", str(tmp_path / "store" / "llm.duckdb"))
    log = tmp_path / "app.jsonl"
    log.write_text(call(1) + "\nnot json\n" + call(2) + "\n")
    result = cli("ingest", log)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "3 lines read = 2 new calls + 0 skipped + 1 rejected" in result.stderr
    again = cli("ingest", log)
    assert "0 lines read = 0 new calls" in again.stderr
    report = json.loads(
        cli("analyze", "--db", tmp_path / "store" / "llm.duckdb", "--format", "json").stdout
    )
    assert report["summary"]["requests"] == 2
    rejects = cli("rejects", "--raw")
    assert rejects.exit_code == 0
    [row] = [json.loads(line) for line in rejects.stdout.splitlines()]
    assert (row["line"], row["reason"], row["raw"]) == (2, "not valid JSON", "not json")


def test_stdin(cli):
    result = cli("analyze", "-", "--format", "json", input=call(1) + "\n" + call(2) + "\n")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["requests"] == 2
    assert report["inputs"][0]["source"] == "<stdin>"


def test_analyze_needs_paths_or_db(cli):
    result = cli("analyze")
    assert result.exit_code == 2
    assert "nothing to analyze" in result.stderr


def test_memory_is_bounded_and_the_bound_can_be_set(monkeypatch, cli):
    setting = "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    limit, spill = store.connect().execute(setting).fetchone()
    assert limit == "1.3 GiB" and "llmcost-spill-" in spill  # 1.5 GB, spilled privately
    monkeypatch.setenv("LLMCOST_MEMORY_LIMIT", "700MB")
    assert store.connect().execute(setting).fetchone()[0] == "667.5 MiB"
    monkeypatch.setenv("LLMCOST_MEMORY_LIMIT", "lots")
    from tests.conftest import SAMPLES

    result = cli("analyze", SAMPLES / "demo.jsonl")
    assert result.exit_code == 2 and "LLMCOST_MEMORY_LIMIT='lots' is not a size" in result.stderr
    # too low for a step that needs more at once: a clear error, not a traceback
    monkeypatch.setenv("LLMCOST_MEMORY_LIMIT", "10MB")
    result = cli("analyze", SAMPLES / "demo.jsonl")
    assert result.exit_code == 2, result.stderr
    assert "DuckDB ran out of memory under its ceiling of 10MB" in result.stderr
    assert "LLMCOST_MEMORY_LIMIT=4GB" in result.stderr and result.stdout == ""


@pytest.mark.parametrize("compressed", [False, True])
def test_progress_counts_the_files_bytes_compressed_or_not(tmp_path, monkeypatch, compressed):
    monkeypatch.setenv("LLMCOST_CHUNK_BYTES", "4096")  # many chunks
    lines = "".join(call(i) + "\n" for i in range(400)).encode()
    path = tmp_path / ("log.jsonl.gz" if compressed else "log.jsonl")
    path.write_bytes(gzip.compress(lines) if compressed else lines)
    told: list[tuple[int, int]] = []
    steps: list[int] = []

    def progress(total: int, files: int):
        told.append((total, files))
        return steps.append

    result = ingest_paths(store.connect(), [str(path)], progress=progress)
    assert result.files[0].ingested == 400
    size = path.stat().st_size
    assert told == [(size, 1)] and sum(steps) == size and len(steps) > 3
    assert all(step >= 0 for step in steps)


def test_a_gzip_log_read_one_chunk_ahead_stores_what_the_plain_log_stores(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMCOST_CHUNK_BYTES", "4096")  # ~40 chunks, each made ahead
    lines = "".join(call(i) + "\n" for i in range(400)).encode()
    stored = []
    for name, data in (("log.jsonl", lines), ("log.jsonl.gz", gzip.compress(lines))):
        path = tmp_path / name
        path.write_bytes(data)
        con = store.connect()
        assert ingest_paths(con, [str(path)]).files[0].ingested == 400
        stored.append(
            con.execute(
                "SELECT source_line, request_id, input_tokens, output_tokens FROM requests "
                "ORDER BY source_line"
            ).fetchall()
        )
    assert stored[0] == stored[1] and [r[0] for r in stored[0]] == list(range(1, 401))


def test_analyze_rejects_a_cut_last_line_and_a_database_waits_for_it(tmp_path, cli):
    log = tmp_path / "app.jsonl"
    full = call(1)
    log.write_text(call(0) + "\n" + full[:20])
    # in memory, nothing comes after this run: the cut line is read now, and rejected
    out = cli("analyze", log, "--format", "json")
    report = json.loads(out.stdout)
    assert report["inputs"][0]["lines_read"] == 2 and report["rejected"]["count"] == 1
    [sample] = report["rejected"]["samples"]
    assert sample["line"] == 2 and "truncated" in sample["reason"]
    assert report["notes"] == []
    # into a database, the writer may still be writing it: it waits, and the report says so
    db = tmp_path / "calls.duckdb"
    out = cli("analyze", log, "--db", db, "--format", "json")
    report = json.loads(out.stdout)
    assert report["rejected"]["count"] == 0 and report["summary"]["requests"] == 1
    assert report["notes"] == [
        f"{log}: an unfinished last line (20 bytes) waits for the next ingest into this database"
    ]
    with log.open("a") as fh:
        fh.write(full[20:] + "\n")
    report = json.loads(cli("analyze", log, "--db", db, "--format", "json").stdout)
    assert report["summary"]["requests"] == 2 and report["notes"] == []


def test_a_complete_last_line_without_newline_is_read_when_nothing_comes_next(tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text(call(0) + "\n" + call(1))
    result = ingest_paths(store.connect(), [str(log)], resumable=False).files[0]
    assert (result.ingested, result.rejected, result.pending_bytes) == (2, 0, 0)


def _stream(usage: bool, stream_id: str = "chatcmpl-ASYMZ4oSykiIFK4lXLReDiKyAjsQl") -> list[str]:
    """A real OpenAI stream logged chunk by chunk: seven chunks (the 7th with finish_reason
    'stop'), then, with ``usage``, the usage chunk (12 in, 5 out)."""
    text = (REAL / "openai/cassette_chat_completion_streaming.yaml").read_text()
    chunks = [
        line.strip()[len("data: ") :]
        for line in text.splitlines()
        if line.strip().startswith("data: {")
    ]
    chunks = [c for c in chunks if usage or json.loads(c)["usage"] is None]
    return [c.replace("chatcmpl-ASYMZ4oSykiIFK4lXLReDiKyAjsQl", stream_id) for c in chunks]


def _calls(db) -> list[tuple]:
    con = store.connect(db)
    try:
        return con.execute(
            "SELECT r.request_id, r.source_line, r.input_tokens, r.output_tokens, t.text"
            " FROM requests r LEFT JOIN texts t ON t.hash = r.completion_hash ORDER BY 1"
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("usage", [False, True])
def test_a_stream_still_being_written_when_cron_runs_is_held_and_made_whole_next_run(
    tmp_path, cli, usage
):
    """ingest from cron while a stream is being logged chunk by chunk: the run made a call of
    the chunks so far ('"This is', no usage), and the next run's chunks, the same call by
    id, were dropped: the answer stayed cut and the usage chunk (12 in, 5 out) was lost. A
    stream without its final chunk now waits, and the next run reads it whole."""
    chunks = _stream(usage)
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.jsonl"
    db = tmp_path / "costs.duckdb"
    log.write_text(call(1) + "\n" + "\n".join(chunks[:3]) + "\n" + call(2) + "\n")
    first = cli("ingest", logs, "--db", db)
    assert first.exit_code == 0, first.stderr
    assert "5 lines read = 2 new calls + 3 skipped + 0 rejected" in first.stderr
    assert (
        "1 stream logged chunk by chunk still being written (its last chunks or usage not read "
        "yet; from line 2) held for the next ingest into this database" in first.stderr
    )
    assert [c[0] for c in _calls(db)] == ["r1", "r2"]
    with log.open("a") as fh:
        fh.write("\n".join(chunks[3:]) + "\n" + call(3) + "\n")
    second = cli("ingest", logs, "--db", db)
    assert second.exit_code == 0, second.stderr
    # read again from the stream's first chunk: r2 is known, the stream and r3 are new
    lines = 1 + len(chunks) + 1
    assert f"{lines} lines read = 2 new calls + {lines - 2} skipped + 0 rejected" in second.stderr
    assert "held" not in second.stderr
    # lines 2-4 and 6-9: the seven content chunks; line 10, with usage: the usage chunk, the
    # call, with the chunks' answer (it was None: a call made from its usage chunk alone)
    made = (10, 12, 5) if usage else (9, None, None)
    made = (*made, '"This is a test."')
    assert _calls(db) == [
        ("chatcmpl-ASYMZ4oSykiIFK4lXLReDiKyAjsQl", *made),
        ("r1", 1, 11, 1, None),
        ("r2", 5, 12, 1, None),
        ("r3", lines + 1, 13, 1, None),
    ]
    third = cli("ingest", logs, "--db", db)
    assert "0 lines read" in third.stderr and len(_calls(db)) == 4


def test_a_stream_silent_for_ten_minutes_is_made_a_call_as_it_stands(tmp_path, cli):
    """A stream whose writer died never gets its final chunk. It is held while it may go on
    (a reasoning model can be silent for minutes: cron runs every minute hold it still);
    10 minutes without a new chunk (the OpenAI SDKs' timeout), whether or not the file grew,
    it is made the call a one-shot run makes of it."""
    chunks = _stream(False)
    log = tmp_path / "app.jsonl"
    log.write_text("\n".join(chunks[:3]) + "\n")
    # one-shot (nothing comes after this run): made a call now, as before
    report = json.loads(cli("analyze", log, "--format", "json").stdout)
    assert report["summary"]["requests"] == 1 and report["notes"] == []
    for grows in (False, True):
        db = tmp_path / f"grows-{grows}.duckdb"
        for _ in range(2):  # a minute apart, say: silent, but not for long
            con = store.connect(db)
            held = ingest_paths(con, [str(log)]).files[0]
            con.close()
            assert (held.held_streams, held.held_from, held.ingested) == (1, 1, 0)
        if grows:  # the writer goes on with other calls, never with this stream
            with log.open("a") as fh:
                fh.write(call(1) + "\n")
        con = store.connect(db)
        held = ingest_paths(con, [str(log)]).files[0]
        assert (held.held_streams, held.ingested) == (1, grows)
        con.execute("UPDATE ingests SET started_at = started_at - INTERVAL 10 MINUTE")
        con.close()
        report = json.loads(cli("analyze", log, "--db", db, "--format", "json").stdout)
        assert report["notes"] == []
        assert report["summary"]["requests"] == 1 + grows
        stream = [c for c in _calls(db) if c[0].startswith("chatcmpl")]
        # its answer so far, the output counted from it ('"This is': 2 tokens)
        assert stream == [("chatcmpl-ASYMZ4oSykiIFK4lXLReDiKyAjsQl", 3, None, 2, '"This is')]
        assert ingest_paths(store.connect(db), [str(log)]).files[0].mode == "unchanged"


def test_a_stream_whose_final_chunk_ends_the_file_waits_for_its_usage_chunk(tmp_path, cli):
    """The run read a stream up to its finish_reason chunk, the file's last line, before the
    writer logged the usage chunk that follows it: the call was made without usage, and the
    next run dropped the usage chunk as the same call (12 in / 5 out lost). A stream whose
    final chunk is the last line read is held like an unfinished one."""
    chunks = _stream(True)  # 7 chunks, the 7th with finish_reason, then the usage chunk
    log = tmp_path / "app.jsonl"
    db = tmp_path / "costs.duckdb"
    log.write_text(call(1) + "\n" + "\n".join(chunks[:7]) + "\n")
    first = cli("ingest", log, "--db", db)
    assert first.exit_code == 0, first.stderr
    assert "held for the next ingest" in first.stderr
    with log.open("a") as fh:
        fh.write(chunks[7] + "\n" + call(2) + "\n")
    second = cli("ingest", log, "--db", db)
    assert second.exit_code == 0, second.stderr
    # (the answer was None: the call made from the usage chunk alone)
    assert _calls(db) == [
        ("chatcmpl-ASYMZ4oSykiIFK4lXLReDiKyAjsQl", 9, 12, 5, '"This is a test."'),
        ("r1", 1, 11, 1, None),
        ("r2", 10, 12, 1, None),
    ]


def test_the_report_notes_a_held_stream(tmp_path, cli):
    log = tmp_path / "app.jsonl"
    log.write_text(call(0) + "\n" + "\n".join(_stream(True)[:4]) + "\n")
    db = tmp_path / "calls.duckdb"
    report = json.loads(cli("analyze", log, "--db", db, "--format", "json").stdout)
    assert report["summary"]["requests"] == 1
    assert report["notes"] == [
        f"{log}: 1 stream logged chunk by chunk still being written (its last chunks or usage "
        "not read yet; from line 2) held for the next ingest into this database, which reads "
        "on from there"
    ]


def test_a_last_line_read_without_its_newline_keeps_the_line_numbers_when_it_comes(tmp_path):
    """A whole record without its newline is read at once; the newline the writer adds
    next was read by the next run as a blank line: every later line numbered one too far
    (a call at line 4, a reject at line 5, in a file of 4 lines)."""
    log = tmp_path / "app.jsonl"
    log.write_text(call(0) + "\n" + call(1))
    con = store.connect(tmp_path / "db.duckdb")
    assert ingest_paths(con, [str(log)]).files[0].ingested == 2
    with log.open("a") as fh:
        fh.write("\n" + call(2) + "\n" + "garbage\n")
    grown = ingest_paths(con, [str(log)]).files[0]
    assert (grown.lines_read, grown.ingested, grown.skipped, grown.rejected) == (2, 1, 0, 1)
    assert lines_of(con) == [1, 2, 3]
    assert con.execute("SELECT line, raw FROM rejects").fetchall() == [(4, "garbage")]
    with log.open("a") as fh:  # (a file read up to a newline goes on as before)
        fh.write(call(3) + "\r\n" + call(4))
    ingest_paths(con, [str(log)])
    with log.open("a") as fh:
        fh.write("\r\n" + call(5) + "\n")
    assert ingest_paths(con, [str(log)]).files[0].lines_read == 1
    assert lines_of(con) == [1, 2, 3, 5, 6, 7]


@pytest.mark.parametrize("walked", [False, True])
def test_copytruncate_under_a_writer_that_does_not_append_loses_no_call(tmp_path, walked):
    """logrotate copytruncate: app.jsonl copied to app.jsonl.1 and emptied in place. A writer
    that does not open its log to append writes on at its old offset: the file starts with
    that many NUL bytes, glued to its first new line. That call was rejected (and a file with
    one new line, met in a directory, not recognized at all); the zeros are now passed over."""
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.jsonl"
    log.write_text("".join(call(i) + "\n" for i in range(3)))
    con = store.connect(tmp_path / "db.duckdb")
    where = str(logs if walked else log)
    ingest_paths(con, [where])
    shutil.copy(log, logs / "app.jsonl.1")
    with log.open("r+b") as fh:  # the writer's file descriptor, still at the end
        at = fh.seek(0, 2)
        fh.truncate(0)
        fh.seek(at)
        fh.write((call(3) + "\n").encode())
    rotated = [f for f in ingest_paths(con, [where]).files if f.source == str(log)][0]
    assert (rotated.format, rotated.mode, rotated.lines_read, rotated.ingested) == (
        "jsonl",
        "rotated",
        1,
        1,
    )
    with log.open("a") as fh:  # appended after the hole: read from where the run stopped
        fh.write(call(4) + "\n")
    grown = [f for f in ingest_paths(con, [where]).files if f.source == str(log)][0]
    assert (grown.mode, grown.lines_read, grown.ingested) == ("appended", 1, 1)
    assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == 0
    assert sorted(lines_of(con, "request_id")) == [f"r{i}" for i in range(5)]


def test_a_small_log_that_grew_before_it_was_rotated_keeps_each_rejected_line_once(tmp_path):
    """logrotate create: app.jsonl read, a call written to it, then renamed app.jsonl.1 and
    a new app.jsonl begun. A file is known by its first 4 KB, or all of a smaller one: the
    small log read had fewer bytes than the renamed one, its bad line was not recognized
    and stored a second time (1 bad line counted 2)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.jsonl"
    log.write_text(call(0) + "\n" + "garbage\n" + call(1) + "\n")
    con = store.connect(tmp_path / "db.duckdb")
    ingest_paths(con, [str(logs)])
    with log.open("a") as fh:
        fh.write("more garbage\n")
    ingest_paths(con, [str(logs)])  # appended: read at another size
    with log.open("a") as fh:
        fh.write(call(2) + "\n")
    log.rename(logs / "app.jsonl.1")
    log.write_text(call(3) + "\n")
    files = {f.source.rsplit("/", 1)[-1]: f for f in ingest_paths(con, [str(logs)]).files}
    old = files["app.jsonl.1"]
    assert (old.lines_read, old.ingested, old.duplicates, old.skipped, old.rejected) == (
        5,
        1,
        2,
        4,
        0,
    )
    assert files["app.jsonl"].ingested == 1
    assert con.execute("SELECT line, raw FROM rejects ORDER BY line").fetchall() == [
        (2, "garbage"),
        (4, "more garbage"),
    ]


def test_the_scheduled_report_notes_what_the_last_ingest_holds(tmp_path, cli):
    """cron: `ingest` then `report`. The report said nothing of a stream held by the ingest
    (not in the report yet); it names the file and the lines the next ingest reads again."""
    log = tmp_path / "app.jsonl"
    log.write_text(call(0) + "\n" + "\n".join(_stream(True)[:4]) + "\n")
    db = tmp_path / "costs.duckdb"
    assert cli("ingest", log, "--db", db).exit_code == 0
    window = ["--since", "2026-11-01", "--until", "2026-11-02", "--format", "json"]
    out = cli("report", "--db", db, *window)
    assert out.exit_code == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["summary"]["requests"] == 1
    assert report["notes"] == [
        f"{log}: lines 2-5 (a stream logged chunk by chunk still being written when it was "
        "last read) wait for the next ingest, and are not in this report"
    ]
    with log.open("a") as fh:
        fh.write("\n".join(_stream(True)[4:]) + "\n")
    shutil.copy(log, tmp_path / "rotated.jsonl")
    log.unlink()  # rotated away under a name the ingest is not given: nothing waits now
    assert json.loads(cli("report", "--db", db, *window).stdout)["notes"] == []
    shutil.copy(tmp_path / "rotated.jsonl", log)
    assert cli("ingest", log, "--db", db).exit_code == 0
    assert json.loads(cli("report", "--db", db, *window).stdout)["notes"] == []


def test_the_scheduled_report_names_the_held_streams_own_lines(tmp_path, cli):
    """A call logged while a stream was being written lies between its chunks: the note said
    "lines 2-6", line 4 among them, though that call was stored and is in the report."""
    chunks = _stream(True)
    log = tmp_path / "app.jsonl"
    log.write_text("\n".join([call(0), *chunks[:2], call(1), *chunks[2:4], ""]))
    db = tmp_path / "costs.duckdb"
    assert cli("ingest", log, "--db", db).exit_code == 0
    window = ["--since", "2026-11-01", "--until", "2026-11-02", "--format", "json"]
    report = json.loads(cli("report", "--db", db, *window).stdout)
    assert report["summary"]["requests"] == 2
    assert report["notes"] == [
        f"{log}: lines 2-3, 5-6 (a stream logged chunk by chunk still being written when it "
        "was last read) wait for the next ingest, and are not in this report"
    ]
    other = tmp_path / "other.jsonl"  # a stream of one line so far: "line 4 … waits"
    other.write_text("\n".join([call(2), call(3), call(4), chunks[0], ""]))
    assert cli("ingest", other, "--db", db).exit_code == 0
    report = json.loads(cli("report", "--db", db, *window).stdout)
    assert report["notes"][1] == (
        f"{other}: line 4 (a stream logged chunk by chunk still being written when it was last "
        "read) waits for the next ingest, and is not in this report"
    )


def test_a_log_met_twice_in_a_run_is_read_once(tmp_path, cli):
    """A directory with a symlink to its live log (current.jsonl -> app.jsonl, as date-named
    logs have): the log was read twice in one run, and the second read let go the stream
    the first held, as a call cut short ('"This is', no usage)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.jsonl"
    chunks = _stream(True)
    log.write_text(call(0) + "\n" + "\n".join(chunks[:3]) + "\n")
    (logs / "current.jsonl").symlink_to(log)
    db = tmp_path / "costs.duckdb"
    first = cli("ingest", logs, log, "--db", db)
    assert first.exit_code == 0, first.stderr
    assert first.stderr.count(str(log)) == 1 and "1 stream" in first.stderr
    assert [c[0] for c in _calls(db)] == ["r0"]
    with log.open("a") as fh:
        fh.write("\n".join(chunks[3:]) + "\n")
    assert cli("ingest", logs, "--db", db).exit_code == 0
    # (the answer was None: a call made from its usage chunk alone lost its chunks' text)
    stream = ("chatcmpl-ASYMZ4oSykiIFK4lXLReDiKyAjsQl", 9, 12, 5, '"This is a test."')
    assert _calls(db)[0] == stream


def _table_bytes(con) -> int:
    [(used,)] = con.execute(
        "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory() "
        "WHERE tag = 'IN_MEMORY_TABLE'"
    ).fetchall()
    return used


def test_a_store_in_memory_frees_each_chunk_it_staged(tmp_path, monkeypatch):
    # analyze without --db: inside one transaction DuckDB kept every chunk's staged rows
    # (texts and all) until COMMIT, twice the log's texts held (or spilled) at its end
    monkeypatch.setenv("LLMCOST_CHUNK_BYTES", str(256 * 1024))  # ~16 chunks
    text = "word " * 2000
    logs = []
    for n in range(2):
        log = tmp_path / f"app{n}.jsonl"
        log.write_text(
            "".join(
                call(n * 1000 + i, messages=[{"role": "user", "content": f"{i} {text}"}]) + "\n"
                for i in range(200)
            )
        )
        logs.append(str(log))
    con = store.connect()
    during, thresholds = [], []

    def on_file(_):
        during.append(_table_bytes(con))
        [(threshold,)] = con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()
        thresholds.append(threshold)

    [before] = con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()
    result = ingest_paths(con, logs, on_file=on_file, resumable=False)
    assert result.total("ingested") == 400
    after = _table_bytes(con)  # what the store holds: the staged rows are gone
    assert during[-1] <= after * 1.2, (during, after)
    # and it is not checkpointed (every table compressed anew) after each statement
    assert before not in thresholds
    assert con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()[0] == before


@pytest.mark.parametrize("on_disk, resumable", [(True, False), (False, True)])
def test_a_store_that_outlives_the_run_is_filled_all_or_nothing(tmp_path, on_disk, resumable):
    logs = []
    for n in range(2):
        logs.append(tmp_path / f"app{n}.jsonl")
        logs[-1].write_text(call(n) + "\n")
    con = store.connect(tmp_path / "db.duckdb" if on_disk else None)

    def on_file(_):
        raise KeyboardInterrupt  # stopped after the first file

    with pytest.raises(KeyboardInterrupt):
        ingest_paths(con, [str(p) for p in logs], on_file=on_file, resumable=resumable)
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM ingests").fetchone()[0] == 0


class _Plans:
    """A connection that keeps the plan DuckDB ran for each statement."""

    def __init__(self, con):
        self.con, self.plans = con, []

    def execute(self, sql, *params):
        result = self.con.execute(sql, *params)
        self.plans.append(json.loads(self.con.get_profiling_information(format="json")))
        return result

    def __getattr__(self, name):
        return getattr(self.con, name)


def _aggregates(node):
    if node.get("name") in ("HASH_GROUP_BY", "PERFECT_HASH_GROUP_BY", "WINDOW"):
        yield node["name"], str(node.get("extra_info", {}).get("Aggregates", ""))
    for child in node.get("children", []):
        yield from _aggregates(child)


def test_storing_a_chunk_carries_no_text_or_call_through_a_hash_table(tmp_path):
    # Keeping each text once (DISTINCT ON: first(text) in a hash table) and each call once
    # (row_number(): arg_min over the whole row) copied every text and call into a hash
    # table before they were copied into their tables: the rows kept are picked by line,
    # and only the hash and line go through a hash table.
    from llmcost.formats.jsonl import load_jsonl
    from llmcost.ingest import _store_staged

    log = tmp_path / "app.jsonl"
    system = {"role": "system", "content": "You are terse."}
    log.write_text(
        "".join(
            call(i % 3, messages=[system, {"role": "user", "content": f"q{i}"}], response="ok")
            + "\n"
            for i in range(5)
        )
    )
    con = store.connect(None)
    stats = load_jsonl(con, log, str(log), 1)
    con.execute("SET enable_profiling = 'no_output'")
    plans = _Plans(con)
    duplicates = _store_staged(plans, 1)
    con.execute("RESET enable_profiling")
    assert (stats.staged, duplicates) == (5, 2)
    carried = [
        (name, aggregates)
        for plan in plans.plans
        for node in plan.get("operator", [])
        for name, aggregates in _aggregates(node)
        if name == "WINDOW" or "first" in aggregates or "arg_m" in aggregates
    ]
    assert carried == []
    # the first line of each id is kept; each text once (5 prompts, the system prompt, "ok")
    assert con.execute("SELECT request_id, source_line FROM requests ORDER BY 1").fetchall() == [
        ("r0", 1),
        ("r1", 2),
        ("r2", 3),
    ]
    assert con.execute("SELECT kind, count(*) FROM texts GROUP BY 1 ORDER BY 1").fetchall() == [
        ("messages", 5),
        ("text", 2),
    ]


@pytest.mark.parametrize("lines", [(1, 2, 3, 4), (1, 1, 2, 2)])
def test_storing_keeps_the_first_call_and_text_whether_or_not_lines_repeat(lines):
    # Rows are picked by line when every row has its own (every reader's); a reader whose
    # rows shared a line would be stored the way it was before (DISTINCT ON, row_number).
    from llmcost.formats.stage import stage_from_select
    from llmcost.ingest import _store_staged

    con = store.connect(None)
    rows = zip(lines, ["a", "a", "b", "c"], ["p1", "p1", "p2", "p1"], ["x", "y", "x", "x"])
    values = ", ".join(f"({n}, '{r}', 'gpt-4o', '{p}', 'text', '{c}')" for n, r, p, c in rows)
    stage_from_select(
        con,
        "SELECT * FROM (VALUES " + values + ") t(line, request_id, model, prompt_text, "
        "prompt_kind, completion_text)",
        source="s",
        format="test",
    )
    assert _store_staged(con, 1) == 1
    kept = con.execute(
        "SELECT request_id, source_line, completion_hash = md5('x') FROM requests ORDER BY 1"
    ).fetchall()
    assert kept == [("a", lines[0], True), ("b", lines[2], True), ("c", lines[3], True)]
    # (the texts of every row staged, as before: a duplicate's too)
    texts = con.execute("SELECT text, kind FROM texts ORDER BY 1").fetchall()
    assert texts == [("p1", "text"), ("p2", "text"), ("x", "text"), ("y", "text")]


@pytest.mark.parametrize("runs", [1, 2])
def test_two_logs_that_begin_alike_each_show_their_rejected_lines(tmp_path, cli, runs):
    """Two different logs whose first 4 KB are the same calls (a shared header), each with a
    bad line '{bad' at line 43: the second's read '1 line rejected before' and was not
    shown, though it was never shown: the files' first bytes alone made the second a
    rotation of the first. The second's line 41, a call the first did not hold there,
    says they are two files."""
    head = "".join(call(i, pad="x" * 100) + "\n" for i in range(40))
    assert len(head.encode()) > 4096
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(head + call(100) + "\n" + "garbage A\n" + "{bad\n")
    second.write_text(head + call(200) + "\n" + "garbage B\n" + "{bad\n" + "more B\n")
    db = tmp_path / "db.duckdb"
    con = store.connect(db)
    if runs == 1:
        files = ingest_paths(con, [str(first), str(second)]).files
    else:
        files = ingest_paths(con, [str(first)]).files + ingest_paths(con, [str(second)]).files
    b = {f.source: f for f in files}[str(second)]
    assert (b.ingested, b.duplicates, b.known_rejects, b.rejected) == (1, 40, 0, 3)
    assert con.execute(
        "SELECT line, raw FROM rejects WHERE source = ? ORDER BY line", [str(second)]
    ).fetchall() == [(42, "garbage B"), (43, "{bad"), (44, "more B")]
    con.close()
    report = json.loads(cli("analyze", "--db", db, "--format", "json").stdout)
    assert report["rejected"]["count"] == 5
