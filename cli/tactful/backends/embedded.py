"""The embedded backend: llama.cpp in process (``pip install 'tactful[embedded]'``).

For machines with no Ollama server: CI runners, pre-commit in containers, air-gapped
boxes. The model stays loaded for the whole run; llama.cpp keeps the evaluated tokens
of the previous request and re-evaluates only what differs, so the fixed prompt prefix
is paid once.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from tactful.backends.base import BackendInfo, ChatRequest, Completion, TokenLogprob
from tactful.backends.model_store import resolve_model_file
from tactful.errors import BackendError

TOP_LOGPROBS = 20
INSTALL_HINT = "pip install 'tactful[embedded]'"


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, model: str, path: Path, llm: Any) -> None:
        self.model = model
        self.path = path
        self.llm = llm
        self._lock = threading.Lock()  # one llama.cpp context: one request at a time
        self._model_id: str | None = None

    @classmethod
    def open(cls, model: str, options: dict[str, Any] | None = None, logprobs: bool = False) -> EmbeddedBackend:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise BackendError(f"the embedded backend needs llama-cpp-python: run `{INSTALL_HINT}`") from None
        path = resolve_model_file(model)
        options = options or {}
        try:
            llm = Llama(
                model_path=str(path),
                n_ctx=int(options.get("num_ctx", 4096)),
                n_threads=int(options.get("num_thread", os.cpu_count() or 2)),
                seed=int(options.get("seed", 0)),
                logits_all=logprobs,  # llama.cpp returns log-probabilities only with it
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise BackendError(f"{path}: llama.cpp cannot load this model: {exc}") from None
        return cls(model, path, llm)

    def complete(self, request: ChatRequest) -> Completion:
        extra: dict[str, Any] = {"logprobs": True, "top_logprobs": TOP_LOGPROBS} if request.logprobs else {}
        with self._lock:
            try:
                response = self.llm.create_chat_completion(
                    messages=request.messages,
                    response_format={"type": "json_object", "schema": request.schema},
                    temperature=0.0,
                    max_tokens=request.max_tokens,
                    **extra,
                )
            except ValueError as exc:  # e.g. the prompt does not fit the context
                raise BackendError(f"llama.cpp refused the request: {exc}") from None
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        return Completion(
            content=choice["message"].get("content") or "",
            prompt_tokens=usage.get("prompt_tokens"),
            output_tokens=usage.get("completion_tokens"),
            logprobs=_logprobs(choice.get("logprobs")) if request.logprobs else None,
        )

    def model_id(self) -> str:
        if self._model_id is None:
            # Hashing a 1 GB file takes seconds; size and mtime identify it well enough
            # for a cache key, and a replaced file changes both.
            stat = self.path.stat()
            self._model_id = f"{self.path.name}@{stat.st_size}-{int(stat.st_mtime)}"
        return self._model_id

    def info(self) -> BackendInfo:
        import llama_cpp

        size = self.path.stat().st_size / 1e6
        return BackendInfo("embedded", str(self.path), f"llama-cpp-python {llama_cpp.__version__}",
                           self.model, True, f"({size:.0f} MB)")

    def close(self) -> None:
        close = getattr(self.llm, "close", None)
        if close:
            close()


def _logprobs(block: Any) -> list[TokenLogprob] | None:
    if not block or not block.get("content"):
        return None
    return [
        TokenLogprob(
            token=entry["token"],
            logprob=entry["logprob"],
            top={alt["token"]: alt["logprob"] for alt in entry.get("top_logprobs") or []},
        )
        for entry in block["content"]
    ]
