"""What `tactful check` reports: findings built from classified units, and their keys.

A finding is one blocked category the model gave one unit. Its severity comes from the
category; it "fails" the check when that severity is at or above the profile's
``[check] fail_level``. Its key (path, category, hash of the unit's text) is what a
baseline records, so a finding that only moved lines is still recognised.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from tactful.check.segment import Unit
from tactful.profile.categories import SEVERITIES
from tactful.profile.load import Profile
from tactful.records import Result
from tactful.textclip import clip

REASON_CHARS = 72


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    col: int
    slug: str
    severity: str
    score: float | None
    reason: str
    failing: bool
    digest: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.slug, self.digest)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path, "line": self.line, "col": self.col, "category": self.slug,
            "severity": self.severity, "score": self.score, "reason": self.reason,
            "failing": self.failing, "hash": self.digest,
        }


@dataclass(frozen=True)
class Unjudged:
    """A unit the model could not judge (an answer that broke the contract twice)."""

    path: str
    line: int
    col: int
    message: str


def text_digest(text: str) -> str:
    """A short hash of a unit's text, blind to how it is wrapped and indented."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


def fails(severity: str, fail_level: str) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(fail_level)


def findings_for(path: str, unit: Unit, result: Result, profile: Profile) -> list[Finding]:
    """The findings of one classified unit, minus categories silenced by directives."""
    moderation = result.moderation
    blocked = {c.slug for c in profile.blocked}
    found: list[Finding] = []
    for slug in moderation.labels:
        if slug not in blocked or slug in unit.ignored:
            continue
        category = profile.category(slug)
        # A category's own probability; where only the flag was scored (a sampled answer),
        # the flag's: what met the threshold.
        score = moderation.scores.get(slug, moderation.scores.get("flagged")) if moderation.scores else None
        reason = moderation.rationale if moderation.explain and moderation.rationale else shorten(category.description)
        found.append(
            Finding(path, unit.line, unit.col, slug, category.severity, score, reason,
                    fails(category.severity, profile.fail_level), text_digest(unit.text))
        )
    return found


def shorten(text: str, limit: int = REASON_CHARS) -> str:
    """The text cut at a word boundary to fit ``limit`` characters, with an ellipsis."""
    return clip(text, limit, at_word=True)
