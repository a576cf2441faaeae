"""Setup shared by the commands that classify: profile, backend, examples, classifier."""

from __future__ import annotations

import sys

from tactful.backends import Backend, open_backend
from tactful.bank.selection import balanced_examples, fixed_examples, usable_examples
from tactful.bank.store import load_bank
from tactful.engine.cache import ResultCache
from tactful.engine.classifier import Classifier
from tactful.engine.prompt import PromptBuilder
from tactful.paths import prompt_states_dir, results_cache_path
from tactful.profile.load import Profile
from tactful.settings import Settings


def warn(message: str) -> None:
    print(f"tactful: warning: {message}", file=sys.stderr, flush=True)


def make_backend(settings: Settings) -> Backend:
    return open_backend(settings.profile.model, settings.retry, prompt_states_dir())


def make_classifier(settings: Settings, backend: Backend, use_cache: bool = False, check_calibration: bool = True) -> Classifier:
    """The classifier for resolved settings; ``use_cache`` reads and fills the results cache.

    Call ``close()`` on it when done (it closes the cache).
    """
    profile = settings.profile
    bank = usable_examples(load_bank(profile.examples_path), profile, warn)
    strategy = profile.task.example_selection
    select_for_item = None
    if strategy == "similar" and bank:
        from tactful.backends import open_embedder
        from tactful.bank.similar import selector_for

        # The selector owns the embedder it opens; Classifier.close closes the selector.
        select_for_item = selector_for(profile, bank, open_embedder)
        fixed = []
    elif strategy == "fixed":
        fixed = fixed_examples(bank, profile)
    else:
        fixed = balanced_examples(bank, profile)
    builder = PromptBuilder(profile, fixed)
    cache = ResultCache(results_cache_path(), warn) if use_cache else None
    if check_calibration:
        warn_if_stale(profile, builder.fingerprint, backend)
    return Classifier(profile, backend, builder, select_for_item, warn=warn, cache=cache)


def warn_if_stale(profile: Profile, fingerprint: str, backend: Backend) -> None:
    """Say once when the profile's thresholds were fitted for another model or prompt."""
    fitted = profile.calibration
    if not fitted:
        return
    changed = []
    if fitted.get("prompt") not in (None, fingerprint):
        changed.append(f"prompt {fitted['prompt']} (now {fingerprint}: categories, examples or mode changed)")
    if fitted.get("model") is not None and backend.name != "none":
        model = backend.model_id()  # may ask the server: once
        if fitted["model"] != model:
            changed.append(f"model {fitted['model']} (now {model})")
    if changed:
        warn(f"the thresholds were calibrated for {' and '.join(changed)}; run `tactful calibrate` again")
