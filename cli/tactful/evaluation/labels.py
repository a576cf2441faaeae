"""Gold labels in the profile's terms, for `eval` and `calibrate`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tactful.io.readers import lookup
from tactful.profile.load import Profile

DEFAULT_LABEL_FIELD = "label"
BANK_LABEL_FIELD = "labels"  # what the example bank and `eval --errors` write


def gold_value(data: Any, label_field: str) -> Any:
    """The raw gold label of a record: ``label_field``, else (for the default) ``labels``.

    Falling back lets eval and calibrate read the bank format they write themselves.
    """
    found = lookup(data, label_field)
    if found is None and label_field == DEFAULT_LABEL_FIELD:
        return lookup(data, BANK_LABEL_FIELD)
    return found


def gold_slugs(value: Any, profile: Profile, mapping: Mapping[str, str]) -> list[str] | None:
    """The profile's category slugs for a gold label (a string or a list); None if unusable.

    ``mapping`` renames a dataset's labels (``toxic`` -> ``toxicity``); gold labels that
    name no category of the profile mean acceptable content.
    """
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, (str, int, bool)) for v in values):
        return None
    slugs = []
    for raw in (str(v) for v in values):
        slug = mapping.get(raw, raw if raw in profile.slugs else None)
        if slug is not None and slug not in slugs:
            slugs.append(slug)
    return slugs  # unmapped gold labels mean acceptable content
