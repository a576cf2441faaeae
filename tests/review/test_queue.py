"""The review queue's picks: near the boundary first, unlike each other, both sides."""

from __future__ import annotations

import math

import pytest
from tactful.review.queue import Candidate, margin, pick

from tests.support.review import contract


def ids(picked: list[Candidate]) -> list[str]:
    return [c.id for c in picked]


SURE_SPAM = Candidate("sure-spam", "buy followers buy likes", 5.0)
NEAR_SPAM = Candidate("near-spam", "buy cheap pills now", 0.1)
NEAR_SPAM_AGAIN = Candidate("near-spam-again", "buy cheap pills now!", 0.15)
OTHER_SPAM = Candidate("other-spam", "win a free cruise today", 0.6)
NEAR_OK = Candidate("near-ok", "lovely garden photo", -0.3)
SURE_OK = Candidate("sure-ok", "see you at the meetup", -6.0)


def test_the_texts_nearest_the_boundary_come_first_one_from_each_side():
    assert ids(pick([SURE_SPAM, SURE_OK, NEAR_OK, NEAR_SPAM], 2)) == ["near-spam", "near-ok"]


def test_a_text_like_one_picked_already_waits_for_a_different_one():
    # near-spam-again is nearer the boundary than other-spam, but says what near-spam said.
    picked = pick([NEAR_SPAM, NEAR_SPAM_AGAIN, OTHER_SPAM, NEAR_OK], 3)
    assert ids(picked) == ["near-spam", "near-ok", "other-spam"]


def test_labelled_texts_count_as_picked_for_likeness_and_for_sides():
    # near-spam is labelled: its twin waits, and the acceptable side is asked about next.
    assert ids(pick([NEAR_SPAM_AGAIN, OTHER_SPAM, SURE_OK], 1, chosen=[NEAR_SPAM])) == ["sure-ok"]
    assert ids(pick([NEAR_SPAM_AGAIN, OTHER_SPAM], 1, chosen=[NEAR_SPAM])) == ["other-spam"]


def test_one_side_empty_the_other_fills_the_picks_and_n_caps_them():
    assert ids(pick([SURE_SPAM, NEAR_SPAM, OTHER_SPAM], 5)) == ["near-spam", "other-spam", "sure-spam"]
    assert pick([], 3) == []


def test_without_scores_the_picks_spread_over_the_words():
    texts = [Candidate("a", "buy pills"), Candidate("b", "buy pills"), Candidate("c", "garden roses")]
    assert ids(pick(texts, 2)) == ["a", "c"]


def test_margin_is_log_odds_over_the_threshold_the_decision_uses():
    binary = contract(thresholds={"toxicity": 0.8, "spam": 0.6})  # binary: the lower one decides
    assert margin({"flagged": 0.6}, binary) == pytest.approx(0.0)
    assert margin({"flagged": 0.9}, binary) == pytest.approx(math.log(9) - math.log(1.5))
    assert margin({"flagged": 0.5}, binary, boundary=0.5) == pytest.approx(0.0)
    multilabel = contract("multilabel", {"toxicity": 0.5, "spam": 0.9})
    # the category furthest over its own threshold decides; unblocked keys are not read
    assert margin({"toxicity": 0.2, "spam": 0.9, "negative-sentiment": 0.99}, multilabel) == pytest.approx(0.0)
    assert margin(None, binary) is None and margin({"category": 0.3}, binary) is None
    # a multiclass flag not named yet is decided as in binary mode
    assert margin({"flagged": 0.6}, contract("multiclass", {"toxicity": 0.8, "spam": 0.6})) == pytest.approx(0.0)


def test_a_class_the_answers_lack_is_sought_where_the_model_thinks_it_likeliest():
    # Three answers said acceptable, none blocked, though each sat on the flagged side (a
    # model that flags many ordinary posts): near the boundary is where acceptable texts
    # crowd, so the next pick is the text likeliest to be blocked, not the nearest.
    answers = [Candidate(f"ok{n}", f"ordinary post number {word}", 0.2, blocked=False)
               for n, word in enumerate(["one", "two", "three"])]
    pool = [Candidate("near", "what a day at the lake", 0.05), SURE_SPAM, SURE_OK]
    assert ids(pick(pool, 1, chosen=answers)) == ["sure-spam"]
    # One short is not yet short: the queue stays near the boundary.
    assert ids(pick(pool, 1, chosen=answers[:1])) == ["near"]


def test_answers_count_by_what_the_moderator_said_not_by_the_models_side():
    # Two answers on the flagged side that were acceptable: the blocked class is still owed.
    answers = [Candidate("a1", "nice cat picture", 0.3, blocked=False), Candidate("a2", "see you soon", 0.4, blocked=False)]
    assert ids(pick([NEAR_OK, NEAR_SPAM], 1, chosen=answers)) == ["near-spam"]
