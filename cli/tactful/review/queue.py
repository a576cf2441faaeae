"""Which texts a moderator should label next: those whose label would teach the most.

Two things make a label worth asking for. The text sits near the decision boundary: the
model is unsure of it, so its label moves a threshold (or a learned head) where a text the
model is sure of, and right about, moves nothing. And it is unlike what is labelled
already: forty texts near the boundary that all say the same thing teach what one does.

``pick`` weighs both, greedily: each step takes the text with the most
``closeness to the boundary x distance to everything chosen so far`` (a farthest-point
spread over the words of the texts), alternating between the two sides of the boundary so
that both classes are asked about. Once answers show one class trailing (the model's side
of the boundary is a poor guide to the class where the model flags many acceptable texts),
the queue asks about the texts likeliest to be of that class until the answers balance. Nothing here calls a model: the margins come from
scores computed before (``margin``), and the learning benchmark calls ``pick`` with gold
labels playing the moderator.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tactful.bank.lexical import words
from tactful.engine.answer import NONE_LABEL, Contract

# Probabilities are clipped this far from 0 and 1 before their log-odds are taken.
EPSILON = 1e-6
# A class whose answers trail the other's by this many is sought where the model thinks it
# likeliest, not near the boundary: a learner needs both classes before it needs nuance.
SHORT_BY = 2


@dataclass(frozen=True)
class Candidate:
    """A text that could be labelled, and where the model put it.

    ``margin``: how far the text is over the decision boundary, in log-odds (positive: on
    the flagged side); None where the model gave no probability. ``blocked``: the
    moderator's answer (a blocked category, or acceptable) where the text is labelled.
    """

    id: str
    text: str
    margin: float | None = None
    blocked: bool | None = None

    @property
    def flagged_side(self) -> bool:
        return self.margin is not None and self.margin >= 0

    @property
    def side(self) -> bool:
        """The class the text counts for: the answer where there is one, else the model's side."""
        return self.blocked if self.blocked is not None else self.flagged_side

    @property
    def closeness(self) -> float:
        """1 on the boundary, falling towards 0 as the model grows sure; 1 without a score."""
        return 1.0 if self.margin is None else 1.0 / (1.0 + abs(self.margin))

    def likelihood(self, side: bool) -> float:
        """How likely the text is of class ``side`` by the model (0.5 without a score)."""
        flagged = 0.5 if self.margin is None else 1.0 / (1.0 + math.exp(-max(min(self.margin, 50.0), -50.0)))
        return flagged if side else 1.0 - flagged


def logit(p: float) -> float:
    p = min(max(p, EPSILON), 1 - EPSILON)
    return math.log(p / (1 - p))


def margin(scores: Mapping[str, float] | None, contract: Contract, boundary: float | None = None) -> float | None:
    """How far ``scores`` are over the profile's decision boundary, in log-odds.

    The largest over the blocked categories (any one of them flags the text); in binary
    mode the one ``flagged`` score against the binary threshold. ``boundary`` replaces the
    profile's thresholds with one fitted since (the review's refit).
    """
    if not scores or not contract.blocked:
        return None
    if contract.mode == "binary" or "flagged" in scores:  # as Contract.decide reads them
        if "flagged" not in scores:
            return None
        keyed = {"flagged": contract.binary_threshold}
    else:
        keyed = {slug: contract.thresholds.get(slug, 0.5) for slug in contract.blocked if slug in scores}
    if not keyed:
        return None
    return max(logit(scores[key]) - logit(boundary if boundary is not None else threshold)
               for key, threshold in keyed.items())


def harm_score(scores: Mapping[str, float], contract: Contract) -> float | None:
    """One probability that the text is blocked: ``flagged`` in binary mode, else the
    highest of the blocked categories' (multiclass: never ``none``'s)."""
    if contract.mode == "binary" or "flagged" in scores:
        return scores.get("flagged")
    values = [scores[slug] for slug in contract.blocked if slug in scores and slug != NONE_LABEL]
    return max(values) if values else None


def pick(candidates: Sequence[Candidate], n: int, chosen: Sequence[Candidate] = ()) -> list[Candidate]:
    """The ``n`` candidates most worth labelling, best first.

    ``chosen``: texts labelled (or picked) already; the picks keep away from them too, and
    balance the two sides of the boundary counting them. Deterministic: ties go to the
    earlier candidate.
    """
    bags = [_bag(c.text) for c in candidates]
    taken = [_bag(c.text) for c in chosen]
    distance = [min((_distance(bag, other) for other in taken), default=1.0) for bag in bags]
    sides = Counter(c.side for c in chosen)
    answers = Counter(c.blocked for c in chosen if c.blocked is not None)
    picked: list[Candidate] = []
    remaining = set(range(len(candidates)))
    while remaining and len(picked) < n:
        side = sides[True] <= sides[False]  # the class asked about less so far
        if answers[side] + SHORT_BY <= answers[not side]:
            # The answers lack this class: the model's side of the boundary has proved a poor
            # guide to it (a model that flags half the acceptable posts fills its flagged side
            # near the boundary with them), so take the text likeliest to be of that class.
            best = max(sorted(remaining), key=lambda i: candidates[i].likelihood(side) * distance[i])
        else:
            on_side = sorted(i for i in remaining if candidates[i].flagged_side == side) or sorted(remaining)
            best = max(on_side, key=lambda i: candidates[i].closeness * distance[i])
        remaining.discard(best)
        picked.append(candidates[best])
        sides[candidates[best].side] += 1
        for i in remaining:
            distance[i] = min(distance[i], _distance(bags[i], bags[best]))
    return picked


@functools.lru_cache(maxsize=4096)  # the queue asks again after every answer
def _bag(text: str) -> Counter[str]:
    return Counter(words(text)) or Counter({text: 1})  # a text of no words still differs from another


def _distance(a: Counter[str], b: Counter[str]) -> float:
    """1 - the cosine of two texts' word counts: 0 for the same words, 1 for none shared."""
    shared = a.keys() & b.keys()
    if not shared:
        return 1.0
    dot = sum(a[w] * b[w] for w in shared)
    norm = math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))
    return max(0.0, 1.0 - dot / norm)
