"""What a user sees when they point llmcost at files that are not logs, or at many files."""

from __future__ import annotations

import gzip
import json
import os

import pytest

from tests.conftest import ROOT, SAMPLES

DEMO = SAMPLES / "demo.jsonl"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\x00\x01\n\x02IDAT\n\xff\xfe"


def _call(n: int) -> str:
    return json.dumps(
        {"id": f"r{n}", "model": "gpt-4o", "input_tokens": 10, "output_tokens": 1,
         "timestamp": f"2026-11-0{n % 9 + 1}T12:00:00Z"}
    )  # fmt: skip


def test_a_named_file_that_is_no_log_is_said_so_not_read_as_rejected_lines(cli, tmp_path):
    """`llmcost analyze demo.jsonl README.md` read the README as JSON lines: 'README.md:
    jsonl, 635 lines → 0 calls, 104 skipped, 531 rejected', and its 531 lines in the report's
    rejected lines, where a directory walk skips such a file. A file named that holds no JSON
    object on any line, and that no format recognizes, is not read: stderr says it is no log
    llmcost reads and which formats it reads; the log beside it is read as before (exit 0)."""
    image = tmp_path / "chart.png"
    image.write_bytes(PNG)
    readme = ROOT / "README.md"
    result = cli("analyze", DEMO, readme, image, "--format", "json")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    for path in (readme, image):
        [line] = [x for x in lines if x.startswith(f"{path}:")]
        assert line.startswith(f"{path}: not read — not a log llmcost reads: no line is a JSON "
                               "object, and no log format recognizes it; llmcost reads otel, "), line  # fmt: skip
        assert "jsonl, json (`llmcost formats` says how each is recognized)" in line
    report = json.loads(result.stdout)
    # the demo log's own 5 bad lines, and none of the README's or the image's
    assert report["rejected"]["count"] == 5
    assert {s["source"] for s in report["rejected"]["samples"]} == {str(DEMO.resolve())}
    [readme_input] = [i for i in report["inputs"] if i["source"] == str(readme.resolve())]
    assert readme_input["format"] == "unrecognized" and readme_input["lines_read"] == 0
    assert readme_input["error"].startswith("not a log llmcost reads")


def test_only_files_that_are_no_log_is_no_record_found_and_says_why(cli, tmp_path):
    """`llmcost analyze README.md` said 'no usable LLM call records were found; 531 lines were
    rejected, most often because: not valid JSON (530 lines ...)', as of a damaged log: it
    says the file is no log llmcost reads, and the formats it reads (exit 3, as before)."""
    notes = tmp_path / "notes.md.gz"
    notes.write_bytes(gzip.compress(b"# notes\n\n{not json}\nplain text\n"))
    for args in ([ROOT / "README.md"], [notes, ROOT / "README.md"]):
        result = cli("analyze", *args)
        assert result.exit_code == 3, result.stderr
        assert "rejected" not in result.stderr
        error = result.stderr[result.stderr.index("error:") :]
        assert error.startswith(
            f"error: no usable LLM call records were found; {len(args)} file"
        ), error
        assert f"{ROOT / 'README.md'}: not a log llmcost reads" in error
        assert "hint: name log files: llmcost reads otel, " in error
    # a CSV: what to do with one (a table of your own), which no built-in format reads
    csv = tmp_path / "billing.csv"
    csv.write_text("model,tokens_in,tokens_out\ngpt-4o,10,1\n")
    result = cli("analyze", csv)
    assert result.exit_code == 3
    assert "a CSV or JSON lines of your own layout once its columns are mapped in llmcost.yaml (formats: custom:)" in result.stderr  # fmt: skip


