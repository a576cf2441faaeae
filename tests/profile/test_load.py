"""Profile discovery and validation, through the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, write_profile


def test_sample_profile_is_valid_and_used(cli, ollama_args, fake_ollama):
    run = cli("classify", *ollama_args, "-p", SAMPLES / "profile.toml", input="the election is rigged by that senator\n")
    assert run.code == 0, run.stderr
    moderation = run.records[0]["moderation"]
    assert moderation["profile"] == "sample-community"
    assert moderation["labels"] == ["off-topic-politics"]
    system = fake_ollama.chat_requests()[0]["messages"][0]["content"]
    assert "off-topic-politics: Posts about party politics" in system
    assert "negative-sentiment" in system.split("Acceptable categories")[1]


def test_project_profile_found_in_parent_directory(cli, ollama_args, tmp_path, monkeypatch, fake_ollama):
    root = tmp_path / "repo"
    (root / "docs" / "deep").mkdir(parents=True)
    write_profile(root / ".tactful.toml", 'version = 1\nname = "repo"\n[categories.spam]\nblocked = true\n')
    monkeypatch.chdir(root / "docs" / "deep")
    run = cli("classify", *ollama_args, input="hello\n")
    assert run.records[0]["moderation"]["profile"] == "repo"


def test_env_profile_beats_project_file(cli, ollama_args, tmp_path):
    write_profile(Path("tactful.toml"), 'version = 1\nname = "project"\n[categories.spam]\n')
    env_profile = write_profile(tmp_path / "env.toml", 'version = 1\nname = "from-env"\n[categories.spam]\n')
    run = cli("classify", *ollama_args, input="hello\n", env={"TACTFUL_PROFILE": str(env_profile)})
    assert run.records[0]["moderation"]["profile"] == "from-env"


def test_user_profile_under_config_dir(cli, ollama_args, tmp_path):
    user = tmp_path / "config" / "tactful" / "profile.toml"
    user.parent.mkdir(parents=True)
    write_profile(user, 'version = 1\nname = "mine"\n[categories.toxicity]\n')
    run = cli("classify", *ollama_args, input="hello\n")
    assert run.records[0]["moderation"]["profile"] == "mine"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("version = 1\n[categories.spam\n", "invalid TOML"),
        ('version = 1\ncolour = "red"\n[categories.spam]\n', "unknown key 'colour'"),
        ('version = 1\n[task]\nmode = "multi"\n[categories.spam]\n', "'task.mode' must be one of binary, multiclass, multilabel, not 'multi'"),
        ('version = 1\n[task]\nexplain = "yes"\n[categories.spam]\n', "'task.explain' must be true or false, not str 'yes'"),
        ('version = 1\n[model]\ntimeout = true\n[categories.spam]\n', "'model.timeout' must be a number, not a boolean"),
        ('version = 1\n[model]\nhost = "http://gpu:99999"\n[categories.spam]\n',
         "'model.host' ('http://gpu:99999') is not a server URL: the port must be a number from 1 to 65535, not '99999'"),
        ('version = 1\n[model]\nhosts = ["http://a:1", "htp://b:2"]\n[categories.spam]\n',
         "'model.hosts' element 2 ('htp://b:2') is not a server URL: the scheme must be http or https, not 'htp'"),
        ('version = 1\n[model]\nhosts = ["http://a:1", " "]\n[categories.spam]\n', "'model.hosts' must be a list of non-empty strings"),
        ('version = 1\n[categories.toxicty]\nblocked = true\n', "unknown category 'toxicty' (did you mean 'toxicity'?)"),
        ('version = 1\n[categories.Bad_Slug]\ndescription = "x"\n', "not a valid slug"),
        ('version = 1\n[categories.spam]\nthreshold = 1.5\n', "'categories.spam.threshold' must be between 0.0 and 1.0"),
        ('version = 1\n[categories.spam]\nblokced = true\n', "unknown key 'categories.spam.blokced' (did you mean 'blocked'?)"),
        ("[categories.spam]\n", "missing 'version = 1'"),
        ("version = 2\n[categories.spam]\n", "unsupported profile version 2"),
        ("version = 1\n", "names no categories"),
    ],
)
def test_invalid_profiles_give_one_line_and_exit_2(cli, ollama_args, tmp_path, body, message):
    path = write_profile(tmp_path / "bad.toml", body)
    run = cli("classify", *ollama_args, "-p", path, input="hello\n")
    assert run.code == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    # The line that sets the bad key is named where there is one.
    assert re.match(rf"tactful: error: {re.escape(str(path))}(:\d+)?: ", lines[0]), lines[0]
    assert message in lines[0]


def test_a_semantic_error_names_the_line_of_its_key(cli, tmp_path):
    path = write_profile(tmp_path / "bad.toml", 'version = 1\n\n[categories.spam]\nblocked = true\nthreshold = 7\n')
    run = cli("profile", "validate", "-p", path)
    assert run.code == 2
    assert run.stderr == f"tactful: error: {path}:5: 'categories.spam.threshold' must be between 0.0 and 1.0, not 7\n"


def test_toml_syntax_error_names_the_line(cli, tmp_path):
    path = write_profile(tmp_path / "bad.toml", 'version = 1\n\n[categories.spam]\nblocked = tru\n')
    run = cli("classify", "-p", path, input="x\n")
    assert run.code == 2 and "bad.toml:4: invalid TOML: Invalid value (column 11)" in run.stderr


def test_missing_profile_file(cli, tmp_path):
    run = cli("classify", "-p", tmp_path / "none.toml", input="x\n")
    assert run.code == 2 and "profile not found" in run.stderr and "tactful profile init" in run.stderr


def test_custom_category_needs_only_a_description(cli, ollama_args, tmp_path, fake_ollama):
    path = write_profile(
        tmp_path / "p.toml",
        'version = 1\n[categories.crypto-shilling]\ndescription = "Promotion of crypto tokens."\n',
    )
    run = cli("classify", *ollama_args, "-p", path, "--mode", "multiclass", input="hi\n")
    assert run.code == 0
    assert "- crypto-shilling: Promotion of crypto tokens." in fake_ollama.chat_requests()[0]["messages"][0]["content"]
    assert set(run.records[0]["moderation"]["scores"]) == {"crypto-shilling", "none"}


def test_doctor_reports_everything(cli, ollama_args):
    run = cli("doctor", *ollama_args)
    assert run.code == 0, run.stdout
    assert "built-in default" in run.stdout
    assert "version 0.33.1" in run.stdout
    assert "model fake-model:1b" in run.stdout


def test_doctor_missing_model_and_dead_server(cli, fake_ollama):
    run = cli("doctor", "--host", fake_ollama.url, "--model", "nope:1b")
    assert run.code == 3 and "ollama pull nope:1b" in run.stdout
    run = cli("doctor", "--host", "http://127.0.0.1:9", "--model", "x")
    assert run.code == 3 and "cannot reach Ollama" in run.stdout


def test_version_and_help(cli):
    assert cli("--version").stdout.startswith("tactful ")
    helptext = cli("classify", "--help").stdout
    assert "--fail-on-flagged" in helptext and "Examples" in helptext


# ---------------------------------------------------------------- every problem, in file order

MANY_PROBLEMS = """\
version = 1
colour = "blue"

