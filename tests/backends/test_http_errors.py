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
from tactful.backends.ollama import PASSING_STATUSES, OllamaBackend
from tactful.backends.openai import RETRY_STATUSES, OpenAIBackend
from tactful.backends.retry import RetryPolicy, excerpt
from tactful.errors import AnswerError, BackendError, ConfigError, HostUnavailable
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
        self.bodies: list[dict] = []  # the JSON each request posted

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if request.content:
            self.bodies.append(json.loads(request.content))
        return self.answers[min(len(self.paths) - 1, len(self.answers) - 1)](request)


def page(status: int) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, text=PAGE, headers={"content-type": "text/html; charset=utf-8"})


def error(status: int, message: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json={"error": message})


def chat_ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"model": "m", "message": {"role": "assistant", "content": '{"flagged": false}'},
                                     "done": True, "prompt_eval_count": 10, "eval_count": 3})


def ollama(server: Callable[[httpx.Request], httpx.Response]) -> OllamaBackend:
    return OllamaBackend("m", host="http://ollama.test:11434", retry=NO_WAIT, transport=httpx.MockTransport(server))


def openai(server: Callable[[httpx.Request], httpx.Response]) -> OpenAIBackend:
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


# ------------------------------------------------------------ Ollama: every status


def show(context_length: int) -> dict:
    return {"modelfile": "", "template": "", "details": {"format": "gguf"}, "model_info": {"fake.context_length": context_length}}


def with_show(chat: Callable[[httpx.Request], httpx.Response], context_length: int = 32768) -> Callable[[httpx.Request], httpx.Response]:
    """``chat`` for every path but /api/show, which reports the model's context length."""
    return lambda request: (httpx.Response(200, json=show(context_length)) if request.url.path == "/api/show"
                            else chat(request))


@pytest.mark.parametrize("status, said, expected", [
    (404, 'model "m" not found, try pulling it first',
     "model 'm' is not available on Ollama at http://ollama.test:11434: run `ollama pull m` (or pick another with --model)"),
    (400, "this model is missing data required for image input",
     "Ollama at http://ollama.test:11434 could not show model 'm' an image: this model is missing data required for image "
     "input (choose a vision model with --model, such as llava, llama3.2-vision, gemma3, qwen2.5vl)"),
    (401, "unauthorized", "Ollama at http://ollama.test:11434 refused the request (401): unauthorized"),
    (413, "request entity too large", "Ollama at http://ollama.test:11434 refused the request (413): request entity too large"),
])
def test_ollama_a_fixed_error_is_one_line_and_not_tried_again(status, said, expected):
    server = Server(error(status, said))
    with pytest.raises(BackendError) as exc:
        ollama(server).complete(REQUEST)
    assert one_line(exc) == expected
    assert not isinstance(exc.value, HostUnavailable) and server.paths == ["/api/chat"]


@pytest.mark.parametrize("status", sorted(PASSING_STATUSES))
def test_ollama_a_passing_status_is_tried_again_then_the_host_is_unavailable(status):
    server = Server(error(status, "maximum pending requests exceeded"))
    with pytest.raises(HostUnavailable) as exc:
        ollama(server).complete(REQUEST)
    assert one_line(exc) == (f"Ollama at http://ollama.test:11434 kept failing after 3 tries: "
                             f"Ollama answered {status}: maximum pending requests exceeded")
    assert server.paths == ["/api/chat"] * NO_WAIT.attempts


def test_ollama_a_prompt_refused_as_too_long_is_asked_again_in_a_context_twice_as_large():
    too_long = error(400, "the prompt is longer than the context length currently available to the model")
    server = Server(with_show(too_long), with_show(chat_ok))
    ollama(server).complete(REQUEST)
    sizes = [body["options"]["num_ctx"] for body in server.bodies if "messages" in body]
    assert sizes == [4096, 8192] and all(body["truncate"] is False for body in server.bodies if "messages" in body)


def test_ollama_a_prompt_too_long_for_the_model_itself_is_that_records_error_not_a_failure():
    server = Server(with_show(error(400, "the prompt is longer than the context length"), context_length=4096))
    with pytest.raises(AnswerError, match=r"does not fit in the context model 'm' holds \(4096 tokens\): shorten the text"):
        ollama(server).complete(REQUEST)


def test_ollama_a_server_that_fills_the_context_may_have_cut_the_prompt_so_it_is_asked_again():
    def filled(request: httpx.Request) -> httpx.Response:  # an Ollama older than truncate: false
        num_ctx = json.loads(request.content)["options"]["num_ctx"]
        count = num_ctx if num_ctx == 4096 else 10
        return httpx.Response(200, json={"model": "m", "message": {"role": "assistant", "content": "{}"}, "done": True,
                                         "prompt_eval_count": count, "eval_count": 1})

    server = Server(with_show(filled))
    assert ollama(server).complete(REQUEST).prompt_tokens == 10
    assert [body["options"]["num_ctx"] for body in server.bodies if "messages" in body] == [4096, 8192]


