"""Which rule should decide for a community: chosen by repeated stratified cross-validation.

Three candidates, each fitted to the same labelled texts:

- ``probability``: the prompt's probability against a fitted threshold (today's calibrate);
- ``head``: a penalised logistic regression on the model's representation of the text;
- ``combined``: the same regression with the prompt's probability (its log-odds) as one
  more input.

Each is scored on texts it was not fitted on, over several reshuffled stratified splits
(``repeats`` x ``folds``): every repeat judges every text once, out of fold, and its F1 and
false-positive rate are one sample; their mean and standard deviation are reported. The
winner has the best mean F1 among the candidates whose mean FPR stays under the cap
(moderators will not keep a tool that flags ordinary posts); on a tie the cheaper one wins
(``head`` costs only the text's tokens, ``combined`` costs the prompt as well).

Nothing here knows about models, profiles or files: numbers in, a ``Choice`` out, so the
review queue can refit after every few answers with the same function calibrate uses.
scikit-learn is imported only here (``pip install 'tactful[learn]'``).
"""

from __future__ import annotations

import importlib.util
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tactful.errors import UsageError
from tactful.evaluation.calibration import MIN_PER_CLASS, fit_threshold, quality_at

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Matrix = npt.NDArray[np.float64]

PROBABILITY = "probability"
HEAD = "head"
COMBINED = "combined"
# Cheapest first: a tie in F1 goes to the earlier one.
CANDIDATES = (HEAD, PROBABILITY, COMBINED)
INSTALL_HINT = "pip install 'tactful[learn]'"

DEFAULT_MAX_FPR = 0.1
REPEATS = 10
FOLDS = 5
# The logistic regression's inverse penalty on standardised inputs: with tens of labels
# and a thousand dimensions, a strong penalty keeps the head from memorising the texts.
PENALTY_C = 0.05
# The head flags a text when its probability reaches this (balanced class weights make
# 0.5 the point where both classes are equally likely, whatever their shares).
HEAD_THRESHOLD = 0.5
# Probabilities are clipped off 0 and 1 before their log-odds enter the combined head.
_EPS = 1e-6


@dataclass(frozen=True)
class Scored:
    """One candidate's cross-validated quality: mean and spread over the repeats."""

    name: str
    f1: float
    f1_sd: float
    fpr: float
    fpr_sd: float

    def describe(self) -> str:
        return f"{self.name}: F1 {self.f1:.2f} +/- {self.f1_sd:.2f}, FPR {self.fpr:.2f} +/- {self.fpr_sd:.2f}"


@dataclass(frozen=True)
class Choice:
    """Every candidate's cross-validated quality, the winner, and why it won."""

    scored: tuple[Scored, ...]
    winner: str
    reason: str
    max_fpr: float
    repeats: int
    folds: int
    positives: int
    total: int

    def of(self, name: str) -> Scored:
        return next(s for s in self.scored if s.name == name)


@dataclass(frozen=True)
class Rule:
    """A fitted decision rule, as the engine applies it (pure numbers, no library objects).

    ``probability``: flag when p >= ``threshold``. ``head``/``combined``: flag when
    sigmoid(weights . x + prob_weight * logit(p) + bias) >= ``threshold``.
    """

    kind: str
    threshold: float
    weights: tuple[float, ...] = ()
    bias: float = 0.0
    prob_weight: float = 0.0


def cross_validate(
    positives: Sequence[bool],
    *,
    probabilities: Sequence[float] | None = None,
    vectors: Sequence[Sequence[float]] | None = None,
    max_fpr: float = DEFAULT_MAX_FPR,
    repeats: int = REPEATS,
    folds: int = FOLDS,
    seed: int = 0,
    only: Sequence[str] = CANDIDATES,
) -> Choice:
    """Score every candidate the inputs allow (of ``only``), and choose one.

    ``positives`` says which texts are harmful (the target: one blocked category, or
    "anything blocked" in binary mode); ``probabilities`` are the prompt's, ``vectors``
    the representations, both in the same order. Raises UsageError when there is nothing
    to learn from: fewer than 2 texts of a class, or neither input.
    """
    truth = [bool(p) for p in positives]
    n_pos = sum(truth)
    if n_pos < MIN_PER_CLASS or len(truth) - n_pos < MIN_PER_CLASS:
        raise UsageError(f"cross-validation needs {MIN_PER_CLASS} labelled texts of each class "
                         f"(have {n_pos} harmful, {len(truth) - n_pos} acceptable): label more texts")
    features = _Features.of(truth, probabilities, vectors)
    names = [name for name in CANDIDATES if name in only and features.allows(name)]
    if not names:
        raise UsageError("nothing to cross-validate: give the prompt's probabilities, representations, or both")
    splits = _splits(truth, repeats, min(folds, n_pos, len(truth) - n_pos), seed)
    scored = tuple(_score(name, features, truth, splits, max_fpr) for name in names)
    winner, reason = _pick(scored, max_fpr)
    return Choice(scored, winner, reason, max_fpr, repeats, len(splits[0]), n_pos, len(truth))


