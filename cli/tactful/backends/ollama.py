"""The default backend: a local Ollama server through the official ``ollama`` client."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import ollama

from tactful.backends.base import (
    TOP_LOGPROBS,
    VISION_MODELS,
    BackendInfo,
    ChatRequest,
    Completion,
    Message,
    Probe,
    ProbeRequest,
    token_logprobs,
)
from tactful.backends.continuation import read_choices
from tactful.backends.retry import RetryPolicy, ServerLink, excerpt, foreign_answer, looks_like_html
from tactful.errors import BackendError, HostUnavailable, NoProbabilities, Transient

DEFAULT_HOST = "http://127.0.0.1:11434"

# Statuses that pass: a full queue (Ollama's 503), a proxy in front of a restarting server.
PASSING_STATUSES = frozenset({429, 502, 503, 504})
# What a 500 says when it passes (a runner still loading, a timeout); any other 500 repeats.
PASSING_500 = re.compile(r"timed out|timeout|try again|busy|temporar|still loading", re.IGNORECASE)


def resolve_host(host: str | None) -> str:
    """The URL the client will use: argument, else OLLAMA_HOST, else localhost:11434."""
    try:  # the client's own rules, so the host we name is the host it dials
        from ollama._client import _parse_host

        return _parse_host(host or os.environ.get("OLLAMA_HOST"))
    except ImportError:  # pragma: no cover - a client without the helper
        return host or os.environ.get("OLLAMA_HOST") or DEFAULT_HOST


class OllamaBackend:
    name = "ollama"
    # Each probe is a request of its own: questions that build on the model's earlier
    # values (multilabel) are read from one sampled answer instead.
    keeps_context = False

    def __init__(
        self,
        model: str,
        host: str | None = None,
        timeout: float = 120.0,
        options: dict[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        model_setting: str = "--model",
    ) -> None:
        self.model = model
        self.model_setting = model_setting  # where the user names this model, for messages
        self.host = resolve_host(host)
        self.timeout = timeout
        self.options = {**(options or {}), "temperature": 0}
        self.retry = retry or RetryPolicy()
        extra = {"transport": transport} if transport else {}
        # Connect fast (a local server answers at once or not at all); generation may be slow.
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self.client = ollama.Client(host=self.host, timeout=self._timeout, **extra)
        self.link = ServerLink(f"Ollama at {self.host}", timeout, self.retry, self.not_running)
        self._model_id: str | None = None
        self._version: str | None = None

    # ------------------------------------------------------------ chat

    def complete(self, request: ChatRequest) -> Completion:
        response = self._retrying(lambda: self._chat_once(request), _texts(request.messages))
        return Completion(
            content=response.message.content or "",
            prompt_tokens=response.prompt_eval_count,
            output_tokens=response.eval_count,
            # getattr: clients older than the logprobs field answer without it
            logprobs=token_logprobs(getattr(response, "logprobs", None)) if request.logprobs else None,
        )

    def _chat_once(self, request: ChatRequest) -> Any:
        return self._chat(request.messages, request.max_tokens, request.logprobs, format=request.schema)

    def _chat(self, messages: list[Message], max_tokens: int, logprobs: bool, **extra: Any) -> Any:
        options = {**self.options, "num_predict": max_tokens}
        if logprobs:
            extra.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        return self.client.chat(
            model=self.model, messages=messages, options=options, think=False, stream=False, **extra
        )

    # ------------------------------------------------------------ probabilities

    def probe(self, request: ProbeRequest) -> Probe:
        """Each query's distribution from one generated token after its opening.

        Ollama continues a final, partial assistant message, so the request is the
        conversation plus ``{"flagged":`` and one token to generate, with its alternatives
        (``continuation``). No schema: a grammar would expect the answer from its first
        brace, and the alternatives come from the raw logits anyway.
        """
        evaluated = 0

        def next_tokens(prefill: str) -> Mapping[str, float]:
            nonlocal evaluated
            messages: list[Message] = [*request.messages, {"role": "assistant", "content": prefill}]
            response = self._retrying(lambda: self._chat(messages, 1, True), _texts(messages))
            evaluated += response.prompt_eval_count or 0
            entries = token_logprobs(getattr(response, "logprobs", None))
            if not entries:
                raise NoProbabilities(f"Ollama at {self.host} returned no log-probabilities (it needs 0.12.11 or later)")
            first = entries[0]
            return {token: math.exp(logprob) for token, logprob in (first.top or {first.token: first.logprob}).items()}

        distributions = [read_choices(next_tokens, query.opening, query.choices) for query in request.queries]
        return Probe(distributions, prompt_tokens=evaluated)

    # ------------------------------------------------------------ images

    def check_images(self) -> None:
        """Raise unless the model sees images: Ollama lists "vision" among its capabilities.

        An Ollama older than 0.6.4 lists none; then the first image tells.
        """
        shown = self._retrying(lambda: self.client.show(self.model))
        capabilities = getattr(shown, "capabilities", None)
        if capabilities is not None and "vision" not in capabilities:
            listed = ", ".join(capabilities) or "none listed"
            raise BackendError(
                f"model '{self.model}' on Ollama at {self.host} cannot see images (its capabilities: {listed}): "
                f"choose a vision model with {self.model_setting}, such as {VISION_MODELS}"
            )

    # ------------------------------------------------------------ embeddings

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector per text from this model, through Ollama's /api/embed."""
        response = self._retrying(lambda: self.client.embed(model=self.model, input=texts), texts)
        return [list(vector) for vector in response.embeddings]

    # ------------------------------------------------------------ errors

    def _retrying(self, request: Callable[[], Any], sent: Sequence[str] = ()) -> Any:
        """``request`` retried while its faults pass; no text of ``sent`` is quoted in an error."""
        return self.link.retrying(lambda: self.link.call(lambda: self._answer(request, sent)))

    def _answer(self, request: Callable[[], Any], sent: Sequence[str]) -> Any:
        """One client call; an error status becomes BackendError or Transient."""
        try:
            return request()
        except ollama.ResponseError as exc:
            raise self._response_error(exc, sent) from None
        except ValueError:  # the client could not parse a 200 answer: JSON of another API, or none
            raise BackendError(f"Ollama at {self.host} answered in terms that are not Ollama's API: "
                               f"is this an Ollama server? (check --host)") from None

    def _response_error(self, exc: ollama.ResponseError, sent: Sequence[str]) -> Exception:
        status, said = exc.status_code, str(exc.error)
        if looks_like_html(said):  # Ollama's errors are JSON; a page comes from something else
            return BackendError(foreign_answer(f"the server at {self.host}", status, "text/html", said, "an Ollama server"))
        quoted = excerpt(said, sent)
        if status == 404 and "not found" in said.lower():
            return BackendError(
                f"model '{self.model}' is not available on Ollama at {self.host}: "
                f"run `ollama pull {self.model}` (or pick another with {self.model_setting})"
            )
        if status in (400, 500) and "image" in said.lower():
            # An older Ollama that lists no capabilities finds out at the first image.
            return BackendError(f"Ollama at {self.host} could not show model '{self.model}' an image: {quoted} "
                                f"(choose a vision model with {self.model_setting}, such as {VISION_MODELS})")
        if status in PASSING_STATUSES or (status == 500 and PASSING_500.search(said)):
            return Transient(f"Ollama answered {status}: {quoted}")
        if status == 500:
            # Ollama's 500s are mostly fixed failures (a template error, an option of the
            # wrong type, a runner that crashed): trying again fails the same way.
            return BackendError(f"Ollama at {self.host} failed on model '{self.model}' (500): {quoted}")
        return BackendError(f"Ollama at {self.host} refused the request ({status}): {quoted}")

    def not_running(self) -> HostUnavailable:
        return HostUnavailable(
            f"cannot reach Ollama at {self.host}: is it running? Start it with `ollama serve` "
            "(or point --host / OLLAMA_HOST at your server)"
        )

    # ------------------------------------------------------------ facts

    def model_id(self) -> str:
        if self._model_id is None:
            digest = self._digest()
            # /api/tags gives a bare hex digest; some servers prefix it with "sha256:"
            self._model_id = f"{self.model}@{digest.removeprefix('sha256:')[:12]}" if digest else self.model
        return self._model_id

    def _digest(self) -> str | None:
        try:
            listed = self.client.list()
        except Exception:  # the digest only sharpens cache keys; its absence is no error
            return None
        for entry in listed.models:
            if entry.model in (self.model, f"{self.model}:latest"):
                return entry.digest
        return None

    def info(self) -> BackendInfo:
        version = self.version()
        names = [m.model for m in self._retrying(self.client.list).models]
        present = any(n in (self.model, f"{self.model}:latest") for n in names if n)
        detail = "" if present else f"pull it with `ollama pull {self.model}`"
        return BackendInfo("ollama", self.host, version, self.model, present, detail)

    def version(self) -> str:
        """The server's version, asked once (the client has no call for /api/version)."""
        if self._version is None:
            self._version = self.link.retrying(lambda: self.link.call(self._read_version))
        return self._version

    def _read_version(self) -> str:
        response = self.client._client.get("/api/version")
        if response.status_code in PASSING_STATUSES:
            raise Transient(f"Ollama answered {response.status_code} to /api/version")
        try:
            version = response.json().get("version") if response.status_code == 200 else None
        except (ValueError, AttributeError):  # not JSON, or JSON that is not an object
            version = None
        if not isinstance(version, str):
            raise BackendError(foreign_answer(f"the server at {self.host}", response.status_code,
                                              response.headers.get("content-type", ""), response.text, "an Ollama server"))
        return version

    def close(self) -> None:
        self.client._client.close()


def _texts(messages: Sequence[Message]) -> list[str]:
    return [message["content"] for message in messages]
