"""Correcting a vision model's leaning, measured on an image with no content.

A model asked "is this image harmful?" leans one way before it has seen anything: its
answer distribution on a plain grey image is that leaning (Zhao et al. 2021, "Calibrate
before use", for text; the same holds for images). Each answer value's probability is
divided by its probability on the content-free image, which leaves what the image itself
adds, then multiplied by what a content-free image should get, and renormalised.

Dividing alone would put an image that shows nothing at 0.5, on the threshold: every
ordinary picture the model finds as harmless as a blank one would be a coin toss. So the
content-free image is pinned to "acceptable" at ``BLANK_ACCEPTABLE``: an image must move
the model as far from the blank as 0.1 is from 0.5 (about 2.2 in log-odds) to be flagged
at the default threshold. A model that says 0.7 to grey and 0.99 to a photo flags it
(0.83); 0.7 to grey and 0.8 to a photo does not (0.16).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# What a content-free image scores after correction: acceptable, with this probability.
BLANK_ACCEPTABLE = 0.9
# The answer values that mean "nothing blocked here", as the contract writes them.
ACCEPTABLE_VALUES = frozenset({" false"})
# A value the model all but rules out on the blank image would blow up any image's score
# for it: its share is floored here.
FLOOR = 1e-3


@dataclass(frozen=True)
class ImageBias:
    """The answer distributions on a content-free image, one per question asked."""

    distributions: tuple[dict[str, float], ...]

    def correct(self, observed: Sequence[dict[str, float]]) -> list[dict[str, float]]:
        """Each distribution with the leaning for the same question swapped for the prior."""
        corrected = []
        for seen, leaning in zip(observed, self.distributions):
            prior = _prior(list(seen))
            weights = {value: p / max(leaning.get(value, 0.0), FLOOR) * prior[value] for value, p in seen.items()}
            total = sum(weights.values())
            corrected.append({value: w / total for value, w in weights.items()} if total > 0 else dict(seen))
        return corrected

    def describe(self) -> str:
        """The leaning in a few words, for a message: each question's likeliest value."""
        parts = []
        for distribution in self.distributions:
            value, p = max(distribution.items(), key=lambda item: item[1])
            parts.append(f"{value.strip()} {p:.2f}")
        return ", ".join(parts)


def _prior(values: list[str]) -> dict[str, float]:
    """What a content-free image should get: mostly the acceptable value, the rest shared."""
    acceptable = [v for v in values if v in ACCEPTABLE_VALUES]
    others = [v for v in values if v not in ACCEPTABLE_VALUES]
    if not acceptable or not others:
        return {v: 1 / len(values) for v in values}
    prior = {v: BLANK_ACCEPTABLE / len(acceptable) for v in acceptable}
    prior.update({v: (1 - BLANK_ACCEPTABLE) / len(others) for v in others})
    return prior
