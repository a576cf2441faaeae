"""The profile: what a user does not want to see, and how to ask the model.

Reading and validation only; edits that keep the user's comments live in
``profile.edit``. A profile is TOML with ``version = 1``; every problem is a
``ConfigError`` naming the file and the key (or line) at fault. Which keys exist, their
types, allowed values and defaults are stated once, in ``profile.schema``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from tactful.backends.urls import BadURL, server_url
from tactful.errors import ConfigError
from tactful.paths import user_profile_path
from tactful.profile.categories import (
    BuiltinCategory,
    Category,
    builtin_categories,
    did_you_mean,
    is_valid_slug,
)
from tactful.profile.schema import (
    BACKENDS,
    CALIBRATION,
    CATEGORY,
    CHECK,
    CHECK_TYPES,
    DEFAULT_MODEL,
    LONG_TEXT,
    MODEL,
    MODES,
    SELECTIONS,
    TASK,
    TOP,
    VERSION,
    Field,
    default_of,
    field_named,
    names,
)
from tactful.profile.tomlio import TOMLDecodeError, loads_toml

# The choices stay importable from here, where other modules have always found them.
__all__ = [
    "BACKENDS", "CHECK_TYPES", "DEFAULT_MODEL", "ENV_PROFILE", "LONG_TEXT", "MODES",
    "PROFILE_FILENAMES", "SELECTIONS", "ModelSettings", "Profile", "ProfileLocation",
    "TaskSettings", "default_profile", "env_profile", "load_profile", "locate_profile",
    "parse_profile", "read_profile_file",
]

PROFILE_FILENAMES = ("tactful.toml", ".tactful.toml")
ENV_PROFILE = "TACTFUL_PROFILE"
DEFAULT_PROFILE = "default_profile.toml"
PROFILE_NOT_FOUND = "profile not found (create one with `tactful profile init {path}`)"

_Settings = TypeVar("_Settings")


# The settings classes name their attributes for the type checker; every default comes
# from the schema (tests/profile/test_schema.py checks that the two list the same keys).


@dataclass(frozen=True)
class ModelSettings:
    """The [model] table; ``MODEL`` says what each setting means and allows."""

    backend: str = default_of(MODEL, "backend")
    name: str = default_of(MODEL, "name")
    host: str | None = default_of(MODEL, "host")
    hosts: tuple[str, ...] = default_of(MODEL, "hosts")
    api_key_env: str | None = default_of(MODEL, "api_key_env")
    timeout: float = default_of(MODEL, "timeout")
    embedding: str | None = default_of(MODEL, "embedding")
    options: Mapping[str, Any] = default_of(MODEL, "options")

    @property
    def endpoints(self) -> tuple[str | None, ...]:
        """The servers to use: ``hosts``, else ``host``; None is the backend's own default."""
        return self.hosts or (self.host,)


@dataclass(frozen=True)
class TaskSettings:
    """The [task] table; ``TASK`` says what each setting means and allows."""

    mode: str = default_of(TASK, "mode")
    explain: bool = default_of(TASK, "explain")
    examples_per_category: int = default_of(TASK, "examples_per_category")
    example_selection: str = default_of(TASK, "example_selection")
    normalize: bool = default_of(TASK, "normalize")
    second_look: bool = default_of(TASK, "second_look")
    max_chars: int = default_of(TASK, "max_chars")
    long_text: str = default_of(TASK, "long_text")


