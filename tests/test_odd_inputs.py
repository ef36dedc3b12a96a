"""Logs as teams have them, written by other tools and other systems: whitespace lines,
Windows line endings, other encodings. Each must read as the plain log it holds, every line
accounted for, each reject at its own line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DATA, SAMPLES

# One log of each line-based reader (and the flat JSON lines of the demo).
LOGS = [
    SAMPLES / "shapes" / "flat.jsonl",
    DATA / "formats" / "bedrock" / "panther_invocation_logs.jsonl",
    DATA / "formats" / "claude_code" / "crafted_streamed_session.jsonl",
    DATA / "formats" / "helicone" / "export.jsonl",
]


def _report(cli, path) -> dict:
    result = cli("analyze", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _read(report: dict) -> tuple:
    [file] = report["inputs"]
    summary = report["summary"]
    return (
        (file["lines_read"], file["ingested"], file["skipped"], file["rejected"]),
        (summary["requests"], summary["total_cost_usd"]),
        [(r["line"], r["reason"]) for r in report["rejected"]["samples"]],
    )


@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.name)
def test_a_line_of_tabs_and_spaces_is_a_blank_line(cli, tmp_path, log):
    """A line of only tabs and spaces (a tab-indented editor's empty line, a log written by a
    template) is blank, skipped like an empty line; DuckDB's trim takes spaces only, so a
    tab made it a reject 'not valid JSON'."""
    lines = log.read_bytes().splitlines()
    copy = tmp_path / log.name
    copy.write_bytes(b"\n".join([lines[0], b"\t", *lines[1:], b"  \t "]) + b"\n")
    (read, ingested, skipped, rejected), totals, rejects = _read(_report(cli, log))
    assert _read(_report(cli, copy)) == (
        (read + 2, ingested, skipped + 2, rejected),
        totals,
        [(line + (line > 1), reason) for line, reason in rejects],
    )


@pytest.mark.parametrize("blank", [True, False], ids=["with-a-blank-line", "no-blank-line"])
@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.name)
def test_windows_line_endings_keep_every_line_and_its_number(cli, tmp_path, log, blank):
    """A log with CRLF line endings (written on Windows, or by a tool that writes them) is
    the same log: DuckDB's line reader ended a line at the CR as well, so a CRLF file read
    line by line had twice its lines (a blank line, or any bad line, sent it there: 'jsonl,
    12 lines → 4 calls, 7 skipped, 1 rejected' for 6 lines, the reject at line 7 for 4), and
    the careful re-reading of a bad line took another line's text: the bad line was lost, not
    rejected ('1 call already stored'). A CR inside a line (unescaped, not valid JSON) does
    not cut it in two either."""
    lines = log.read_bytes().splitlines()
    bad = b'{"model": "gpt-4o", "note": "cut\rshort'
    extra = [lines[0], b""] if blank else [lines[0]]
    copy = tmp_path / log.name
    copy.write_bytes(b"\r\n".join([*extra, *lines[1:], bad]) + b"\r\n")
    (read, ingested, skipped, rejected), totals, rejects = _read(_report(cli, log))
    moved = [(line + (blank and line > 1), reason) for line, reason in rejects]
    assert _read(_report(cli, copy)) == (
        (read + 1 + blank, ingested, skipped + blank, rejected + 1),
        totals,
        sorted([*moved, (read + 1 + blank, "not valid JSON (truncated or malformed line)")]),
    )


@pytest.mark.parametrize(
    "log",
    [SAMPLES / "shapes" / "flat.jsonl", DATA / "formats" / "litellm" / "spend_logs.json"],
    ids=lambda p: p.name,
)
@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_utf16_log_with_its_bom_reads_as_the_same_log(cli, tmp_path, log, encoding):
    """Windows PowerShell's Out-File and > (and ConvertTo-Json piped to them) write UTF-16LE
    with a BOM and CRLF: every line of such a log was rejected, 'not valid JSON' and 'cannot
    decode line', exit 3. A file that starts with a UTF-16 BOM is read as the text it holds,
    as a compressed file is decompressed: the same calls, cost and lines as the UTF-8 log."""
    text = log.read_text().replace("\n", "\r\n")
    copy = tmp_path / log.name
    copy.write_bytes("\ufeff".encode(encoding) + text.encode(encoding))
    assert _read(_report(cli, copy)) == _read(_report(cli, log))


def test_a_symlink_loop_met_in_a_directory_is_said_not_to_be_read(cli, tmp_path):
    """A directory holding a symlink loop (a -> b -> a, left by a deploy script) ended the run
    with a traceback on Python before 3.13 (pathlib's resolve raises RuntimeError 'Symlink loop
    from ...'): the loop is named, as a loop, among the files not read, and the logs beside it
    are read; named alone, it is a usage error (exit 2) that says it is a loop."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.jsonl").write_bytes(SAMPLES.joinpath("shapes", "flat.jsonl").read_bytes())
    (logs / "a.jsonl").symlink_to(logs / "b.jsonl")
    (logs / "b.jsonl").symlink_to(logs / "a.jsonl")
    result = cli("analyze", logs, "--format", "json")
    assert result.exit_code == 0, result.stderr
    for name in ("a.jsonl", "b.jsonl"):
        assert (
            f"{logs / name}: not read — cannot be read: Too many levels of symbolic links "
            "(a symlink loop)" in result.stderr.splitlines()
        ), result.stderr
    inputs = {Path(f["source"]).name: f for f in json.loads(result.stdout)["inputs"]}
    assert inputs["app.jsonl"]["ingested"] == 12
    named = cli("analyze", logs / "a.jsonl")
    assert named.exit_code == 2
    assert f"error: {logs / 'a.jsonl'}: a symlink loop" in named.stderr, named.stderr


@pytest.mark.parametrize("layout", ["array", "objects"])
def test_a_json_document_with_a_utf8_bom_is_read(cli, tmp_path, layout):
    """Windows PowerShell 5's `ConvertTo-Json | Out-File -Encoding utf8` (and .NET's
    UTF8Encoding(true), Notepad's 'UTF-8 with BOM') start a file with a UTF-8 BOM: a JSON
    document (an array, or pretty-printed objects) so written was 'not a log llmcost reads',
    exit 3, where the same file without its BOM is read. DuckDB's reader skips the BOM; the
    look at the file's start that tells its format did not."""
    records = [json.loads(line) for line in SAMPLES.joinpath("shapes", "flat.jsonl").open()]
    if layout == "array":
        text = json.dumps(records, indent=2)
    else:
        text = "\n".join(json.dumps(r, indent=2) for r in records)
    plain = tmp_path / "plain.json"
    plain.write_text(text + "\n")
    marked = tmp_path / "marked.json"
    marked.write_bytes(b"\xef\xbb\xbf" + (text + "\n").replace("\n", "\r\n").encode())
    expected = _read(_report(cli, plain))
    assert expected[0][1] == len(records)
    assert _read(_report(cli, marked)) == expected


def test_a_call_whose_text_holds_backslash_x02_is_read_whole(cli, tmp_path):
    """The line reader split each line at the text '\\x02' (its delimiter was written as the
    four characters backslash, x, 0, 2, which DuckDB took as they are), so a call whose prompt
    quotes a C or regex escape ('\\x02', written '\\\\x02' in JSON) was cut there and rejected
    'not valid JSON (truncated or malformed line)' whenever the file was read line by line
    (here: it has a blank line)."""
    call = {
        "timestamp": "2026-11-02T10:00:00Z",
        "model": "gpt-4o",
        "usage": {"prompt_tokens": 120, "completion_tokens": 30},
        "messages": [{"role": "user", "content": 'What does printf("\\x02") print?'}],
    }
    log = tmp_path / "escapes.jsonl"
    log.write_text(json.dumps({**call, "timestamp": "2026-11-01T10:00:00Z"}) + "\n\n")
    with log.open("a") as fh:
        fh.write(json.dumps(call) + "\n")
    assert "\\\\x02" in log.read_text()
    report = _report(cli, log)
    assert _read(report)[0] == (3, 2, 1, 0), report["rejected"]


# A CSV export of each reader that reads CSV: the file, its id column, a column whose text
# may span lines and its text, and a token column and a count out of range. The multi-line texts are what exports hold: a prompt
# with line breaks (Langfuse's input), a JSON body pretty-printed (Helicone's request_body,
# LiteLLM's metadata).
CSV_EXPORTS = {
    "helicone": (
        DATA / "formats" / "helicone" / "export.csv",
        "response_id",
        "request_body",
        '{"model": "gpt-4o-mini",\n "messages": [{"role": "user",\n  "content": "Find flights"}]}',
        ("prompt_tokens", "1e30"),
    ),
    "litellm": (
        DATA / "formats" / "litellm" / "spend_logs.csv",
        "request_id",
        "metadata",
        '{"user_api_key_alias": "search-svc",\n "team": "search",\n "tags": ["feature:search"]}',
        ("prompt_tokens", "1e30"),
    ),
    "langfuse": (
        DATA / "formats" / "langfuse" / "observations.csv",
        "id",
        "input",
        "What is 2+2?\nAnswer in\none word.",
        ("usageDetails", '{"input": 1e30, "output": 60}'),
    ),
}


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("reader", CSV_EXPORTS)
def test_a_csv_reject_is_reported_at_its_line_after_blank_and_multi_line_rows(
    cli, tmp_path, reader, newline
):
    """The CSV readers numbered rows, not lines: a blank line was not counted (nor skipped:
    lines read were not calls + skipped + rejected), and a quoted cell spanning lines moved
    every later reject up by its extra lines. Lines: 1 header, 2 a call, 3 blank, 4-6 a call
    with a three-line cell, 7 a bad token count, 8 a row cut short, 9 a call."""
    import csv
    import io

    source, id_column, text_column, text, (token_column, count) = CSV_EXPORTS[reader]
    header, row, *_ = csv.reader(io.StringIO(source.read_text()))

    def variant(request_id: str, **cells: str) -> list[str]:
        out = dict(zip(header, row, strict=True))
        out.update({id_column: request_id, **cells})
        return [out[h] for h in header]

    text = text.replace("\n", newline)
    assert text.count(newline) == 2
    buffer = io.StringIO(newline="")
    write = csv.writer(buffer, lineterminator=newline).writerow
    write(header)
    write(variant("call-1"))
    buffer.write(newline)
    write(variant("call-2", **{text_column: text}))
    write(variant("call-bad", **{token_column: count}))
    write(variant("call-cut")[:3])
    write(variant("call-3"))
    path = tmp_path / f"{reader}.csv"
    path.write_bytes(buffer.getvalue().encode())
    assert path.read_bytes().count(b"\n") == 9
    report = _report(cli, path)
    (read, ingested, skipped, rejected), _, rejects = _read(report)
    assert report["inputs"][0]["format"] == reader
    counts = (read, ingested, skipped, rejected)
    assert (counts, [line for line, _ in rejects]) == ((6, 3, 1, 2), [7, 8]), rejects
    assert "too large for a token count" in rejects[0][1], rejects
    assert rejects[1][1].startswith("bad CSV row:"), rejects


def _accented_log(tmp_path) -> Path:
    """The flat log, its prompts given letters of Western European text (cp1252 has them
    all; the flat log's other characters it has not become '?'), written as UTF-8."""
    records = [json.loads(line) for line in SAMPLES.joinpath("shapes", "flat.jsonl").open()]
    records[0]["prompt"] = "Café menu – price €5, naïve ‘quote’"
    records[3]["prompt"] = "Ærø façade déjà vu, à la carte"
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    plain = tmp_path / "utf8.jsonl"
    plain.write_text(text.encode("cp1252", "replace").decode("cp1252"), encoding="utf-8")
    return plain


def test_a_windows_1252_log_is_read_as_its_text_and_said_so(cli, tmp_path):
    """An export of Excel or an old Windows tool is Windows-1252 (Latin-1 for its letters):
    every line with an accent was rejected 'cannot decode line', with no word of why. A file
    whose bytes are all cp1252 and none UTF-8 is read as cp1252, the text as written, and a
    note names the file, says it is not UTF-8 and how to convert it."""
    from llmcost import store
    from llmcost.ingest import ingest_paths

    plain = _accented_log(tmp_path)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(plain.read_text(encoding="utf-8").encode("cp1252"))
    report = _report(cli, latin)
    assert _read(report) == _read(_report(cli, plain))
    note = (
        "not UTF-8: read as Windows-1252 (Latin-1), as every byte of it is one and none is "
        f"UTF-8; to convert it once: iconv -f cp1252 -t utf-8 {latin} > "
        f"{tmp_path / 'latin.utf8.jsonl'}"
    )
    assert report["inputs"][0]["note"] == note
    assert f"{latin}: {note}" in report["notes"]
    con = store.connect()
    ingest_paths(con, [str(latin)])
    texts = {t for (t,) in con.execute("SELECT text FROM texts").fetchall()}
    assert {"Café menu – price €5, naïve ‘quote’", "Ærø façade déjà vu, à la carte"} <= texts


def test_a_utf8_log_with_a_windows_1252_line_rejects_it_and_says_why(cli, tmp_path):
    """A UTF-8 log with one line in cp1252 (a line pasted from another tool) is not read as
    cp1252 (its UTF-8 text would be garbled): the line is rejected at its place, and a note
    says it is not UTF-8, likely Latin-1 / Windows-1252, and how to convert such a file."""
    plain = _accented_log(tmp_path)
    mixed = tmp_path / "mixed.jsonl"
    lines = plain.read_text(encoding="utf-8").splitlines(keepends=True)
    mixed.write_bytes(b"".join([*(x.encode() for x in lines), b"\xe9t\xe9\n", lines[0].encode()]))
    report = _report(cli, mixed)
    (counts, _, rejects) = _read(report)
    assert counts == (14, 12, 1, 1)  # (the first line again: a call already stored)
    assert rejects == [
        (13, "cannot decode line: Invalid unicode (byte sequence mismatch) detected")
    ]
    assert report["inputs"][0]["note"] == (
        "1 line is not UTF-8 (rejected, 'cannot decode'): likely Latin-1 / Windows-1252 text, "
        "an export of Excel or an old Windows tool; if the whole file is, convert it (iconv -f "
        f"cp1252 -t utf-8 {mixed} > {tmp_path / 'mixed.utf8.jsonl'}) and read that"
    )
    assert _report(cli, plain)["inputs"][0]["note"] is None


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-16-le", False), ("utf-16-be", False), ("utf-16-le", True)],
    ids=["le-no-bom", "be-no-bom", "le-bom"],
)
def test_a_utf16_log_without_a_bom_or_in_gzip_reads_as_the_same_log(
    cli, tmp_path, encoding, bom, gz
):
    """UTF-16 without a BOM (iconv -t UTF-16LE, .NET's Encoding.Unicode without a preamble)
    and UTF-16 inside a .gz (a PowerShell log rotated and compressed) had every line rejected
    'cannot decode line', exit 3. The byte order is told as RFC 4627 tells JSON's, by the NULs
    of its first (ASCII) characters, and said in a note; inside gzip, after decompressing."""
    import gzip

    log = SAMPLES / "shapes" / "flat.jsonl"
    data = ("\ufeff" if bom else "").encode(encoding) + log.read_text().replace(
        "\n", "\r\n"
    ).encode(encoding)
    copy = tmp_path / ("flat.jsonl.gz" if gz else "flat.jsonl")
    copy.write_bytes(gzip.compress(data) if gz else data)
    report = _report(cli, copy)
    assert _read(report) == _read(_report(cli, log))
    order = encoding[-2:].upper()
    note = f"UTF-16{order} without a BOM (told by its NUL bytes): read as the text it holds"
    assert report["inputs"][0]["note"] == (None if bom else note)


