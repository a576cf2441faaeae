"""The real small model (SmolLM2-135M, embedded backend): whether its tests can run.

They need `pip install -e '.[embedded]'` and `tactful models fetch smollm2-135m`; CI does
both and sets TACTFUL_REQUIRE_REAL_MODEL=1 so that a missing piece fails instead of
skipping. A test module marks itself with ``pytestmark = REAL_MODEL``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tactful.backends.model_store import PINNED, pinned_path

MODEL = "smollm2-135m"
ARGS = ["--backend", "embedded", "--model", MODEL]
SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"
LINES = (SAMPLES / "comments.txt").read_text().splitlines()


def _missing() -> str | None:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return "llama-cpp-python is not installed (pip install -e '.[embedded]')"
    if not pinned_path(PINNED[MODEL]).is_file():
        return f"{MODEL} is not fetched (tactful models fetch {MODEL})"
    return None


reason = _missing()
if reason and os.environ.get("TACTFUL_REQUIRE_REAL_MODEL") == "1":
    raise RuntimeError(f"real-model tests required but {reason}")
REAL_MODEL = [pytest.mark.realmodel, pytest.mark.skipif(reason is not None, reason=reason or "")]
