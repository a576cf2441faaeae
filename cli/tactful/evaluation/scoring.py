"""Judged items against their gold labels, in the terms of the profile's task mode.

`tactful eval` reads the labelled data and prints; everything it measures is here, and
nothing here reads a file, asks a model or prints. In binary mode an item is flagged or
acceptable; in multiclass mode it is its first blocked category (or none); in multilabel
mode it is the set of its categories.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tactful.engine.answer import NONE_LABEL
from tactful.evaluation.calibration import average_precision, reliability, roc_auc
from tactful.evaluation.metrics import Report, multi_label_report, single_label_report
from tactful.profile.load import Profile
from tactful.records import Moderation, Result

FLAGGED, ACCEPTABLE = "flagged", "acceptable"
# The score that decides binary mode: one probability shared by every blocked category.
BINARY_SCORE = "flagged"


@dataclass(frozen=True)
class Scored:
    """One labelled item with its gold and predicted classes in the mode's terms."""

    id: str
    text: str
    gold_slugs: list[str]
    gold: Any
    predicted: Any
    scores: dict[str, float] | None = None  # the model's probabilities, when asked for

    @property
    def misjudged(self) -> bool:
        return bool(self.gold != self.predicted)


def classes(profile: Profile, gold_slugs: Sequence[str], moderation: Moderation) -> tuple[Any, Any]:
    """The gold class and the predicted one of an item, in the terms of the profile's mode."""
    blocked = [c.slug for c in profile.blocked]
    mode = profile.task.mode
    if mode == "binary":
        truth = FLAGGED if set(gold_slugs) & set(blocked) else ACCEPTABLE
        return truth, FLAGGED if moderation.flagged else ACCEPTABLE
    if mode == "multiclass":
        truth = next((s for s in gold_slugs if s in blocked), NONE_LABEL)
        # An acceptable category may be named (unblocked): it does not flag, so it reads as none.
        return truth, moderation.labels[0] if moderation.flagged and moderation.labels else NONE_LABEL
    return set(gold_slugs), set(moderation.labels)


def score(results: Sequence[Result], golds: Sequence[list[str] | None], profile: Profile,
          label_field: str) -> tuple[list[Scored], list[str]]:
    """The items that can be scored, and why each of the others cannot (in input order).

    An item the model could not judge, one without text and one without a usable gold
    label (None in ``golds``, read from ``label_field``) are not scored.
    """
    scored, errors = [], []
    for result, gold in zip(results, golds):
        record, moderation = result.record, result.moderation
        if moderation.error is not None or record.text is None:
            errors.append(moderation.error or f"{record.source}: no text")
        elif gold is None:
            errors.append(f"{record.source}: no usable gold label in '{label_field}'")
        else:
            truth, guess = classes(profile, gold, moderation)
            scored.append(Scored(record.id, record.text, gold, truth, guess, moderation.scores))
    return scored, errors


def report(scored: Sequence[Scored], profile: Profile) -> Report:
    """Accuracy, per-class precision, recall and F1, and the confusion, over the mode's classes."""
    gold, predicted = [s.gold for s in scored], [s.predicted for s in scored]
    mode = profile.task.mode
    if mode == "binary":
        return single_label_report(gold, predicted, [FLAGGED, ACCEPTABLE])
    if mode == "multiclass":
        return single_label_report(gold, predicted, [c.slug for c in profile.blocked] + [NONE_LABEL])
    return multi_label_report(gold, predicted, profile.slugs)


def score_keys(profile: Profile) -> dict[str, list[str]]:
    """Each probability that decides, with the blocked categories whose gold labels it predicts."""
    blocked = [c.slug for c in profile.blocked]
    return {BINARY_SCORE: blocked} if profile.task.mode == "binary" else {slug: [slug] for slug in blocked}


def separation(scored: Sequence[Scored], profile: Profile) -> dict[str, Any]:
    """Threshold-free quality per score key: can the model tell the classes apart at all?

    Keys no scored item has a probability for are left out.
    """
    found: dict[str, Any] = {}
    for key, slugs in score_keys(profile).items():
        pairs = [(s.scores[key], bool(set(s.gold_slugs) & set(slugs))) for s in scored if s.scores and key in s.scores]
        if not pairs:
            continue
        values, truth = [p for p, _ in pairs], [t for _, t in pairs]
        found[key] = {
            "items": len(pairs), "positive": sum(truth),
            "roc_auc": roc_auc(values, truth), "pr_auc": average_precision(values, truth),
            "reliability": [dataclasses.asdict(b) for b in reliability(values, truth)],
        }
    return found


def policy_problem(moderation: Moderation, expected: list[str] | None, profile: Profile) -> str | None:
    """Why a policy test failed (expecting the categories ``expected``), or None when it passed.

    Only blocked categories count: a test passes whatever acceptable ones the model names.
    """
    if expected is None:
        return "its 'labels' must be a list of category slugs"
    if moderation.error is not None:
        return moderation.error
    blocked = {c.slug for c in profile.blocked}
    want_blocked = set(expected) & blocked
    if bool(moderation.flagged) != bool(want_blocked):
        return (f"expected {FLAGGED if want_blocked else ACCEPTABLE}, "
                f"got {FLAGGED if moderation.flagged else ACCEPTABLE}")
    got_blocked = set(moderation.labels) & blocked
    mode = profile.task.mode
    if mode == "multiclass" and got_blocked - want_blocked:
        return f"expected one of {sorted(want_blocked)}, got {sorted(got_blocked)}"
    if mode == "multilabel" and got_blocked != want_blocked:
        return f"expected {sorted(want_blocked)}, got {sorted(got_blocked)}"
    return None
