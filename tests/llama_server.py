"""A real OpenAI-compatible server for tests: llama-cpp-python's own, serving the small pinned model.

Started as a user starts it (``python -m llama_cpp.server ...``) on a free port. It needs
``llama-cpp-python[server]`` and the fetched SmolLM2; without them the tests that use it
skip, unless TACTFUL_REQUIRE_REAL_MODEL=1 (CI) makes that a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest

ALIAS = "smollm2-135m"


def model_path() -> Path:
    from tactful.backends.model_store import PINNED, pinned_path

    return pinned_path(PINNED[ALIAS])


def require_server() -> Path:
    """The model's path, or skip (fail in CI) when the server or the model is missing."""
    problem = None
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError as exc:
        problem = f"llama-cpp-python[server] is not installed ({exc})"
    path = None
    if problem is None:
        path = model_path()
        if not path.is_file():
            problem = f"{path} is missing: run `tactful models fetch {ALIAS}`"
    if problem is not None:
        if os.environ.get("TACTFUL_REQUIRE_REAL_MODEL") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    assert path is not None
    return path


def kernels_folder() -> Path | None:
    """A folder with the one CPU kernel variant tactful itself would load, if this is a
    runtime-dispatch build.

    llama.cpp looks for its kernels in the working directory (among other places), and the
    server, unlike tactful, does not point it at pip's folder: the server is started in this
    one. Only tactful's choice is in it, so the server skips the kernels tactful skips
    (``tactful.backends.cpu_variants``: the AMX ones die with SIGILL on some machines).
    """
    import llama_cpp
    from tactful.backends.cpu_variants import best_variant

    folder = Path(llama_cpp.__file__).resolve().parent.parent / "bin"
    best = best_variant(folder) if any(folder.glob("libggml-cpu-*")) else None
    if best is None:
        return None
    chosen = Path(tempfile.mkdtemp(prefix="tactful-kernels-"))
    (chosen / best.name).symlink_to(best)
    return chosen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def llama_server(*extra: str, model: Path | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A running server: its /v1 URL and its process (kill it to play a dead host).

    ``model``: another GGUF than the small pinned one (benchmarks).
    """
    path = model or require_server()
    port = free_port()
    # a file, not a pipe: a pipe nobody reads would fill up and stall the server
    log = tempfile.TemporaryFile()  # noqa: SIM115 (open while the server runs)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", ALIAS,
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "1",
         # Log-probabilities of chat answers need logits for every position on this server.
         "--logits_all", "true", *extra],
        stdout=subprocess.DEVNULL, stderr=log, cwd=kernels_folder(),
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_ready(url, proc, log)
        yield url, proc
    finally:
        proc.kill()
        proc.wait(timeout=30)
        log.close()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: IO[bytes], limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            err = log.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}: {err}")
        try:
            if httpx.get(f"{url}/models", timeout=1.0).status_code in (200, 401):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"llama_cpp.server at {url} did not start within {limit:g} s")