@dataclass(frozen=True)
class Profile:
    """A validated profile. ``path`` is None for the built-in default."""

    name: str
    path: Path | None
    model: ModelSettings
    task: TaskSettings
    categories: tuple[Category, ...]
    examples_path: Path | None = None
    tests_path: Path | None = None
    fail_level: str = default_of(CHECK, "fail_level")
    # `tactful check`: (glob, file type) pairs from [check] types, first match wins.
    check_types: tuple[tuple[str, str], ...] = ()
    # [calibration], written by `tactful calibrate`: model, prompt, mode, items, fitted, quality.
    calibration: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def blocked(self) -> tuple[Category, ...]:
        return tuple(c for c in self.categories if c.blocked)

    @property
    def allowed(self) -> tuple[Category, ...]:
        return tuple(c for c in self.categories if not c.blocked)

    @property
    def slugs(self) -> list[str]:
        return [c.slug for c in self.categories]

    def category(self, slug: str) -> Category:
        for cat in self.categories:
            if cat.slug == slug:
                return cat
        raise ConfigError(f"unknown category '{slug}'{did_you_mean(slug, self.slugs)}")

    def with_overrides(self, **task: Any) -> Profile:
        """A copy with task settings replaced (for --mode, --explain and the like)."""
        changes = {k: v for k, v in task.items() if v is not None}
        return replace(self, task=replace(self.task, **changes)) if changes else self

    def with_model(self, **model: Any) -> Profile:
        changes = {k: v for k, v in model.items() if v is not None}
        return replace(self, model=replace(self.model, **changes)) if changes else self


# ---------------------------------------------------------------- discovery


@dataclass(frozen=True)
class ProfileLocation:
    """Where a profile came from, for `doctor` and `profile path`."""

    path: Path | None
    how: str  # "--profile", "TACTFUL_PROFILE", "project", "user", "built-in"


def env_profile() -> Path | None:
    """The profile $TACTFUL_PROFILE names, or None when it is unset or empty."""
    env = os.environ.get(ENV_PROFILE)
    return Path(env).expanduser() if env else None


def locate_profile(explicit: Path | None = None, cwd: Path | None = None) -> ProfileLocation:
    """Find the profile the way the docs say: flag, env, project file, user file, built-in."""
    if explicit is not None:
        return ProfileLocation(explicit, "--profile")
    env = env_profile()
    if env is not None:
        return ProfileLocation(env, ENV_PROFILE)
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        for name in PROFILE_FILENAMES:
            candidate = folder / name
            if candidate.is_file():
                return ProfileLocation(candidate, "project")
    user = user_profile_path()
    if user.is_file():
        return ProfileLocation(user, "user")
    return ProfileLocation(None, "built-in")


def read_profile_file(path: Path, missing: str = PROFILE_NOT_FOUND) -> str:
    """The text of the profile at ``path``; ``missing`` (with ``{path}``) is the error when absent.

    Reading and editing differ only there: an edit of a profile not yet made is no surprise.
    """
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: {missing.format(path=path)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read profile: {exc}") from None


def load_profile(location: ProfileLocation) -> Profile:
    if location.path is None:
        return default_profile()
    return parse_profile(read_profile_file(location.path), location.path)


def default_profile() -> Profile:
    """The profile used when the user has none: prompts/default_profile.toml, which says why."""
    text = resources.files("tactful.prompts").joinpath(DEFAULT_PROFILE).read_text("utf-8")
    return parse_profile(text, None)


# ---------------------------------------------------------------- validation

# The Python types TOML gives for each kind of field; a whole number is a number too.
_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "bool": (bool,), "int": (int,), "float": (int, float), "table": (dict,), "list": (list,),
}
_CASTS: dict[str, Callable[[Any], Any]] = {"int": int, "float": float}


