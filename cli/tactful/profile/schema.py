"""The profile's keys, stated once: name, type, default, allowed values and a line of help.

Reading (``profile.load``), `tactful profile set` (``profile.edit``) and `tactful profile
show` all work from these tables, so a new key is one ``Field`` here (plus its attribute
on ``ModelSettings`` or ``TaskSettings``, and a line in prompts/profile_template.toml;
tests/profile/test_schema.py fails until all three agree).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

Kind = Literal["str", "bool", "int", "float", "table", "list"]  # list: of strings

SEVERITIES = ("low", "medium", "high")
MODES = ("binary", "multiclass", "multilabel")
SELECTIONS = ("fixed", "balanced", "similar")
BACKENDS = ("ollama", "embedded", "openai")
LONG_TEXT = ("truncate", "split", "error")
CHECK_TYPES = ("markdown", "text")
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
)

MODEL: tuple[Field, ...] = (
    Field("model", "backend", "str", "ollama", "ollama: an Ollama server; embedded: a GGUF file in process; openai: an OpenAI-compatible server", BACKENDS),
    Field("model", "name", "str", DEFAULT_MODEL, "an Ollama model name, or a GGUF path or fetched name for the embedded backend"),
    Field("model", "host", "str", None, "the server's URL; Ollama: $OLLAMA_HOST, else localhost:11434; openai: required (http://HOST:PORT/v1)", optional=True, url=True),
    Field("model", "hosts", "list", (), "several servers of one backend and model: requests spread, --jobs on each (replaces host)", url=True),
    Field("model", "api_key_env", "str", None, "openai backend: the environment variable that holds the API key (never the key itself)", optional=True),
    Field("model", "timeout", "float", 120.0, "seconds to wait for one answer", low=1.0),
    Field("model", "embedding", "str", None, "an embedding model for example_selection = \"similar\" (unset: BM25 over words)", optional=True),
    Field("model", "options", "table", EMPTY_TABLE, "extra Ollama options, passed through as they are"),
)

TASK: tuple[Field, ...] = (
    Field("task", "mode", "str", "binary", "binary: flagged or not; multiclass: the best blocked category; multilabel: every one that applies", MODES),
    Field("task", "explain", "bool", False, "ask for a one-sentence rationale"),
    Field("task", "examples_per_category", "int", 3, "bank examples per category in the prompt", low=0, high=64),
    Field("task", "example_selection", "str", "balanced", "fixed: bank order; balanced: as many per category; similar: closest to each text (embeddings or BM25)", SELECTIONS),
    Field("task", "normalize", "bool", True, "undo camouflage: invisible characters, look-alike letters"),
    Field("task", "second_look", "bool", True, "judge a text that addresses the moderator again without those passages"),
    Field("task", "max_chars", "int", 6000, "texts longer than this are handled by long_text", low=100),
    Field("task", "long_text", "str", "split", "a text over max_chars: split: whole, in overlapping windows (a model call each); truncate: its start; error", LONG_TEXT),
)

# A built-in category's own description and severity replace these defaults.
CATEGORY: tuple[Field, ...] = (
    Field(CATEGORY_SECTION, "description", "str", None, "one sentence saying what the category covers (required for your own)", optional=True),
    Field(CATEGORY_SECTION, "blocked", "bool", True, "false: the category is acceptable here and is not flagged"),
    Field(CATEGORY_SECTION, "severity", "str", "medium", "how bad a finding is, for `tactful check`", SEVERITIES),
    Field(CATEGORY_SECTION, "threshold", "float", 0.5, "the probability at or above which the category counts (`tactful calibrate` fits it)", low=0.0, high=1.0),
)

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
    "calibration": CALIBRATION,
}


def names(fields: Sequence[Field]) -> list[str]:
    return [f.name for f in fields]


def field_named(fields: Sequence[Field], name: str) -> Field:
    return next(f for f in fields if f.name == name)


def default_of(fields: Sequence[Field], name: str) -> Any:
    """A field's default, as the default of the settings class attribute that holds it.

    A table's is a fresh dict for each instance (a dataclass may not share a mutable one).
    """
    f = field_named(fields, name)
    return dataclasses.field(default_factory=dict) if f.kind == "table" else f.default


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
