"""Errors meant for the user.

Every error the CLI should print as one line, without a traceback, is a ``TactfulError``;
its ``exit_code`` is what the process returns. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

# Exit codes scripts can rely on (documented in README and --help).
EXIT_OK = 0
EXIT_FLAGGED = 1
EXIT_USAGE = 2
EXIT_BACKEND = 3
EXIT_INTERRUPTED = 130


class TactfulError(Exception):
    """An error with a message for the user and the exit code to return."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(TactfulError):
    """The profile or example bank is missing, unreadable or invalid."""


class UsageError(TactfulError):
    """The command line asks for something that cannot be done."""


class BackendError(TactfulError):
    """The model backend cannot be used: not running, model missing, gone mid-run."""

    exit_code = EXIT_BACKEND


class AnswerError(Exception):
    """The model's answer did not satisfy the output contract (a per-record failure)."""
