"""`tactful examples ...` through the CLI: the example bank beside the profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PROFILE = """\
version = 1
# Our forum.
[categories.toxicity]
blocked = true

[categories.spam]
blocked = true
"""


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "work" / "forum.toml"
    path.write_text(PROFILE)
    return path


def bank_of(profile: Path) -> list[dict]:
    bank = profile.with_name("forum.examples.jsonl")
    return [json.loads(line) for line in bank.read_text().splitlines()]


def test_add_writes_the_bank_beside_the_profile_and_records_it(cli, profile):
    run = cli("examples", "add", "-p", profile, "Buy followers now", "--label", "spam", "--rationale", "Sells followers.")
    assert run.code == 0, run.stderr
    bank = profile.with_name("forum.examples.jsonl")
    (entry,) = bank_of(profile)
    assert run.stdout == f"added {entry['id']} (spam) to {bank}\n"
    assert len(entry["id"]) == 8
    assert (entry["text"], entry["labels"], entry["rationale"]) == ("Buy followers now", ["spam"], "Sells followers.")
    assert entry["created"].endswith("+00:00")
    assert profile.read_text() == PROFILE.replace("version = 1\n", 'version = 1\nexamples = "forum.examples.jsonl"\n')


def test_add_benign_from_stdin_and_the_same_text_twice(cli, profile):
    assert cli("examples", "add", "-p", profile, "-", "--benign", input="That referee was blind today\n").code == 0
    (entry,) = bank_of(profile)
    assert entry["text"] == "That referee was blind today" and entry["labels"] == []
    again = cli("examples", "add", "-p", profile, "that  REFEREE was blind today", "--label", "toxicity")
    assert again.code == 2
    assert again.stderr == (
        f"tactful: error: the bank already holds this text as {entry['id']} (acceptable); "
        f"to relabel it, `tactful examples remove {entry['id']}` and add it again\n"
    )
    assert len(bank_of(profile)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("text", "--label", "spma"), "unknown category 'spma' (did you mean 'spam'?); valid: spam, toxicity"),
        (("text",), "say what the example is: --label SLUG (repeatable) for blocked content, or --benign"),
        (("text", "--label", "spam", "--benign"), "say what the example is"),
        (("  ", "--benign"), "the example text is empty"),
    ],
)
def test_add_refuses_bad_input(cli, profile, args, message):
    run = cli("examples", "add", "-p", profile, *args)
    assert run.code == 2
    assert run.stderr.startswith(f"tactful: error: {message}")
    assert not profile.with_name("forum.examples.jsonl").exists()


def test_list_filters_by_label(cli, profile):
    cli("examples", "add", "-p", profile, "win a prize", "-l", "spam")
    cli("examples", "add", "-p", profile, "you idiot", "-l", "toxicity", "-r", "An insult.")
    everything = cli("examples", "list", "-p", profile)
    assert everything.code == 0
    assert "win a prize" in everything.stdout and "An insult." in everything.stdout
    assert "2 example(s) in" in everything.stdout
    spam = cli("examples", "list", "-p", profile, "--label", "spam")
    assert "win a prize" in spam.stdout and "you idiot" not in spam.stdout
    assert "1 example(s) in" in spam.stdout


def test_remove_by_id(cli, profile):
    cli("examples", "add", "-p", profile, "win a prize", "-l", "spam")
    cli("examples", "add", "-p", profile, "you idiot", "-l", "toxicity")
    first, second = bank_of(profile)
    run = cli("examples", "remove", "-p", profile, first["id"])
    assert run.code == 0
    assert bank_of(profile) == [second]
    missing = cli("examples", "remove", "-p", profile, first["id"])
    assert missing.code == 2
    assert f"no example '{first['id']}' in" in missing.stderr and "tactful examples list" in missing.stderr


def test_import_skips_duplicates_and_reports_bad_lines(cli, profile, tmp_path):
    cli("examples", "add", "-p", profile, "Win a PRIZE", "-l", "spam")
    source = tmp_path / "log.jsonl"
    source.write_text(
        '{"text": "win a prize", "labels": ["spam"]}\n'  # already in the bank, other case
        '{"text": "you idiot", "labels": ["toxicity"], "rationale": "An insult."}\n'
        "{broken\n"
        "\n"
        '{"text": "great docs", "labels": []}\n'
        '{"text": "great   docs", "labels": []}\n'  # duplicate within the file
        '{"text": "vote for me", "labels": ["politics"]}\n'
        '{"labels": ["spam"]}\n'
    )
    run = cli("examples", "import", "-p", profile, source)
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("imported 2 example(s) into ") and "2 duplicate(s) and 3 bad line(s) skipped" in run.stdout
    warnings = run.stderr.splitlines()
    assert warnings[0].startswith(f"tactful: warning: {source}:3: invalid JSON")
    assert warnings[1].startswith(f"tactful: warning: {source}:7: unknown category 'politics'")
    assert warnings[2] == f"tactful: warning: {source}:8: 'text' must be a non-empty string (line skipped)"
    assert [e["text"] for e in bank_of(profile)] == ["Win a PRIZE", "you idiot", "great docs"]
    assert bank_of(profile)[1]["rationale"] == "An insult."


def test_export_then_import_into_another_profile(cli, profile, tmp_path):
    cli("examples", "add", "-p", profile, "win a prize", "-l", "spam")
    cli("examples", "add", "-p", profile, "thanks!", "--benign", "-r", "Gratitude.")
    exported = cli("examples", "export", "-p", profile)
    assert exported.code == 0
    assert [json.loads(line) for line in exported.stdout.splitlines()] == bank_of(profile)

    other = tmp_path / "other.toml"
    other.write_text(PROFILE)
    run = cli("examples", "import", "-p", other, "-", input=exported.stdout)
    assert run.code == 0 and "imported 2 example(s)" in run.stdout
    assert other.with_name("other.examples.jsonl").read_text() == profile.with_name("forum.examples.jsonl").read_text()


def test_examples_need_a_profile_file(cli):
    run = cli("examples", "list")
    assert run.code == 2
    assert "no profile here yet; create it with `tactful profile init" in run.stderr


def test_a_failed_bank_save_leaves_the_old_bank(cli, profile, monkeypatch):
    import os

    cli("examples", "add", "-p", profile, "win a prize", "-l", "spam")
    before = profile.with_name("forum.examples.jsonl").read_text()

    def broken_write(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_write)
    run = cli("examples", "add", "-p", profile, "you idiot", "-l", "toxicity")
    assert run.code == 5 and "cannot write, the file was left as it was: Input/output error" in run.stderr
    assert profile.with_name("forum.examples.jsonl").read_text() == before
    assert sorted(p.name for p in profile.parent.iterdir()) == ["forum.examples.jsonl", "forum.toml"]


def test_classify_uses_what_examples_add_wrote(cli, profile, ollama_args, fake_ollama):
    cli("examples", "add", "-p", profile, "That referee was blind today", "--benign")
    run = cli("classify", "-p", profile, *ollama_args, input="you idiot\n")
    assert run.code == 0, run.stderr
    messages = fake_ollama.chat_requests()[0]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
    assert '"That referee was blind today"' in messages[1]["content"]
    assert messages[2]["content"] == '{"flagged": false}'


def test_import_reads_evals_singular_label_and_refuses_a_line_without_one(cli, profile, tmp_path):
    source = tmp_path / "eval-style.jsonl"
    source.write_text(
        '{"text": "win a free cruise now", "label": "spam"}\n'
        '{"text": "see you at the meetup"}\n'  # no label at all: never read as acceptable
        '{"text": "lovely weather", "label": []}\n'
    )
    run = cli("examples", "import", "-p", profile, source)
    assert run.code == 0, run.stderr
    assert "imported 2 example(s)" in run.stdout and "1 bad line(s) skipped" in run.stdout
    assert f"{source}:2: no 'labels' (or 'label'): give [] for acceptable content (line skipped)" in run.stderr
    assert [(e["text"], e["labels"]) for e in bank_of(profile)] == [
        ("win a free cruise now", ["spam"]), ("lovely weather", []),
    ]


def test_a_bank_at_the_default_place_is_used_everywhere(cli, profile, ollama_args, fake_ollama):
    # Written by hand (or copied from another machine) before any `examples add` named it.
    profile.with_name("forum.examples.jsonl").write_text('{"text": "buy cheap pills", "labels": ["spam"]}\n')
    assert "1 in " in cli("profile", "show", "-p", profile).stdout
    assert cli("profile", "validate", "-p", profile).code == 0
    shown = json.loads(cli("classify", *ollama_args, "-p", profile, "--show-prompt", input="hello\n").stdout)
    assert any("buy cheap pills" in m["content"] for m in shown["messages"])
    cli("classify", *ollama_args, "-p", profile, input="hello\n")
    assert any("buy cheap pills" in m["content"] for m in fake_ollama.chat_requests()[-1]["messages"])