def fit(
    name: str,
    positives: Sequence[bool],
    *,
    probabilities: Sequence[float] | None = None,
    vectors: Sequence[Sequence[float]] | None = None,
    max_fpr: float = DEFAULT_MAX_FPR,
) -> Rule:
    """Candidate ``name`` fitted on all the labelled texts: the rule to save and apply."""
    truth = [bool(p) for p in positives]
    features = _Features.of(truth, probabilities, vectors)
    return _FITTERS[name](features, truth, list(range(len(truth))), max_fpr)


def apply(rule: Rule, probability: float | None, vector: Sequence[float] | None) -> float:
    """The rule's score for one text: the probability, or the head's (compare with ``rule.threshold``)."""
    if rule.kind == PROBABILITY:
        assert probability is not None
        return probability
    assert vector is not None
    z = rule.bias + math.fsum(w * x for w, x in zip(rule.weights, vector))
    if rule.kind == COMBINED:
        assert probability is not None
        z += rule.prob_weight * _logit(probability)
    return _sigmoid(z)


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _Features:
    probabilities: list[float] | None
    vectors: Matrix | None

    @classmethod
    def of(cls, truth: list[bool], probabilities: Sequence[float] | None,
           vectors: Sequence[Sequence[float]] | None) -> _Features:
        np = _numpy()
        if probabilities is not None and len(probabilities) != len(truth):
            raise ValueError(f"{len(probabilities)} probabilities for {len(truth)} labels")
        matrix = None
        if vectors is not None:
            matrix = np.asarray(vectors, dtype=np.float64)
            if matrix.ndim != 2 or matrix.shape[0] != len(truth):
                raise ValueError(f"vectors of shape {matrix.shape} for {len(truth)} labels")
        return cls(None if probabilities is None else [float(p) for p in probabilities], matrix)

    def allows(self, name: str) -> bool:
        needs_probability = name in (PROBABILITY, COMBINED)
        needs_vectors = name in (HEAD, COMBINED)
        return ((not needs_probability or self.probabilities is not None)
                and (not needs_vectors or self.vectors is not None))

    def design(self, rows: list[int], with_probability: bool) -> Matrix:
        """The regression's inputs for ``rows``: the vectors, and the log-odds column."""
        np = _numpy()
        assert self.vectors is not None
        matrix = self.vectors[rows]
        if with_probability:
            assert self.probabilities is not None
            odds = np.array([[_logit(self.probabilities[i])] for i in rows])
            matrix = np.hstack([matrix, odds])
        return matrix


# ---------------------------------------------------------------- candidates


def _fit_probability(features: _Features, truth: list[bool], rows: list[int], max_fpr: float) -> Rule:
    assert features.probabilities is not None
    scores = [features.probabilities[i] for i in rows]
    labels = [truth[i] for i in rows]
    fitted = fit_threshold(scores, labels, max_fpr=max_fpr)
    return Rule(PROBABILITY, fitted.threshold if fitted is not None else 0.5)


def _fit_linear(kind: str) -> Callable[[_Features, list[bool], list[int], float], Rule]:
    def fit_rows(features: _Features, truth: list[bool], rows: list[int], max_fpr: float) -> Rule:
        np = _numpy()
        linear_model, preprocessing = _sklearn()
        with_probability = kind == COMBINED
        x = features.design(rows, with_probability)
        y = np.array([truth[i] for i in rows])
        # Standardised inputs put every dimension under the same penalty; the fitted
        # weights are mapped back to raw inputs so the saved head needs no scaler.
        scaler = preprocessing.StandardScaler().fit(x)
        model = linear_model.LogisticRegression(C=PENALTY_C, class_weight="balanced", max_iter=2000)
        model.fit(scaler.transform(x), y)
        scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
        weights = model.coef_[0] / scale
        bias = float(model.intercept_[0] - np.dot(weights, scaler.mean_))
        prob_weight = float(weights[-1]) if with_probability else 0.0
        kept = weights[:-1] if with_probability else weights
        return Rule(kind, HEAD_THRESHOLD, tuple(float(w) for w in kept), bias, prob_weight)

    return fit_rows