def test_ingest_of_files_that_are_none_a_log_fails_with_3(cli, tmp_path):
    """ingest README.md --db F said 'README.md: jsonl, 635 lines → 0 calls, 104 skipped,
    531 rejected' and exit 0, the 531 lines kept in the store's rejects. It stores nothing,
    says why, and exits 3 (no usable records) when no file named or met held a log."""
    db = tmp_path / "llm.duckdb"
    result = cli("ingest", ROOT / "README.md", "--db", db)
    assert result.exit_code == 3, result.stderr
    assert "error: no log was read: the file named or met could be read as a log" in result.stderr
    assert "0 lines read = 0 new calls + 0 skipped + 0 rejected" in result.stderr
    import duckdb

    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == 0
    # with a log beside it: read, exit 0
    result = cli("ingest", ROOT / "README.md", DEMO, "--db", db)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith("; 1 file not read (listed above)")


def test_a_named_log_whose_first_lines_are_damaged_is_still_read_line_by_line(cli, tmp_path):
    """No format recognizes a log whose first 30 lines are garbage (a format is sniffed from
    its first 20): a JSON object further on says it is a log, read as JSON lines as before,
    each bad line counted and shown."""
    log = tmp_path / "app.log"
    log.write_text("".join(f"garbage {n}\n" for n in range(30)) + _call(1) + "\n" + _call(2) + "\n")
    result = cli("analyze", log, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["requests"] == 2
    assert report["rejected"]["count"] == 30
    # and one whose lines open an object but are not JSON (Python's repr of a dict):
    # still a damaged log of JSON lines (its lines rejected, as before), not 'no log'
    cut = tmp_path / "cut.jsonl"
    cut.write_text("{'model': 'gpt-4o', 'input_tokens': 3}\n" * 3)
    result = cli("analyze", cut)
    assert result.exit_code == 3
    assert "3 lines were rejected" in result.stderr and "not a log" not in result.stderr


def _namesakes(tmp_path):
    """logs/a/app.jsonl and logs/b/app.jsonl, each with calls and a bad line of its own."""
    for n, folder in enumerate("ab"):
        (tmp_path / "logs" / folder).mkdir(parents=True)
        (tmp_path / "logs" / folder / "app.jsonl").write_text(
            _call(2 * n) + "\n" + f"garbage {folder}\n" + _call(2 * n + 1) + "\n"
        )
    return tmp_path / "logs"


def test_rejected_lines_of_a_stored_report_tell_files_of_one_name_apart(cli, tmp_path):
    """A report of a database (analyze --db, report) read no input, so its Rejected lines
    table named files by their name alone: 'app.jsonl:2' twice, for logs/a/app.jsonl and
    logs/b/app.jsonl. They are told apart among every file the store holds lines of, in the
    terminal, Markdown and HTML; the JSON keeps each sample's source (its whole path) and
    lists those files (sources)."""
    logs = _namesakes(tmp_path)
    db = tmp_path / "llm.duckdb"
    assert cli("ingest", logs, "--db", db).exit_code == 0
    for fmt in ("table", "markdown", "html"):
        out = cli("analyze", "--db", db, "--format", fmt).stdout
        assert "logs/a/app.jsonl:2" in out and "logs/b/app.jsonl:2" in out, fmt
    out = cli("report", "--db", db, "--since", "2026-01-01").stdout
    assert "logs/a/app.jsonl:2" in out and "logs/b/app.jsonl:2" in out
    report = json.loads(cli("analyze", "--db", db, "--format", "json").stdout)
    paths = [str(logs / folder / "app.jsonl") for folder in "ab"]
    assert [(s["source"], s["line"]) for s in report["rejected"]["samples"]] == [
        (paths[0], 2),
        (paths[1], 2),
    ]
    assert report["sources"] == paths
    # `rejects` told apart among all files with rejected lines, not only the rows shown
    out = cli("rejects", "--db", db, "--limit", "1").stdout
    assert "logs/a/app.jsonl:2" in out


def test_no_record_found_tells_files_of_one_name_apart(cli, tmp_path):
    """'first at app.jsonl:1' named no file when two logs of that name were read."""
    for folder in "ab":
        (tmp_path / "logs" / folder).mkdir(parents=True)
        # (a record without a model, then a Python dict: JSON lines, rejected line by line;
        # a first line '[97]' was read as a JSON document only while any '[' opened one)
        (tmp_path / "logs" / folder / "app.jsonl").write_text(
            f'{{"x": {ord(folder)}}}\n' + "{'x': 1}\n"
        )
    result = cli("analyze", tmp_path / "logs" / "b" / "app.jsonl", tmp_path / "logs" / "a")
    assert result.exit_code == 3
    assert "first at logs/a/app.jsonl:1)" in result.stderr, result.stderr


def test_paths_outside_the_working_directory_are_told_apart_by_their_ends(tmp_path):
    """Two logs of one name outside the working directory were shown as their whole paths;
    their shortest ends that differ tell them apart."""
    from llmcost.render import short_paths

    a, b = "/var/log/svc/a/app.jsonl", "/var/log/svc/b/app.jsonl"
    c, d = "/srv/x/one/app.jsonl", "/srv/y/one/app.jsonl"
    assert short_paths([a, b, c, d, "/z/other.jsonl"]) == {
        a: "a/app.jsonl",
        b: "b/app.jsonl",
        c: "x/one/app.jsonl",
        d: "y/one/app.jsonl",
        "/z/other.jsonl": "other.jsonl",
    }


def test_an_empty_log_met_in_a_directory_is_a_log_of_no_line_yet(cli, tmp_path):
    """An empty file met walking a directory (the live log just rotated, a service without
    traffic yet) read 'not read — no log format recognized in its first lines', as of a
    README; named, it is no 'not a log' either: JSON lines, of no line yet."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.jsonl").write_text("")
    (logs / "app.jsonl.1").write_text(_call(1) + "\n")
    (tmp_path / "blank.jsonl").write_text("\n\n")
    db = tmp_path / "llm.duckdb"
    result = cli("ingest", logs, tmp_path / "blank.jsonl", "--db", db)
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert f"{logs / 'app.jsonl'}: jsonl, 0 lines → 0 calls, 0 skipped, 0 rejected" in lines
    assert f"{tmp_path / 'blank.jsonl'}: jsonl, 2 lines → 0 calls, 2 skipped, 0 rejected" in lines
    assert "not read" not in result.stderr
    # an empty log alone: nothing to read yet, not a failure
    assert cli("ingest", logs / "app.jsonl", "--db", db).exit_code == 0


def test_a_symlink_to_a_file_gone_met_in_a_directory_is_said_not_to_be_read(cli, tmp_path):
    """A directory walk dropped a symlink whose file is gone (current.jsonl -> a log deleted
    since) without a word: it is named, with why, and counted among the files not read."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.jsonl").write_text(_call(1) + "\n")
    (logs / "current.jsonl").symlink_to(logs / "app-2026-11-01.jsonl")
    result = cli("ingest", logs, "--db", tmp_path / "llm.duckdb")
    assert result.exit_code == 0, result.stderr
    assert (
        f"{logs / 'current.jsonl'}: not read — cannot be read: No such file or directory (a "
        "symlink to a file that is gone)" in result.stderr.splitlines()
    )
    assert result.stderr.strip().splitlines()[-1].endswith("; 1 file not read (listed above)")
    report = json.loads(cli("analyze", logs, "--format", "json").stdout)
    assert any(str(logs / "current.jsonl") in note for note in report["notes"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file of mode 000")
def test_a_file_met_in_a_directory_that_cannot_be_read_does_not_stop_the_run(cli, tmp_path):
    """One file of a log directory without read permission stopped the whole run
    ('error: cannot read logs/secret.jsonl: Permission denied', exit 2), the logs beside it
    unread: it is named, with why, and the run goes on (named alone, it is still exit 2)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.jsonl").write_text(_call(1) + "\n")
    locked = logs / "secret.jsonl"
    locked.write_text(_call(2) + "\n")
    locked.chmod(0)
    result = cli("analyze", logs, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert f"{locked}: not read — cannot be read: Permission denied" in result.stderr
    assert json.loads(result.stdout)["summary"]["requests"] == 1
    assert cli("analyze", locked).exit_code == 2


def test_files_of_no_log_met_in_a_directory_are_counted_and_named_in_the_report(cli, tmp_path):
    """analyze and check of a directory named the files in it of no log format on stderr
    only: a CI job's summary (check's Markdown) said nothing of them. The report's notes
    count and name them."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.jsonl").write_text(_call(1) + "\n")
    (logs / "README.md").write_text("# the logs of the app\n")
    (logs / "cassette.yaml").write_text("interactions: []\n")
    note = (
        f"2 files met in the directories read were not read, no log format recognized in "
        f"their first lines: {logs / 'README.md'}, {logs / 'cassette.yaml'} (`llmcost formats` "
        "lists what can be read)"
    )
    report = json.loads(cli("analyze", logs, "--format", "json").stdout)
    assert note in report["notes"]
    # named, in one note too (a glob of a directory names every file in it)
    notes = json.loads(cli("analyze", *sorted(logs.glob("*")), "--format", "json").stdout)["notes"]
    assert notes == [
        f"2 files named were not read, not a log llmcost reads (no line is a JSON object, and "
        f"no log format recognizes it): {logs / 'README.md'}, {logs / 'cassette.yaml'} "
        "(`llmcost formats` lists what can be read)"
    ], notes
    out = cli("check", logs, "--max-cost", "10", "--format", "markdown").stdout
    assert f"- {note}".replace("`", "\\`") in out, out


