"""The review's refit: calibrate's learner on the labels (threshold, head, both), cross-validated, and its learning curve."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from tactful.errors import NoProbabilities
from tactful.learning.choose import COMBINED, HEAD, PROBABILITY
from tactful.review.labels import Labelled
from tactful.review.refit import CachedVectors, LearnerRefit, _verdict

from tests.support.review import Embedder, contract, separable_by_vector


def labelled(scores_and_labels: list[tuple[float, bool]]) -> list[Labelled]:
    return [Labelled(str(i), f"text {i}", ("spam",) if harmful else (), {"flagged": p})
            for i, (p, harmful) in enumerate(scores_and_labels)]


def test_too_few_labels_on_a_side_say_so_and_that_more_pay():
    report = LearnerRefit(contract())(labelled([(0.9, True), (0.8, True), (0.1, False)]))
    assert (report.f1, report.labels, report.positives, report.more_pay) == (None, 3, 2, True)
    assert report.why == "cross-validation needs 2 labelled texts on each side: 2 blocked and 1 acceptable so far"


def test_scores_that_separate_the_classes_cross_validate_to_f1_one():
    items = labelled([(0.6 + i / 100, True) for i in range(10)] + [(0.1 + i / 100, False) for i in range(10)])
    report = LearnerRefit(contract())(items)
    assert (report.f1, report.f1_spread, report.fpr) == (1.0, 0.0, 0.0)
    assert 0.19 < (report.boundary or 0) < 0.6
    assert [n for n, _ in report.curve] == [10, 15, 20]
    assert report.more_pay is False and report.why.startswith("the curve is flat")


def test_scores_that_do_not_separate_cross_validate_low_with_a_spread():
    rng = random.Random(3)
    items = labelled([(rng.random(), i % 2 == 0) for i in range(30)])
    report = LearnerRefit(contract())(items)
    assert report.f1 is not None and report.f1 < 0.8 and report.f1_spread > 0
    assert report.lines()[1].startswith(f"cross-validated F1 {report.f1:.2f} +/- ")


def test_texts_without_scores_are_left_out_and_unblocked_labels_are_acceptable():
    items = labelled([(0.9, True), (0.8, True), (0.2, False), (0.1, False)])
    items.append(Labelled("x", "never judged", ("spam",), None))
    items.append(Labelled("y", "a sad post", ("negative-sentiment",), {"flagged": 0.05}))  # not blocked
    report = LearnerRefit(contract())(items)
    assert (report.labels, report.positives) == (5, 2)


@pytest.mark.parametrize("curve, pays", [
    ([(10, 0.60), (15, 0.70), (20, 0.80)], True),
    ([(10, 0.80), (20, 0.81)], False),
    ([(20, 0.8)], None),
    ([(10, 0.0), (20, 0.0)], True),  # flat at 0: a rule that flags nothing has learnt nothing yet
])
def test_more_labels_pay_while_f1_still_rises_from_half_the_labels_to_all(curve, pays):
    assert _verdict(curve)[0] is pays


def test_answers_the_model_gave_no_probabilities_say_so():
    report = LearnerRefit(contract())([Labelled("x", "a text", ("spam",), None)])
    assert report.f1 is None and report.more_pay is None
    assert report.lines() == ["threshold on the prompt's probability, 0 labels (0 blocked)",
                              "the model gave these texts no probabilities (a backend without log-probabilities), "
                              "so there is no threshold to fit"]


# ---------------------------------------------------------------- the learner's choice


def test_the_head_wins_where_only_the_representation_separates_and_the_report_says_why():
    items, vectors = separable_by_vector()
    report = LearnerRefit(contract(), CachedVectors(Embedder(vectors)))(items)
    assert report.winner == HEAD and report.head_wins
    assert {s.name for s in report.candidates} == {HEAD, PROBABILITY, COMBINED}
    assert report.f1 == report.candidates[0].f1 == 1.0 and report.fpr == 0.0
    lines = report.lines()
    assert lines[0] == "cross-validated choice of what decides, 20 labels (10 blocked)"
    assert lines[1] == "head: F1 1.00 +/- 0.00, FPR 0.00 +/- 0.00  <- chosen"
    assert lines[2].startswith("probability: F1 ") and lines[3].startswith("combined: F1 ")
    assert lines[4].startswith("chosen: head: the best cross-validated F1 (1.00) of the candidates whose FPR stays "
                               "at or under 0.1 (probability F1 ")
    assert lines[5].startswith("learning curve: 10 labels F1 ")
    assert lines[6] == report.why and report.more_pay is not None


def test_each_text_is_embedded_once_however_often_the_review_refits():
    items, vectors = separable_by_vector()
    embedder = Embedder(vectors)
    refit = LearnerRefit(contract(), CachedVectors(embedder))
    refit(items[:10])
    refit(items)
    assert sorted(embedder.asked) == sorted(item.text for item in items)


def test_too_few_labels_embed_nothing_yet():
    items, vectors = separable_by_vector()
    embedder = Embedder(vectors)
    report = LearnerRefit(contract(), CachedVectors(embedder))(items[:3])
    assert report.f1 is None and embedder.asked == []


def test_without_a_representation_the_threshold_alone_is_fitted_and_the_report_says_why():
    items, vectors = separable_by_vector()
    embedder = Embedder(vectors, NoProbabilities("the ollama backend cannot read the prompt's hidden state"))
    refit = LearnerRefit(contract(), CachedVectors(embedder))
    report = refit(items)
    assert report.winner == PROBABILITY and not report.head_wins
    assert report.lines()[0] == "threshold on the prompt's probability, 20 labels (10 blocked)"
    assert report.lines()[1].startswith("cross-validated F1 ")
    assert report.lines()[-1] == ("only the threshold is fitted, as the model gives no representation of the texts: "
                                  "the ollama backend cannot read the prompt's hidden state")
    refit(items)
    assert len(embedder.asked) == 20  # not asked again


def test_a_refit_told_why_it_has_no_representation_says_so_last():
    items, _ = separable_by_vector()
    report = LearnerRefit(contract(), note="only the threshold is fitted: why")(items)
    assert report.winner == PROBABILITY and report.lines()[-1] == "only the threshold is fitted: why"


def test_texts_the_prompt_gave_no_probability_still_teach_a_head():
    items, vectors = separable_by_vector()
    report = LearnerRefit(contract(), Embedder(vectors))([replace(item, scores=None) for item in items])
    assert [s.name for s in report.candidates] == [HEAD] and report.winner == HEAD
    assert report.boundary is None and report.lines()[1].startswith("head: F1 1.00")
