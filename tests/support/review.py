"""A small review: a spam profile, texts a scripted model scores, and their judged form."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tactful.commands.review import judge
from tactful.engine.answer import Contract
from tactful.engine.leaning import CONTENT_FREE
from tactful.moderator import Moderator
from tactful.profile.load import parse_profile
from tactful.records import InputRecord
from tactful.review.labels import Labelled
from tactful.review.session import Judged
from tactful.settings import Overrides, resolve

from tests.support.scripted import ScriptedProber

# text: the probability of spam the scripted model gives it. Two are near the 0.5 threshold,
# one on each side; two twins say the same thing.
SPAM_SCORES = {
    "buy cheap pills now": 0.55,
    "buy cheap pills now!": 0.56,
    "win a free cruise today": 0.9,
    "our garden sale was lovely": 0.45,
    "see you at the meetup": 0.02,
    "nice photo of the roses": 0.1,
}
PROFILE = 'version = 1\n[categories.spam]\nblocked = true\n[categories.toxicity]\nblocked = true\n'
SPAM_ONLY = "version = 1\n[categories.spam]\nblocked = true\n"  # no naming question: what the fake server answers


def contract(mode: str = "binary", thresholds: dict[str, float] | None = None) -> Contract:
    """The contract of a profile blocking ``thresholds``' categories at those thresholds."""
    categories = "".join(f"[categories.{slug}]\nblocked = true\nthreshold = {t}\n"
                         for slug, t in (thresholds or {"toxicity": 0.5, "spam": 0.5}).items())
    return Contract.for_profile(parse_profile(f'version = 1\n[task]\nmode = "{mode}"\n{categories}', None))


def prober(scores: dict[str, float] = SPAM_SCORES) -> ScriptedProber:
    """Each text's spam probability; a flag is named spam, and the model leans to no category."""
    texts = {text: {"flagged": p, "category": {"spam": 1.0}} for text, p in scores.items()}
    leaning = {text: {"category": {"spam": 0.5, "toxicity": 0.5}} for text in CONTENT_FREE}
    return ScriptedProber(probabilities={**texts, **leaning})


def write_inputs(folder: Path, scores: dict[str, float] = SPAM_SCORES, profile_text: str = PROFILE,
                 field: str = "text") -> tuple[Path, Path]:
    """The profile and a JSONL export of the texts (ids t1, t2, ...; the text at ``field``)."""
    profile = folder / "tactful.toml"
    profile.write_text(profile_text)
    export = folder / "export.jsonl"
    export.write_text("".join(json.dumps({"id": f"t{i}", field: text}) + "\n"
                              for i, text in enumerate(scores, start=1)))
    return profile, export


def judged(folder: Path, scores: dict[str, float] = SPAM_SCORES) -> list[Judged]:
    """The texts as a review judges them, on the scripted model."""
    profile, _ = write_inputs(folder, scores)
    records = [InputRecord(f"t{i}", text, {}, f"export.jsonl:{i}") for i, text in enumerate(scores, start=1)]
    with Moderator(resolve(Overrides(profile=profile)), backend=prober(scores)) as moderator:
        return judge(moderator, records)


def separable_by_vector(n: int = 20) -> tuple[list[Labelled], dict[str, list[float]]]:
    """Labels whose prompt probabilities say nothing (0.3 to 0.9 on both sides), and a
    representation whose first number says the class."""
    rng = random.Random(5)
    items, vectors = [], {}
    for i in range(n):
        harmful = i % 2 == 0
        text = f"text {i}"
        items.append(Labelled(str(i), text, ("spam",) if harmful else (), {"flagged": rng.uniform(0.3, 0.9)}))
        vectors[text] = [(3.0 if harmful else -3.0) + rng.gauss(0, 0.5), rng.gauss(0, 1), rng.gauss(0, 1)]
    return items, vectors


class Embedder:
    """Scripted representations, counting what it was asked to embed."""

    def __init__(self, vectors: dict[str, list[float]], failure: Exception | None = None) -> None:
        self.vectors, self.failure, self.asked = vectors, failure, []

    def __call__(self, texts: list[str]) -> list[list[float]]:
        self.asked.extend(texts)
        if self.failure is not None:
            raise self.failure
        return [self.vectors[text] for text in texts]
