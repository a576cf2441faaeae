"""Labelling a large export in parallel with tactful's Python API (README, "Scale-out").

One ``Moderator`` per worker process, built once and called per partition (a batch of
rows). ``ModerateBatch`` is the callable class a data engine maps over batches; it runs
as is under Ray Data::

    import ray
    ds = ray.data.read_json("posts.jsonl")
    ds = ds.map_batches(ModerateBatch, fn_constructor_kwargs={"profile": "tactful.toml",
                        "hosts": ["http://gpu1:8000/v1", "http://gpu2:8000/v1"], "backend": "openai"},
                        concurrency=4, batch_size=256, batch_format="numpy")
    ds.write_json("labelled/")

``label_partitions`` does the same with the standard library's process pool, and is what
the test suite runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from tactful import Moderator


class ModerateBatch:
    """Adds flagged, labels, scores and error columns to a batch with a "text" column."""

    def __init__(self, profile: str | None = None, backend: str | None = None,
                 hosts: Sequence[str] | None = None, jobs: int = 2) -> None:
        self.moderator = Moderator.from_profile(profile, backend=backend, hosts=hosts)
        self.jobs = jobs  # requests in flight per host, from this worker

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        records = self.moderator.classify([str(text) for text in batch["text"]], jobs=self.jobs)
        verdicts = [record["moderation"] for record in records]
        return {
            **batch,
            "flagged": [v["flagged"] for v in verdicts],
            "labels": [v["labels"] for v in verdicts],
            "scores": [v.get("scores") for v in verdicts],
            "error": [v["error"] for v in verdicts],
        }


_worker: ModerateBatch | None = None


def _start_worker(options: dict[str, Any]) -> None:
    global _worker  # one per process: the process pool's way of keeping state per worker
    _worker = ModerateBatch(**options)


def _label(texts: list[str]) -> list[dict[str, Any]]:
    assert _worker is not None
    batch = _worker({"text": texts})
    return [{"text": text, **{key: batch[key][i] for key in ("flagged", "labels", "scores", "error")}}
            for i, text in enumerate(texts)]


def label_partitions(partitions: Sequence[Sequence[str]], workers: int = 2, **options: Any) -> list[list[dict[str, Any]]]:
    """Each partition's rows labelled, partitions in order, ``workers`` processes at once."""
    with ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(options,)) as pool:
        return list(pool.map(_label, [list(part) for part in partitions]))
