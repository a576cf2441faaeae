"""The default backend: a local Ollama server through the official ``ollama`` client."""

from __future__ import annotations

import functools
import math
import re
import threading
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
    Fact,
    Message,
    Probe,
    ProbeRequest,
    token_logprobs,
)
from tactful.backends.context_window import DEFAULT_NUM_CTX, ContextWindow, estimate_tokens
from tactful.backends.continuation import BOOLEANS, read_choices, value_mass
from tactful.backends.retry import RetryPolicy, ServerLink, excerpt, foreign_answer, looks_like_html
from tactful.backends.urls import ollama_url
from tactful.errors import AnswerError, BackendError, HostUnavailable, NoProbabilities, Transient

# Statuses that pass: a full queue (Ollama's 503), a proxy in front of a restarting server.
PASSING_STATUSES = frozenset({429, 502, 503, 504})
# The first versions that return log-probabilities, and that understand truncate: false.
LOGPROBS_SINCE = (0, 12, 11)
TRUNCATE_SINCE = (0, 12, 4)
# The self-test (``continues_answer``): a question with a plain answer, asked as a probe asks.
SELF_TEST: list[Message] = [
    {"role": "system", "content": 'Say whether the text is a question. Answer with JSON only: {"question": true} '
                                  'or {"question": false}.'},
    {"role": "user", "content": 'Is this text a question?\n{"text": "What time is it?"}'},
]
SELF_TEST_OPENING = '{"question":'
# A model that continues the opening puts nearly all the next token's mass on a value; one
# that opens a new turn puts it on the start of a new answer ('{', a fence, a preamble).
CONTINUES_MASS = 0.5
# What a 500 says when it passes (a runner still loading, a timeout); any other 500 repeats.
PASSING_500 = re.compile(r"timed out|timeout|try again|busy|temporar|still loading", re.IGNORECASE)
# Ollama's built-in renderers that, with thinking off, open the model's answer after an empty
# think block ("<think>\n\n</think>\n\n") yet write a final assistant message without it
# unless thinking is on (model/renderers/qwen35.go, since Ollama 0.17.6). /api/show names a
# model's renderer only in its Modelfile, as a RENDERER line.
THINK_BLOCK_RENDERERS = frozenset({"qwen3.5"})
RENDERER_LINE = re.compile(r"^RENDERER\s+(\S+)\s*$", re.MULTILINE)


def resolve_host(host: str | None) -> str:
    """The URL the client will use: argument, else OLLAMA_HOST, else localhost:11434.

    ``urls.server_url`` writes it out in full (Ollama's own rules for what is left out),
    so the host we name is the host the client dials.
    """
    return ollama_url(host)


