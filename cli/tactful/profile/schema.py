"""The profile's keys, each declared once: name, type, default, allowed values and help.

A section that becomes a settings class ([model], [task], [serve], each [categories.<slug>])
declares its keys as that class's attributes, with ``key(default, help)``: the
annotation is the key's type (a ``Literal`` lists its allowed values; ``| None`` marks a
key that may be left unset). ``fields_of`` derives the section's ``Field`` table from
the class. The other sections (the top level, [check], [calibration]) become attributes
of ``Profile`` and are declared here as ``Field`` tables directly.

Reading (``profile.load``), `tactful profile set` (``profile.edit``) and `tactful profile
show` all work from these tables, so a new key is one attribute or one ``Field`` here,
and a line in prompts/profile_template.toml (tests/profile/test_schema.py fails until
the template explains it).
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, get_args, get_origin

Kind = Literal["str", "bool", "int", "float", "table", "list"]  # list: of strings

# Each set of choices is written once, as a type: the settings classes and the command
# line's options take these types as they are, and the tuples below are their values.
Severity = Literal["low", "medium", "high"]
Mode = Literal["binary", "multiclass", "multilabel"]
Selection = Literal["fixed", "balanced", "similar"]
Backend = Literal["ollama", "embedded", "openai"]
LongText = Literal["truncate", "split", "error"]
CheckType = Literal["markdown", "text"]

SEVERITIES: tuple[Severity, ...] = get_args(Severity)
MODES: tuple[Mode, ...] = get_args(Mode)
SELECTIONS: tuple[Selection, ...] = get_args(Selection)
BACKENDS: tuple[Backend, ...] = get_args(Backend)
LONG_TEXT: tuple[LongText, ...] = get_args(LongText)
CHECK_TYPES: tuple[CheckType, ...] = get_args(CheckType)
DEFAULT_MODEL = "qwen2.5:3b"

# The section name of a category's keys; "<slug>" stands for any category slug.
CATEGORY_SECTION = "categories.<slug>"
# A table's default: read-only, so one shared value cannot be changed by a profile.
EMPTY_TABLE: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Field:
    """One profile key.

    ``choices`` and the bounds ``low``/``high`` constrain the value; for a table, ``choices``
    constrains the values of its entries (``check.types``). ``optional`` marks a key whose
    default, None, means "not set" (the backend's or the built-in category's own default).
    ``url`` marks a server URL (for a list, each element), checked by ``backends.urls``.
    """

    section: str  # "" for the top level, else "model", "task", "check" or CATEGORY_SECTION
    name: str
    kind: Kind
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    optional: bool = False
    url: bool = False

    @property
    def key(self) -> str:
        """The dotted key, as `tactful profile set` and error messages spell it."""
        return f"{self.section}.{self.name}" if self.section else self.name


# ---------------------------------------------------------------- declaring keys on a class

_KEY = "tactful.profile.key"  # where ``key`` leaves its part in a dataclass field's metadata


@dataclass(frozen=True)
class _Declared:
    help: str
    low: float | None
    high: float | None
    url: bool


def key(default: Any = dataclasses.MISSING, help: str = "", *, low: float | None = None,
        high: float | None = None, url: bool = False) -> Any:
    """A settings class attribute that is a profile key (a ``dataclasses.field``).

    With no default the attribute is required, and the key may be left unset: whoever
    builds the class fills it in (a built-in category's own description). A table's
    default is a fresh dict for each instance (a dataclass may not share a mutable one).
    """
    metadata = {_KEY: _Declared(help, low, high, url)}
    if isinstance(default, Mapping):
        return dataclasses.field(default_factory=dict, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def fields_of(cls: type, section: str) -> tuple[Field, ...]:
    """The ``Field`` of each attribute of ``cls`` declared with ``key``, in class order."""
    hints = typing.get_type_hints(cls)
    return tuple(_field(section, f, hints[f.name]) for f in dataclasses.fields(cls) if _KEY in f.metadata)


def _field(section: str, attribute: dataclasses.Field[Any], annotation: Any) -> Field:
    declared: _Declared = attribute.metadata[_KEY]
    kind, choices, optional = _kind_of(annotation)
    default: Any = attribute.default
    if attribute.default_factory is not dataclasses.MISSING:  # a table: a fresh dict for each instance
        default = EMPTY_TABLE
    elif default is dataclasses.MISSING:  # filled in by whoever builds the class: the key may be unset
        default, optional = None, True
    return Field(section, attribute.name, kind, default, declared.help, choices, declared.low, declared.high,
                 optional, declared.url)


_KINDS: dict[Any, Kind] = {str: "str", bool: "bool", int: "int", float: "float"}


def _kind_of(annotation: Any) -> tuple[Kind, tuple[str, ...] | None, bool]:
    """A key's kind, its allowed values (of a table: of its entries) and whether None is one."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        kind, choices, _ = _kind_of(next(a for a in args if a is not type(None)))
        return kind, choices, type(None) in args
    if origin is Literal:
        return "str", args, False
    if origin is tuple:  # of strings
        return "list", None, False
    if origin is Mapping:
        entries = args[1] if args else Any
        return "table", get_args(entries) if get_origin(entries) is Literal else None, False
    if annotation not in _KINDS:  # a mistake in a declaration: fail on import, naming it
        raise TypeError(f"a profile key cannot be of type {annotation!r}")
    return _KINDS[annotation], None, False


# ---------------------------------------------------------------- the keys


@dataclass(frozen=True)
class ModelSettings:
    """The [model] table: which model classifies, and how to reach it."""

    backend: Backend = key("ollama", "ollama: an Ollama server; embedded: a GGUF file in process; "
                                     "openai: an OpenAI-compatible server")
    name: str = key(DEFAULT_MODEL, "an Ollama model name, or a GGUF path or fetched name for the embedded backend")
    host: str | None = key(None, "the server's URL; Ollama: $OLLAMA_HOST, else localhost:11434; "
                                 "openai: required (http://HOST:PORT/v1)", url=True)
    hosts: tuple[str, ...] = key((), "several servers of one backend and model: requests spread, --jobs on each "
                                     "(replaces host)", url=True)
    api_key_env: str | None = key(None, "openai backend: the environment variable that holds the API key "
                                        "(never the key itself)")
    timeout: float = key(120.0, "seconds to wait for one answer", low=1.0)
    embedding: str | None = key(None, "an embedding model for example_selection = \"similar\" (unset: BM25 over words)")
    options: Mapping[str, Any] = key(EMPTY_TABLE, "extra Ollama options, passed through as they are")

    @property
    def endpoints(self) -> tuple[str | None, ...]:
        """The servers to use: ``hosts``, else ``host``; None is the backend's own default."""
        return self.hosts or (self.host,)


@dataclass(frozen=True)
class TaskSettings:
    """The [task] table: how the model is asked."""

    mode: Mode = key("binary", "binary: flagged or not; multiclass: the best blocked category; "
                               "multilabel: every one that applies")
    explain: bool = key(False, "ask for a one-sentence rationale")
    examples_per_category: int = key(3, "bank examples per category in the prompt", low=0, high=64)
    example_selection: Selection = key("balanced", "fixed: bank order; balanced: as many per category; "
                                                   "similar: closest to each text (embeddings or BM25)")
    normalize: bool = key(True, "undo camouflage: invisible characters, look-alike letters")
    second_look: bool = key(True, "judge a text that addresses the moderator again without those passages")
    max_chars: int = key(6000, "texts longer than this are handled by long_text", low=100)
    long_text: LongText = key("split", "a text over max_chars: split: whole, in overlapping windows "
                                       "(a model call each); truncate: its start; error")


@dataclass(frozen=True)
class Category:
    """A category of content a profile can block, as the model sees it: a [categories.<slug>] table."""

    slug: str  # the table's name, not a key
    # A built-in category's own description and severity replace these defaults.
    description: str = key(help="one sentence saying what the category covers (required for your own)")
    blocked: bool = key(True, "false: the category is acceptable here and is not flagged")
    severity: Severity = key("medium", "how bad a finding is, for `tactful check`")
    threshold: float = key(0.5, "the probability at or above which the category counts "
                                "(`tactful calibrate` fits it)", low=0.0, high=1.0)
    builtin: bool = True


@dataclass(frozen=True)
class ServeSettings:
    """The [serve] table: the names `tactful serve` answers to, over the built-in tables below.

    Read at load, where the profile's slugs are known: each value must be one of them, each
    attribute a name in capitals (``ATTRIBUTE_NAME``), each OpenAI category one of
    ``OPENAI_DEFAULTS``. --attribute on the command line goes over ``attributes``.
    """

    attributes: Mapping[str, str] = key(EMPTY_TABLE, "Perspective attribute = category slug: adds a name "
                                                     "or replaces the built-in one")
    openai: Mapping[str, str] = key(EMPTY_TABLE, "OpenAI moderation category = category slug: replaces "
                                                 "the built-in mapping")


# ---------------------------------------------------------------- the names `tactful serve` answers to
# Each name maps to the first of its candidate slugs the profile has (docs/server.md
# prints these tables); [serve] in the profile replaces a name's mapping.

# A Perspective attribute: capitals, digits and underscores (a category's slug in
# capitals, ``OFF_TOPIC_POLITICS``, is one too).
ATTRIBUTE_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


def attribute_name(slug: str) -> str:
    """A category's Perspective-style name: ``off-topic-politics`` -> ``OFF_TOPIC_POLITICS``."""
    return slug.upper().replace("-", "_")


PERSPECTIVE_DEFAULTS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "TOXICITY": ("toxicity",),
    # tactful grades no severity: the same probability, to be held to a higher threshold.
    "SEVERE_TOXICITY": ("toxicity",),
    "IDENTITY_ATTACK": ("hate",),
    "INSULT": ("toxicity", "harassment"),
    "PROFANITY": ("profanity",),
    "OBSCENE": ("profanity",),
    "THREAT": ("threat",),
    "SEXUALLY_EXPLICIT": ("sexual",),
    "ATTACK_ON_COMMENTER": ("harassment", "toxicity"),
    "SPAM": ("spam",),
})
# Every category OpenAI's moderation result carries, in its order; those with no
# candidate the profile scores are answered false with score 0 (docs/server.md lists them).
OPENAI_DEFAULTS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "harassment": ("harassment", "toxicity"),
    "harassment/threatening": ("threat",),
    "hate": ("hate",),
    "hate/threatening": (),
    "illicit": (),
    "illicit/violent": (),
    "self-harm": ("self-harm",),
    "self-harm/intent": ("self-harm",),
    "self-harm/instructions": ("self-harm",),
    "sexual": ("sexual",),
    "sexual/minors": (),
    "violence": ("threat",),
    "violence/graphic": (),
})


