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
from tactful.backends.urls import ollama_url, setting_url
from tactful.errors import ConfigError, UsageError
from tactful.profile.load import (
    ModelSettings,
    Profile,
    ProfileLocation,
    load_profile,
    locate_profile,
)
from tactful.profile.schema import ATTRIBUTE_NAME, BACKENDS, DEFAULT_MODEL, MODES


@dataclass(frozen=True, kw_only=True)
class Overrides:
    """What the command line says; None means "not given, use the profile".

    Keyword-only: several neighbouring fields share a type, so a positional call that
    listed them in another order would silently swap their meanings.
    """

    profile: Path | None = None
    model: str | None = None
    hosts: Sequence[str] | None = None  # --host, repeatable
    backend: str | None = None
    mode: str | None = None
    explain: bool | None = None
    normalize: bool | None = None
    retries: int | None = None
    scores: bool = False
    attributes: Sequence[str] | None = None  # --attribute NAME=SLUG, repeatable (`tactful serve`)


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
    mode, backend = _choice(overrides.mode, MODES, "--mode"), _choice(overrides.backend, BACKENDS, "--backend")
    profile = profile.with_overrides(mode=mode, explain=overrides.explain, normalize=overrides.normalize)
    profile = profile.with_model(name=_model_flag(overrides.model), backend=backend)
    profile = replace(profile, model=_servers(profile.model, overrides.hosts))
    if profile.model.backend == "openai" and overrides.model is None and profile.model.name == DEFAULT_MODEL:
        # Ollama's default name means nothing to another server: use the model it serves.
        profile = profile.with_model(name="")
    if _default_model_missing_in_process(profile, overrides):
        # `tactful models fetch` provides this one: the embedded backend's own default.
        profile = profile.with_model(name=DEFAULT_PINNED)
    _require_model_name(profile.model, location)
    profile = _attributes(profile, overrides.attributes or ())
    # Calibrated thresholds apply to probabilities: a calibrated profile always asks for them.
    scores = overrides.scores or bool(profile.calibration)
    return Settings(profile, location, RetryPolicy.configured(overrides.retries), scores)


def _choice(value: str | None, choices: Sequence[str], flag: str) -> str | None:
    """A choice as given; the CLI's options only offer valid ones, the Python API takes any string."""
    if value is not None and value not in choices:
        raise UsageError(f"{flag} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _attributes(profile: Profile, flags: Sequence[str]) -> Profile:
    """The profile's [serve.attributes] with each ``--attribute NAME=SLUG`` over it."""
    given: dict[str, str] = {}
    for pair in flags:
        name, sep, slug = pair.partition("=")
        if not sep or not ATTRIBUTE_NAME.match(name) or not slug:
            raise UsageError(f"--attribute {pair!r}: expected NAME=SLUG with NAME in capitals, e.g. --attribute INSULT=harassment")
        if slug not in profile.slugs:
            raise UsageError(f"--attribute {pair!r}: the profile has no category {slug!r} (it has: {', '.join(profile.slugs)})")
        given[name] = slug
    if not given:
        return profile
    return replace(profile, serve=replace(profile.serve, attributes={**profile.serve.attributes, **given}))


def _model_flag(model: str | None) -> str | None:
    """``--model`` as given; an empty one would reach the server as a request for no model."""
    if model is not None and not model.strip():
        raise UsageError("--model is empty: name a model, or leave --model out to use the profile's model.name")
    return model


def _require_model_name(model: ModelSettings, location: ProfileLocation) -> None:
    """Only an OpenAI-compatible server picks a model itself (the one it serves); the others need a name."""
    if model.backend != "openai" and not model.name.strip():
        raise ConfigError(f"{location.path or 'built-in profile'}: 'model.name' is empty: name a model "
                          f"(`tactful profile set model.name {DEFAULT_MODEL}`) or pass --model")


def _servers(model: ModelSettings, flags: Sequence[str] | None) -> ModelSettings:
    """The model settings with every server URL parsed once, into ``urls.server_url``'s form.

    The command line's servers replace the profile's host and hosts. Ollama with none
    named gets $OLLAMA_HOST, else its default, so every backend is handed a checked URL;
    a bad one is a UsageError naming where it came from. The same server written twice
    (``gpu`` and ``http://gpu:11434``) is one host.
    """
    if flags:
        given = [(raw, "--host") for raw in flags]
    elif model.hosts:
        given = [(raw, "model.hosts") for raw in model.hosts]
    else:
        given = [] if model.host is None else [(model.host, "model.host")]
    if model.backend == "ollama":
        urls = [ollama_url(raw, source) for raw, source in given] or [ollama_url(None)]
    else:
        urls = [setting_url(raw, source) for raw, source in given]
    if not urls:  # the embedded backend needs none; the openai one says it needs one when opened
        return model
    unique = tuple(dict.fromkeys(urls))
    return replace(model, host=unique[0], hosts=unique)


def _default_model_missing_in_process(profile: Profile, overrides: Overrides) -> bool:
    """The Ollama default model on the embedded backend, with no Ollama copy to read it from."""
    model = profile.model
    return (model.backend == "embedded" and overrides.model is None and model.name == DEFAULT_MODEL
            and ollama_blob(DEFAULT_MODEL) is None)
