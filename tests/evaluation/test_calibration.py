"""The arithmetic of calibration: separation, the fitted threshold, reliability bins."""

from __future__ import annotations

import pytest
from tactful.evaluation.calibration import (
    average_precision,
    fit_threshold,
    quality_at,
    reliability,
    roc_auc,
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


def test_fit_threshold_needs_two_of_each_class():
    assert fit_threshold([0.9, 0.1, 0.2], [True, False, False]) is None


def test_reliability_bins_compare_predicted_with_observed():
    bins = reliability([0.1, 0.15, 0.9, 0.95, 1.0], [False, True, True, True, True], bins=5)
    assert [(b.count, round(b.observed, 2)) for b in bins] == [(2, 0.5), (3, 1.0)]
    assert bins[0].low == 0.0 and bins[-1].high == 1.0