_FITTERS: dict[str, Callable[[_Features, list[bool], list[int], float], Rule]] = {
    PROBABILITY: _fit_probability,
    HEAD: _fit_linear(HEAD),
    COMBINED: _fit_linear(COMBINED),
}


# ---------------------------------------------------------------- cross-validation


Split = tuple[list[int], list[int]]


def _splits(truth: list[bool], repeats: int, folds: int, seed: int) -> list[list[Split]]:
    """``repeats`` stratified partitions into ``folds`` (train rows, test rows) pairs."""
    np = _numpy()
    from sklearn.model_selection import RepeatedStratifiedKFold

    cv = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    pairs = [(train.tolist(), test.tolist()) for train, test in cv.split(np.zeros(len(truth)), truth)]
    return [pairs[r * folds:(r + 1) * folds] for r in range(repeats)]


def _score(name: str, features: _Features, truth: list[bool], splits: list[list[Split]], max_fpr: float) -> Scored:
    f1s, fprs = [], []
    for repeat in splits:
        flagged = [False] * len(truth)
        for train, test in repeat:
            rule = _FITTERS[name](features, truth, train, max_fpr)
            for i in test:
                flagged[i] = _decides(rule, features, i)
        quality = quality_at([float(f) for f in flagged], truth, 0.5)
        f1s.append(quality.f1)
        fprs.append(quality.fpr)
    return Scored(name, statistics.fmean(f1s), _sd(f1s), statistics.fmean(fprs), _sd(fprs))


def _decides(rule: Rule, features: _Features, row: int) -> bool:
    probability = features.probabilities[row] if features.probabilities is not None else None
    vector = features.vectors[row] if features.vectors is not None else None
    return apply(rule, probability, vector) >= rule.threshold


def _sd(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def _pick(scored: tuple[Scored, ...], max_fpr: float) -> tuple[str, str]:
    """The best F1 under the FPR cap (cheapest on a tie); the lowest FPR when none stays under it."""
    order = {name: i for i, name in enumerate(CANDIDATES)}
    under = [s for s in scored if s.fpr <= max_fpr]
    if under:  # rounded: differences of 0.001 in a mean over a few repeats are noise
        best = max(under, key=lambda s: (round(s.f1, 3), -order[s.name]))
        why = (f"the best cross-validated F1 ({best.f1:.2f}) of the candidates whose FPR stays at or "
               f"under {max_fpr:g}")
        if best.f1 == 0:  # under the cap only by flagging nothing: say so, not "the best"
            why = (f"it flags (almost) nothing, the only way found to keep the FPR at or under {max_fpr:g}: "
                   "label more texts, or raise --max-fpr")
    else:
        best = min(scored, key=lambda s: (round(s.fpr, 3), -round(s.f1, 3), order[s.name]))
        why = (f"the fewest acceptable texts flagged (FPR {best.fpr:.2f}), as no candidate keeps its FPR at or "
               f"under {max_fpr:g}: label more texts, or raise --max-fpr")
    others = [f"{s.name} F1 {s.f1:.2f} at FPR {s.fpr:.2f}" for s in scored if s is not best]
    return best.name, f"{best.name}: {why}" + (f" ({'; '.join(others)})" if others else "")


# ---------------------------------------------------------------- helpers


def _logit(p: float) -> float:
    p = min(max(p, _EPS), 1 - _EPS)
    return math.log(p / (1 - p))


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def _numpy() -> Any:
    _require_sklearn()  # numpy comes with it
    import numpy

    return numpy


def _sklearn() -> tuple[Any, Any]:
    _require_sklearn()
    from sklearn import linear_model, preprocessing

    return linear_model, preprocessing


def available() -> bool:
    """Whether scikit-learn is installed (the learn extra). Found, not imported: importing
    it takes seconds, which a review would spend before its first screen."""
    return importlib.util.find_spec("sklearn") is not None


def _require_sklearn() -> None:
    if not available():
        raise UsageError(f"learning from labels needs scikit-learn: run `{INSTALL_HINT}`")
