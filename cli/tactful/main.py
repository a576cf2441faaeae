"""The command line: parses arguments and wires modules together, nothing more.

Every command function returns an exit code; ``main`` turns a ``TactfulError`` into one
line on stderr and its exit code, so users never see a traceback for a problem they can
fix, and prints what the ``tactful`` logger warns as ``tactful: warning: ...`` lines.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from tactful import __version__
from tactful.commands import (
    cache,
    calibrate,
    check,
    classify,
    doctor,
    examples,
    guard,
    models,
    profile,
)
from tactful.commands import eval as eval_
from tactful.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    IOFailure,
    OutputClosed,
    TactfulError,
)
from tactful.io.console import printable, say
from tactful.io.streams import discard_stdout, named_stdout

HELP = """Personal harmful-content detection with a local LLM.

Say in a TOML profile what you do not want to see, add a few examples where the model is wrong, and classify text from files, JSONL exports or stdin. No training, no cloud.

\b
Exit codes: 0 done; 1 something flagged (classify --fail-on-flagged, check) or an eval policy test failed; 2 usage or configuration error; 3 backend unreachable or model missing; 4 no record could be judged (classify, check, eval); 5 a file or stream could not be written (disk full, closed descriptor, no permission); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
"""

app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    add_completion=False,
)


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"tactful {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    pass


# ---------------------------------------------------------------- commands

app.command("classify", rich_help_panel="Classify")(classify.command)
app.command("check", rich_help_panel="Classify")(check.command)
app.command("guard", rich_help_panel="Classify")(guard.command)
app.command("eval", rich_help_panel="Classify")(eval_.command)
app.command("calibrate", rich_help_panel="Personalize")(calibrate.command)
app.add_typer(profile.app, name="profile", rich_help_panel="Personalize")
app.add_typer(examples.app, name="examples", rich_help_panel="Personalize")
app.add_typer(models.app, name="models", rich_help_panel="Setup")
app.add_typer(cache.app, name="cache", rich_help_panel="Setup")
app.command("doctor", rich_help_panel="Setup")(doctor.command)


# ---------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this directly)."""
    with named_stdout(), _warnings_on_stderr():
        code = _run_command(argv)
        return _flush_stdout(code)


def _run_command(argv: list[str] | None) -> int:
    try:
        # obj: the arguments as typed, for commands that print how to run them again
        result = app(args=argv, prog_name="tactful", standalone_mode=False, obj=argv)
    except TactfulError as exc:
        _error(exc)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        _plain_message(exc)
        show = getattr(exc, "show", None)
        if show:
            show()
        else:
            say(f"tactful: error: {exc}", sys.stderr)
        return getattr(exc, "exit_code", EXIT_USAGE)
    except (typer.Abort, KeyboardInterrupt):
        print("tactful: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (BrokenPipeError, OutputClosed):
        # The reader went away (`tactful classify | head`): stop quietly, as `grep` does.
        discard_stdout()
        return EXIT_OK
    return result if isinstance(result, int) else 0


def _flush_stdout(code: int) -> int:
    """Write out what stdout holds now, so that a full disk is one line and exit 5 here,
    not a message and exit 120 from the interpreter's last flush."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        discard_stdout()
    except IOFailure as exc:
        discard_stdout()
        if code != exc.exit_code:  # not said already (a write during the run failed first)
            _error(exc)
        return exc.exit_code
    return code


class _WarningLine(logging.Handler):
    """A warning as one line on stderr, as a command says it; whatever it quotes (file
    names, file content, a model's words) made printable."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            say(f"tactful: warning: {record.getMessage()}", sys.stderr)
        except Exception:
            self.handleError(record)


@contextmanager
def _warnings_on_stderr() -> Iterator[None]:
    """The one handler for the library's warnings, for the run only: a program that calls
    ``main`` keeps its own logging afterwards."""
    logger = logging.getLogger("tactful")
    handler = _WarningLine(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _error(exc: TactfulError) -> None:
    say(f"tactful: error: {exc.message}", sys.stderr)  # messages quote file names and file content


# Typer validates values with pydantic, whose wording is for programmers.
_VALIDATION_WORDING = (
    ("Value error, ", ""),
    ("Input should be a valid integer, unable to parse string as an integer", "not a whole number"),
    ("Input should be a valid number, unable to parse string as a number", "not a number"),
)


def _plain_message(exc: Exception) -> None:
    message = getattr(exc, "message", None)
    if isinstance(message, str):
        for technical, plain in _VALIDATION_WORDING:
            message = message.replace(technical, plain)
        exc.message = printable(message)  # type: ignore[attr-defined]  # it may quote what was typed


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
