"""Writing the example bank: stable ids, atomic saves, adding, removing and importing.

Reading stays in ``example_bank``. An example's id is derived from its normalised text,
so the same text always gets the same id and an import can recognise what the bank
already holds, whatever case, spacing or invisible characters it was written with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from tactful.bank.store import Example, load_bank, parse_example_line
from tactful.errors import ConfigError, TactfulError
from tactful.io.atomic import atomic_write_text, locked
from tactful.normalize.text import normalize_text
from tactful.profile.edit import check_slug
from tactful.profile.load import Profile, default_bank_name

BankEdit = Callable[[list[Example]], list[Example]]


def normalized_key(text: str) -> str:
    return " ".join(normalize_text(text).casefold().split())


def example_id(text: str) -> str:
    return hashlib.sha256(normalized_key(text).encode("utf-8")).hexdigest()[:8]


def bank_path(profile: Profile) -> Path:
    """Where the profile's bank is or will be: its `examples` key, else the default beside it."""
    if profile.examples_path is not None:
        return profile.examples_path
    if profile.path is None:
        raise ConfigError("the built-in profile has no example bank; create a profile with `tactful profile init`")
    return profile.path.with_name(default_bank_name(profile.path))


def new_example(text: str, labels: Iterable[str], rationale: str | None) -> Example:
    return Example(example_id(text), text, tuple(labels), rationale or None, _now())


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def bank_jsonl(examples: Iterable[Example]) -> str:
    return "".join(json.dumps(ex.to_json(), ensure_ascii=False) + "\n" for ex in examples)


def save_bank(path: Path, examples: Iterable[Example]) -> None:
    atomic_write_text(path, bank_jsonl(examples))


def edit_bank(path: Path, edit: BankEdit) -> list[Example]:
    """Apply ``edit`` to the bank at ``path`` under its lock and save the result."""
    with locked(path):
        examples = edit(load_bank(path))
        save_bank(path, examples)
    return examples


@dataclass
class Merge:
    """What adding a batch of examples to a bank did."""

    examples: list[Example]
    added: list[Example] = field(default_factory=list)
    duplicates: list[Example] = field(default_factory=list)


def merge_examples(bank: list[Example], incoming: Iterable[Example]) -> Merge:
    """The bank plus the incoming examples whose normalised text it does not hold yet."""
    merge = Merge(list(bank))
    seen = {normalized_key(ex.text) for ex in bank}
    for example in incoming:
        key = normalized_key(example.text)
        if key in seen:
            merge.duplicates.append(example)
            continue
        seen.add(key)
        fresh = replace(example, id=example_id(example.text), created=example.created or _now())
        merge.examples.append(fresh)
        merge.added.append(fresh)
    return merge


def read_examples(
    lines: Iterable[str], where: str, slugs: Collection[str], require_labels: bool = False
) -> tuple[list[Example], list[str]]:
    """Every valid example in ``lines``, and one 'where:line: problem' for each bad line."""
    examples: list[Example] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        at = f"{where}:{number}"
        try:
            example = parse_example_line(line, at, require_labels)
            for label in example.labels:
                check_slug(label, slugs, allow_builtin=False)
        except TactfulError as exc:
            problems.append(exc.message if exc.message.startswith(at) else f"{at}: {exc.message}")
        else:
            examples.append(example)
    return examples, problems
