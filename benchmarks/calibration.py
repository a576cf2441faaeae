"""What calibration buys on a dev split: F1 and FPR at 0.5 against thresholds fitted on
20 and 40 labelled texts of the same split, never the evaluated ones.

Every text of the split is scored once (`tactful classify`, binary mode, the dataset's
categories blocked: one, or three for the Mastodon posts). A calibration set is N/2
texts of each class drawn at random; the threshold fitted on it (as `tactful calibrate`
fits it: best F1; or by Platt scaling, an affine correction of the log-odds) is applied
to the rest. One draw is noise, so each row is the mean over --draws draws. Also: the
content-free threshold (the mean score of "N/A", "" and "[MASK]", a label-free
candidate), and 0.5 with the ROC-AUC of all texts. Prints markdown rows and the time per
text.

    python benchmarks/calibration.py --bench ../shared/bench --backend embedded \\
        --model qwen2.5-coder-1.5b                    # every dataset
    python benchmarks/calibration.py --dataset sms-spam sst2
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

from runner import classify_records, flagged_score  # benchmarks/runner.py
from tactful.evaluation.calibration import Quality, fit_threshold, quality_at, roc_auc

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
    parser.add_argument("--draws", type=int, default=100, help="random balanced calibration sets per size (default 100)")
    parser.add_argument("--seed", type=int, default=1)
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
    texts = [row["text"] for row in rows] + list(CONTENT_FREE)
    scored, seconds = score_all(texts, slugs, args)
    scores, free = scored[: len(rows)], [s for s in scored[len(rows):] if s is not None]
    truth = [_label(row) in positive_labels for row in rows]
    usable = [i for i in range(len(rows)) if scores[i] is not None]
    values, gold = [scores[i] for i in usable], [truth[i] for i in usable]
    if free:  # the label-free candidate: the model's leaning with no content to judge
        neutral = sum(free) / len(free)
        _row(dataset, "content-free threshold", [(neutral, quality_at(values, gold, neutral))], None, len(usable))
    auc = roc_auc(values, gold)
    _row(dataset, "probabilities at 0.5", [(0.5, quality_at(values, gold, 0.5))], auc, len(usable))
    rng = random.Random(args.seed)
    smaller_class = min(sum(truth[i] for i in usable), sum(not truth[i] for i in usable))
    for n in (20, 40):
        if smaller_class < n // 2 + 10:  # too few left to evaluate the fit on
            print(f"| {dataset} | calibrated on {n}: skipped, {smaller_class} texts in the smaller class | | | | | | | |")
            continue
        for method, fit in (("fitted for F1", _f1_threshold), ("Platt (affine log-odds)", platt_threshold)):
            results = []
            for _ in range(args.draws):
                calibration = _balanced_draw(truth, usable, n // 2, rng)
                evaluated = [i for i in usable if i not in calibration]
                threshold = fit([scores[i] for i in calibration], [truth[i] for i in calibration])
                results.append((threshold, quality_at([scores[i] for i in evaluated], [truth[i] for i in evaluated], threshold)))
            _row(dataset, f"{method} on {n}, mean of {args.draws} draws", results, None, len(usable) - n)
    print(f"| {dataset} | {len(rows)} texts ({sum(truth)} positive) scored in {seconds:.0f} s: "
          f"{seconds / len(rows):.2f} s/text, model load included | | | | | | | |", flush=True)


def _row(dataset: str, name: str, results: list[tuple[float, Quality]], auc: float | None, evaluated: int) -> None:
    """One markdown row: the mean threshold and quality over ``results``."""
    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    t = mean([r[0] for r in results])
    f1, precision, recall, fpr = (mean([getattr(q, key) for _, q in results]) for key in ("f1", "precision", "recall", "fpr"))
    print(f"| {dataset} | {name} | {t:.3f} | {f1:.3f} | {precision:.3f} | {recall:.3f} | {fpr:.3f} "
          f"| {'' if auc is None else f'{auc:.3f}'} | {evaluated} |", flush=True)


def _f1_threshold(scores: list[float], truth: list[bool]) -> float:
    """What `tactful calibrate` writes: the threshold with the best F1 on the labelled texts."""
    fit = fit_threshold(scores, truth)
    return fit.threshold if fit else 0.5


def platt_threshold(scores: list[float], truth: list[bool], l2: float = 1.0) -> float:
    """Platt scaling: fit p' = sigmoid(a * logit(p) + b) by L2-regularised maximum likelihood
    (towards a = 1, b = 0, the identity), and return the raw probability where p' = 0.5."""
    xs = [_logit(s) for s in scores]
    a, b = 1.0, 0.0
    for _ in range(2000):
        ga, gb = l2 * (a - 1), l2 * b
        for x, t in zip(xs, truth):
            err = 1 / (1 + math.exp(-(a * x + b))) - t
            ga, gb = ga + err * x, gb + err
        a, b = a - 0.01 * ga / len(xs), b - 0.01 * gb / len(xs)
    return 1 / (1 + math.exp(b / a)) if a > 0 else 0.5


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _balanced_draw(truth: list[bool], usable: list[int], per_class: int, rng: random.Random) -> set[int]:
    positives = [i for i in usable if truth[i]]
    negatives = [i for i in usable if not truth[i]]
    return set(rng.sample(positives, per_class) + rng.sample(negatives, per_class))


# Inputs with no content (Zhao et al. 2021, "Calibrate before use"): the model's score
# on them is its bias under this prompt, a candidate threshold that needs no labels.
CONTENT_FREE = ("N/A", "", "[MASK]")


def score_all(texts: list[str], slugs: tuple[str, ...], args: argparse.Namespace) -> tuple[list[float | None], float]:
    blocked = "".join(f"[categories.{slug}]\nblocked = true\n" for slug in slugs)
    lines = [{"id": str(i), "text": text} for i, text in enumerate(texts)]
    records, seconds = classify_records(lines, f"version = 1\n{blocked}", args.backend, args.model, name="calibration")
    return [flagged_score(r) for r in records], seconds


def _label(row: dict) -> str:
    label = row.get("label")
    return str(label[0] if isinstance(label, list) and label else label)


if __name__ == "__main__":
    main()
