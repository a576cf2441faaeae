"""Any server with the OpenAI chat-completions API: vLLM, SGLang, llama.cpp's server, LM Studio, TGI.

Spoken with httpx directly (the same client library as the Ollama backend), so tests
can swap the transport and no vendor SDK is needed. The request asks for temperature 0,
a seed, the answer's JSON schema and the top log-probabilities of each answer token;
the scores are read from those, as for any sampled answer (``engine.scores``). A server
that returns no log-probabilities leaves the sampled answer to decide, and records say so.

Schemas go in the standard form (``response_format: {"type": "json_schema", ...}``,
vLLM, SGLang, llama.cpp's own server, LM Studio); a server that refuses it gets the older
``{"type": "json_object", "schema": ...}`` form (llama-cpp-python's server) for the
rest of the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from tactful.backends.base import (
    TOP_LOGPROBS,
    BackendInfo,
    ChatRequest,
    Completion,
    Message,
    token_logprobs,
)
from tactful.backends.retry import RetryPolicy, ServerLink, excerpt, foreign_answer, looks_like_html
from tactful.backends.urls import setting_url
from tactful.errors import BackendError, ConfigError, HostUnavailable, Transient

# Statuses worth another try: the server is busy, restarting, or behind a proxy that is.
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


def wire_message(message: Message) -> dict[str, Any]:
    """A chat turn as the API takes it: images become ``image_url`` parts with data URLs."""
    images = message.get("images")
    if not images:
        return {"role": message["role"], "content": message["content"]}
    parts: list[dict[str, Any]] = [{"type": "text", "text": message["content"]}]
    for image in images:
        parts.append({"type": "image_url", "image_url": {"url": f"data:{_image_mime(image)};base64,{image}"}})
    return {"role": message["role"], "content": parts}


def _image_mime(encoded: str) -> str:
    # Images reach a backend as PNG or JPEG (tactful.io.images); base64 shows which.
    return "image/jpeg" if encoded.startswith("/9j/") else "image/png"


def base_url(host: str | None) -> str:
    """The API root: ``http://h:8000`` becomes ``http://h:8000/v1``; a path given is kept."""
    if not host:
        raise ConfigError("the openai backend needs the server's URL: --host http://HOST:PORT/v1 (or model.host)")
    url = setting_url(host, "--host")  # already checked by settings; the same form for direct use
    return url if urlsplit(url).path else url + "/v1"


