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
    ATTRIBUTE_NAME,
    BACKENDS,
    CALIBRATION,
    CATEGORY,
    CHECK,
    CHECK_TYPES,
    DEFAULT_MODEL,
    LONG_TEXT,
    MODEL,
    MODES,
    OPENAI_DEFAULTS,
    SELECTIONS,
    SERVE,
    TASK,
    TOP,
    VERSION,
    Field,
    ModelSettings,
    ServeSettings,
    TaskSettings,
    attribute_name,
    default_of,
    field_named,
    names,
)
from tactful.profile.tomlio import TOMLDecodeError, loads_toml

# The choices and the settings classes (declared in ``profile.schema``) stay importable
# from here, where other modules have always found them.
__all__ = [
    "BACKENDS",
    "CHECK_TYPES",
    "DEFAULT_MODEL",
    "ENV_PROFILE",
    "LONG_TEXT",
    "MODES",
    "PROFILE_FILENAMES",
    "SELECTIONS",
    "ModelSettings",
    "Profile",
    "ProfileLocation",
    "ServeSettings",
    "TaskSettings",
    "check_profile",
    "default_profile",
    "env_profile",
    "key_line",
    "load_profile",
    "locate_profile",
    "parse_profile",
    "read_profile_file",
]

PROFILE_FILENAMES = ("tactful.toml", ".tactful.toml")
ENV_PROFILE = "TACTFUL_PROFILE"
DEFAULT_PROFILE = "default_profile.toml"
PROFILE_NOT_FOUND = "profile not found (create one with `tactful profile init {path}`)"

_Settings = TypeVar("_Settings")


@dataclass(frozen=True)
class Profile:
    """A validated profile. ``path`` is None for the built-in default.

    ``categories`` are in canonical order (by slug), whatever order the file declares them
    in: the prompt, the answer's keys, the example turns and the labels all follow it, so
    swapping two tables in a profile changes nothing the model reads or tactful reports.
    """

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
    # [serve]: the API names `tactful serve` answers with each category, over the built-in tables.
    serve: ServeSettings = dataclasses.field(default_factory=ServeSettings)

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


Key = tuple[str, ...]  # a key's path from the top of the document: ("categories", "spam", "threshold")


@dataclass
class _Problems:
    """Every problem found in one profile, each with the path of the key it is about (for its line).

    Validation goes on past a problem (a bad value reads as its default), so that one
    mistake never hides the next: `profile validate` lists them all, in file order.
    """

    found: list[tuple[Key | None, str]] = dataclasses.field(default_factory=list)

    def add(self, key: Key | None, what: str) -> None:
        self.found.append((key, what))

    def located(self, text: str, where: str) -> list[str]:
        """``where:LINE: problem`` for each, in file order (those with no line first)."""
        lines = [(key_line(text, key) if key else None, what) for key, what in self.found]
        lines.sort(key=lambda pair: pair[0] or 0)
        return [f"{where}:{line}: {what}" if line else f"{where}: {what}" for line, what in lines]


