#!/usr/bin/env python3
"""Does the order of categories in a profile decide what is flagged, or how it is named?

Every set with two or more kinds of harm is classified in every mode twice: with its
categories declared in one order, and in the reverse order; nothing else in the profile
changes. The sets mix the dev splits where one split has only one kind of harm:

  spam+toxicity   sms-spam and textdetox-en, whole splits (spam, toxicity blocked)
  spam+negative   sms-spam and sst2, whole splits (spam, negative-sentiment blocked)
  mastodon        mastodon-harmful (toxicity, spam, negative-sentiment blocked; its
                  single `label` is the gold)

Per set, mode and order it prints: the share of harmful texts flagged; of those, the
share whose labels are exactly right (binary and multiclass: the one label is the gold
one; multilabel: the labels are exactly the gold set); the share of acceptable texts
flagged; s/text (model load included, one `tactful classify` run, no results cache).
Per set and mode: the share of texts whose verdict or labels change when the order is
reversed, and the largest difference in flag rate between the orders.

`--reuse` judges the reversed order from the declared run's results cache wherever the
model would receive a byte-identical request (a cache of the benchmark's own, empty at
the start): the "from cache" column then counts the identical requests, and only texts
whose request changed with the order cost model time.

`--unblock` also runs each two-category set with its first category unblocked and the
other blocked, in both orders: the share of the unblocked category's texts flagged
(it should stay near 0).

    python benchmarks/order.py --bench ../shared/bench --backend embedded \\
        --model qwen2.5-coder-1.5b --unblock          # every set, mode and order
    python benchmarks/order.py --sets spam+toxicity --modes binary --per-class 40
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner import classify_cached, classify_records  # benchmarks/runner.py

MODES = ("binary", "multiclass", "multilabel")
# gold label of a dev split -> the category it means (absent: acceptable)
GOLD = {"spam": "spam", "toxic": "toxicity", "negative": "negative-sentiment"}


@dataclass(frozen=True)
class TestSet:
    name: str
    folders: tuple[str, ...]
    categories: tuple[str, ...]  # declared order; the run also reverses it


SETS = (
    TestSet("spam+toxicity", ("sms-spam", "textdetox-en"), ("spam", "toxicity")),
    TestSet("spam+negative", ("sms-spam", "sst2"), ("spam", "negative-sentiment")),
    TestSet("mastodon", ("mastodon-harmful",), ("toxicity", "spam", "negative-sentiment")),
)


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    gold: frozenset[str]  # the blocked categories that apply; empty: acceptable


def profile(categories: Sequence[str], mode: str, unblocked: str | None = None, threads: int | None = None) -> str:
    lines = ['version = 1', 'name = "order-benchmark"', "[task]", f'mode = "{mode}"']
    if threads:  # llama.cpp's threads spin: on a shared machine, fewer than its cores run faster
        lines += ["[model.options]", f"num_thread = {threads}"]
    for slug in categories:
        lines += [f"[categories.{slug}]", f"blocked = {'false' if slug == unblocked else 'true'}"]
    return "\n".join(lines) + "\n"


def load(bench: Path, test_set: TestSet, per_class: int | None, seed: int) -> list[Item]:
    items: list[Item] = []
    for folder in test_set.folders:
        rows = [json.loads(line) for line in (bench / folder / "dev.jsonl").read_text("utf-8").splitlines() if line.strip()]
        if per_class:  # a quick run: the same N texts of each gold label every time
            by_label: dict[str, list[dict[str, Any]]] = {}
            for row in rows:
                by_label.setdefault(str(row["label"]), []).append(row)
            rows = [row for group in by_label.values() for row in random.Random(seed).sample(group, min(per_class, len(group)))]
        for row in rows:
            gold = GOLD.get(row["label"])
            items.append(Item(row["id"], row["text"], frozenset([gold] if gold in test_set.categories else [])))
    return items


def judged(items: list[Item], toml: str, args: argparse.Namespace, name: str,
           cache: Path | None = None) -> tuple[dict[str, dict[str, Any]], float, int | None]:
    """Each item's moderation, s/text, and (with ``cache``) how many came from the cache."""
    lines = [{"id": item.id, "text": item.text} for item in items]
    hits = None
    if cache is None:
        records, seconds = classify_records(lines, toml, args.backend, args.model, name=name)
    else:
        records, seconds, hits = classify_cached(lines, toml, args.backend, args.model, cache, name=name)
    return {r["id"]: r["moderation"] for r in records}, seconds / max(len(items), 1), hits


