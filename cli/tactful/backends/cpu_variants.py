"""llama.cpp's CPU kernels from a build with runtime CPU dispatch.

Built with ``-DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON``, llama-cpp-python ships one
``libggml-cpu-<variant>.so`` per CPU generation (haswell, skylakex, icelake, zen4, ...),
and llama.cpp loads the best one the machine runs when it starts: one build, AVX-512
where there is AVX-512, no illegal instruction where there is not. It looks for them
beside the executable, in the working directory and in ``$GGML_BACKEND_PATH``, but pip
installs them in ``site-packages/bin``; without help no backend loads ("no backends are
loaded"). So when none is registered, tactful points llama.cpp at that folder. A build
with the kernels linked in (the portable default) has its backend already: nothing is done.
"""

from __future__ import annotations

import _ctypes
import ctypes
import os
import threading
from pathlib import Path

# Kernels never chosen: llama.cpp's AMX matrix kernels (only in the sapphirerapids variant)
# die with "Illegal instruction" on a Sapphire Rapids VM (a tile load before the tiles are
# configured, with AMX granted to the process), and on 2 cores they gain nothing over the
# AVX-512 kernels of the next variant, which run the same models. TACTFUL_CPU_VARIANTS_ALL=1
# lets llama.cpp choose among all of them again.
_SKIPPED = ("sapphirerapids",)

_lock = threading.Lock()
_done = False


def load_cpu_variants() -> Path | None:
    """Load the dispatching build's CPU kernels if none are loaded; the folder, if it did."""
    global _done
    with _lock:
        if _done:
            return None
        _done = True
        import llama_cpp

        try:
            # By its soname: the copy libllama already uses, so the same backend registry
            # (loading the file by path would give a second copy with its own).
            ggml = ctypes.CDLL("libggml.so.0")
        except OSError:  # not Linux, or an unusual build: leave llama.cpp to its defaults
            return None
        if ggml.ggml_backend_reg_count() > 0:
            return None
        folder = Path(llama_cpp.__file__).resolve().parent.parent / "bin"
        if not any(folder.glob("libggml-cpu-*")):
            return None
        best = best_variant(folder)
        if best is None:
            return None
        ggml.ggml_backend_load.argtypes = [ctypes.c_char_p]
        ggml.ggml_backend_load.restype = ctypes.c_void_p
        ggml.ggml_backend_load(str(best).encode())
        return folder


def best_variant(folder: Path) -> Path | None:
    """The variant llama.cpp would pick (its own score: 0 where this CPU lacks a feature
    the variant needs, higher for newer ones), the skipped ones left out."""
    skipped = () if os.environ.get("TACTFUL_CPU_VARIANTS_ALL") == "1" else _SKIPPED
    scored: list[tuple[int, Path]] = []
    for path in sorted(folder.glob("libggml-cpu-*.so")):
        if any(name in path.name for name in skipped):
            continue
        try:
            library = ctypes.CDLL(str(path))
        except OSError:  # not loadable here
            continue
        try:
            score = library.ggml_backend_score
            score.restype = ctypes.c_int
            scored.append((score(), path))
        except AttributeError:  # not a scored variant
            pass
        finally:
            _ctypes.dlclose(library._handle)  # scored only; ggml_backend_load opens the winner
    usable = [(score, path) for score, path in scored if score > 0]
    return max(usable)[1] if usable else None