class OpenAIBackend:
    name = "openai"

    def __init__(
        self,
        model: str | None,
        host: str | None,
        timeout: float = 120.0,
        options: dict[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        api_key_env: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.host = base_url(host)
        self._model = model  # None: the one model the server lists
        self.options = dict(options or {})
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.api_key_env = api_key_env
        headers = {"Authorization": f"Bearer {self._api_key()}"} if api_key_env else {}
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self.client = httpx.Client(timeout=self._timeout, headers=headers, transport=transport)
        self.link = ServerLink(f"the server at {self.host}", timeout, self.retry, self.not_running)
        self._schema_form = "json_schema"  # "json_object" once the server refuses the standard form
        self._served: str | None = None  # the model id the server reports

    @property
    def model(self) -> str:
        if self._model is None:
            listed = self._listed_models()
            self._model = listed[0] if listed else "default"
        return self._model

    # ------------------------------------------------------------ chat

    def complete(self, request: ChatRequest) -> Completion:
        data = self._retrying(lambda: self._chat_once(request))
        choice = data["choices"][0]
        usage = data.get("usage") or {}
        self._served = self._served or data.get("model")
        logprobs = (choice.get("logprobs") or {}).get("content") if request.logprobs else None
        return Completion(
            content=(choice.get("message") or {}).get("content") or "",
            prompt_tokens=usage.get("prompt_tokens"),
            output_tokens=usage.get("completion_tokens"),
            logprobs=token_logprobs(logprobs),
        )

    def _chat_once(self, request: ChatRequest) -> dict[str, Any]:
        form = self._schema_form  # read once: another thread may switch it meanwhile
        body = self.request_body(request, form)
        try:
            return self._post("/chat/completions", body)
        except _SchemaFormRefused:
            if form == "json_object":
                raise BackendError(f"the server at {self.host} accepts neither form of a JSON schema in response_format") from None
            self._schema_form = "json_object"
            return self._chat_once(request)

    def request_body(self, request: ChatRequest, form: str = "json_schema") -> dict[str, Any]:
        """The JSON posted to /chat/completions for ``request`` (``form``: how the schema is sent)."""
        body: dict[str, Any] = {
            "seed": 0,
            **self.options,  # server-specific extras (top_k, a vLLM guided-decoding backend, ...)
            "model": self.model,
            "messages": [wire_message(message) for message in request.messages],
            "temperature": 0,
            "max_tokens": request.max_tokens,
            "response_format": _response_format(form, request.schema),
        }
        if request.logprobs:
            body.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        return body

    # ------------------------------------------------------------ images

    def check_images(self) -> None:
        """The API lists no capabilities: a server whose model cannot see says so at the first image."""

    # ------------------------------------------------------------ embeddings

    def embed(self, texts: list[str]) -> list[list[float]]:
        data = self._retrying(lambda: self._post("/embeddings", {"model": self.model, "input": texts}))
        rows = sorted(data["data"], key=lambda row: row.get("index", 0))
        return [list(row["embedding"]) for row in rows]

    # ------------------------------------------------------------ HTTP and errors

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.link.call(lambda: self.client.post(self.host + path, json=body))
        return self._json(response, body)

    def _get(self, path: str) -> dict[str, Any]:
        return self._json(self.link.call(lambda: self.client.get(self.host + path)), {})

    def _json(self, response: httpx.Response, body: dict[str, Any]) -> dict[str, Any]:
        """The answer's JSON object; an error status or an answer in other terms raises."""
        if response.status_code != 200:
            raise self._status_error(response, body)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):  # a web page or another API: trying again will not change it
            raise BackendError(self._foreign(response))
        return data

    def _foreign(self, response: httpx.Response) -> str:
        return foreign_answer(f"the server at {self.host}", response.status_code,
                              response.headers.get("content-type", ""), response.text, "an OpenAI-compatible server")

    def _status_error(self, response: httpx.Response, body: dict[str, Any]) -> Exception:
        status, full = response.status_code, _error_message(response)
        if looks_like_html(response.text) and status not in RETRY_STATUSES:
            return BackendError(self._foreign(response))
        message = excerpt(full, _sent_texts(body)) or response.reason_phrase
        if status in (401, 403):
            where = f"${self.api_key_env}" if self.api_key_env else "model.api_key_env (no key was sent)"
            return BackendError(f"the server at {self.host} refused the API key ({status}): check {where}")
        if "response_format" in body and "response_format" in full and status in (400, 422, 500):
            return _SchemaFormRefused(message)
        if status == 404 and "model" in message.lower():
            return BackendError(f"model '{body.get('model')}' is not served at {self.host} ({message}); pick one with --model")
        if status in RETRY_STATUSES:
            return Transient(f"the server answered {status}: {message}")
        return BackendError(f"the server at {self.host} refused the request ({status}): {message}")

    def _retrying(self, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return self.link.retrying(call)

    def not_running(self) -> HostUnavailable:
        return HostUnavailable(f"cannot reach an OpenAI-compatible server at {self.host}: is it running? (check --host)")

    def _api_key(self) -> str:
        assert self.api_key_env
        key = os.environ.get(self.api_key_env)
        if not key:
            raise ConfigError(f"model.api_key_env names ${self.api_key_env}, which is not set: export the API key there")
        return key

    # ------------------------------------------------------------ facts

    def _listed_models(self) -> list[str]:
        data = self._retrying(lambda: self._get("/models"))
        rows = data.get("data")
        return [str(row.get("id")) for row in rows if isinstance(row, dict) and row.get("id")] if isinstance(rows, list) else []

    def model_id(self) -> str:
        """The model as the server reports it (its answers name it), else as listed."""
        if self._served is None:
            listed = self._listed_models()
            self._served = self.model if self.model in listed or not listed else listed[0]
        return self._served

    def info(self) -> BackendInfo:
        listed = self._listed_models()
        present = self.model in listed or len(listed) == 1  # a one-model server answers any name
        detail = "" if present else f"the server lists {', '.join(listed) or 'no models'}; pick one with --model"
        return BackendInfo("openai", self.host, None, self.model, present, detail)

    def close(self) -> None:
        self.client.close()


def _response_format(form: str, schema: dict[str, Any]) -> dict[str, Any]:
    if form == "json_object":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}


class _SchemaFormRefused(Exception):
    """The server does not take a JSON schema in this form of response_format."""


def _error_message(response: httpx.Response) -> str:
    """The server's own words: OpenAI's ``{"error": {"message"}}``, a bare string, or the body."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, dict):
        error = error.get("message") or error.get("detail") or error
    return str(error).strip()


def _sent_texts(body: dict[str, Any]) -> list[str]:
    """The texts a request carried (message contents, embedding inputs): never quoted back."""
    texts = [m["content"] for m in body.get("messages", []) if isinstance(m.get("content"), str)]
    texts += [p["text"] for m in body.get("messages", []) if isinstance(m.get("content"), list) for p in m["content"] if "text" in p]
    inputs = body.get("input", [])
    return texts + ([inputs] if isinstance(inputs, str) else list(inputs))