def test_ollama_a_server_that_refuses_think_is_asked_without_it_from_then_on():
    server = Server(error(400, '"registry.ollama.ai/library/m" does not support thinking'), chat_ok)
    backend = ollama(server)
    backend.complete(REQUEST)
    backend.complete(REQUEST)
    assert ["think" in body for body in server.bodies] == [True, False, False]


def test_ollama_a_version_answer_in_other_terms_names_what_answered():
    server = Server(lambda request: httpx.Response(200, json={"status": "ok"}))
    with pytest.raises(BackendError) as exc:
        ollama(server).version()
    assert one_line(exc) == ("the server at http://ollama.test:11434 answered 200 application/json ({\"status\":\"ok\"}): "
                             "is this an Ollama server?")


def test_ollama_a_busy_version_answer_is_tried_again():
    server = Server(page(503), lambda request: httpx.Response(200, json={"version": "0.12.11"}))
    assert ollama(server).version() == "0.12.11" and server.paths == ["/api/version"] * 2


# ------------------------------------------------------------ OpenAI-compatible: every status and body


def completion_ok(request: httpx.Request) -> httpx.Response:
    tokens = [{"token": '{"flagged": ', "logprob": -0.1, "top_logprobs": []},
              {"token": "false", "logprob": -0.2, "top_logprobs": [{"token": "false", "logprob": -0.2},
                                                                  {"token": "true", "logprob": -1.7}]},
              {"token": "}", "logprob": 0.0, "top_logprobs": []}]
    return httpx.Response(200, json={"model": "m-served.gguf", "choices": [
        {"message": {"role": "assistant", "content": '{"flagged": false}'}, "logprobs": {"content": tokens}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3}})


def test_openai_an_answer_gives_content_counts_log_probabilities_and_the_served_model():
    server = Server(completion_ok)
    backend = OpenAIBackend("m", "http://vllm.test:8000", options={"top_k": 1}, retry=NO_WAIT,
                            transport=httpx.MockTransport(server))
    completion = backend.complete(ChatRequest(REQUEST.messages, REQUEST.schema, logprobs=True, max_tokens=40))
    assert (completion.content, completion.prompt_tokens, completion.output_tokens) == ('{"flagged": false}', 12, 3)
    assert completion.logprobs is not None and completion.logprobs[1].top == {"false": -0.2, "true": -1.7}
    assert backend.model_id() == "m-served.gguf" and server.paths == ["/v1/chat/completions"]
    sent = server.bodies[0]
    assert {k: sent[k] for k in ("model", "seed", "temperature", "max_tokens", "top_k", "logprobs", "top_logprobs")} == {
        "model": "m", "seed": 0, "temperature": 0, "max_tokens": 40, "top_k": 1, "logprobs": True, "top_logprobs": 20}
    assert sent["response_format"] == {"type": "json_schema", "json_schema": {"name": "answer", "schema": REQUEST.schema,
                                                                              "strict": True}}


def test_openai_without_a_model_name_the_one_the_server_lists_is_used():
    server = Server(lambda request: httpx.Response(200, json={"data": [{"id": "only.gguf"}]}), completion_ok)
    backend = OpenAIBackend(None, "http://vllm.test:8000/v1", retry=NO_WAIT, transport=httpx.MockTransport(server))
    backend.complete(REQUEST)
    assert server.paths == ["/v1/models", "/v1/chat/completions"] and server.bodies[0]["model"] == "only.gguf"


def refuses_the_standard_form(request: httpx.Request) -> httpx.Response:
    if json.loads(request.content)["response_format"]["type"] == "json_schema":  # llama-cpp-python's server
        return httpx.Response(500, json={"error": {"message": "response_format type json_schema is not supported"}})
    return completion_ok(request)


def test_openai_a_server_that_refuses_the_standard_schema_form_gets_the_older_one_for_the_rest_of_the_run():
    server = Server(refuses_the_standard_form)
    backend = openai(server)
    assert backend.complete(REQUEST).content == '{"flagged": false}'
    backend.complete(REQUEST)
    assert [body["response_format"]["type"] for body in server.bodies] == ["json_schema", "json_object", "json_object"]
    assert server.bodies[1]["response_format"]["schema"] == REQUEST.schema


@pytest.mark.parametrize("status", [400, 422, 500])
def test_openai_a_server_that_refuses_both_schema_forms_says_so_once(status):
    server = Server(lambda request: httpx.Response(status, json={"detail": "response_format: unsupported"}))
    with pytest.raises(BackendError) as exc:
        openai(server).complete(REQUEST)
    assert one_line(exc) == "the server at http://vllm.test:8000/v1 accepts neither form of a JSON schema in response_format"
    assert len(server.paths) == 2


@pytest.mark.parametrize("key_env, where", [("MY_LLM_KEY", "$MY_LLM_KEY"), (None, "model.api_key_env (no key was sent)")])
@pytest.mark.parametrize("status", [401, 403])
def test_openai_a_refused_key_names_where_the_key_comes_from_and_is_not_retried(status, key_env, where, monkeypatch):
    monkeypatch.setenv("MY_LLM_KEY", "wrong")
    sent: list[str | None] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("authorization"))
        return httpx.Response(status, json={"error": {"message": "invalid api key"}})

    backend = OpenAIBackend("m", "http://vllm.test:8000", retry=NO_WAIT, api_key_env=key_env, transport=httpx.MockTransport(refuse))
    with pytest.raises(BackendError) as exc:
        backend.complete(REQUEST)
    assert one_line(exc) == f"the server at http://vllm.test:8000/v1 refused the API key ({status}): check {where}"
    assert sent == ["Bearer wrong" if key_env else None]


