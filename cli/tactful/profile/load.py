"""The profile: what a user does not want to see, and how to ask the model.

Reading and validation only; edits that keep the user's comments live in
``profile_edit``. A profile is TOML with ``version = 1``; every problem is a
``ConfigError`` naming the file and the key (or line) at fault.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tactful.errors import ConfigError
from tactful.paths import user_profile_path
from tactful.profile.categories import (
    SEVERITIES,
    Category,
    builtin_categories,
    did_you_mean,
    is_valid_slug,
)
from tactful.profile.tomlio import TOMLDecodeError, loads_toml

PROFILE_FILENAMES = ("tactful.toml", ".tactful.toml")
ENV_PROFILE = "TACTFUL_PROFILE"
MODES = ("binary", "multiclass", "multilabel")
SELECTIONS = ("fixed", "balanced", "similar")
BACKENDS = ("ollama", "embedded")
LONG_TEXT = ("truncate", "split", "error")
CHECK_TYPES = ("markdown", "text")
DEFAULT_MODEL = "qwen2.5:3b"


@dataclass(frozen=True)
class ModelSettings:
    backend: str = "ollama"
    name: str = DEFAULT_MODEL
    host: str | None = None
    timeout: float = 120.0
    embedding: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskSettings:
    mode: str = "binary"
    explain: bool = False
    examples_per_category: int = 3
    example_selection: str = "balanced"
    normalize: bool = True
    second_look: bool = True
    max_chars: int = 6000
    long_text: str = "truncate"


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
    fail_level: str = "low"
    # `tactful check`: (glob, file type) pairs from [check] types, first match wins.
    check_types: tuple[tuple[str, str], ...] = ()

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


def locate_profile(explicit: Path | None = None, cwd: Path | None = None) -> ProfileLocation:
    """Find the profile the way the docs say: flag, env, project file, user file, built-in."""
    if explicit is not None:
        return ProfileLocation(explicit, "--profile")
    env = os.environ.get(ENV_PROFILE)
    if env:
        return ProfileLocation(Path(env).expanduser(), ENV_PROFILE)
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


def load_profile(location: ProfileLocation) -> Profile:
    if location.path is None:
        return default_profile()
    path = location.path
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: profile not found (create one with `tactful profile init {path}`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read profile: {exc}") from None
    return parse_profile(text, path)


def default_profile() -> Profile:
    """The profile used when the user has none: toxicity, spam and manipulation blocked.

    Manipulation (a text that tries to instruct the moderator) is blocked by default
    because such a text is suspicious in itself: it is how harmful posts try to slip past.
    """
    return parse_profile(
        'version = 1\n[categories.toxicity]\nblocked = true\n[categories.spam]\nblocked = true\n'
        '[categories.negative-sentiment]\nblocked = false\n[categories.manipulation]\nblocked = true\n',
        None,
    )


# ---------------------------------------------------------------- validation

_TOP_KEYS = {"version", "name", "model", "task", "categories", "examples", "tests", "check"}
_MODEL_KEYS = {"backend", "name", "host", "timeout", "embedding", "options"}
_TASK_KEYS = {
    "mode", "explain", "examples_per_category", "example_selection", "normalize",
    "max_chars", "long_text", "second_look",
}
_CATEGORY_KEYS = {"description", "blocked", "threshold", "severity"}
_CHECK_KEYS = {"fail_level", "types"}


class _Reader:
    """Typed access to one TOML table, with errors that name the file and key."""

    def __init__(self, where: str, table: Mapping[str, Any], prefix: str, allowed: set[str]):
        self.where, self.table, self.prefix = where, table, prefix
        for key in table:
            if key not in allowed:
                hint = did_you_mean(key, sorted(allowed))
                raise ConfigError(f"{where}: unknown key '{self._name(key)}'{hint}")

    def _name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def _fail(self, key: str, what: str) -> ConfigError:
        return ConfigError(f"{self.where}: '{self._name(key)}' {what}")

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

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.get(key, str, default)
        if value not in choices:
            raise self._fail(key, f"must be one of {', '.join(choices)}, not '{value}'{did_you_mean(value, list(choices))}")
        return value

    def number(self, key: str, default: float, low: float, high: float | None = None) -> float:
        value = self.get(key, (int, float), default)
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise self._fail(key, f"must be {bound}, not {value}")
        return value

    def table_at(self, key: str) -> Mapping[str, Any]:
        return self.get(key, dict, {})


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", bool: "true or false", int: "a whole number", float: "a number", dict: "a table"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if set(kinds) == {int, float}:
        return "a number"
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def parse_profile(text: str, path: Path | None) -> Profile:
    where = str(path) if path else "built-in profile"
    try:
        data = loads_toml(text)
    except TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from None
    top = _Reader(where, data, "", _TOP_KEYS)
    version = top.get("version", int, None)
    if version is None:
        raise ConfigError(f"{where}: missing 'version = 1' at the top of the profile")
    if version != 1:
        raise ConfigError(f"{where}: unsupported profile version {version} (this tactful reads version 1)")
    base = path.parent if path else Path.cwd()
    categories = _parse_categories(where, top.table_at("categories"))
    check = _Reader(where, top.table_at("check"), "check.", _CHECK_KEYS)
    return Profile(
        name=top.get("name", str, path.stem if path else "default"),
        path=path,
        model=_parse_model(where, top.table_at("model")),
        task=_parse_task(where, top.table_at("task")),
        categories=categories,
        examples_path=_relative(base, top.get("examples", str, None)),
        tests_path=_relative(base, top.get("tests", str, None)),
        fail_level=check.choice("fail_level", SEVERITIES, "low"),
        check_types=_parse_check_types(where, check.table_at("types")),
    )


def _parse_check_types(where: str, table: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """[check] types: a glob per key ("docs/*.txt" = "markdown"), a file type per value."""
    r = _Reader(where, table, "check.types.", set(table))
    return tuple((glob, r.choice(glob, CHECK_TYPES, "text")) for glob in table)


def _relative(base: Path, value: str | None) -> Path | None:
    return None if value is None else (base / Path(value).expanduser())


def _parse_model(where: str, table: Mapping[str, Any]) -> ModelSettings:
    r = _Reader(where, table, "model.", _MODEL_KEYS)
    return ModelSettings(
        backend=r.choice("backend", BACKENDS, "ollama"),
        name=r.get("name", str, DEFAULT_MODEL),
        host=r.get("host", str, None),
        timeout=float(r.number("timeout", 120.0, 1.0)),
        embedding=r.get("embedding", str, None),
        options=dict(r.table_at("options")),
    )


def _parse_task(where: str, table: Mapping[str, Any]) -> TaskSettings:
    r = _Reader(where, table, "task.", _TASK_KEYS)
    return TaskSettings(
        mode=r.choice("mode", MODES, "binary"),
        explain=r.get("explain", bool, False),
        examples_per_category=int(r.number("examples_per_category", 3, 0, 64)),
        example_selection=r.choice("example_selection", SELECTIONS, "balanced"),
        normalize=r.get("normalize", bool, True),
        second_look=r.get("second_look", bool, True),
        max_chars=int(r.number("max_chars", 6000, 100)),
        long_text=r.choice("long_text", LONG_TEXT, "truncate"),
    )


def _parse_categories(where: str, table: Mapping[str, Any]) -> tuple[Category, ...]:
    builtins = builtin_categories()
    result: list[Category] = []
    for slug, body in table.items():
        if not is_valid_slug(slug):
            raise ConfigError(
                f"{where}: category '{slug}' is not a valid slug (lowercase letters, digits and dashes)"
            )
        if not isinstance(body, dict):
            raise ConfigError(f"{where}: 'categories.{slug}' must be a table ([categories.{slug}])")
        r = _Reader(where, body, f"categories.{slug}.", _CATEGORY_KEYS)
        builtin = builtins.get(slug)
        description = r.get("description", str, builtin.description if builtin else None)
        if description is None:
            raise ConfigError(
                f"{where}: unknown category '{slug}'{did_you_mean(slug, list(builtins))}; "
                f"a custom category needs a description (categories.{slug}.description)"
            )
        if not description.strip():
            raise ConfigError(f"{where}: 'categories.{slug}.description' is empty")
        result.append(
            Category(
                slug=slug,
                description=" ".join(description.split()),
                blocked=r.get("blocked", bool, True),
                severity=r.choice("severity", SEVERITIES, builtin.severity if builtin else "medium"),
                threshold=float(r.number("threshold", 0.5, 0.0, 1.0)),
                builtin=builtin is not None,
            )
        )
    if not result:
        raise ConfigError(f"{where}: the profile names no categories (add a [categories.<slug>] table)")
    return tuple(result)
