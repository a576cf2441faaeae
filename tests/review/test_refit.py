"""The default refit: today's threshold, cross-validated on the labels, and its learning curve."""

from __future__ import annotations

import random

import pytest
from tactful.review.labels import Labelled
from tactful.review.refit import LearnerRefit, _verdict

from tests.support.review import contract


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
])
def test_more_labels_pay_while_f1_still_rises_from_half_the_labels_to_all(curve, pays):
    assert _verdict(curve)[0] is pays


def test_answers_the_model_gave_no_probabilities_say_so():
    report = LearnerRefit(contract())([Labelled("x", "a text", ("spam",), None)])
    assert report.f1 is None and report.more_pay is None
    assert report.lines() == ["threshold on the prompt's probability, 0 labels (0 blocked)",
                              "the model gave these texts no probabilities (a backend without log-probabilities), "
                              "so there is no threshold to fit"]
