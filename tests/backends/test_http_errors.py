"""Both HTTP backends' mapping of statuses and bodies, at the transport (httpx.MockTransport).

A server that is not the one the backend expects is named, never quoted whole; a body
never carries the prompt onto the screen; passing faults are retried, fixed ones are not.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from tactful.backends.base import ChatRequest
from tactful.backends.ollama import OllamaBackend
from tactful.backends.openai import OpenAIBackend
from tactful.backends.retry import RetryPolicy, excerpt
from tactful.errors import BackendError, HostUnavailable
from werkzeug import Response

NO_WAIT = RetryPolicy(attempts=3, base_delay=0.0)
SECRET = "my neighbour Alice Example is a complete idiot and lives at 12 Elm Street"
PAGE = "<!DOCTYPE html>\n<html><head><title>501 Not Implemented</title></head>\n<body>" + "<p>nginx</p>\n" * 200 + "</body></html>"
REQUEST = ChatRequest([{"role": "system", "content": "Judge the text."}, {"role": "user", "content": SECRET}],
                      {"type": "object", "properties": {"flagged": {"type": "boolean"}}})


class Server:
    """A scripted transport: each request gets the next answer (the last one repeats)."""

    def __init__(self, *answers: Callable[[httpx.Request], httpx.Response]) -> None:
        self.answers = list(answers)
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return self.answers[min(len(self.paths) - 1, len(self.answers) - 1)](request)


def page(status: int) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, text=PAGE, headers={"content-type": "text/html; charset=utf-8"})


def error(status: int, message: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json={"error": message})


def chat_ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"model": "m", "message": {"role": "assistant", "content": '{"flagged": false}'},
                                     "done": True, "prompt_eval_count": 10, "eval_count": 3})


def ollama(server: Server) -> OllamaBackend:
    return OllamaBackend("m", host="http://ollama.test:11434", retry=NO_WAIT, transport=httpx.MockTransport(server))


def openai(server: Server) -> OpenAIBackend:
    return OpenAIBackend("m", "http://vllm.test:8000", retry=NO_WAIT, transport=httpx.MockTransport(server))


def one_line(exc: pytest.ExceptionInfo[BaseException], limit: int = 260) -> str:
    message = str(exc.value)
    assert "\n" not in message and len(message) <= limit, message
    return message


# ------------------------------------------------------------ the quote itself


def test_an_excerpt_is_one_short_line_and_stops_where_the_prompt_begins():
    body = f"template: chat:3: executing \"chat\" at <.Messages>: error rendering\n  {SECRET}\nmore"
    assert excerpt(body) == 'template: chat:3: executing "chat" at <.Messages>: error rendering'
    assert excerpt(f"bad prompt: {SECRET} ({SECRET})", [SECRET]) == "bad prompt:…"
    assert len(excerpt("x" * 5000)) <= 121
    assert excerpt("a\x1b]0;owned\x07b") == "a ]0;owned b"  # control characters cannot drive a terminal


# ------------------------------------------------------------ Ollama


def test_ollama_an_html_page_is_named_by_status_type_and_title_not_quoted():
    server = Server(page(501))
    with pytest.raises(BackendError) as exc:
        ollama(server).complete(REQUEST)
    message = one_line(exc)
    assert "answered 501 text/html (501 Not Implemented): is this an Ollama server?" in message
    assert "nginx" not in message and len(server.paths) == 1  # a fixed answer is not tried again


def test_ollama_a_500_that_echoes_the_prompt_fails_at_once_without_quoting_it():
    server = Server(error(500, f'template: chat:1:5: executing "chat": map has no entry for key "Foo" in {SECRET}'))
    with pytest.raises(BackendError) as exc:
        ollama(server).complete(REQUEST)
    message = one_line(exc)
    assert "failed on model 'm' (500): template: chat:1:5" in message
    assert "Alice" not in message and "Elm" not in message
    assert not isinstance(exc.value, HostUnavailable)  # a pool must not take a host out for it
    assert server.paths == ["/api/chat"]


@pytest.mark.parametrize("said", ["timed out waiting for llama runner to start - progress 0.00",
                                  "server busy, please try again.  maximum pending requests exceeded"])
def test_ollama_a_passing_500_is_tried_again(said: str):
    server = Server(error(500, said), chat_ok)
    assert ollama(server).complete(REQUEST).content == '{"flagged": false}'
    assert server.paths == ["/api/chat", "/api/chat"]


def test_ollama_a_200_in_other_terms_names_the_server_it_may_be():
    server = Server(lambda request: httpx.Response(200, text="hello from a web app", headers={"content-type": "text/plain"}))
    with pytest.raises(BackendError, match="is this an Ollama server"):
        ollama(server).complete(REQUEST)


def test_ollama_info_from_a_server_that_answered_does_not_say_cannot_reach():
    with pytest.raises(BackendError) as exc:
        ollama(Server(page(501))).info()
    message = one_line(exc)
    assert "cannot reach" not in message
    assert message == "the server at http://ollama.test:11434 answered 501 text/html (501 Not Implemented): is this an Ollama server?"


# ------------------------------------------------------------ OpenAI-compatible


def test_openai_a_502_on_models_is_retried_then_the_host_is_unavailable():
    server = Server(page(502))
    with pytest.raises(HostUnavailable) as exc:
        openai(server).info()
    assert server.paths == ["/v1/models"] * NO_WAIT.attempts
    assert "kept failing after 3 tries: the server answered 502: 501 Not Implemented" in one_line(exc)


def test_openai_a_502_on_models_then_an_answer_recovers():
    server = Server(error(502, "bad gateway"), lambda request: httpx.Response(200, json={"data": [{"id": "m"}]}))
    assert openai(server).info().model_present


def test_openai_an_error_body_never_quotes_the_prompt():
    server = Server(lambda request: httpx.Response(400, json={"error": {"message": f"bad request: {json.loads(request.content)['messages'][1]['content']}"}}))
    with pytest.raises(BackendError) as exc:
        openai(server).complete(REQUEST)
    message = one_line(exc)
    assert "refused the request (400): bad request:…" in message and "Alice" not in message


def test_openai_an_html_answer_names_the_server_it_may_be():
    server = Server(page(404))
    with pytest.raises(BackendError) as exc:
        openai(server).complete(REQUEST)
    assert "answered 404 text/html (501 Not Implemented): is this an OpenAI-compatible server?" in one_line(exc)


# ------------------------------------------------------------ as a user meets it


def html_everywhere(httpserver) -> str:  # type: ignore[no-untyped-def]
    httpserver.expect_request("").respond_with_response(Response(PAGE, status=501, content_type="text/html"))
    return httpserver.url_for("").rstrip("/")


def test_doctor_says_what_answered_instead_of_cannot_reach(cli, httpserver):
    run = cli("doctor", "--host", html_everywhere(httpserver), "--model", "m")
    assert run.code == 3
    assert "cannot reach" not in run.stdout
    assert "answered 501 text/html (501 Not Implemented): is this an Ollama server?" in run.stdout
    assert "nginx" not in run.stdout


@pytest.mark.parametrize("command", ["classify", "doctor"])
def test_openai_502_on_models_is_one_line_and_exit_3(cli, httpserver, command):
    httpserver.expect_request("/v1/models").respond_with_response(Response("bad gateway", status=502))
    args = ["--backend", "openai", "--host", httpserver.url_for("/v1")]
    run = cli(command, *args, input="hello\n", env={"TACTFUL_RETRY_BASE_DELAY": "0"})
    assert run.code == 3, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    said = run.stderr if command == "classify" else run.stdout
    assert "kept failing after 5 tries: the server answered 502: bad gateway" in said
