#!/usr/bin/env python3
"""What a learner gets out of a few labels: quality against the number of labelled texts.

On every dev split (whole), binary mode with the set's categories blocked, each text is
judged once and cached under --cache (per model and set): the prompt's probability, the
hidden state at the answer position of tactful's prompt ("prompt" representation), the
mean of the model's token states for the bare text ("text" representation, `embed` with
the chat model), and the seconds each took. Then, for N in --sizes labelled texts picked
at random (N/2 of each class; --draws draws), every candidate of
`tactful.learning.choose` is fitted on the N and judged on the rest of the split, as is
the candidate that cross-validation on the N chose. Prints markdown rows: F1 and FPR on
the rest (mean over draws), and s/text of each decision path.

    nice -n 10 python benchmarks/learning.py --bench ../shared/bench \\
        --backend embedded --model qwen2.5-coder-1.5b
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from calibration import (
    DATASETS,  # benchmarks/calibration.py: blocked categories and gold labels per set
)
from tactful.backends import open_backend, open_embedder
from tactful.backends.base import ProbeRequest
from tactful.moderator import Moderator
from tactful.records import InputRecord
from tactful.settings import Overrides, resolve

ROOT = Path(__file__).resolve().parent.parent
REPRESENTATIONS = ("text", "prompt")


@dataclass
class Cached:
    ids: list[str]
    truth: np.ndarray
    probability: np.ndarray
    prompt: np.ndarray  # hidden state at the answer position
    text: np.ndarray  # mean of the bare text's token states
    probe_s: np.ndarray  # seconds: the prompt judged (state read with it)
    embed_s: np.ndarray  # seconds: the bare text embedded


def load_rows(bench: Path, dataset: str) -> list[dict[str, Any]]:
    lines = (bench / dataset / "dev.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def is_positive(row: dict[str, Any], positives: set[str]) -> bool:
    labels = row["label"] if isinstance(row["label"], list) else [row["label"]]
    return any(label in positives for label in labels)


def features(dataset: str, args: argparse.Namespace) -> Cached:
    """Every text of the split judged once; read from the cache when it holds them all."""
    slugs, positives = DATASETS[dataset]
    rows = load_rows(args.bench, dataset)
    path = args.cache / args.model / f"{dataset}.npz"
    ids = [str(row["id"]) for row in rows]
    if path.is_file():
        saved = np.load(path, allow_pickle=False)
        if saved["ids"].tolist() == ids:
            return Cached(ids, saved["truth"], saved["probability"], saved["prompt"], saved["text"],
                          saved["probe_s"], saved["embed_s"])
    work = Path(tempfile.mkdtemp(prefix="tactful-learning-"))
    blocked = "".join(f"[categories.{slug}]\nblocked = true\n" for slug in slugs)
    # One thread: on a machine shared with other work, llama.cpp's threads wait for one
    # another at every layer, and a second thread slows a run down instead of speeding it up.
    (work / "profile.toml").write_text(f'version = 1\n[model]\nembedding = "{args.model}"\n'
                                       f'options = {{ num_thread = {args.threads} }}\n{blocked}', "utf-8")
    settings = resolve(Overrides(profile=work / "profile.toml", model=args.model, backend=args.backend, mode="binary"))
    backend = open_backend(settings.profile.model)
    embedder = open_embedder(settings.profile.model)
    probability, prompt, text, probe_s, embed_s = [], [], [], [], []
    with Moderator(settings, backend=backend, check_calibration=False) as moderator:
        queries = moderator.answer_openings()
        assert queries is not None
        for number, row in enumerate(rows, start=1):
            request = moderator.first_request(InputRecord(str(number), row["text"], row, f"{dataset} {number}"))
            started = time.perf_counter()
            probe = backend.probe(ProbeRequest(request.messages, queries, state=True))  # type: ignore[attr-defined]
            probe_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            (vector,) = embedder.embed([row["text"]])
            embed_s.append(time.perf_counter() - started)
            probability.append(probe.distributions[0][" true"])
            prompt.append(probe.state)
            text.append(vector)
            if number % 10 == 0:
                print(f"  {dataset}: {number}/{len(rows)}", file=sys.stderr, flush=True)
    backend.close()
    embedder.close()
    truth = np.array([is_positive(row, positives) for row in rows])
    cached = Cached(ids, truth, np.array(probability), np.array(prompt, dtype=np.float32),
                    np.array(text, dtype=np.float32), np.array(probe_s), np.array(embed_s))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, ids=np.array(ids), truth=cached.truth, probability=cached.probability, prompt=cached.prompt,
             text=cached.text, probe_s=cached.probe_s, embed_s=cached.embed_s)
    return cached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", type=Path, default=Path("/work/shared/bench"))
    parser.add_argument("--dataset", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--backend", default="embedded")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/learn"))
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (default 1)")
    parser.add_argument("--features-only", action="store_true", help="judge and cache every text, print nothing else")
    args = parser.parse_args()
    for dataset in args.dataset:
        started = time.perf_counter()
        cached = features(dataset, args)
        print(f"{dataset}: {len(cached.ids)} texts, {cached.truth.sum()} positive; "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    if args.features_only:
        return


if __name__ == "__main__":
    main()
