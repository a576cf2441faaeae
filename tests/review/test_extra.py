"""Without the review extra, an interactive review says what to install instead of failing on an import."""

from __future__ import annotations

import importlib.util

from tactful import review


def test_a_missing_library_is_named_with_the_install_command(monkeypatch):
    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "textual" else found(name, *a))
    assert review.missing_extra() == "the review queue needs textual (the terminal interface): pip install 'tactful[review]'"
    monkeypatch.setattr(importlib.util, "find_spec", found)
    assert review.missing_extra() is None
