"""Personalization benchmark: what definitions, examples and the three personalization
moves do, measured through the tactful CLI on the shared dev splits.

    python benchmarks/personalization.py --model qwen2.5:3b --embedding nomic-embed-text
    python benchmarks/personalization.py --backend embedded --model ~/models/qwen2.5-3b.gguf
    python benchmarks/personalization.py --backend embedded --model qwen2.5-coder-1.5b --part 2 \\
        --moves b --modes binary multiclass multilabel      # unblock, in every mode

Part 1, per dataset: zero-shot (the category's name only), + definitions (the built-in
one-sentence definitions), + k examples per class chosen `fixed` and `similar` (similar
needs --embedding, an embedding model on Ollama). F1 of the harmful class and items/s
(wall time of the whole `tactful classify` run, start-up included).

Part 2, the personalization moves:
  (a) a new custom category from its description alone, then with one example: recall on
      that category (SMS spam as "promotion") and the flag rate on unrelated items;
  (b) unblocking a category: its flag rate before and after (TextDetox toxic items);
  (c) one benign example for a false positive (a ParaDetox acceptable rewrite the model
      flags): do close paraphrases of it flip, while unrelated items keep their labels and
      its toxic original stays flagged?

The data is read where it lies (--bench); nothing is copied into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Dataset:
    name: str
    slug: str  # the tactful category the harmful class maps to
    positive: str  # the dataset's label for the harmful class


DATASETS = [
    Dataset("sms-spam", "spam", "spam"),
    Dataset("sst2", "negative-sentiment", "negative"),
    Dataset("textdetox-en", "toxicity", "toxic"),
    Dataset("paradetox-en", "toxicity", "toxic"),
    Dataset("hatemoderate", "hate", "hate"),
]
PROMOTION = "Messages that advertise a product, service, prize or offer, or ask the reader to call, text or click to claim something."


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    positive: bool
    meta: dict


# ---------------------------------------------------------------- running tactful


class Tactful:
    """Runs the tactful CLI in a scratch directory with one profile."""

    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args, self.folder = args, folder
        self.profile = folder / "tactful.toml"

    def run(self, *argv: str, stdin: str | None = None) -> str:
        command = [sys.executable, "-m", "tactful", *argv]
        env = {k: v for k, v in os.environ.items() if k != "TACTFUL_PROFILE"}  # use this folder's profile
        done = subprocess.run(command, cwd=self.folder, input=stdin, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            sys.exit(f"tactful {' '.join(argv[:3])} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def write_profile(self, categories: Mapping[str, Mapping[str, object]], selection: str = "fixed") -> None:
        """A fresh profile (and an empty bank) with these categories."""
        a = self.args
        lines = ["version = 1", "[model]", f'backend = "{a.backend}"', f"name = {json.dumps(a.model)}"]
        lines += [f"host = {json.dumps(a.host)}"] if a.host else []
        lines += [f"embedding = {json.dumps(a.embedding)}"] if a.embedding else []
        lines += ["[task]", f"mode = {json.dumps(a.mode)}", f"examples_per_category = {a.k}", f'example_selection = "{selection}"']
        for slug, keys in categories.items():
            lines.append(f"[categories.{slug}]")
            lines += [f"{key} = {json.dumps(value)}" for key, value in keys.items()]
        self.profile.write_text("\n".join(lines) + "\n")
        self.profile.with_name("tactful.examples.jsonl").unlink(missing_ok=True)

    def add_examples(self, items: list[Item], slug: str) -> None:
        for item in items:
            label = ["--label", slug] if item.positive else ["--benign"]
            self.run("examples", "add", "-", *label, stdin=item.text)

    def flags(self, items: list[Item]) -> tuple[list[bool], float]:
        """tactful's flagged decision per item, and items per second."""
        lines = "".join(json.dumps({"id": it.id, "text": it.text}) + "\n" for it in items)
        start = time.perf_counter()
        out = self.run("classify", "--input-format", "jsonl", "--format", "jsonl", "--jobs", str(self.args.jobs), stdin=lines)
        seconds = time.perf_counter() - start
        flagged = [bool(json.loads(line)["moderation"]["flagged"]) for line in out.splitlines() if line.strip()]
        return flagged, len(items) / seconds if seconds else 0.0


