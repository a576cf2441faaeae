"""Choosing the rule by repeated stratified cross-validation, on synthetic labels."""

from __future__ import annotations

import random

import pytest
from tactful.errors import UsageError
from tactful.learning.choose import (
    COMBINED,
    HEAD,
    PROBABILITY,
    Scored,
    _pick,
    apply,
    cross_validate,
    fit,
)

pytest.importorskip("sklearn")


def _labels(n: int = 40) -> list[bool]:
    return [i % 2 == 0 for i in range(n)]


def _vectors(truth: list[bool], separable: bool, seed: int = 1, dims: int = 8) -> list[list[float]]:
    """Gaussian noise; with ``separable``, the first dimension says the class."""
    rng = random.Random(seed)
    return [[(5.0 if t else -5.0) * separable + rng.gauss(0, 1)] + [rng.gauss(0, 1) for _ in range(dims - 1)]
            for t in truth]


def _probabilities(truth: list[bool], separable: bool, seed: int = 2) -> list[float]:
    rng = random.Random(seed)
    if separable:
        return [rng.uniform(0.6, 0.95) if t else rng.uniform(0.05, 0.4) for t in truth]
    return [rng.uniform(0.3, 0.9) for _ in truth]  # flags many acceptable texts at 0.5


def test_the_head_wins_where_only_the_representation_separates():
    truth = _labels()
    choice = cross_validate(truth, probabilities=_probabilities(truth, False), vectors=_vectors(truth, True))
    assert choice.winner in (HEAD, COMBINED)  # the probability adds nothing, and may add noise
    assert {s.name for s in choice.scored} == {HEAD, PROBABILITY, COMBINED}
    head = choice.of(HEAD)
    assert head.f1 > 0.9 and head.fpr < 0.1
    assert choice.of(PROBABILITY).f1 < head.f1
    assert choice.reason.startswith(f"{choice.winner}: the best cross-validated F1")
    assert "probability F1" in choice.reason  # the rivals are named with their numbers
    assert (choice.positives, choice.total, choice.repeats, choice.folds) == (20, 40, 10, 5)


def test_the_probability_wins_where_only_the_prompt_separates():
    truth = _labels()
    choice = cross_validate(truth, probabilities=_probabilities(truth, True), vectors=_vectors(truth, False))
    assert choice.of(PROBABILITY).f1 == 1.0
    assert choice.of(HEAD).f1 < 0.8  # noise: no better than a guess
    assert choice.winner in (PROBABILITY, COMBINED)
    assert choice.of(choice.winner).f1 >= choice.of(PROBABILITY).f1 - 0.001


def test_spread_is_reported_over_repeats():
    truth = _labels()
    choice = cross_validate(truth, vectors=_vectors(truth, False), repeats=4)
    (head,) = choice.scored
    assert head.name == HEAD and head.f1_sd > 0  # reshuffled splits disagree on noise


def test_nothing_under_the_fpr_cap_chooses_the_fewest_false_positives_and_says_so():
    scored = (Scored(HEAD, 0.9, 0.1, 0.3, 0.1), Scored(PROBABILITY, 0.7, 0.1, 0.2, 0.1))
    winner, reason = _pick(scored, 0.1)
    assert winner == PROBABILITY
    assert reason == ("probability: the fewest acceptable texts flagged (FPR 0.20), as no candidate keeps its FPR "
                      "at or under 0.1: label more texts, or raise --max-fpr (head F1 0.90 at FPR 0.30)")


def test_a_winner_under_the_cap_only_by_flagging_nothing_is_named_for_what_it_is():
    scored = (Scored(HEAD, 0.8, 0.1, 0.6, 0.1), Scored(PROBABILITY, 0.0, 0.0, 0.0, 0.0))
    winner, reason = _pick(scored, 0.1)
    assert winner == PROBABILITY
    assert reason.startswith("probability: it flags (almost) nothing, the only way found to keep the FPR at or "
                             "under 0.1: label more texts, or raise --max-fpr")


def test_a_tie_in_f1_goes_to_the_cheaper_candidate():
    scored = (Scored(PROBABILITY, 0.9, 0.0, 0.05, 0.0), Scored(HEAD, 0.9, 0.0, 0.05, 0.0),
              Scored(COMBINED, 0.9004, 0.0, 0.0, 0.0))
    assert _pick(scored, 0.1)[0] == HEAD


def test_the_fpr_cap_holds_back_the_threshold():
    truth = _labels()
    # The positives score 0.6-0.95; a third of the acceptable texts score as high.
    probabilities = [0.8 if t else (0.8 if i % 3 == 0 else 0.2) for i, t in enumerate(truth)]
    loose = cross_validate(truth, probabilities=probabilities, max_fpr=1.0)
    tight = cross_validate(truth, probabilities=probabilities, max_fpr=0.1)
    assert loose.of(PROBABILITY).fpr > 0.1
    assert tight.of(PROBABILITY).fpr <= 0.1


def test_too_few_labels_of_a_class_is_a_usage_error():
    with pytest.raises(UsageError, match="2 labelled texts of each class"):
        cross_validate([True, False, False, False], probabilities=[0.9, 0.1, 0.2, 0.3])
    with pytest.raises(UsageError, match="nothing to cross-validate"):
        cross_validate(_labels())


def test_few_labels_use_fewer_folds():
    truth = [True, True, True, False, False, False, False, False]
    choice = cross_validate(truth, probabilities=[0.9, 0.8, 0.7, 0.1, 0.2, 0.3, 0.2, 0.1])
    assert choice.folds == 3


def test_a_fitted_head_applies_to_new_texts_without_scikit_learn_objects():
    truth = _labels()
    rule = fit(HEAD, truth, vectors=_vectors(truth, True))
    assert rule.kind == HEAD and len(rule.weights) == 8 and rule.prob_weight == 0.0
    fresh = _labels(20)
    vectors = _vectors(fresh, True, seed=7)
    decided = [apply(rule, None, v) >= rule.threshold for v in vectors]
    # A strong penalty on 40 labels: right on nearly all new texts, not bound to be on all.
    assert sum(d == t for d, t in zip(decided, fresh)) >= 18


def test_a_fitted_combined_rule_weighs_the_probability():
    truth = _labels()
    rule = fit(COMBINED, truth, probabilities=_probabilities(truth, True), vectors=_vectors(truth, False))
    assert rule.prob_weight > 0  # a higher prompt probability pushes towards flagged
    assert apply(rule, 0.99, [0.0] * 8) > apply(rule, 0.01, [0.0] * 8)


def test_a_fitted_threshold_is_the_probability_rule():
    truth = _labels()
    rule = fit(PROBABILITY, truth, probabilities=_probabilities(truth, True))
    assert rule.kind == PROBABILITY and 0.4 <= rule.threshold <= 0.6
    assert apply(rule, 0.7, None) == 0.7


def test_only_the_candidates_asked_for_are_scored():
    truth = _labels()
    choice = cross_validate(truth, probabilities=_probabilities(truth, False), vectors=_vectors(truth, True),
                            only=(HEAD,), repeats=2)
    assert [s.name for s in choice.scored] == [HEAD] and choice.winner == HEAD
