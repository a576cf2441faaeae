"""Every error tactful raises on purpose, in one place.

The hierarchy::

    BaseException
    ├── Stopped                  a signal (SIGINT, SIGTERM) asked the run to stop
    └── Exception
        ├── TactfulError         shown to the user as one line, no traceback
        │   ├── ConfigError      profile, example bank or a cache unusable   exit 2
        │   ├── UsageError       the command line asks the impossible        exit 2
        │   ├── BackendError     the model backend cannot serve              exit 3
        │   │   └── HostUnavailable  one server is down or keeps failing
        │   ├── NothingJudged    a run that judged no record                 exit 4
        │   └── IOFailure        a file or stream could not be written       exit 5
        ├── OutputClosed         the reader of stdout went away (a normal end)
        ├── AnswerError          one model answer broke the output contract
        ├── NoProbabilities      the backend reports no log-probabilities
        ├── Transient            a backend fault worth retrying
        ├── ImageError           an image that cannot be read, or is not allowed
        └── DirectiveError       a malformed ``tactful:`` comment in a checked file

Shown to users:

- ``TactfulError``: ``tactful.main`` prints ``tactful: error: MESSAGE`` and exits with
  the error's ``exit_code``.
- ``IOFailure``: the operating system refused a write (disk full, closed descriptor,
  no permission, no such directory), or a read of a file tactful writes. Raised where the
  file is known, so the line names it: ``tactful.io.streams`` wraps stdout and every
  output file, ``tactful.io.atomic`` the profile and bank. Refusals that tactful itself
  decides (an output that is an input, an existing file without --force) are UsageErrors.
- ``OutputClosed``: the reader of stdout left (``| head``); ``tactful.main`` stops
  quietly with exit 0, as ``grep`` does.
- ``Stopped``: raised by the handler that ``tactful.io.interrupts.stop_on_signals``
  installs; ``commands/classify.py`` catches it after the output is closed cleanly, says
  how to resume and exits 128 + signal (130 for SIGINT, 143 for SIGTERM). It is a
  ``BaseException``, like ``KeyboardInterrupt``, so that no ``except Exception`` on the
  way (a worker, a retry loop) swallows the stop.

Internal, never seen as such:

- ``HostUnavailable``: with several hosts, caught by ``backends.hosts.HostPool``, which
  takes that host out of rotation for a while and sends the request to another; with one
  host (or all down) it reaches the user as a BackendError.
- ``AnswerError``: caught by ``Classifier.classify``, which writes it into that record's
  ``error`` field; the run goes on.
- ``NoProbabilities``: raised by a backend's ``probe`` when the server gives no
  log-probabilities (Ollama before 0.12.11) or the model does not continue a partial
  answer (its template opens a new turn); the classifier falls back to the sampled
  answer for the rest of the run and says why once.
- ``Transient``: caught by ``backends.retry.with_retries``, which waits and tries again;
  a server backend's ``ServerLink`` turns the last one into a ``HostUnavailable``.
- ``ImageError``: raised by ``tactful.io.images``; the readers write it into that
  record's ``error`` field (file or line, and what to do); the run goes on.
- ``DirectiveError``: caught by ``commands/check.py``, which turns it into a
  ``UsageError`` naming ``file:line:col``.

Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import signal

# Exit codes scripts can rely on (documented in README and --help).
EXIT_OK = 0
EXIT_FLAGGED = 1
EXIT_USAGE = 2
EXIT_BACKEND = 3
EXIT_UNJUDGED = 4  # records that could not be judged: all of them, or any with --fail-on-error
EXIT_IO = 5  # a file or stream could not be written: never read as "flagged" (1) by a script
EXIT_INTERRUPTED = 130


def run_exit_code(judged: int, errors: int, flagged: int, fail_on_flagged: bool, fail_on_error: bool) -> tuple[int, str | None]:
    """The exit code of a finished run, and why when it is not a success.

    One rule for every command that judges records: a run that judged nothing never
    succeeds (a gate must not pass on a wrong --field or an empty export); errors fail it
    when asked to; then flags, when asked to.
    """
    if judged == 0:
        if errors:
            return EXIT_UNJUDGED, f"no record could be judged ({errors} of {errors} are errors; see their 'error' field)"
        return EXIT_UNJUDGED, "no record was judged: the input held none"
    if fail_on_error and errors:
        return EXIT_UNJUDGED, f"{errors} record(s) could not be judged (--fail-on-error)"
    if fail_on_flagged and flagged:
        return EXIT_FLAGGED, None
    return EXIT_OK, None

# ---------------------------------------------------------------- shown to the user


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


class HostUnavailable(BackendError):
    """One server cannot be reached or keeps failing; with several hosts, the others carry on."""


class NothingJudged(TactfulError):
    """A run that judged nothing: never a success, whatever else it did."""

    exit_code = EXIT_UNJUDGED


class IOFailure(TactfulError):
    """The operating system refused to write (or read) a file or stream: ``FILE: OS error``."""

    exit_code = EXIT_IO


class OutputClosed(Exception):
    """The reader of stdout went away (`tactful classify | head -1`): a normal end."""


class Stopped(BaseException):
    """A stop asked for by a signal (a BaseException, like KeyboardInterrupt)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum  # the shell's convention for a death by signal
        self.reason = "interrupted" if signum == signal.SIGINT else "terminated"


# ---------------------------------------------------------------- internal


class AnswerError(Exception):
    """The model's answer did not satisfy the output contract (a per-record failure)."""


class NoProbabilities(Exception):
    """The backend answered without log-probabilities, so no probe can be read from it."""


class ImageError(Exception):
    """An image that cannot be used; the message is one line saying what to do."""


class Transient(Exception):
    """A fault worth retrying (busy server, timeout, dropped connection)."""


class DirectiveError(Exception):
    """A comment that starts like a directive but is not one (a typo would silence nothing)."""

    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line, self.col, self.message = line, col, message
