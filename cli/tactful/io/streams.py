"""Streams that name themselves when the operating system refuses a write.

A full disk (``> /dev/full``), a closed descriptor (``>&-``) or a lost permission shows
up as a bare ``OSError`` deep inside a ``print``, a rich console or a JSONL writer, with
no file name and, left alone, a traceback and exit 1, which a script reads as "flagged".
Every stream tactful writes results to is wrapped here once, so each such failure
becomes one ``IOFailure``: ``FILE: OS error text``, exit 5. A closed pipe is not a
failure (``| head`` is done reading) and passes through as ``BrokenPipeError``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from tactful.errors import IOFailure


@contextlib.contextmanager
def failing_as(name: str, doing: str = "") -> Iterator[None]:
    """Turn an OSError inside the block into an IOFailure naming ``name``.

    ``doing`` says what was being done when it helps ("cannot resume this output").
    """
    try:
        yield
    except BrokenPipeError:
        raise  # the reader left: a normal end, handled where output is written
    except OSError as exc:
        raise io_failure(name, exc, doing) from None


def io_failure(name: str, exc: OSError, doing: str = "") -> IOFailure:
    """``FILE: [what was being done: ]OS error text``."""
    reason = exc.strerror or str(exc)
    return IOFailure(f"{name}: {doing}: {reason}" if doing else f"{name}: {reason}")


class NamedStream:
    """A text or binary stream whose write, flush and close failures name it.

    Everything else (``isatty``, ``fileno``, ``encoding``...) is the wrapped stream's,
    so consoles and writers treat it as the stream itself.
    """

    def __init__(self, stream: Any, name: str) -> None:
        self._stream = stream
        self.name = name

    def write(self, data: Any) -> int:
        with failing_as(self.name):
            return int(self._stream.write(data))

    def writelines(self, lines: Iterable[Any]) -> None:
        with failing_as(self.name):
            self._stream.writelines(lines)

    def flush(self) -> None:
        with failing_as(self.name):
            self._stream.flush()

    def close(self) -> None:
        with failing_as(self.name):
            self._stream.close()

    @property
    def buffer(self) -> NamedStream:
        """The binary stream under a text one (``guard`` passes bytes through)."""
        return NamedStream(self._stream.buffer, self.name)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._stream, attribute)


class ClosedStream:
    """Standard output when its descriptor was closed at start (``>&-``).

    Python then sets ``sys.stdout`` to None and ``print`` drops everything without a
    word: a run would "succeed" with its results lost. Writing here fails as writing to
    a closed descriptor does.
    """

    closed = False
    encoding = "utf-8"

    def write(self, data: Any) -> int:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    def writelines(self, lines: Iterable[Any]) -> None:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    def flush(self) -> None:
        """Nothing was ever buffered."""

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))


@contextlib.contextmanager
def named_stdout() -> Iterator[NamedStream]:
    """``sys.stdout`` as a NamedStream called "stdout" for the duration of a command."""
    original = sys.stdout
    named = NamedStream(original if original is not None else ClosedStream(), "stdout")
    sys.stdout = named
    try:
        yield named
    finally:
        sys.stdout = original


def discard_stdout() -> None:
    """Send what stdout still holds to /dev/null.

    After a failed write the unwritten text stays in the buffer, and Python flushes it
    again at exit: a second error and exit 120 would follow the one line already shown.
    Also used when the reader of a pipe has gone.
    """
    try:
        target = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # closed, or not a file (tests capture it)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, target)
    finally:
        os.close(devnull)
