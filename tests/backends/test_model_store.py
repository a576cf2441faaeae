"""Model files for the embedded backend, without loading a model."""

from __future__ import annotations

import builtins

from tactful.backends.model_store import ollama_manifest_path


def test_missing_extra_says_how_to_install(cli, monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_llama(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "llama_cpp":
            raise ImportError("No module named 'llama_cpp'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_llama)
    run = cli("classify", "--backend", "embedded", "--model", str(tmp_path / "m.gguf"), input="x\n")
    assert run.code == 3
    assert run.stderr.strip() == "tactful: error: the embedded backend needs llama-cpp-python: run `pip install 'tactful[embedded]'`"


def test_unknown_pinned_model(cli):
    run = cli("models", "fetch", "smollm3")
    assert run.code == 2
    assert "unknown model 'smollm3' (did you mean 'smollm2-135m'?)" in run.stderr


def test_unfetched_pinned_model_says_how_to_fetch(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("TACTFUL_MODELS_DIR", str(tmp_path / "empty"))
    run = cli("classify", "--backend", "embedded", "--model", "qwen2.5-coder-1.5b", input="x\n")
    assert run.code == 3
    assert "run `tactful models fetch qwen2.5-coder-1.5b`" in run.stderr


def test_ollama_names_map_to_manifest_paths(monkeypatch, tmp_path):
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path))
    assert ollama_manifest_path("qwen2.5:3b") == tmp_path / "manifests/registry.ollama.ai/library/qwen2.5/3b"
    assert ollama_manifest_path("llama3") == tmp_path / "manifests/registry.ollama.ai/library/llama3/latest"
    assert ollama_manifest_path("me/tuned:v2") == tmp_path / "manifests/registry.ollama.ai/me/tuned/v2"
    assert ollama_manifest_path("example.com/ns/m:1") == tmp_path / "manifests/example.com/ns/m/1"