class OllamaBackend:
    name = "ollama"

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
        self._lock = threading.Lock()
        self._continues: bool | None = None
        self._send_think = True
        self._renderer: str | None = None
        start = int((options or {}).get("num_ctx") or DEFAULT_NUM_CTX)
        self.window = ContextWindow(start, self.context_length, model)

    # ------------------------------------------------------------ chat

    def complete(self, request: ChatRequest) -> Completion:
        response = self._chat(request.messages, request.max_tokens, request.logprobs, request.schema)
        return Completion(
            content=response.message.content or "",
            prompt_tokens=response.prompt_eval_count,
            output_tokens=response.eval_count,
            # getattr: clients older than the logprobs field answer without it
            logprobs=token_logprobs(getattr(response, "logprobs", None)) if request.logprobs else None,
        )

    def _chat(self, messages: list[Message], max_tokens: int, logprobs: bool, schema: dict[str, Any] | None = None) -> Any:
        """One chat answer, from a context that held the whole prompt (``context_window``)."""
        texts = _texts(messages)
        needed = estimate_tokens(texts, sum(len(m.get("images") or []) for m in messages)) + max_tokens
        while True:
            num_ctx, think = self.window.size_for(needed), self._think(messages)
            try:
                response = self._retrying(
                    functools.partial(self._chat_once, messages, max_tokens, logprobs, schema, num_ctx, think), texts)
            except _DoesNotFit:  # the server refused what would have been cut (truncate: false)
                self.window.grow(num_ctx)  # the estimate was low: the server's count decides
                continue
            except _ThinkRefused:  # Ollama 0.12.4 refuses think=false for a model without thinking
                self._send_think = False
                continue
            if (response.prompt_eval_count or 0) + max_tokens > num_ctx:
                # The prompt filled the context: a server that ignores truncate: false (older
                # than 0.12.4) may have dropped messages from it. Ask again in a larger one.
                self.window.grow(num_ctx)
                continue
            return response

    def _chat_once(self, messages: list[Message], max_tokens: int, logprobs: bool, schema: dict[str, Any] | None,
                   num_ctx: int, think: bool | None) -> Any:
        body: dict[str, Any] = {
            "model": self.model, "messages": messages, "stream": False, "truncate": False,
            "options": {**self.options, "num_predict": max_tokens, "num_ctx": num_ctx},
        }
        if think is not None:
            body["think"] = think
        if schema is not None:
            body["format"] = schema
        if logprobs:
            body.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        # The client's chat() has no `truncate`; its request helper parses and raises as chat() does.
        return self.client._request(ollama.ChatResponse, "POST", "/api/chat", json=body)

    def _think(self, messages: list[Message]) -> bool | None:
        """``think`` for a request: False (classify without thinking), or None to leave it out,
        where the server refuses it or a partial answer must follow the empty think block of a
        THINK_BLOCK_RENDERERS model (``renderer``)."""
        prefilled = messages[-1]["role"] == "assistant"
        if not self._send_think or (prefilled and self.renderer() in THINK_BLOCK_RENDERERS):
            return None
        return False

    # ------------------------------------------------------------ probabilities

    def probe(self, request: ProbeRequest) -> Probe:
        """Each query's distribution from one generated token after its opening.

        Where the model continues a final, partial assistant message (``continues_answer``),
        the request is the conversation plus ``{"flagged":`` and one token to generate, with
        its alternatives (``continuation``). No schema: a grammar would expect the answer
        from its first brace, and the alternatives come from the raw logits anyway.
        """
        if not self.continues_answer():
            raise NoProbabilities(
                f"model '{self.model}' on Ollama at {self.host} does not continue a partial answer (its template "
                "opens a new turn after it), so no probability is read after an opening"
            )
        evaluated = 0

        def next_tokens(prefill: str) -> Mapping[str, float]:
            nonlocal evaluated
            top, count = self._next_tokens(request.messages, prefill)
            evaluated += count
            return top

        distributions = [read_choices(next_tokens, query.opening, query.choices) for query in request.queries]
        return Probe(distributions, prompt_tokens=evaluated)

    def continues_answer(self) -> bool:
        """Whether this model continues a final, partial assistant message: measured once.

        Its template or renderer decides, not the server: some close the turn and open a
        new one, where the next token starts a new answer. The self-test asks a question
        with a plain answer, as a probe asks, and sees whether the next token's mass lies
        on the answer's values. Raises NoProbabilities where no log-probabilities come back.
        """
        with self._lock:
            if self._continues is None:
                try:
                    mass = value_mass(lambda prefill: self._next_tokens(SELF_TEST, prefill)[0], SELF_TEST_OPENING, BOOLEANS)
                except AnswerError:  # no token to read after the opening: not a continuation
                    mass = 0.0
                self._continues = mass >= CONTINUES_MASS
        return self._continues

    def _next_tokens(self, messages: list[Message], prefill: str) -> tuple[dict[str, float], int]:
        """The next token's alternatives after ``prefill`` (text: probability), and the tokens evaluated."""
        asked: list[Message] = [*messages, {"role": "assistant", "content": prefill}]
        response = self._chat(asked, 1, True)
        entries = token_logprobs(getattr(response, "logprobs", None))
        if not entries:
            raise self._no_logprobs(prefill)
        first = entries[0]
        top = {token: math.exp(logprob) for token, logprob in (first.top or {first.token: first.logprob}).items()}
        return top, response.prompt_eval_count or 0

    def _no_logprobs(self, prefill: str) -> Exception:
        """Why an answer came without log-probabilities: an old server, or a token with no text."""
        version = self.version()
        if _version_tuple(version) < LOGPROBS_SINCE:
            return NoProbabilities(f"Ollama {version} at {self.host} returns no log-probabilities: "
                                   f"they came in {'.'.join(map(str, LOGPROBS_SINCE))}; upgrade it for scores")
        # Ollama reports no entry for a token that writes no text, end-of-sequence included.
        return AnswerError(f"after {prefill!r} the model ended its answer (its next token was end-of-sequence or "
                           f"wrote no text), so Ollama {version} reported no probability to read")

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
        if status in (400, 500) and "context length" in said.lower():
            return _DoesNotFit(quoted)
        if status == 400 and "does not support thinking" in said.lower() and self._send_think:
            return _ThinkRefused(quoted)
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

    def renderer(self) -> str:
        """The name of Ollama's built-in renderer for this model, or "" for a template: asked once.

        It matters before a partial answer: a renderer in THINK_BLOCK_RENDERERS writes the
        empty think block the model answers after only while thinking is on, and strips one
        written into the message itself. So ``think`` is left out of such requests: the
        server turns it on for a thinking model, and the renderer's own default is on, so the
        partial answer follows the block as the model was trained to see it (the output
        parser then reads what follows a partial answer as content, not thinking).
        """
        if self._renderer is None:
            shown = self._retrying(lambda: self.client.show(self.model))
            found = RENDERER_LINE.search(getattr(shown, "modelfile", None) or "")
            self._renderer = found.group(1) if found else ""
        return self._renderer

    def context_length(self) -> int | None:
        """The longest context the model was trained for (``<arch>.context_length``), if shown."""
        shown = self._retrying(lambda: self.client.show(self.model))
        for key, value in (getattr(shown, "modelinfo", None) or {}).items():
            if key.endswith(".context_length") and isinstance(value, int):
                return value
        return None

    def info(self) -> BackendInfo:
        version = self.version()
        names = [m.model for m in self._retrying(self.client.list).models]
        present = any(n in (self.model, f"{self.model}:latest") for n in names if n)
        detail = "" if present else f"pull it with `ollama pull {self.model}`"
        facts = self._facts(version) if present else ()
        return BackendInfo("ollama", self.host, version, self.model, present, detail, facts)

    def _facts(self, version: str) -> tuple[Fact, ...]:
        """What decides how far scores from this server and model can be trusted (for doctor)."""
        facts = []
        if _version_tuple(version) < TRUNCATE_SINCE:
            facts.append(Fact(False, f"Ollama {version} cuts a prompt longer than num_ctx silently (truncate: false came "
                                     "in 0.12.4): tactful sizes num_ctx for each prompt and checks the count evaluated"))
        try:
            continues = self.continues_answer()
        except NoProbabilities as exc:
            facts.append(Fact(False, f"log-probabilities: none, so the sampled answer decides, without scores: {exc}"))
        else:
            facts.append(Fact(True, "log-probabilities: the top 20 come back for each token"))
            facts.append(Fact(True, "continues a partial answer: yes; scores are read right after the answer's opening")
                         if continues else
                         Fact(False, "continues a partial answer: no (its template opens a new turn after it); "
                                     "the answer is sampled, held to its schema, and scores read from its tokens"))
        if self.renderer() in THINK_BLOCK_RENDERERS:
            facts.append(Fact(True, f"renderer {self.renderer()}: with thinking off it leaves out the empty think block "
                                    "before a partial answer; tactful leaves think unset there, so scores are read "
                                    "after the block, where the model answers"))
        limit = self.window.limit()
        facts.append(Fact(True, f"context: num_ctx {self.window.size} sent, grown for a longer prompt up to {limit} "
                                "(the model's own); a text that cannot fit is that record's error, never cut"))
        return tuple(facts)

    def version(self) -> str:
        """The server's version, asked once (the client has no call for /api/version)."""
        if self._version is None:
            self._version = self.link.retrying(lambda: self.link.call(self._read_version))
        return self._version

    def _read_version(self) -> str:
        response = self.client._client.get("/api/version")  # private: the client has no version call
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
        self.client.close()


def _texts(messages: Sequence[Message]) -> list[str]:
    return [message["content"] for message in messages]


def _version_tuple(version: str) -> tuple[int, ...]:
    """``0.12.11`` as (0, 12, 11); a development build (``0.0.0``) or an unreadable one counts as new."""
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:3])
    return numbers if any(numbers) else (10**6,)


class _DoesNotFit(Exception):
    """The server refused a prompt longer than the context (``truncate: false``)."""


class _ThinkRefused(Exception):
    """Ollama 0.12.4 refuses ``think: false`` for a model without thinking."""
