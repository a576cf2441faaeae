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

from tactful.backends.base import ChoiceQuery
from tactful.errors import AnswerError
from tactful.profile.load import Profile

NONE_LABEL = "none"
# How a decision was reached, as each record reports it.
BY_PROBABILITY = "probability"  # the answer values' probabilities met the thresholds
BY_ANSWER = "answer"  # the sampled answer decided: the backend gave no probabilities


@dataclass(frozen=True)
class Decision:
    """What the model's answer or probabilities decide for one text (what the results cache keeps)."""

    flagged: bool
    labels: list[str]
    scores: dict[str, float] | None = None
    rationale: str | None = None
    decided_by: str = BY_ANSWER


@dataclass(frozen=True)
class Contract:
    """What the model must answer for one profile and mode."""

    mode: str
    blocked: tuple[str, ...]
    allowed: tuple[str, ...]
    explain: bool
    thresholds: Mapping[str, float] = field(default_factory=dict)
    # Every category of the profile, in its canonical order (by slug). Multilabel answers
    # keep this order whatever is blocked, so that unblocking one does not move another to
    # the first position, where a small model reads any harmful text as every category.
    order: tuple[str, ...] = ()

    @classmethod
    def for_profile(cls, profile: Profile) -> Contract:
        return cls(
            mode=profile.task.mode,
            blocked=tuple(c.slug for c in profile.blocked),
            allowed=tuple(c.slug for c in profile.allowed),
            explain=profile.task.explain,
            thresholds={c.slug: c.threshold for c in profile.categories},
            order=tuple(c.slug for c in profile.categories),
        )

    @property
    def all_slugs(self) -> tuple[str, ...]:
        in_play = set(self.blocked + self.allowed)
        ordered = tuple(slug for slug in self.order if slug in in_play)
        return ordered if len(ordered) == len(in_play) else self.blocked + self.allowed

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
            properties = {"category": {"type": "string", "enum": [*self.all_slugs, NONE_LABEL]}}
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
            # A blocked category before an acceptable one: the example is flagged for it.
            chosen = next((label for label in [*labels] if label in self.blocked), None)
            chosen = chosen or next((label for label in labels if label in self.allowed), NONE_LABEL)
            answer = {"category": chosen}
        else:
            answer = {slug: slug in labels for slug in self.all_slugs}
        if self.explain:
            answer["rationale"] = rationale or ""
        return json.dumps(answer, ensure_ascii=False)

    def parse(self, content: str, scores: dict[str, float] | None = None) -> Decision:
        """Turn the model's raw answer into a Decision, or raise AnswerError.

        With ``scores`` (read from the answer's log-probabilities) the probabilities
        decide and the answer only has to be well-formed.
        """
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
            sampled = Decision(flagged, self.named_labels(flagged), rationale=rationale)
        elif self.mode == "multiclass":
            category = data.get("category")
            if category not in (*self.all_slugs, NONE_LABEL):
                raise AnswerError(f"'category' is {category!r}, not one of {', '.join(self.all_slugs)} or none")
            labels = [] if category == NONE_LABEL else [category]
            sampled = Decision(category in self.blocked, labels, rationale=rationale)
        else:
            labels = [s for s in self.all_slugs if _boolean(data, s)]
            sampled = Decision(any(label in self.blocked for label in labels), labels, rationale=rationale)
        if scores is None:
            return sampled
        decided = self.decide(scores)
        return Decision(decided.flagged, decided.labels, scores, rationale, BY_PROBABILITY)

    # ------------------------------------------------------------ probabilities

    def queries(self) -> tuple[ChoiceQuery, ...]:
        """The questions whose answer probabilities decide, each at its answer position.

        Openings and values are written exactly as ``answer_for`` writes them (json.dumps),
        so the model reads the same shape as in its examples.
        """
        if self.mode == "binary":
            return (_boolean_query("flagged"),)
        if self.mode == "multiclass":
            return (self.choice_query(),)
        return tuple(_boolean_query(slug) for slug in self.all_slugs)

    def key_query(self, answered: Sequence[tuple[str, bool]], slug: str) -> ChoiceQuery:
        """Multilabel: the question for ``slug`` after the keys already answered, in answer order.

        Asked as the model writes its answer (``{"toxicity": true, "spam":``), so each key
        is read in the context of the model's own earlier values, as in its examples.
        Asked alone as the first key, every category of a harmful text reads as likely.
        """
        written = "".join(f"{json.dumps(key)}: {json.dumps(value)}, " for key, value in answered)
        return ChoiceQuery("{" + written + json.dumps(slug) + ":", (" true", " false"))

    def choice_query(self) -> ChoiceQuery:
        """The question that chooses among the categories: the multiclass answer (with
        "none"), or the name of a binary flag.

        Acceptable categories are offered too, so that a text which is what the profile
        unblocks is named so and not flagged: asked among the blocked ones only, a small
        model names some other blocked category instead (README, "unblock").
        """
        if self.mode == "multiclass":
            return self.category_query((*self.all_slugs, NONE_LABEL))
        return self.category_query(self.all_slugs)

    def category_query(self, slugs: Sequence[str]) -> ChoiceQuery:
        return ChoiceQuery('{"category":', tuple(" " + json.dumps(slug) for slug in slugs))

    def scores_from(self, distributions: Sequence[Mapping[str, float]]) -> dict[str, float]:
        """Per-key probabilities (the keys of ``decide``) from the queries' distributions."""
        if self.mode == "binary":
            return {"flagged": distributions[0][" true"]}
        if self.mode == "multiclass":
            return {json.loads(choice): p for choice, p in distributions[0].items()}
        return {slug: d[" true"] for slug, d in zip(self.all_slugs, distributions)}

    def decide(self, scores: Mapping[str, float]) -> Decision:
        """The decision the thresholds make from the probabilities."""
        if self.mode == "binary":
            flagged = scores["flagged"] >= self.binary_threshold
            return Decision(flagged, self.named_labels(flagged), dict(scores), decided_by=BY_PROBABILITY)
        if self.mode == "multiclass":
            best = max(scores, key=scores.__getitem__)
            over = best != NONE_LABEL and scores[best] >= self.thresholds.get(best, 0.5)
            labels = [best] if over else []
            return Decision(over and best in self.blocked, labels, dict(scores), decided_by=BY_PROBABILITY)
        labels = [s for s in self.all_slugs if scores[s] >= self.thresholds.get(s, 0.5)]
        flagged = any(label in self.blocked for label in labels)
        return Decision(flagged, labels, dict(scores), decided_by=BY_PROBABILITY)

    def named_labels(self, flagged: bool) -> list[str]:
        """A binary flag's category when only one is blocked; the naming step does the rest."""
        return list(self.blocked) if flagged and len(self.blocked) == 1 else []

    @property
    def needs_naming(self) -> bool:
        """Whether a binary flag must be named by asking which category it is: where
        several are blocked, or where one is and the profile unblocks another."""
        return self.mode == "binary" and len(self.all_slugs) > 1

    def naming_schema(self) -> dict[str, Any]:
        """The naming question where the backend answers it by sampling (no probabilities)."""
        return {
            "type": "object",
            "properties": {"category": {"type": "string", "enum": list(self.all_slugs)}},
            "required": ["category"],
            "additionalProperties": False,
        }

    def name_from_answer(self, decision: Decision, content: str) -> Decision:
        """A binary flag named by the sampled answer to the naming question (left as is if it broke the schema)."""
        try:
            category = json.loads(content).get("category")
        except (json.JSONDecodeError, AttributeError):
            return decision
        if category not in self.all_slugs:
            return decision
        return self._named_as(decision, category)

    def named(self, decision: Decision, distribution: Mapping[str, float]) -> Decision:
        """A binary flag named by the likeliest category (a flag always says why)."""
        if not decision.flagged:
            return decision
        return self._named_as(decision, json.loads(max(distribution, key=distribution.__getitem__)))

    def _named_as(self, decision: Decision, category: str) -> Decision:
        """The flag named ``category``; lifted where the profile unblocks it (the label stays,
        as multilabel mode reports an acceptable category that applies)."""
        return Decision(category in self.blocked, [category], decision.scores, decision.rationale, decision.decided_by)

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


def _boolean_query(key: str) -> ChoiceQuery:
    return ChoiceQuery("{" + json.dumps(key) + ":", (" true", " false"))


def _boolean(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise AnswerError(f"'{key}' is {value!r}, not true or false")
    return value
