"""Thresholds fitted to a community's own labels, and how well scores separate the classes.

Everything here works on pairs of (probability, is it really positive) for one category;
nothing knows about models or profiles. ``roc_auc`` and ``average_precision`` say whether
a model can tell the classes apart at all, whatever the threshold; ``fit_threshold``
picks the threshold that serves the labels best; ``reliability`` compares predicted
probabilities with observed rates, bin by bin. ``unsupported`` says when the labels
cannot back a fitted threshold at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

# With fewer labelled texts of either class, a fitted threshold is noise: keep the old one.
MIN_PER_CLASS = 2
# ROC-AUC must clear chance (0.5) by this many of its standard errors: about 98% one-sided.
CHANCE_MARGIN = 2.0
# A threshold that flags more than this share of the acceptable texts serves no moderator:
# F1 picks one only when the harmful texts cannot be told apart from the rest.
MAX_FPR = 0.5


@dataclass(frozen=True)
class Quality:
    """Counts and rates of a decision rule on labelled texts."""

    threshold: float
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def fpr(self) -> float:
        """The share of acceptable texts flagged."""
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0


def quality_at(scores: Sequence[float], positives: Sequence[bool], threshold: float) -> Quality:
    """How the rule "flag when the score is at or above ``threshold``" does."""
    tp = fp = fn = tn = 0
    for score, positive in zip(scores, positives):
        flagged = score >= threshold
        if positive:
            tp, fn = tp + flagged, fn + (not flagged)
        else:
            fp, tn = fp + flagged, tn + (not flagged)
    return Quality(threshold, tp, fp, fn, tn)


def fit_threshold(scores: Sequence[float], positives: Sequence[bool], max_fpr: float | None = None) -> Quality | None:
    """The threshold with the best F1 on these labels; None when either class is too rare.

    With ``max_fpr``, only thresholds that flag at most that share of the acceptable texts
    compete, where any does (the highest threshold always does: it flags nothing).

    Candidates sit halfway between neighbouring distinct scores, so a text scored exactly
    like a labelled one is judged like it, and the cut does not hug one labelled text. On a
    tie in F1 the fewer false positives win, then the higher threshold: moderators will not
    tolerate a tool that flags ordinary posts.
    """
    n_pos = sum(positives)
    if n_pos < MIN_PER_CLASS or len(positives) - n_pos < MIN_PER_CLASS:
        return None
    distinct = sorted(set(scores))
    candidates = [(a + b) / 2 for a, b in pairwise(distinct)]
    candidates = [min(distinct[0], 0.5) / 2, *candidates, (distinct[-1] + 1.0) / 2]
    fits = [quality_at(scores, positives, t) for t in candidates]
    if max_fpr is not None:
        fits = [q for q in fits if q.fpr <= max_fpr] or fits
    return max(fits, key=lambda q: (round(q.f1, 9), -q.fp, q.threshold))


def roc_auc(scores: Sequence[float], positives: Sequence[bool]) -> float | None:
    """The chance that a random positive scores above a random negative (ties count half)."""
    pos = [s for s, p in zip(scores, positives) if p]
    neg = [s for s, p in zip(scores, positives) if not p]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def average_precision(scores: Sequence[float], positives: Sequence[bool]) -> float | None:
    """The area under the precision-recall curve, as the mean precision at each positive."""
    total = sum(positives)
    if not total:
        return None
    ranked = sorted(zip(scores, positives), key=lambda pair: -pair[0])
    hits, summed = 0, 0.0
    for rank, (_, positive) in enumerate(ranked, start=1):
        if positive:
            hits += 1
            summed += hits / rank
    return summed / total


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int
    predicted: float  # the mean probability the model gave
    observed: float  # the share that really was positive


def reliability(scores: Sequence[float], positives: Sequence[bool], bins: int = 5) -> list[Bin]:
    """Predicted against observed, in equal-width probability bins (empty bins left out)."""
    result = []
    for i in range(bins):
        low, high = i / bins, (i + 1) / bins
        inside = [(s, p) for s, p in zip(scores, positives) if low <= s < high or (i == bins - 1 and s == 1.0)]
        if inside:
            predicted = sum(s for s, _ in inside) / len(inside)
            observed = sum(p for _, p in inside) / len(inside)
            result.append(Bin(low, high, len(inside), predicted, observed))
    return result


def chance_se(n_pos: int, n_neg: int) -> float:
    """The standard error of ROC-AUC when the scores do not separate the classes.

    The Mann-Whitney U statistic's, under the null hypothesis. It tests exactly "no
    better than chance", and unlike Hanley-McNeil's estimate it does not shrink to 0 at
    a perfect ROC-AUC, which would let two texts on each side pass for proof.
    """
    return math.sqrt((n_pos + n_neg + 1) / (12 * n_pos * n_neg))


def unsupported(auc: float, n_pos: int, n_neg: int, fit: Quality) -> str | None:
    """Why these labels cannot back ``fit`` (ROC-AUC ``auc`` on ``n_pos``/``n_neg`` texts), or None."""
    reasons = []
    se = chance_se(n_pos, n_neg)
    if auc - CHANCE_MARGIN * se <= 0.5:
        reasons.append(f"the scores separate the classes no better than chance (ROC-AUC {auc:.3f} +/- "
                       f"{CHANCE_MARGIN * se:.3f} at {CHANCE_MARGIN:g} standard errors, must clear 0.5; "
                       f"{n_pos} harmful and {n_neg} acceptable texts)")
    if fit.fpr > MAX_FPR:
        reasons.append(f"threshold {fit.threshold:.3g} flags {fit.fp} of {fit.fp + fit.tn} acceptable texts "
                       f"(FPR {fit.fpr:.2f}, more than {MAX_FPR:g})")
    return " and ".join(reasons) or None
