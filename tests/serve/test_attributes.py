"""Perspective's and OpenAI's names in a profile's terms: the built-in tables, the
profile's [serve] table over them, and --attribute over that."""

from __future__ import annotations

import pytest
from tactful.errors import UsageError
from tactful.profile.schema import ServeSettings
from tactful.serve.attributes import AttributeMap
from tactful.serve.problems import ApiError
from tactful.settings import Overrides, resolve

from tests.conftest import write_profile

SERVED = """version = 1
[categories.toxicity]
[categories.spam]
[serve.attributes]
TOXICITY = "spam"
JUNK = "spam"
"""


def test_a_name_maps_to_the_first_of_its_categories_the_profile_scores():
    both = AttributeMap(["harassment", "toxicity"])
    assert both.slug("INSULT") == "toxicity" and both.slug("ATTACK_ON_COMMENTER") == "harassment"
    only = AttributeMap(["harassment"])
    assert only.slug("INSULT") == "harassment"
    with pytest.raises(ApiError) as unknown:
        only.slug("TOXICITY")
    assert unknown.value.message.endswith("it answers: ATTACK_ON_COMMENTER, HARASSMENT, INSULT")


def test_a_categorys_own_name_wins_and_the_profiles_table_wins_over_both():
    attributes = AttributeMap(["toxicity", "threat", "off-topic-politics"],
                              ServeSettings(attributes={"THREAT": "toxicity", "TOXICITY": "threat", "POLITICS": "off-topic-politics"}))
    assert attributes.slug("OFF_TOPIC_POLITICS") == "off-topic-politics"
    assert attributes.slug("THREAT") == "toxicity" and attributes.slug("TOXICITY") == "threat"  # TOXICITY is a slug's own name
    assert attributes.slug("POLITICS") == "off-topic-politics" and "POLITICS" in attributes.names()


def test_the_profiles_openai_table_replaces_a_categorys_mapping_in_openais_order():
    attributes = AttributeMap(["toxicity", "spam"], ServeSettings(openai={"illicit": "spam", "harassment": "spam"}))
    scores = attributes.openai_scores({"toxicity": 0.8, "spam": 0.3})
    assert scores["illicit"] == 0.3 and scores["harassment"] == 0.3 and scores["toxicity"] == 0.8
    assert list(scores) == list(AttributeMap(["toxicity", "spam"]).openai_scores({}))  # the same keys, in order
    assert attributes.openai_categories(["spam"])["illicit"] is True


def test_openai_names_come_first_then_the_profiles_own_slugs():
    attributes = AttributeMap(["toxicity", "self-harm", "spam"])
    scores = attributes.openai_scores({"toxicity": 0.8, "self-harm": 0.3, "spam": 0.1})
    assert scores["harassment"] == 0.8 and scores["self-harm/intent"] == 0.3 and scores["hate"] == 0.0
    assert list(scores)[-2:] == ["toxicity", "spam"]  # self-harm is OpenAI's name already
    assert attributes.openai_categories(["spam"]) == {**dict.fromkeys(scores, False), "spam": True}


def test_attribute_flags_go_over_the_profiles_table(tmp_path):
    profile = write_profile(tmp_path / "served.toml", SERVED)
    assert resolve(Overrides(profile=profile)).profile.serve.attributes == {"TOXICITY": "spam", "JUNK": "spam"}
    flagged = resolve(Overrides(profile=profile, attributes=["TOXICITY=toxicity", "BUY=spam"])).profile.serve
    assert flagged.attributes == {"TOXICITY": "toxicity", "JUNK": "spam", "BUY": "spam"}


@pytest.mark.parametrize("pair", ["INSULT", "insult=toxicity", "INSULT=", "INSULT=nothing"])
def test_a_bad_override_is_a_usage_error(pair):
    with pytest.raises(UsageError, match=f"--attribute '{pair}': "):
        resolve(Overrides(attributes=[pair]))
