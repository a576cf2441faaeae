"""What calibration buys on a dev split: F1 and FPR at 0.5 against thresholds fitted on
20 and 40 labelled texts of the same split, never the evaluated ones.

Every text of the split is scored once (`tactful classify`, binary mode, the dataset's
categories blocked: one, or three for the Mastodon posts); the first N texts of each
class are the calibration set, the rest are evaluated. Prints one markdown row per
dataset and condition, with ROC-AUC on the evaluated texts, and the time per text.

    python benchmarks/calibration.py --bench ../shared/bench --backend embedded \\
        --model qwen2.5-coder-1.5b                    # every dataset
    python benchmarks/calibration.py --dataset sms-spam sst2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tactful.evaluation.calibration import fit_threshold, quality_at, roc_auc

# dataset -> (the blocked categories, the gold labels that mean one applies)
DATASETS = {
    "sms-spam": (("spam",), {"spam"}),
    "textdetox-en": (("toxicity",), {"toxic"}),
    "paradetox-en": (("toxicity",), {"toxic"}),
    "sst2": (("negative-sentiment",), {"negative"}),
    "hatemoderate": (("hate",), {"hate"}),
    "mastodon-harmful": (("toxicity", "spam", "negative-sentiment"), {"toxic", "spam", "negative"}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", type=Path, default=Path("../shared/bench"))
    parser.add_argument("--dataset", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--backend", default="embedded")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--items", type=int, default=None, help="use the first N texts of the split (default: all)")
    args = parser.parse_args()
    print(f"{args.model} on {args.backend}")
    print("| dataset | condition | threshold | F1 | precision | recall | FPR | ROC-AUC | evaluated |")
    print("|---|---|---|---|---|---|---|---|---|", flush=True)
    for dataset in args.dataset:
        run_dataset(dataset, args)


def run_dataset(dataset: str, args: argparse.Namespace) -> None:
    slugs, positive_labels = DATASETS[dataset]
    rows = [json.loads(line) for line in (args.bench / dataset / "dev.jsonl").read_text().splitlines() if line.strip()]
    rows = rows[: args.items] if args.items else rows
    scored, seconds = score_all([row["text"] for row in rows] + list(CONTENT_FREE), slugs, args)
    scores, free = scored[: len(rows)], [s for s in scored[len(rows):] if s is not None]
    truth = [_label(row) in positive_labels for row in rows]
    if free:  # the label-free candidate: the model's leaning with no content to judge
        neutral = sum(free) / len(free)
        evaluated = [i for i in range(len(rows)) if scores[i] is not None]
        q = quality_at([scores[i] for i in evaluated], [truth[i] for i in evaluated], neutral)
        print(f"| {dataset} | content-free threshold | {neutral:.3f} | {q.f1:.3f} | {q.precision:.3f} | {q.recall:.3f} "
              f"| {q.fpr:.3f} | | {len(evaluated)} |")
    for n in (0, 20, 40):
        calibration = _first_of_each_class(truth, n // 2)
        evaluated = [i for i in range(len(rows)) if i not in calibration and scores[i] is not None]
        threshold = 0.5
        if calibration:
            fit = fit_threshold([scores[i] for i in calibration if scores[i] is not None],
                                [truth[i] for i in calibration if scores[i] is not None])
            threshold = fit.threshold if fit else 0.5
        values, gold = [scores[i] for i in evaluated], [truth[i] for i in evaluated]
        q = quality_at(values, gold, threshold)
        auc = roc_auc(values, gold)
        name = "probabilities at 0.5" if n == 0 else f"calibrated on {n}"
        print(f"| {dataset} | {name} | {threshold:.3f} | {q.f1:.3f} | {q.precision:.3f} | {q.recall:.3f} "
              f"| {q.fpr:.3f} | {'-' if auc is None else f'{auc:.3f}'} | {len(evaluated)} |")
    print(f"| {dataset} | {len(rows)} texts ({sum(truth)} positive) scored in {seconds:.0f} s: "
          f"{seconds / len(rows):.2f} s/text, model load included | | | | | | | |", flush=True)


# Inputs with no content (Zhao et al. 2021, "Calibrate before use"): the model's score
# on them is its bias under this prompt, a candidate threshold that needs no labels.
CONTENT_FREE = ("N/A", "", "[MASK]")


def score_all(texts: list[str], slugs: tuple[str, ...], args: argparse.Namespace) -> tuple[list[float | None], float]:
    work = Path(tempfile.mkdtemp(prefix="tactful-calibration-"))
    profile = work / "profile.toml"
    blocked = "".join(f"[categories.{slug}]\nblocked = true\n" for slug in slugs)
    profile.write_text(f"version = 1\n{blocked}", encoding="utf-8")
    data = work / "texts.jsonl"
    data.write_text("".join(json.dumps({"id": str(i), "text": text}) + "\n" for i, text in enumerate(texts)))
    out = work / "scored.jsonl"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tactful", "classify", str(data), "-p", str(profile), "--backend", args.backend,
         "--model", args.model, "--no-cache", "-q", "-o", str(out)],
        check=True,
    )
    seconds = time.perf_counter() - started
    records = [json.loads(line) for line in out.read_text().splitlines()]
    return [(r["moderation"].get("scores") or {}).get("flagged") for r in records], seconds


def _label(row: dict) -> str:
    label = row.get("label")
    return str(label[0] if isinstance(label, list) and label else label)


def _first_of_each_class(truth: list[bool], per_class: int) -> set[int]:
    chosen: set[int] = set()
    for wanted in (True, False):
        chosen |= set([i for i, t in enumerate(truth) if t == wanted][:per_class])
    return chosen


if __name__ == "__main__":
    main()
