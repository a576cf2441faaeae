"""Label a JSONL export with tactful on a Ray cluster: the records `tactful classify` writes.

    python cluster_job.py --address auto --profile tactful.toml --backend openai \
        --host http://gpu1:8000/v1 --host http://gpu2:8000/v1 --actors 4 export/*.jsonl labelled/

Each actor builds one ``tactful.Moderator`` and judges a batch of numbered lines at a time;
every input line that is not blank comes out once, in input order, as the record the CLI
writes for it (a line that cannot be read or judged is an error record). The output folder
holds one JSONL file per block, in order by name: ``tactful eval labelled/*.jsonl`` reads them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
from typing import Any

import ray
from ray.data import ActorPoolStrategy, DataContext, SaveMode
from ray.data.block import BlockAccessor
from ray.data.datasource import BlockBasedFileDatasink
from tactful import Moderator


def numbered_lines(file: dict[str, Any]) -> list[dict[str, Any]]:
    """A file's lines, numbered from 1 as `tactful classify` numbers them."""
    lines = enumerate(io.BytesIO(file["bytes"]), start=1)
    return [{"path": file["path"], "line": number, "raw": raw} for number, raw in lines]


class ModerateBatch:
    """One moderator per actor, built once; each call judges a batch of lines in order."""

    def __init__(self, profile: str | None, backend: str | None, hosts: list[str], jobs: int) -> None:
        self.moderator = Moderator.from_profile(profile, backend=backend, hosts=hosts)
        self.jobs = jobs  # requests in flight per host, from this actor

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        lines = zip(batch["path"], batch["line"], batch["raw"])
        records = self.moderator.classify_lines(lines, jobs=self.jobs)
        return {"record": [json.dumps(record, ensure_ascii=False) for record in records]}


class JsonLines(BlockBasedFileDatasink):
    """One JSONL file per block. A retried block rewrites its own file, never adds one."""

    def __init__(self, path: str) -> None:
        # An existing folder is refused: files from an earlier run would be read twice.
        super().__init__(path, file_format="jsonl", mode=SaveMode.ERROR)

    def write_block_to_file(self, block: BlockAccessor, file: Any) -> None:
        for record in block.to_arrow().column("record").to_pylist():
            file.write((record + "\n").encode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", help="JSONL files (or folders) to label")
    parser.add_argument("output", help="folder to create for the labelled JSONL files")
    parser.add_argument("--address", help="the Ray cluster's address ('auto': the one this machine is in); none: start one here")
    parser.add_argument("--profile", help="tactful profile (TOML), found as the CLI finds it if not given")
    parser.add_argument("--backend", help="ollama, embedded or openai (default: the profile's)")
    parser.add_argument("--host", action="append", default=[], help="a model server; repeat for several")
    parser.add_argument("--actors", type=int, default=2, help="actors, each with one Moderator")
    parser.add_argument("--cpus-per-actor", type=float, default=1.0,
                        help="CPUs each actor holds: its model's threads (embedded); a fraction for a client of servers")
    parser.add_argument("--jobs", type=int, default=2, help="requests in flight per host from each actor")
    parser.add_argument("--batch-size", type=int, default=64, help="lines each actor judges per call")
    args = parser.parse_args()
    if os.path.exists(args.output):
        parser.error(f"{args.output} exists: name a new folder, so no record is written twice")

    ray.init(address=args.address)
    DataContext.get_current().execution_options.preserve_order = True  # blocks leave in input order
    lines = ray.data.read_binary_files(args.inputs, include_paths=True).flat_map(numbered_lines)
    labelled = lines.map_batches(
        ModerateBatch,
        fn_constructor_kwargs={"profile": args.profile, "backend": args.backend, "hosts": args.host, "jobs": args.jobs},
        batch_size=args.batch_size,
        # An actor whose process dies is restarted, and the batch it held is sent again.
        compute=ActorPoolStrategy(size=args.actors),
        num_cpus=args.cpus_per_actor,  # leave CPUs for the read and write tasks too, or they wait
        max_restarts=-1,
        max_task_retries=-1,
    )
    labelled.write_datasink(JsonLines(args.output))


if __name__ == "__main__":
    main()
