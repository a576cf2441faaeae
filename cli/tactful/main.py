"""The command line: parses arguments and wires modules together, nothing more.

Every command function returns an exit code; ``main`` turns a ``TactfulError`` into one
line on stderr and its exit code, so users never see a traceback for a problem they can
fix.
"""

from __future__ import annotations

import sys
from pathlib import Path
from enum import Enum
from typing import Annotated, Optional

import typer

from tactful import __version__
from tactful.errors import EXIT_INTERRUPTED, EXIT_USAGE, TactfulError

HELP = """Personal harmful-content detection with a local LLM.

Say in a TOML profile what you do not want to see, add a few examples where the model is wrong, and classify text from files, JSONL exports or stdin. No training, no cloud.

\b
Exit codes: 0 done; 1 something flagged (with --fail-on-flagged, or `check`); 2 usage or configuration error; 3 backend unreachable or model missing; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
"""

app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    add_completion=False,
)

# ---------------------------------------------------------------- choices


class Mode(str, Enum):
    binary = "binary"
    multiclass = "multiclass"
    multilabel = "multilabel"


class BackendName(str, Enum):
    ollama = "ollama"
    embedded = "embedded"


class InputFormat(str, Enum):
    auto = "auto"
    text = "text"
    jsonl = "jsonl"


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    table = "table"


def _value(choice: Enum | None) -> str | None:
    return None if choice is None else str(choice.value)


# ---------------------------------------------------------------- shared options

ProfileOpt = Annotated[
    Optional[Path],
    typer.Option("--profile", "-p", help="Profile TOML. Default: $TACTFUL_PROFILE, ./tactful.toml or .tactful.toml here or in a parent, then the user profile.", show_default=False),
]
ModelOpt = Annotated[Optional[str], typer.Option("--model", "-m", help="Model name (Ollama) or GGUF path / pulled name (embedded). Overrides the profile.")]
HostOpt = Annotated[Optional[str], typer.Option("--host", help="Ollama URL. Default: the profile, then $OLLAMA_HOST, then http://127.0.0.1:11434.")]
BackendOpt = Annotated[Optional[BackendName], typer.Option("--backend", help="Overrides the profile's model.backend.", show_default=False)]
ModeOpt = Annotated[Optional[Mode], typer.Option("--mode", help="Overrides the profile's task.mode.", show_default=False)]


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"tactful {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    pass


# ---------------------------------------------------------------- classify


