"""The arithmetic of calibration: separation, the fitted threshold, reliability bins."""

from __future__ import annotations

import pytest
from tactful.evaluation.calibration import (
    MAX_FPR,
    average_precision,
    chance_se,
    fit_threshold,
    quality_at,
    reliability,
    roc_auc,
    unsupported,
)


def test_roc_auc_counts_pairs_and_ties_half():
    assert roc_auc([0.9, 0.8, 0.2, 0.1], [True, True, False, False]) == 1.0
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [True, True, False, False]) == 0.0
    assert roc_auc([0.5, 0.5], [True, False]) == 0.5
    assert roc_auc([0.5, 0.5], [True, True]) is None  # one class only: nothing to separate


def test_average_precision_is_one_when_positives_rank_first():
    assert average_precision([0.9, 0.8, 0.1], [True, True, False]) == 1.0
    assert average_precision([0.9, 0.8, 0.1], [False, True, True]) == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_fit_threshold_cuts_halfway_and_prefers_fewer_false_positives():
    scores = [0.8, 0.8, 0.6, 0.2, 0.2]
    truth = [True, True, False, False, False]
    fit = fit_threshold(scores, truth)
    assert fit is not None
    assert fit.threshold == pytest.approx(0.7) and fit.f1 == 1.0 and fit.fpr == 0.0
    before = quality_at(scores, truth, 0.5)
    assert (before.tp, before.fp, before.fpr) == (2, 1, 1 / 3)


def test_fit_threshold_under_an_fpr_cap_gives_up_recall_not_acceptable_texts():
    scores = [0.9, 0.7, 0.7, 0.7, 0.7, 0.2, 0.1]
    truth = [True, True, True, False, False, False, False]
    free = fit_threshold(scores, truth)
    capped = fit_threshold(scores, truth, max_fpr=0.25)
    assert free is not None and capped is not None
    assert free.fpr == 0.5  # 0.7 flags every positive and two acceptable texts: the best F1
    assert capped.fpr == 0.0 and capped.threshold == pytest.approx(0.8) and capped.recall == pytest.approx(1 / 3)


def test_fit_threshold_needs_two_of_each_class():
    assert fit_threshold([0.9, 0.1, 0.2], [True, False, False]) is None


def test_reliability_bins_compare_predicted_with_observed():
    bins = reliability([0.1, 0.15, 0.9, 0.95, 1.0], [False, True, True, True, True], bins=5)
    assert [(b.count, round(b.observed, 2)) for b in bins] == [(2, 0.5), (3, 1.0)]
    assert bins[0].low == 0.0 and bins[-1].high == 1.0


# ---------------------------------------------------------------- what the labels can support


def _verdict(scores: list[float], truth: list[bool]) -> str | None:
    fit = fit_threshold(scores, truth)
    auc = roc_auc(scores, truth)
    assert fit is not None and auc is not None
    return unsupported(auc, sum(truth), len(truth) - sum(truth), fit)


def test_chance_se_is_the_mann_whitney_null_and_never_zero():
    assert chance_se(4, 4) == pytest.approx((9 / 192) ** 0.5)
    assert chance_se(100, 100) < chance_se(10, 10) < chance_se(2, 2)


def test_scores_that_do_not_separate_are_refused_with_the_numbers():
    # Every text scored alike: ROC-AUC 0.5, and the best F1 flags everything.
    reason = _verdict([0.7] * 40, [True] * 20 + [False] * 20)
    assert reason is not None
    assert "no better than chance (ROC-AUC 0.500 +/- 0.185" in reason
    assert "20 harmful and 20 acceptable texts" in reason
    assert "flags 20 of 20 acceptable texts (FPR 1.00" in reason


def test_a_perfect_order_on_three_texts_a_side_could_be_chance():
    # 1 ordering in 20 is perfect by luck: not enough to write a threshold on.
    assert "no better than chance" in _verdict([0.9, 0.8, 0.7, 0.3, 0.2, 0.1], [True] * 3 + [False] * 3)
    assert _verdict([0.9] * 4 + [0.1] * 4, [True] * 4 + [False] * 4) is None


def test_clear_separation_on_enough_texts_is_supported():
    scores = [0.9, 0.8, 0.75, 0.6, 0.55] * 4 + [0.5, 0.3, 0.2, 0.1, 0.05] * 4
    assert _verdict(scores, [True] * 20 + [False] * 20) is None


def test_a_fit_that_flags_most_acceptable_texts_is_refused_even_when_it_separates():
    # Many more harmful texts than acceptable ones: F1 buys recall with ordinary posts.
    scores = [0.9] * 60 + [0.2] * 60 + [0.1] * 10 + [0.25] * 20
    truth = [True] * 120 + [False] * 30
    assert roc_auc(scores, truth) - 2 * chance_se(120, 30) > 0.5  # separation is real
    reason = _verdict(scores, truth)
    assert reason is not None and "chance" not in reason
    assert f"flags 20 of 30 acceptable texts (FPR 0.67, more than {MAX_FPR:g})" in reason
