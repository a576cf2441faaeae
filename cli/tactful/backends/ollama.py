"""The default backend: a local Ollama server through the official ``ollama`` client."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
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
from tactful.backends.retry import RetryPolicy, ServerLink
from tactful.backends.urls import ollama_url
from tactful.errors import BackendError, HostUnavailable, NoProbabilities, Transient


def resolve_host(host: str | None) -> str:
    """The URL the client will use: argument, else OLLAMA_HOST, else localhost:11434.

    ``urls.server_url`` writes it out in full (Ollama's own rules for what is left out),
    so the host we name is the host the client dials.
    """
    return ollama_url(host)


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

    # ------------------------------------------------------------ chat

    def complete(self, request: ChatRequest) -> Completion:
        response = self._retrying(lambda: self._chat_once(request))
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
            response = self._retrying(lambda: self._chat(messages, 1, True))
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
        response = self._retrying(lambda: self.client.embed(model=self.model, input=texts))
        return [list(vector) for vector in response.embeddings]

    # ------------------------------------------------------------ errors

    def _retrying(self, request: Callable[[], Any]) -> Any:
        return self.link.retrying(lambda: self.link.call(lambda: self._answer(request)))

    def _answer(self, request: Callable[[], Any]) -> Any:
        """One client call; an error status becomes BackendError or Transient."""
        try:
            return request()
        except ollama.ResponseError as exc:
            raise self._response_error(exc) from None

    def _response_error(self, exc: ollama.ResponseError) -> Exception:
        if exc.status_code == 404 and "not found" in str(exc.error).lower():
            return BackendError(
                f"model '{self.model}' is not available on Ollama at {self.host}: "
                f"run `ollama pull {self.model}` (or pick another with {self.model_setting})"
            )
        if exc.status_code in (400, 500) and "image" in str(exc.error).lower():
            # An older Ollama that lists no capabilities finds out at the first image.
            return BackendError(f"Ollama at {self.host} could not show model '{self.model}' an image: {exc.error} "
                                f"(choose a vision model with {self.model_setting}, such as {VISION_MODELS})")
        if exc.status_code in (429, 500, 502, 503, 504):
            return Transient(f"Ollama answered {exc.status_code}: {exc.error}")
        return BackendError(f"Ollama at {self.host} refused the request ({exc.status_code}): {exc.error}")

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
        try:
            version = httpx.get(f"{self.host}/api/version", timeout=self._timeout).json().get("version")
            names = [m.model for m in self.client.list().models]
        except (httpx.HTTPError, ConnectionError, ValueError, ollama.ResponseError):
            raise self.not_running() from None
        present = any(n in (self.model, f"{self.model}:latest") for n in names if n)
        detail = "" if present else f"pull it with `ollama pull {self.model}`"
        return BackendInfo("ollama", self.host, version, self.model, present, detail)

    def close(self) -> None:
        self.client._client.close()

