"""A small example bank and a profile that selects from it (fixed, balanced, similar)."""

from __future__ import annotations

import json
from pathlib import Path

BANK = [
    {"id": "t1", "text": "you absolute idiot", "labels": ["toxicity"], "rationale": "Insults the reader."},
    {"id": "t2", "text": "what a stupid loser", "labels": ["toxicity"]},
    {"id": "s1", "text": "click here to win a prize", "labels": ["spam"], "rationale": "Prize bait with a link."},
    {"id": "b1", "text": "thanks for the docs", "labels": [], "rationale": "Polite thanks."},
    {"id": "b2", "text": "the release train is late", "labels": []},
]
ITEM = "stupid idiot, click to win"


def write_profile(selection: str, embedding: str | None = "fake-embed") -> Path:
    """tactful.toml and bank.jsonl in the working directory, one example per category."""
    work = Path.cwd()
    (work / "bank.jsonl").write_text("".join(json.dumps(ex) + "\n" for ex in BANK))
    model = f'[model]\nembedding = "{embedding}"\n' if embedding else ""
    (work / "tactful.toml").write_text(
        f'version = 1\nexamples = "bank.jsonl"\n{model}[task]\nexamples_per_category = 1\n'
        f'example_selection = "{selection}"\n[categories.toxicity]\n[categories.spam]\n'
    )
    return work / "tactful.toml"
