"""`tactful examples ...`: the profile's example bank."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tactful.bank.edit import (
    Merge,
    bank_jsonl,
    bank_path,
    default_bank_name,
    edit_bank,
    merge_examples,
    new_example,
    read_examples,
)
from tactful.bank.store import Example, load_bank
from tactful.commands.common import warn
from tactful.errors import EXIT_OK, UsageError
from tactful.io.atomic import atomic_write_text
from tactful.profile.categories import did_you_mean
from tactful.profile.edit import (
    check_slug,
    edit_profile,
    editable_path,
    read_profile_text,
    set_key,
)
from tactful.profile.load import Profile, parse_profile


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


def add(explicit: Path | None, text: str, labels: list[str], benign: bool, rationale: str | None) -> int:
    if text == "-":
        text = sys.stdin.read().rstrip("\n")
    if not text.strip():
        raise UsageError("the example text is empty")
    if benign == bool(labels):
        raise UsageError("say what the example is: --label SLUG (repeatable) for blocked content, or --benign for acceptable content")
    profile = _profile(explicit)
    for label in labels:
        check_slug(label, profile.slugs, allow_builtin=False)
    merge = _store(profile, [new_example(text, labels, rationale)])
    if merge.duplicates:
        same = next(ex for ex in merge.examples if ex.id == merge.duplicates[0].id)
        raise UsageError(
            f"the bank already holds this text as {same.id} ({_labels(same)}); "
            f"to relabel it, `tactful examples remove {same.id}` and add it again"
        )
    print(f"added {merge.added[0].id} ({_labels(merge.added[0])}) to {bank_path(profile)}")
    return EXIT_OK


def list_(explicit: Path | None, label: str | None, console: Console) -> int:
    profile = _profile(explicit)
    if label is not None:
        check_slug(label, profile.slugs, allow_builtin=False)
    bank = [ex for ex in load_bank(bank_path(profile)) if label is None or label in ex.labels]
    table = Table("id", "labels", "text", "rationale")
    for example in bank:
        table.add_row(example.id, _labels(example), example.text, example.rationale or "")
    console.print(table)
    console.print(f"{len(bank)} example(s) in {bank_path(profile)}")
    return EXIT_OK


def remove(explicit: Path | None, ids: list[str]) -> int:
    profile = _profile(explicit)

    def change(bank: list[Example]) -> list[Example]:
        known = [ex.id for ex in bank]
        for ex_id in ids:
            if ex_id not in known:
                raise UsageError(f"no example '{ex_id}' in {bank_path(profile)}{did_you_mean(ex_id, known)}; see `tactful examples list`")
        return [ex for ex in bank if ex.id not in ids]

    edit_bank(bank_path(profile), change)
    print(f"removed {', '.join(ids)} from {bank_path(profile)}")
    return EXIT_OK


def import_(explicit: Path | None, source: str) -> int:
    profile = _profile(explicit)
    lines = _read_source(source)
    incoming, problems = read_examples(lines, "stdin" if source == "-" else source, profile.slugs)
    for problem in problems:
        warn(f"{problem} (line skipped)")
    merge = _store(profile, incoming)
    print(
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


def export(explicit: Path | None, output: Path | None) -> int:
    profile = _profile(explicit)
    text = bank_jsonl(load_bank(bank_path(profile)))
    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write_text(output, text)
    return EXIT_OK


def _labels(example: Example) -> str:
    return ", ".join(example.labels) or "acceptable"
