#!/usr/bin/env python3
"""What a learner gets out of a few labels: quality against the number of labelled texts.

On every dev split (whole), binary mode with the set's categories blocked, each text is
judged once and cached under --cache (per model and set): the prompt's probability, the
hidden state at the answer position of tactful's prompt ("prompt" representation), the
mean of the model's token states for the bare text ("text" representation, `embed` with
the chat model), and the seconds each took. Then, for N in --sizes labelled texts picked
at random (N/2 of each class; --draws draws) or by `tactful review`'s own session (its
queue and its refit every 5 answers over a random 80% of the split, the gold label playing
the moderator), every candidate of `tactful.learning.choose` is fitted on the N and
judged on the rest of the split, as is the candidate that cross-validation on the N chose. Prints markdown rows: F1 and FPR on
the rest (mean over draws), and s/text of each decision path.

    nice -n 10 python benchmarks/learning.py --bench ../shared/bench \\
        --backend embedded --model qwen2.5-coder-1.5b
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
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
from tactful.engine.answer import Contract
from tactful.errors import UsageError
from tactful.evaluation.calibration import quality_at
from tactful.learning import choose
from tactful.moderator import Moderator
from tactful.records import InputRecord
from tactful.review.labels import LabelsFile
from tactful.review.refit import LearnerRefit
from tactful.review.session import Judged, Session
from tactful.settings import Overrides, Settings, resolve

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
    """Every text of the split judged once, in a seeded random order; each text's line is
    appended to the cache as soon as it is judged, so a stopped run resumes where it was,
    and with --limit (or a run stopped early) the cached texts are a random sample."""
    rows = load_rows(args.bench, dataset)
    order = list(range(len(rows)))
    random.Random(0).shuffle(order)
    path = args.cache / args.model / f"{dataset}.jsonl"
    done = _read_cache(path)
    todo = [rows[i] for i in order if str(rows[i]["id"]) not in done][: max(0, args.limit - len(done))]
    if todo and not args.cached_only:
        _judge_into(path, dataset, todo, args)
        done = _read_cache(path)
    _, positives = DATASETS[dataset]
    kept = [rows[i] for i in order if str(rows[i]["id"]) in done]
    lines = [done[str(row["id"])] for row in kept]
    return Cached([str(row["id"]) for row in kept], np.array([is_positive(row, positives) for row in kept]),
                  np.array([line["probability"] for line in lines]), np.array([line["prompt"] for line in lines]),
                  np.array([line["text"] for line in lines]), np.array([line["probe_s"] for line in lines]),
                  np.array([line["embed_s"] for line in lines]))


def _read_cache(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.endswith("}")]
    return {line["id"]: line for line in lines}


def set_settings(dataset: str, args: argparse.Namespace) -> Settings:
    """Binary mode with the set's categories blocked, as a moderator would write it."""
    slugs, _ = DATASETS[dataset]
    work = Path(tempfile.mkdtemp(prefix="tactful-learning-"))
    blocked = "".join(f"[categories.{slug}]\nblocked = true\n" for slug in slugs)
    # One thread: on a machine shared with other work, llama.cpp's threads wait for one
    # another at every layer, and a second thread slows a run down instead of speeding it up.
    (work / "profile.toml").write_text(f'version = 1\n[model]\nembedding = "{args.model}"\n'
                                       f'options = {{ num_thread = {args.threads} }}\n{blocked}', "utf-8")
    return resolve(Overrides(profile=work / "profile.toml", model=args.model, backend=args.backend, mode="binary"))


