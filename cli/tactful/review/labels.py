"""The labels file a review writes: one answer a line, safe from kills, readable by calibrate and eval.

Each answer is one JSON line in the example bank's format, ``{"id", "text", "labels"}``
(``labels``: the categories the moderator chose, ``[]`` for acceptable content), which
`tactful calibrate FILE`, `tactful eval FILE` and `tactful examples import FILE` read as
they are. A line is appended, flushed and fsynced the moment the key is pressed, so a
kill loses nothing that was answered.

Undo rewrites the file without the undone line, atomically (``io.atomic``), rather than
appending a retraction: a retraction line would be a line calibrate and eval cannot read,
and until they learnt to, the undone answer would still count. Appends and the rewrite hold
the file's edit lock, so two reviews of the same file cannot lose each other's lines.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tactful.errors import IOFailure, UsageError
from tactful.evaluation.labels import BANK_LABEL_FIELD
from tactful.io.atomic import atomic_write_text, locked
from tactful.io.streams import failing_as

_log = logging.getLogger(__name__)
WHAT_IT_HOLDS = "--labels takes the file `tactful review` writes (JSON lines with id, text and labels)"


@dataclass(frozen=True)
class Labelled:
    """One text a moderator labelled, and what the model gave it (None: not judged yet)."""

    id: str
    text: str
    labels: tuple[str, ...]  # the categories chosen; () is acceptable content
    scores: Mapping[str, float] | None = None

    def to_line(self) -> str:
        entry = {"id": self.id, "text": self.text, BANK_LABEL_FIELD: list(self.labels)}
        return json.dumps(entry, ensure_ascii=False) + "\n"


class LabelsFile:
    """The answers on disk: read once when a review starts, then appended to and undone."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[Labelled]:
        """Every answer in the file, in the order given (an absent file holds none).

        A last line cut short by a kill mid-write is dropped from the file, with a warning:
        it was never a whole answer, and appending after it would glue two lines together.
        """
        if not self.path.exists():
            return []
        with failing_as(str(self.path), "cannot read the labels"):
            raw = self.path.read_bytes()
        lines = raw.decode("utf-8", errors="replace").splitlines()
        torn = bool(raw) and not raw.endswith(b"\n") and _parsed(lines[-1]) is None
        if torn:
            _log.warning(f"{self.path}:{len(lines)}: a line cut short (a kill while it was written); dropped")
            lines.pop()
            self._rewrite(lines)
        return [answer for number, line in enumerate(lines, start=1)
                if (answer := self._answer(line, number)) is not None]

    def check_writable(self) -> None:
        """Refuse (exit 5) a labels file that cannot be appended to, naming it and why."""
        folder = self.path.parent
        if not folder.is_dir():
            raise IOFailure(f"{self.path}: cannot save answers: no such directory {folder}")
        if not os.access(self.path if self.path.exists() else folder, os.W_OK):
            raise IOFailure(f"{self.path}: cannot save answers: permission denied")

    def append(self, answers: Iterable[Labelled]) -> None:
        """Add answers at the end, on disk before this returns."""
        text = "".join(answer.to_line() for answer in answers)
        with locked(self.path), failing_as(str(self.path), "cannot save the answer"), \
                open(self.path, "a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    def retract(self, answer: Labelled) -> None:
        """Remove the last line holding ``answer`` (its id, text and labels), atomically."""
        wanted = answer.to_line().rstrip("\n")
        with locked(self.path):
            with failing_as(str(self.path), "cannot undo"):
                lines = self.path.read_text(encoding="utf-8").splitlines()
            for index in range(len(lines) - 1, -1, -1):
                if _same(lines[index], wanted):
                    del lines[index]
                    break
            self._rewrite(lines)

    def _rewrite(self, lines: Sequence[str]) -> None:
        atomic_write_text(self.path, "".join(f"{line}\n" for line in lines))

    def _answer(self, line: str, number: int) -> Labelled | None:
        if not line.strip():
            return None
        entry = _parsed(line)
        problem = _problem(entry)
        if problem is not None:
            raise UsageError(f"{self.path}:{number}: {problem}, so this is not a labels file; {WHAT_IT_HOLDS}: "
                             "choose another --labels")
        assert isinstance(entry, dict)
        return Labelled(str(entry["id"]), entry["text"], tuple(entry[BANK_LABEL_FIELD]))


def _parsed(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return None


def _problem(entry: Any) -> str | None:
    """What keeps a parsed line from being an answer, or None."""
    if not isinstance(entry, dict):
        return "not a JSON object"
    if not isinstance(entry.get("id"), (str, int)) or isinstance(entry.get("id"), bool):
        return "no id"
    if not isinstance(entry.get("text"), str):
        return "no text"
    labels = entry.get(BANK_LABEL_FIELD)
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        return f"'{BANK_LABEL_FIELD}' is not a list of categories"
    return None


def _same(line: str, wanted: str) -> bool:
    """The same answer, however the line's JSON was spaced (another tool may have written it)."""
    return line == wanted or _parsed(line) == json.loads(wanted)
