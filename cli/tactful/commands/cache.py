"""`tactful cache stats|clear`: look at or empty the results cache."""

from __future__ import annotations

from rich.console import Console

from tactful.cache import ResultCache, default_cache_path
from tactful.errors import EXIT_OK


def stats(console: Console) -> int:
    path = default_cache_path()
    if not path.exists():
        console.print(f"{path}: no cache yet (it is made by the first `tactful classify`)")
        return EXIT_OK
    with ResultCache(path) as cache:
        info = cache.stats()
    console.print(f"{info.path}: {info.entries} results, {_size(info.size_bytes)}")
    for model, count in info.by_model.items():
        console.print(f"  {model}: {count}")
    return EXIT_OK


def clear(console: Console) -> int:
    path = default_cache_path()
    if not path.exists():
        console.print(f"{path}: no cache, nothing to clear")
        return EXIT_OK
    with ResultCache(path) as cache:
        removed = cache.clear()
    console.print(f"{path}: removed {removed} results")
    return EXIT_OK


def _size(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"
