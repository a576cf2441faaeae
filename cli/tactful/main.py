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
Exit codes: 0 done; 1 something flagged (with --fail-on-flagged, or `check`); 2 usage or configuration error; 3 backend unreachable or model missing.
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
) -> int:
    """Classify text from files, JSONL exports or stdin.

    \b
    Each output record is the input plus a `moderation` object: flagged, labels,
    scores (with --scores), rationale (with --explain), model, profile, prompt
    (fingerprint of the fixed prompt) and error. One record per input, in order.

    \b
    Examples:
      tactful classify samples/comments.txt
      tactful classify samples/posts.jsonl --field content -o labelled.jsonl
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
    )
    return run_classify(paths or [], choice, options)


# ---------------------------------------------------------------- check (pre-commit / CI gate)


class FileType(str, Enum):
    markdown = "markdown"
    text = "text"


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


@app.command(rich_help_panel="Classify")
def check(
    paths: Annotated[Optional[list[str]], typer.Argument(help="Files or globs to check.", show_default=False)] = None,
    profile: ProfileOpt = None,
    model: ModelOpt = None,
    host: HostOpt = None,
    backend: BackendOpt = None,
    file_type: Annotated[Optional[FileType], typer.Option("--type", "-t", help="Read every file as this type. Default: the profile's \\[check] types globs, then .md/.markdown/.mdx as Markdown and the rest as text.", show_default=False)] = None,
    output_format: Annotated[CheckFormat, typer.Option("--format", "-f", help="text: path:line:col lines; json: one document; github: GitHub Actions annotations.")] = CheckFormat.text,
    diff: Annotated[Optional[str], typer.Option("--diff", metavar="REF", help="Judge only units touching lines changed since REF (git diff -U0 REF; untracked files count as new).", show_default=False)] = None,
    staged: Annotated[bool, typer.Option("--staged", help="Judge only units touching lines staged for commit (git diff --cached).")] = False,
    baseline: Annotated[Optional[Path], typer.Option("--baseline", metavar="FILE", help="Report only findings this baseline does not know.", show_default=False)] = None,
    write_baseline: Annotated[Optional[Path], typer.Option("--write-baseline", metavar="FILE", help="Record the current findings in FILE and exit 0.", show_default=False)] = None,
    explain: Annotated[Optional[bool], typer.Option("--explain/--no-explain", help="Ask the model for a rationale; it becomes the reason shown.", show_default=False)] = None,
    scores: Annotated[bool, typer.Option("--scores", help="Show per-category probabilities (needs a backend with log-probabilities).")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=64, help="Requests in flight at once.")] = 1,
    retries: Annotated[Optional[int], typer.Option("--retries", min=0, max=20, help="Retries of a busy or dropped backend before giving up (exit 3).")] = None,
) -> int:
    """Check Markdown and text files for content the profile blocks (pre-commit, CI).

    Files are split into paragraphs, headings, list items and table cells;
    code, front matter, HTML comments and link-only lines are skipped. Each
    finding is printed as `path:line:col: CATEGORY \\[score] reason` (columns
    count characters), then a summary. A profile in binary mode is run as
    multilabel so that each finding names its category.

    \b
    Inline ignores (Markdown; in text files write `# tactful: ...` instead):
      <!-- tactful: ignore -->        skip the next block (up to a blank line)
      <!-- tactful: ignore-line -->   skip this line, or the next one when alone
      <!-- tactful: off --> ... <!-- tactful: on -->   skip a region
      <!-- tactful: ignore spam -->   the same forms for named categories only

    \b
    Exit codes: 0 nothing at or above the profile's \\[check] fail_level;
    1 a finding at or above it; 2 usage or configuration error; 3 backend
    unreachable, or a unit the model could not judge.

    \b
    Examples:
      tactful check README.md docs/**/*.md
      tactful check --staged --format github $(git diff --cached --name-only)
      tactful check --write-baseline .tactful-baseline.json docs/*.md
      tactful check --baseline .tactful-baseline.json docs/*.md
    """
    from tactful.commands.check import CheckOptions, check as run_check
    from tactful.commands.common import ModelChoice

    choice = ModelChoice(profile, model, host, _value(backend), explain=explain, retries=retries)
    options = CheckOptions(
        file_type=_value(file_type),
        output_format=output_format.value,
        diff=diff,
        staged=staged,
        baseline=baseline,
        write_baseline=write_baseline,
        scores=scores,
        jobs=jobs,
    )
    return run_check(paths or [], choice, options)


# ---------------------------------------------------------------- eval and models (real models)


# ---------------------------------------------------------------- profile and examples


# ---------------------------------------------------------------- cache


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
        result = app(args=argv, prog_name="tactful", standalone_mode=False)
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
