"""`tactful serve` against the CLI on the same texts: what a warm server saves.

On the embedded model (SmolLM2 by default, --model for another pinned one), in one run:

- the CLI one-shot: a fresh `tactful classify` process per text (after one run that saved
  the prompt state), median of --reps;
- the CLI's steady state: one process judging the N texts, the judging time its own
  summary line reports (after the model load) over N;
- the server: seconds from start to ready, the first verdict after ready, then per-request
  latency p50/p95 and requests/s over the N texts at concurrency 1 and --concurrency.

Every run has --no-cache (each text is judged by the model) and multilabel mode (the mode
the server runs a binary profile in), with a fresh cache directory. Timed from outside,
wall clock: a busy machine makes every number larger; compare numbers from one run.
Run: ``nice -n 10 .venv/bin/python benchmarks/serve_latency.py``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SUMMARY = re.compile(r"^tactful: \d+ records? in ([\d.]+) s", re.MULTILINE)
STARTED = re.compile(r" on (http://127\.0\.0\.1:\d+); Ctrl-C to stop")


def engine_args(model: str) -> list[str]:
    return ["--backend", "embedded", "--model", model, "--no-cache", "--mode", "multilabel"]


def classify_seconds(model: str, texts: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """The process's wall time, and the judging time its summary reports."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tactful", "classify", *engine_args(model)],
                          input="".join(t + "\n" for t in texts), capture_output=True, text=True, check=True, env=env)
    wall = time.perf_counter() - started
    judged = SUMMARY.search(done.stderr)
    if judged is None:
        raise SystemExit(f"no summary line from tactful classify: {done.stderr}")
    return wall, float(judged.group(1))


def start_server(model: str, env: dict[str, str], workers: int) -> tuple[subprocess.Popen[str], str, float]:
    """The server process, its URL, and the seconds it took to say it is ready."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "tactful", "serve", *engine_args(model), "--port", "0",
                             "--jobs", str(workers)], stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    for line in proc.stderr:
        found = STARTED.search(line)
        if found:
            return proc, found.group(1), time.perf_counter() - started
    raise SystemExit(f"tactful serve did not start: exit {proc.wait()}")


def timed_request(client: httpx.Client, url: str, text: str) -> float:
    started = time.perf_counter()
    reply = client.post(f"{url}/v1alpha1/comments:analyze",
                        json={"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}}, timeout=120)
    reply.raise_for_status()
    return time.perf_counter() - started


def load(url: str, texts: Sequence[str], concurrency: int) -> tuple[list[float], float]:
    """Each text once, ``concurrency`` at a time: per-request seconds and the wall time."""
    with httpx.Client() as client, ThreadPoolExecutor(concurrency) as pool:
        started = time.perf_counter()
        latencies = list(pool.map(lambda text: timed_request(client, url, text), texts))
        return latencies, time.perf_counter() - started


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(name: str, latencies: Sequence[float], wall: float) -> None:
    print(f"{name:34} p50 {statistics.median(latencies) * 1000:7.1f} ms  p95 {percentile(latencies, 0.95) * 1000:7.1f} ms"
          f"  {len(latencies) / wall:6.2f} requests/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m", help="a pinned model the embedded backend loads")
    parser.add_argument("--texts", type=int, default=24, help="texts from samples/comments.txt (repeated to fill)")
    parser.add_argument("--reps", type=int, default=3, help="one-shot CLI processes timed")
    parser.add_argument("--concurrency", type=int, default=4, help="clients at once in the second load")
    args = parser.parse_args()
    lines = [line for line in (SAMPLES / "comments.txt").read_text("utf-8").splitlines() if line.strip()]
    # Each text distinct (a numbered suffix), so that no layer can answer one from another.
    texts = [f"{lines[i % len(lines)]} ({i})" for i in range(args.texts)]
    with tempfile.TemporaryDirectory() as home:
        models = os.environ.get("TACTFUL_MODELS_DIR") or os.path.expanduser("~/.cache/tactful/models")
        env = {**os.environ, "XDG_CONFIG_HOME": f"{home}/config", "XDG_CACHE_HOME": f"{home}/cache",
               "TACTFUL_MODELS_DIR": models}
        classify_seconds(args.model, texts[:1], env)  # saves the prompt state, as a user's second run finds it
        one_shot = [classify_seconds(args.model, [text], env)[0] for text in texts[:args.reps]]
        batch, judging = classify_seconds(args.model, texts, env)
        steady = judging / len(texts)
        print(f"model {args.model}, {len(texts)} texts, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        print(f"{'CLI one-shot (process per text)':34} median {statistics.median(one_shot):6.3f} s")
        print(f"{'CLI steady state':34} {steady * 1000:7.1f} ms/text  ({len(texts)} texts judged in {judging:.2f} s; process {batch:.2f} s)")
        proc, url, ready = start_server(args.model, env, args.concurrency)
        try:
            with httpx.Client() as client:
                first = timed_request(client, url, "the first text after ready")
            print(f"{'server start to ready':34} {ready:6.3f} s;  first verdict after ready {first * 1000:.1f} ms")
            report("server, concurrency 1", *load(url, texts, 1))
            report(f"server, concurrency {args.concurrency}", *load(url, texts, args.concurrency))
            print(f"load average at the end {os.getloadavg()[0]:.1f}")
        finally:
            proc.terminate()
            proc.wait(60)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
