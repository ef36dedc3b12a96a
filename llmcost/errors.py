"""Errors the core raises; only cli.py turns them into exit codes."""

from __future__ import annotations

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