class _Reader:
    """Typed access to one TOML table, with errors that name the file and key."""

    def __init__(self, where: str, table: Mapping[str, Any], prefix: str, allowed: Collection[str]):
        self.where, self.table, self.prefix = where, table, prefix
        for key in table:
            if key not in allowed:
                hint = did_you_mean(key, sorted(allowed))
                raise ConfigError(f"{where}: unknown key '{self._name(key)}'{hint}")

    def _name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def _fail(self, key: str, what: str) -> ConfigError:
        return ConfigError(f"{self.where}: '{self._name(key)}' {what}")

    def read_all(self, fields: Sequence[Field], defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Every field's value by name; ``defaults`` replaces the table's defaults for some."""
        own = defaults or {}
        return {f.name: self.read(f, own.get(f.name, f.default)) for f in fields}

    def read(self, f: Field, default: Any) -> Any:
        if f.kind == "table":
            return dict(self.get(f.name, dict, default))
        if f.kind == "list":
            items = self.get(f.name, list, default)
            for number, item in enumerate(items, start=1):
                if not (isinstance(item, str) and item.strip()):
                    raise self._fail(f.name, f"must be a list of non-empty strings, not {items!r}")
                self.url(f, item, f"element {number} ")
            return tuple(items)
        if f.low is not None or f.high is not None:
            return self.number(f, default)
        if f.choices is not None:
            return self.choice(f.name, f.choices, default)
        return self.url(f, self.get(f.name, _TYPES[f.kind], default))

    def url(self, f: Field, value: Any, which: str = "") -> Any:
        """``value``, refused unless it is a server URL where ``f`` takes one (``urls.server_url``)."""
        if f.url and isinstance(value, str):
            try:
                server_url(value)
            except BadURL as exc:
                raise self._fail(f.name, f"{which}({value!r}) is not a server URL: {exc}") from None
        return value

    def get(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        if key not in self.table:
            return default
        value = self.table[key]
        # bool is an int in Python; a profile saying `timeout = true` is still wrong.
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self._fail(key, f"must be {_type_name(kind)}, not a boolean")
        if not isinstance(value, kind):
            raise self._fail(key, f"must be {_type_name(kind)}, not {type(value).__name__} {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None) -> str:
        value = self.get(key, str, default)
        if value not in choices:
            raise self._fail(key, f"must be one of {', '.join(choices)}, not '{value}'{did_you_mean(value, list(choices))}")
        return value

    def number(self, f: Field, default: float) -> Any:
        """A bounded field: any number within the bounds, made the field's kind (3.0 counts 3)."""
        value = self.get(f.name, (int, float), default)
        if (f.low is not None and value < f.low) or (f.high is not None and value > f.high):
            raise self._fail(f.name, f"must be {_bounds(f)}, not {value}")
        return _CASTS[f.kind](value)


def _bounds(f: Field) -> str:
    if f.low is not None and f.high is not None:
        return f"between {f.low} and {f.high}"
    return f"at least {f.low}" if f.low is not None else f"at most {f.high}"


def _type_name(kind: type | tuple[type, ...]) -> str:
    words = {str: "a string", bool: "true or false", int: "a whole number", float: "a number", dict: "a table",
             list: "a list"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if set(kinds) == {int, float}:
        return "a number"
    return " or ".join(words.get(k, k.__name__) for k in kinds)


def parse_profile(text: str, path: Path | None) -> Profile:
    where = str(path) if path else "built-in profile"
    try:
        return _parse_profile(text, path, where)
    except ConfigError as exc:
        raise ConfigError(_with_line(exc.message, text, where)) from None


_QUOTED_KEY = re.compile(r"^'([A-Za-z0-9_.\-]+)'")


def _with_line(message: str, text: str, where: str) -> str:
    """``where: 'task.mode' must be ...`` becomes ``where:3: 'task.mode' must be ...``."""
    rest = message.removeprefix(f"{where}: ")
    match = _QUOTED_KEY.match(rest)
    line = _key_line(text, match.group(1)) if match and rest is not message else None
    return f"{where}:{line}: {rest}" if line else message


def _key_line(text: str, dotted: str) -> int | None:
    """The line that sets ``dotted`` (``task.mode``, ``categories.spam.threshold``), if one does."""
    table: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = re.match(r"^\[\s*([^\]]+?)\s*\]", line)
        if header:
            table = [part.strip().strip('"') for part in header.group(1).split(".")]
            continue
        key = re.match(r"^([A-Za-z0-9_\-\"]+)\s*=", line)
        if key and ".".join([*table, key.group(1).strip('"')]) == dotted:
            return number
    return None


def _parse_profile(text: str, path: Path | None, where: str) -> Profile:
    try:
        data = loads_toml(text)
    except TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from None
    top = _Reader(where, data, "", names(TOP))
    _check_version(where, top.read(VERSION, None))
    values = top.read_all(TOP)
    base = path.parent if path else Path.cwd()
    categories = _parse_categories(where, values["categories"])
    check = _Reader(where, values["check"], "check.", names(CHECK)).read_all(CHECK)
    return Profile(
        name=values["name"] if values["name"] is not None else (path.stem if path else "default"),
        path=path,
        model=_parse_settings(ModelSettings, where, values["model"], MODEL),
        task=_parse_settings(TaskSettings, where, values["task"], TASK),
        categories=categories,
        examples_path=_relative(base, values["examples"]) or _default_bank(path),
        tests_path=_relative(base, values["tests"]),
        fail_level=check["fail_level"],
        check_types=_parse_check_types(where, check["types"]),
        calibration=_set_only(_Reader(where, values["calibration"], "calibration.", names(CALIBRATION)).read_all(CALIBRATION)),
    )


def _set_only(values: Mapping[str, Any]) -> dict[str, Any]:
    """The keys a table really sets: an absent [calibration] reads as empty, not as Nones."""
    return {key: value for key, value in values.items() if value is not None and value != {}}


def _check_version(where: str, version: int | None) -> None:
    if version is None:
        raise ConfigError(f"{where}: missing 'version = 1' at the top of the profile")
    if version != 1:
        raise ConfigError(f"{where}: unsupported profile version {version} (this tactful reads version 1)")


def _parse_settings(
    build: Callable[..., _Settings], where: str, table: Mapping[str, Any], fields: Sequence[Field]
) -> _Settings:
    """[model] or [task]: every field of the section, read from ``table`` or defaulted."""
    reader = _Reader(where, table, f"{fields[0].section}.", names(fields))
    return build(**reader.read_all(fields))


def _parse_check_types(where: str, table: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """[check] types: a glob per key ("docs/*.txt" = "markdown"), a file type per value."""
    kinds = field_named(CHECK, "types").choices or ()
    r = _Reader(where, table, "check.types.", set(table))
    return tuple((glob, r.choice(glob, kinds, None)) for glob in table)


def default_bank_name(profile_path: Path) -> str:
    """The documented default bank: <profile stem>.examples.jsonl beside the profile."""
    return f"{profile_path.stem}.examples.jsonl"


def _default_bank(path: Path | None) -> Path | None:
    """The default bank when it exists: the one resolver for list, show, validate and classify."""
    if path is None:
        return None
    default = path.with_name(default_bank_name(path))
    return default if default.is_file() else None


def _relative(base: Path, value: str | None) -> Path | None:
    return None if value is None else (base / Path(value).expanduser())


def _parse_categories(where: str, table: Mapping[str, Any]) -> tuple[Category, ...]:
    builtins = builtin_categories()
    result = tuple(_parse_category(where, slug, body, builtins) for slug, body in table.items())
    if not result:
        raise ConfigError(f"{where}: the profile names no categories (add a [categories.<slug>] table)")
    return result


def _parse_category(where: str, slug: str, body: Any, builtins: Mapping[str, BuiltinCategory]) -> Category:
    if not is_valid_slug(slug):
        raise ConfigError(
            f"{where}: category '{slug}' is not a valid slug (lowercase letters, digits and dashes)"
        )
    if not isinstance(body, dict):
        raise ConfigError(f"{where}: 'categories.{slug}' must be a table ([categories.{slug}])")
    builtin = builtins.get(slug)
    # A built-in category brings its own definition and severity; a profile may change them.
    own = {"description": builtin.description, "severity": builtin.severity} if builtin else {}
    values = _Reader(where, body, f"categories.{slug}.", names(CATEGORY)).read_all(CATEGORY, own)
    description = values.pop("description")
    if description is None:
        raise ConfigError(
            f"{where}: unknown category '{slug}'{did_you_mean(slug, list(builtins))}; "
            f"a custom category needs a description (categories.{slug}.description)"
        )
    if not description.strip():
        raise ConfigError(f"{where}: 'categories.{slug}.description' is empty")
    return Category(slug=slug, description=" ".join(description.split()), builtin=builtin is not None, **values)
