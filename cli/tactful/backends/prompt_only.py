"""A backend that sends nothing: prompts are built as for any backend, no model is asked.

`tactful classify --show-prompt` runs the engine on it to print the exact request a
record would make. Whatever would reach a model is refused with a ``UsageError``.
"""

from __future__ import annotations

from tactful.backends.base import BackendInfo, ChatRequest, Completion
from tactful.errors import UsageError


class PromptOnly:
    """The backend for --show-prompt: prompts are built, nothing is ever sent."""

    name = "none"

    def __init__(self, model: str) -> None:
        self.model = model

    def complete(self, request: ChatRequest) -> Completion:
        raise UsageError("--show-prompt only prints the request; it never sends one")

    def model_id(self) -> str:
        return self.model

    def embed(self, texts: list[str]) -> list[list[float]]:
        raise UsageError("--show-prompt only prints the request; it never embeds")

    def info(self) -> BackendInfo:
        return BackendInfo("none", "", None, self.model, False, "--show-prompt sends nothing")

    def close(self) -> None:
        """Nothing was opened."""
