"""The model's leaning among categories before it has read a text, divided out.

Asked which blocked category a harmful text falls under, a small model favours the one it
read first: on Qwen2.5-Coder-1.5B with spam listed before toxicity, 31 of 40 toxic
TextDetox texts were named spam (benchmarks/order.py measures it). Listing the categories
in a canonical order makes the answer the same whatever order a profile declares them in,
but leaves the leaning towards whichever comes first alphabetically.

So the leaning is measured once per run: the same question asked about texts with no
content ("", "N/A", "[MASK]"; Zhao et al. 2021, "Calibrate before use"), the categories'
shares of the answer averaged. Each category's probability for a real text is divided by
its share there, which leaves what the text itself adds. Only the choice among the
categories moves: the acceptable value ("none") keeps its probability and the categories
keep their total. A binary flag keeps its verdict and changes only its name; a multiclass
answer may change its verdict too, as its best category's share is what meets the threshold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Texts with no content, as the calibration benchmark uses them.
CONTENT_FREE = ("", "N/A", "[MASK]")
# A category the model all but rules out on empty texts would blow up any text's share of
# it: its share is floored here.
FLOOR = 1e-3


@dataclass(frozen=True)
class CategoryLeaning:
    """Each category value's share of the answer on content-free texts (summing to 1)."""

    shares: Mapping[str, float]

    @classmethod
    def measured(cls, distributions: Sequence[Mapping[str, float]], values: Sequence[str]) -> CategoryLeaning:
        """The mean share of each of ``values`` (the category choices) over the distributions."""
        totals = dict.fromkeys(values, 0.0)
        for distribution in distributions:
            mass = sum(distribution.get(value, 0.0) for value in values)
            for value in values:
                totals[value] += distribution.get(value, 0.0) / mass if mass > 0 else 1 / len(values)
        return cls({value: total / max(len(distributions), 1) for value, total in totals.items()})

    def correct(self, distribution: Mapping[str, float]) -> dict[str, float]:
        """``distribution`` with the categories' mass shared by what the text adds to each."""
        categories = [value for value in distribution if value in self.shares]
        mass = sum(distribution[value] for value in categories)
        weights = {value: distribution[value] / max(self.shares[value], FLOOR) for value in categories}
        total = sum(weights.values())
        if mass <= 0 or total <= 0:
            return dict(distribution)
        return {value: mass * weights[value] / total if value in weights else p for value, p in distribution.items()}

    def describe(self) -> str:
        """The leaning in a few words, for a message: each category's share on empty texts."""
        return ", ".join(f"{json.loads(value)} {share:.2f}" for value, share in self.shares.items())
