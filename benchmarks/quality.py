#!/usr/bin/env python3
"""Quality benchmark: `tactful eval` on the public dev splits, three prompt conditions.

For each dataset a one-category profile is built in a temporary folder and evaluated on
the same held-out items under:
  zero-shot    the category named, with no definition ("spam.")
  +definition  tactful's built-in one-sentence definition
  +k examples  the definition plus k examples per class from the same split (never
               among the evaluated items), chosen `balanced`
  +similar     the definition plus 2k examples chosen per text by BM25 (`similar` with no
               embedding model) from a bank of --bank-size texts per class

Usage:
  python benchmarks/quality.py --bench ../shared/bench --backend embedded \\
      --model qwen2.5-coder-1.5b --k 2          # every item of every split

Prints one table row per dataset and condition: positive-class F1, FPR, ROC-AUC of the
probabilities, macro-F1, accuracy, items/s, tokens evaluated and generated per item.
Every condition is evaluated on the same items: the split minus the bank. Data is read
from --bench; nothing is copied.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Dataset:
    folder: str
    slug: str  # the profile category the positive gold label maps to
    positive: tuple[str, ...]  # gold labels that mean the category applies


DATASETS = (
    Dataset("sms-spam", "spam", ("spam",)),
    Dataset("textdetox-en", "toxicity", ("toxic",)),
    Dataset("paradetox-en", "toxicity", ("toxic",)),
    Dataset("sst2", "negative-sentiment", ("negative",)),
    Dataset("hatemoderate", "hate", ("hate",)),
    Dataset("jigsaw-toxic-sample", "toxicity", ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")),
)
CONDITIONS = ("zero-shot", "+definition", "+k examples", "+similar")


def is_positive(row: dict, dataset: Dataset) -> bool:
    labels = row["label"] if isinstance(row["label"], list) else [row["label"]]
    return any(label in dataset.positive for label in labels)


def split(rows: list[dict], dataset: Dataset, k: int, items: int | None, seed: int) -> tuple[list[dict], list[dict]]:
    """k bank examples per class, then up to `items` evaluation items balanced by class (all with None)."""
    rng = random.Random(seed)
    rows = rows[:]
    rng.shuffle(rows)
    pos = [r for r in rows if is_positive(r, dataset)]
    neg = [r for r in rows if not is_positive(r, dataset)]
    bank = pos[:k] + neg[:k]
    pos, neg = pos[k:], neg[k:]
    if items is None:
        evaluation = pos + neg
        rng.shuffle(evaluation)
        return bank, evaluation
    half = items // 2
    take_pos = min(len(pos), half)
    evaluation = pos[:take_pos] + neg[: items - take_pos]
    rng.shuffle(evaluation)
    return bank, evaluation


def profile_text(dataset: Dataset, condition: str, k: int) -> str:
    lines = ["version = 1", f'name = "{dataset.folder}-{condition}"', "[task]", 'mode = "binary"']
    if condition in ("+k examples", "+similar"):
        selection = "balanced" if condition == "+k examples" else "similar"
        lines += [f"examples_per_category = {k}", f'example_selection = "{selection}"']
        lines.insert(2, 'examples = "bank.jsonl"')
    else:
        lines += ["examples_per_category = 0"]
    lines += [f"[categories.{dataset.slug}]", "blocked = true"]
    if condition == "zero-shot":
        lines.append(f'description = "{dataset.slug.replace("-", " ")}."')
    return "\n".join(lines) + "\n"


def run_eval(folder: Path, data: Path, dataset: Dataset, args: argparse.Namespace) -> dict:
    command = [
        sys.executable, "-m", "tactful", "eval", str(data), "-p", str(folder / "profile.toml"),
        "--backend", args.backend, "--model", args.model, "--json",
        *[f"--map={label}={dataset.slug}" for label in dataset.positive], "--rest-acceptable",
    ]
    if args.host:
        command += ["--host", args.host]
    done = subprocess.run(command, capture_output=True, text=True, cwd=folder)
    if done.returncode not in (0, 1):
        raise SystemExit(f"tactful eval failed ({done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)["data"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench")
    parser.add_argument("--backend", default="embedded")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--host", default=None)
    parser.add_argument("--items", type=int, default=None, help="evaluated items per dataset (default: all but the bank)")
    parser.add_argument("--k", type=int, default=2, help="examples per class in the +k and +similar conditions")
    parser.add_argument("--bank-size", type=int, default=10, help="bank texts per class (+similar chooses among them)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--only", nargs="*", help="dataset folders to run (default: all)")
    parser.add_argument("--conditions", nargs="*", choices=CONDITIONS, default=list(CONDITIONS),
                        help="prompt conditions to run (default: all three)")
    args = parser.parse_args()

    header = "| dataset | condition | F1 (positive) | FPR | ROC-AUC | macro-F1 | accuracy | items | items/s | prompt tok/item | output tok/item |"
    print(f"model: {args.model} ({args.backend}); items per dataset: {args.items or 'all but the bank'}; "
          f"k = {args.k}; bank = {args.bank_size} per class\n")
    print(header)
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for dataset in DATASETS:
        if args.only and dataset.folder not in args.only:
            continue
        rows = [json.loads(line) for line in (args.bench / dataset.folder / "dev.jsonl").read_text().splitlines()]
        bank, evaluation = split(rows, dataset, max(args.k, args.bank_size), args.items, args.seed)
        with tempfile.TemporaryDirectory(prefix="tactful-quality-") as tmp:
            folder = Path(tmp)
            data = folder / "eval.jsonl"
            data.write_text("".join(json.dumps(r) + "\n" for r in evaluation))
            (folder / "bank.jsonl").write_text("".join(
                json.dumps({"id": r["id"], "text": r["text"], "labels": [dataset.slug] if is_positive(r, dataset) else []}) + "\n"
                for r in bank
            ))
            for condition in args.conditions:
                (folder / "profile.toml").write_text(profile_text(dataset, condition, args.k))
                report = run_eval(folder, data, dataset, args)
                speed = report["speed"]
                f1 = report["per_class"]["flagged"]["f1"]
                fpr = 1 - report["per_class"]["acceptable"]["recall"]  # acceptable texts flagged
                auc = (report.get("separation") or {}).get("flagged", {}).get("roc_auc")
                print(
                    f"| {dataset.folder} | {condition} | {f1:.3f} | {fpr:.3f} | {'-' if auc is None else f'{auc:.3f}'} "
                    f"| {report['macro_f1']:.3f} | {report['accuracy']:.3f} | {speed['items']} "
                    f"| {speed['items_per_s']} | {speed['prompt_tokens_per_item']} | {speed['output_tokens_per_item']} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
