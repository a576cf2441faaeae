"""Perspective's and OpenAI's names in a profile's terms."""

from __future__ import annotations

import pytest
from tactful.errors import UsageError
from tactful.serve.attributes import AttributeMap, parse_overrides
from tactful.serve.problems import ApiError


def test_a_name_maps_to_the_first_of_its_categories_the_profile_scores():
    both = AttributeMap(["harassment", "toxicity"])
    assert both.slug("INSULT") == "toxicity" and both.slug("ATTACK_ON_COMMENTER") == "harassment"
    only = AttributeMap(["harassment"])
    assert only.slug("INSULT") == "harassment"
    with pytest.raises(ApiError) as unknown:
        only.slug("TOXICITY")
    assert unknown.value.message.endswith("it answers: ATTACK_ON_COMMENTER, HARASSMENT, INSULT")


def test_a_categorys_own_name_wins_and_overrides_win_over_both():
    attributes = AttributeMap(["toxicity", "threat", "off-topic-politics"], {"THREAT": "toxicity"})
    assert attributes.slug("OFF_TOPIC_POLITICS") == "off-topic-politics"
    assert attributes.slug("THREAT") == "toxicity"


def test_openai_names_come_first_then_the_profiles_own_slugs():
    attributes = AttributeMap(["toxicity", "self-harm", "spam"])
    scores = attributes.openai_scores({"toxicity": 0.8, "self-harm": 0.3, "spam": 0.1})
    assert scores["harassment"] == 0.8 and scores["self-harm/intent"] == 0.3 and scores["hate"] == 0.0
    assert list(scores)[-2:] == ["toxicity", "spam"]  # self-harm is OpenAI's name already
    assert attributes.openai_categories(["spam"]) == {**dict.fromkeys(scores, False), "spam": True}


@pytest.mark.parametrize("pair", ["INSULT", "insult=toxicity", "INSULT=", "INSULT=nothing"])
def test_a_bad_override_is_a_usage_error(pair):
    with pytest.raises(UsageError):
        parse_overrides([pair], ["toxicity"])