[task]
mode = "binray"
shots = 3

[categories.spam]
blocked = true
threshold = 7

[categories.rudeness]
blocked = true

[model]
nmae = "qwen"
"""


def test_validate_reports_every_problem_in_file_order_with_its_line(cli, tmp_path):
    path = write_profile(tmp_path / "p.toml", MANY_PROBLEMS)
    run = cli("profile", "validate", "-p", path)
    assert run.code == 2
    assert run.stderr.splitlines() == [
        f"tactful: error: {path}:2: unknown key 'colour'",
        f"tactful: error: {path}:5: 'task.mode' must be one of binary, multiclass, multilabel, not 'binray' (did you mean 'binary'?)",
        f"tactful: error: {path}:6: unknown key 'task.shots'",
        f"tactful: error: {path}:10: 'categories.spam.threshold' must be between 0.0 and 1.0, not 7",
        f"tactful: error: {path}:12: unknown category 'rudeness'; a custom category needs a description (categories.rudeness.description)",
        f"tactful: error: {path}:16: unknown key 'model.nmae' (did you mean 'name'?) (6 problems in all)",
    ]


def test_other_commands_name_the_first_problem_and_how_many_more(cli, ollama_args, tmp_path):
    path = write_profile(tmp_path / "p.toml", MANY_PROBLEMS)
    run = cli("classify", *ollama_args, "-p", path, input="x\n")
    assert run.code == 2
    assert run.stderr == (f"tactful: error: {path}:2: unknown key 'colour' "
                          "(and 5 more: `tactful profile validate` lists them)\n")


def test_a_key_in_an_inline_table_or_dotted_key_is_placed_on_its_line(cli, tmp_path):
    path = write_profile(tmp_path / "p.toml", 'version = 1\ntask = { mode = "x" }\ncategories.spam.blocked = "yes"\n')
    run = cli("profile", "validate", "-p", path)
    assert run.stderr.splitlines()[0].startswith(f"tactful: error: {path}:2: 'task.mode' must be one of")
    assert run.stderr.splitlines()[1].startswith(f"tactful: error: {path}:3: 'categories.spam.blocked' must be true or false")


def test_a_profile_that_blocks_nothing_is_valid_with_a_warning(cli, tmp_path):
    path = write_profile(tmp_path / "p.toml", "version = 1\n[categories.spam]\nblocked = false\n")
    run = cli("profile", "validate", "-p", path)
    assert run.code == 0
    assert not run.stdout.startswith("ok")
    assert run.stdout.startswith(f"valid, with 1 warning: {path}: 1 categories (0 blocked)")
    assert f"tactful: warning: {path}: no category is blocked, so nothing will be flagged" in run.stderr


def test_validate_checks_the_policy_tests_line_by_line(cli, tmp_path):
    path = write_profile(tmp_path / "p.toml", 'version = 1\ntests = "policy.jsonl"\n[categories.spam]\n')
    tests = tmp_path / "policy.jsonl"
    tests.write_text('{"text": "buy now", "labels": ["spam"]}\n{"text": "hi", "labels": ["spma"]}\n\n{"labels": []}\n')
    run = cli("profile", "validate", "-p", path)
    assert run.code == 2
    lines = run.stderr.splitlines()
    assert lines[0].startswith(f"tactful: error: {tests}:2: unknown category 'spma' (did you mean 'spam'?)")
    assert lines[1] == f"tactful: error: {tests}:4: 'text' must be a non-empty string (2 problems in all)"
    tests.write_text('{"text": "buy now", "labels": ["spam"]}\n')
    assert cli("profile", "validate", "-p", path).stdout.startswith(f"ok: {path}: 1 categories (1 blocked), 0 examples, 1 policy tests")


def test_validate_reports_a_missing_policy_tests_file_at_its_key(cli, tmp_path):
    path = write_profile(tmp_path / "p.toml", 'version = 1\n\ntests = "policy.jsonl"\n[categories.spam]\n')
    run = cli("profile", "validate", "-p", path)
    assert run.code == 2
    assert run.stderr == f"tactful: error: {path}:3: the policy tests file {tmp_path / 'policy.jsonl'} does not exist (create it, or remove `tests`)\n"
