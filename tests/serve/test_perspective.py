"""comments:analyze and comments:suggestscore, as Perspective's clients call them."""

from __future__ import annotations

import json
from pathlib import Path

from tactful.settings import Overrides

from tests.conftest import write_profile
from tests.serve.conftest import INSULT, KIND, analyze
from tests.support.scripted import seen_text

ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"


def test_analyze_answers_each_requested_attribute_with_its_category_probability(client):
    reply = client.post(ANALYZE, json=analyze(INSULT, "TOXICITY", "SPAM", languages=["en"], clientToken="t-1"))
    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "attributeScores": {
            "TOXICITY": {"summaryScore": {"value": 0.7, "type": "PROBABILITY"}},
            "SPAM": {"summaryScore": {"value": 0.05, "type": "PROBABILITY"}},
        },
        "languages": ["en"],
        "detectedLanguages": ["en"],
        "clientToken": "t-1",
    }


def test_default_names_and_custom_slugs_map_to_the_profiles_categories(client):
    # INSULT is the default table's name for toxicity; NEGATIVE_SENTIMENT is a slug in capitals.
    reply = client.post(ANALYZE, json=analyze(INSULT, "INSULT", "NEGATIVE_SENTIMENT", "MANIPULATION"))
    scores = {name: s["summaryScore"]["value"] for name, s in reply.json()["attributeScores"].items()}
    assert scores == {"INSULT": 0.7, "NEGATIVE_SENTIMENT": 0.2, "MANIPULATION": 0.05}


def test_an_attribute_the_profile_cannot_answer_is_a_400_listing_those_it_can(client):
    reply = client.post(ANALYZE, json=analyze(INSULT, "TOXICITY", "THREAT"))
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
    assert error["message"].startswith("Attribute THREAT is not supported by this server's profile; it answers: ")
    assert "TOXICITY" in error["message"] and "SPAM" in error["message"]


def test_attribute_overrides_name_a_category_for_this_server(make_client):
    client = make_client(overrides=Overrides(attributes=["THREAT=manipulation"]))
    reply = client.post(ANALYZE, json=analyze(INSULT, "THREAT"))
    assert reply.json()["attributeScores"]["THREAT"]["summaryScore"]["value"] == 0.05


def test_score_threshold_leaves_out_the_scores_below_it(client):
    body = analyze(INSULT, "TOXICITY", "SPAM")
    body["requestedAttributes"] = {"TOXICITY": {"scoreThreshold": 0.5}, "SPAM": {"scoreThreshold": 0.5, "scoreType": "PROBABILITY"}}
    assert list(client.post(ANALYZE, json=body).json()["attributeScores"]) == ["TOXICITY"]


def test_span_annotations_score_the_whole_comment_as_one_span(client):
    reply = client.post(ANALYZE, json=analyze(INSULT, spanAnnotations=True))
    spans = reply.json()["attributeScores"]["TOXICITY"]["spanScores"]
    assert spans == [{"begin": 0, "end": len(INSULT), "score": {"value": 0.7, "type": "PROBABILITY"}}]


def test_the_context_entries_reach_the_model_as_the_thread_before_the_text(client, prober):
    body = analyze(KIND, context={"entries": [{"text": "first message", "type": "PLAIN_TEXT"}, {"text": "second"}]})
    assert client.post(ANALYZE, json=body).status_code == 200
    [last] = [request for request in prober.requests if seen_text(request.messages) == KIND]
    assert "first message" in json.dumps([m["content"] for m in last.messages])


def test_languages_default_to_english_and_are_echoed_not_detected(client):
    reply = client.post(ANALYZE, json=analyze(KIND)).json()
    assert reply["languages"] == ["en"] and reply["detectedLanguages"] == ["en"]
    assert "clientToken" not in reply


def test_provenance_headers_name_the_model_prompt_and_profile(client):
    reply = client.post(ANALYZE, json=analyze(KIND))
    assert reply.headers["X-Tactful-Model"] == "scripted-model"
    assert len(reply.headers["X-Tactful-Prompt"]) >= 8
    assert reply.headers["X-Tactful-Profile"]


