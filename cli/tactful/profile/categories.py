"""Built-in categories and the rules for category slugs."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from tactful.profile.schema import CATEGORY, default_of
from tactful.profile.schema import SEVERITIES as SEVERITIES  # re-exported: `check` imports it here
from tactful.profile.schema import Category as Category  # re-exported: declared with the other keys
from tactful.profile.tomlio import loads_toml

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class BuiltinCategory:
    slug: str
    description: str
    severity: str


@lru_cache(maxsize=1)
def builtin_categories() -> dict[str, BuiltinCategory]:
    """The categories every profile knows, in the order they are defined."""
    text = resources.files("tactful.prompts").joinpath("categories.toml").read_text("utf-8")
    data = loads_toml(text)
    severity = default_of(CATEGORY, "severity")
    return {
        slug: BuiltinCategory(slug, table["description"], table.get("severity", severity))
        for slug, table in data.items()
    }


def is_valid_slug(slug: str) -> bool:
    return bool(SLUG_RE.match(slug))


def did_you_mean(name: str, choices: list[str]) -> str:
    """A ' (did you mean X?)' hint, or '' when nothing is close (case aside: TOXICITY is close)."""
    lowered = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean '{lowered[close[0]]}'?)" if close else ""
