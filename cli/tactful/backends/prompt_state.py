"""The fixed prompt prefix paid once per machine, not once per process (llama.cpp).

After a process evaluates the instructions and fixed examples, the model's state for
those tokens (its KV cache for sequence 0) is written to the cache directory, keyed by
the model file, the llama.cpp build and the exact tokens. The next process that starts
with the same prefix (a pre-commit hook on every commit, a second `classify`) loads it
in milliseconds instead of evaluating hundreds of tokens. Files are written atomically
and at most ``KEEP`` are kept, newest first; `tactful cache clear` removes them.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

KEEP = 8  # saved prefixes kept per machine (each is ~15-30 MB for a 1.5B model)
SUFFIX = ".llstate"


class PromptStates:
    """Saved prefix states in one folder, for one model file and llama.cpp build."""

    def __init__(self, folder: Path, model_id: str) -> None:
        self.folder = folder
        self.model_id = model_id

    def path_for(self, tokens: Sequence[int]) -> Path:
        import llama_cpp

        blob = f"{self.model_id}\0{llama_cpp.__version__}\0" + ",".join(map(str, tokens))
        return self.folder / (hashlib.sha256(blob.encode()).hexdigest()[:24] + SUFFIX)

    def load(self, llm: Any, tokens: Sequence[int]) -> bool:
        """Put the saved state for exactly ``tokens`` into ``llm``; False when there is none."""
        import llama_cpp

        path = self.path_for(tokens)
        if not path.is_file():
            return False
        llm.n_tokens = 0
        llm._ctx.kv_cache_clear()  # private, but the public call for it changed name across 0.3.x: pinned below 0.4
        out = (llama_cpp.llama_token * len(tokens))()
        count = ctypes.c_size_t(0)
        read = llama_cpp.llama_state_seq_load_file(
            llm.ctx, str(path).encode(), 0, out, len(tokens), ctypes.byref(count)
        )
        if not read or count.value != len(tokens) or list(out) != list(tokens):
            llm._ctx.kv_cache_clear()  # a torn or foreign file: evaluate instead
            return False
        llm.input_ids[: len(tokens)] = tokens
        llm.n_tokens = len(tokens)
        os.utime(path)  # recently used: kept longest
        return True

    def save(self, llm: Any, tokens: Sequence[int]) -> None:
        """Write the state of ``llm``, which holds exactly ``tokens``; failures only cost speed."""
        import llama_cpp

        path = self.path_for(tokens)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.{os.getpid()}")
            array = (llama_cpp.llama_token * len(tokens))(*tokens)
            if llama_cpp.llama_state_seq_save_file(llm.ctx, str(partial).encode(), 0, array, len(tokens)):
                os.replace(partial, path)
            else:
                partial.unlink(missing_ok=True)
            self._prune()
        except OSError:
            pass  # a read-only cache directory: the next process evaluates the prefix again

    def _prune(self) -> None:
        saved = sorted(self.folder.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in saved[KEEP:]:
            old.unlink(missing_ok=True)


def clear(folder: Path) -> int:
    """Remove every saved state; the number removed."""
    removed = 0
    for path in folder.glob(f"*{SUFFIX}"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed
