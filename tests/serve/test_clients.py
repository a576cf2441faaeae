"""Unmodified third-party clients against a running `tactful serve` (the stand-in Ollama behind it).

The openai SDK, pointed at the server by its documented base_url; the `perspective`
package from PyPI (github.com/conway/perspective), whose client keeps its endpoint in a
public attribute, pointed at the server the same way; and google-api-python-client, built
as Google's Perspective instructions build it, from the discovery document the server
serves.
"""

from __future__ import annotations

import json
import signal
import threading
import time

import httpx
import openai
import pytest
from googleapiclient import discovery
from googleapiclient.errors import HttpError
from perspective import PerspectiveAPI

from tests.conftest import write_profile
from tests.fake_ollama import answer_for_schema, blocked_offered, item_text, model_labels
from tests.serve.server import Server, start


@pytest.fixture
def server(ollama_args: list[str], tmp_path) -> Server:  # type: ignore[no-untyped-def]
    running = start(*ollama_args, "--suggestions", str(tmp_path / "suggested.jsonl"))
    yield running
    running.stop()


def test_the_openai_sdk_moderates_through_tactful_serve(server):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    answer = client.moderations.create(input=["you stupid idiot", "see you at the meetup"])
    insult, kind = answer.results
    assert insult.flagged is True and kind.flagged is False
    assert insult.categories.harassment is True and insult.category_scores.harassment > 0.5
    assert kind.category_scores.harassment < 0.5
    assert answer.model == "fake-model:1b"


def test_the_openai_sdk_raises_its_own_typed_error_for_a_bad_request(server):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError) as bad:
        client.moderations.create(input=[])
    assert bad.value.status_code == 400 and bad.value.param == "input"


def test_a_published_perspective_client_analyzes_and_suggests_through_tactful_serve(server, tmp_path):
    api = PerspectiveAPI("unused-key")
    api.api_client.url = f"{server.url}/v1alpha1/{{endpoint}}"  # commentanalyzer.googleapis.com's place
    assert api.score("you stupid idiot", tests=["TOXICITY", "SPAM"])["TOXICITY"] > 0.5
    answer = api.analyze_comment("click here to win a prize", requested_attributes={"SPAM": {}, "TOXICITY": {}},
                                 span_annotations=True, do_not_store=True, client_token="abc")
    assert answer["attributeScores"]["SPAM"]["summaryScore"]["value"] > 0.5
    assert answer["attributeScores"]["TOXICITY"]["summaryScore"]["value"] < 0.5
    assert answer["clientToken"] == "abc"
    api.suggest_score("this is fine actually", {"TOXICITY": {"summaryScore": {"value": 0.9}}})
    [record] = [json.loads(line) for line in (tmp_path / "suggested.jsonl").read_text().splitlines()]
    assert record["text"] == "this is fine actually" and record["labels"] == ["toxicity"]


def test_googles_api_client_built_from_the_servers_discovery_document_analyzes(server):
    # Google's documented Perspective snippet, with discoveryServiceUrl pointing here.
    client = discovery.build("commentanalyzer", "v1alpha1", developerKey="unused", static_discovery=False,
                             discoveryServiceUrl=f"{server.url}/$discovery/rest?version=v1alpha1")
    body = {"comment": {"text": "you stupid idiot"}, "requestedAttributes": {"TOXICITY": {}}}
    answer = client.comments().analyze(body=body).execute()
    assert answer["attributeScores"]["TOXICITY"]["summaryScore"]["value"] > 0.5
    with pytest.raises(HttpError) as bad:
        client.comments().analyze(body={"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}).execute()
    assert bad.value.status_code == 400 and "comment.text is empty" in bad.value.reason


def test_a_profiles_serve_table_reaches_the_perspective_and_openai_clients(ollama_args, tmp_path):
    profile = write_profile(tmp_path / "community.toml", """version = 1
[categories.toxicity]
[categories.spam]
[categories.off-topic-politics]
description = "Posts about party politics, elections or politicians."
[serve.attributes]
TOXICITY = "spam"                  # this community's worst is advertising
POLITICS = "off-topic-politics"    # a name of its own for its own category
[serve.openai]
illicit = "spam"
""")
    server = start(*ollama_args, "-p", str(profile))
    try:
        api = PerspectiveAPI("unused-key")
        api.api_client.url = f"{server.url}/v1alpha1/{{endpoint}}"
        ad = api.score("click here to win a prize", tests=["TOXICITY", "POLITICS"])
        politics = api.score("vote for the senator in the election", tests=["TOXICITY", "POLITICS"])
        assert ad["TOXICITY"] > 0.5 > ad["POLITICS"] and politics["POLITICS"] > 0.5 > politics["TOXICITY"]
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
        [result] = client.moderations.create(input="click here to win a prize").results
        assert result.categories.illicit is True and result.category_scores.illicit > 0.5
    finally:
        server.stop()


def test_sigterm_lets_the_request_in_flight_finish_then_exits_143(ollama_args, fake_ollama):
    def slow(view):  # type: ignore[no-untyped-def]
        if item_text(view) == "slow one":
            time.sleep(1.5)
        return json.dumps(answer_for_schema(view["format"], model_labels(view), blocked_offered(view)))

    fake_ollama.responder = slow
    server = start(*ollama_args)
    replies: list[httpx.Response] = []
    body = {"comment": {"text": "slow one"}, "requestedAttributes": {"TOXICITY": {}}}
    worker = threading.Thread(target=lambda: replies.append(
        httpx.post(f"{server.url}/v1alpha1/comments:analyze", json=body, timeout=30)))
    worker.start()
    time.sleep(0.7)  # the request is with the model
    assert server.stop(signal.SIGTERM) == 143
    worker.join(10)
    assert [reply.status_code for reply in replies] == [200]
    with pytest.raises(httpx.ConnectError):  # and no new request is taken
        httpx.post(f"{server.url}/v1alpha1/comments:analyze", json=body, timeout=5)


def test_ctrl_c_stops_the_server_with_exit_130(ollama_args):
    server = start(*ollama_args)
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert server.stop(signal.SIGINT) == 130
    assert "Traceback" not in server.stderr
