"""A review session on a scripted model: asks, saves at once, undoes, resumes."""

from __future__ import annotations

import json

import pytest
from tactful.review.labels import Labelled, LabelsFile
from tactful.review.refit import RefitReport
from tactful.review.session import Session, category_keys

from tests.support.review import contract, judged


def saved(store: LabelsFile) -> list[tuple[str, list[str]]]:
    return [(line["id"], line["labels"]) for line in map(json.loads, store.path.read_text().splitlines())]


@pytest.fixture
def store(tmp_path) -> LabelsFile:
    return LabelsFile(tmp_path / "reviewed.jsonl")


def test_the_model_judges_every_text_and_the_nearest_to_the_boundary_is_asked_first(tmp_path, store):
    texts = judged(tmp_path)
    assert [(j.id, j.flagged, dict(j.scores or {})) for j in texts][:2] == [
        ("t1", True, {"flagged": pytest.approx(0.55)}), ("t2", True, {"flagged": pytest.approx(0.56)})]
    session = Session(texts, store, contract())
    assert session.current is not None and session.current.text == "buy cheap pills now"
    assert session.remaining == 6


def test_each_answer_is_on_disk_before_the_next_text_is_shown(tmp_path, store):
    session = Session(judged(tmp_path), store, contract())
    session.answer(("spam",))
    assert saved(store) == [("t1", ["spam"])]
    # the other side next (the garden sale, 0.45), then away from the twin of the first
    assert session.current is not None and session.current.id == "t4"
    session.answer(())
    assert saved(store) == [("t1", ["spam"]), ("t4", [])]
    assert session.current is not None and session.current.id == "t3"
    assert [a.id for a in session.answers] == ["t1", "t4"] and session.answered_now == 2


def test_undo_takes_the_answer_off_the_file_and_asks_that_text_again(tmp_path, store):
    session = Session(judged(tmp_path), store, contract())
    session.answer(("spam",))
    session.skip()  # t4
    assert session.undo() and session.current is not None and session.current.id == "t4"
    assert session.undo() and session.current is not None and session.current.id == "t1"
    assert saved(store) == [] and session.answers == [] and session.answered_now == 0
    assert not session.undo()
    session.answer(("toxicity",))
    assert saved(store) == [("t1", ["toxicity"])]


def test_a_resumed_review_never_asks_a_labelled_text_again(tmp_path, store):
    first = Session(judged(tmp_path), store, contract())
    for _ in range(3):
        first.answer(())
    again = Session(judged(tmp_path), store, contract(), earlier=store.read())
    asked = []
    while again.current is not None:
        asked.append(again.current.id)
        again.skip()
    assert sorted(asked) == sorted({"t1", "t2", "t3", "t4", "t5", "t6"} - {a for a, _ in saved(store)})
    assert len(asked) == 3


def test_a_refit_boundary_moves_the_queue(tmp_path, store):
    session = Session(judged(tmp_path), store, contract())
    session.skip()  # t1 at 0.55; with the threshold at 0.5 the garden sale (0.45) comes next
    assert session.current is not None and session.current.id == "t4"
    session.refitted(RefitReport("threshold", 10, 5, boundary=0.9))
    session.undo()
    session.skip()
    # Centred on 0.9, the skipped t1 (0.55) is on the acceptable side, so the flagged side is
    # asked about next: the cruise (0.9), on the new boundary.
    assert session.current is not None and session.current.id == "t3"


def test_nothing_left_to_ask_is_said_not_crashed_on(tmp_path, store):
    session = Session(judged(tmp_path)[:1], store, contract(), earlier=[Labelled("t9", "other", ())])
    session.answer(())
    assert session.current is None and session.remaining == 0
    with pytest.raises(LookupError):
        session.skip()


def test_categories_get_number_keys_then_letters_that_clash_with_no_other_key():
    keys = category_keys([f"c{i}" for i in range(12)])
    assert list(keys)[:10] == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "b"]
    assert not set(keys) & {"a", "s", "u", "q"}
