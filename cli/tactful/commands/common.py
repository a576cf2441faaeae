"""Setup shared by the commands that classify, on top of ``tactful.moderator``.

Commands say warnings on stderr; the Python API logs them instead.
"""

from __future__ import annotations

import sys

from tactful import moderator
from tactful.backends import Backend
from tactful.engine.classifier import Classifier
from tactful.io.console import say
from tactful.moderator import Moderator, make_backend
from tactful.settings import Settings

__all__ = ["make_backend", "make_classifier", "open_moderator", "warn"]


def warn(message: str) -> None:
    say(f"tactful: warning: {message}", sys.stderr)  # warnings quote file names and file content


def make_classifier(settings: Settings, backend: Backend, use_cache: bool = False, check_calibration: bool = True) -> Classifier:
    return moderator.make_classifier(settings, backend, use_cache, check_calibration, warn=warn)


def open_moderator(settings: Settings, use_cache: bool = False) -> Moderator:
    return Moderator(settings, use_cache=use_cache, warn=warn)
