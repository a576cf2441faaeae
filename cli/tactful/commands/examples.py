"""`tactful examples ...`: the profile's example bank."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tactful.bank.edit import (
    Merge,
    bank_jsonl,
    bank_path,
    edit_bank,
    merge_examples,
    new_example,
    read_examples,
)
from tactful.bank.store import Example, load_bank
from tactful.commands.options import ProfileOpt
from tactful.errors import EXIT_OK, UsageError
from tactful.io.atomic import atomic_write_text
from tactful.io.console import console, say
from tactful.io.destinations import claim, profile_files
from tactful.profile.categories import did_you_mean
from tactful.profile.edit import (
    check_slug,
    edit_profile,
    editable_path,
    read_profile_text,
    set_key,
)
from tactful.profile.load import Profile, default_bank_name, parse_profile

app = typer.Typer(
    help="""Manage the profile's example bank: texts labelled the way your community draws the line.

Examples go into the prompt as earlier questions and answers; a few where the model was wrong move its decisions. The bank is JSONL beside the profile (the profile's `examples` key; by default <profile name>.examples.jsonl).

\b
Examples:
  tactful examples add "Check out my channel for free followers" --label spam
  tactful examples add "This update is garbage, honestly" --benign
  tactful examples import moderation-log.jsonl
""",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

_log = logging.getLogger(__name__)


def _profile(explicit: Path | None) -> Profile:
    path = editable_path(explicit)
    return parse_profile(read_profile_text(path), path)


def _store(profile: Profile, incoming: list[Example]) -> Merge:
    """Merge ``incoming`` into the bank, recording the bank's name in the profile if new."""
    if profile.examples_path is None and profile.path is not None:
        # Record the default bank in the profile, so classify finds what add wrote.
        edit_profile(profile.path, set_key("examples", default_bank_name(profile.path)))
    merge: Merge | None = None

    def change(bank: list[Example]) -> list[Example]:
        nonlocal merge
        merge = merge_examples(bank, incoming)
        return merge.examples

    edit_bank(bank_path(profile), change)
    assert merge is not None
    return merge


@app.command("add")
def add(
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The example text; '-' reads it from stdin.", show_default=False)],
    label: Annotated[list[str] | None, typer.Option("--label", "-l", metavar="SLUG", help="A category the text falls under (repeatable).", show_default=False)] = None,
    benign: Annotated[bool, typer.Option("--benign", metavar="", help="Acceptable content: no label. Fixes a false positive.")] = False,
    rationale: Annotated[str | None, typer.Option("--rationale", "-r", metavar="TEXT", help="Why, in one sentence; shown to the model with --explain.", show_default=False)] = None,
    profile_path: ProfileOpt = None,
) -> int:
    """Add one labelled example to the bank.

    \b
    Examples:
      tactful examples add "Buy followers now, DM me" --label spam
      echo "u r such a cl0wn" | tactful examples add - --label toxicity
    """
    labels = label or []
    if text == "-":
        text = sys.stdin.read().rstrip("\n")
    if not text.strip():
        raise UsageError("the example text is empty")
    if benign == bool(labels):
        raise UsageError("say what the example is: --label SLUG (repeatable) for blocked content, or --benign for acceptable content")
    profile = _profile(profile_path)
    for slug in labels:
        check_slug(slug, profile.slugs, allow_builtin=False)
    merge = _store(profile, [new_example(text, labels, rationale)])
    if merge.duplicates:
        same = next(ex for ex in merge.examples if ex.id == merge.duplicates[0].id)
        raise UsageError(
            f"the bank already holds this text as {same.id} ({_labels(same)}); "
            f"to relabel it, `tactful examples remove {same.id}` and add it again"
        )
    say(f"added {merge.added[0].id} ({_labels(merge.added[0])}) to {bank_path(profile)}")
    return EXIT_OK


@app.command("list")
def list_(
    label: Annotated[str | None, typer.Option("--label", "-l", metavar="SLUG", help="Only examples with this label.", show_default=False)] = None,
    profile_path: ProfileOpt = None,
) -> int:
    """List the bank as a table: id, labels, text, rationale."""

    profile = _profile(profile_path)
    if label is not None:
        check_slug(label, profile.slugs, allow_builtin=False)
    bank = [ex for ex in load_bank(bank_path(profile)) if label is None or label in ex.labels]
    table = Table("id", "labels", "text", "rationale")
    for example in bank:
        table.add_row(example.id, _labels(example), example.text, example.rationale or "")
    out = console(soft_wrap=False)
    out.print(table)
    out.print(f"{len(bank)} example(s) in {bank_path(profile)}")
    return EXIT_OK


@app.command("remove")
def remove(
    ids: Annotated[list[str], typer.Argument(metavar="ID", help="Example ids, as `examples list` shows them.", show_default=False)],
    profile_path: ProfileOpt = None,
) -> int:
    """Remove examples by id."""
    profile = _profile(profile_path)

    def change(bank: list[Example]) -> list[Example]:
        known = [ex.id for ex in bank]
        for ex_id in ids:
            if ex_id not in known:
                raise UsageError(f"no example '{ex_id}' in {bank_path(profile)}{did_you_mean(ex_id, known)}; see `tactful examples list`")
        return [ex for ex in bank if ex.id not in ids]

    edit_bank(bank_path(profile), change)
    say(f"removed {', '.join(ids)} from {bank_path(profile)}")
    return EXIT_OK


@app.command("import")
def import_(
    source: Annotated[str, typer.Argument(metavar="FILE", help="A JSONL file ('-' for stdin): one {\"text\", \"labels\" (or eval's \"label\"; [] for acceptable), \"rationale\"?} object a line.", show_default=False)],
    profile_path: ProfileOpt = None,
) -> int:
    """Import examples; texts already in the bank (after normalisation) are skipped, bad lines reported with their line numbers.

    \b
    Example:
      tactful examples import reviewed.jsonl
    """
    profile = _profile(profile_path)
    lines = _read_source(source)
    incoming, problems = read_examples(lines, "stdin" if source == "-" else source, profile.slugs, require_labels=True)
    for problem in problems:
        _log.warning(f"{problem} (line skipped)")
    merge = _store(profile, incoming)
    say(
        f"imported {len(merge.added)} example(s) into {bank_path(profile)}; "
        f"{len(merge.duplicates)} duplicate(s) and {len(problems)} bad line(s) skipped"
    )
    return EXIT_OK


def _read_source(source: str) -> list[str]:
    if source == "-":
        return sys.stdin.read().splitlines()
    try:
        return Path(source).read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise UsageError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{source}: cannot read: {exc}") from None


@app.command("export")
def export(
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write to this file instead of stdout.", show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", metavar="", help="With --output: overwrite an existing file.")] = False,
    profile_path: ProfileOpt = None,
) -> int:
    """Print the bank as JSONL, ready for `examples import` into another profile."""
    profile = _profile(profile_path)
    if output is not None:
        claim(output, "--output", [bank_path(profile), *profile_files(profile)], overwrite=force)
    text = bank_jsonl(load_bank(bank_path(profile)))
    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write_text(output, text)
    return EXIT_OK


def _labels(example: Example) -> str:
    return ", ".join(example.labels) or "acceptable"
