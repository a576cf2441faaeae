"""`tactful review` where a user meets it: refusals, --batch out, --import back, help at 80 columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tactful.commands.review import ReviewOptions, learner_refit
from tactful.io.readers import ReadOptions
from tactful.learning.choose import PROBABILITY

from tests.commands.test_calibrate import coin
from tests.fake_ollama import MODEL, flagged_with, item_text
from tests.support.review import SPAM_ONLY, SPAM_SCORES, contract, separable_by_vector, write_inputs


@pytest.fixture
def spam_model(fake_ollama):
    fake_ollama.responder = lambda body: flagged_with(MODEL, SPAM_SCORES[item_text(body)])
    return fake_ollama


@pytest.fixture
def inputs(tmp_path):
    return write_inputs(tmp_path, profile_text=SPAM_ONLY, field="content")


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_batch_writes_the_next_texts_to_label_and_import_brings_the_answers_back(cli, ollama_args, spam_model, inputs, tmp_path):
    profile, export = inputs
    labels, batch = tmp_path / "reviewed.jsonl", tmp_path / "next.jsonl"
    common = [*ollama_args, "-p", profile, "--labels", labels]
    run = cli("review", export, "--field", "content", "--batch", "3", "-o", batch, *common)
    assert run.code == 0, run.stderr
    written = lines(batch)
    # nearest the boundary first, both sides, the twin of the first left for later
    assert [(r["id"], r["labels"]) for r in written] == [("t1", None), ("t4", None), ("t3", None)]
    assert written[0]["text"] == "buy cheap pills now" and written[0]["moderation"]["scores"] == {"flagged": 0.55}
    assert f"then: tactful review --import {batch}" in run.stderr

    written[0]["labels"], written[1]["labels"] = ["spam"], "none"  # the third left blank
    batch.write_text("".join(json.dumps(r) + "\n" for r in written))
    run = cli("review", "--import", batch, *common)
    assert run.code == 0, run.stderr
    assert lines(labels) == [{"id": "t1", "text": "buy cheap pills now", "labels": ["spam"]},
                             {"id": "t4", "text": "our garden sale was lovely", "labels": []}]
    assert "2 answers added" in run.stderr and "1 left blank" in run.stderr
    assert "  cross-validation needs 2 labelled texts on each side: 1 blocked and 1 acceptable so far" in run.stderr

    # The next batch leaves out what is labelled, and keeps away from it.
    run = cli("review", export, "--field", "content", "--batch", "2", "-o", batch, "--force", *common)
    assert run.code == 0, run.stderr
    assert [r["id"] for r in lines(batch)] == ["t3", "t6"]


def test_the_labels_file_is_what_calibrate_reads(cli, ollama_args, spam_model, inputs, tmp_path):
    profile, _ = inputs
    labels = tmp_path / "reviewed.jsonl"
    labels.write_text("".join(json.dumps({"id": f"t{i}", "text": text, "labels": ["spam"] if p > 0.5 else []}) + "\n"
                              for i, (text, p) in enumerate(SPAM_SCORES.items(), start=1)))
    run = cli("calibrate", *ollama_args, "-p", profile, labels, "--dry-run")
    assert run.code == 0, run.stderr
    assert "6 (3+)" in run.stdout


def test_an_import_naming_an_unknown_category_adds_nothing(cli, ollama_args, inputs, tmp_path):
    profile, _ = inputs
    labels, batch = tmp_path / "reviewed.jsonl", tmp_path / "next.jsonl"
    batch.write_text(json.dumps({"id": "a", "text": "x", "labels": ["spam"]}) + "\n"
                     + json.dumps({"id": "b", "text": "y", "labels": ["rude"]}) + "\n")
    run = cli("review", "--import", batch, "-p", profile, "--labels", labels)
    assert run.code == 2
    assert "gold labels that name no category of the profile: 'rude' (1)" in run.stderr
    assert not labels.exists()


def test_a_broken_import_line_is_named_and_adds_nothing(cli, inputs, tmp_path):
    profile, _ = inputs
    labels, batch = tmp_path / "reviewed.jsonl", tmp_path / "next.jsonl"
    batch.write_text(json.dumps({"id": "a", "text": "x", "labels": []}) + "\n{oops\n")
    run = cli("review", "--import", batch, "-p", profile, "--labels", labels)
    assert run.code == 2
    assert f"tactful: error: {batch}:2: invalid JSON" in run.stderr and "nothing was imported" in run.stderr
    assert not labels.exists()


def test_asking_needs_a_terminal_and_says_how_to_label_elsewhere(cli, ollama_args, spam_model, inputs):
    profile, export = inputs
    run = cli("review", export, *ollama_args, "-p", profile)
    assert run.code == 2
    assert "label elsewhere with --batch N -o FILE" in run.stderr
    assert spam_model.chat_requests() == []  # refused before any model was asked


@pytest.mark.parametrize("labels_is", ["the input", "the profile"])
def test_the_labels_file_is_never_an_input_or_the_profile(cli, ollama_args, inputs, tmp_path, labels_is):
    profile, export = inputs
    target = export if labels_is == "the input" else profile
    before = target.read_text()
    run = cli("review", export, *ollama_args, "-p", profile, "--labels", target, "--batch", "2", "-o", tmp_path / "o.jsonl")
    assert run.code == 2
    assert f"{target}: is an input of this run, and writing it would destroy it" in run.stderr
    assert target.read_text() == before


def test_a_labels_file_that_is_something_else_is_refused_by_line(cli, ollama_args, inputs, tmp_path):
    profile, export = inputs
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"id": 1, "content": "a post"}) + "\n")
    run = cli("review", export, *ollama_args, "-p", profile, "--labels", other, "--batch", "2", "-o", tmp_path / "o.jsonl")
    assert run.code == 2
    assert f"{other}:1: no text, so this is not a labels file" in run.stderr


@pytest.mark.parametrize("args, message", [
    (["--batch", "3"], "--batch writes the texts to a file: add --output FILE"),
    (["-o", "x.jsonl"], "--output and --force go with --batch N"),
    (["--import", "x.jsonl"], "--import reads answers back and asks nothing"),
])
def test_options_that_do_not_go_together_are_refused(cli, inputs, args, message):
    profile, export = inputs
    run = cli("review", export, "-p", profile, *args)
    assert run.code == 2 and message in run.stderr


def test_help_fits_80_columns_with_metavars_in_words(cli):
    run = cli("review", "--help", env={"COLUMNS": "80"})
    assert run.code == 0
    assert max(len(line) for line in run.stdout.splitlines()) <= 80
    for shown in ("[FILE]...", "--labels", "--batch", "--import", "--refit-every"):
        assert shown in run.stdout
    assert " N " in run.stdout and "INTEGER" not in run.stdout and "PATH" not in run.stdout


@pytest.fixture
def labelled_by_words(fake_ollama, tmp_path):
    """20 answers the fake model's probabilities cannot tell apart (every text 0.7 spam) and its
    bag-of-words embedding can ("buy" against "hello"); the profile and an export to pick from."""
    fake_ollama.responder = coin
    profile, export = write_inputs(tmp_path, profile_text=SPAM_ONLY)
    labels = tmp_path / "reviewed.jsonl"
    labels.write_text("".join(json.dumps({"id": f"l{i}", "text": f"{word} {i}", "labels": ["spam"] if word == "buy" else []})
                              + "\n" for i in range(10) for word in ("buy", "hello")))
    return profile, export, labels


def test_a_batch_shows_the_learners_choice_and_that_calibrate_saves_a_head(cli, ollama_args, labelled_by_words, tmp_path):
    profile, export, labels = labelled_by_words
    before = profile.read_text()
    run = cli("review", export, *ollama_args, "-p", profile, "--labels", labels, "--batch", "2", "-o", tmp_path / "n.jsonl")
    assert run.code == 0, run.stderr
    assert "  cross-validated choice of what decides, 20 labels (10 blocked)\n" in run.stderr
    assert "  head: F1 1.00 +/- 0.00, FPR 0.00 +/- 0.00  <- chosen\n" in run.stderr
    assert "  probability: F1 " in run.stderr and "  combined: F1 " in run.stderr
    assert "  chosen: head: the best cross-validated F1 (1.00)" in run.stderr
    assert (f"tactful: the last refit chose the head (cross-validated F1 1.00); the profile is unchanged until "
            f"tactful calibrate {labels} fits it and saves it beside the profile") in run.stderr
    assert profile.read_text() == before and not list(tmp_path.glob("*.head.json"))


def test_without_the_representation_the_batch_refits_the_threshold_and_says_why(cli, ollama_args, labelled_by_words, tmp_path):
    profile, export, labels = labelled_by_words
    run = cli("review", export, *ollama_args, "-p", profile, "--labels", labels, "--batch", "2", "-o", tmp_path / "n.jsonl",
              "--representation", "prompt")
    assert run.code == 0, run.stderr
    assert "  threshold on the prompt's probability, 20 labels (10 blocked)\n" in run.stderr
    assert ("  only the threshold is fitted, as the model gives no representation of the texts: the ollama backend "
            "gives no hidden state (the embedded backend does)\n") in run.stderr
    assert "calibrate" not in run.stderr


def test_after_calibrate_saved_a_head_the_review_still_learns_from_the_prompts_probabilities(
        cli, ollama_args, labelled_by_words, tmp_path):
    profile, export, labels = labelled_by_words
    assert cli("calibrate", *ollama_args, "-p", profile, labels).code == 0
    assert list(tmp_path.glob("*.head.json"))
    batch = tmp_path / "n.jsonl"
    run = cli("review", export, *ollama_args, "-p", profile, "--labels", labels, "--batch", "2", "-o", batch)
    assert run.code == 0, run.stderr
    assert "  cross-validated choice of what decides, 20 labels (10 blocked)\n" in run.stderr
    assert all(set(line["moderation"]["scores"]) == {"flagged"} for line in lines(batch))


def test_a_profile_not_in_binary_mode_refits_the_threshold_and_says_why():
    options = ReviewOptions(ReadOptions(), Path("reviewed.jsonl"), 300, 5, None, None, False, 1, True)
    refit = learner_refit(object(), contract("multilabel"), options)  # type: ignore[arg-type]  # asks no model
    report = refit(separable_by_vector()[0])
    assert report.winner == PROBABILITY
    assert report.lines()[-1] == "only the threshold is fitted: a head is learned in binary mode only (this profile is in multilabel mode)"