VERSION = Field("", "version", "int", None, "the profile format; this tactful reads version 1 (required)")
TOP: tuple[Field, ...] = (
    VERSION,
    Field("", "name", "str", None, "shown in output records; default: the profile file's name", optional=True),
    Field("", "examples", "str", None, "the example bank (JSONL), relative to the profile", optional=True),
    Field("", "tests", "str", None, "policy tests (JSONL) that `tactful eval` runs, relative to the profile", optional=True),
    Field("", "model", "table", EMPTY_TABLE, "which model classifies, and how to reach it"),
    Field("", "task", "table", EMPTY_TABLE, "how the model is asked"),
    Field("", "categories", "table", EMPTY_TABLE, "one table per category: [categories.<slug>]"),
    Field("", "check", "table", EMPTY_TABLE, "settings of `tactful check`"),
    Field("", "calibration", "table", EMPTY_TABLE, "written by `tactful calibrate`: what the thresholds were fitted for"),
    Field("", "serve", "table", EMPTY_TABLE, "`tactful serve`: the API names that answer with each category"),
)

MODEL = fields_of(ModelSettings, "model")
TASK = fields_of(TaskSettings, "task")
CATEGORY = fields_of(Category, CATEGORY_SECTION)
SERVE = fields_of(ServeSettings, "serve")

