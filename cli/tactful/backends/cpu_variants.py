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

import ctypes
import threading
from pathlib import Path

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
        ggml.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
        ggml.ggml_backend_load_all_from_path(str(folder).encode())
        return folder
