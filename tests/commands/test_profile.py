"""`tactful profile ...` through the CLI: init, show, path, edits that keep comments, validate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tactful.profile.load import parse_profile

from tests.conftest import ROOT

HAND_WRITTEN = """\
# Moderation profile for the gardening forum.
version = 1
name = "garden"   # shows up in output

[model]
name = "qwen2.5:3b"
# host = "http://gpu-box:11434"

[task]
mode = "multilabel"  # we want every label

# Insults are out.
[categories.toxicity]
blocked = true  # always

# Ads are out too.
[categories.spam]
blocked = true

# Rants about slugs are fine.
[categories.negative-sentiment]
blocked = false
"""


@pytest.fixture
def garden(tmp_path: Path) -> Path:
    path = tmp_path / "work" / "tactful.toml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    return path


def with_bank(profile: Path, lines: str) -> Path:
    """Give the profile an example bank holding ``lines``."""
    bank = profile.with_name("tactful.examples.jsonl")
    bank.write_text(lines)
    profile.write_text(profile.read_text().replace("version = 1\n", 'version = 1\nexamples = "tactful.examples.jsonl"\n'))
    return bank


def user_profile() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "tactful" / "profile.toml"


def test_init_writes_a_commented_valid_template_and_refuses_to_overwrite(cli):
    run = cli("profile", "init")
    assert run.code == 0, run.stderr
    path = user_profile()
    assert f"wrote {path}" in run.stdout
    text = path.read_text()
    assert text.count("\n#") > 20  # every section is explained
    for section in ("[model]", "[task]", "[categories.toxicity]", "[check]"):
        assert section in text
    assert cli("profile", "validate").stdout.startswith(f"ok: {path}: 4 categories (3 blocked), 0 examples")

    path.write_text(text + "# mine\n")
    again = cli("profile", "init")
    assert again.code == 2
    assert again.stderr == f"tactful: error: {path} already exists; add --force to overwrite it\n"
    assert path.read_text().endswith("# mine\n")
    assert cli("profile", "init", "--force").code == 0
    assert path.read_text() == text


def test_init_at_a_path_and_path_finds_it(cli, tmp_path):
    assert cli("profile", "path").stdout.strip() == str(user_profile())
    assert "tactful profile init" in cli("profile", "path").stderr
    assert cli("profile", "init", "tactful.toml").code == 0
    run = cli("profile", "path")
    assert run.stdout.strip() == str(tmp_path / "work" / "tactful.toml")
    assert run.stderr == ""


def test_edits_keep_every_comment_and_the_layout(cli, garden):
    steps = [
        ("block", "negative-sentiment"),
        ("unblock", "spam"),
        ("add", "pesticide-talk", "--description", "Advice to use  chemical pesticides.", "--severity", "low"),
        ("remove", "spam"),
        ("set", "task.examples_per_category", "2"),
        ("set", "model.name", "llama3.1:8b"),
    ]
    for step in steps:
        run = cli("profile", *step)
        assert run.code == 0, (step, run.stderr)
    assert garden.read_text() == """\
# Moderation profile for the gardening forum.
version = 1
name = "garden"   # shows up in output

[model]
name = "llama3.1:8b"
# host = "http://gpu-box:11434"

[task]
mode = "multilabel"  # we want every label
examples_per_category = 2

# Insults are out.
[categories.toxicity]
blocked = true  # always

# Rants about slugs are fine.
[categories.negative-sentiment]
blocked = true

