"""`tactful profile ...`: create, inspect, validate and edit the profile."""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from tactful.bank.edit import bank_path, read_examples
from tactful.bank.store import Example, load_bank
from tactful.commands.options import ProfileOpt
from tactful.errors import EXIT_OK, ConfigError, UsageError
from tactful.io.console import console, say, styled
from tactful.paths import user_profile_path
from tactful.profile.edit import (
    Edit,
    add_category,
    edit_profile,
    editable_path,
    init_profile,
    remove_category,
    set_blocked,
    set_key,
)
from tactful.profile.load import (
    Profile,
    check_profile,
    env_profile,
    key_line,
    load_profile,
    locate_profile,
    read_profile_file,
)
from tactful.profile.schema import MODEL, SERVE, TASK, Field, ServeSettings, Severity

_log = logging.getLogger(__name__)

app = typer.Typer(
    help="""Create, inspect and edit the profile: what is blocked, and how to ask the model.

Edits keep your comments and layout, are checked before the file is replaced, and replace it atomically. The profile edited is the one classify would read (--profile, $TACTFUL_PROFILE, tactful.toml or .tactful.toml here or in a parent, then the user profile).

\b
Examples:
  tactful profile init tactful.toml
  tactful profile block hate threat
  tactful profile add crypto-shilling -d "Posts promoting crypto tokens."
""",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
SlugsArg = Annotated[list[str], typer.Argument(metavar="SLUG", help="Category slugs (lowercase letters, digits, dashes).", show_default=False)]


@app.command("init")
def init_command(
    path: Annotated[Path | None, typer.Argument(metavar="FILE", help="Where to write it. Default: --profile, $TACTFUL_PROFILE, else the user profile (see `tactful profile path`).", show_default=False)] = None,
    profile: ProfileOpt = None,
    force: Annotated[bool, typer.Option("--force", metavar="", help="Overwrite an existing file.")] = False,
) -> int:
    """Write a profile template, every section explained in comments.

    \b
    Examples:
      tactful profile init                 # the user profile
      tactful profile init tactful.toml    # a profile for this repository
    """
    return init(path, profile, force)


@app.command("show")
def show_command(profile: ProfileOpt = None) -> int:
    """Show the profile in use: model, task, and each category with its state, definition and example count."""

    return show(profile, console())


@app.command("path")
def path_command(profile: ProfileOpt = None) -> int:
    """Print the path of the profile in use (or where `profile init` would create it).

    \b
    Example:
      $EDITOR "$(tactful profile path)"
    """
    return path(profile)


@app.command("block")
def block_command(slugs: SlugsArg, profile: ProfileOpt = None) -> int:
    """Block categories: texts that fall under them are flagged. Built-in ones are added if missing.

    \b
    Example:
      tactful profile block hate harassment
    """
    return block(profile, slugs, True)


@app.command("unblock")
def unblock_command(slugs: SlugsArg, profile: ProfileOpt = None) -> int:
    """Unblock categories: the model is told they are acceptable here and does not flag them.

    \b
    Example:
      tactful profile unblock negative-sentiment
    """
    return block(profile, slugs, False)


@app.command("add")
def add_command(
    slug: Annotated[str, typer.Argument(metavar="SLUG", help="The new category's slug, e.g. off-topic-politics.", show_default=False)],
    description: Annotated[str | None, typer.Option("--description", "-d", metavar="TEXT", help="One sentence saying what the category covers (optional for built-in slugs).", show_default=False)] = None,
    blocked: Annotated[bool, typer.Option("--blocked/--no-blocked", metavar="", help="Flag texts in this category.")] = True,
    severity: Annotated[Severity | None, typer.Option("--severity", help="For `tactful check`. Default: the built-in's, else medium.", show_default=False)] = None,
    profile: ProfileOpt = None,
) -> int:
    """Add a category; one of your own needs only a slug and a one-sentence description.

    \b
    Example:
      tactful profile add off-topic-politics --severity low \\
          --description "Posts about party politics or elections."
    """
    return add(profile, slug, description, blocked, severity)


@app.command("remove")
def remove_command(
    slug: Annotated[str, typer.Argument(metavar="SLUG", help="The category to remove.", show_default=False)],
    profile: ProfileOpt = None,
) -> int:
    """Remove a category and the comment above it. To stop flagging it but keep it known, use unblock."""
    return remove(profile, slug)


@app.command("set", context_settings={"ignore_unknown_options": True})  # VALUE may be -1
def set_command(
    key: Annotated[str, typer.Argument(metavar="KEY", help="Dotted key, e.g. model.name, task.mode, task.examples_per_category, categories.spam.threshold.", show_default=False)],
    new_value: Annotated[str, typer.Argument(metavar="VALUE", help="The new value; true/false and numbers where the key takes them.", show_default=False)],
    profile: ProfileOpt = None,
) -> int:
    """Set one key; the change is refused, with the reason, if it would make the profile invalid.

    \b
    Examples:
      tactful profile set model.name llama3.1:8b
      tactful profile set task.example_selection similar
      tactful profile set model.embedding nomic-embed-text
    """
    return set_(profile, key, new_value)


@app.command("validate")
def validate_command(profile: ProfileOpt = None) -> int:
    """Check the profile, its example bank and its policy tests; exit 2 listing every problem by file and line."""
    return validate(profile)


def init(target: Path | None, explicit: Path | None, force: bool) -> int:
    # Not locate_profile: init writes where a profile belongs, not where one already is.
    if target is not None and explicit is not None and target != explicit:
        raise UsageError(f"two places to write: {target} and --profile {explicit}; give one")
    path = target or explicit or env_profile() or user_profile_path()
    init_profile(path, force)
    say(f"wrote {path}")
    print("next: `tactful profile show`, then `tactful profile block SLUG` or `tactful profile add SLUG --description \"...\"`")
    return EXIT_OK


def path(explicit: Path | None) -> int:
    location = locate_profile(explicit)
    print(location.path or user_profile_path())
    if location.path is None:
        _log.warning("no profile yet: tactful uses its built-in default; `tactful profile init` creates one at this path")
    return EXIT_OK


def edit(explicit: Path | None, change: Edit, done: str) -> int:
    target = editable_path(explicit)
    edit_profile(target, change)
    say(f"{done} in {target}")
    return EXIT_OK


def block(explicit: Path | None, slugs: list[str], blocked: bool) -> int:
    verb = "blocked" if blocked else "unblocked"
    return edit(explicit, set_blocked(slugs, blocked), f"{verb} {', '.join(slugs)}")


def add(explicit: Path | None, slug: str, description: str | None, blocked: bool, severity: str | None) -> int:
    state = "blocked" if blocked else "not blocked"
    return edit(explicit, add_category(slug, description, blocked, severity), f"added category {slug} ({state})")


def remove(explicit: Path | None, slug: str) -> int:
    code = edit(explicit, remove_category(slug), f"removed category {slug}")
    bank = load_profile(locate_profile(explicit)).examples_path
    labelled = sum(slug in ex.labels for ex in load_bank(bank))
    if labelled:
        _log.warning(f"{labelled} example(s) in {bank} are labelled {slug}; classify leaves them out until you remove them or add {slug} back")
    return code


def set_(explicit: Path | None, key: str, value: str) -> int:
    return edit(explicit, set_key(key, value), f"set {key} = {value}")


def validate(explicit: Path | None) -> int:
    """Every problem of the profile, its example bank and its policy tests, each file in line order."""
    location = locate_profile(explicit)
    if location.path is None:
        print("ok: the built-in default profile (no profile file found)")
        return EXIT_OK
    text = read_profile_file(location.path)
    profile, problems = check_profile(text, location.path)
    if profile is None:  # not TOML: nothing more can be read
        raise ConfigError(problems[0])
    examples, bank_problems = _lines_checked(profile.examples_path, profile, "example bank")
    tests, test_problems = _tests_checked(profile, text)
    problems += bank_problems + test_problems
    if problems:
        for problem in problems[:-1]:
            print(f"tactful: error: {problem}", file=sys.stderr)
        raise ConfigError(problems[-1] + (f" ({len(problems)} problems in all)" if len(problems) > 1 else ""))
    summary = (f"{profile.path}: {len(profile.categories)} categories ({len(profile.blocked)} blocked), "
               f"{len(examples)} examples, {len(tests)} policy tests")
    if not profile.blocked:
        # A warning, not an error: a profile that blocks nothing still labels texts
        # (multilabel mode names every category), but it never flags one.
        _log.warning(f"{profile.path}: no category is blocked, so nothing will be flagged "
             "(`tactful profile block SLUG` blocks one)")
        print(f"valid, with 1 warning: {summary}")
        return EXIT_OK
    print(f"ok: {summary}")
    return EXIT_OK


def _tests_checked(profile: Profile, text: str) -> tuple[list[Example], list[str]]:
    """The policy tests, checked line by line as bank examples are; a missing file is a problem too."""
    tests = profile.tests_path
    if tests is None:
        return [], []
    if not tests.is_file():
        line = key_line(text, ("tests",))
        where = f"{profile.path}:{line}" if line else str(profile.path)
        return [], [f"{where}: the policy tests file {tests} does not exist (create it, or remove `tests`)"]
    return _lines_checked(tests, profile, "policy tests")


def _lines_checked(path: Path | None, profile: Profile, what: str) -> tuple[list[Example], list[str]]:
    """The valid lines of a JSONL file of labelled texts, and a 'FILE:LINE: problem' per bad one."""
    if path is None:
        return [], []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines() if path.exists() else []
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{path}: cannot read {what}: {exc}"]
    return read_examples(lines, str(path), profile.slugs)


def show(explicit: Path | None, console: Console) -> int:
    location = locate_profile(explicit)
    profile = load_profile(location)
    # Only the bank named in the profile is read by classify, so only it is counted here.
    bank = load_bank(profile.examples_path)
    where: list[str | tuple[str, str]] = (
        [f"{location.path} ", (f"({location.how})", "dim")] if location.path else ["built-in default (no profile file found)"]
    )
    model = profile.model
    console.print(styled(("profile", "bold"), f"   {profile.name}: ", *where))
    # A model is named by its backend and name together ("ollama qwen2.5:3b"); every other
    # setting follows in the schema's order, under its key read as words.
    lead = f"{model.backend} {model.name}"
    console.print(styled(("model", "bold"), f"     {lead}, {_settings(model, MODEL, skip=('backend', 'name'))}"))
    console.print(styled(("task", "bold"), f"      {_settings(profile.task, TASK)}"))
    if profile.serve != ServeSettings():  # only a profile that has a [serve] table: most are never served
        console.print(styled(("serve", "bold"), f"     {_settings(profile.serve, SERVE)}"))
    if profile.examples_path:
        console.print(styled(("examples", "bold"), f"  {len(bank)} in {profile.examples_path}"))
    elif profile.path:
        console.print(styled(("examples", "bold"), f"  none yet (`tactful examples add` starts {bank_path(profile)})"))
    console.print(_category_table(profile, bank))
    return EXIT_OK


def _settings(settings: object, fields: Iterable[Field], skip: tuple[str, ...] = ()) -> str:
    """``key value, ...`` for a section's fields: "second look on" for task.second_look = true."""
    shown = (f"{f.name.replace('_', ' ')} {_shown(getattr(settings, f.name))}" for f in fields if f.name not in skip)
    return ", ".join(shown)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None or (isinstance(value, (Mapping, tuple)) and not value):
        return "not set"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        # As the profile writes it: an inline table (JSON spells TOML's scalars and arrays).
        return "{ " + ", ".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in value.items()) + " }"
    if isinstance(value, tuple):  # a list key (model.hosts), as the profile writes it
        return json.dumps(list(value), ensure_ascii=False)
    return str(value)


def _category_table(profile: Profile, bank: list[Example]) -> Table:
    counts = Counter(label for ex in bank for label in ex.labels)
    table = Table("blocked", "severity", "threshold", "examples", "definition")
    table.columns.insert(0, Column("category", no_wrap=True))
    for cat in profile.categories:
        blocked = Text("yes", "red") if cat.blocked else Text("no")
        table.add_row(cat.slug, blocked, cat.severity, f"{cat.threshold:g}", str(counts[cat.slug]), cat.description)
    table.add_row(Text("(acceptable)", "dim"), "", "", "", str(sum(1 for ex in bank if not ex.labels)), "")
    return table
