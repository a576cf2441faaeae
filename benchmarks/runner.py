"""Running the tactful CLI from a benchmark: one `tactful classify` over JSONL lines."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import platformdirs


def classify_records(lines: Sequence[dict[str, Any]], profile: str, backend: str, model: str,
                     flags: Sequence[str] = (), name: str = "bench") -> tuple[list[dict[str, Any]], float]:
    """The records one uncached `tactful classify` run writes for ``lines`` under the
    ``profile`` TOML, and the seconds the run took (model load included)."""
    records, seconds, _ = _classify(lines, profile, backend, model, flags, name, None)
    return records, seconds


def classify_cached(lines: Sequence[dict[str, Any]], profile: str, backend: str, model: str, cache: Path,
                    name: str = "bench") -> tuple[list[dict[str, Any]], float, int]:
    """As ``classify_records``, with a results cache of the benchmark's own in ``cache``
    (models stay where they are): also how many records came from that cache."""
    records, seconds, stderr = _classify(lines, profile, backend, model, (), name, cache)
    found = re.search(r"(\d+) from cache", stderr)
    return records, seconds, int(found.group(1)) if found else 0


def _classify(lines: Sequence[dict[str, Any]], profile: str, backend: str, model: str, flags: Sequence[str],
              name: str, cache: Path | None) -> tuple[list[dict[str, Any]], float, str]:
    work = Path(tempfile.mkdtemp(prefix=f"tactful-{name}-"))
    (work / "profile.toml").write_text(profile, encoding="utf-8")
    data = work / "input.jsonl"
    data.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    out = work / "scored.jsonl"
    started = time.perf_counter()
    env = dict(os.environ)
    if cache is not None:
        env.setdefault("TACTFUL_MODELS_DIR", str(Path(platformdirs.user_cache_path("tactful")) / "models"))
        env["XDG_CACHE_HOME"] = str(cache)
    run = subprocess.run(
        [sys.executable, "-m", "tactful", "classify", str(data), "-p", str(work / "profile.toml"), "--backend", backend,
         "--model", model, *(["--no-cache", "-q"] if cache is None else []), "-o", str(out), *flags],
        check=True, env=env, stderr=None if cache is None else subprocess.PIPE, text=True,
    )
    seconds = time.perf_counter() - started
    return [json.loads(line) for line in out.read_text("utf-8").splitlines()], seconds, run.stderr or ""


def flagged_score(record: dict[str, Any]) -> float | None:
    """A binary-mode record's probability of being flagged (None for an error record)."""
    return (record["moderation"].get("scores") or {}).get("flagged")
