"""The output contract: the JSON schema the model must follow, and the parsing of its answer.

One place decides, per mode, what the model answers and how that becomes a ``Decision``,
so the schema sent to the backend, the example answers in the prompt and the validation
of real answers cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tactful.errors import AnswerError
from tactful.profile.load import Profile

NONE_LABEL = "none"


@dataclass(frozen=True)
class Decision:
    flagged: bool
    labels: list[str]
    scores: dict[str, float] | None = None
    rationale: str | None = None


@dataclass(frozen=True)
class Contract:
    """What the model must answer for one profile and mode."""

    mode: str
    blocked: tuple[str, ...]
    allowed: tuple[str, ...]
    explain: bool
    thresholds: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def for_profile(cls, profile: Profile) -> Contract:
        return cls(
            mode=profile.task.mode,
            blocked=tuple(c.slug for c in profile.blocked),
            allowed=tuple(c.slug for c in profile.allowed),
            explain=profile.task.explain,
            thresholds={c.slug: c.threshold for c in profile.categories},
        )

    @property
    def all_slugs(self) -> tuple[str, ...]:
        return self.blocked + self.allowed

    @property
    def decision_keys(self) -> tuple[str, ...]:
        """The JSON keys whose values carry the decision, in answer order."""
        if self.mode == "binary":
            return ("flagged",)
        if self.mode == "multiclass":
            return ("category",)
        return self.all_slugs

    # ------------------------------------------------------------ schema

    def schema(self) -> dict[str, Any]:
        properties: dict[str, Any]
        if self.mode == "binary":
            properties = {"flagged": {"type": "boolean"}}
        elif self.mode == "multiclass":
            properties = {"category": {"type": "string", "enum": [*self.blocked, NONE_LABEL]}}
        else:
            properties = {slug: {"type": "boolean"} for slug in self.all_slugs}
        if self.explain:
            properties["rationale"] = {"type": "string"}
        return {
            "type": "object",
            "properties": properties,
            "required": list(properties),
            "additionalProperties": False,
        }

    # ------------------------------------------------------------ answers

    def answer_for(self, labels: Sequence[str], rationale: str | None) -> str:
        """The exact answer the model should give for a text with these gold labels."""
        answer: dict[str, Any]
        if self.mode == "binary":
            answer = {"flagged": any(label in self.blocked for label in labels)}
        elif self.mode == "multiclass":
            chosen = next((label for label in labels if label in self.blocked), NONE_LABEL)
            answer = {"category": chosen}
        else:
            answer = {slug: slug in labels for slug in self.all_slugs}
        if self.explain:
            answer["rationale"] = rationale or ""
        return json.dumps(answer, ensure_ascii=False)

    def parse(self, content: str, scores: dict[str, float] | None = None) -> Decision:
        """Turn the model's raw answer into a Decision, or raise AnswerError."""
        try:
            data = json.loads(content)
        except json.JSONDecodeError as exc:
            raise AnswerError(f"answer is not JSON ({exc.msg}): {content[:80]!r}") from None
        if not isinstance(data, dict):
            raise AnswerError(f"answer is not a JSON object: {content[:80]!r}")
        # Keys beyond the schema mean the model followed some other format, such as one a
        # text dictated to it ('Output exactly {"labels": []}'): never read a decision from it.
        extra = sorted(set(data) - {*self.decision_keys, *(["rationale"] if self.explain else [])})
        if extra:
            raise AnswerError(f"answer has keys outside the contract ({', '.join(extra)}): {content[:80]!r}")
        rationale = self._rationale(data)
        if self.mode == "binary":
            flagged = _boolean(data, "flagged")
            if scores is not None:
                flagged = scores["flagged"] >= self.binary_threshold
            return Decision(flagged, [], scores, rationale)
        if self.mode == "multiclass":
            category = data.get("category")
            if category not in (*self.blocked, NONE_LABEL):
                raise AnswerError(f"'category' is {category!r}, not one of {', '.join(self.blocked)} or none")
            if scores is not None:
                best = max(scores, key=scores.__getitem__)
                category = best if best != NONE_LABEL and scores[best] >= self.thresholds.get(best, 0.5) else NONE_LABEL
            labels = [] if category == NONE_LABEL else [category]
            return Decision(bool(labels), labels, scores, rationale)
        if scores is not None:
            labels = [s for s in self.all_slugs if scores[s] >= self.thresholds.get(s, 0.5)]
        else:
            labels = [s for s in self.all_slugs if _boolean(data, s)]
        flagged = any(label in self.blocked for label in labels)
        return Decision(flagged, labels, scores, rationale)

    @property
    def binary_threshold(self) -> float:
        # The most sensitive blocked category sets the bar for the single yes/no decision.
        return min((self.thresholds.get(s, 0.5) for s in self.blocked), default=0.5)

    def _rationale(self, data: Mapping[str, Any]) -> str | None:
        if not self.explain:
            return None
        value = data.get("rationale")
        if not isinstance(value, str):
            raise AnswerError("answer has no 'rationale' string")
        return value.strip()


def _boolean(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise AnswerError(f"'{key}' is {value!r}, not true or false")
    return value
