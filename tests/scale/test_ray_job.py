"""samples/cluster_job.py, the Ray Data recipe of docs/ray.md, run as a user runs it.

The test starts a local Ray cluster (two CPUs, loopback only) and runs the recipe's file
with ``--address`` pointing at it, over a JSONL export in several files with bad lines in
it: with the embedded SmolLM2 in each actor, one actor's process killed mid-run; and with
two llama-cpp-python servers behind ``--host``, one server killed mid-run. Each time the
files Ray writes, read in name order, are byte for byte what `tactful classify` writes for
the same input and profile: every record once, in order, error records included.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tactful.paths import ENV_MODELS_DIR

from tests.conftest import REAL_MODELS_DIR, ROOT
from tests.llama_server import llama_server
from tests.support.realmodel import MODEL, REAL_MODEL

RECIPE = ROOT / "samples" / "cluster_job.py"
pytestmark = [pytest.mark.ray, *REAL_MODEL]

TEXTS = ["WINNER!! Claim your free prize now, call 09061701461", "Are we still on for lunch at noon?",
         "URGENT: your account is blocked, click http://bit.ly/x to verify", "Thanks for the notes from today"]


def _require_ray() -> None:
    # Found, not imported: Ray reads its settings from the environment when first imported.
    if importlib.util.find_spec("ray") is None:
        problem = "ray is not installed (pip install -e '.[ray]')"
        if os.environ.get("TACTFUL_REQUIRE_REAL_MODEL") == "1":
            pytest.fail(problem)
        pytest.skip(problem)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local two-CPU Ray cluster on the loopback address; its address, for ``--address``.

    Its workers inherit the environment it starts in, not the tests' own isolation (per
    test, later): a cache of their own, the fetched models, quick retries.
    """
    _require_ray()
    env = {"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("ray-cache")), ENV_MODELS_DIR: str(REAL_MODELS_DIR),
           "TACTFUL_RETRY_BASE_DELAY": "0.01",
           # Ray's switch for a one-machine cluster: 127.0.0.1, not the machine's address,
           # for the cluster and for the recipe's process that joins it.
           "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        import ray

        context = ray.init(num_cpus=2, include_dashboard=False)
        address = str(context.address_info["gcs_address"])
        assert address.startswith("127.0.0.1:"), address
        try:
            yield address
        finally:
            ray.shutdown()


def export(folder: Path) -> list[Path]:
    """A labelled JSONL export in three files, with a blank line, bad JSON, bad bytes and a
    record without text among the posts."""
    folder.mkdir()
    files = []
    for part in range(3):
        lines = [json.dumps({"id": f"p{part}-{i}", "text": TEXTS[(part + i) % 4] + f" ({part}.{i})",
                             "label": "spam" if (part + i) % 2 == 0 else "ham"}).encode() for i in range(5)]
        lines.insert(2, [b"not json", b"", b'{"id": 9, "body": "no text field"}'][part])
        if part == 1:
            lines.append(b'{"id": "latin-1", "text": "caf\xe9", "label": "ham"}')
        path = folder / f"part-{part}.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        files.append(path)
    return files


def spam_profile(path: Path) -> Path:
    # One thread per model: two actors share the two CPUs.
    path.write_text('version = 1\n[model]\nbackend = "embedded"\nname = "smollm2-135m"\n'
                    '[model.options]\nnum_thread = 1\n[categories.spam]\nblocked = true\n', encoding="utf-8")
    return path


@dataclass
class JobRun:
    output: Path
    written: bytes  # the output files, read in name order
    files: int
    stderr: str


def run_recipe(address: str, inputs: list[Path], output: Path, *args: str,
               mid_run: Callable[[subprocess.Popen[str]], None] | None = None) -> JobRun:
    """``python samples/cluster_job.py`` against the cluster; ``mid_run`` is called once
    the first output file is written while the job still runs (a fault to survive)."""
    command = [sys.executable, str(RECIPE), "--address", address, "--actors", "2", "--cpus-per-actor", "0.5",
               "--batch-size", "2", *args, *map(str, inputs), str(output)]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as job:
        if mid_run is not None:
            deadline = time.monotonic() + 300
            while job.poll() is None and time.monotonic() < deadline and not any(output.glob("*.jsonl")):
                time.sleep(0.2)
            assert job.poll() is None, "the job ended before the fault could be played"
            mid_run(job)
        _, err = job.communicate(timeout=600)
    assert job.returncode == 0, err[-3000:]
    files = sorted(output.glob("*.jsonl"))
    return JobRun(output, b"".join(path.read_bytes() for path in files), len(files), err)


def cli_output(cli, tmp_path: Path, inputs: list[Path], *args: str) -> bytes:  # type: ignore[no-untyped-def]
    out = tmp_path / "cli.jsonl"
    run = cli("classify", "--no-cache", "-o", str(out), *args, *map(str, inputs))
    assert run.code == 0, run.stderr
    return out.read_bytes()


def map_workers() -> list[int]:
    """The recipe's actors on this machine, by process title (Ray names them after the class)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            title = (entry / "cmdline").read_bytes()
        except OSError:  # not a process, or it ended meanwhile
            continue
        if entry.name.isdigit() and title.startswith(b"ray::MapWorker(MapBatches(ModerateBatch))"):
            pids.append(int(entry.name))
    return pids


def kill_one_actor(job: subprocess.Popen[str]) -> None:
    """SIGKILL one of the two actors, and wait for Ray to start another in its place, or for
    the job to end first (the surviving actor may finish every batch, the killed one's
    retried, before a replacement is up on a loaded machine: the output says whether
    nothing was lost)."""
    workers = map_workers()
    assert len(workers) == 2, workers
    os.kill(workers[0], signal.SIGKILL)
    deadline = time.monotonic() + 300
    while not set(map_workers()) - set(workers) and job.poll() is None:
        assert time.monotonic() < deadline, "Ray neither restarted the killed actor nor finished the job"
        time.sleep(0.2)


# ---------------------------------------------------------------- embedded SmolLM2 in each actor


@pytest.fixture(scope="module")
def embedded_job(cluster: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path, JobRun]:
    """The recipe over the export with the embedded model, one actor killed mid-run."""
    base = tmp_path_factory.mktemp("embedded")
    inputs, profile = export(base / "in"), spam_profile(base / "spam.toml")
    job = run_recipe(cluster, inputs, base / "out", "--profile", str(profile), mid_run=kill_one_actor)
    return inputs, profile, job


def test_an_actor_killed_mid_run_still_gives_the_cli_records_once_in_order(embedded_job, cli, tmp_path):
    inputs, profile, job = embedded_job
    expected = cli_output(cli, tmp_path, inputs, "-p", str(profile))
    assert job.written.decode() == expected.decode()  # decisions, scores, provenance, errors: all of it
    records = [json.loads(line) for line in job.written.splitlines()]
    assert len(records) == 18  # the 19 lines of the export but the blank one
    assert sum(record["moderation"]["error"] is not None for record in records) == 3
    assert job.files > 1  # one file per block


def test_eval_reads_the_files_ray_wrote(embedded_job, cli):
    _, profile, job = embedded_job
    run = cli("eval", "-p", str(profile), "--map", "spam=spam", "--map", "ham=none", "--json", str(job.output / "*.jsonl"))
    assert run.code == 0, run.stderr
    # eval judges the texts again, with the same profile: the decisions the files hold.
    judged = [json.loads(line) for line in job.written.splitlines()]
    pairs = Counter(("flagged" if record["label"] == "spam" else "acceptable",
                     "flagged" if record["moderation"]["flagged"] else "acceptable")
                    for record in judged if record["moderation"]["error"] is None)
    report = json.loads(run.stdout)["data"]
    assert report["n"] == 15  # the labelled records of all three files; the error records are not scored
    assert {(gold, said): n for gold, row in report["confusion"].items() for said, n in row.items() if n} == dict(pairs)


# ---------------------------------------------------------------- actors calling two servers


def test_a_server_killed_mid_run_still_gives_the_cli_records_once_in_order(cluster, cli, tmp_path):
    inputs, profile = export(tmp_path / "in"), spam_profile(tmp_path / "spam.toml")
    with llama_server() as (kept, _), llama_server() as (doomed, server):
        hosts = ["--backend", "openai", "--host", kept, "--host", doomed]
        job = run_recipe(cluster, inputs, tmp_path / "out", "--profile", str(profile), *hosts,
                         mid_run=lambda _job: server.kill())
        expected = cli_output(cli, tmp_path, inputs, "-p", str(profile), "--backend", "openai", "--host", kept)
    assert job.written.decode() == expected.decode()
    assert all(json.loads(line)["moderation"]["model"] == MODEL for line in job.written.splitlines())
