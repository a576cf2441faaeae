#!/usr/bin/env python3
"""Speed of normalisation, which runs once per item before the model sees it.

Prints CPU nanoseconds per character and microseconds per item (best of several passes,
each with the per-token caches emptied, so these are cold-cache costs) for:
benign dev texts (mostly plain ASCII, the common case), the camouflaged evasion-dev
texts (every step does work), genuine non-Latin text, and one long text. The word list
and the confusables table load once per process, on first need; that time is printed
apart.

Usage:
  python benchmarks/normalize_speed.py --bench ../shared/bench [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tactful.normalize.homoglyphs import latin_lookalikes
from tactful.normalize.leet import decode_core
from tactful.normalize.spacing import segment
from tactful.normalize.text import normalize_text
from tactful.normalize.wordlist import zipf

ROOT = Path(__file__).resolve().parent.parent
NON_LATIN = [
    "Привет, как дела? Сегодня хорошая погода, пойдём гулять.",
    "Καλημέρα σε όλους, τα λέμε αύριο στη συνάντηση.",
    "我们明天下午三点在会议室开会，请准时参加。",
    "مرحبا بكم جميعا، نلتقي غدا في الاجتماع.",
    "家族で旅行に行きました 🎉👨\u200d👩\u200d👧 とても楽しかった！",
]


def texts_from(path: Path, keep=lambda row: True) -> list[str]:  # type: ignore[no-untyped-def]
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["text"] for row in rows if keep(row)]


def measure(name: str, texts: list[str], rounds: int) -> None:
    """Best of `rounds` passes in CPU time, each with the caches emptied first (cold)."""
    chars = sum(len(t) for t in texts)
    best = min(_one_pass(texts) for _ in range(rounds))
    print(f"| {name} | {len(texts)} | {chars} | {best / chars:.0f} | {best / len(texts) / 1000:.1f} |")


def _one_pass(texts: list[str]) -> int:
    decode_core.cache_clear()
    segment.cache_clear()
    start = time.process_time_ns()
    for text in texts:
        normalize_text(text)
    return time.process_time_ns() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench")
    parser.add_argument("--rounds", type=int, default=5, help="passes per kind of text; the fastest counts")
    args = parser.parse_args()

    start = time.process_time()
    zipf("warm")
    latin_lookalikes()
    normalize_text("\u200b")  # the table of invisible characters
    print(f"one-time load (word list, confusables, invisibles): {1000 * (time.process_time() - start):.0f} ms CPU\n")

    benign = texts_from(args.bench / "sms-spam" / "dev.jsonl") + texts_from(args.bench / "textdetox-en" / "dev.jsonl")
    evasion = texts_from(args.bench / "adversarial" / "evasion-dev.jsonl")
    print("| texts | items | characters | ns/char | us/item |")
    print("|---|---|---|---|---|")
    measure("benign dev (sms-spam, textdetox-en)", benign, args.rounds)
    measure("camouflaged (evasion-dev)", evasion, args.rounds)
    measure("genuine non-Latin", NON_LATIN, args.rounds)
    measure("one 100k-character text", [(" ".join(benign) * 5)[:100_000]], args.rounds)


if __name__ == "__main__":
    main()