def test_suggestscore_appends_a_labelled_record_calibrate_can_read(make_client, tmp_path):
    path = tmp_path / "suggested.jsonl"
    client = make_client(suggestions=path)
    body = {"comment": {"text": "buy cheap pills"}, "clientToken": "c",
            "attributeScores": {"SPAM": {"summaryScore": {"value": 0.9}}, "TOXICITY": {"summaryScore": {"value": 0.1}}}}
    reply = client.post(SUGGEST, json=body)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"languages": ["en"], "detectedLanguages": ["en"], "clientToken": "c"}
    [record] = [json.loads(line) for line in path.read_text().splitlines()]
    assert record["text"] == "buy cheap pills" and record["labels"] == ["spam"] and record["source"] == "suggestscore"
    assert record["id"].startswith("suggest-")


def test_suggestscore_without_a_suggestions_file_says_how_to_keep_them(client):
    body = {"comment": {"text": "x y"}, "attributeScores": {"SPAM": {"summaryScore": {"value": 0.9}}}}
    error = client.post(SUGGEST, json=body).json()["error"]
    assert error["status"] == "FAILED_PRECONDITION" and "--suggestions FILE" in error["message"]


def test_a_multiclass_profile_answers_every_category_from_its_one_distribution(make_client, prober):
    Path("tactful.toml").write_text('version = 1\n[task]\nmode = "multiclass"\n'
                                    '[categories.toxicity]\n[categories.spam]\nblocked = false\n')
    prober.probabilities = {INSULT: {"flagged": 1.0, "category": {"toxicity": 0.7, "spam": 0.3}}}
    prober.default_probabilities = {"flagged": 0.1, "category": {"toxicity": 1.0, "spam": 1.0}}
    reply = make_client().post(ANALYZE, json=analyze(INSULT, "TOXICITY", "SPAM"))
    scores = {name: s["summaryScore"]["value"] for name, s in reply.json()["attributeScores"].items()}
    assert scores == {"TOXICITY": 0.7, "SPAM": 0.3}


# The built-in profile's categories, with a [serve] table that remaps TOXICITY and adds a name.
SERVED = """version = 1
[categories.toxicity]
[categories.spam]
[categories.manipulation]
[categories.negative-sentiment]
blocked = false
[serve.attributes]
TOXICITY = "negative-sentiment"
HOSTILE = "toxicity"
"""


def test_the_profiles_serve_table_remaps_and_adds_attribute_names(make_client, tmp_path):
    client = make_client(overrides=Overrides(profile=write_profile(tmp_path / "served.toml", SERVED)))
    reply = client.post(ANALYZE, json=analyze(INSULT, "TOXICITY", "HOSTILE", "SPAM"))
    scores = {name: s["summaryScore"]["value"] for name, s in reply.json()["attributeScores"].items()}
    assert scores == {"TOXICITY": 0.2, "HOSTILE": 0.7, "SPAM": 0.05}
    assert "HOSTILE" in client.get("/healthz").json()["attributes"]
    refused = client.post(ANALYZE, json=analyze(INSULT, "THREAT")).json()["error"]["message"]
    assert refused.startswith("Attribute THREAT is not supported") and "HOSTILE, INSULT" in refused


def test_an_attribute_flag_wins_over_the_profiles_serve_table(make_client, tmp_path):
    overrides = Overrides(profile=write_profile(tmp_path / "served.toml", SERVED), attributes=["TOXICITY=toxicity"])
    reply = make_client(overrides=overrides).post(ANALYZE, json=analyze(INSULT, "TOXICITY", "HOSTILE"))
    scores = {name: s["summaryScore"]["value"] for name, s in reply.json()["attributeScores"].items()}
    assert scores == {"TOXICITY": 0.7, "HOSTILE": 0.7}
