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
    "Backend", "BackendInfo", "ChatRequest", "ChoiceQuery", "Completion", "Embedder", "Message", "Probe", "Prober",
    "ProbeRequest", "TokenLogprob",
    "open_backend", "open_embedder",
]


def open_backend(settings: ModelSettings, retry: RetryPolicy | None = None, state_dir: Path | None = None) -> Backend:
    """The profile's backend; ``state_dir`` lets the embedded one keep its fixed prompt on disk."""
    if settings.backend == "embedded":
        from tactful.backends.embedded import EmbeddedBackend

        return EmbeddedBackend.open(
            settings.name, options=dict(settings.options), embedding=settings.embedding, state_dir=state_dir
        )
    from tactful.backends.ollama import OllamaBackend

    return OllamaBackend(
        settings.name,
        host=settings.host,
        timeout=settings.timeout,
        options=dict(settings.options),
        retry=retry,
    )


def open_embedder(settings: ModelSettings, retry: RetryPolicy | None = None) -> Backend:
    """A backend of the profile's kind for its ``model.embedding``; the caller closes it."""
    if not settings.embedding:
        raise ConfigError("no embedding model: set model.embedding")
    if settings.backend == "embedded":
        from tactful.backends.embedded import EmbeddedBackend

        return EmbeddedBackend.open_embedder(settings.embedding, options=dict(settings.options))
    from tactful.backends.ollama import OllamaBackend

    return OllamaBackend(
        settings.embedding,
        host=settings.host,
        timeout=settings.timeout,
        retry=retry,
        model_setting="model.embedding",  # so "model not found" names the setting to change
    )
