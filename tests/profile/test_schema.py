"""The profile schema is the one statement of the profile's keys: reading, `profile set`,
`profile show` and the template all follow it, and the settings classes are part of it."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tactful.errors import ConfigError, UsageError
from tactful.profile.categories import Category
from tactful.profile.edit import coerce_value, edit_profile, set_key, template_text
from tactful.profile.load import (
    ModelSettings,
    ServeSettings,
    TaskSettings,
    default_profile,
    locate_profile,
    parse_profile,
)
from tactful.profile.schema import (
    BACKENDS,
    CATEGORY,
    CHECK,
    CHECK_TYPES,
    EMPTY_TABLE,
    LONG_TEXT,
    MODEL,
    MODES,
    SECTIONS,
    TASK,
    TOP,
    CheckType,
    Field,
    Mode,
    field_named,
    fields_of,
    find_field,
    key,
    names,
    section_of,
)

MINIMAL = 'version = 1\n[categories.off-topic]\ndescription = "Posts about something else."\n'

# A table header, set or commented out: [model], # [categories.off-topic-politics].
_HEADER = re.compile(r"^#?\s*\[([\w.-]+)\]\s*(?:#.*)?$")
# A key, set or commented out: `mode = "binary"`, `# host = "http://..."`.
_KEY = re.compile(r"^#?\s*([A-Za-z_]\w*)\s*=")


def _header_mentions(parts: list[str]) -> Iterator[tuple[str, str]]:
    yield "", parts[0]
    parent = section_of(parts[:-1])
    if len(parts) > 1 and parent in SECTIONS:  # [check.types] is check's key `types`
        yield parent, parts[-1]


def template_mentions() -> dict[str, set[str]]:
    """The keys the template sets or shows in a comment, by schema section."""
    mentions: dict[str, set[str]] = defaultdict(set)
    section = ""
    for line in template_text().splitlines():
        header = _HEADER.match(line)
        if header:
            parts = header.group(1).split(".")
            for parent, key in _header_mentions(parts):
                mentions[parent].add(key)
            section = section_of(parts)
            continue
        key = _KEY.match(line)
        if key and section in SECTIONS:  # not the entries of a table such as [check.types]
            mentions[section].add(key.group(1))
    return mentions


@pytest.mark.parametrize("section", list(SECTIONS))
def test_the_template_documents_every_key_of_the_schema_and_no_other(section):
    mentioned, known = template_mentions()[section], set(names(SECTIONS[section]))
    assert known - mentioned == set(), f"keys of [{section}] the template does not explain"
    assert mentioned - known == set(), f"keys in the template's [{section}] the schema does not know"


def test_the_template_starts_from_the_built_in_default_categories():
    template = parse_profile(template_text(), None)
    default = default_profile()
    assert [(c.slug, c.blocked) for c in template.categories] == [(c.slug, c.blocked) for c in default.categories]
    assert template.model == default.model and template.task == default.task


@dataclass(frozen=True)
class _Sample:
    """Every kind of key a settings class can declare, and an attribute that is no key."""

    required: str = key(help="filled in by whoever builds the class")
    choice: Mode = key("binary", "a choice")
    unset: str | None = key(None, "may be left out", url=True)
    number: float = key(0.5, "a bounded number", low=0.0, high=1.0)
    count: int = key(3, "a whole number")
    flag: bool = key(True, "a switch")
    servers: tuple[str, ...] = key((), "a list of strings")
    anything: Mapping[str, Any] = key(EMPTY_TABLE, "a table")
    kinds: Mapping[str, CheckType] = key(EMPTY_TABLE, "a table whose entries are choices")
    not_a_key: int = 0


def test_a_settings_class_declares_its_keys_and_the_table_is_derived():
    fields = {f.name: f for f in fields_of(_Sample, "sample")}
    assert list(fields) == ["required", "choice", "unset", "number", "count", "flag", "servers", "anything", "kinds"]
    assert fields["choice"] == Field("sample", "choice", "str", "binary", "a choice", MODES)
    assert fields["unset"] == Field("sample", "unset", "str", None, "may be left out", optional=True, url=True)
    assert (fields["required"].default, fields["required"].optional) == (None, True)
    assert (fields["number"].kind, fields["number"].low, fields["number"].high) == ("float", 0.0, 1.0)
    assert [fields[name].kind for name in ("count", "flag", "servers", "anything")] == ["int", "bool", "list", "table"]
    assert (fields["anything"].default, fields["anything"].choices) == (EMPTY_TABLE, None)
    assert fields["kinds"].choices == CHECK_TYPES
    sample = _Sample(required="set")
    assert sample.anything == {} and sample.anything is not _Sample(required="set").anything  # one dict each


def test_a_key_of_a_type_no_profile_holds_is_refused_when_declared():
    @dataclass(frozen=True)
    class Wrong:
        numbers: list[int] = key((), "TOML arrays of strings only")

    with pytest.raises(TypeError, match="a profile key cannot be of type list"):
        fields_of(Wrong, "wrong")


def test_the_settings_classes_are_the_declaration_of_their_sections():
    for cls, fields in ((ModelSettings, MODEL), (TaskSettings, TASK), (Category, CATEGORY)):
        assert fields == fields_of(cls, fields[0].section)
    assert field_named(MODEL, "backend").choices == BACKENDS and field_named(TASK, "long_text").choices == LONG_TEXT


def test_a_profile_without_settings_gets_the_schema_defaults():
    profile = parse_profile(MINIMAL, None)
    for settings, fields in ((profile.model, MODEL), (profile.task, TASK), (profile.categories[0], CATEGORY[1:])):
        for f in fields:
            expected = dict(f.default) if f.kind == "table" else f.default
            assert getattr(settings, f.name) == expected, f.key
    assert profile.fail_level == CHECK[0].default and profile.check_types == ()
    assert (profile.model, profile.task, profile.serve) == (ModelSettings(), TaskSettings(), ServeSettings())


def _all_fields() -> list[Field]:
    return [f for fields in SECTIONS.values() for f in fields]


@pytest.mark.parametrize("field", _all_fields(), ids=lambda f: f.key)
def test_each_field_is_consistent_and_explained(field):
    assert field.help and "\n" not in field.help and len(field.help) < 110
    if field.optional:
        assert field.default is None
    if field.choices is not None and field.kind != "table":
        assert field.default in field.choices
    if field.low is not None and field.default is not None:
        assert field.default >= field.low
    if field.high is not None and field.default is not None:
        assert field.default <= field.high


_SAMPLES = {"bool": ("yes", True), "int": ("7", 7), "float": ("0.25", 0.25), "str": ("x", "x"),
            "list": ("http://a:11434, http://b:11434", ["http://a:11434", "http://b:11434"])}


@pytest.mark.parametrize("field", [f for f in _all_fields() if f.kind != "table"], ids=lambda f: f.key)
def test_profile_set_reads_each_value_as_the_schema_says(field):
    keys = field.key.replace("<slug>", "spam").split(".")
    raw, value = _SAMPLES[field.kind]
    assert coerce_value(keys, raw) == value and type(coerce_value(keys, raw)) is type(value)


@pytest.mark.parametrize(
    ("key", "raw", "value"),
    [
        ("model.options.num_ctx", "8192", 8192),
        ("model.options.stop", "END", "END"),
        ("check.types.docs", "markdown", "markdown"),
        ("model.options", "{ num_ctx = 1 }", {"num_ctx": 1}),
        ("task.nope", "3", "3"),  # unknown: left for validation to refuse, with a hint
    ],
)
def test_profile_set_reads_table_entries_and_unknown_keys(key, raw, value):
    assert coerce_value(key.split("."), raw) == value


def test_profile_set_names_the_type_a_key_takes():
    with pytest.raises(UsageError, match=r"model\.timeout takes a number, not 'soon'"):
        coerce_value(["model", "timeout"], "soon")
    with pytest.raises(UsageError, match=r"categories\.spam\.blocked takes true or false, not 'maybe'"):
        coerce_value(["categories", "spam", "blocked"], "maybe")


def test_find_field_follows_sections_and_tables():
    assert find_field(["task", "mode"]) == (TASK[0], 2)
    assert find_field(["categories", "hate", "threshold"]) == (CATEGORY[3], 3)
    assert find_field(["model", "options", "num_ctx"]) == (field_named(MODEL, "options"), 2)
    assert find_field(["version"]) == (TOP[0], 1)
    assert find_field(["task", "mode", "deeper"]) is None
    assert find_field(["categories", "hate"]) is None


def test_an_unknown_key_set_is_refused_with_a_hint_from_the_schema(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(MINIMAL)
    with pytest.raises(ConfigError, match=r"unknown key 'model.embeding' \(did you mean 'embedding'\?\); the profile was not changed"):
        edit_profile(path, set_key("model.embeding", "nomic-embed-text"))
    assert path.read_text() == MINIMAL


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[task]\nexamples_per_category = 65\n", "'task.examples_per_category' must be between 0 and 64, not 65"),
        ("[task]\nmax_chars = 10\n", "'task.max_chars' must be at least 100, not 10"),
        ('[task]\nmax_chars = "x"\n', "'task.max_chars' must be a number, not str 'x'"),
        ("[task]\nsecond_loook = true\n", "unknown key 'task.second_loook' (did you mean 'second_look'?)"),
        ('[model]\nbackend = "olama"\n', "'model.backend' must be one of ollama, embedded, openai, not 'olama' (did you mean 'ollama'?)"),
        ('[model]\noptions = "big"\n', "'model.options' must be a table, not str 'big'"),
        ('[check]\nfail_level = "severe"\n', "'check.fail_level' must be one of low, medium, high, not 'severe'"),
        ('[check.types]\n"*.txt" = "rst"\n', "'check.types.*.txt' must be one of markdown, text, not 'rst'"),
        ("name = 3\n", "'name' must be a string, not int 3"),
        ('[serve.attributes]\nTOXICITY = "toxicity"\n', "'serve.attributes.TOXICITY' must be one of off-topic, not 'toxicity'"),
        ('[serve.attributes]\ntoxicity = "off-topic"\n',
         "'serve.attributes.toxicity' is not a Perspective attribute name: capitals, digits and underscores (did you mean 'TOXICITY'?)"),
        ("[serve.attributes]\nOFF_TOPIC = 3\n", "'serve.attributes.OFF_TOPIC' must be a string, not int 3"),
        ('[serve.openai]\nharasment = "off-topic"\n', "unknown key 'serve.openai.harasment' (did you mean 'harassment'?)"),
        ('[serve]\nattribute = {}\n', "unknown key 'serve.attribute' (did you mean 'attributes'?)"),
    ],
)
def test_the_schema_drives_validation(body, message):
    # Top-level keys go before the first table; the rest are tables of their own.
    text = MINIMAL.replace("version = 1\n", f"version = 1\n{body}") if "[" not in body else MINIMAL + body
    with pytest.raises(ConfigError) as raised:
        parse_profile(text, Path("p.toml"))
    assert raised.value.message.startswith("p.toml:") and message in raised.value.message  # with the line, where found


def test_a_serve_table_maps_names_to_the_profiles_categories_and_a_bad_entry_names_its_line():
    served = MINIMAL + '[serve.attributes]\nOFF_TOPIC = "off-topic"\n[serve.openai]\n"harassment/threatening" = "off-topic"\n'
    assert parse_profile(served, None).serve == ServeSettings(attributes={"OFF_TOPIC": "off-topic"},
                                                              openai={"harassment/threatening": "off-topic"})
    with pytest.raises(ConfigError) as raised:
        parse_profile(served.replace('"harassment/threatening" = "off-topic"', '"harassment/threatening" = "threat"'), Path("p.toml"))
    assert raised.value.message == ("p.toml:7: 'serve.openai.harassment/threatening' must be one of off-topic, not 'threat'")


def test_the_version_is_a_whole_number():
    with pytest.raises(ConfigError, match=r"'version' must be a whole number, not float 1\.0"):
        parse_profile(MINIMAL.replace("version = 1", "version = 1.0"), None)


def test_a_bounded_whole_number_may_be_written_as_a_float():
    profile = parse_profile(MINIMAL + "[task]\nexamples_per_category = 2.0\n", None)
    assert profile.task.examples_per_category == 2 and type(profile.task.examples_per_category) is int


def test_built_in_category_defaults_come_from_its_definition():
    profile = parse_profile("version = 1\n[categories.hate]\n[categories.negative-sentiment]\nseverity = \"high\"\n", None)
    hate, negative = profile.categories
    assert (hate.severity, hate.blocked, hate.builtin) == ("high", True, True)
    assert negative.severity == "high"


def test_env_profile_is_where_init_writes_and_where_reading_looks(cli, tmp_path, monkeypatch):
    target = tmp_path / "from-env.toml"
    monkeypatch.setenv("TACTFUL_PROFILE", str(target))
    assert locate_profile().path == target
    run = cli("profile", "init")
    assert run.code == 0, run.stderr
    assert f"wrote {target}" in run.stdout and target.read_text() == template_text()
