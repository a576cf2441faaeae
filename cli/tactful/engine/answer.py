"""The output contract: the JSON schema the model must follow, and the parsing of its answer.

One place decides what the model answers and how that becomes a ``Decision``, so the
schema sent to the backend, the example answers in the prompt and the validation of real
answers cannot drift apart.

Every mode asks the model the same two things: whether the text is flagged
(``{"flagged": true}``), and which category it falls under (``{"category": "spam"}``, among
every category of the profile, unblocked ones too). The mode only decides what tactful
reports from them: binary the flag and its name; multiclass the likeliest category over
its threshold; multilabel every category over its threshold. Each category's probability
is P(flagged) x its share of the name.

Why not ask multiclass for the category outright, or multilabel key by key? On the default
model both read the categories in the order they are listed: a single multiclass answer
said "none" to every harmful text of the order benchmark, and multilabel's first key read
as likely for any harmful text, so that a third of its labels were exactly right
(benchmarks/order.py; README, "Order and unblock").
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
FLAGGED_KEY = "flagged"
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
    """What the model must answer for one profile, and what its mode reports from it."""

    mode: str
    blocked: tuple[str, ...]
    allowed: tuple[str, ...]
    explain: bool
    thresholds: Mapping[str, float] = field(default_factory=dict)
    # Every category of the profile, in its canonical order (by slug): the order in which
    # the name's choices are offered, whatever order the profile declares them in.
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
        return (FLAGGED_KEY,)

    # ------------------------------------------------------------ schema

    def schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {FLAGGED_KEY: {"type": "boolean"}}
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
        answer: dict[str, Any] = {FLAGGED_KEY: any(label in self.blocked for label in labels)}
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
        flagged = _boolean(data, FLAGGED_KEY)
        if scores is None:
            return Decision(flagged, self.named_labels(flagged), rationale=rationale)
        decided = self.decide(scores)
        return Decision(decided.flagged, decided.labels, scores, rationale, BY_PROBABILITY)

    # ------------------------------------------------------------ probabilities

    def queries(self) -> tuple[ChoiceQuery, ...]:
        """The questions whose answer probabilities decide, each at its answer position.

        Openings and values are written exactly as ``answer_for`` writes them (json.dumps),
        so the model reads the same shape as in its examples. Binary mode asks the name of
        a flagged text only; the others read it with the flag, from the same pass over the
        text, for every category's score.
        """
        flag = _boolean_query(FLAGGED_KEY)
        if self.mode == "binary" or len(self.all_slugs) < 2:
            return (flag,)
        return (flag, self.choice_query())

    def choice_query(self) -> ChoiceQuery:
        """The question that names a flag: which category the text falls under.

        Acceptable categories are offered too, so that a text which is what the profile
        unblocks is named so and not flagged: asked among the blocked ones only, a small
        model names some other blocked category instead (README, "Order and unblock").
        """
        return ChoiceQuery('{"category":', tuple(" " + json.dumps(slug) for slug in self.all_slugs))

    def scores_from(self, distributions: Sequence[Mapping[str, float]]) -> dict[str, float]:
        """Per-key probabilities (the keys of ``decide``) from the queries' distributions."""
        flagged = distributions[0][" true"]
        if self.mode == "binary":
            return {FLAGGED_KEY: flagged}
        if len(distributions) == 1:  # the profile has one category: the flag is its
            return {self.all_slugs[0]: flagged, NONE_LABEL: 1 - flagged} if self.all_slugs else {NONE_LABEL: 1.0}
        return self.category_scores(flagged, distributions[1])

    @staticmethod
    def category_scores(flagged: float, naming: Mapping[str, float]) -> dict[str, float]:
        """Each category's probability as P(flagged) x P(the category | flagged), and "none"
        the rest, so that the scores sum to 1 and each can be thresholded."""
        scores = {json.loads(choice): flagged * share for choice, share in naming.items()}
        scores[NONE_LABEL] = 1 - flagged
        return scores

    def decide(self, scores: Mapping[str, float]) -> Decision:
        """The decision the thresholds make from the probabilities.

        Scores with only the flag (binary mode, or any mode before the name is read)
        decide as binary mode does; the name comes after.
        """
        if FLAGGED_KEY in scores:
            flagged = scores[FLAGGED_KEY] >= self.binary_threshold
            return Decision(flagged, self.named_labels(flagged), dict(scores), decided_by=BY_PROBABILITY)
        over = [s for s in self.all_slugs if scores.get(s, 0.0) >= self.thresholds.get(s, 0.5)]
        if self.mode == "multiclass":  # the likeliest category, if it is over its threshold
            best = max(self.all_slugs, key=lambda s: scores.get(s, 0.0), default=None)
            over = [best] if best in over else []
        return Decision(any(label in self.blocked for label in over), over, dict(scores), decided_by=BY_PROBABILITY)

    def named_labels(self, flagged: bool) -> list[str]:
        """A flag's category when the profile has only the one; the naming step does the rest."""
        return list(self.blocked) if flagged and len(self.all_slugs) == 1 else []

    @property
    def needs_naming(self) -> bool:
        """Whether a flag must be named by asking which category it is: where several are
        blocked, or where one is and the profile unblocks another."""
        return len(self.all_slugs) > 1

    def naming_schema(self) -> dict[str, Any]:
        """The naming question where the backend answers it by sampling (no probabilities)."""
        return {
            "type": "object",
            "properties": {"category": {"type": "string", "enum": list(self.all_slugs)}},
            "required": ["category"],
            "additionalProperties": False,
        }

    def name_from_answer(self, decision: Decision, content: str) -> Decision:
        """A flag named by the sampled answer to the naming question (left as is if it broke the schema)."""
        try:
            category = json.loads(content).get("category")
        except (json.JSONDecodeError, AttributeError):
            return decision
        if category not in self.all_slugs:
            return decision
        return self._named_as(decision, category)

    def named(self, decision: Decision, distribution: Mapping[str, float]) -> Decision:
        """A flag named by the likeliest category (a flag always says why)."""
        if not decision.flagged:
            return decision
        return self._named_as(decision, json.loads(max(distribution, key=distribution.__getitem__)))

    def _named_as(self, decision: Decision, category: str) -> Decision:
        """The flag named ``category``; lifted where the profile unblocks it (the label stays,
        as the other modes report an acceptable category that applies)."""
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
