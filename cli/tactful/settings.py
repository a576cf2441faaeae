"""Settings resolved once per run: command-line flags over the profile over defaults.

A command builds ``Overrides`` from its flags; ``resolve`` finds and loads the profile,
applies the overrides and returns one ``Settings`` that everything below the command
layer reads. No other module looks at flags, and none re-reads the profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tactful.backends.model_store import DEFAULT_PINNED, ollama_blob
from tactful.backends.retry import RetryPolicy
from tactful.profile.load import Profile, ProfileLocation, load_profile, locate_profile
from tactful.profile.schema import DEFAULT_MODEL


@dataclass(frozen=True)
class Overrides:
    """What the command line says; None means "not given, use the profile"."""

    profile: Path | None = None
    model: str | None = None
    hosts: Sequence[str] | None = None  # --host, repeatable
    backend: str | None = None
    mode: str | None = None
    explain: bool | None = None
    normalize: bool | None = None
    retries: int | None = None
    scores: bool = False


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know besides its input."""

    profile: Profile
    location: ProfileLocation
    retry: RetryPolicy
    scores: bool = False

    def with_mode(self, mode: str) -> Settings:
        return replace(self, profile=self.profile.with_overrides(mode=mode))


def resolve(overrides: Overrides) -> Settings:
    location = locate_profile(overrides.profile)
    profile = load_profile(location)
    profile = profile.with_overrides(mode=overrides.mode, explain=overrides.explain, normalize=overrides.normalize)
    profile = profile.with_model(name=overrides.model, backend=overrides.backend)
    if overrides.hosts:  # the command line's servers replace the profile's host and hosts
        profile = profile.with_model(host=overrides.hosts[0], hosts=tuple(dict.fromkeys(overrides.hosts)))
    if profile.model.backend == "openai" and overrides.model is None and profile.model.name == DEFAULT_MODEL:
        # Ollama's default name means nothing to another server: use the model it serves.
        profile = profile.with_model(name="")
    if _default_model_missing_in_process(profile, overrides):
        # `tactful models fetch` provides this one: the embedded backend's own default.
        profile = profile.with_model(name=DEFAULT_PINNED)
    # Calibrated thresholds apply to probabilities: a calibrated profile always asks for them.
    scores = overrides.scores or bool(profile.calibration)
    return Settings(profile, location, RetryPolicy.configured(overrides.retries), scores)


def _default_model_missing_in_process(profile: Profile, overrides: Overrides) -> bool:
    """The Ollama default model on the embedded backend, with no Ollama copy to read it from."""
    model = profile.model
    return (model.backend == "embedded" and overrides.model is None and model.name == DEFAULT_MODEL
            and ollama_blob(DEFAULT_MODEL) is None)