[categories.pesticide-talk]
description = "Advice to use chemical pesticides."
blocked = true
severity = "low"
"""
    profile = parse_profile(garden.read_text(), garden)
    assert profile.task.examples_per_category == 2
    assert [c.slug for c in profile.blocked] == ["negative-sentiment", "pesticide-talk", "toxicity"]


def test_edit_messages_name_the_file(cli, garden):
    run = cli("profile", "block", "hate", "spam")
    assert run.stdout == f"blocked hate, spam in {garden}\n"
    assert "[categories.hate]\nblocked = true\n" in garden.read_text()  # a built-in needs no description


def test_unknown_slug_lists_valid_ones_with_a_hint(cli, garden):
    run = cli("profile", "block", "spma")
    assert run.code == 2
    assert run.stderr.startswith("tactful: error: unknown category 'spma' (did you mean 'spam'?); valid: toxicity, spam, negative-sentiment, hate,")
    assert run.stderr.count("\n") == 1
    removed = cli("profile", "remove", "hate")
    assert removed.code == 2 and "valid: toxicity, spam, negative-sentiment (a new one" in removed.stderr
    assert garden.read_text() == HAND_WRITTEN


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("set", "task.mode", "fancy"), "'task.mode' must be one of binary, multiclass, multilabel, not 'fancy'; the profile was not changed"),
        (("set", "task.mod", "binary"), "unknown key 'task.mod' (did you mean 'mode'?); the profile was not changed"),
        (("set", "task.explain", "maybe"), "task.explain takes true or false, not 'maybe'"),
        (("set", "task.examples_per_category", "many"), "task.examples_per_category takes a whole number, not 'many'"),
        (("remove", "toxicity"), None),
        (("add", "Bad_Slug", "-d", "x"), "'Bad_Slug' is not a valid category slug"),
        (("add", "gardening", "--no-blocked"), "'gardening' is not a built-in category: give it a one-sentence --description"),
        (("add", "spam"), "'spam' is already in the profile"),
    ],
)
def test_invalid_changes_are_refused_with_the_reason(cli, tmp_path, args, message):
    path = tmp_path / "work" / "tactful.toml"
    path.write_text("version = 1\n[categories.toxicity]\n\n[categories.spam]\n")
    if args[0] == "remove":  # removing the last category would leave an empty profile
        assert cli("profile", "remove", "spam").code == 0
        message = "the profile names no categories (add a [categories.<slug>] table); the profile was not changed"
    before = path.read_text()
    run = cli("profile", *args)
    assert run.code == 2
    assert run.stderr.startswith("tactful: error: ") and message in run.stderr
    assert path.read_text() == before


def test_a_failed_save_leaves_the_old_file(cli, garden, monkeypatch):
    def broken_replace(src, dst):  # the disk fills up at the worst moment
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    run = cli("profile", "block", "hate")
    assert run.code == 5  # a full disk: EXIT_IO
    assert run.stderr == f"tactful: error: {garden}: cannot write, the file was left as it was: No space left on device\n"
    assert garden.read_text() == HAND_WRITTEN
    assert sorted(p.name for p in garden.parent.iterdir()) == ["tactful.toml"]  # no temporary left behind


def test_concurrent_edits_do_not_lose_each_other(garden):
    slugs = [f"topic-{n}" for n in range(3)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "cli")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tactful", "profile", "add", slug, "-d", f"Posts about {slug}."],
            cwd=garden.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for slug in slugs
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    profile = parse_profile(garden.read_text(), garden)
    assert set(slugs) <= set(profile.slugs)
    assert garden.read_text().startswith(HAND_WRITTEN.split("[categories.toxicity]")[0])


def test_edit_without_a_profile_says_how_to_create_one(cli):
    run = cli("profile", "block", "hate")
    assert run.code == 2
    assert run.stderr == f"tactful: error: {user_profile()}: no profile here yet; create it with `tactful profile init {user_profile()}`\n"


def test_show_lists_categories_model_task_and_example_counts(cli, garden):
    assert f"examples  none yet (`tactful examples add` starts {garden.with_name('tactful.examples.jsonl')})" in cli("profile", "show").stdout
    with_bank(garden, '{"id": "a", "text": "buy now", "labels": ["spam"]}\n{"id": "b", "text": "hi", "labels": []}\n')
    run = cli("profile", "show")
    assert run.code == 0, run.stderr
    out = run.stdout
    assert f"garden: {garden}" in out and "(project)" in out
    assert "ollama qwen2.5:3b" in out and "mode multilabel" in out
    assert "examples  2 in" in out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.startswith("│ ") and line.split("│")[1].strip()}
    assert rows["spam"].split("│")[2].strip() == "yes" and rows["spam"].split("│")[5].strip() == "1"
    assert rows["negative-sentiment"].split("│")[2].strip() == "no"
    assert rows["(acceptable)"].split("│")[5].strip() == "1"


def test_show_without_a_profile_shows_the_built_in_default(cli):
    run = cli("profile", "show")
    assert run.code == 0
    assert "built-in default" in run.stdout and "toxicity" in run.stdout


def test_validate_names_bad_bank_lines(cli, garden):
    bank = with_bank(garden, '{"text": "ok", "labels": ["spam"]}\n{"text": "x", "labels": ["spma"]}\nnot json\n')
    run = cli("profile", "validate")
    assert run.code == 2
    lines = run.stderr.splitlines()
    assert lines[0].startswith(f"tactful: error: {bank}:2: unknown category 'spma' (did you mean 'spam'?)")
    assert lines[1].startswith(f"tactful: error: {bank}:3: invalid JSON") and lines[1].endswith("(2 problems in all)")


def test_validate_reports_an_invalid_profile_with_its_file(cli, garden):
    garden.write_text(HAND_WRITTEN.replace('mode = "multilabel"', 'mode = "multi"'))
    run = cli("profile", "validate")
    assert run.code == 2
    line = next(n for n, text in enumerate(garden.read_text().splitlines(), 1) if text.startswith('mode ='))
    assert run.stderr == f"tactful: error: {garden}:{line}: 'task.mode' must be one of binary, multiclass, multilabel, not 'multi' (did you mean 'multilabel'?)\n"


def test_removing_a_category_warns_about_its_examples(cli, garden):
    bank = with_bank(garden, '{"id": "a", "text": "buy now", "labels": ["spam"]}\n')
    run = cli("profile", "remove", "spam")
    assert run.code == 0
    assert run.stderr == (
        f"tactful: warning: 1 example(s) in {bank} are labelled spam; "
        "classify leaves them out until you remove them or add spam back\n"
    )


def test_set_reads_values_as_the_key_expects(cli, garden):
    for key, value in [("model.options.num_ctx", "8192"), ("model.timeout", "30"), ("categories.spam.threshold", "0.8"),
                       ("task.explain", "yes"), ("model.host", "http://gpu-box:11434")]:
        assert cli("profile", "set", key, value).code == 0
    profile = parse_profile(garden.read_text(), garden)
    assert profile.model.options == {"num_ctx": 8192}
    assert (profile.model.timeout, profile.model.host, profile.task.explain) == (30.0, "http://gpu-box:11434", True)
    assert profile.category("spam").threshold == 0.8
    assert garden.read_text().startswith(HAND_WRITTEN.split("# host")[0].replace(
        'name = "qwen2.5:3b"\n',
        'name = "qwen2.5:3b"\ntimeout = 30.0\nhost = "http://gpu-box:11434"\n# host = "http://gpu-box:11434"\n\n'
        "[model.options]\nnum_ctx = 8192\n\n[task]\n",
    ))


def test_a_profile_that_is_not_toml_is_named_with_its_line(cli, garden):
    garden.write_text(HAND_WRITTEN.replace("[task]", "[task"))
    run = cli("profile", "block", "hate")
    assert run.code == 2
    assert run.stderr.startswith(f"tactful: error: {garden}: invalid TOML: ") and "line 9" in run.stderr
    assert run.stderr.count("\n") == 1


def test_a_negative_value_is_judged_not_taken_for_an_option(cli, tmp_path):
    profile = tmp_path / "p.toml"
    assert cli("profile", "init", "-p", profile).code == 0
    run = cli("profile", "set", "-p", profile, "task.examples_per_category", "-1")
    assert run.code == 2
    assert "'task.examples_per_category' must be between 0 and 64, not -1" in run.stderr


def test_a_slug_in_the_wrong_case_gets_a_suggestion(cli, tmp_path):
    profile = tmp_path / "p.toml"
    assert cli("profile", "init", "-p", profile).code == 0
    run = cli("profile", "block", "TOXICITY", "-p", profile)
    assert run.code == 2
    assert "unknown category 'TOXICITY' (did you mean 'toxicity'?)" in run.stderr


def test_new_files_follow_the_umask(cli, tmp_path):
    import os

    old = os.umask(0o022)
    try:
        profile = tmp_path / "p.toml"
        assert cli("profile", "init", "-p", profile).code == 0
        assert cli("examples", "add", "-p", profile, "--label", "spam", "buy now").code == 0
    finally:
        os.umask(old)
    assert oct(profile.stat().st_mode & 0o777) == oct(0o644)
    assert oct(profile.with_name("p.examples.jsonl").stat().st_mode & 0o777) == oct(0o644)


def test_init_with_two_places_refuses_rather_than_picks_one(cli, tmp_path):
    run = cli("profile", "init", "-p", tmp_path / "a.toml", tmp_path / "b.toml")
    assert run.code == 2
    assert "two places to write" in run.stderr
    assert not (tmp_path / "a.toml").exists() and not (tmp_path / "b.toml").exists()


def test_profile_show_piped_keeps_definitions_readable(cli, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    run = cli("profile", "show")
    assert run.code == 0
    line = next(text for text in run.stdout.splitlines() if "toxicity" in text and "Rude" in text)
    assert "Rude, disrespectful or hostile language" in line  # not a word a line


@pytest.mark.parametrize("value", ['["http://a:1","http://b:2"]', "[ 'http://a:1', 'http://b:2' ]", "http://a:1, http://b:2"])
def test_set_a_list_takes_a_toml_array_or_commas(cli, garden, value):
    run = cli("profile", "set", "model.hosts", value)
    assert run.code == 0, run.stderr
    assert 'hosts = ["http://a:1", "http://b:2"]\n' in garden.read_text()
    assert parse_profile(garden.read_text(), garden).model.hosts == ("http://a:1", "http://b:2")
    assert 'hosts ["http://a:1", "http://b:2"]' in cli("profile", "show").stdout
    assert cli("profile", "validate").code == 0


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("model.hosts", '["http://a:1","htp://b:2"]',
         "'model.hosts' element 2 ('htp://b:2') is not a server URL: the scheme must be http or https, not 'htp'; "
         "the profile was not changed"),
        ("model.hosts", "http://a:1,http://b:99999",
         "'model.hosts' element 2 ('http://b:99999') is not a server URL: the port must be a number from 1 to 65535"),
        ("model.hosts", '["http://a:1", 2]', "'model.hosts' must be a list of non-empty strings, not ['http://a:1', 2]"),
        ("model.hosts", '["http://a:1"', "model.hosts takes a TOML array such as [\"a\", \"b\"] or values separated by "
         "commas, not '[\"http://a:1\"'"),
        ("model.host", "http://gpu box:1", "'model.host' ('http://gpu box:1') is not a server URL: it contains whitespace"),
    ],
)
def test_set_refuses_a_bad_host_and_leaves_the_file(cli, garden, key, value, message):
    run = cli("profile", "set", key, value)
    assert run.code == 2
    assert run.stderr.startswith("tactful: error: ") and message in run.stderr and run.stderr.count("\n") == 1
    assert garden.read_text() == HAND_WRITTEN


def test_show_says_when_no_hosts_are_set(cli, garden):
    assert "hosts not set" in cli("profile", "show").stdout


def test_show_lists_the_serve_table_only_where_the_profile_has_one(cli, garden):
    assert "serve " not in cli("profile", "show").stdout
    assert cli("profile", "set", "serve.attributes.HOSTILE", "toxicity").code == 0
    assert 'serve     attributes { HOSTILE = "toxicity" }, openai not set' in cli("profile", "show").stdout
    refused = cli("profile", "set", "serve.attributes.HOSTILE", "hostility")
    assert refused.code == 2 and "'serve.attributes.HOSTILE' must be one of negative-sentiment, spam, toxicity, not 'hostility'" in refused.stderr
