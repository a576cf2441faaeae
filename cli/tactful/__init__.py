"""tactful: personal harmful-content detection with local LLMs.

The Python API is ``tactful.Moderator`` (see ``tactful.moderator``); errors are in
``tactful.errors``. Warnings go to the ``tactful`` logger (``logging.getLogger("tactful")``):
configure logging to see them; the command line prints them on stderr.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

__all__ = ["Moderator", "__version__"]

# A library installs no handler of its own: the program using it decides where warnings go.
logging.getLogger(__name__).addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from tactful.moderator import Moderator

    __version__: str


def __getattr__(name: str) -> Any:
    # Looked up on first use, so that `tactful --help` does not load the engine.
    if name == "Moderator":
        from tactful.moderator import Moderator

        return Moderator
    if name == "__version__":  # written once, in pyproject.toml; the installed metadata has it
        from importlib.metadata import version

        return version("tactful")
    raise AttributeError(f"module 'tactful' has no attribute {name!r}")
