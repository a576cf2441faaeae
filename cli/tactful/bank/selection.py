"""Choosing which bank examples go into the prompt.

``fixed`` and ``balanced`` choose once per run, so the examples sit in the cached prompt
prefix; ``similar`` chooses per item (see ``similar.py``) and goes after it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from tactful.bank.store import Example, load_bank
from tactful.profile.load import Profile

BENIGN = ""
_log = logging.getLogger(__name__)


def bank_for(profile: Profile) -> list[Example]:
    """The profile's bank as a run uses it: examples it cannot place are left out, with a warning."""
    bank = load_bank(profile.examples_path)
    usable = usable_examples(bank, profile)
    if skipped := len(bank) - len(usable):
        _log.warning(f"{skipped} bank example(s) use categories this profile does not have and were left out")
    return usable


def usable_examples(bank: Sequence[Example], profile: Profile) -> list[Example]:
    """Bank examples whose labels all name categories of this profile."""
    known = set(profile.slugs)
    return [ex for ex in bank if set(ex.labels) <= known]


def primary_label(example: Example) -> str:
    return example.labels[0] if example.labels else BENIGN


def fixed_examples(bank: Sequence[Example], profile: Profile) -> list[Example]:
    """The first examples in bank order: k for each category, plus k acceptable ones."""
    k = profile.task.examples_per_category
    return list(bank[: k * (len(profile.categories) + 1)])


def balanced_examples(bank: Sequence[Example], profile: Profile) -> list[Example]:
    """Up to k examples per category and k acceptable ones, interleaved round-robin.

    Interleaving keeps any one class from owning the last turns before the text, where a
    small model's attention (and its bias) is strongest.
    """
    k = profile.task.examples_per_category
    groups: dict[str, list[Example]] = {slug: [] for slug in [*profile.slugs, BENIGN]}
    for example in bank:
        group = groups.setdefault(primary_label(example), [])
        if len(group) < k:
            group.append(example)
    chosen: list[Example] = []
    for round_ in range(k):
        chosen.extend(group[round_] for group in groups.values() if round_ < len(group))
    return chosen
