"""Setup shared by the commands that classify: profile, backend, examples, classifier."""

from __future__ import annotations

import sys

from tactful.backends import Backend, open_backend
from tactful.bank.selection import balanced_examples, fixed_examples, usable_examples
from tactful.bank.store import load_bank
from tactful.engine.cache import ResultCache
from tactful.engine.classifier import Classifier
from tactful.engine.prompt import PromptBuilder
from tactful.paths import results_cache_path
from tactful.settings import Settings


def warn(message: str) -> None:
    print(f"tactful: warning: {message}", file=sys.stderr, flush=True)


def make_backend(settings: Settings) -> Backend:
    return open_backend(settings.profile.model, settings.retry, logprobs=settings.scores)


def make_classifier(settings: Settings, backend: Backend, use_cache: bool = False) -> Classifier:
    """The classifier for resolved settings; ``use_cache`` reads and fills the results cache.

    Call ``close()`` on it when done (it closes the cache).
    """
    profile = settings.profile
    bank = usable_examples(load_bank(profile.examples_path), profile, warn)
    strategy = profile.task.example_selection
    select_for_item = None
    if strategy == "similar" and bank:
        from tactful.backends import open_embedder
        from tactful.bank.similar import SimilarSelector

        # The selector owns the embedder it opens; Classifier.close closes the selector.
        select_for_item = SimilarSelector.for_profile(profile, bank, open_embedder)
        fixed = []
    elif strategy == "fixed":
        fixed = fixed_examples(bank, profile)
    else:
        fixed = balanced_examples(bank, profile)
    builder = PromptBuilder(profile, fixed)
    cache = ResultCache(results_cache_path(), warn) if use_cache else None
    return Classifier(profile, backend, builder, select_for_item, want_scores=settings.scores, warn=warn, cache=cache)
