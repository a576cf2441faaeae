"""How good the labels so far make tactful, and whether more of them still pay.

A review refits every few answers through one function, ``refit(labelled) -> RefitReport``,
so that whatever learns from the labels can be plugged in. ``LearnerRefit`` is the one
tactful uses: the learner `tactful calibrate` uses (``learning.choose.cross_validate``),
which scores the prompt's probability against a fitted threshold, a head on the model's
representation of each text, and both combined, by repeated stratified cross-validation
under a false-positive cap, and chooses one. A learning curve over growing subsets of the
labels says whether more labels pay: when the chosen rule's F1 still rises from half the
labels to all of them, they do.

The representation comes from ``vectors`` (texts -> vectors; ``CachedVectors`` embeds
each text once per review). Without it, or where the backend cannot give one, only the
threshold competes, and the report says why in one line.

It judges the "anything blocked" decision (the one a moderator acts on): a text is
positive when its labels name a blocked category, and its score is the probability of the
likeliest blocked category (``flagged`` in binary mode).
"""

from __future__ import annotations

import statistics
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from tactful.engine.answer import Contract
from tactful.errors import BackendError, NoProbabilities, UsageError
from tactful.evaluation.calibration import MIN_PER_CLASS, fit_threshold
from tactful.learning import choose
from tactful.review.labels import Labelled
from tactful.review.queue import harm_score

# Fewer repeats than calibrate's (10): a refit runs every few answers, and fits a head
# repeats x folds times; calibrate makes the choice that is saved.
REPEATS = 5
CURVE_DRAWS = 5  # random subsets per smaller point of the learning curve
# F1 rising by this much from half the labels to all of them: more labels still pay.
STILL_PAYS = 0.02
THRESHOLD_ONLY = "threshold on the prompt's probability"
CHOICE = "cross-validated choice of what decides"
_NO_PROBABILITIES = ("the model gave these texts no probabilities (a backend without log-probabilities), "
                     "so there is no threshold to fit")

# Texts -> their representations, in order; raises NoProbabilities or BackendError where
# the backend cannot give them.
Vectors = Callable[[Sequence[str]], list[list[float]]]