def test_a_toml_or_ini_file_named_is_no_json_document(cli, tmp_path):
    """pyproject.toml (and an INI file) starts with '[': the JSON-document sniff took it for
    an array of records and read '1 rejected'. An array of records opens with '[' then '{'
    (or is empty); a '[section]' is no log, said so like any other file no format reads. A
    real array of records beside them is read as before."""
    ini = tmp_path / "settings.ini"
    ini.write_text("[server]\nport = 8080\n")
    records = tmp_path / "calls.json"
    records.write_text("[\n  " + _call(1) + ",\n  " + _call(2) + "\n]\n")
    result = cli("analyze", records, ROOT / "pyproject.toml", ini, "--format", "json")
    assert result.exit_code == 0, result.stderr
    for path in (ROOT / "pyproject.toml", ini):
        [line] = [x for x in result.stderr.splitlines() if x.startswith(f"{path}:")]
        assert "not read — not a log llmcost reads" in line, line
    report = json.loads(result.stdout)
    assert report["summary"]["requests"] == 2
    assert report["rejected"]["count"] == 0


def test_a_json_array_of_one_record_a_line_is_one_document(cli, tmp_path):
    """A JSON array written one record a line ('[', then '{…},' lines, then ']') was read as
    JSON lines, since its lines are objects: '4 lines → 1 call, 3 rejected', every record
    but the last lost to its trailing comma. It is one JSON document; a file of JSON lines
    whose first line is a whole array of its own is still JSON lines."""
    dump = tmp_path / "calls.json"
    dump.write_text("[\n  " + ",\n  ".join(_call(n) for n in range(1, 4)) + "\n]\n")
    result = cli("analyze", dump, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["requests"] == 3
    assert report["rejected"]["count"] == 0
    lines = tmp_path / "calls.jsonl"
    lines.write_text("[1, 2]\n" + _call(4) + "\n" + _call(5) + "\n")
    report = json.loads(cli("analyze", lines, "--format", "json").stdout)
    assert report["summary"]["requests"] == 2
    assert [s["reason"] for s in report["rejected"]["samples"]] == ["JSON array, not an object"]
