"""The backend interface: a chat completion with a JSON schema, and embeddings.

Backends are swapped by name (``ollama``, ``embedded``); tests swap in a fake server
behind the real Ollama client rather than a fake backend, so the wire format is tested.

This is the transport layer: it knows messages, schemas and tokens, never profiles,
prompts or banks, so nothing here imports from ``tactful.engine``, ``tactful.bank`` or
``tactful.commands``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict, runtime_checkable

from tactful.errors import ConfigError

# How many alternatives each generated token reports. Both backends ask for the same
# number so that scores mean the same whichever backend produced them.
TOP_LOGPROBS = 20


class _Turn(TypedDict):
    role: str
    content: str


class Message(_Turn, total=False):
    """One chat turn; a plain dict at run time, so it goes to JSON and to clients as is.

    ``images`` (base64 PNG or JPEG) is what a user turn shows a vision model, in Ollama's
    form; the openai backend turns it into ``image_url`` parts.
    """

    images: list[str]


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token and the log-probabilities of its top alternatives."""

    token: str
    logprob: float
    top: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatRequest:
    messages: list[Message]
    schema: dict[str, Any]
    logprobs: bool = False
    max_tokens: int = 512


@dataclass(frozen=True)
class Completion:
    content: str
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    logprobs: list[TokenLogprob] | None = None


@dataclass(frozen=True)
class ChoiceQuery:
    """Which of ``choices`` the model writes after ``opening``, the start of its answer."""

    opening: str  # e.g. '{"flagged":'
    choices: tuple[str, ...]  # e.g. (' true', ' false'): each exactly as it would follow


@dataclass(frozen=True)
class ProbeRequest:
    """Several questions about one conversation, each read at its own answer position."""

    messages: list[Message]
    queries: tuple[ChoiceQuery, ...]
    # How many leading messages every request of the run shares (instructions, fixed
    # examples): a backend may keep their evaluated state between processes.
    fixed: int = 0


@dataclass(frozen=True)
class Probe:
    """One distribution over each query's choices (summing to 1), and the tokens evaluated."""

    distributions: list[dict[str, float]]
    prompt_tokens: int = 0


@dataclass(frozen=True)
class Fact:
    """One thing a user should know before trusting scores, and what tactful does about it."""

    ok: bool  # False: scores are read another way, or not at all (a warning, not a failure)
    text: str


@dataclass(frozen=True)
class BackendInfo:
    """What `doctor` reports about a backend."""

    backend: str
    location: str
    version: str | None
    model: str
    model_present: bool
    detail: str = ""
    facts: tuple[Fact, ...] = ()


class Embedder(Protocol):
    """The part of a backend that ``similar`` example selection needs."""

    @property
    def name(self) -> str: ...

    @property
    def model(self) -> str: ...

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order; raise BackendError when the backend cannot serve."""
        ...

    def model_id(self) -> str:
        """The model name plus a digest when the backend knows one (for cache keys)."""
        ...

    def close(self) -> None: ...


class Backend(Embedder, Protocol):
    def complete(self, request: ChatRequest) -> Completion:
        """Run one chat completion; raise BackendError when the backend cannot serve."""
        ...

    def info(self) -> BackendInfo:
        """Reachability, version and model presence, for `tactful doctor`."""
        ...


@runtime_checkable
class Prober(Protocol):
    """A backend that reads answer probabilities directly, at the answer position.

    The embedded backend evaluates the prompt plus the answer's opening in one forward
    pass; a server that continues a partial answer (Ollama) generates one token after it.
    """

    def probe(self, request: ProbeRequest) -> Probe:
        """Raise BackendError when the backend cannot serve, NoProbabilities when it gives none."""
        ...


def token_logprobs(entries: Iterable[Any] | None) -> list[TokenLogprob] | None:
    """Per-token log-probabilities from either backend's answer, None when it gave none.

    Ollama's entries (pydantic models that allow ``entry["token"]`` and ``.get``) and
    llama.cpp's (the OpenAI-style dicts under ``logprobs.content``) have the same fields:
    ``token``, ``logprob`` and ``top_logprobs``, a list of ``{token, logprob}``.
    """
    parsed = [
        TokenLogprob(token=entry["token"], logprob=entry["logprob"], top=alternatives(entry.get("top_logprobs") or []))
        for entry in entries or []
    ]
    return parsed or None


def alternatives(entries: Iterable[Any]) -> dict[str, float]:
    """Alternatives by text: two tokens that write the same text (different ids, or byte
    pieces shown as the same replacement character) are one way to write it, so their
    probabilities add."""
    top: dict[str, float] = {}
    for alt in entries:
        text, logprob = alt["token"], alt["logprob"]
        top[text] = _log_add(top[text], logprob) if text in top else logprob
    return top


def _log_add(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) without overflow or underflow."""
    high, low = max(a, b), min(a, b)
    return high if low == -math.inf else high + math.log1p(math.exp(low - high))


VISION_MODELS = "llava, llama3.2-vision, gemma3, qwen2.5vl"


def require_images(backend: object) -> None:
    """Raise unless ``backend`` can show its model images (a backend says so with
    ``check_images``, which raises when its model cannot see)."""
    check = getattr(backend, "check_images", None)
    if check is None:
        name = getattr(backend, "name", "this")
        raise ConfigError(f"the {name} backend reads text only: judge images with --backend ollama "
                          f"and a vision model ({VISION_MODELS})")
    check()
