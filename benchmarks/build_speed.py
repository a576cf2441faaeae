"""Prompt-evaluation tokens/s of the llama.cpp build in the running interpreter.

Run it with each build's Python to compare them on one machine, e.g.::

    .venv-portable/bin/python benchmarks/build_speed.py          # -DGGML_NATIVE=OFF (AVX2)
    .venv-dispatch/bin/python benchmarks/build_speed.py          # runtime CPU dispatch
    .venv-native/bin/python   benchmarks/build_speed.py          # -DGGML_NATIVE=ON

A dispatching build's kernels are loaded as tactful loads them
(``tactful.backends.cpu_variants``); the line it prints names the variant. The text is
evaluated from an empty context each repetition, in one batch, as a text's prompt is.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "cli"))  # only the loader is needed: no install of tactful

from tactful.backends.cpu_variants import load_cpu_variants  # noqa: E402

DEFAULT_MODEL = Path.home() / ".cache" / "tactful" / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--reps", type=int, default=4)
    args = parser.parse_args()
    import llama_cpp

    folder = load_cpu_variants()
    llm = llama_cpp.Llama(model_path=str(args.model), n_ctx=args.tokens + 64, n_batch=512, verbose=False)
    tokens = llm.tokenize(b"The quick brown fox jumps over the lazy dog. " * 400)[: args.tokens]
    rates = []
    for _ in range(args.reps):
        llm.reset()
        started = time.perf_counter()
        llm.eval(tokens)
        rates.append(len(tokens) / (time.perf_counter() - started))
    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    wide = "AVX512" if "AVX512 = 1" in info else "AVX2" if "AVX2 = 1" in info else "narrower"
    print(f"{sys.prefix}: llama-cpp-python {llama_cpp.__version__}, kernels {wide}"
          f"{f' (dispatch, from {folder})' if folder else ''}")
    print(f"prompt eval, {len(tokens)} tokens x {args.reps}: median {statistics.median(rates):.1f} tok/s "
          f"(each: {', '.join(f'{r:.1f}' for r in rates)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