def orders_judged(items: list[Item], categories: Sequence[str], mode: str, args: argparse.Namespace, name: str,
                  unblocked: str | None = None) -> dict[str, tuple[dict[str, dict[str, Any]], float, int | None]]:
    """The items judged with the categories declared in order, then reversed.

    With --reuse, both runs share a results cache of their own (empty at the start): the
    reversed run asks the model only about the texts whose request differs from the
    declared run's, so its count of cache hits is the number of identical requests.
    """
    orders = {"declared": tuple(categories), "reversed": tuple(reversed(categories))}
    cache = Path(tempfile.mkdtemp(prefix="tactful-order-cache-")) if args.reuse else None
    return {order: judged(items, profile(slugs, mode, unblocked, args.threads), args, f"{name}-{order}", cache)
            for order, slugs in orders.items()}


def exactly_right(mode: str, labels: Sequence[str], gold: frozenset[str]) -> bool:
    if mode == "multilabel":
        return set(labels) == gold
    return len(labels) == 1 and labels[0] in gold


def share(part: int, whole: int) -> str:
    return f"{part / whole:.2f} ({part}/{whole})" if whole else "-"


def verdict(moderation: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:
    return moderation.get("flagged"), tuple(sorted(moderation.get("labels") or []))


def run_mode(test_set: TestSet, items: list[Item], mode: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    runs = orders_judged(items, test_set.categories, mode, args, "order")
    harmful = [item for item in items if item.gold]
    acceptable = [item for item in items if not item.gold]
    rows = []
    rates = []
    for name, (results, per_text, hits) in runs.items():
        flagged = [item for item in harmful if results[item.id].get("flagged")]
        right = [item for item in flagged if exactly_right(mode, results[item.id].get("labels") or [], item.gold)]
        false_flags = sum(bool(results[item.id].get("flagged")) for item in acceptable)
        errors = sum(results[item.id].get("flagged") is None for item in items)
        rates.append(sum(bool(results[item.id].get("flagged")) for item in items) / len(items))
        rows.append({"order": name, "harmful flagged": share(len(flagged), len(harmful)),
                     "labels exactly right": share(len(right), len(flagged)),
                     "acceptable flagged": share(false_flags, len(acceptable)), "errors": errors,
                     "s/text": f"{per_text:.2f}", "from cache": "-" if hits is None else share(hits, len(items))})
    first, second = (results for results, _, _ in runs.values())
    changed = sum(verdict(first[item.id]) != verdict(second[item.id]) for item in items)
    for row in rows:
        row["labels changed by the order"] = share(changed, len(items))
        row["flag-rate gap"] = f"{abs(rates[0] - rates[1]) * 100:.1f} pts"
    return rows


def run_unblock(test_set: TestSet, items: list[Item], mode: str, args: argparse.Namespace) -> str:
    """The first category unblocked: the share of its texts flagged (should be near 0), and
    of the still-blocked category's texts (what the unblock costs), in both orders."""
    unblocked, kept = test_set.categories[0], test_set.categories[1]
    texts = [item for item in items if item.gold in (frozenset([unblocked]), frozenset([kept]))]
    cells = []
    for results, _, _ in orders_judged(texts, test_set.categories, mode, args, "unblock", unblocked).values():
        for slug in (unblocked, kept):
            own = [t for t in texts if t.gold == frozenset([slug])]
            cells.append(share(sum(bool(results[t.id].get("flagged")) for t in own), len(own)))
    return f"| {test_set.name} | {mode} | {unblocked} | " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", type=Path, default=Path("../shared/bench"))
    parser.add_argument("--sets", nargs="+", choices=[s.name for s in SETS], default=[s.name for s in SETS])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--backend", default="embedded")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--per-class", type=int, default=None, help="N texts per gold label of each split (default: all)")
    parser.add_argument("--unblock", action="store_true", help="also measure unblocking the first category")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true",
                        help="judge the reversed order from the declared run's results cache where the requests are "
                             "identical (its 'from cache' column counts them)")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: one per core)")
    args = parser.parse_args()
    columns = ["order", "harmful flagged", "labels exactly right", "acceptable flagged", "labels changed by the order",
               "flag-rate gap", "errors", "s/text", "from cache"]
    print(f"{args.model} on {args.backend}")
    print("| set | mode | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns), flush=True)
    chosen = [s for s in SETS if s.name in args.sets]
    for test_set in chosen:
        items = load(args.bench, test_set, args.per_class, args.seed)
        for mode in args.modes:
            for row in run_mode(test_set, items, mode, args):
                print(f"| {test_set.name} | {mode} | " + " | ".join(str(row[c]) for c in columns) + " |", flush=True)
    if args.unblock:
        print("\n| set | mode | unblocked | its texts flagged, declared | the blocked one's, declared "
              "| its texts flagged, reversed | the blocked one's, reversed |")
        print("|---|---|---|---|---|---|---|", flush=True)
        for test_set in chosen:
            if len(test_set.categories) != 2:
                continue
            items = load(args.bench, test_set, args.per_class, args.seed)
            for mode in args.modes:
                print(run_unblock(test_set, items, mode, args), flush=True)


if __name__ == "__main__":
    main()
