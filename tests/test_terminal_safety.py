"""Text from users, files and models never drives the terminal (issue 22, items 7 and 17).

Each command that prints such text runs in a real pseudo-terminal, fed a text that would
set the window title (OSC), clear the screen (CSI), ring the bell, start a C1 CSI and
reverse the line (U+202E) if it reached the terminal as it is. What the terminal receives
must hold none of that raw, and must show the text, escaped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, write_profile
from tests.fake_ollama import answer_for_schema, model_labels
from tests.terminal import in_terminal

# What a hostile post, description, rationale or file name would do to a terminal.
HOSTILE = "\x1b]0;owned\x07\x1b[2J\x9b7m\u202eevil"
RAW = {
    "an OSC sequence": b"\x1b]",
    "a clear screen": b"\x1b[2J",
    "a bell": b"\x07",
    "a C1 CSI": "\x9b".encode(),
    "a bidi override": "\u202e".encode(),
}


def assert_safe(output: bytes) -> None:
    """Nothing hostile reached the terminal raw; the text was shown, escaped."""
    for what, raw in RAW.items():
        assert raw not in output, f"{what} reached the terminal: {output!r}"
    assert b"owned" in output and b"evil" in output


def profile_with(tmp_path: Path, description: str = "Rude, hostile or demeaning language.") -> Path:
    return write_profile(tmp_path / "p.toml", (
        "version = 1\n[task]\nmode = \"multilabel\"\n"
        f"[categories.toxicity]\nblocked = true\ndescription = {json.dumps(description)}\n"
    ))


def rationale(text: str):  # type: ignore[no-untyped-def]
    """A responder for the fake model: its usual verdict, with this rationale when asked for one."""
    def respond(body):  # type: ignore[no-untyped-def]
        answer = answer_for_schema(body["format"], model_labels(body))
        if "rationale" in answer:
            answer["rationale"] = text
        return json.dumps(answer)
    return respond


# ---------------------------------------------------------------- item 7: every printer


def test_examples_list_shows_a_hostile_example_escaped(cli, tmp_path):
    profile = profile_with(tmp_path)
    assert cli("examples", "add", "-p", profile, "--label", "toxicity", "--rationale", HOSTILE, "--", HOSTILE).code == 0
    run = in_terminal("examples", "list", "-p", profile, columns=200)  # wide enough that no cell folds
    assert run.code == 0, run.text
    assert_safe(run.raw)


def test_profile_show_shows_a_hostile_description_escaped(tmp_path):
    run = in_terminal("profile", "show", "-p", profile_with(tmp_path, HOSTILE), columns=200)
    assert run.code == 0, run.text
    assert_safe(run.raw)
    assert "\\x1b]0;owned\\x07" in run.text  # shown, as an escape


@pytest.mark.parametrize("fmt", ["text", "github", "json"])
def test_check_shows_a_hostile_description_escaped(tmp_path, ollama_args, fake_ollama, fmt):
    Path("notes.md").write_text("you idiot\n")
    run = in_terminal("check", *ollama_args, "-p", profile_with(tmp_path, HOSTILE), "--format", fmt, "notes.md")
    assert run.code == 1, run.text
    assert_safe(run.raw)


@pytest.mark.parametrize("fmt", ["text", "github", "json"])
def test_check_explain_shows_a_hostile_rationale_escaped(tmp_path, ollama_args, fake_ollama, fmt):
    fake_ollama.responder = rationale(HOSTILE)  # the judged text can steer what the model says
    Path("notes.md").write_text("you idiot\n")
    run = in_terminal("check", *ollama_args, "-p", profile_with(tmp_path), "--explain", "--format", fmt, "notes.md")
    assert run.code == 1, run.text
    assert_safe(run.raw)
    if fmt == "json":  # escaped the JSON way: a program still reads the rationale as it was
        document = run.text[run.text.index("{"):run.text.rindex("}") + 1]
        assert json.loads(document)["findings"][0]["reason"] == HOSTILE


def test_check_shows_a_hostile_file_name_escaped(tmp_path, ollama_args, fake_ollama):
    name = f"notes{HOSTILE}.md"
    Path(name).write_text("you idiot\n")
    run = in_terminal("check", *ollama_args, "-p", profile_with(tmp_path), name)
    assert run.code == 1, run.text
    assert_safe(run.raw)


def test_classify_table_shows_a_hostile_text_and_rationale_escaped(tmp_path, ollama_args, fake_ollama):
    fake_ollama.responder = rationale(HOSTILE)
    source = tmp_path / "posts.txt"
    source.write_text(f"you idiot {HOSTILE}\n")
    run = in_terminal("classify", *ollama_args, "-p", profile_with(tmp_path), "--explain", "-f", "table", source)
    assert run.code == 0, run.text
    assert_safe(run.raw)


def test_an_error_line_shows_a_hostile_file_name_escaped(tmp_path):
    run = in_terminal("classify", "-p", profile_with(tmp_path), f"missing{HOSTILE}.txt")
    assert run.code == 2, run.text
    assert "tactful: error: " in run.text
    assert_safe(run.raw)


def test_a_usage_error_shows_what_was_typed_escaped(tmp_path):
    run = in_terminal("classify", f"--{HOSTILE}")
    assert run.code == 2, run.text
    assert_safe(run.raw)


def test_a_warning_shows_a_hostile_file_name_escaped(cli, tmp_path):
    source = tmp_path / f"import{HOSTILE}.jsonl"
    source.write_text('{"text": "fine", "labels": ["toxicity"]}\n{"labels": ["toxicity"]}\n')
    run = in_terminal("examples", "import", "-p", profile_with(tmp_path), source)
    assert run.code == 0, run.text
    assert "tactful: warning: " in run.text
    assert_safe(run.raw)


def test_doctor_shows_a_hostile_profile_name_escaped(tmp_path, ollama_args, fake_ollama):
    profile = profile_with(tmp_path).rename(tmp_path / f"p{HOSTILE}.toml")
    run = in_terminal("doctor", *ollama_args, "-p", profile)
    assert run.code == 0, run.text
    assert_safe(run.raw)


def test_eval_shows_a_hostile_file_name_and_policy_case_escaped(tmp_path, ollama_args, fake_ollama):
    labelled = tmp_path / f"gold{HOSTILE}.jsonl"
    labelled.write_text(json.dumps({"text": "you idiot", "label": "toxicity"}) + "\nnot json\n")
    tests = tmp_path / "policy.jsonl"
    tests.write_text(json.dumps({"text": f"all fine {HOSTILE}", "labels": ["toxicity"]}) + "\n")
    profile = profile_with(tmp_path)
    profile.write_text(profile.read_text().replace("version = 1\n", 'version = 1\ntests = "policy.jsonl"\n'))
    run = in_terminal("eval", *ollama_args, "-p", profile, labelled)
    assert run.code == 1, run.text  # the policy case fails: the fake model finds nothing in it
    assert_safe(run.raw)


def test_guard_messages_show_a_hostile_model_answer_escaped(tmp_path, ollama_args, fake_ollama):
    fake_ollama.responder = lambda body: f"no JSON here {HOSTILE}"  # cannot be judged: the guard fails closed
    stream = tmp_path / "stream.txt"
    stream.write_text("Good morning, everyone. What a day it has been so far.\n")
    for events in ([], ["--events"]):
        run = in_terminal("guard", *ollama_args, "-p", profile_with(tmp_path), *events, stdin=stream)
        assert run.code == 4, run.text
        for what, raw in RAW.items():
            assert raw not in run.raw, f"{what} reached the terminal: {run.raw!r}"


# ---------------------------------------------------------------- item 17: the table and the bar


def test_the_table_starts_on_a_clean_line_with_no_bar_left_in_it(tmp_path, ollama_args, fake_ollama):
    comments = Path("exports/comments.txt")
    comments.parent.mkdir()
    comments.write_text((SAMPLES / "comments.txt").read_text())
    count = len(comments.read_text().splitlines())
    run = in_terminal("classify", *ollama_args, "-p", SAMPLES / "profile.toml", "-f", "table", comments)
    assert run.code == 0, run.text
    screen = [line.rstrip() for line in run.screen(80) if line.strip()]
    # The bar was drawn while the run went on, and cleared: no frame of it is left.
    assert "━" in run.text and not any("━" in line or "classify" in line for line in screen), "\n".join(screen)
    assert screen[0].split() == ["id", "text", "flagged", "labels", "note"]
    # Each row keeps the end of its id, which tells the rows apart.
    ids = [line.split()[0] for line in screen[1:] if line.startswith("…")]
    assert ids == [f"…mments.txt:{n}" for n in range(1, count + 1)]
    assert any(line.startswith(f"tactful: {count} records in ") for line in screen[-3:])  # the summary, below
