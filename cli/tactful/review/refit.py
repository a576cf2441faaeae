"""How good the labels so far make tactful, and whether more of them still pay.

A review refits every few answers through one function, ``refit(labelled) -> RefitReport``,
so that whatever learns from the labels can be plugged in. ``ThresholdRefit`` is the one
tactful has today: the threshold on the prompt's probability that `tactful calibrate`
fits, judged by repeated stratified cross-validation (each text is judged by a threshold
fitted without it), with a learning curve over growing subsets of the labels: when
F1 still rises from half the labels to all of them, more labels pay.

It judges the "anything blocked" decision (the one a moderator acts on): a text is
positive when its labels name a blocked category, and its score is the probability of the
likeliest blocked category (``flagged`` in binary mode).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from tactful.engine.answer import Contract
from tactful.evaluation.calibration import MIN_PER_CLASS, fit_threshold, quality_at
from tactful.review.labels import Labelled
from tactful.review.queue import harm_score

FOLDS = 5
REPEATS = 5
CURVE_DRAWS = 5  # random subsets per smaller point of the learning curve
# F1 rising by this much from half the labels to all of them: more labels still pay.
STILL_PAYS = 0.02
METHOD = "threshold on the prompt's probability"


@dataclass(frozen=True)
class RefitReport:
    """The cross-validated quality of what the labels fit, and whether more labels pay.

    ``f1``/``fpr`` are None when the labels cannot be cross-validated yet (``why`` says
    what is missing); their spreads are standard deviations over the repeats. ``curve``:
    (labels used, F1) from smaller subsets to all. ``boundary``: the threshold fitted on
    every label, where the method has one, for the queue to centre on.
    """

    method: str
    labels: int
    positives: int
    f1: float | None = None
    f1_spread: float = 0.0
    fpr: float | None = None
    fpr_spread: float = 0.0
    curve: tuple[tuple[int, float], ...] = ()
    more_pay: bool | None = None
    why: str = ""
    boundary: float | None = None

    def lines(self) -> list[str]:
        """The report as a moderator reads it, a line each."""
        head = f"{self.method}, {self.labels} labels ({self.positives} blocked)"
        if self.f1 is None:
            return [head, self.why]
        quality = (f"cross-validated F1 {self.f1:.2f} +/- {self.f1_spread:.2f}, "
                   f"FPR {self.fpr or 0.0:.2f} +/- {self.fpr_spread:.2f}")
        curve = "learning curve: " + ", ".join(f"{n} labels F1 {f1:.2f}" for n, f1 in self.curve)
        return [head, quality, curve, self.why]


class ThresholdRefit:
    """``refit`` for a profile: today's threshold, cross-validated on the labels."""

    def __init__(self, contract: Contract, seed: int = 0) -> None:
        self.contract, self.seed = contract, seed

    def __call__(self, labelled: list[Labelled]) -> RefitReport:
        pairs = [(score, self._positive(item)) for item in labelled
                 if item.scores is not None and (score := harm_score(item.scores, self.contract)) is not None]
        values, truth = [p for p, _ in pairs], [t for _, t in pairs]
        positives = sum(truth)
        if labelled and not pairs:
            return RefitReport(METHOD, 0, 0, why="the model gave these texts no probabilities (a backend without "
                                                 "log-probabilities), so there is no threshold to fit")
        if min(positives, len(truth) - positives) < MIN_PER_CLASS:
            return RefitReport(METHOD, len(truth), positives, more_pay=True,
                               why=f"cross-validation needs {MIN_PER_CLASS} labelled texts on each side: "
                                   f"{positives} blocked and {len(truth) - positives} acceptable so far")
        f1s, fprs = self._cross_validate(values, truth, REPEATS)
        curve = (*self._curve(values, truth), (len(truth), statistics.fmean(f1s)))
        more_pay, why = _verdict(curve)
        fitted = fit_threshold(values, truth)
        return RefitReport(METHOD, len(truth), positives, statistics.fmean(f1s), _spread(f1s),
                           statistics.fmean(fprs), _spread(fprs), curve, more_pay, why,
                           fitted.threshold if fitted else None)

    def _positive(self, item: Labelled) -> bool:
        return any(label in self.contract.blocked for label in item.labels)

    def _cross_validate(self, values: Sequence[float], truth: Sequence[bool], repeats: int) -> tuple[list[float], list[float]]:
        """F1 and FPR of each repeat, every text judged once per repeat by a threshold fitted without it."""
        from sklearn.model_selection import RepeatedStratifiedKFold

        folds = min(FOLDS, sum(truth), len(truth) - sum(truth))
        splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=self.seed)
        splits = list(splitter.split([[v] for v in values], truth))
        f1s, fprs = [], []
        for start in range(0, len(splits), folds):  # the splits come repeat by repeat
            flagged = [False] * len(values)
            for train, test in splits[start:start + folds]:
                threshold = self._threshold([values[i] for i in train], [truth[i] for i in train])
                for i in test:
                    flagged[i] = values[i] >= threshold
            quality = quality_at([float(f) for f in flagged], truth, 0.5)
            f1s.append(quality.f1)
            fprs.append(quality.fpr)
        return f1s, fprs

    def _threshold(self, values: Sequence[float], truth: Sequence[bool]) -> float:
        fitted = fit_threshold(values, truth)
        # A fold too small to fit on keeps the profile's threshold, as calibrate would.
        return fitted.threshold if fitted is not None else self.contract.binary_threshold

    def _curve(self, values: Sequence[float], truth: Sequence[bool]) -> list[tuple[int, float]]:
        """Mean cross-validated F1 on random stratified subsets of half and three quarters of the labels."""
        from sklearn.model_selection import StratifiedShuffleSplit

        points = []
        for size in sorted({len(truth) // 2, 3 * len(truth) // 4} - {len(truth)}):
            draws = StratifiedShuffleSplit(n_splits=CURVE_DRAWS, train_size=size, random_state=self.seed)
            scores = []
            try:
                for subset, _ in draws.split([[v] for v in values], truth):
                    part = [truth[i] for i in subset]
                    if min(sum(part), len(part) - sum(part)) >= MIN_PER_CLASS:
                        f1s, _ = self._cross_validate([values[i] for i in subset], part, 1)
                        scores.append(statistics.fmean(f1s))
            except ValueError:  # too few labels to draw a stratified subset of this size
                continue
            if scores:
                points.append((size, statistics.fmean(scores)))
        return points


def _verdict(curve: Sequence[tuple[int, float]]) -> tuple[bool | None, str]:
    """Whether more labels pay, read off the learning curve, and why in numbers."""
    if len(curve) < 2:
        return None, "too few labels for a learning curve yet"
    (first, low), (last, high) = curve[0], curve[-1]
    gain = high - low
    if gain >= STILL_PAYS:
        return True, f"more labels still pay: F1 rose {gain:+.2f} from {first} to {last} labels"
    return False, f"the curve is flat (F1 {gain:+.2f} from {first} to {last} labels): more labels add little now"


def _spread(values: Sequence[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0
