"""The streaming guard against judging the whole text once: detection, text let through, cost.

Each dev text is fed to ``tactful.guard.Guard`` in pieces of 4 characters (about a
token each), as `tactful guard` reads a generated answer, with the guard's default
options; the same text is also judged once, whole. Printed per dataset: detection on
harmful texts (whole vs streamed), the share of each stopped harmful text that was let
through before the stop (median and 90th percentile), stops on benign texts (whole-text
flags vs streamed stops), and the cost: model calls and tokens evaluated per text.

    python benchmarks/streaming.py --backend embedded --model qwen2.5-coder-1.5b

Harmful means a label the default profile blocks (toxicity, spam); Mastodon's
"negative" posts count as acceptable, as the default profile allows negative sentiment.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tactful import Moderator  # noqa: E402
from tactful.guard import Guard, GuardOptions  # noqa: E402
from tactful.records import InputRecord, Moderation  # noqa: E402

BENCH = ROOT.parent / "shared" / "bench"
HARMFUL = {"toxic", "spam", "severe_toxic", "obscene", "threat", "insult", "identity_hate"}
PIECE = 4


@dataclass
class Outcome:
    harmful: bool
    whole_flagged: bool
    stopped: bool
    let_through: float  # share of the text passed on before the stop (1.0 when not stopped)
    calls: int
    tokens: int
    whole_tokens: int


def items(dataset: str) -> list[tuple[str, bool]]:
    rows = [json.loads(line) for line in (BENCH / dataset / "dev.jsonl").read_text().splitlines() if line.strip()]
    out = []
    for row in rows:
        labels = row["label"] if isinstance(row["label"], list) else [row["label"]]
        out.append((row["text"], bool(HARMFUL & set(labels))))
    return out


def run_one(moderator: Moderator, text: str, harmful: bool) -> Outcome:
    spent = {"calls": 0, "tokens": 0}

    def judge(so_far: str) -> Moderation:
        result = moderator.judge(InputRecord("stream", so_far, {}, "bench"))
        spent["calls"] += 1
        spent["tokens"] += result.prompt_tokens or 0
        return result.moderation

    # Whole first; then an unrelated text, so that neither way of judging finds the other's
    # tokens in the model's state (the embedded backend reuses the longest shared prefix).
    whole = moderator.judge(InputRecord("whole", text, {}, "bench"))
    moderator.judge(InputRecord("reset", "Noted.", {}, "bench"))
    guard = Guard(judge, GuardOptions())
    events = list(guard.feed(text[i:i + PIECE] for i in range(0, len(text), PIECE)))
    stopped = events[-1].kind == "stop"
    return Outcome(harmful, bool(whole.moderation.flagged), stopped,
                   guard.passed / len(text) if stopped else 1.0,
                   spent["calls"], spent["tokens"], whole.prompt_tokens or 0)


def report(name: str, outcomes: list[Outcome]) -> str:
    harmful = [o for o in outcomes if o.harmful]
    benign = [o for o in outcomes if not o.harmful]
    stopped = [o.let_through for o in harmful if o.stopped]

    def share(flags: list[bool]) -> str:
        return f"{sum(flags) / len(flags):.3f}" if flags else "-"

    through = (f"{statistics.median(stopped):.2f} / {statistics.quantiles(stopped, n=10)[-1]:.2f}"
               if len(stopped) >= 2 else "-")
    calls = statistics.mean(o.calls for o in outcomes)
    tokens = statistics.mean(o.tokens for o in outcomes)
    whole_tokens = statistics.mean(o.whole_tokens for o in outcomes)
    return (f"| {name} | {len(harmful)} / {len(benign)} | {share([o.whole_flagged for o in harmful])} | "
            f"{share([o.stopped for o in harmful])} | {through} | {share([o.whole_flagged for o in benign])} | "
            f"{share([o.stopped for o in benign])} | {calls:.2f} vs 1 | {tokens:.0f} vs {whole_tokens:.0f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="embedded")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--host", action="append")
    parser.add_argument("--datasets", nargs="+", default=["jigsaw-toxic-sample", "mastodon-harmful", "textdetox-en"])
    parser.add_argument("--limit", type=int, default=None, help="texts per dataset (default: all)")
    args = parser.parse_args()
    print(f"{args.model} on {args.backend}, default profile, pieces of {PIECE} characters, "
          f"guard defaults (first check after {GuardOptions().first}, then every {GuardOptions().every} characters)\n")
    print("| dataset | harmful / benign | detected: whole | detected: streamed | let through before the stop: median / p90 "
          "| benign flagged: whole | benign stopped: streamed | model calls per text | tokens evaluated per text |")
    print("|---|---|---|---|---|---|---|---|---|")
    with Moderator.from_profile(None, backend=args.backend, model=args.model, hosts=args.host) as moderator:
        for dataset in args.datasets:
            outcomes = [run_one(moderator, text, harmful) for text, harmful in items(dataset)[: args.limit]]
            print(report(dataset, outcomes), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