@dataclass(frozen=True)
class RefitReport:
    """The cross-validated quality of what the labels fit, and whether more labels pay.

    ``f1``/``fpr`` (the chosen rule's) are None when the labels cannot be cross-validated
    yet (``why`` says what is missing); their spreads are standard deviations over the
    repeats. ``curve``: (labels used, F1) from smaller subsets to all. ``boundary``: the
    threshold fitted on every label, where the prompt gave probabilities, for the queue to
    centre on. ``candidates``: every rule's cross-validated quality, ``winner`` the chosen
    one and ``reason`` why; ``note``: why only the threshold competed, where it did.
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
    candidates: tuple[choose.Scored, ...] = ()
    winner: str | None = None
    reason: str = ""
    note: str = ""

    @property
    def head_wins(self) -> bool:
        """Whether a head (alone or with the prompt's probability) is what should decide."""
        return self.winner in (choose.HEAD, choose.COMBINED)

    def lines(self) -> list[str]:
        """The report as a moderator reads it, a line each."""
        head = f"{self.method}, {self.labels} labels ({self.positives} blocked)"
        note = [self.note] if self.note else []
        if self.f1 is None:
            return [head, self.why, *note]
        if len(self.candidates) > 1 or self.head_wins:  # a choice, or a head alone: name what decides
            rules = [f"{s.describe()}{'  <- chosen' if s.name == self.winner else ''}" for s in self.candidates]
            chosen = [f"chosen: {self.reason}"]
        else:
            rules = [f"cross-validated F1 {self.f1:.2f} +/- {self.f1_spread:.2f}, "
                     f"FPR {self.fpr or 0.0:.2f} +/- {self.fpr_spread:.2f}"]
            chosen = []
        curve = "learning curve: " + ", ".join(f"{n} labels F1 {f1:.2f}" for n, f1 in self.curve)
        return [head, *rules, *chosen, curve, self.why, *note]


class CachedVectors:
    """``Vectors`` that compute each text's representation once per review.

    Embedding is the expensive part of a refit (a model pass per text), and every refit
    sees the earlier answers again. Refits run in threads, and a model computes one text
    at a time: a lock makes a second refit wait for the first.
    """

    def __init__(self, compute: Callable[[list[str]], Iterable[list[float]]]) -> None:
        self._compute = compute
        self._known: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> list[list[float]]:
        with self._lock:
            missing = [text for text in dict.fromkeys(texts) if text not in self._known]
            for text, vector in zip(missing, self._compute(missing), strict=True):
                self._known[text] = vector
            return [self._known[text] for text in texts]


@dataclass(frozen=True)
class _Inputs:
    """What the learner reads, one entry per labelled text that has them."""

    truth: list[bool]
    probabilities: list[float] | None
    vectors: list[list[float]] | None

    def subset(self, rows: Iterable[int]) -> _Inputs:
        kept = list(rows)
        return _Inputs([self.truth[i] for i in kept],
                       None if self.probabilities is None else [self.probabilities[i] for i in kept],
                       None if self.vectors is None else [self.vectors[i] for i in kept])

    def cross_validate(self, max_fpr: float, repeats: int, seed: int, only: Sequence[str] = choose.CANDIDATES) -> choose.Choice:
        return choose.cross_validate(self.truth, probabilities=self.probabilities, vectors=self.vectors,
                                     max_fpr=max_fpr, repeats=repeats, seed=seed, only=only)


class LearnerRefit:
    """``refit`` for a profile: calibrate's cross-validated choice, on the labels so far.

    ``vectors``: the representation of a text; None (or a backend that cannot give it)
    leaves the threshold alone, said in ``note`` (or in the report's last line).
    """

    def __init__(self, contract: Contract, vectors: Vectors | None = None, *,
                 max_fpr: float = choose.DEFAULT_MAX_FPR, note: str = "", seed: int = 0) -> None:
        self.contract, self.vectors, self.max_fpr, self.seed = contract, vectors, max_fpr, seed
        self.note = note

    def __call__(self, labelled: list[Labelled]) -> RefitReport:
        scored = [(item, score) for item in labelled
                  if item.scores is not None and (score := harm_score(item.scores, self.contract)) is not None]
        if labelled and not scored and self.vectors is None:
            return RefitReport(self._method(), 0, 0, why=_NO_PROBABILITIES, note=self._note())
        # Where the prompt gave no probabilities at all, a head may still learn from every text.
        kept = [item for item, _ in scored] or labelled
        truth = [self._positive(item) for item in kept]
        positives = sum(truth)
        if min(positives, len(truth) - positives) < MIN_PER_CLASS:  # counted before any text is embedded
            return RefitReport(self._method(), len(truth), positives, more_pay=True, note=self._note(),
                               why=f"cross-validation needs {MIN_PER_CLASS} labelled texts on each side: "
                                   f"{positives} blocked and {len(truth) - positives} acceptable so far")
        vectors = self._vectors(kept)
        if not scored and vectors is None:
            return RefitReport(self._method(), 0, 0, why=_NO_PROBABILITIES, note=self._note())
        inputs = _Inputs(truth, [score for _, score in scored] or None, vectors)
        choice = inputs.cross_validate(self.max_fpr, REPEATS, self.seed)
        won = choice.of(choice.winner)
        curve = (*self._curve(inputs, choice.winner), (len(truth), won.f1))
        more_pay, why = _verdict(curve)
        return RefitReport(self._method(), len(truth), positives, won.f1, won.f1_sd, won.fpr, won.fpr_sd, curve,
                           more_pay, why, self._boundary(inputs), choice.scored, choice.winner,
                           choice.reason, self._note())

    def _method(self) -> str:
        return CHOICE if self.vectors is not None else THRESHOLD_ONLY

    def _note(self) -> str:
        return "" if self.vectors is not None else self.note

    def _vectors(self, labelled: list[Labelled]) -> list[list[float]] | None:
        """The texts' representations; None, remembered with why, where the backend has none."""
        if self.vectors is None or not labelled:
            return None
        try:
            return self.vectors([item.text for item in labelled])
        except (NoProbabilities, BackendError) as exc:
            said = exc.message if isinstance(exc, BackendError) else str(exc)
            self.vectors, self.note = None, f"only the threshold is fitted, as the model gives no representation of the texts: {said}"
            return None

    def _positive(self, item: Labelled) -> bool:
        return any(label in self.contract.blocked for label in item.labels)

    def _boundary(self, inputs: _Inputs) -> float | None:
        if inputs.probabilities is None:
            return None
        fitted = fit_threshold(inputs.probabilities, inputs.truth, self.max_fpr)
        return fitted.threshold if fitted is not None else None

    def _curve(self, inputs: _Inputs, winner: str) -> list[tuple[int, float]]:
        """The chosen rule's mean cross-validated F1 on random stratified subsets of half and
        three quarters of the labels."""
        from sklearn.model_selection import StratifiedShuffleSplit

        truth = inputs.truth
        points = []
        for size in sorted({len(truth) // 2, 3 * len(truth) // 4} - {len(truth)}):
            draws = StratifiedShuffleSplit(n_splits=CURVE_DRAWS, train_size=size, random_state=self.seed)
            scores = []
            try:
                for subset, _ in draws.split([[0]] * len(truth), truth):
                    part = inputs.subset(subset)
                    if min(sum(part.truth), len(part.truth) - sum(part.truth)) >= MIN_PER_CLASS:
                        scores.append(part.cross_validate(self.max_fpr, 1, self.seed, (winner,)).of(winner).f1)
            except (ValueError, UsageError):  # too few labels to draw a stratified subset of this size
                continue
            if scores:
                points.append((size, statistics.fmean(scores)))
        return points


def _verdict(curve: Sequence[tuple[int, float]]) -> tuple[bool | None, str]:
    """Whether more labels pay, read off the learning curve, and why in numbers."""
    if len(curve) < 2:
        return None, "too few labels for a learning curve yet"
    (first, low), (last, high) = curve[0], curve[-1]
    if high == 0:  # a flat curve at 0 is a rule that flags nothing, not one that has learnt all it can
        return True, (f"nothing learnt yet: at {last} labels no rule finds a blocked text without flagging too "
                      "many acceptable ones; more labels (blocked texts above all) should pay")
    gain = high - low
    if gain >= STILL_PAYS:
        return True, f"more labels still pay: F1 rose {gain:+.2f} from {first} to {last} labels"
    return False, f"the curve is flat (F1 {gain:+.2f} from {first} to {last} labels): more labels add little now"