@app.command(rich_help_panel="Classify")
def classify(
    ctx: typer.Context,
    paths: Annotated[Optional[list[str]], typer.Argument(help="Files or globs; '-' or nothing for stdin.", show_default=False)] = None,
    profile: ProfileOpt = None,
    model: ModelOpt = None,
    host: HostOpt = None,
    backend: BackendOpt = None,
    mode: ModeOpt = None,
    explain: Annotated[Optional[bool], typer.Option("--explain/--no-explain", help="Ask for a one-sentence rationale per item.", show_default=False)] = None,
    scores: Annotated[bool, typer.Option("--scores", help="Per-category probabilities from token log-probabilities; profile thresholds then decide.")] = False,
    input_format: Annotated[InputFormat, typer.Option("--input-format", help="auto: .jsonl/.ndjson files are JSONL, everything else (stdin too) is text.")] = InputFormat.auto,
    field: Annotated[str, typer.Option("--field", help="JSONL: the field holding the text (dotted path for nested).")] = "text",
    id_field: Annotated[str, typer.Option("--id-field", help="JSONL: the field holding the id (default file:line when absent).")] = "id",
    whole: Annotated[bool, typer.Option("--whole", help="Text files: one item per file instead of one per line.")] = False,
    output_format: Annotated[Optional[OutputFormat], typer.Option("--format", "-f", help="Default: table on a terminal, JSONL otherwise.", show_default=False)] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write JSONL to this file instead of stdout.")] = None,
    fail_on_flagged: Annotated[bool, typer.Option("--fail-on-flagged", help="Exit 1 when any item was flagged.")] = False,
    show_prompt: Annotated[bool, typer.Option("--show-prompt", help="Print the exact request for the first input and exit.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=64, help="Requests in flight at once.")] = 1,
    normalize: Annotated[Optional[bool], typer.Option("--normalize/--no-normalize", help="Undo camouflage (invisible characters, look-alikes, leetspeak) before classifying.", show_default=False)] = None,
    retries: Annotated[Optional[int], typer.Option("--retries", min=0, max=20, help="Retries of a busy or dropped backend before giving up (exit 3).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="With --output: skip records that already have a line in the file, append the rest.")] = False,
    force: Annotated[bool, typer.Option("--force", help="With --output: overwrite a file that already holds results.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor fill the results cache: ask the model for every item.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary on stderr.")] = False,
) -> int:
    """Classify text from files, JSONL exports or stdin.

    \b
    Each output record is the input plus a `moderation` object: flagged, labels,
    scores (with --scores), rationale (with --explain), model, profile, prompt
    (fingerprint of the fixed prompt) and error. One record per input, in order.

    \b
    Large exports: --jobs for requests in flight, a results cache (off with
    --no-cache), a progress bar when stderr is a terminal and a summary on
    stderr (--quiet). With -o FILE, an existing FILE is refused unless --resume
    (go on after Ctrl-C, SIGTERM or a dead backend) or --force (overwrite).
    Stopped by a signal: exit 130 (SIGINT) or 143 (SIGTERM), complete lines only.

    \b
    Examples:
      tactful classify samples/comments.txt
      tactful classify samples/posts.jsonl --field content -o labelled.jsonl
      tactful classify export.jsonl -j 4 -o labelled.jsonl --resume
      cat comments.txt | tactful classify --fail-on-flagged
    """
    from tactful.commands.classify import ClassifyOptions, classify as run_classify
    from tactful.commands.common import ModelChoice
    from tactful.readers import ReadOptions

    choice = ModelChoice(profile, model, host, _value(backend), _value(mode), explain, normalize, retries)
    options = ClassifyOptions(
        read=ReadOptions(input_format.value, field, id_field, whole),
        output_format=_value(output_format),
        output=output,
        fail_on_flagged=fail_on_flagged,
        show_prompt=show_prompt,
        scores=scores,
        jobs=jobs,
        resume=resume,
        force=force,
        use_cache=not no_cache,
        quiet=quiet,
        argv=tuple(ctx.obj or sys.argv[1:]),
    )
    return run_classify(paths or [], choice, options)


# ---------------------------------------------------------------- check (pre-commit / CI gate)


# ---------------------------------------------------------------- eval and models (real models)


# ---------------------------------------------------------------- profile and examples


# ---------------------------------------------------------------- cache

cache_app = typer.Typer(
    help="The results cache: decisions already made, reused when the same text meets the same model and prompt.",
    no_args_is_help=True,
)
app.add_typer(cache_app, name="cache", rich_help_panel="Setup")


@cache_app.command("stats")
def cache_stats() -> int:
    """Where the cache is, how big, and how many results per model.

    \b
    Example:
      tactful cache stats
    """
    from rich.console import Console

    from tactful.commands.cache import stats

    return stats(Console(highlight=False, soft_wrap=True))


@cache_app.command("clear")
def cache_clear() -> int:
    """Delete every cached result (the next run asks the model again).

    \b
    Example:
      tactful cache clear
    """
    from rich.console import Console

    from tactful.commands.cache import clear

    return clear(Console(highlight=False, soft_wrap=True))


# ---------------------------------------------------------------- doctor


@app.command(rich_help_panel="Setup")
def doctor(
    profile: ProfileOpt = None,
    model: ModelOpt = None,
    host: HostOpt = None,
    backend: BackendOpt = None,
) -> int:
    """Check that the profile is valid, the backend reachable and the model present."""
    from rich.console import Console

    from tactful.commands.common import ModelChoice
    from tactful.commands.doctor import doctor as run_doctor

    return run_doctor(ModelChoice(profile, model, host, _value(backend)), Console(highlight=False))


# ---------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this directly)."""
    try:
        # obj: the arguments as typed, for commands that print how to run them again
        result = app(args=argv, prog_name="tactful", standalone_mode=False, obj=argv)
    except TactfulError as exc:
        print(f"tactful: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if show:
            show()
        else:
            print(f"tactful: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", EXIT_USAGE)
    except (typer.Abort, KeyboardInterrupt):
        print("tactful: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`tactful classify | head`): stop quietly.
        _silence_stdout()
        return 0
    return result if isinstance(result, int) else 0


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
