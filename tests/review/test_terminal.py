"""A whole review in a real pseudo-terminal: keys as a person types them, a kill, a resume."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pexpect
import pytest

from tests.commands.test_calibrate import coin
from tests.fake_ollama import MODEL, flagged_with, item_text
from tests.support.review import SPAM_ONLY, SPAM_SCORES, write_inputs

LEGEND = "quit"  # the last word of the key legend: the review is on screen


def saved(path: Path) -> list[tuple[str, list[str]]]:
    if not path.exists():
        return []
    return [(line["id"], line["labels"]) for line in map(json.loads, path.read_text().splitlines())]


def until(path: Path, count: int, timeout: float = 15) -> list[tuple[str, list[str]]]:
    """The labels file once it holds ``count`` answers (written by the review in the terminal)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answers = saved(path)
        if len(answers) == count:
            return answers
        time.sleep(0.05)
    raise AssertionError(f"{path} holds {saved(path)}, not {count} answers")


@pytest.fixture
def start(fake_ollama, tmp_path):
    fake_ollama.responder = lambda body: flagged_with(MODEL, SPAM_SCORES[item_text(body)])
    profile, export = write_inputs(tmp_path, profile_text=SPAM_ONLY)
    (tmp_path / "answers").mkdir()
    labels = tmp_path / "answers" / "reviewed.jsonl"
    args = ["-m", "tactful", "review", str(export), "--labels", str(labels), "-p", str(profile),
            "--host", fake_ollama.url, "--model", MODEL]
    children: list[pexpect.spawn] = []

    def spawn() -> pexpect.spawn:
        env = {**os.environ, "TERM": "xterm-256color"}
        child = pexpect.spawn(sys.executable, args, env=env, dimensions=(30, 100), timeout=30)
        children.append(child)
        child.expect(LEGEND)
        return child

    yield spawn, labels
    for child in children:
        child.close(force=True)


def test_answer_undo_and_quit_leave_the_answers_in_the_labels_file(start):
    spawn, labels = start
    child = spawn()
    child.send("1")  # spam, for the text nearest the boundary
    assert until(labels, 1) == [("t1", ["spam"])]
    child.send("a")
    assert until(labels, 2) == [("t1", ["spam"]), ("t4", [])]
    child.send("u")
    assert until(labels, 1) == [("t1", ["spam"])]
    child.send("q")
    child.expect("1 answer saved in this review")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_a_kill_loses_no_answer_and_the_next_review_goes_on_where_it_stopped(start):
    spawn, labels = start
    child = spawn()
    child.send("1")
    until(labels, 1)
    child.send("a")
    until(labels, 2)
    child.kill(signal.SIGKILL)
    child.wait()
    assert saved(labels) == [("t1", ["spam"]), ("t4", [])]

    child = spawn()
    child.expect("2 labelled")
    child.send("a")
    answers = until(labels, 3)
    assert len({rid for rid, _ in answers}) == 3  # nothing labelled was asked again
    child.send("q")
    child.expect(pexpect.EOF)


def test_an_answer_that_cannot_be_saved_ends_the_review_with_one_line_and_exit_5(start):
    spawn, labels = start
    child = spawn()
    labels.parent.rmdir()  # the folder went away (an unmounted disk) after the review started
    child.send("a")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 5
    shown = child.before.decode()
    assert f"tactful: error: {labels}: cannot save the answer" in shown and "Traceback" not in shown


def test_where_the_refit_chose_a_head_quitting_says_calibrate_saves_it(fake_ollama, tmp_path):
    """The fake model's probabilities cannot tell "buy" from "hello" texts; its embedding can."""
    fake_ollama.responder = coin
    profile, export = write_inputs(tmp_path, profile_text=SPAM_ONLY)
    labels = tmp_path / "reviewed.jsonl"
    labels.write_text("".join(json.dumps({"id": f"l{i}", "text": f"{word} {i}", "labels": ["spam"] if word == "buy" else []})
                              + "\n" for i in range(10) for word in ("buy", "hello")))
    args = ["-m", "tactful", "review", str(export), "--labels", str(labels), "-p", str(profile),
            "--host", fake_ollama.url, "--model", MODEL]
    child = pexpect.spawn(sys.executable, args, env={**os.environ, "TERM": "xterm-256color"}, dimensions=(40, 200),
                          timeout=120)
    try:
        child.expect("<- chosen")  # the resumed review refits the earlier answers at once
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    shown = child.before.decode()
    assert (f"the last refit chose the head (cross-validated F1 1.00); the profile is unchanged until "
            f"tactful calibrate {labels} fits it") in shown
    assert not list(tmp_path.glob("*.head.json"))