def test_openai_a_key_variable_that_is_not_set_is_a_config_error(monkeypatch):
    monkeypatch.delenv("MY_LLM_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"model.api_key_env names \$MY_LLM_KEY, which is not set"):
        OpenAIBackend("m", "http://vllm.test:8000", api_key_env="MY_LLM_KEY", transport=httpx.MockTransport(completion_ok))


def test_openai_a_model_the_server_does_not_serve_is_named():
    server = Server(error(404, "The model `m` does not exist."))
    with pytest.raises(BackendError) as exc:
        openai(server).complete(REQUEST)
    assert one_line(exc) == ("model 'm' is not served at http://vllm.test:8000/v1 (The model `m` does not exist.); "
                             "pick one with --model")
    assert len(server.paths) == 1


@pytest.mark.parametrize("status", sorted(RETRY_STATUSES))
def test_openai_a_passing_status_is_tried_again_then_the_host_is_unavailable(status):
    server = Server(error(status, "busy"))
    with pytest.raises(HostUnavailable) as exc:
        openai(server).complete(REQUEST)
    assert one_line(exc) == f"the server at http://vllm.test:8000/v1 kept failing after 3 tries: the server answered {status}: busy"
    assert server.paths == ["/v1/chat/completions"] * NO_WAIT.attempts


@pytest.mark.parametrize("body, kind", [([1, 2], "application/json ([1,2])"), ("", "no content type")])
def test_openai_a_200_that_is_not_an_object_names_what_answered(body, kind):
    answer = httpx.Response(200, json=body) if body else httpx.Response(200, content=b"")
    server = Server(lambda request: answer)
    with pytest.raises(BackendError) as exc:
        openai(server).complete(REQUEST)
    assert one_line(exc) == f"the server at http://vllm.test:8000/v1 answered 200 {kind}: is this an OpenAI-compatible server?"


# ------------------------------------------------------------ both: a connection refused, dropped, or silent


def dropped(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("peer closed connection without sending complete message body", request=request)


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def silent(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


BACKENDS = {"ollama": (ollama, chat_ok, "cannot reach Ollama at http://ollama.test:11434: is it running?",
                       "Ollama at http://ollama.test:11434"),
            "openai": (openai, completion_ok, "cannot reach an OpenAI-compatible server at http://vllm.test:8000/v1: is it running?",
                       "the server at http://vllm.test:8000/v1")}


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_server_never_reached_is_not_running_at_once(kind):
    make, _, not_running, _ = BACKENDS[kind]
    server = Server(refused)
    with pytest.raises(HostUnavailable) as exc:
        make(server).complete(REQUEST)
    assert one_line(exc).startswith(not_running) and len(server.paths) == 1  # retrying will not start it


@pytest.mark.parametrize("kind", BACKENDS)
@pytest.mark.parametrize("fault, said", [(dropped, "connection dropped"), (refused, "connection lost"),
                                         (silent, "no answer within 120 s")])
def test_a_connection_lost_after_the_server_answered_is_tried_again(kind, fault, said):
    make, ok, _, where = BACKENDS[kind]
    recovers = Server(ok, fault, ok)
    backend = make(recovers)
    backend.complete(REQUEST)
    backend.complete(REQUEST)
    assert len(recovers.paths) == 3
    stays_down = Server(ok, fault)
    backend = make(stays_down)
    backend.complete(REQUEST)
    with pytest.raises(HostUnavailable) as exc:
        backend.complete(REQUEST)
    assert one_line(exc) == f"{where} kept failing after 3 tries: {said}"
    assert len(stays_down.paths) == 1 + NO_WAIT.attempts


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
