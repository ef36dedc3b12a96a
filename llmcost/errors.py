"""Errors the core raises; only cli.py turns them into exit codes."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    POLICY_BREACHED = 1
    USAGE = 2
    NO_RECORDS = 3


class LlmcostError(Exception):
    """An error with a message that says what went wrong and a hint that says what to do."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(LlmcostError):
    """Bad option or argument."""


class InputError(LlmcostError):
    """A path that does not exist or cannot be read."""


class PricingError(LlmcostError):
    """A pricing table that cannot be loaded or does not validate."""


class ConfigError(LlmcostError):
    """An llmcost.yaml that cannot be loaded or does not validate."""


class NoRecordsError(LlmcostError):
    """Nothing usable was read."""

    exit_code = ExitCode.NO_RECORDS


def unwritable(path, exc: OSError) -> UsageError:
    """An output path the tool cannot write, as a usage error that says what to fix."""
    import errno
    from pathlib import Path

    target = Path(path)
    for parent in target.parents:  # a file where a directory should be
        if parent.exists() and not parent.is_dir():
            return UsageError(
                f"{parent} is a file, not a directory",
                hint=f"write {target.name} into a directory",
            )
    if exc.errno == errno.ENOENT:
        return UsageError(f"{target.parent}: no such directory", hint="create it first")
    if exc.errno == errno.EISDIR or target.is_dir():
        return UsageError(f"{target} is a directory", hint="give a file name")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return UsageError(
            f"{target}: {exc.strerror or 'permission denied'}",
            hint="write somewhere you may, or change the permissions",
        )
    if exc.errno == errno.ENOSPC:
        return UsageError(
            f"{target}: no space left on the device", hint="free space, or write elsewhere"
        )
    return UsageError(f"{target}: cannot write ({exc.strerror or exc})", hint="check the path")


@contextmanager
def stdout_may_close():
    """Output to stdout whose reader may stop early (``| head``): the rest is dropped and
    the command goes on, so its messages and its exit code (check's verdict) stay what they
    would have been, instead of click's exit 1 for a broken pipe."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        drop_stdout()


def drop_stdout() -> None:
    """stdout's reader went away: what is still buffered, and any later write, go nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
