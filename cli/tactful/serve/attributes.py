"""Perspective's attributes and OpenAI's categories in the profile's terms.

A profile names its categories by slug (``toxicity``, ``off-topic-politics``); the APIs
served here have names of their own. Each name maps to the first of its candidate slugs
the profile has (docs/server.md prints these tables), so a profile with both
``harassment`` and ``toxicity`` answers INSULT from ``toxicity``, and one with only
``harassment`` from that. Any category is also asked for by its slug in upper case with
underscores (``OFF_TOPIC_POLITICS``), and ``--attribute NAME=SLUG`` adds or replaces a
name for this server.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from tactful.errors import UsageError
from tactful.serve.problems import ApiError

PERSPECTIVE_DEFAULTS: dict[str, tuple[str, ...]] = {
    "TOXICITY": ("toxicity",),
    # tactful grades no severity: the same probability, to be held to a higher threshold.
    "SEVERE_TOXICITY": ("toxicity",),
    "IDENTITY_ATTACK": ("hate",),
    "INSULT": ("toxicity", "harassment"),
    "PROFANITY": ("profanity",),
    "OBSCENE": ("profanity",),
    "THREAT": ("threat",),
    "SEXUALLY_EXPLICIT": ("sexual",),
    "ATTACK_ON_COMMENTER": ("harassment", "toxicity"),
    "SPAM": ("spam",),
}
# Every category OpenAI's moderation result carries, in its order; those with no
# candidate the profile scores are answered false with score 0 (docs/server.md lists them).
OPENAI_DEFAULTS: dict[str, tuple[str, ...]] = {
    "harassment": ("harassment", "toxicity"),
    "harassment/threatening": ("threat",),
    "hate": ("hate",),
    "hate/threatening": (),
    "illicit": (),
    "illicit/violent": (),
    "self-harm": ("self-harm",),
    "self-harm/intent": ("self-harm",),
    "self-harm/instructions": ("self-harm",),
    "sexual": ("sexual",),
    "sexual/minors": (),
    "violence": ("threat",),
    "violence/graphic": (),
}
T = TypeVar("T")
NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def attribute_name(slug: str) -> str:
    """A category's Perspective-style name: ``off-topic-politics`` -> ``OFF_TOPIC_POLITICS``."""
    return slug.upper().replace("-", "_")


def parse_overrides(pairs: Iterable[str], slugs: Sequence[str]) -> dict[str, str]:
    """``--attribute NAME=SLUG`` values as {NAME: slug}, each slug one of the profile's."""
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, slug = pair.partition("=")
        if not sep or not NAME_RE.match(name) or not slug:
            raise UsageError(f"--attribute {pair!r}: expected NAME=SLUG with NAME in capitals, e.g. --attribute INSULT=harassment")
        if slug not in slugs:
            raise UsageError(f"--attribute {pair!r}: the profile has no category {slug!r} (it has: {', '.join(slugs)})")
        found[name] = slug
    return found


class AttributeMap:
    """Names to the profile's slugs (every answer scores each category)."""

    def __init__(self, slugs: Sequence[str], overrides: Mapping[str, str] | None = None) -> None:
        self.slugs = list(slugs)
        self._names: dict[str, str] = {}
        for name, candidates in PERSPECTIVE_DEFAULTS.items():
            slug = self._first(candidates)
            if slug is not None:
                self._names[name] = slug
        self._names.update({attribute_name(slug): slug for slug in self.slugs})  # a category's own name wins
        self._names.update(overrides or {})

    def names(self) -> list[str]:
        """Every attribute this server answers, sorted."""
        return sorted(self._names)

    def slug(self, name: str) -> str:
        """The slug behind a requested attribute; a 400 that lists the answerable ones otherwise."""
        slug = self._names.get(name)
        if slug is None:
            raise ApiError(400, f"Attribute {name} is not supported by this server's profile; "
                                f"it answers: {', '.join(self.names())}", param=name)
        return slug

    def openai_scores(self, scores: Mapping[str, float]) -> dict[str, float]:
        """OpenAI's category scores, then each of the profile's categories under its slug."""
        return self._openai(lambda slug: scores.get(slug, 0.0) if slug is not None else 0.0)

    def openai_categories(self, labels: Iterable[str]) -> dict[str, bool]:
        """OpenAI's categories as flags: true where a blocked category it maps to was flagged."""
        flagged = set(labels)
        return self._openai(lambda slug: slug in flagged)

    def _openai(self, value: Callable[[str | None], T]) -> dict[str, T]:
        """``value`` of the slug behind each of OpenAI's categories (None: no slug), then
        of each category of the profile that OpenAI has no name for."""
        out = {category: value(self._first(candidates)) for category, candidates in OPENAI_DEFAULTS.items()}
        out.update({slug: value(slug) for slug in self.slugs if slug not in out})
        return out

    def _first(self, candidates: Iterable[str]) -> str | None:
        return next((slug for slug in candidates if slug in self.slugs), None)
