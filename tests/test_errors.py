"""The error hierarchy: one module, the same behaviour as before the move."""

from __future__ import annotations

import signal

import pytest
from tactful import errors
from tactful.backends.retry import RetryPolicy, with_retries
from tactful.errors import (
    EXIT_BACKEND,
    EXIT_USAGE,
    AnswerError,
    BackendError,
    ConfigError,
    DirectiveError,
    Stopped,
    TactfulError,
    Transient,
    UsageError,
)


def test_user_facing_errors_carry_their_message_and_exit_code():
    for cls, code in ((ConfigError, EXIT_USAGE), (UsageError, EXIT_USAGE), (BackendError, EXIT_BACKEND)):
        error = cls("one line")
        assert isinstance(error, TactfulError) and error.message == "one line" and error.exit_code == code


def test_internal_errors_are_not_shown_as_user_errors():
    for cls in (AnswerError, Transient, DirectiveError):
        assert not issubclass(cls, TactfulError) and issubclass(cls, Exception)
    error = DirectiveError(3, 5, "unknown tactful directive 'ignroe'")
    assert (error.line, error.col, error.message, str(error)) == (3, 5, error.message, error.message)


@pytest.mark.parametrize(("signum", "code", "reason"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_stopped_escapes_except_exception(signum, code, reason):
    assert not issubclass(Stopped, Exception)
    with pytest.raises(Stopped) as caught:
        try:
            raise Stopped(signum)
        except Exception:  # what a worker or a retry loop might write
            pytest.fail("Stopped was caught by `except Exception`")
    stop = caught.value
    assert (stop.signum, stop.exit_code, stop.reason, str(stop)) == (signum, code, reason, signal.Signals(signum).name)


def test_the_modules_that_raise_them_use_the_same_classes():
    from tactful.check import directives
    from tactful.io import interrupts

    assert interrupts.Stopped is errors.Stopped and directives.DirectiveError is errors.DirectiveError


def test_transient_faults_are_retried_then_raised():
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        raise Transient("busy")

    with pytest.raises(Transient):
        with_retries(flaky, RetryPolicy(attempts=3), sleep=lambda _: None)
    assert len(calls) == 3


def test_every_exit_code_is_documented_in_help_and_readme(cli):
    import re

    from tests.conftest import ROOT

    codes = {value for name, value in vars(errors).items() if name.startswith("EXIT_")}
    assert errors.EXIT_IO == 5 and errors.IOFailure("x").exit_code == 5
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    assert codes <= {int(code) for code in re.findall(r"^\| (\d+) \|", section, re.MULTILINE)}
    listed = " ".join(cli("--help").stdout.replace("│", " ").split()).split("Exit codes:", 1)[1]
    assert all(re.search(rf"(^|;) {code} ", listed) for code in codes), listed
