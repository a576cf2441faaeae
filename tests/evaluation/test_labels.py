"""Gold labels in the profile's terms: mapped, a slug, or listed and refused."""

from __future__ import annotations

import pytest
from tactful.errors import UsageError
from tactful.evaluation.labels import GoldLabels
from tactful.profile.load import parse_profile

PROFILE = parse_profile("version = 1\n[categories.toxicity]\n[categories.spam]\nblocked = false\n", None)


def test_slugs_and_mapped_labels_are_read_and_none_means_acceptable():
    labels = GoldLabels(PROFILE, {"toxic": "toxicity", "ok": "none"})
    assert labels.slugs("toxic") == ["toxicity"]
    assert labels.slugs(["spam", "toxicity", "toxic"]) == ["spam", "toxicity"]
    assert labels.slugs("ok") == [] and labels.slugs([]) == [] and labels.slugs("none") == []
    labels.check("d.jsonl")  # nothing unplaced: no error


def test_unmapped_labels_are_counted_and_listed_in_one_error():
    labels = GoldLabels(PROFILE, {"toxic": "toxicity"})
    for value in ["ok", "ok", "toxic", ["ok", "rude"], True]:
        labels.slugs(value)
    with pytest.raises(UsageError) as raised:
        labels.check("d.jsonl")
    message = raised.value.message
    assert message.startswith("d.jsonl: gold labels that name no category of the profile: 'ok' (3), 'rude' (1), 'true' (1)")
    assert "--map ok=SLUG" in message and "--map ok=none" in message and "--rest-acceptable" in message


def test_rest_acceptable_reads_unmapped_labels_as_acceptable():
    labels = GoldLabels(PROFILE, {}, rest_acceptable=True)
    assert labels.slugs(["ok", "toxicity"]) == ["toxicity"]
    labels.check("d.jsonl")


def test_a_map_onto_no_category_is_refused():
    with pytest.raises(UsageError, match="--map names categories the profile does not have: toxicty"):
        GoldLabels(PROFILE, {"toxic": "toxicty"})


def test_a_label_with_escapes_is_shown_escaped():
    labels = GoldLabels(PROFILE)
    labels.slugs("\x1b]0;owned\x07")
    with pytest.raises(UsageError) as raised:
        labels.check("d.jsonl")
    assert "\x1b" not in raised.value.message and "--map GOLD=SLUG" in raised.value.message
