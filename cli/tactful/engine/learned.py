"""A learned rule that decides instead of the thresholds (binary mode), as the engine applies it.

``tactful.learning`` fits it and saves it beside the profile; the moderator loads it and
hands the classifier a ``Head``. The classifier reads what the rule needs and no more:
a rule on the bare text's representation never evaluates tactful's prompt (a text costs
its own tokens), one on the prompt's hidden state or its probability reads both from
the one evaluation of the prompt that the thresholds would need anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tactful.backends.base import Embedder

# The score key under which records carry the head's probability (beside "flagged", the
# prompt's probability, when the prompt was evaluated).
HEAD_SCORE = "head"


@dataclass(frozen=True)
class Head:
    decided_by: str  # what records name in decided_by: "head" or "combined"
    reads_prompt_state: bool  # the representation is the state at the answer position of the prompt
    uses_probability: bool  # the prompt's probability is an input ("combined")
    score: Callable[[float | None, Sequence[float]], float]  # (probability, representation) -> P(flagged)
    threshold: float
    identity: str  # what the results cache keys decisions by (the head file's fit)
    embedder: Embedder | None = None  # the bare text's representation, where the prompt is not read

    @property
    def needs_prompt(self) -> bool:
        return self.reads_prompt_state or self.uses_probability
