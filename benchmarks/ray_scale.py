"""Ray Data against the CLI: records/s with 1 and 2 actors, and the time Ray adds per record.

Judges the same texts (SMS messages from ../shared/bench, split over four JSONL files)
with the embedded SmolLM2 in four ways, each run end to end as a user runs it:

- `tactful classify --jobs 1` and `--jobs 2` (one process, llama.cpp on both cores);
- `samples/cluster_job.py` on a local Ray cluster of this machine's two CPUs, with one actor
  (the model on two threads) and with two actors (one thread each).

Each setup runs at two sizes, and the difference gives its time per record without the
fixed start-up (process, cluster connection, actors, model load), which the smaller run
alone gives too. Ray's overhead per record is the one-actor job's time per record less
the CLI's at --jobs 1: the same model on the same threads, with Ray's reading, batching,
moving and writing in between.

Usage (from the repository root, with tactful[embedded,ray] and the fetched SmolLM2)::

    nice -n 10 python benchmarks/ray_scale.py --small 16 --large 96 --out /tmp/ray_scale.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tactful.paths import ENV_MODELS_DIR, models_dir

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "sms-spam" / "dev.jsonl"
RECIPE = ROOT / "samples" / "cluster_job.py"
FILES = 4  # the export's parts: Ray reads one file per task, as a cluster would


def texts(limit: int) -> list[str]:
    if DATA.is_file():
        rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
        return [row["text"] for row in rows][:limit]
    lines = [line for line in (ROOT / "samples" / "comments.txt").read_text().splitlines() if line.strip()]
    return [lines[i % len(lines)] + f" ({i})" for i in range(limit)]


def export(folder: Path, items: list[str]) -> list[Path]:
    folder.mkdir(parents=True)
    paths = [folder / f"part-{part}.jsonl" for part in range(FILES)]
    for part, path in enumerate(paths):
        path.write_text("".join(json.dumps({"id": i, "text": text}) + "\n"
                                for i, text in enumerate(items) if i % FILES == part))
    return paths


def profile(folder: Path, threads: int) -> Path:
    path = folder / f"threads-{threads}.toml"
    path.write_text(f'version = 1\n[model]\nbackend = "embedded"\nname = "smollm2-135m"\n'
                    f'[model.options]\nnum_thread = {threads}\n[categories.spam]\nblocked = true\n')
    return path


def timed(command: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    """Seconds the command took; stop on an exit code not in ``ok`` (classify: 1 is "flagged")."""
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, check=False)
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - started


def cli(jobs: int, threads: int) -> Callable[[Path, list[Path], Path, dict[str, str]], float]:
    def run(work: Path, inputs: list[Path], output: Path, env: dict[str, str]) -> float:
        return timed([sys.executable, "-m", "tactful", "classify", "-p", str(profile(work, threads)), "--no-cache",
                      "--jobs", str(jobs), "-o", str(output), *map(str, inputs)], env, ok=(0, 1))
    return run


def ray_job(address: str, actors: int, threads: int) -> Callable[[Path, list[Path], Path, dict[str, str]], float]:
    def run(work: Path, inputs: list[Path], output: Path, env: dict[str, str]) -> float:
        # The cluster has 2 CPUs: the actors hold one between them, Ray's read and write tasks the other.
        return timed([sys.executable, str(RECIPE), "--address", address, "--profile", str(profile(work, threads)),
                      "--actors", str(actors), "--cpus-per-actor", str(1 / actors), "--batch-size", "8",
                      *map(str, inputs), str(output)], env)
    return run


def check_judged(output: Path, n: int, setup: str) -> None:
    """Stop unless the run wrote n records, each judged (a fast run of error records times nothing)."""
    files = sorted(output.glob("*.jsonl")) if output.is_dir() else [output]
    records = [json.loads(line) for path in files for line in path.read_text("utf-8").splitlines() if line.strip()]
    errors = [r["moderation"]["error"] for r in records if r["moderation"].get("error")]
    if len(records) != n or errors:
        raise SystemExit(f"{setup}: {len(records)} records of {n}, {len(errors)} errors ({errors[:1]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=16, help="records in the smaller run")
    parser.add_argument("--large", type=int, default=96, help="records in the larger run")
    parser.add_argument("--out", type=Path, help="write the measurements here as JSON too")
    args = parser.parse_args()
    # Loopback only: Ray's switch for a one-machine cluster, read when it is first imported.
    # A fresh cache (no saved prompt state from an earlier run), the fetched models kept.
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", ENV_MODELS_DIR: str(models_dir()),
           "XDG_CACHE_HOME": tempfile.mkdtemp()}
    os.environ.update(env)
    import ray

    address = ray.init(num_cpus=2, include_dashboard=False).address_info["gcs_address"]
    # What ray.init put in the environment (the cluster's auth token among it) must reach
    # the job's driver, or it cannot join the cluster.
    env = {**os.environ}
    setups = {
        "tactful classify --jobs 1 (2 threads)": cli(1, 2),
        "tactful classify --jobs 2 (2 threads)": cli(2, 2),
        "Ray Data, 1 actor (2 threads)": ray_job(address, 1, 2),
        "Ray Data, 2 actors (1 thread each)": ray_job(address, 2, 1),
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        inputs = {n: export(work / f"in-{n}", texts(n)) for n in (args.small, args.large)}
        for name, run in setups.items():
            seconds = {}
            for n in inputs:
                output = work / f"out-{len(rows)}-{n}"
                seconds[n] = run(work, inputs[n], output, env)
                check_judged(output, n, name)
            per_record = (seconds[args.large] - seconds[args.small]) / (args.large - args.small)
            rows.append({"setup": name, "seconds": seconds, "per_record": per_record,
                         "start_up": seconds[args.small] - per_record * args.small})
            print(f"{name}: {seconds}", file=sys.stderr, flush=True)
    ray.shutdown()
    report(rows, args.small, args.large)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2))


def report(rows: list[dict[str, object]], small: int, large: int) -> None:
    print(f"| setup | s for {small} | s for {large} | s/record | records/s | fixed start-up, s |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        seconds, per = row["seconds"], float(row["per_record"])  # type: ignore[arg-type]
        assert isinstance(seconds, dict)
        print(f"| {row['setup']} | {seconds[small]:.1f} | {seconds[large]:.1f} | {per:.3f} | {1 / per:.2f} | {row['start_up']:.1f} |")
    overhead = float(rows[2]["per_record"]) - float(rows[0]["per_record"])  # type: ignore[arg-type]
    print(f"\nRay's overhead per record (1 actor less the CLI at --jobs 1): {overhead * 1000:.0f} ms")


if __name__ == "__main__":
    main()
