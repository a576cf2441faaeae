"""Setup shared by the commands that classify: profile, backend, examples, classifier."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from tactful.backends import Backend, open_backend
from tactful.backends.retry import RetryPolicy
from tactful.bank.selection import balanced_examples, fixed_examples, usable_examples
from tactful.bank.store import load_bank
from tactful.engine.cache import ResultCache
from tactful.engine.classifier import Classifier
from tactful.engine.prompt import PromptBuilder
from tactful.paths import results_cache_path
from tactful.profile.load import Profile, ProfileLocation, load_profile, locate_profile


@dataclass(frozen=True)
class ModelChoice:
    """Command-line overrides of the profile's model and task settings."""

    profile: Path | None = None
    model: str | None = None
    host: str | None = None
    backend: str | None = None
    mode: str | None = None
    explain: bool | None = None
    normalize: bool | None = None
    retries: int | None = None


def warn(message: str) -> None:
    print(f"tactful: warning: {message}", file=sys.stderr, flush=True)


def load_settings(choice: ModelChoice) -> tuple[Profile, ProfileLocation]:
    location = locate_profile(choice.profile)
    profile = load_profile(location)
    profile = profile.with_overrides(mode=choice.mode, explain=choice.explain, normalize=choice.normalize)
    profile = profile.with_model(name=choice.model, host=choice.host, backend=choice.backend)
    return profile, location


def make_backend(profile: Profile, choice: ModelChoice, scores: bool = False) -> Backend:
    return open_backend(profile.model, RetryPolicy.configured(choice.retries), logprobs=scores)


def make_classifier(profile: Profile, backend: Backend, scores: bool = False, use_cache: bool = False) -> Classifier:
    """The classifier for a profile; ``use_cache`` reads and fills the results cache.

    Call ``close()`` on it when done (it closes the cache).
    """
    bank = usable_examples(load_bank(profile.examples_path), profile, warn)
    strategy = profile.task.example_selection
    select_for_item = None
    if strategy == "similar" and bank:
        from tactful.bank.similar import SimilarSelector

        select_for_item = SimilarSelector.for_profile(profile, bank)
        fixed = []
    elif strategy == "fixed":
        fixed = fixed_examples(bank, profile)
    else:
        fixed = balanced_examples(bank, profile)
    builder = PromptBuilder(profile, fixed)
    cache = ResultCache(results_cache_path(), warn) if use_cache else None
    return Classifier(profile, backend, builder, select_for_item, want_scores=scores, warn=warn, cache=cache)
