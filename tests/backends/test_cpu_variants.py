"""Which of a dispatching llama.cpp build's CPU kernels tactful loads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tactful.backends.cpu_variants import best_variant


def _folder_of_variants() -> Path:
    llama_cpp = pytest.importorskip("llama_cpp")
    folder = Path(llama_cpp.__file__).resolve().parent.parent / "bin"
    if not any(folder.glob("libggml-cpu-*.so")):
        pytest.skip("llama-cpp-python was built without runtime CPU dispatch")
    return folder


def test_the_amx_kernels_are_never_chosen_unless_asked(monkeypatch, tmp_path):
    folder = _folder_of_variants()
    chosen = best_variant(folder)
    assert chosen is not None and "sapphirerapids" not in chosen.name
    # With only the AMX variant and its fallbacks that this CPU cannot run, nothing is chosen
    # rather than the skipped one.
    only = tmp_path / "bin"
    only.mkdir()
    for name in ("libggml-cpu-sapphirerapids.so",):
        if (folder / name).exists():
            shutil.copy(folder / name, only / name)
    assert best_variant(only) is None
    monkeypatch.setenv("TACTFUL_CPU_VARIANTS_ALL", "1")
    allowed = best_variant(folder)
    assert allowed is not None  # llama.cpp's own choice among all of them


def test_a_folder_without_variants_chooses_none(tmp_path):
    (tmp_path / "libggml-cpu-broken.so").write_bytes(b"not a library")
    assert best_variant(tmp_path) is None
