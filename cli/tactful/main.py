"""The command line: parses arguments and wires modules together, nothing more.

Every command function returns an exit code; ``main`` turns a ``TactfulError`` into one
line on stderr and its exit code, so users never see a traceback for a problem they can
fix, and prints what the ``tactful`` logger warns as ``tactful: warning: ...`` lines.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import MarkupMode, TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo

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

if TYPE_CHECKING:
    # typer's own copy of click: the types its public functions take and return
    from typer._click import Command, Context, HelpFormatter

HELP = """Personal harmful-content detection with a local LLM.

Say in a TOML profile what you do not want to see, add a few examples where the model is wrong, and classify text from files, JSONL exports or stdin. No training, no cloud.

Exit codes: 0 done; 1 something flagged (classify --fail-on-flagged, check) or an eval policy test failed; 2 usage or configuration error; 3 backend unreachable or model missing; 4 no record could be judged (classify, check, eval); 5 a file or stream could not be written (disk full, closed descriptor, no permission); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
"""

# ---------------------------------------------------------------- commands

# name: (module under tactful.commands, help panel), in the order help lists them. A module
# defines `app` (a group of commands, a typer.Typer) or else `command` (one command).
COMMANDS: dict[str, tuple[str, str]] = {
    "classify": ("classify", "Classify"),
    "check": ("check", "Classify"),
    "guard": ("guard", "Classify"),
    "serve": ("serve", "Classify"),
    "eval": ("eval", "Classify"),
    "calibrate": ("calibrate", "Personalize"),
    "review": ("review", "Personalize"),
    "profile": ("profile", "Personalize"),
    "examples": ("examples", "Personalize"),
    "doctor": ("doctor", "Setup"),
    "models": ("models", "Setup"),
    "cache": ("cache", "Setup"),
}


class HelpGroup(TyperGroup):
    """A group whose help lists each command's whole summary (wrapped, never cut at the
    terminal's width), under its help panel's heading."""

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        panels: dict[str, list[tuple[str, str]]] = {}
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            panel = getattr(command, "rich_help_panel", None) or "Commands"
            panels.setdefault(panel, []).append((name, command.get_short_help_str(limit=_WHOLE_SUMMARY)))
        width = max((len(name) for rows in panels.values() for name, _ in rows), default=0)
        for panel, rows in panels.items():
            with formatter.section(panel):
                formatter.write_dl([(name.ljust(width), summary) for name, summary in rows])  # one column for all panels


# A summary is the help's first sentence; click would cut it at the width left on one line.
_WHOLE_SUMMARY = 1000


class HelpCommand(TyperCommand):
    """A command whose help names each argument in words (`PATH...`), as its usage line
    does, where Typer's would add the Python type (`PATH <list[str]>`)."""

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": []}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                name = param.metavar or (param.name or "").upper()
                record = (name if param.nargs == 1 else f"{name}...", record[1])
                sections["Arguments"].append(record)
            else:
                sections["Options"].append(record)
        for title, rows in sections.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _with_help_commands(group: typer.Typer) -> typer.Typer:
    """``group`` with its commands (and its groups' commands) made as ``HelpCommand``s."""
    for info in group.registered_commands:
        if info.cls in (None, TyperCommand):  # Typer's own, not one a module chose
            info.cls = HelpCommand
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            _with_help_commands(sub.typer_instance)
    return group


class LazyCommands(MutableMapping[str, "Command"]):
    """The root's commands by name, each built from its module the first time it is looked
    up, so that `tactful classify` imports the classify command (and the engine it needs),
    not the other nine. Listing the names (a typo's suggestions) imports nothing; the root's
    help, which shows every command's summary, imports every module."""

    def __init__(self, rich_markup_mode: MarkupMode) -> None:
        self._markup: MarkupMode = rich_markup_mode
        self._built: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        if name not in self._built:
            module_name, panel = COMMANDS[name]  # KeyError: no such command
            module = importlib.import_module(f"tactful.commands.{module_name}")
            self._built[name] = self._build(name, module, panel)
        return self._built[name]

    def _build(self, name: str, module: ModuleType, panel: str) -> Command:
        group = getattr(module, "app", None)
        if isinstance(group, typer.Typer):  # as app.add_typer(group, name=..., rich_help_panel=...)
            info = TyperInfo(_with_help_commands(group), name=name, rich_help_panel=panel, cls=HelpGroup)
            return get_group_from_info(
                info, pretty_exceptions_short=True, suggest_commands=True, rich_markup_mode=self._markup
            )
        # as app.command(name, rich_help_panel=...)(module.command)
        command = CommandInfo(name=name, callback=module.command, rich_help_panel=panel, cls=HelpCommand)
        return get_command_from_info(command, pretty_exceptions_short=True, rich_markup_mode=self._markup)

    def __setitem__(self, name: str, command: Command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def _names(self) -> dict[str, None]:
        return {**dict.fromkeys(COMMANDS), **dict.fromkeys(self._built)}

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


class LazyGroup(HelpGroup):
    """The root command, whose commands are a `LazyCommands`."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self.rich_markup_mode)

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)  # the names: TyperGroup's reads .items(), building every command


app = typer.Typer(
    cls=LazyGroup,
    help=HELP,
    no_args_is_help=True,
    # click's plain help, which wraps every column to the terminal: rich's option tables
    # cut text off at 80 columns. Commands built from the modules inherit this.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    add_completion=False,
)


def command_paths() -> list[tuple[str, ...]]:
    """Every command and subcommand as the words that run it, the root (``()``) first, in
    the order help lists them: what the CLI reference (tools/cli_reference.py) and the
    help tests walk, so a new command is in both without a change there. Builds every
    command, importing every command module."""
    found: list[tuple[str, ...]] = []

    def walk(command: Command, path: tuple[str, ...]) -> None:
        found.append(path)
        if isinstance(command, TyperGroup):
            ctx = typer.Context(command)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def version_callback(value: bool) -> None:
    if value:
        from tactful import __version__

        typer.echo(f"tactful {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    pass


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
