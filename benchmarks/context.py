"""Judgment in context: does reading a reply after its thread flip the verdict the right way?

samples/threads.jsonl holds 40 pairs of records with the same reply text and different
earlier messages: in one the reply is toxic (a threat, mockery, hate), in the other it is
not. In 20 pairs the text alone reads as toxic ("Yes, kill it."), in 20 as harmless
("Same time tomorrow, bring the gasoline."). Judged alone, a model can be right on at most
one record of each pair; with context it can be right on both.

Each record is scored three ways with `tactful classify` (binary mode, toxicity blocked):
the text alone; the text with its context (--context-field); and the whole thread judged
as one conversation (--per-thread, the derailment mode; a thread's gold label is its
record's: the toxic threads are the ones whose reply is toxic). 20 controls, acceptable
replies in a toxic thread (pushing back, reporting, supporting the target), show whether a
judge blames a reply for its thread: "controls flagged" is the share flagged at 0.5 (for
a whole thread that holds toxicity, flagging is arguably right). Prints, per condition,
F1, precision, recall and false-positive rate at 0.5, ROC-AUC, the mean score gap between
a pair's toxic record and its harmless twin, the share of pairs ordered right (the toxic
one scores higher; a gap within 0.005 counts half: the same text alone scores the same up
to float noise), and the share right per flip.

    python benchmarks/context.py --backend embedded --model qwen2.5-coder-1.5b
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from runner import classify_records, flagged_score  # benchmarks/runner.py
from tactful.evaluation.calibration import quality_at, roc_auc

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "threads.jsonl"
PROFILE = "version = 1\n[categories.toxicity]\nblocked = true\n[categories.spam]\nblocked = false\n[categories.manipulation]\nblocked = false\n"
TIE = 0.005
CONDITIONS = {
    "text alone": [],
    "text in context (--context-field)": ["--context-field", "context"],
    "whole thread (--per-thread)": ["--thread-field", "thread", "--per-thread"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="embedded")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--samples", type=Path, default=SAMPLES)
    parser.add_argument("--conditions", nargs="+", choices=list(CONDITIONS), default=list(CONDITIONS))
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.samples.read_text("utf-8").splitlines() if line.strip()]
    controls = sum(row["flip"] == "control" for row in rows)
    print(f"{args.model} on {args.backend}; {len(rows) - controls} records in {(len(rows) - controls) // 2} pairs, {controls} controls")
    print("| condition | F1 | precision | recall | FPR | ROC-AUC | mean gap | pairs ordered | right, toxic-alone pairs "
          "| right, harmless-alone pairs | controls flagged | s/record |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for name in args.conditions:
        scores, seconds = score(rows, CONDITIONS[name], args)
        report(name, rows, scores, seconds)


def score(rows: list[dict], flags: list[str], args: argparse.Namespace) -> tuple[dict[str, float], float]:
    """Each record's (or thread's) probability, keyed by record id."""
    if "--per-thread" in flags:  # one thread per record: its context, then its text
        lines = [{"id": f"{row['id']}:{n}", "thread": row["id"], "text": text}
                 for row in rows for n, text in enumerate([*row["context"], row["text"]])]
    else:
        lines = rows
    records, seconds = classify_records(lines, PROFILE, args.backend, args.model, flags, name="context")
    scored = {str(r["id"]): value for r in records if (value := flagged_score(r)) is not None}
    return scored, seconds


def report(name: str, rows: list[dict], scores: dict[str, float], seconds: float) -> None:
    """F1 and the rest on the pairs; the controls (an acceptable reply in a toxic thread) apart."""
    controls = [row for row in rows if row["flip"] == "control" and row["id"] in scores]
    flagged_controls = sum(scores[row["id"]] >= 0.5 for row in controls) / len(controls) if controls else float("nan")
    usable = [row for row in rows if row["id"] in scores and row["flip"] != "control"]
    values = [scores[row["id"]] for row in usable]
    truth = [row["label"] == "toxicity" for row in usable]
    q = quality_at(values, truth, 0.5)
    auc = roc_auc(values, truth)
    pairs: dict[str, dict[str, float]] = {}
    for row in usable:
        pairs.setdefault(row["pair"], {})[row["label"]] = scores[row["id"]]
    complete = [p for p in pairs.values() if len(p) == 2]
    gaps = [p["toxicity"] - p["none"] for p in complete]
    gap = sum(gaps) / len(gaps) if gaps else float("nan")
    ordered = sum(1.0 if g > TIE else 0.5 if g >= -TIE else 0.0 for g in gaps) / len(gaps) if gaps else float("nan")
    right = {flip: _right(usable, scores, flip) for flip in ("harmful-alone", "harmless-alone")}
    print(f"| {name} | {q.f1:.3f} | {q.precision:.3f} | {q.recall:.3f} | {q.fpr:.3f} | "
          f"{'' if auc is None else f'{auc:.3f}'} | {gap:+.3f} | {ordered:.3f} | {right['harmful-alone']:.3f} | "
          f"{right['harmless-alone']:.3f} | {flagged_controls:.3f} | {seconds / len(rows):.2f} |", flush=True)


def _right(rows: list[dict], scores: dict[str, float], flip: str) -> float:
    """The share of a flip direction's records judged right at 0.5."""
    chosen = [row for row in rows if row["flip"] == flip]
    return sum((scores[row["id"]] >= 0.5) == (row["label"] == "toxicity") for row in chosen) / len(chosen)


if __name__ == "__main__":
    main()
