"""`tactful cache stats|clear`: look at or empty the results cache and saved prompt states."""

from __future__ import annotations

import typer
from rich.console import Console

from tactful.backends.prompt_state import SUFFIX
from tactful.backends.prompt_state import clear as clear_states
from tactful.engine.cache import ResultCache
from tactful.errors import EXIT_OK
from tactful.io.console import console
from tactful.paths import prompt_states_dir, results_cache_path

app = typer.Typer(
    help="The results cache (decisions already made, reused when the same text meets the same model and prompt) "
    "and the embedded backend's saved prompt states.",
    no_args_is_help=True,
)


@app.command("stats")
def stats_command() -> int:
    """Where the cache is, how big, and how many results per model.

    \b
    Example:
      tactful cache stats
    """
    return stats(console())


@app.command("clear")
def clear_command() -> int:
    """Delete every cached result and saved prompt state (the next run asks the model again).

    \b
    Example:
      tactful cache clear
    """
    return clear(console())


def stats(console: Console) -> int:
    cache = _existing(console, "no cache yet (the first `tactful classify` makes it)")
    if cache is not None:
        with cache:
            info = cache.stats()
        console.print(f"{info.path}: {info.entries} results, {_size(info.size_bytes)}")
        for model, count in info.by_model.items():
            console.print(f"  {model}: {count}")
    states = list(prompt_states_dir().glob(f"*{SUFFIX}"))
    if states:
        size = sum(p.stat().st_size for p in states)
        console.print(f"{prompt_states_dir()}: {len(states)} saved prompt states, {_size(size)}")
    return EXIT_OK


def clear(console: Console) -> int:
    cache = _existing(console, "no cache, nothing to clear")
    if cache is not None:
        with cache:
            removed = cache.clear()
        console.print(f"{cache.path}: removed {removed} results")
    states = clear_states(prompt_states_dir())
    if states:
        console.print(f"{prompt_states_dir()}: removed {states} saved prompt states")
    return EXIT_OK


def _existing(console: Console, absent: str) -> ResultCache | None:
    """The cache, or None after saying so (looking must not create one)."""
    path = results_cache_path()
    if not path.exists():
        console.print(f"{path}: {absent}")
        return None
    return ResultCache(path)


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count / (1024 * 1024):.1f} MiB"
