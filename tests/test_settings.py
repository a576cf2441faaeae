"""Settings: what the command line says, read by name only."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from tactful.settings import Overrides


def test_overrides_are_named_never_positional() -> None:
    # model, backend and mode are all optional strings: by position, a reordering would swap them.
    with pytest.raises(TypeError):
        Overrides(Path("p.toml"), "qwen2.5:3b")  # type: ignore[misc]
    assert Overrides(model="qwen2.5:3b", backend="ollama").model == "qwen2.5:3b"


def test_overrides_are_frozen() -> None:
    overrides = Overrides(mode="binary")
    with pytest.raises(dataclasses.FrozenInstanceError):
        overrides.mode = "multilabel"  # type: ignore[misc]
