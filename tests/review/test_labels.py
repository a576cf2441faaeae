"""The labels file: answers on disk at once, undone atomically, readable by calibrate and eval."""

from __future__ import annotations

import json
import logging

import pytest
from tactful.errors import IOFailure, UsageError
from tactful.review.labels import Labelled, LabelsFile

TOXIC = Labelled("7", "you idiot", ("toxicity",), {"flagged": 0.7})
FINE = Labelled("8", "see you", (), {"flagged": 0.2})


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_answer_is_a_bank_format_line_on_disk_when_append_returns(tmp_path):
    store = LabelsFile(tmp_path / "reviewed.jsonl")
    assert store.read() == []
    store.append([TOXIC])
    assert lines(store.path) == [{"id": "7", "text": "you idiot", "labels": ["toxicity"]}]
    store.append([FINE])
    # Scores are the model's, not the moderator's: they are not saved, and read back as None.
    assert store.read() == [Labelled("7", "you idiot", ("toxicity",)), Labelled("8", "see you", ())]


def test_retract_removes_the_last_line_of_that_answer_only(tmp_path):
    store = LabelsFile(tmp_path / "reviewed.jsonl")
    store.append([TOXIC, FINE, TOXIC])
    store.retract(TOXIC)
    assert [line["id"] for line in lines(store.path)] == ["7", "8"]
    store.retract(FINE)
    assert [line["id"] for line in lines(store.path)] == ["7"]


def test_a_line_cut_short_by_a_kill_is_dropped_with_a_warning(tmp_path, caplog):
    path = tmp_path / "reviewed.jsonl"
    path.write_text(TOXIC.to_line() + '{"id": "8", "text": "see')
    with caplog.at_level(logging.WARNING, logger="tactful"):
        assert LabelsFile(path).read() == [Labelled("7", "you idiot", ("toxicity",))]
    assert "reviewed.jsonl:2: a line cut short" in caplog.text
    assert path.read_text() == TOXIC.to_line()  # the next append starts on a line of its own


@pytest.mark.parametrize("line, problem", [
    ('{"text": "hello", "label": "spam"}', "no id"),
    ('{"id": 1, "text": "hello", "labels": "spam"}', "'labels' is not a list of categories"),
    ('["a list"]', "not a JSON object"),
    ("not json at all", "not a JSON object"),
])
def test_a_file_that_is_not_a_labels_file_is_refused_by_line(tmp_path, line, problem):
    path = tmp_path / "export.jsonl"
    path.write_text(TOXIC.to_line() + line + "\n")
    with pytest.raises(UsageError) as caught:
        LabelsFile(path).read()
    assert caught.value.message.startswith(f"{path}:2: {problem}, so this is not a labels file")


def test_a_labels_file_in_no_directory_is_refused_before_any_answer(tmp_path):
    store = LabelsFile(tmp_path / "gone" / "reviewed.jsonl")
    with pytest.raises(IOFailure) as caught:
        store.check_writable()
    assert caught.value.message == f"{store.path}: cannot save answers: no such directory {tmp_path / 'gone'}"
    LabelsFile(tmp_path / "reviewed.jsonl").check_writable()  # absent, in a folder that is there: fine
