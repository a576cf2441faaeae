"""Inline ignore directives for `tactful check`, and which lines they silence.

A directive is ``tactful: ACTION [slug ...]`` written in a comment: ``<!-- ... -->`` in
Markdown, ``# ...`` in plain text. Actions:

- ``ignore``: the next block, that is every line up to the next blank line.
- ``ignore-line``: the line the comment ends, when text comes before it on that line;
  a comment alone on its line silences the line after it.
- ``off`` ... ``on``: every line between the two (to the end of the file without ``on``).

With slugs (``ignore spam``) only findings of those categories are silenced; without,
the lines are not judged at all. ``Ignores`` tracks this line by line, so the segmenters
only say which line they are on and whether it is blank.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from tactful.errors import DirectiveError
from tactful.profile.categories import did_you_mean, is_valid_slug

ACTIONS = ("ignore", "ignore-line", "off", "on")

# A scope is the set of category slugs a line is silenced for; EVERYTHING means "do not
# judge the line at all". A plain frozenset keeps merging scopes a simple union.
Scope = frozenset[str]
EVERYTHING: Scope = frozenset({"*"})
NOTHING: Scope = frozenset()

_BODY_RE = re.compile(r"^\s*tactful\s*:\s*(?P<rest>.*?)\s*$", re.DOTALL)


@dataclass(frozen=True)
class Directive:
    action: str
    scope: Scope


def parse_directive(body: str, line: int, col: int, known: Collection[str] | None = None) -> Directive | None:
    """The directive in a comment's body, None for an ordinary comment.

    ``known`` lists the profile's category slugs, so that a misspelt one is an error
    rather than an ignore that silences nothing.
    """
    match = _BODY_RE.match(body)
    if match is None:
        return None
    words = match.group("rest").replace(",", " ").split()
    if not words or words[0] not in ACTIONS:
        found = words[0] if words else ""
        raise DirectiveError(
            line, col, f"unknown tactful directive '{found}'{did_you_mean(found, list(ACTIONS))} "
            f"(use one of: {', '.join(ACTIONS)})"
        )
    action, slugs = words[0], words[1:]
    for slug in slugs:
        if not is_valid_slug(slug):
            raise DirectiveError(line, col, f"'{slug}' is not a category slug (lowercase letters, digits and dashes)")
        if known is not None and slug not in known:
            raise DirectiveError(
                line, col, f"unknown category '{slug}' in tactful directive{did_you_mean(slug, sorted(known))}"
            )
    if action == "on" and slugs:
        raise DirectiveError(line, col, "'tactful: on' takes no categories (it ends the region of the last 'off')")
    return Directive(action, frozenset(slugs) or EVERYTHING)


class Ignores:
    """Which categories each line is silenced for, fed one line at a time in order."""

    def __init__(self) -> None:
        self._pending: Scope = NOTHING  # `ignore` seen, its block not started yet
        self._block: Scope = NOTHING  # `ignore` whose block is running
        self._region: Scope = NOTHING  # between `off` and `on`
        self._next_line: dict[int, Scope] = {}  # `ignore-line` alone on the line before

    def line(self, number: int, blank: bool) -> Scope:
        """The scope of line ``number``; call before ``apply`` for that line's directives."""
        if blank:
            self._block = NOTHING
            return NOTHING
        if self._pending:
            self._block, self._pending = self._pending, NOTHING
        return self._block | self._region | self._next_line.pop(number, NOTHING)

    def apply(self, directive: Directive, number: int, trailing: bool) -> Scope:
        """Record a directive found on line ``number``; returns extra scope for that line.

        ``trailing`` is true when text comes before the comment on its line.
        """
        if directive.action == "ignore":
            self._pending = self._pending | directive.scope
        elif directive.action == "off":
            self._region = directive.scope
        elif directive.action == "on":
            self._region = NOTHING
        elif trailing:
            return directive.scope
        else:
            self._next_line[number + 1] = self._next_line.get(number + 1, NOTHING) | directive.scope
        return NOTHING