# ---------------------------------------------------------------- data and metrics


def load(bench: Path, dataset: Dataset, limit: int | None) -> list[Item]:
    items = []
    for line in (bench / dataset.name / "dev.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        items.append(Item(row["id"], row["text"], row["label"] == dataset.positive, row.get("meta", {})))
    return items[:limit] if limit else items


def split(items: list[Item], per_class: int) -> tuple[list[Item], list[Item]]:
    """The first ``per_class`` items of each class become the example pool; the rest is scored."""
    pool = [it for it in items if it.positive][:per_class] + [it for it in items if not it.positive][:per_class]
    return pool, [it for it in items if it not in pool]


def f1(gold: list[bool], predicted: list[bool]) -> float:
    tp = sum(g and p for g, p in zip(gold, predicted))
    fp = sum(p and not g for g, p in zip(gold, predicted))
    fn = sum(g and not p for g, p in zip(gold, predicted))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def rate(values: list[bool]) -> float:
    return sum(values) / len(values) if values else 0.0


# ---------------------------------------------------------------- part 1


def part_one(tactful: Tactful, bench: Path, limit: int | None) -> list[list[str]]:
    rows = []
    k = tactful.args.k
    for dataset in DATASETS:
        pool, scored = split(load(bench, dataset, limit), k)
        gold = [it.positive for it in scored]
        # Zero-shot: the category's name as its only definition.
        name_only: dict[str, object] = {"description": dataset.slug.replace("-", " ") + ".", "blocked": True}
        defined: dict[str, object] = {"blocked": True}  # the built-in one-sentence definition
        conditions = [("zero-shot", name_only, "fixed", False), ("+ definitions", defined, "fixed", False),
                      (f"+ {k} examples (fixed)", defined, "fixed", True)]
        if tactful.args.embedding:
            conditions.append((f"+ {k} examples (similar)", defined, "similar", True))
        for label, category, selection, with_examples in conditions:
            tactful.write_profile({dataset.slug: category}, selection)
            if with_examples:
                tactful.add_examples(pool, dataset.slug)
            flagged, speed = tactful.flags(scored)
            rows.append([dataset.name, label, f"{f1(gold, flagged):.3f}", f"{speed:.2f}", str(len(scored))])
    return rows


# ---------------------------------------------------------------- part 2


def new_category(tactful: Tactful, bench: Path, limit: int | None) -> list[list[str]]:
    spam = load(bench, DATASETS[0], limit)
    pool, scored = split(spam, 1)
    targets = [it for it in scored if it.positive]
    unrelated = [it for ds in (DATASETS[1], DATASETS[2]) for it in load(bench, ds, limit) if not it.positive]
    tactful.write_profile({"promotion": {"description": PROMOTION, "blocked": True}})
    rows = []
    for label in ("description only", "+ 1 example"):
        if label != "description only":
            tactful.add_examples([it for it in pool if it.positive], "promotion")
        recall = rate(tactful.flags(targets)[0])
        flag_rate = rate(tactful.flags(unrelated)[0])
        rows.append(["(a) new category 'promotion'", label, f"recall {recall:.3f}", f"unrelated flagged {flag_rate:.3f}"])
    return rows


def unblock(tactful: Tactful, bench: Path, limit: int | None) -> list[list[str]]:
    toxic = [it for it in load(bench, DATASETS[2], limit) if it.positive]
    tactful.write_profile({"toxicity": {"blocked": True}, "spam": {"blocked": True}})
    before = rate(tactful.flags(toxic)[0])
    tactful.run("profile", "unblock", "toxicity")
    after = rate(tactful.flags(toxic)[0])
    return [["(b) unblock toxicity", f"{len(toxic)} toxic items", f"flagged before {before:.3f}", f"after {after:.3f}"]]


def paraphrases(item: Item) -> list[Item]:
    """Close rewrites of a text: the same words, differently dressed (the dev splits hold no
    paraphrases of an acceptable text, so these are made by rule and are easy to inspect)."""
    words = "".join(ch for ch in item.text.lower() if ch.isalnum() or ch.isspace()).split()
    texts = [" ".join(words), f"honestly, {item.text}", f"{item.text} just saying", item.text.upper()]
    return [Item(f"{item.id}-v{n}", text, False, {}) for n, text in enumerate(texts, start=1)]


def benign_example(tactful: Tactful, bench: Path, limit: int | None) -> list[list[str]]:
    items = load(bench, DATASETS[3], limit)
    tactful.write_profile({"toxicity": {"blocked": True}})
    flagged, _ = tactful.flags(items)
    false_positive = next((it for it, flag in zip(items, flagged) if flag and not it.positive), None)
    if false_positive is None:
        return [["(c) benign example", "the model made no false positive", "", ""]]
    # ParaDetox pairs each acceptable sentence with its toxic original: that twin must stay flagged.
    group = false_positive.meta.get("pair_group")
    twins = [it for it in items if it.positive and group and it.meta.get("pair_group") == group]
    unrelated = [it for it in items if it is not false_positive and it not in twins]
    before = dict(zip((it.id for it in items), flagged))
    variants = paraphrases(false_positive)
    variants_before = sum(tactful.flags(variants)[0])
    tactful.add_examples([false_positive], "toxicity")
    variants_after = sum(tactful.flags(variants)[0])
    unrelated_after, _ = tactful.flags(unrelated)
    changed = sum(before[it.id] != now for it, now in zip(unrelated, unrelated_after))
    twin_after = tactful.flags(twins)[0] if twins else []
    return [
        ["(c) benign example for a false positive", f"example {false_positive.text[:48]!r}", "", ""],
        ["", f"{len(variants)} paraphrases flagged", f"before {variants_before}", f"after {variants_after}"],
        ["", f"{len(unrelated)} unrelated items", f"labels changed {changed}", ""],
        ["", "its toxic original flagged", f"before {[before[t.id] for t in twins]}", f"after {twin_after}"],
    ]


# ---------------------------------------------------------------- main


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", type=Path, default=REPO.parent / "shared" / "bench", help="folder of the dev splits (default: ../shared/bench)")
    parser.add_argument("--backend", choices=["ollama", "embedded"], default="ollama")
    parser.add_argument("--model", required=True, help="Ollama model name, or a GGUF path for --backend embedded")
    parser.add_argument("--host", help="Ollama URL (default: $OLLAMA_HOST, then localhost)")
    parser.add_argument("--embedding", help="Ollama embedding model for the `similar` rows (skipped without it)")
    parser.add_argument("-k", type=int, default=2, help="examples per class (default 2)")
    parser.add_argument("--limit", type=int, help="items per dataset (default: all)")
    parser.add_argument("--jobs", type=int, default=1, help="requests in flight (default 1)")
    parser.add_argument("--part", choices=["1", "2", "all"], default="all")
    parser.add_argument("--modes", nargs="+", choices=["binary", "multiclass", "multilabel"], default=["binary"],
                        help="task modes to run part 2 in (default: binary)")
    parser.add_argument("--moves", nargs="+", choices=["a", "b", "c"], default=["a", "b", "c"],
                        help="part 2 moves to run: (a) new category, (b) unblock, (c) benign example")
    args = parser.parse_args()
    args.mode = args.modes[0]
    if args.backend == "embedded":
        args.model = str(Path(args.model).expanduser().resolve()) if Path(args.model).expanduser().exists() else args.model
    return args


def main() -> None:
    args = parse_args()
    if not args.bench.is_dir():
        sys.exit(f"{args.bench}: no such folder (pass --bench DIR)")
    with tempfile.TemporaryDirectory(prefix="tactful-bench-") as scratch:
        tactful = Tactful(args, Path(scratch))
        print(f"model {args.model} ({args.backend}), k = {args.k}, data {args.bench}\n")
        if args.part in ("1", "all"):
            print(table(["dataset", "prompt", "F1", "items/s", "items"], part_one(tactful, args.bench, args.limit)) + "\n")
        if args.part in ("2", "all"):
            moves = {"a": new_category, "b": unblock, "c": benign_example}
            for mode in args.modes:
                args.mode = mode
                rows = [row for key in args.moves for row in moves[key](tactful, args.bench, args.limit)]
                print(f"mode {mode}")
                print(table(["move", "setting", "result", ""], rows) + "\n", flush=True)


if __name__ == "__main__":
    main()
