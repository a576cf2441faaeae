"""The embedded backend: llama.cpp in process (``pip install 'tactful[embedded]'``).

For machines with no Ollama server: CI runners, pre-commit in containers, air-gapped
boxes. The model stays loaded for the whole run; llama.cpp keeps the evaluated tokens
of the previous request and re-evaluates only what differs, so the fixed prompt prefix
is paid once.

Embeddings come from a second llama.cpp instance, opened on the first ``embed`` for the
profile's ``model.embedding``: llama.cpp returns embeddings only from a context created
for them, and such a context gives no completions.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tactful.backends.base import BackendInfo, ChatRequest, Completion, Probe, ProbeRequest
from tactful.backends.cpu_variants import load_cpu_variants
from tactful.backends.llama_probe import LlamaProber
from tactful.backends.model_store import resolve_model_file
from tactful.backends.prompt_state import PromptStates
from tactful.errors import BackendError, ConfigError

INSTALL_HINT = "pip install 'tactful[embedded]'"
# Tokens of one text that are embedded; llama-cpp-python cuts longer texts to this (the
# opening of a text is enough to find examples like it). Its default batch size, and
# small enough that the embedding context costs little memory beside the chat model.
EMBED_TOKENS = 512
# Set (to anything but 0) to see llama.cpp's own log on stderr: kernels, model, timings.
ENV_LLAMA_LOG = "TACTFUL_LLAMA_LOG"


class EmbeddedBackend:
    name = "embedded"

    def __init__(
        self,
        model: str,
        path: Path,
        llm: Any = None,
        embedding: str | None = None,
        options: dict[str, Any] | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.model = model
        self.path = path
        self.llm = llm  # the chat model; None until the first completion asks for it
        self.embedding = embedding  # model.embedding: the model `embed` uses
        self.options = dict(options or {})
        self._prober: LlamaProber | None = None
        self.state_dir = state_dir  # where the fixed prompt's state is saved; None: not saved
        self._lock = threading.Lock()  # one llama.cpp context: one request at a time
        self._embed_lock = threading.Lock()  # the embedding context is another one
        self._embedder: Any = None
        self._model_id: str | None = None

    @classmethod
    def open(
        cls, model: str, options: dict[str, Any] | None = None, embedding: str | None = None,
        state_dir: Path | None = None,
    ) -> EmbeddedBackend:
        """A backend for chat with ``model``, loaded now so a bad model fails before any input is read."""
        _require_llama_cpp()
        backend = cls(model, resolve_model_file(model), embedding=embedding, options=options, state_dir=state_dir)
        backend.llm = _load(backend.path, backend.options)
        return backend

    @classmethod
    def open_embedder(cls, model: str, options: dict[str, Any] | None = None) -> EmbeddedBackend:
        """A backend for embeddings with ``model`` (``model.embedding``); nothing is loaded yet."""
        _require_llama_cpp()
        return cls(model, resolve_model_file(model), embedding=model, options=options)

    # ------------------------------------------------------------ chat

    def probe(self, request: ProbeRequest) -> Probe:
        """The answer values' probabilities, read in one forward pass (see ``llama_probe``)."""
        with self._lock:
            if self._prober is None:
                try:
                    states = PromptStates(self.state_dir, self.model_id()) if self.state_dir else None
                    self._prober = LlamaProber(self._chat_model(), states)
                except ValueError as exc:
                    raise BackendError(f"{self.path}: {exc}") from None
            try:
                return self._prober.probe(request)
            except (ValueError, RuntimeError) as exc:  # e.g. the prompt does not fit the context
                raise BackendError(f"llama.cpp refused the request: {exc}") from None

    def complete(self, request: ChatRequest) -> Completion:
        # Sampled answers carry no log-probabilities here: llama.cpp gives them only with
        # logits_all, which makes every prompt token pay; `probe` reads them instead.
        with self._lock:
            llm = self._chat_model()
            try:
                response = llm.create_chat_completion(
                    messages=request.messages,
                    response_format={"type": "json_object", "schema": request.schema},
                    temperature=0.0,
                    max_tokens=request.max_tokens,
                )
            except ValueError as exc:  # e.g. the prompt does not fit the context
                raise BackendError(f"llama.cpp refused the request: {exc}") from None
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        return Completion(
            content=choice["message"].get("content") or "",
            prompt_tokens=usage.get("prompt_tokens"),
            output_tokens=usage.get("completion_tokens"),
        )

    def _chat_model(self) -> Any:
        """The chat llama.cpp instance (call with ``_lock`` held)."""
        if self.llm is None:
            self.llm = _load(self.path, self.options)
        return self.llm

    # ------------------------------------------------------------ embeddings

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One L2-normalised vector per text, from the ``model.embedding`` model."""
        with self._embed_lock:
            embedder = self._embedding_model()
            try:
                # One text per call: llama-cpp-python misplaces the per-token rows of all
                # but the first sequence when it batches several unpooled ones.
                return [_pooled(embedder.embed(text)) for text in texts]
            except (ValueError, RuntimeError) as exc:
                raise BackendError(f"llama.cpp cannot embed with '{self.embedding}': {exc}") from None

    def _embedding_model(self) -> Any:
        """The embedding llama.cpp instance, opened on first use (call with ``_embed_lock`` held)."""
        if self._embedder is None:
            if not self.embedding:
                raise ConfigError(
                    "the embedded backend embeds with its own model: set model.embedding "
                    "(a GGUF file, a model from `tactful models list`, or one pulled with Ollama)"
                )
            path = self.path if self.embedding == self.model else resolve_model_file(self.embedding)
            self._embedder = _load(path, self.options, embedding=True)
        return self._embedder

    # ------------------------------------------------------------ facts

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
        with self._lock:
            self._chat_model()  # loads the kernels, so that the line below names the ones in use
        return BackendInfo("embedded", str(self.path), f"llama-cpp-python {llama_cpp.__version__}",
                           self.model, True, f"({size:.0f} MB; CPU kernels: {_cpu_kernels()})")

    def close(self) -> None:
        for llm in (self.llm, self._embedder):
            close = getattr(llm, "close", None)
            if close:
                close()


def _require_llama_cpp() -> None:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise BackendError(f"the embedded backend needs llama-cpp-python: run `{INSTALL_HINT}`") from None


def _load(path: Path, options: dict[str, Any], embedding: bool = False) -> Any:
    """A llama.cpp instance for chat, or for embeddings with ``embedding``."""
    from llama_cpp import Llama

    verbose = _llama_log()
    load_cpu_variants()  # a build with runtime CPU dispatch: its kernels, found where pip put them

    threads = int(options.get("num_thread", os.cpu_count() or 2))
    sizes: dict[str, Any]  # Llama's keyword arguments
    if embedding:
        sizes = {"n_ctx": EMBED_TOKENS, "n_batch": EMBED_TOKENS, "n_ubatch": EMBED_TOKENS}
    else:
        sizes = {"n_ctx": int(options.get("num_ctx", 4096))}
    try:
        return Llama(
            model_path=str(path),
            n_threads=threads,
            seed=int(options.get("seed", 0)),
            embedding=embedding,
            verbose=verbose,
            **sizes,
        )
    except (ValueError, RuntimeError) as exc:
        raise BackendError(f"{path}: llama.cpp cannot load this model: {exc}") from None


def _llama_log() -> bool:
    """Let llama.cpp's log through only when asked for (``$TACTFUL_LLAMA_LOG``).

    llama-cpp-python prints that log through its "llama-cpp-python" logger, which lets
    everything through until a ``Llama`` is made with ``verbose=False``. The CPU kernels
    are loaded before that, and would say "load_backend: loaded CPU backend from ..." on
    every run. Errors are printed either way.
    """
    verbose = os.environ.get(ENV_LLAMA_LOG, "0") not in ("", "0")
    logging.getLogger("llama-cpp-python").setLevel(logging.DEBUG if verbose else logging.ERROR)
    return verbose


def _cpu_kernels() -> str:
    """The widest vector instructions llama.cpp's CPU backend uses here, from its own report."""
    import llama_cpp

    report = llama_cpp.llama_print_system_info().decode(errors="replace")
    used = {part.split("=")[0].strip() for part in report.split("|") if part.strip().endswith("= 1")}
    return next((name for name in ("AVX512", "AVX2", "AVX", "NEON", "SSE3") if name in used), "generic")


def _pooled(output: Sequence[Any]) -> list[float]:
    """One unit vector from what ``Llama.embed`` returns for one text.

    Chat models carry no pooling type, so llama.cpp gives one row per token (unpooled);
    their mean stands for the text, as a pooling embedding model would do it. A model
    that pools already gives a single row, used as is.
    """
    rows = [list(row) for row in output] if output and isinstance(output[0], Sequence) else [list(output)]
    if not rows or not rows[0]:
        return []
    mean = [sum(column) / len(rows) for column in zip(*rows)]
    norm = math.sqrt(sum(x * x for x in mean))
    # Unit length, as Ollama returns them (cosine ranking does not depend on it).
    return [x / norm for x in mean] if norm else mean
