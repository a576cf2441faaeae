"""Every bad request is answered in its API's own error shape, never a 500 with a trace."""

from __future__ import annotations

import pytest
from tactful.errors import AnswerError, HostUnavailable

from tests.serve.conftest import INSULT, analyze

ANALYZE = "/v1alpha1/comments:analyze"
GOOGLE_KEYS = {"code", "message", "status"}
OPENAI_KEYS = {"message", "type", "param", "code"}


def google_error(reply, code: int, status: str) -> str:
    assert reply.status_code == code, reply.text
    error = reply.json()["error"]
    assert set(error) == GOOGLE_KEYS and error["code"] == code and error["status"] == status
    assert "Traceback" not in reply.text
    return error["message"]


def openai_error(reply, code: int) -> dict:
    assert reply.status_code == code, reply.text
    error = reply.json()["error"]
    assert set(error) == OPENAI_KEYS
    return error


@pytest.mark.parametrize(("body", "says"), [
    (b"{not json", "Invalid JSON payload received"),
    (b"[1, 2]", "expected an object, got a list"),
    (b'{"comment": {"text": "hi"}}', "requestedAttributes is required"),
    (b'{"comment": {"text": "  "}, "requestedAttributes": {"TOXICITY": {}}}', "comment.text is empty"),
    (b'{"comment": {"text": 5}, "requestedAttributes": {"TOXICITY": {}}}', "comment.text must be a string, got a number"),
    (b'{"comment": {"text": "hi"}, "requestedAttributes": {}}', "requestedAttributes is empty"),
    (b'{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "doNotstore": true}', 'Unknown field "doNotstore"'),
    (b'{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": 2}}}', "expected a number from 0 to 1"),
    (b'{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreType": "STD_DEV_SCORE"}}}', "scoreType STD_DEV_SCORE is not supported"),
    (b'{"comment": {"text": "hi", "type": "HTML"}, "requestedAttributes": {"TOXICITY": {}}}', "send the text as PLAIN_TEXT"),
    (b'{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "doNotStore": "yes"}', "doNotStore must be true or false"),
    (b'{"comment": {"text": "hi"}, "context": {"entries": ["x"]}, "requestedAttributes": {"TOXICITY": {}}}', "context.entries[0] must be an object"),
    (b'{"comment": {"text": "\\ud800"}, "requestedAttributes": {"TOXICITY": {}}}', "lone surrogate"),
])
def test_a_malformed_analyze_request_is_a_400_in_googles_shape(client, body, says):
    reply = client.post(ANALYZE, content=body, headers={"content-type": "application/json"})
    assert says in google_error(reply, 400, "INVALID_ARGUMENT")


def test_a_comment_over_20_kb_is_refused(client):
    message = google_error(client.post(ANALYZE, json=analyze("a" * 20_481)), 400, "INVALID_ARGUMENT")
    assert "20481 bytes; the limit is 20480 bytes" in message


def test_a_body_over_the_limit_is_a_413_before_it_is_read_whole(client):
    reply = client.post(ANALYZE, content=b"x" * 1_100_000, headers={"content-type": "application/json"})
    assert "over 1048576 bytes" in google_error(reply, 413, "INVALID_ARGUMENT")


def test_unknown_paths_and_methods_answer_in_the_shape_of_their_api(client):
    assert "no such path" in google_error(client.post("/v1alpha1/comments:nothing", json={}), 404, "NOT_FOUND")
    message = google_error(client.get(ANALYZE), 405, "UNIMPLEMENTED")
    assert "GET is not allowed" in message
    assert openai_error(client.get("/v1/moderations"), 405)["type"] == "invalid_request_error"
    assert "no such path" in openai_error(client.post("/v1/embeddings", json={}), 404)["message"]


@pytest.mark.parametrize(("body", "param"), [
    ({}, "input"),
    ({"input": []}, "input"),
    ({"input": [1]}, "input[0]"),
    ({"input": [{"type": "image_url", "image_url": {"url": "x"}}]}, "input[0]"),
    ({"input": "x", "temperature": 1}, "temperature"),
    ({"input": ["ok"] * 33}, "input"),
])
def test_a_malformed_moderation_request_is_a_400_in_openais_shape(client, body, param):
    error = openai_error(client.post("/v1/moderations", json=body), 400)
    assert error["type"] == "invalid_request_error" and error["param"] == param


def test_classify_uses_googles_shape_though_it_lives_under_v1(client):
    google_error(client.post("/v1/classify", json={"input": 5}), 400, "INVALID_ARGUMENT")


def test_a_dead_backend_costs_the_request_a_503_and_the_server_goes_on(make_client, prober):
    client = make_client()
    prober.probabilities = {INSULT: HostUnavailable("http://gpu-1: connection refused")}
    message = google_error(client.post(ANALYZE, json=analyze(INSULT)), 503, "UNAVAILABLE")
    assert "connection refused" in message
    openai_error(client.post("/v1/moderations", json={"input": INSULT}), 503)
    assert client.post(ANALYZE, json=analyze("something else")).status_code == 200


def test_an_answer_that_cannot_be_read_is_a_500_that_says_why(make_client, prober):
    client = make_client()
    prober.probabilities = {INSULT: AnswerError("no choice of the answer is likely")}
    message = google_error(client.post(ANALYZE, json=analyze(INSULT)), 500, "INTERNAL")
    assert message.startswith("the text could not be judged")


def test_a_bug_is_a_500_in_the_apis_shape_and_a_log_line_without_the_request(make_client, prober, caplog):
    client = make_client()
    prober.probabilities = {INSULT: ZeroDivisionError("boom")}
    reply = client.post("/v1/moderations", json={"input": INSULT})
    error = openai_error(reply, 500)
    assert error["type"] == "server_error" and "Traceback" not in reply.text
    assert "internal error ZeroDivisionError at" in caplog.text and INSULT not in caplog.text
