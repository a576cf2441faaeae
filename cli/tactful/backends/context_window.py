"""The context a server is asked to hold (Ollama's ``num_ctx``), sized for each prompt.

Ollama evaluates a prompt in a context of ``num_ctx`` tokens (4096 by default at
v0.12.11) and, beyond it, silently drops the earliest messages: the examples first, then
the judged text, while the answer's opening stays and an answer still comes back. So the
context is sized for the prompt before it is sent, from an estimate that errs high, and
grown when the server shows the estimate was low (it refuses a prompt that does not fit
where ``truncate: false`` is understood, or reports a count that fills the context). It
only grows: a change of ``num_ctx`` reloads the model, so a run settles on one size.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from tactful.errors import AnswerError

DEFAULT_NUM_CTX = 4096
# Bytes of UTF-8 per token, rounded down so that the estimate errs high: about 4 for
# English, 2 to 3 for other scripts; a server's refusal corrects the rare text below it.
BYTES_PER_TOKEN = 3
# A chat template's tokens around each message (role markers, separators).
TOKENS_PER_MESSAGE = 8
# What Ollama counts for one image in its own truncation (a CLIP image's embeddings).
TOKENS_PER_IMAGE = 768
# Where the model's own limit is not known, the context still stops growing here.
UNKNOWN_LIMIT = 131072


def estimate_tokens(texts: Sequence[str], images: int = 0) -> int:
    """An estimate of a prompt's tokens that errs high for nearly every text."""
    size = sum(len(text.encode("utf-8")) for text in texts)
    return size // BYTES_PER_TOKEN + TOKENS_PER_MESSAGE * len(texts) + TOKENS_PER_IMAGE * images


class ContextWindow:
    """The ``num_ctx`` for each request: at least ``start``, doubled as prompts need, at most
    the model's own context length (``limit``, asked once, when first needed)."""

    def __init__(self, start: int, limit: Callable[[], int | None], model: str) -> None:
        self.size = start
        self._limit = limit
        self._known_limit: int | None = None
        self.model = model
        self._lock = threading.Lock()

    def limit(self) -> int:
        if self._known_limit is None:
            self._known_limit = self._limit() or UNKNOWN_LIMIT
        return self._known_limit

    def size_for(self, needed: int) -> int:
        """The size to send for a request that needs about ``needed`` tokens (prompt and answer)."""
        while self.size < needed:
            self.grow(self.size, needed)
        return self.size

    def grow(self, tried: int, needed: int | None = None) -> None:
        """A prompt did not fit in ``tried`` tokens: double, or say it cannot fit at all.

        Raises AnswerError (that record's error) at the model's limit: a text is never
        judged with part of its prompt dropped.
        """
        with self._lock:
            if self.size > tried:  # another request grew it meanwhile
                return
            limit = self.limit()
            if tried >= limit:
                fits = f"needs about {needed} tokens, more than" if needed else "does not fit in the context"
                raise AnswerError(f"the prompt {fits} model '{self.model}' holds ({limit} tokens): "
                                  "shorten the text, or use fewer or shorter examples")
            self.size = min(tried * 2, limit)
