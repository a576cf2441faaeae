#!/usr/bin/env python3
"""What a text costs when a learned head decides, against the prompt deciding: end to end.

As a user would do it, on one dev split (sms-spam by default): a profile blocking the
set's category (binary), `tactful calibrate DATA --head` on --labels texts drawn at random
(half of each class), which writes the chosen head beside the profile; then
`tactful classify --no-cache` over the rest of the split twice, with the head file and
without it (the prompt's probability against its threshold). Reports what calibrate chose
and the seconds per text that classify's own summary line gives (judging only, after the
model load), with the share of texts flagged and F1 against the gold labels.

    python benchmarks/head_speed.py --bench ../shared/bench --model qwen2.5-coder-1.5b
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from calibration import (
    DATASETS,  # benchmarks/calibration.py: blocked categories and gold labels per set
)
from learning import (  # benchmarks/learning.py: the dev split and its gold labels
    is_positive,
    load_rows,
)
from tactful.evaluation.calibration import quality_at
from tactful.learning.head import head_path

SUMMARY = re.compile(r"^tactful: (\d+) records? in ([\d.]+) s", re.MULTILINE)


def tactful(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "tactful", *args], capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 1: something was flagged
        raise SystemExit(f"tactful {args[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return done


def classify(profile: Path, texts: Path, args: argparse.Namespace) -> tuple[float, list[bool]]:
    """Seconds per text from the summary line, and each text's verdict."""
    done = tactful("classify", "--profile", str(profile), "--backend", "embedded", "--model", args.model,
                   "--no-cache", str(texts))
    summary = SUMMARY.search(done.stderr)
    if summary is None:
        raise SystemExit(f"no summary line from tactful classify: {done.stderr}")
    records = [json.loads(line) for line in done.stdout.splitlines()]
    deciders = {r["moderation"].get("decided_by") for r in records}
    print(f"  decided by {sorted(d or '?' for d in deciders)}", file=sys.stderr)
    return float(summary.group(2)) / int(summary.group(1)), [bool(r["moderation"]["flagged"]) for r in records]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", type=Path, default=Path("../shared/bench"))
    parser.add_argument("--dataset", nargs="+", choices=DATASETS, default=["sms-spam"])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--labels", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads (default 2)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"{args.model}, embedded, binary, {args.threads} threads; {args.labels} labels at random, the rest judged")
    print("| set | texts judged | calibrate chose | decides | s/text | flagged | F1 | FPR |")
    print("|---|---|---|---|---|---|---|---|", flush=True)
    for dataset in args.dataset:
        measure(dataset, args)


def measure(dataset: str, args: argparse.Namespace) -> None:
    slugs, positives = DATASETS[dataset]
    rows = load_rows(args.bench, dataset)
    rng = random.Random(args.seed)
    harmful = [r for r in rows if is_positive(r, positives)]
    acceptable = [r for r in rows if not is_positive(r, positives)]
    picked = rng.sample(harmful, args.labels // 2) + rng.sample(acceptable, args.labels // 2)
    taken = {id(r) for r in picked}
    rest = [r for r in rows if id(r) not in taken]
    work = Path(tempfile.mkdtemp(prefix="tactful-head-speed-"))
    profile = work / "tactful.toml"
    blocked = "".join(f"[categories.{slug}]\nblocked = true\n" for slug in slugs)
    profile.write_text(f'version = 1\n[model]\nembedding = "{args.model}"\n'
                       f'options = {{ num_thread = {args.threads} }}\n{blocked}', "utf-8")
    labelled = work / "labelled.jsonl"
    labelled.write_text("".join(json.dumps({"text": r["text"], "label": slugs[0] if is_positive(r, positives) else "none"}) + "\n"
                                for r in picked), "utf-8")
    texts = work / "rest.txt"
    texts.write_text("".join(" ".join(r["text"].split()) + "\n" for r in rest), "utf-8")
    done = tactful("calibrate", "--profile", str(profile), "--backend", "embedded", "--model", args.model,
                   "--head", str(labelled))
    chose = next((line.split(":", 1)[1].strip() for line in done.stdout.splitlines() + done.stderr.splitlines()
                  if line.strip().lower().startswith("chosen:")), "see stderr")
    print(done.stdout + done.stderr, file=sys.stderr)
    truth = [is_positive(r, positives) for r in rest]
    head = head_path(profile)
    runs: list[tuple[str, Path | None]] = [("as calibrated", None)]
    if head.exists():
        runs.append(("the prompt (head file moved away)", head))
    for label, moved in runs:
        if moved is not None:
            moved.rename(moved.with_name(moved.name + ".off"))
        per_text, flagged = classify(profile, texts, args)
        quality = quality_at([float(f) for f in flagged], truth, 0.5)
        print(f"| {dataset} | {len(rest)} | {chose[:60]} | {label} | {per_text:.2f} | {sum(flagged) / len(flagged):.2f} "
              f"| {quality.f1:.2f} | {quality.fpr:.2f} |", flush=True)


if __name__ == "__main__":
    main()
