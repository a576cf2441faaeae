"""Gold labels in the profile's terms, for `eval` and `calibrate`.

A gold label is read only when its meaning is known: a category's slug, ``none``
(acceptable content), or a label ``--map`` maps to either. Any other label is
counted, and the run stops listing them before the model is asked anything, unless the
user said that the rest are acceptable: ``toxic`` silently read as acceptable would make
every metric and every fitted threshold wrong.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tactful.engine.answer import NONE_LABEL
from tactful.errors import UsageError
from tactful.io.readers import lookup
from tactful.profile.load import Profile

DEFAULT_LABEL_FIELD = "label"
BANK_LABEL_FIELD = "labels"  # what the example bank and `eval --errors` write
ACCEPTABLE = NONE_LABEL  # `--map ok=none`: the gold label ``ok`` means acceptable content
REST_ACCEPTABLE_FLAG = "--rest-acceptable"


def gold_value(data: Any, label_field: str) -> Any:
    """The raw gold label of a record: ``label_field``, else (for the default) ``labels``.

    Falling back lets eval and calibrate read the bank format they write themselves.
    """
    found = lookup(data, label_field)
    if found is None and label_field == DEFAULT_LABEL_FIELD:
        return lookup(data, BANK_LABEL_FIELD)
    return found


@dataclass
class GoldLabels:
    """Reads gold labels as the profile's slugs and counts those nothing placed.

    ``mapping`` renames a dataset's labels (``toxic`` -> ``toxicity``, ``ok`` -> ``none``);
    with ``rest_acceptable`` a label that names no category means acceptable content.
    """

    profile: Profile
    mapping: Mapping[str, str] = field(default_factory=dict)
    rest_acceptable: bool = False
    unmapped: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.mapping.values()) - set(self.profile.slugs) - {ACCEPTABLE})
        if unknown:
            raise UsageError(f"--map names categories the profile does not have: {', '.join(unknown)} "
                             f"(the profile has: {', '.join(self.profile.slugs)}; `{ACCEPTABLE}` means acceptable)")

    def slugs(self, value: Any) -> list[str] | None:
        """The slugs of a gold label (a string or a list); None when it is not a label at all."""
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, (str, int, bool)) for v in values):
            return None
        slugs: list[str] = []
        for raw in map(_label_text, values):
            slug = self._slug(raw)
            if slug is not None and slug not in slugs:
                slugs.append(slug)
        return slugs

    def _slug(self, raw: str) -> str | None:
        if raw in self.mapping:
            target = self.mapping[raw]
            return None if target == ACCEPTABLE else target
        if raw in self.profile.slugs:
            return raw
        if raw == ACCEPTABLE:  # what a multiclass answer says for no category
            return None
        if not self.rest_acceptable:
            self.unmapped[raw] += 1
        return None

    def check(self, where: str) -> None:
        """Stop (exit 2) listing every gold label read so far that nothing placed."""
        if not self.unmapped:
            return
        listed = ", ".join(f"{label!r} ({count})" for label, count in self.unmapped.most_common())
        first = next(iter(self.unmapped))
        first = first if first.isprintable() and " " not in first and first else "GOLD"
        raise UsageError(
            f"{where}: gold labels that name no category of the profile: {listed}; say what each means: "
            f"--map {first}=SLUG for a category ({', '.join(self.profile.slugs)}), --map {first}={ACCEPTABLE} "
            f"for acceptable content, or {REST_ACCEPTABLE_FLAG} to read every unmapped label as acceptable"
        )


def _label_text(value: str | int | bool) -> str:
    """A label as the user would type it after --map: JSON's ``true``, not Python's ``True``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
