"""Judged items scored against gold labels, in each task mode's terms, without a model."""

from __future__ import annotations

import pytest
from tactful.evaluation import scoring
from tactful.evaluation.scoring import ACCEPTABLE, FLAGGED
from tactful.profile.load import Profile, parse_profile
from tactful.records import InputRecord, Moderation, Result

TOML = "version = 1\n[task]\nmode = '{mode}'\n[categories.toxicity]\n[categories.spam]\n[categories.self-harm]\nblocked = false\n"


def profile(mode: str) -> Profile:
    return parse_profile(TOML.format(mode=mode), None)


def judged(number: int, labels: list[str], *, flagged: bool | None = None, scores: dict[str, float] | None = None,
           error: str | None = None, text: str | None = "a text") -> Result:
    record = InputRecord(f"id-{number}", text, {}, f"d.jsonl:{number}")
    flag = bool(labels) if flagged is None else flagged
    return Result(record, Moderation(flag, labels, "m", "p", "prompt", scores=scores, error=error))


@pytest.mark.parametrize(("mode", "gold", "labels", "expected"), [
    ("binary", ["spam"], ["toxicity"], (FLAGGED, FLAGGED)),
    ("binary", ["self-harm"], [], (ACCEPTABLE, ACCEPTABLE)),  # an acceptable category is not flagged
    ("multiclass", ["self-harm", "spam"], ["toxicity", "spam"], ("spam", "toxicity")),  # the first blocked one
    ("multiclass", [], [], ("none", "none")),
    ("multilabel", ["spam", "self-harm"], ["spam"], ({"spam", "self-harm"}, {"spam"})),
])
def test_gold_and_prediction_are_classes_of_the_mode(mode, gold, labels, expected):
    moderation = judged(1, labels).moderation
    assert scoring.classes(profile(mode), gold, moderation) == expected


def test_unjudged_textless_and_unlabelled_items_are_not_scored_and_say_why():
    results = [judged(1, ["spam"]), judged(2, [], error="d.jsonl:2: backend busy"), judged(3, [], text=None),
               judged(4, [])]
    scored, errors = scoring.score(results, [["spam"], [], [], None], profile("binary"), "label")
    assert [(s.id, s.gold, s.predicted, s.misjudged) for s in scored] == [("id-1", FLAGGED, FLAGGED, False)]
    assert errors == ["d.jsonl:2: backend busy", "d.jsonl:3: no text", "d.jsonl:4: no usable gold label in 'label'"]


def test_report_counts_over_the_classes_of_the_mode():
    results = [judged(1, ["spam"]), judged(2, []), judged(3, ["toxicity"])]
    golds = [["spam"], ["toxicity"], ["toxicity"]]
    binary, _ = scoring.score(results, golds, profile("binary"), "label")
    report = scoring.report(binary, profile("binary"))
    assert (report.labels, report.n, round(report.accuracy, 3)) == ([FLAGGED, ACCEPTABLE], 3, 0.667)
    assert report.confusion[FLAGGED] == {FLAGGED: 2, ACCEPTABLE: 1}
    multiclass, _ = scoring.score(results, golds, profile("multiclass"), "label")
    assert scoring.report(multiclass, profile("multiclass")).labels == ["spam", "toxicity", "none"]
    multilabel, _ = scoring.score(results, golds, profile("multilabel"), "label")
    assert scoring.report(multilabel, profile("multilabel")).confusion["toxicity"] == {"tp": 1, "fp": 0, "fn": 1, "tn": 1}


def test_separation_is_per_deciding_score_and_skips_those_never_given():
    results = [judged(1, ["spam"], scores={"flagged": 0.9, "spam": 0.9}), judged(2, [], scores={"flagged": 0.2, "spam": 0.1}),
               judged(3, ["toxicity"], scores=None)]
    golds = [["spam"], [], ["toxicity"]]
    binary, _ = scoring.score(results, golds, profile("binary"), "label")
    found = scoring.separation(binary, profile("binary"))
    assert list(found) == ["flagged"]
    assert (found["flagged"]["items"], found["flagged"]["positive"], found["flagged"]["roc_auc"]) == (2, 1, 1.0)
    multilabel, _ = scoring.score(results, golds, profile("multilabel"), "label")
    assert list(scoring.separation(multilabel, profile("multilabel"))) == ["spam"]  # no toxicity score anywhere


@pytest.mark.parametrize(("mode", "expected", "labels", "problem"), [
    ("binary", ["spam"], ["spam"], None),
    ("binary", ["self-harm"], [], None),
    ("binary", ["spam"], [], "expected flagged, got acceptable"),
    ("binary", [], ["toxicity"], "expected acceptable, got flagged"),
    ("multiclass", ["spam", "toxicity"], ["toxicity"], None),
    ("multiclass", ["spam"], ["toxicity"], "expected one of ['spam'], got ['toxicity']"),
    ("multilabel", ["spam"], ["spam", "self-harm"], None),  # acceptable categories do not count
    ("multilabel", ["spam"], ["spam", "toxicity"], "expected ['spam'], got ['spam', 'toxicity']"),
    ("binary", None, [], "its 'labels' must be a list of category slugs"),
])
def test_policy_problem_names_what_was_expected(mode, expected, labels, problem):
    flagged = bool(set(labels) - {"self-harm"})
    moderation = judged(1, labels, flagged=flagged).moderation
    assert scoring.policy_problem(moderation, expected, profile(mode)) == problem


def test_a_policy_case_the_model_could_not_judge_fails_with_its_error():
    moderation = judged(1, [], error="tests.jsonl:1: backend busy").moderation
    assert scoring.policy_problem(moderation, ["spam"], profile("binary")) == "tests.jsonl:1: backend busy"
