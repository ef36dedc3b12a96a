"""What every command shares: error handling, stderr, option parsing, report output."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from llmcost.errors import (
    LlmcostError,
    UsageError,
    drop_stdout,
    stdout_may_close,
    unwritable,
)
from llmcost.render import plural

_debug = False

# Options several commands share, declared once.
SinceOption = Annotated[
    Optional[str],
    typer.Option(
        "--since",
        help="Only calls at or after this time (ISO 8601, read as the logs' times are; UTC if "
        "no zone).",
    ),
]
UntilOption = Annotated[Optional[str], typer.Option("--until", help="Only calls before this time.")]
PricingOption = Annotated[
    Optional[list[Path]],
    typer.Option(
        "--pricing", help="Extra pricing YAML overriding the built-in tables (repeatable)."
    ),
]
# the order config.find() follows: --config, else $LLMCOST_CONFIG, else ./llmcost.yaml
ConfigOption = Annotated[
    Optional[Path],
    typer.Option(
        "--config", help="llmcost.yaml to read (default: $LLMCOST_CONFIG, else ./llmcost.yaml)."
    ),
]
InputFormatOption = Annotated[
    Optional[str],
    typer.Option("--input-format", help="Read every file as this format (see `llmcost formats`)."),
]


def set_debug(value: bool) -> None:
    global _debug
    _debug = value


def stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def stdout_console(**options):
    """A Rich console on stdout whose reader may stop early (``| head``): the rest is
    dropped and the command goes on (Rich's own answer is exit 1, which a check's caller
    reads as a breached budget)."""
    from rich.console import Console

    class StdoutConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            drop_stdout()

    return StdoutConsole(highlight=False, **options)


class ReportFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


class AnalyzeFormat(str, Enum):
    """analyze's formats: the report's, and one self-contained HTML file."""

    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


# What an -o file's suffix says its format is, when --format is not given.
OUTPUT_SUFFIXES = {
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
}
# Suffixes (and none) that name no format of their own: the command's default is written.
PLAIN_SUFFIXES = {"", ".txt", ".log", ".out"}


def output_format(format: Enum | None, output: Path | None, formats: type[Enum], default: Enum):
    """The format to write: ``--format`` when given, else the one ``output``'s suffix names
    (among ``formats``, the command's choices), else ``default``."""
    if format is not None:
        return format
    suffix = output.suffix.lower() if output else ""
    if suffix in PLAIN_SUFFIXES:
        return default
    named = OUTPUT_SUFFIXES.get(suffix)
    if named in {f.value for f in formats}:
        return formats(named)
    # "-o x.pdf" wrote the terminal table under a name that says something else: say so
    known = [s for s, f in OUTPUT_SUFFIXES.items() if f in {f.value for f in formats}]
    raise UsageError(
        f"cannot tell which format to write to {output} from its suffix {suffix!r}",
        hint=f"give --format ({'|'.join(f.value for f in formats)}), or name the file "
        + ", ".join(known + [".txt"]),
    )


def parse_when(value: str | None, option: str) -> dt.datetime | None:
    """A typed time, read as a log's is (timestamps.read_time); without an offset, UTC."""
    from llmcost.timestamps import read_time

    return None if value is None else read_time(value, option)


def parse_window(
    since: str | None, until: str | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``--since`` and ``--until`` parsed, and checked the way ``report`` checks them."""
    from llmcost.periods import check_order

    start, end = parse_when(since, "--since"), parse_when(until, "--until")
    check_order(start, end, since, until)
    return start, end


def parse_day(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{option} {value!r} is not a date", hint=f"e.g. {option} 2026-11-01"
        ) from None


def handles_errors(fn):
    """Turn LlmcostError into a message on stderr and its exit code (tracebacks with --debug)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LlmcostError as exc:
            if _debug or os.environ.get("LLMCOST_DEBUG"):
                raise
            report_error(exc)
            raise typer.Exit(int(exc.exit_code)) from None
        except Exception as exc:
            error = _out_of_memory(exc)
            if error is None or _debug or os.environ.get("LLMCOST_DEBUG"):
                raise
            report_error(error)
            raise typer.Exit(int(error.exit_code)) from None

    return wrapper


def _out_of_memory(exc: Exception) -> LlmcostError | None:
    """DuckDB's out-of-memory error as a usage error naming the ceiling to raise."""
    duckdb = sys.modules.get("duckdb")  # not loaded: not a DuckDB error
    if duckdb is None or not isinstance(exc, duckdb.OutOfMemoryException):
        return None
    from llmcost import store

    return UsageError(
        f"DuckDB ran out of memory under its ceiling of {store.memory_limit()} "
        f"({str(exc).splitlines()[0].removeprefix('Out of Memory Error: ')})",
        hint="raise it, e.g. LLMCOST_MEMORY_LIMIT=4GB (most of it is spilled to disk, "
        "but a step may need more at once)",
    )


def report_error(exc: LlmcostError) -> None:
    from rich.markup import escape  # messages quote logs and paths: "[...]" is not markup

    err = stderr()
    err.print(f"[bold red]error:[/bold red] {escape(exc.message)}", soft_wrap=True)
    if exc.hint:
        err.print(f"[yellow]hint:[/yellow] {escape(exc.hint)}", soft_wrap=True)


@contextlib.contextmanager
def output_file(path: Path, append: bool = False):
    """Open a file the tool writes (a report, a summary, an overlay) for text; a path that
    cannot be written is a usage error naming it and what to do, not a traceback. ``-`` is
    stdout, as check_writable and export take it (it wrote a file named '-')."""
    if str(path) == "-":
        with stdout_may_close():
            yield sys.stdout
        return
    try:
        fh = Path(path).open("a" if append else "w", encoding="utf-8")
    except OSError as exc:
        raise unwritable(path, exc) from None
    try:
        with fh:
            yield fh
    except OSError as exc:  # e.g. the disk filled up while writing
        raise unwritable(path, exc) from None


def check_writable(path: Path | None) -> None:
    """Before reading any log: an output path that cannot be written (a directory, a
    directory that does not exist) is a usage error now, not after minutes of reading with
    the verdict on stdout and exit 2. The file is not created nor emptied here: a run that
    fails later leaves the report already there as it was."""
    import errno
    import os

    if path is None or str(path) == "-":
        return
    target = Path(path)
    if target.is_dir():
        raise unwritable(target, IsADirectoryError(errno.EISDIR, "is a directory"))
    parent = target.parent
    if not parent.is_dir():
        raise unwritable(target, FileNotFoundError(errno.ENOENT, "no such directory"))
    if not os.access(target if target.exists() else parent, os.W_OK):
        raise unwritable(target, PermissionError(errno.EACCES, "permission denied"))


def write_output(path: Path, text: str, append: bool = False) -> None:
    """Write ``text`` to ``path`` (see ``output_file``)."""
    with output_file(path, append) as fh:
        fh.write(text)


def write_stdout(text: str) -> None:
    with stdout_may_close():
        sys.stdout.write(text)


# GitHub cuts the body of an issue or pull-request comment at this many characters
GITHUB_COMMENT_CHARS = 65536


def warn_long_markdown(text: str) -> None:
    """Say on stderr when a Markdown report is too long to post as a GitHub comment: 180
    days of --period daily --breakdown wrote 251,623 characters and nothing said that a PR
    comment of it would be cut at a quarter (the report itself is written whole)."""
    if len(text) > GITHUB_COMMENT_CHARS:
        stderr().print(
            f"warning: the Markdown is {len(text):,} characters; GitHub cuts an issue or pull "
            f"request comment at {GITHUB_COMMENT_CHARS:,} (a longer --period, no --breakdown "
            "or a smaller --top shortens it)",
            soft_wrap=True,
            markup=False,
        )


def emit(report: dict, format: ReportFormat | AnalyzeFormat, output: Path | None) -> None:
    """Write a report in ``format`` to ``output`` or stdout."""
    if format.value == "json":
        from llmcost.render.json import render

        text = render(report)
    elif format.value == "markdown":
        from llmcost.render.markdown import render

        text = render(report)
        warn_long_markdown(text)
    elif format.value == "html":
        from llmcost.render.html import render

        text = render(report)
    else:
        from rich.console import Console

        from llmcost.render.terminal import render

        if output:
            with output_file(output) as fh:
                render(report, Console(file=fh, width=160, force_terminal=False))
            return
        render(report, stdout_console())
        return
    if output:
        write_output(output, text)
    else:
        write_stdout(text)


class _Spinner:
    """``spinner(text)``: what is being done, as a spinner on stderr (only on a terminal:
    nothing is written for cron or CI)."""

    def __init__(self, console) -> None:
        self._console, self._status = console, None

    def __call__(self, text: str) -> None:
        if not self._console.is_terminal:
            return
        from rich.markup import escape

        label = f"[dim]{escape(text)}[/dim]"
        if self._status is None:
            self._status = self._console.status(label)
            self._status.start()
        else:
            self._status.update(label)

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()


class _Progress:
    """What ``progress_bar`` yields: called as ``progress(total_bytes, files)`` (the factory
    ``ingest_paths`` expects), and ``stage(text)`` for the work after reading (a spinner
    that says what is being done, in place of a full bar)."""

    def __init__(self, bar, console, label: str) -> None:
        self._bar, self._label = bar, label
        self._spinner = _Spinner(console)

    def __call__(self, total: int, files: int):
        task = self._bar.add_task(self._label, total=total or None)
        return lambda done: self._bar.advance(task, done)

    def stage(self, text: str) -> None:
        self._bar.stop()  # transient: the finished bar is cleared (once; then a no-op)
        self._spinner(text)

    def close(self) -> None:
        self._spinner.close()


@contextlib.contextmanager
def spinner():
    """A spinner on stderr for a command that reads no log (only on a terminal); yields
    ``stage(text)``, told each step."""
    spin = _Spinner(stderr())
    try:
        yield spin
    finally:
        spin.close()


@contextlib.contextmanager
def progress_bar(label: str = "reading"):
    """A byte progress bar with throughput on stderr (only on a terminal), then a spinner
    for the stages after reading; yields a ``_Progress``."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    console = stderr()
    bar = Progress(
        TextColumn(f"[dim]{label}[/dim]"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    progress = _Progress(bar, console, label)
    try:
        with bar:
            yield progress
    finally:
        progress.close()


def file_printer(err):
    """An ``on_file`` callback: each file's ``file_line``, dim, on ``err`` (as text: a path
    or an error may hold "[...]", which is not markup). In a terminal it is wrapped to the
    width at its spaces (its path never broken); redirected, it stays one line a file."""
    from rich.text import Text

    from llmcost.render.terminal import print_wrapped

    def show(result) -> None:
        if err.is_terminal:
            print_wrapped(err, file_line(result), style="dim")
        else:
            err.print(Text(file_line(result), style="dim"), soft_wrap=True)

    return show


def stored_before(duplicates: int, known_rejects: int) -> str:
    """What of the skipped lines an earlier run (or an earlier line) stored or rejected
    already: a rotated log read again is skipped whole, and says why."""
    parts = []
    if duplicates:
        parts.append(f"{plural(duplicates, 'call')} already stored")
    if known_rejects:
        parts.append(f"{plural(known_rejects, 'line')} rejected before")
    return ", ".join(parts)


def file_line(result) -> str:
    """One stderr line per file: what was read and what became of every line."""
    if result.format == "unrecognized":
        if result.error:  # a file named on the command line: what it could have been
            from llmcost.ingest import known_formats

            return f"{result.source}: not read — {result.error}; {known_formats()}"
        return f"{result.source}: not read — no log format recognized in its first lines"
    if result.format == "unreadable":
        return f"{result.source}: not read — {result.error}"
    mode = "" if result.mode == "new" else f" ({result.mode})"
    text = (
        f"{result.source}: {result.format}{mode}, {plural(result.lines_read, 'line')} → "
        f"{plural(result.ingested, 'call')}, {result.skipped:,} skipped, {result.rejected:,} rejected"
    )
    if getattr(result, "buckets", 0):
        text += f" ({result.buckets:,} of the skipped stored as usage-report buckets)"
    if seen := stored_before(getattr(result, "duplicates", 0), getattr(result, "known_rejects", 0)):
        text += f" (of the skipped: {seen})"
    if result.pending_bytes:
        text += (
            f"; an unfinished last line ({plural(result.pending_bytes, 'byte')}) waits for the "
            "next run"
        )
    if getattr(result, "held_streams", 0):
        text += f"; {result.held()}"
    if getattr(result, "dated_ahead", 0):
        from llmcost.ingest import dated_ahead

        text += f"; {dated_ahead(result.dated_ahead, result.latest_ahead)}"
    if result.error:
        text += f"; {result.error}"
    if getattr(result, "note", None):
        text += f"; {result.note}"
    return text
