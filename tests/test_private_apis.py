"""Private members of dependencies that tactful uses because no public API does the job.

Each dependency is bounded above in pyproject.toml. When a test here fails after an
upgrade, the member it names is gone or has moved: change the module that uses it, then
move the bound. Until then the bound keeps users on releases where tactful works.
"""

from __future__ import annotations

import os

import httpx
import ollama
import pytest
from tactful.backends.cpu_variants import load_cpu_variants
from tactful.backends.model_store import PINNED, pinned_path


def test_tomlkit_containers_still_insert_at_a_position():
    from tomlkit.container import Container

    # profile/toml_edit.py: a new plain key goes above the first table's comments.
    assert callable(getattr(Container, "_insert_at", None)), (
        "tomlkit's Container._insert_at is gone: fix profile/toml_edit.py, then the tomlkit<0.16 bound"
    )


def test_the_ollama_client_still_has_its_request_method_and_http_client():
    client = ollama.Client(host="http://127.0.0.1:9")
    try:
        # backends/ollama.py: a chat with `truncate`, which chat() lacks, and /api/version.
        assert callable(getattr(client, "_request", None)), (
            "ollama's Client._request is gone: fix backends/ollama.py, then the ollama<0.7 bound"
        )
        assert isinstance(getattr(client, "_client", None), httpx.Client), (
            "ollama's Client._client is no httpx.Client: fix backends/ollama.py, then the ollama<0.7 bound"
        )
    finally:
        client.close()


def _llama_missing() -> str | None:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return "llama-cpp-python is not installed (pip install -e '.[embedded]')"
    if not pinned_path(PINNED["smollm2-135m"]).is_file():
        return "smollm2-135m is not fetched (tactful models fetch smollm2-135m)"
    return None


@pytest.mark.realmodel
def test_llama_still_has_the_context_and_model_tactful_reads():
    missing = _llama_missing()
    if missing and os.environ.get("TACTFUL_REQUIRE_REAL_MODEL") == "1":
        raise RuntimeError(f"real-model tests required but {missing}")
    if missing:
        pytest.skip(missing)
    load_cpu_variants()  # before llama.cpp loads, as the embedded backend does
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(pinned_path(PINNED["smollm2-135m"])), n_ctx=64, verbose=False)
    pin = "then the llama-cpp-python<0.4 bound"
    try:
        # backends/prompt_state.py: clear the KV cache before loading a saved state.
        assert callable(getattr(getattr(llm, "_ctx", None), "kv_cache_clear", None)), f"Llama._ctx.kv_cache_clear is gone: fix backends/prompt_state.py, {pin}"
        # backends/llama_probe.py: the text of the chat template's special tokens.
        assert callable(getattr(getattr(llm, "_model", None), "token_get_text", None)), f"Llama._model.token_get_text is gone: fix backends/llama_probe.py, {pin}"
    finally:
        llm.close()