@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.name)
def test_old_mac_line_endings_keep_every_line_and_its_number(cli, tmp_path, log):
    """A log whose lines end with a CR alone (classic Mac OS, old Excel for Mac) was one line,
    rejected whole, exit 3. It is read line by line: the same calls and cost, a blank line
    skipped and a bad line rejected at their own numbers."""
    lines = log.read_bytes().splitlines()
    bad = b'{"model": "gpt-4o", "note": "cut short'
    copy = tmp_path / log.name
    copy.write_bytes(b"\r".join([lines[0], b"", *lines[1:], bad]) + b"\r")
    (read, ingested, skipped, rejected), totals, rejects = _read(_report(cli, log))
    moved = [(line + (line > 1), reason) for line, reason in rejects]
    assert _read(_report(cli, copy)) == (
        (read + 2, ingested, skipped + 1, rejected + 1),
        totals,
        sorted([*moved, (read + 2, "not valid JSON (truncated or malformed line)")]),
    )


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("reader", CSV_EXPORTS)
def test_a_csv_line_of_spaces_and_tabs_is_a_blank_line(cli, tmp_path, reader, newline):
    """A CSV line of only spaces and tabs (an editor's indented empty line, a trailing line of
    a hand-edited export) was a reject 'bad CSV row: Expected Number of Columns', where an
    empty line is skipped: it is blank now, skipped and counted as skipped."""
    source = CSV_EXPORTS[reader][0]
    lines = source.read_bytes().decode().splitlines()
    copy = tmp_path / source.name
    text = newline.join([*lines[:2], "   ", *lines[2:], " \t "]) + newline
    copy.write_bytes(text.encode())
    (read, ingested, skipped, rejected), totals, rejects = _read(_report(cli, source))
    assert _read(_report(cli, copy)) == (
        (read + 2, ingested, skipped + 2, rejected),
        totals,
        [(line + (line > 2), reason) for line, reason in rejects],
    )


@pytest.mark.parametrize("reader", CSV_EXPORTS)
def test_a_csv_export_with_old_mac_line_endings_reads_as_the_same_export(cli, tmp_path, reader):
    """A CSV export whose lines end with a CR alone (Excel for Mac's 'CSV (Macintosh)')
    ended the run with a traceback (the header's look: 'new-line character seen in unquoted
    field'): it reads as the same export, its rejects at their lines."""
    source = CSV_EXPORTS[reader][0]
    copy = tmp_path / source.name
    copy.write_bytes(source.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    assert b"\n" not in copy.read_bytes()
    assert _read(_report(cli, copy)) == _read(_report(cli, source))