CHECK: tuple[Field, ...] = (
    Field("check", "fail_level", "str", "low", "`tactful check` fails on blocked findings of this severity or higher", SEVERITIES),
    Field("check", "types", "table", EMPTY_TABLE, "glob = file type (markdown or text), the first match wins", CHECK_TYPES),
)

# Written by `tactful calibrate`, read to warn when the thresholds no longer fit.
CALIBRATION: tuple[Field, ...] = (
    Field("calibration", "model", "str", None, "the model the thresholds were fitted for", optional=True),
    Field("calibration", "prompt", "str", None, "the prompt fingerprint they were fitted for", optional=True),
    Field("calibration", "mode", "str", None, "the task mode they were fitted in (binary, multiclass or multilabel)", optional=True),
    Field("calibration", "items", "int", None, "how many labelled texts were scored", optional=True),
    Field("calibration", "fitted", "str", None, "when (UTC, ISO 8601)", optional=True),
    Field("calibration", "quality", "table", EMPTY_TABLE, "per category: the quality reached on those texts"),
)

SECTIONS: dict[str, tuple[Field, ...]] = {
    "": TOP, "model": MODEL, "task": TASK, CATEGORY_SECTION: CATEGORY, "check": CHECK,
    "calibration": CALIBRATION, "serve": SERVE,
}


def names(fields: Sequence[Field]) -> list[str]:
    return [f.name for f in fields]


def field_named(fields: Sequence[Field], name: str) -> Field:
    return next(f for f in fields if f.name == name)


def default_of(fields: Sequence[Field], name: str) -> Any:
    """A field's default: what a profile that leaves the key out reads."""
    return field_named(fields, name).default


def section_of(keys: Sequence[str]) -> str:
    """The section whose fields the table at ``keys`` holds: [task] is "task", and
    [categories.spam] is CATEGORY_SECTION, as every category takes the same keys."""
    return CATEGORY_SECTION if len(keys) == 2 and keys[0] == "categories" else ".".join(keys)


def find_field(keys: Sequence[str]) -> tuple[Field, int] | None:
    """The field a dotted key names, and how many of ``keys`` name it.

    An entry of a table field (``model.options.num_ctx``) finds the table (with fewer
    keys used than given); a key no table knows finds None.
    """
    for used in range(1, len(keys) + 1):
        fields = SECTIONS.get(section_of(keys[: used - 1]), ())
        match = next((f for f in fields if f.name == keys[used - 1]), None)
        # A top-level table is a section, with fields of its own: look further in.
        if match is not None and (used == len(keys) or (match.kind == "table" and match.section)):
            return match, used
    return None
