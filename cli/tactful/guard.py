"""The streaming guard: judge a growing text at clause boundaries and stop it early.

Text arrives in pieces (an LLM's answer as it is generated, a live feed). The guard
keeps the text so far and judges all of it each time a clause or sentence has ended
and enough new text has arrived; the moment a check flags it, nothing more is passed
on. Each check judges the whole text so far, so the model sees the context; the
backends make that incremental (llama.cpp keeps the earlier tokens in its state and
evaluates only the new ones; a server's prefix cache does the same).

Text is passed on only once a check has judged it (``hold``, the default), so nothing
unjudged reaches the reader; without ``hold`` it passes as it arrives and the stop cuts
the rest. ``Guard`` is pure logic over a ``judge`` function: the command feeds it stdin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from tactful.records import Moderation

# Where a clause or sentence ends: punctuation followed by space, or a line break.
BOUNDARY = re.compile(r"[.!?;:,)\]\"'](?=\s)|\n")


@dataclass(frozen=True)
class GuardOptions:
    every: int = 80  # new characters between checks (a check waits for a boundary)
    first: int = 40  # characters before the first check
    hold: bool = True  # pass text on only once a check has judged it
    # A text that never reaches a boundary is checked anyway after this many new characters.
    force_after: int = 400


@dataclass(frozen=True)
class Event:
    """What happened: "pass" (text to write), "check", "stop" or "end"."""

    kind: str
    offset: int  # characters of the stream up to this event (passed text: its end)
    text: str = ""  # the text to pass on ("pass")
    moderation: Moderation | None = None  # the check's verdict ("check", "stop")


@dataclass
class Guard:
    judge: Callable[[str], Moderation]
    options: GuardOptions = field(default_factory=GuardOptions)

    def __post_init__(self) -> None:
        self.text = ""
        self.passed = 0  # characters passed on
        self.checked = 0  # characters covered by the last check
        self.checks = 0
        self.stopped: Moderation | None = None

    def feed(self, pieces: Iterable[str]) -> Iterator[Event]:
        """Events for a stream of pieces, ending with "stop" or "end"."""
        for piece in pieces:
            yield from self._add(piece)
            if self.stopped:
                return
        if self.checked < len(self.text):  # the tail since the last check
            yield from self._check(len(self.text))
            if self.stopped:
                return
        yield from self._release(len(self.text))
        yield Event("end", len(self.text))

    def _add(self, piece: str) -> Iterator[Event]:
        self.text += piece
        if not self.options.hold:
            yield from self._release(len(self.text))
        # Check at every boundary that is due, however the text was split into pieces, so
        # a stream stops at the same place whether it arrives token by token or at once.
        while (due := self._due()) is not None:
            yield from self._check(due)
            if self.stopped:
                return
            yield from self._release(due)

    def _due(self) -> int | None:
        """Where the next check should end, if one is due now."""
        wanted = self.options.first if self.checks == 0 else self.options.every
        if len(self.text) - self.checked < wanted:
            return None
        boundary = BOUNDARY.search(self.text, self.checked + wanted - 1)
        if boundary is not None:
            return boundary.end()
        if len(self.text) - self.checked >= self.options.force_after:
            return len(self.text)
        return None

    def _check(self, end: int) -> Iterator[Event]:
        if not self.text[:end].strip():
            # Blank so far: nothing to judge, and no check made (a stream of blanks judged
            # nothing, like an empty one, and is no success).
            self.checked = end
            return
        moderation = self.judge(self.text[:end])
        self.checks += 1
        self.checked = end
        if moderation.flagged is not False:  # flagged, or not judged: fail closed
            self.stopped = moderation
            yield Event("stop", self.passed, moderation=moderation)
        else:
            yield Event("check", end, moderation=moderation)

    def _release(self, end: int) -> Iterator[Event]:
        if end > self.passed:
            yield Event("pass", end, self.text[self.passed:end])
            self.passed = end
