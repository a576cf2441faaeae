"""Start-up time of the command line: what a user waits for before any work starts.

Prints the median of ``--reps`` fresh processes for each of:

- ``import tactful.main``: what every invocation pays before parsing its arguments;
- ``tactful --help`` and ``tactful classify --help``;
- ``tactful classify --backend embedded --model smollm2-135m`` judging one short line, run
  once first so that the timed runs find the saved prompt state (the second-process case).

Run it with the interpreter of the checkout to measure, e.g. ``.venv/bin/python
benchmarks/startup.py``. Each process is timed from the outside (wall clock), so a busy
machine makes every number larger: compare before/after on one machine, close together.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence


# --no-cache: the model judges the line every time (the saved prompt state is still used).
def classify_argv(model: str) -> list[str]:
    return ["-m", "tactful", "classify", "--backend", "embedded", "--model", model, "--no-cache"]


def _seconds(argv: Sequence[str], text: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *argv], input=text, capture_output=True, text=True, check=True, env=env)
    return time.perf_counter() - started


def _median(argv: Sequence[str], reps: int, env: dict[str, str], text: str = "") -> tuple[float, list[float]]:
    runs = [_seconds(argv, text, env) for _ in range(reps)]
    return statistics.median(runs), runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--no-model", action="store_true", help="skip the embedded classify run")
    parser.add_argument("--model", default="smollm2-135m", help="the pinned model the classify run loads")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        # A fresh profile and cache (prompt states), with the fetched models where they are.
        models = os.environ.get("TACTFUL_MODELS_DIR") or os.path.expanduser("~/.cache/tactful/models")
        env = {
            **os.environ,
            "XDG_CONFIG_HOME": os.path.join(home, "config"),
            "XDG_CACHE_HOME": os.path.join(home, "cache"),
            "TACTFUL_MODELS_DIR": models,
        }
        cases: list[tuple[str, list[str], str]] = [
            ("import tactful.main", ["-c", "import tactful.main"], ""),
            ("tactful --help", ["-m", "tactful", "--help"], ""),
            ("tactful classify --help", ["-m", "tactful", "classify", "--help"], ""),
        ]
        if not args.no_model:
            argv = classify_argv(args.model)
            _seconds(argv, "you are lovely\n", env)  # saves the prompt state
            cases.append((f"classify one line (embedded, {args.model})", argv, "you are lovely\n"))
        for name, argv, text in cases:
            median, runs = _median(argv, args.reps, env, text)
            print(f"{name:40} median {median:6.3f} s  ({', '.join(f'{r:.3f}' for r in runs)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
