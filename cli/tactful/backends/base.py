"""The backend interface: one chat completion with a JSON schema, nothing more.

Backends are swapped by name (``ollama``, ``embedded``); tests swap in a fake server
behind the real Ollama client rather than a fake backend, so the wire format is tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from tactful.engine.prompt import Message


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
class BackendInfo:
    """What `doctor` reports about a backend."""

    backend: str
    location: str
    version: str | None
    model: str
    model_present: bool
    detail: str = ""


class Backend(Protocol):
    name: str
    model: str

    def complete(self, request: ChatRequest) -> Completion:
        """Run one chat completion; raise BackendError when the backend cannot serve."""
        ...

    def model_id(self) -> str:
        """The model name plus a digest when the backend knows one (for cache keys)."""
        ...

    def info(self) -> BackendInfo:
        """Reachability, version and model presence, for `tactful doctor`."""
        ...

    def close(self) -> None: ...
