"""One review: the judged texts, the answers given, what to ask next; no terminal here.

The interface (``review.ui``) turns keys into calls on a ``Session``; tests drive it
directly. Every answer reaches the labels file before the call returns; skips live only
as long as the session (a skipped text may be asked again in a later one). Undo goes back
one step of this session, an answer or a skip, and asks that text again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tactful.engine.answer import Contract
from tactful.review.labels import Labelled, LabelsFile
from tactful.review.queue import Candidate, margin, pick
from tactful.review.refit import RefitReport

Refit = Callable[[list[Labelled]], RefitReport]
# Keys for the blocked categories, in the profile's order; a, s, u and q are the others.
CATEGORY_KEYS = "123456789bcdefghijklmnoprtvwxyz"
ACCEPTABLE_KEY, SKIP_KEY, UNDO_KEY, QUIT_KEY = "a", "s", "u", "q"


@dataclass(frozen=True)
class Judged:
    """A text and what the model made of it."""

    id: str
    text: str
    source: str
    scores: Mapping[str, float] | None
    flagged: bool | None
    verdict: tuple[str, ...]  # the categories the model flagged
    moderation: Mapping[str, Any] = field(default_factory=dict)  # as classify writes it


def category_keys(blocked: Sequence[str]) -> dict[str, str]:
    """{key: category slug} for the blocked categories: 1 to 9, then letters."""
    return dict(zip(CATEGORY_KEYS, blocked))


class Session:
    """The queue, the answers and the undo history of one review."""

    def __init__(self, judged: Sequence[Judged], labels: LabelsFile, contract: Contract,
                 earlier: Sequence[Labelled] = ()) -> None:
        self.labels, self.contract = labels, contract
        self.answers: list[Labelled] = list(earlier)
        answered = {a.id for a in self.answers}
        self._pool: dict[str, Judged] = {j.id: j for j in judged if j.id not in answered}
        self._history: list[tuple[Judged, Labelled | None]] = []  # this session's steps, last last
        self._skipped: list[Judged] = []
        self.boundary: float | None = None  # a threshold the last refit fitted, once there is one
        self.answered_now = 0
        self.current: Judged | None = self._next()

    @property
    def remaining(self) -> int:
        """Texts still to ask about, the one shown included."""
        return len(self._pool) + (self.current is not None)

    def answer(self, labels: tuple[str, ...]) -> None:
        """The moderator's labels for the current text (() for acceptable), saved at once."""
        shown = self._take()
        given = Labelled(shown.id, shown.text, labels, shown.scores)
        self.labels.append([given])
        self.answers.append(given)
        self.answered_now += 1
        self._history.append((shown, given))
        self.current = self._next()

    def skip(self) -> None:
        shown = self._take()
        self._skipped.append(shown)
        self._history.append((shown, None))
        self.current = self._next()

    def undo(self) -> bool:
        """Go back one step of this session (False: nothing to undo); that text is asked again."""
        if not self._history:
            return False
        shown, given = self._history.pop()
        if given is None:
            self._skipped.remove(shown)
        else:
            self.labels.retract(given)
            self.answers.remove(given)
            self.answered_now -= 1
        if self.current is not None:
            self._pool[self.current.id] = self.current
        self.current = shown
        return True

    def refitted(self, report: RefitReport) -> None:
        """Centre the queue on the threshold a refit found."""
        self.boundary = report.boundary

    def _take(self) -> Judged:
        if self.current is None:
            raise LookupError("no text left to review")
        return self.current

    def _next(self) -> Judged | None:
        """The text most worth labelling now, away from every answer and skip so far."""
        if not self._pool:
            return None
        known = [answered(a, self.contract, self.boundary) for a in self.answers]
        known += [self._candidate(j.id, j.text, j.scores) for j in self._skipped]
        pool = [self._candidate(j.id, j.text, j.scores) for j in self._pool.values()]
        best = pick(pool, 1, known)[0]
        return self._pool.pop(best.id)

    def _candidate(self, rid: str, text: str, scores: Mapping[str, float] | None) -> Candidate:
        return Candidate(rid, text, margin(scores, self.contract, self.boundary))


def answered(answer: Labelled, contract: Contract, boundary: float | None = None) -> Candidate:
    """A labelled text as the queue weighs it: where the model put it, and what the answer was."""
    blocked = any(label in contract.blocked for label in answer.labels)
    return Candidate(answer.id, answer.text, margin(answer.scores, contract, boundary), blocked)


def with_scores(earlier: Sequence[Labelled], scores: Mapping[str, Mapping[str, float] | None]) -> list[Labelled]:
    """Earlier answers with the scores the model gives their texts now."""
    return [replace(a, scores=scores.get(a.id, a.scores)) for a in earlier]
