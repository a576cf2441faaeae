"""Turning Ctrl-C and SIGTERM into an orderly stop.

A signal raises ``Stopped`` in the main thread, where the run loop is; its ``finally``
blocks then close the output (complete lines only) and say how to resume. Exit codes
follow the shell convention, 128 + signal: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from tactful.errors import Stopped

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    # A second signal during the clean-up kills the way the user expects.
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_DFL if sig != signal.SIGINT else signal.default_int_handler)
    raise Stopped(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise ``Stopped`` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
