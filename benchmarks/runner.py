"""Running the tactful CLI from a benchmark: one `tactful classify` over JSONL lines."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def classify_records(lines: Sequence[dict[str, Any]], profile: str, backend: str, model: str,
                     flags: Sequence[str] = (), name: str = "bench") -> tuple[list[dict[str, Any]], float]:
    """The records one uncached `tactful classify` run writes for ``lines`` under the
    ``profile`` TOML, and the seconds the run took (model load included)."""
    work = Path(tempfile.mkdtemp(prefix=f"tactful-{name}-"))
    (work / "profile.toml").write_text(profile, encoding="utf-8")
    data = work / "input.jsonl"
    data.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    out = work / "scored.jsonl"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tactful", "classify", str(data), "-p", str(work / "profile.toml"), "--backend", backend,
         "--model", model, "--no-cache", "-q", "-o", str(out), *flags],
        check=True,
    )
    seconds = time.perf_counter() - started
    return [json.loads(line) for line in out.read_text("utf-8").splitlines()], seconds


def flagged_score(record: dict[str, Any]) -> float | None:
    """A binary-mode record's probability of being flagged (None for an error record)."""
    return (record["moderation"].get("scores") or {}).get("flagged")
