"""Every place on disk tactful uses by default, in one module.

Locations follow the platform's conventions through platformdirs (XDG on Linux:
``$XDG_CONFIG_HOME/tactful``, ``$XDG_CACHE_HOME/tactful``), so tests and users move them
all by setting those variables. Only the models folder has its own override,
``$TACTFUL_MODELS_DIR``, because models are large and often live on another disk.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "tactful"
ENV_MODELS_DIR = "TACTFUL_MODELS_DIR"


def config_dir() -> Path:
    return platformdirs.user_config_path(APP)


def cache_dir() -> Path:
    return platformdirs.user_cache_path(APP)


def user_profile_path() -> Path:
    """The user's own profile, used when no flag, variable or project file names one."""
    return config_dir() / "profile.toml"


def results_cache_path() -> Path:
    return cache_dir() / "results.sqlite"


def embeddings_cache_path() -> Path:
    return cache_dir() / "embeddings.sqlite"


def prompt_states_dir() -> Path:
    """Saved llama.cpp states after a fixed prompt prefix (the embedded backend's warm start)."""
    return cache_dir() / "prompt-states"


def locks_dir() -> Path:
    return cache_dir() / "locks"


def models_dir() -> Path:
    """Where `tactful models fetch` puts pinned models."""
    env = os.environ.get(ENV_MODELS_DIR)
    return Path(env).expanduser() if env else cache_dir() / "models"


def ollama_models_dir() -> Path:
    """Ollama's own store (``$OLLAMA_MODELS``, else ``~/.ollama/models``), read for pulled models."""
    env = os.environ.get("OLLAMA_MODELS")
    return Path(env).expanduser() if env else Path.home() / ".ollama" / "models"
