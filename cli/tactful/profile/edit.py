"""Editing a profile file in place: init, block, unblock, add, remove and set.

Every edit is a function from the file's text to its new text (``toml_edit`` keeps the
comments). ``edit_profile`` runs one under the file's lock, validates the result with the
same rules as reading, and only then replaces the file, atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import tomlkit

from tactful.errors import ConfigError, UsageError
from tactful.io.atomic import atomic_write_text, locked
from tactful.paths import user_profile_path
from tactful.profile.categories import builtin_categories, did_you_mean, is_valid_slug
from tactful.profile.load import Profile, locate_profile, parse_profile, read_profile_file
from tactful.profile.schema import Field, find_field
from tactful.profile.toml_edit import parse_document, remove_table, set_value
from tactful.profile.tomlio import TOMLDecodeError, loads_toml

Edit = Callable[[str], str]
TEMPLATE = "profile_template.toml"
# Editing a profile that does not exist yet is an ordinary first step, not a wrong path.
NO_PROFILE_YET = "no profile here yet; create it with `tactful profile init {path}`"


def template_text() -> str:
    return resources.files("tactful.prompts").joinpath(TEMPLATE).read_text("utf-8")


def editable_path(explicit: Path | None) -> Path:
    """The profile an edit applies to: the one reading would use, else the user default."""
    return locate_profile(explicit).path or user_profile_path()


def init_profile(path: Path, force: bool) -> None:
    with locked(path):
        if path.exists() and not force:
            raise UsageError(f"{path} already exists; add --force to overwrite it")
        atomic_write_text(path, template_text())


def read_profile_text(path: Path) -> str:
    """The text of the profile an edit starts from."""
    return read_profile_file(path, missing=NO_PROFILE_YET)


def edit_profile(path: Path, edit: Edit) -> Profile:
    """Apply ``edit`` to the profile at ``path``; refuse it if the result would be invalid."""
    with locked(path):
        text = read_profile_text(path)
        parse_document(text, str(path))  # a file that is not TOML cannot be edited, only fixed
        new_text = edit(text)
        try:
            profile = parse_profile(new_text, path)
        except ConfigError as exc:
            raise ConfigError(f"{exc.message}; the profile was not changed") from None
        if new_text != text:
            atomic_write_text(path, new_text)
    return profile


# ---------------------------------------------------------------- edits


def set_blocked(slugs: Sequence[str], blocked: bool) -> Edit:
    def edit(text: str) -> str:
        present = profile_categories(text)
        for slug in slugs:
            check_slug(slug, present, allow_builtin=True)
            text = set_value(text, ["categories", slug, "blocked"], blocked)
        return text

    return edit


def add_category(slug: str, description: str | None, blocked: bool, severity: str | None) -> Edit:
    if not is_valid_slug(slug):
        raise UsageError(f"'{slug}' is not a valid category slug: use lowercase letters, digits and dashes, like 'off-topic'")
    if description is None and slug not in builtin_categories():
        raise UsageError(f"'{slug}' is not a built-in category: give it a one-sentence --description")

    def edit(text: str) -> str:
        if slug in profile_categories(text):
            raise UsageError(
                f"'{slug}' is already in the profile; change it with "
                f"`tactful profile set categories.{slug}.description \"...\"` or block/unblock it"
            )
        table = tomlkit.table()
        if description is not None:
            table["description"] = " ".join(description.split())
        table["blocked"] = blocked
        if severity is not None:
            table["severity"] = severity
        return set_value(text, ["categories", slug], table)

    return edit


def remove_category(slug: str) -> Edit:
    def edit(text: str) -> str:
        check_slug(slug, profile_categories(text), allow_builtin=False)
        return remove_table(text, ["categories", slug])

    return edit


def set_key(key: str, raw: str) -> Edit:
    keys = key.split(".")
    if not all(keys):
        raise UsageError(f"'{key}' is not a key: use dotted names such as task.mode or model.name")
    value = coerce_value(keys, raw)
    return lambda text: set_value(text, keys, value)


# ---------------------------------------------------------------- values and slugs

_TRUE, _FALSE = ("true", "yes", "on"), ("false", "no", "off")


def coerce_value(keys: Sequence[str], raw: str) -> Any:
    """The TOML value a user means by ``raw`` for ``keys`` (`set task.explain true`).

    A key the schema does not know is written as the string it is: validating the edited
    profile then refuses it, with a did-you-mean from the same schema, before it is saved.
    """
    found = find_field(keys)
    if found is None:
        return raw
    field, used = found
    if field.kind == "table":
        # An entry of a table whose values the schema names (check.types: a file type) is a
        # string; any other entry (model.options.num_ctx) or a whole table is read as TOML.
        return raw if field.choices is not None and used < len(keys) else _toml_literal(raw)
    return _convert(field, ".".join(keys), raw)


def _convert(field: Field, name: str, raw: str) -> Any:
    if field.kind == "bool":
        if raw.lower() in _TRUE + _FALSE:
            return raw.lower() in _TRUE
        raise UsageError(f"{name} takes true or false, not '{raw}'")
    if field.kind == "str":
        return raw
    if field.kind == "list":
        return _list(name, raw)
    try:
        return int(raw) if field.kind == "int" else float(raw)
    except ValueError:
        what = "a whole number" if field.kind == "int" else "a number"
        raise UsageError(f"{name} takes {what}, not '{raw}'") from None


def _list(name: str, raw: str) -> list[Any]:
    """A list as TOML writes it (`["http://a:1", "http://b:2"]`) or as commas (`http://a:1,http://b:2`).

    Each element is checked when the edited profile is validated, by the rules of reading.
    """
    if not raw.lstrip().startswith("["):
        return [item.strip() for item in raw.split(",") if item.strip()]
    value = _toml_literal(raw)
    if not isinstance(value, list):  # not TOML after all: the text came back as it was
        raise UsageError(f"{name} takes a TOML array such as [\"a\", \"b\"] or values separated by commas, "
                         f"not {raw!r}")
    return value


def _toml_literal(raw: str) -> Any:
    # Ollama options are numbers, booleans or strings: read the value as TOML would, and
    # keep a bare word (`set model.options.stop END`) as the string it plainly means.
    try:
        return loads_toml(f"v = {raw}")["v"]
    except TOMLDecodeError:
        return raw


def profile_categories(text: str) -> dict[str, Any]:
    try:
        categories = loads_toml(text).get("categories", {})
    except TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}") from None
    return categories if isinstance(categories, dict) else {}


def check_slug(slug: str, present: Collection[str], allow_builtin: bool) -> None:
    """Raise a UsageError naming the valid slugs when ``slug`` is not one of them."""
    if slug in present or (allow_builtin and slug in builtin_categories()):
        return
    valid = list(present) + ([s for s in builtin_categories() if s not in present] if allow_builtin else [])
    raise UsageError(
        f"unknown category '{slug}'{did_you_mean(slug, valid)}; valid: {', '.join(valid)} "
        f"(a new one needs `tactful profile add {slug} --description \"...\"`)"
    )
