"""POST /v1/moderations in OpenAI's format, and tactful's own POST /v1/classify."""

from __future__ import annotations

from tactful.profile.schema import OPENAI_DEFAULTS
from tactful.settings import Overrides

from tests.conftest import write_profile
from tests.serve.conftest import INSULT, KIND, SAD, SLUGS


def test_moderations_answer_each_input_in_order_in_openais_shape(client):
    reply = client.post("/v1/moderations", json={"input": [INSULT, KIND, SAD], "model": "omni-moderation-latest"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["id"].startswith("modr-") and body["model"] == "scripted-model"
    insult, kind, sad = body["results"]
    assert insult["flagged"] is True and kind["flagged"] is False
    # toxicity stands in for harassment (the built-in profile has no harassment category) ...
    assert insult["category_scores"]["harassment"] == 0.7 and insult["categories"]["harassment"] is True
    # ... every OpenAI category is there, and the profile's own under their slugs
    assert list(insult["category_scores"])[:len(OPENAI_DEFAULTS)] == list(OPENAI_DEFAULTS)
    assert insult["category_scores"]["toxicity"] == 0.7 and insult["category_scores"]["hate"] == 0.0
    # negative sentiment is scored but not blocked in the built-in profile: never a flag
    assert sad["category_scores"]["negative-sentiment"] == 0.85 and sad["categories"]["negative-sentiment"] is False
    assert sad["flagged"] is False
    assert insult["category_applied_input_types"]["toxicity"] == ["text"]


def test_the_profiles_serve_table_maps_openais_categories(make_client, tmp_path):
    categories = "".join(f"[categories.{slug}]\n" for slug in SLUGS)  # the built-in profile's, all blocked
    profile = write_profile(tmp_path / "served.toml",
                            f'version = 1\n{categories}[serve.openai]\nillicit = "toxicity"\nharassment = "spam"\n')
    [insult] = make_client(overrides=Overrides(profile=profile)).post("/v1/moderations", json={"input": INSULT}).json()["results"]
    assert (insult["category_scores"]["illicit"], insult["categories"]["illicit"]) == (0.7, True)
    assert (insult["category_scores"]["harassment"], insult["categories"]["harassment"]) == (0.05, False)
    assert list(insult["category_scores"])[:len(OPENAI_DEFAULTS)] == list(OPENAI_DEFAULTS)


def test_moderations_take_a_string_or_text_parts(client):
    one = client.post("/v1/moderations", json={"input": INSULT}).json()
    parts = client.post("/v1/moderations", json={"input": [{"type": "text", "text": INSULT}]}).json()
    assert len(one["results"]) == len(parts["results"]) == 1
    assert one["results"][0]["category_scores"] == parts["results"][0]["category_scores"]


def test_classify_returns_the_records_the_cli_writes(client):
    reply = client.post("/v1/classify", json={"input": [INSULT, {"id": "p7", "body": KIND, "user": "ann"}], "field": "body"})
    assert reply.status_code == 200, reply.text
    first, second = reply.json()["records"]
    assert first["text"] == INSULT and first["moderation"]["labels"] == ["toxicity"]
    assert first["moderation"]["model"] == "scripted-model" and first["moderation"]["prompt"]
    assert second["id"] == "p7" and second["user"] == "ann" and second["moderation"]["flagged"] is False


def test_classify_answers_a_record_without_its_text_field_as_an_error_record(client):
    [record] = client.post("/v1/classify", json={"input": [{"id": 1, "other": "x"}]}).json()["records"]
    assert record["moderation"]["flagged"] is None
    assert "no field 'text'" in record["moderation"]["error"]
