"""Perspective's attributes and OpenAI's categories in the profile's terms.

A profile names its categories by slug (``toxicity``, ``off-topic-politics``); the APIs
served here have names of their own. Each name maps to the first of its candidate slugs
the profile has (``profile.schema``'s PERSPECTIVE_DEFAULTS and OPENAI_DEFAULTS;
docs/server.md prints these tables), so a profile with both ``harassment`` and
``toxicity`` answers INSULT from ``toxicity``, and one with only ``harassment`` from
that. Any category is also asked for by its slug in upper case with underscores
(``OFF_TOPIC_POLITICS``). The profile's [serve] table, with ``--attribute NAME=SLUG``
over it (both resolved in ``settings``), adds names or replaces them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from tactful.profile.schema import (
    OPENAI_DEFAULTS,
    PERSPECTIVE_DEFAULTS,
    ServeSettings,
    attribute_name,
)
from tactful.serve.problems import ApiError

T = TypeVar("T")


class AttributeMap:
    """Names to the profile's slugs (every answer scores each category)."""

    def __init__(self, slugs: Sequence[str], serve: ServeSettings | None = None) -> None:
        self.slugs = list(slugs)
        serve = serve or ServeSettings()
        self._names: dict[str, str] = {}
        for name, candidates in PERSPECTIVE_DEFAULTS.items():
            slug = self._first(candidates)
            if slug is not None:
                self._names[name] = slug
        self._names.update({attribute_name(slug): slug for slug in self.slugs})  # a category's own name wins
        self._names.update(serve.attributes)  # and the profile's table (with --attribute) over both
        self._openai = {category: serve.openai.get(category) or self._first(candidates)
                        for category, candidates in OPENAI_DEFAULTS.items()}

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
        return self._each_openai(lambda slug: scores.get(slug, 0.0) if slug is not None else 0.0)

    def openai_categories(self, labels: Iterable[str]) -> dict[str, bool]:
        """OpenAI's categories as flags: true where a blocked category it maps to was flagged."""
        flagged = set(labels)
        return self._each_openai(lambda slug: slug in flagged)

    def _each_openai(self, value: Callable[[str | None], T]) -> dict[str, T]:
        """``value`` of the slug behind each of OpenAI's categories (None: no slug), then
        of each category of the profile that OpenAI has no name for."""
        out = {category: value(slug) for category, slug in self._openai.items()}
        out.update({slug: value(slug) for slug in self.slugs if slug not in out})
        return out

    def _first(self, candidates: Iterable[str]) -> str | None:
        return next((slug for slug in candidates if slug in self.slugs), None)