def _judge_into(path: Path, dataset: str, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """Judge ``rows`` with the prompt (its probability and hidden state) and embed their bare
    texts, appending one line per text to ``path``."""
    settings = set_settings(dataset, args)
    backend = open_backend(settings.profile.model)
    embedder = open_embedder(settings.profile.model)
    path.parent.mkdir(parents=True, exist_ok=True)
    with Moderator(settings, backend=backend, check_calibration=False) as moderator, path.open("a", encoding="utf-8") as out:
        queries = moderator.answer_openings()
        assert queries is not None
        for number, row in enumerate(rows, start=1):
            request = moderator.first_request(InputRecord(str(number), row["text"], row, f"{dataset} {number}"))
            started = time.perf_counter()
            probe = backend.probe(ProbeRequest(request.messages, queries, state=True))  # type: ignore[attr-defined]
            probe_s = time.perf_counter() - started
            started = time.perf_counter()
            (vector,) = embedder.embed([row["text"]])
            embed_s = time.perf_counter() - started
            line = {"id": str(row["id"]), "probability": probe.distributions[0][" true"], "probe_s": probe_s,
                    "embed_s": embed_s, "prompt": [round(x, 5) for x in probe.state], "text": [round(x, 6) for x in vector]}
            out.write(json.dumps(line) + "\n")
            out.flush()
            print(f"  {dataset}: {number}/{len(rows)} ({probe_s:.1f} s + {embed_s:.1f} s)", file=sys.stderr, flush=True)
    backend.close()
    embedder.close()


# ---------------------------------------------------------------- quality against labels


@dataclass(frozen=True)
class Method:
    """One way to decide, fitted on the labelled texts: a candidate on one representation,
    the cross-validated choice, or the prompt at 0.5 (no labels)."""

    name: str
    candidate: str | None  # a choose candidate; None: the CV choice (or the bare prompt, with no representation)
    representation: str | None


METHODS = (
    Method("prompt at 0.5", None, None),
    Method("threshold", choose.PROBABILITY, None),
    Method("head (text)", choose.HEAD, "text"),
    Method("head (prompt)", choose.HEAD, "prompt"),
    Method("combined (text)", choose.COMBINED, "text"),
    Method("combined (prompt)", choose.COMBINED, "prompt"),
    Method("CV choice (text)", None, "text"),
    Method("CV choice (prompt)", None, "prompt"),
)


def decisions(method: Method, cached: Cached, picked: list[int], rest: list[int], args: argparse.Namespace,
              chosen: dict[str, str]) -> list[bool]:
    """``method`` fitted on the ``picked`` texts, deciding the ``rest``."""
    if method.name == "prompt at 0.5":
        return [bool(cached.probability[i] >= 0.5) for i in rest]
    vectors = getattr(cached, method.representation) if method.representation else None
    truth = [bool(cached.truth[i]) for i in picked]
    probabilities = [float(cached.probability[i]) for i in picked]
    picked_vectors = vectors[picked] if vectors is not None else None
    candidate = method.candidate
    if candidate is None:
        choice = choose.cross_validate(truth, probabilities=probabilities, vectors=picked_vectors,
                                       max_fpr=args.max_fpr, repeats=args.repeats)
        candidate = chosen[method.name] = choice.winner
    rule = choose.fit(candidate, truth, probabilities=probabilities,
                      vectors=picked_vectors if candidate != choose.PROBABILITY else None, max_fpr=args.max_fpr)
    return [choose.apply(rule, float(cached.probability[i]), vectors[i] if vectors is not None else None) >= rule.threshold
            for i in rest]


def draw(truth: np.ndarray, n: int, rng: random.Random) -> list[int] | None:
    """n/2 texts of each class at random; None when a class has too few left to judge the rest on."""
    positives = [i for i, t in enumerate(truth) if t]
    negatives = [i for i, t in enumerate(truth) if not t]
    if min(len(positives), len(negatives)) < n // 2 + 2:
        return None
    return rng.sample(positives, n // 2) + rng.sample(negatives, n // 2)


def review_draw(dataset: str, cached: Cached, n: int, rng: random.Random, args: argparse.Namespace) -> list[int] | None:
    """The n texts `tactful review` asks about, its gold label playing the moderator.

    The export is a random POOL_SHARE of the split (so that draws differ); the review
    session, its queue and its refit every REFIT_EVERY answers are the product's own.
    """
    if n > POOL_SHARE * len(cached.ids) - 4:
        return None
    slugs, _ = DATASETS[dataset]
    contract = Contract.for_profile(set_settings(dataset, args).profile)
    pool = rng.sample(range(len(cached.ids)), int(POOL_SHARE * len(cached.ids)))
    texts = {row["id"]: row["text"] for row in load_rows(args.bench, dataset)}
    judged = [Judged(cached.ids[i], texts[cached.ids[i]], dataset, {"flagged": float(cached.probability[i])},
                     bool(cached.probability[i] >= 0.5), ()) for i in pool]
    index = {cached.ids[i]: i for i in pool}
    with tempfile.TemporaryDirectory() as work:
        session = Session(judged, LabelsFile(Path(work) / "labels.jsonl"), contract)
        # The refit centres the queue on the threshold it fits (whatever rule wins), so the
        # representations, which cost a review an embedding per text, change no pick here.
        refit = LearnerRefit(contract, max_fpr=args.max_fpr)
        while len(session.answers) < n and session.current is not None:
            gold = bool(cached.truth[index[session.current.id]])
            session.answer((slugs[0],) if gold else ())
            if len(session.answers) % REFIT_EVERY == 0:
                session.refitted(refit(session.answers))
        return [index[a.id] for a in session.answers]


PICKERS = ("random", "review")
POOL_SHARE = 0.8
REFIT_EVERY = 5  # tactful review's default --refit-every


def learning_curve(dataset: str, cached: Cached, args: argparse.Namespace, picker: str) -> None:
    rng = random.Random(args.seed)
    for n in args.sizes:
        if picker == "random":
            draws = [draw(cached.truth, n, rng) for _ in range(args.draws)]
        else:
            draws = [review_draw(dataset, cached, n, rng, args) for _ in range(args.draws)]
        if draws[0] is None:
            print(f"| {dataset} | {picker} | {n} | (too few texts) | | | |", flush=True)
            continue
        outcome: dict[str, list[tuple[float, float]]] = {m.name: [] for m in METHODS}
        wins: dict[str, list[str]] = {m.name: [] for m in METHODS if m.candidate is None and m.representation}
        unfit: dict[str, int] = {m.name: 0 for m in METHODS}
        positives = []
        for picked in draws:
            assert picked is not None
            positives.append(int(sum(cached.truth[i] for i in picked)))
            taken = set(picked)
            rest = [i for i in range(len(cached.ids)) if i not in taken]
            gold = [bool(cached.truth[i]) for i in rest]
            for method in METHODS:
                chosen: dict[str, str] = {}
                try:
                    flagged = decisions(method, cached, picked, rest, args, chosen)
                except UsageError:  # a class with too few labels: the user keeps the prompt at 0.5
                    unfit[method.name] += 1
                    flagged = decisions(METHODS[0], cached, picked, rest, args, chosen)
                quality = quality_at([float(f) for f in flagged], gold, 0.5)
                outcome[method.name].append((quality.f1, quality.fpr))
                if method.name in chosen:
                    wins[method.name].append(chosen[method.name])
        for method in METHODS:
            f1s, fprs = [q[0] for q in outcome[method.name]], [q[1] for q in outcome[method.name]]
            notes = []
            if method.name in wins:
                counts = {name: wins[method.name].count(name) for name in choose.CANDIDATES}
                notes += [f"{name} {count}" for name, count in counts.items() if count]
            if unfit[method.name]:
                notes.append(f"{unfit[method.name]} draws could not fit")
            print(f"| {dataset} | {picker} ({statistics.fmean(positives):.0f} harmful) | {n} | {method.name} "
                  f"| {statistics.fmean(f1s):.2f} +/- {_sd(f1s):.2f} "
                  f"| {statistics.fmean(fprs):.2f} +/- {_sd(fprs):.2f} | {', '.join(notes)} |", flush=True)


def _sd(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", type=Path, default=Path("/work/shared/bench"))
    parser.add_argument("--dataset", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--backend", default="embedded")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/learn"))
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (default 1)")
    parser.add_argument("--features-only", action="store_true", help="judge and cache every text, print nothing else")
    parser.add_argument("--cached-only", action="store_true", help="judge nothing: use the texts already cached")
    parser.add_argument("--limit", type=int, default=10**9, help="judge at most N texts per set (a random sample)")
    parser.add_argument("--picks", nargs="+", choices=PICKERS, default=list(PICKERS),
                        help="who picks the labelled texts: at random (half of each class) or tactful review")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 40, 80])
    parser.add_argument("--draws", type=int, default=10, help="random label sets per size (default 10)")
    parser.add_argument("--repeats", type=int, default=5, help="cross-validation repeats inside each draw (default 5)")
    parser.add_argument("--max-fpr", type=float, default=choose.DEFAULT_MAX_FPR)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cached = {}
    for dataset in args.dataset:
        started = time.perf_counter()
        cached[dataset] = features(dataset, args)
        print(f"{dataset}: {len(cached[dataset].ids)} texts cached, {cached[dataset].truth.sum()} positive; "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    if args.features_only:
        return
    print(f"{args.model} on {args.backend}, binary; F1 and FPR on the texts not labelled, mean +/- sd over "
          f"{args.draws} random draws; CV: {args.repeats} x 5-fold, FPR cap {args.max_fpr:g}")
    print("| set | picks | labels | decides | F1 | FPR | CV chose |")
    print("|---|---|---|---|---|---|---|", flush=True)
    for dataset in args.dataset:
        for picker in args.picks:
            learning_curve(dataset, cached[dataset], args, picker)
    print()
    print("| set | s/text: prompt (probability, combined, head on the prompt) | s/text: bare text (head on the text) |")
    print("|---|---|---|")
    for dataset in args.dataset:
        c = cached[dataset]
        print(f"| {dataset} | {np.median(c.probe_s):.2f} (mean {c.probe_s.mean():.2f}) "
              f"| {np.median(c.embed_s):.2f} (mean {c.embed_s.mean():.2f}) |")


if __name__ == "__main__":
    main()
