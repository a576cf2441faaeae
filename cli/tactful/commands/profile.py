"""`tactful profile ...`: create, inspect, validate and edit the profile."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Column, Table

from tactful.bank.edit import bank_path, read_examples
from tactful.bank.store import Example, load_bank
from tactful.commands.common import ModelChoice, load_settings, warn
from tactful.errors import EXIT_OK, ConfigError
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
from tactful.profile.load import ENV_PROFILE, Profile, load_profile, locate_profile


def init(target: Path | None, explicit: Path | None, force: bool) -> int:
    env = os.environ.get(ENV_PROFILE)
    path = target or explicit or (Path(env).expanduser() if env else user_profile_path())
    init_profile(path, force)
    print(f"wrote {path}")
    print("next: `tactful profile show`, then `tactful profile block SLUG` or `tactful profile add SLUG --description \"...\"`")
    return EXIT_OK


def path(explicit: Path | None) -> int:
    location = locate_profile(explicit)
    print(location.path or user_profile_path())
    if location.path is None:
        warn("no profile yet: tactful uses its built-in default; `tactful profile init` creates one at this path")
    return EXIT_OK


def edit(explicit: Path | None, change: Edit, done: str) -> int:
    target = editable_path(explicit)
    edit_profile(target, change)
    print(f"{done} in {target}")
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
        warn(f"{labelled} example(s) in {bank} are labelled {slug}; classify leaves them out until you remove them or add {slug} back")
    return code


def set_(explicit: Path | None, key: str, value: str) -> int:
    return edit(explicit, set_key(key, value), f"set {key} = {value}")


def validate(explicit: Path | None) -> int:
    location = locate_profile(explicit)
    profile = load_profile(location)
    if profile.path is None:
        print("ok: the built-in default profile (no profile file found)")
        return EXIT_OK
    bank = profile.examples_path
    lines = _bank_lines(bank) if bank else []
    examples, problems = read_examples(lines, str(bank), profile.slugs)
    if problems:
        for problem in problems[:-1]:
            print(f"tactful: error: {problem}", file=sys.stderr)
        raise ConfigError(f"{problems[-1]} ({len(problems)} bad example(s); fix or remove them)")
    blocked = len(profile.blocked)
    print(f"ok: {profile.path}: {len(profile.categories)} categories ({blocked} blocked), {len(examples)} examples")
    return EXIT_OK


def _bank_lines(bank: Path) -> list[str]:
    try:
        return bank.read_text(encoding="utf-8-sig").splitlines() if bank.exists() else []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{bank}: cannot read example bank: {exc}") from None


def show(explicit: Path | None, console: Console) -> int:
    profile, location = load_settings(ModelChoice(profile=explicit))
    # Only the bank named in the profile is read by classify, so only it is counted here.
    bank = load_bank(profile.examples_path)
    where = f"{location.path} [dim]({location.how})[/dim]" if location.path else "built-in default (no profile file found)"
    model = profile.model
    console.print(f"[bold]profile[/bold]   {profile.name}: {where}")
    console.print(f"[bold]model[/bold]     {model.backend} {model.name}, host {model.host or 'default'}, embedding {model.embedding or '-'}")
    task = profile.task
    console.print(
        f"[bold]task[/bold]      mode {task.mode}, explain {'on' if task.explain else 'off'}, "
        f"{task.examples_per_category} examples per category, selection {task.example_selection}, "
        f"normalize {'on' if task.normalize else 'off'}, second look {'on' if task.second_look else 'off'}"
    )
    if profile.examples_path:
        console.print(f"[bold]examples[/bold]  {len(bank)} in {profile.examples_path}")
    elif profile.path:
        console.print(f"[bold]examples[/bold]  none yet (`tactful examples add` starts {bank_path(profile)})")
    console.print(_category_table(profile, bank))
    return EXIT_OK


def _category_table(profile: Profile, bank: list[Example]) -> Table:
    counts = Counter(label for ex in bank for label in ex.labels)
    table = Table("blocked", "severity", "threshold", "examples", "definition")
    table.columns.insert(0, Column("category", no_wrap=True))
    for cat in profile.categories:
        blocked = "[red]yes[/red]" if cat.blocked else "no"
        table.add_row(cat.slug, blocked, cat.severity, f"{cat.threshold:g}", str(counts[cat.slug]), cat.description)
    table.add_row("[dim](acceptable)[/dim]", "", "", "", str(sum(1 for ex in bank if not ex.labels)), "")
    return table
