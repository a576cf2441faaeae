"""`tactful review`: the review queue (``queue.pick``), the labels file, the refit and the terminal interface."""

from __future__ import annotations

import importlib.util

# What the review extra brings, by the module each is imported as.
EXTRA_MODULES = {"textual": "the terminal interface", "sklearn": "the refit's cross-validation"}
EXTRA = "pip install 'tactful[review]'"


def missing_extra() -> str | None:
    """What is missing for an interactive review, and how to install it; None when nothing is."""
    missing = [f"{module} ({why})" for module, why in EXTRA_MODULES.items() if importlib.util.find_spec(module) is None]
    return f"the review queue needs {' and '.join(missing)}: {EXTRA}" if missing else None