class _Reader:
    """Typed access to one TOML table (at ``path``); a problem is recorded and the default read instead."""

    def __init__(self, problems: _Problems, table: Mapping[str, Any], path: Key, allowed: Collection[str]):
        self.problems, self.table, self.path = problems, table, path
        for key in table:
            if key not in allowed:
                hint = did_you_mean(key, sorted(allowed))
                problems.add((*path, key), f"unknown key '{self._name(key)}'{hint}")

    def _name(self, key: str) -> str:
        return ".".join((*self.path, key))

    def _fail(self, key: str, what: str, default: Any) -> Any:
        self.problems.add((*self.path, key), f"'{self._name(key)}' {what}")
        return default

    def read_all(self, fields: Sequence[Field], defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Every field's value by name; ``defaults`` replaces the table's defaults for some."""
        own = defaults or {}
        return {f.name: self.read(f, own.get(f.name, f.default)) for f in fields}

    def read(self, f: Field, default: Any) -> Any:
        if f.kind == "table":
            return dict(self.get(f.name, dict, default))
        if f.kind == "list":
            items = self.get(f.name, list, default)
            if not all(isinstance(item, str) and item.strip() for item in items):
                return self._fail(f.name, f"must be a list of non-empty strings, not {items!r}", default)
            for number, item in enumerate(items, start=1):
                if self.url(f, item, f"element {number} ") is None:
                    return default
            return tuple(items)
        if f.low is not None or f.high is not None:
            return self.number(f, default)
        if f.choices is not None:
            return self.choice(f.name, f.choices, default)
        return self.url(f, self.get(f.name, _TYPES[f.kind], default))

    def url(self, f: Field, value: Any, which: str = "") -> Any:
        """``value``, or None (the problem noted) unless it is a server URL where ``f``
        takes one (``urls.server_url``)."""
        if f.url and isinstance(value, str):
            try:
                server_url(value)
            except BadURL as exc:
                return self._fail(f.name, f"{which}({value!r}) is not a server URL: {exc}", None)
        return value

    def get(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        if key not in self.table:
            return default
        value = self.table[key]
        # bool is an int in Python; a profile saying `timeout = true` is still wrong.
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            return self._fail(key, f"must be {_type_name(kind)}, not a boolean", default)
        if not isinstance(value, kind):
            return self._fail(key, f"must be {_type_name(kind)}, not {type(value).__name__} {value!r}", default)
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None) -> str | None:
        value: str | None = self.get(key, str, default)
        if value is not None and value not in choices and value != default:  # None only as the default
            fallback: str | None = self._fail(key, f"must be one of {', '.join(choices)}, not '{value}'{did_you_mean(value, list(choices))}", default)
            return fallback
        return value

    def number(self, f: Field, default: float) -> Any:
        """A bounded field: any number within the bounds, made the field's kind (3.0 counts 3)."""
        value = self.get(f.name, (int, float), default)
        if (f.low is not None and value < f.low) or (f.high is not None and value > f.high):
            return self._fail(f.name, f"must be {_bounds(f)}, not {value}", default)
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
    """The validated profile; a ConfigError naming the first problem (file and line) otherwise."""
    profile, problems = check_profile(text, path)
    if problems:
        more = f" (and {len(problems) - 1} more: `tactful profile validate` lists them)" if len(problems) > 1 else ""
        raise ConfigError(problems[0] + more)
    assert profile is not None  # no problem: it parsed
    return profile


def check_profile(text: str, path: Path | None) -> tuple[Profile | None, list[str]]:
    """The profile as far as it reads, and every problem in it as ``FILE:LINE: ...``, in file order.

    The profile is None only when the text is not TOML; otherwise bad values read as their
    defaults and bad categories are left out, so its bank and tests can still be checked.
    """
    where = str(path) if path else "built-in profile"
    try:
        data = loads_toml(text)
    except TOMLDecodeError as exc:
        return None, [_toml_problem(where, exc)]
    problems = _Problems()
    profile = _parse_profile(data, path, problems)
    return profile, problems.located(text, where)


_TOML_AT = re.compile(r"^(.*) \(at line (\d+), (column \d+)\)$")


def _toml_problem(where: str, exc: TOMLDecodeError) -> str:
    """``FILE:LINE: invalid TOML: ...`` from the decoder's "(at line N, column M)"."""
    match = _TOML_AT.match(str(exc))
    if match is None:
        return f"{where}: invalid TOML: {exc}"
    return f"{where}:{match.group(2)}: invalid TOML: {match.group(1)} ({match.group(3)})"


_HEADER = re.compile(r"^\[\[?\s*([^\]]+?)\s*\]")
_ASSIGNED = re.compile(r"^((?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*'))*)\s*=")


def _key_parts(dotted: str) -> list[str]:
    """A TOML dotted key's parts, unquoted: ``check.types."*.txt"`` is check, types, *.txt."""
    return [part.strip().strip('"').strip("'") for part in re.split(r"\.(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", dotted)]


def key_line(text: str, wanted: Key) -> int | None:
    """The line that sets the key at ``wanted`` (task, mode; categories, spam, threshold).

    Failing that, the line of its nearest enclosing table or key (a value inside an inline
    table, a table header), so that every problem has a place to look.
    """
    table: list[str] = []
    best, best_depth = None, 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = _HEADER.match(line)
        if header:
            table, path = _key_parts(header.group(1)), _key_parts(header.group(1))
        else:
            key = _ASSIGNED.match(line)
            if not key:
                continue
            path = [*table, *_key_parts(key.group(1))]
        depth = _shared(path, wanted)
        if depth == len(path) and depth > best_depth:  # this line sets the key or encloses it
            best, best_depth = number, depth
            if depth == len(wanted):
                return number
    return best


def _shared(path: list[str], wanted: Key) -> int:
    count = 0
    for a, b in zip(path, wanted):
        if a != b:
            break
        count += 1
    return count


def _parse_profile(data: Mapping[str, Any], path: Path | None, problems: _Problems) -> Profile:
    top = _Reader(problems, data, (), names(TOP))
    if "version" not in data:
        problems.add(None, "missing 'version = 1' at the top of the profile")
    _check_version(problems, top.read(VERSION, 1))  # a version of the wrong type is its own problem
    values = top.read_all(TOP)
    base = path.parent if path else Path.cwd()
    categories = _parse_categories(problems, values["categories"])
    check = _Reader(problems, values["check"], ("check",), names(CHECK)).read_all(CHECK)
    return Profile(
        name=values["name"] if values["name"] is not None else (path.stem if path else "default"),
        path=path,
        model=_parse_settings(ModelSettings, problems, values["model"], MODEL),
        task=_parse_settings(TaskSettings, problems, values["task"], TASK),
        categories=categories,
        examples_path=_relative(base, values["examples"]) or _default_bank(path),
        tests_path=_relative(base, values["tests"]),
        fail_level=check["fail_level"],
        check_types=_parse_check_types(problems, check["types"]),
        calibration=_set_only(_Reader(problems, values["calibration"], ("calibration",), names(CALIBRATION)).read_all(CALIBRATION)),
        serve=_parse_serve(problems, values["serve"], [category.slug for category in categories]),
    )


def _set_only(values: Mapping[str, Any]) -> dict[str, Any]:
    """The keys a table really sets: an absent [calibration] reads as empty, not as Nones."""
    return {key: value for key, value in values.items() if value is not None and value != {}}


def _check_version(problems: _Problems, version: int) -> None:
    if version != 1:
        problems.add(("version",), f"unsupported profile version {version} (this tactful reads version 1)")


def _parse_settings(
    build: Callable[..., _Settings], problems: _Problems, table: Mapping[str, Any], fields: Sequence[Field]
) -> _Settings:
    """[model] or [task]: every field of the section, read from ``table`` or defaulted."""
    reader = _Reader(problems, table, (fields[0].section,), names(fields))
    return build(**reader.read_all(fields))


def _parse_check_types(problems: _Problems, table: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """[check] types: a glob per key ("docs/*.txt" = "markdown"), a file type per value."""
    kinds = field_named(CHECK, "types").choices or ()
    r = _Reader(problems, table, ("check", "types"), set(table))
    chosen = ((glob, r.choice(glob, kinds, None)) for glob in table)
    return tuple((glob, kind) for glob, kind in chosen if kind is not None)


def _parse_serve(problems: _Problems, table: Mapping[str, Any], slugs: Sequence[str]) -> ServeSettings:
    """[serve]: each table maps names to the profile's categories; a bad entry is left out."""
    values = _Reader(problems, table, ("serve",), names(SERVE)).read_all(SERVE)
    attributes = {name: slug for name, slug in values["attributes"].items() if _attribute_name(problems, name)}
    return ServeSettings(attributes=_slugs_named(problems, attributes, "attributes", slugs),
                         openai=_slugs_named(problems, values["openai"], "openai", slugs, OPENAI_DEFAULTS))


def _attribute_name(problems: _Problems, name: str) -> bool:
    """Whether ``name`` is written as Perspective writes its attributes (the problem noted if not)."""
    if ATTRIBUTE_NAME.match(name):
        return True
    upper = attribute_name(name)  # a slug is named in capitals: toxicity is TOXICITY
    hint = f" (did you mean '{upper}'?)" if ATTRIBUTE_NAME.match(upper) else ""
    problems.add(("serve", "attributes", name),
                 f"'serve.attributes.{name}' is not a Perspective attribute name: capitals, digits and underscores{hint}")
    return False


def _slugs_named(problems: _Problems, table: Mapping[str, Any], section: str, slugs: Sequence[str],
                 known: Collection[str] | None = None) -> dict[str, str]:
    """A [serve] table's names and their categories, each one of ``slugs`` (and each name
    one of ``known``, where given)."""
    r = _Reader(problems, table, ("serve", section), set(table) if known is None else known)
    chosen = ((name, r.choice(name, tuple(slugs), None)) for name in table if known is None or name in known)
    return {name: slug for name, slug in chosen if slug is not None}


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


def _parse_categories(problems: _Problems, table: Mapping[str, Any]) -> tuple[Category, ...]:
    builtins = builtin_categories()
    if not table:
        problems.add(None, "the profile names no categories (add a [categories.<slug>] table)")
    parsed = (_parse_category(problems, slug, body, builtins) for slug, body in sorted(table.items()))
    # Sorted: a small model favours the category it reads first (in the list, in the
    # answer's first key), so the order of tables must not reach the prompt.
    return tuple(category for category in parsed if category is not None)


def _parse_category(problems: _Problems, slug: str, body: Any, builtins: Mapping[str, BuiltinCategory]) -> Category | None:
    """The category, or None (its problems recorded) when it cannot be one."""
    key, at = f"categories.{slug}", ("categories", slug)
    if not is_valid_slug(slug):
        problems.add(at, f"category '{slug}' is not a valid slug (lowercase letters, digits and dashes)")
        return None
    if not isinstance(body, dict):
        problems.add(at, f"'{key}' must be a table ([{key}])")
        return None
    builtin = builtins.get(slug)
    # A built-in category brings its own definition and severity; a profile may change them.
    own = {"description": builtin.description, "severity": builtin.severity} if builtin else {}
    values = _Reader(problems, body, at, names(CATEGORY)).read_all(CATEGORY, own)
    description = values.pop("description")
    if description is None:
        problems.add(at, f"unknown category '{slug}'{did_you_mean(slug, list(builtins))}; "
                          f"a custom category needs a description ({key}.description)")
        return None
    if not description.strip():
        problems.add((*at, "description"), f"'{key}.description' is empty")
        return None
    return Category(slug=slug, description=" ".join(description.split()), builtin=builtin is not None, **values)
