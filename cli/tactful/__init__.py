"""tactful: personal harmful-content detection with local LLMs.

The Python API is ``tactful.Moderator`` (see ``tactful.moderator``); errors are in
``tactful.errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Moderator", "__version__"]

if TYPE_CHECKING:
    from tactful.moderator import Moderator


def __getattr__(name: str) -> Any:
    # Imported on first use, so that `tactful --help` does not load the engine.
    if name == "Moderator":
        from tactful.moderator import Moderator

        return Moderator
    raise AttributeError(f"module 'tactful' has no attribute {name!r}")
