"""Model backends. ``open_backend`` picks one by name from the profile's model settings;
``open_embedder`` opens the same kind for the profile's embedding model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tactful.backends.base import (
    Backend,
    BackendInfo,
    ChatRequest,
    ChoiceQuery,
    Completion,
    Embedder,
    Message,
    Probe,
    Prober,
    ProbeRequest,
    TokenLogprob,
)
from tactful.backends.retry import RetryPolicy
from tactful.errors import ConfigError

if TYPE_CHECKING:  # only the type: the transport layer does not load profiles
    from tactful.profile.load import ModelSettings

__all__ = [
    "Backend",
    "BackendInfo",
    "ChatRequest",
    "ChoiceQuery",
    "Completion",
    "Embedder",
    "Message",
    "Probe",
    "ProbeRequest",
    "Prober",
    "TokenLogprob",
    "open_backend",
    "open_embedder",
]


def open_backend(settings: ModelSettings, retry: RetryPolicy | None = None, state_dir: Path | None = None) -> Backend:
    """The profile's backend; ``state_dir`` lets the embedded one keep its fixed prompt on disk.

    With several hosts (``model.hosts``, repeated ``--host``) it is a ``HostPool`` over one
    backend per host.
    """
    if settings.backend == "embedded":
        from tactful.backends.embedded import EmbeddedBackend

        return EmbeddedBackend.open(
            settings.name, options=dict(settings.options), embedding=settings.embedding, state_dir=state_dir
        )
    backends = [_server_backend(settings, host, retry) for host in settings.endpoints]
    if len(backends) == 1:
        return backends[0]
    from tactful.backends.hosts import HostPool, ProbingHostPool

    return ProbingHostPool(backends) if isinstance(backends[0], Prober) else HostPool(backends)


def _server_backend(settings: ModelSettings, host: str | None, retry: RetryPolicy | None, name: str | None = None) -> Backend:
    """One server's backend: ``name`` is the model to ask for (default: the profile's)."""
    if settings.backend == "openai":
        from tactful.backends.openai import OpenAIBackend

        return OpenAIBackend(
            (name or settings.name) or None, host, timeout=settings.timeout, options=dict(settings.options),
            retry=retry, api_key_env=settings.api_key_env,
        )
    from tactful.backends.ollama import OllamaBackend

    return OllamaBackend(
        name or settings.name,
        host=host,
        timeout=settings.timeout,
        options=dict(settings.options) if name is None else None,
        retry=retry,
        model_setting="--model" if name is None else "model.embedding",  # the setting a "not found" names
    )


def open_embedder(settings: ModelSettings, retry: RetryPolicy | None = None) -> Backend:
    """A backend of the profile's kind for its ``model.embedding``; the caller closes it."""
    if not settings.embedding:
        raise ConfigError("no embedding model: set model.embedding")
    if settings.backend == "embedded":
        from tactful.backends.embedded import EmbeddedBackend

        return EmbeddedBackend.open_embedder(settings.embedding, options=dict(settings.options))
    return _server_backend(settings, settings.endpoints[0], retry, name=settings.embedding)
