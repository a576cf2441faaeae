"""Model backends. ``open_backend`` picks one by name from the profile's model settings."""

from __future__ import annotations

from tactful.backends.base import Backend, BackendInfo, ChatRequest, Completion, TokenLogprob
from tactful.backends.retry import RetryPolicy
from tactful.profile.load import ModelSettings

__all__ = ["Backend", "BackendInfo", "ChatRequest", "Completion", "TokenLogprob", "open_backend"]


def open_backend(settings: ModelSettings, retry: RetryPolicy | None = None, logprobs: bool = False) -> Backend:
    if settings.backend == "embedded":
        from tactful.backends.embedded import EmbeddedBackend

        return EmbeddedBackend.open(settings.name, options=dict(settings.options), logprobs=logprobs)
    from tactful.backends.ollama import OllamaBackend

    return OllamaBackend(
        settings.name,
        host=settings.host,
        timeout=settings.timeout,
        options=dict(settings.options),
        retry=retry,
    )
