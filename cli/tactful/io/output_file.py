"""`--output FILE` for runs that may stop at any moment and go on later with `--resume`.

Results are written one complete line at a time, in input order, so after a crash the
file is a prefix of the run with at most a torn last line. Resuming drops that torn line,
notes which records already have a line, and appends the rest.

A record is matched by its id (the value at ``--id-field``, the same in the input record
and the output line, which repeats the input's fields). Records with no id of their own
are matched by position: output line *n* belongs to input record *n*, because every
record gets exactly one line, in order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tactful.errors import UsageError
from tactful.io.readers import lookup
from tactful.records import InputRecord


def record_id(data: Any, id_field: str) -> str | None:
    """The record's own id as text, or None when it has none usable."""
    if not isinstance(data, dict):
        return None
    value = lookup(data, id_field)
    return None if value is None or isinstance(value, (dict, list)) else str(value)


@dataclass
class Finished:
    """Records that already have a line in the output file."""

    ids: set[str] = field(default_factory=set)
    positions: set[int] = field(default_factory=set)  # lines whose record has no id
    lines: int = 0

    def has(self, index: int, record: InputRecord, id_field: str) -> bool:
        rid = record_id(record.data, id_field)
        return rid in self.ids if rid is not None else index in self.positions


@dataclass
class OutputFile:
    path: Path
    handle: IO[str]
    finished: Finished
    id_field: str
    skipped: int = 0

    @classmethod
    def open(cls, path: Path, resume: bool, force: bool, id_field: str) -> OutputFile:
        finished = Finished()
        if resume and path.exists():
            try:
                drop_torn_line(path)
                finished = read_finished(path, id_field)
            except OSError as exc:  # read-only, a directory, gone: one line, as without --resume
                raise UsageError(f"{path}: cannot resume this output: {exc.strerror}") from None
        elif not force and _has_content(path):
            raise UsageError(
                f"{path}: already holds results; add --resume to go on where it stopped, "
                "--force to overwrite it, or choose another --output"
            )
        try:
            handle = open(path, "a" if resume else "w", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{path}: cannot write output: {exc.strerror}") from None
        return cls(path, handle, finished, id_field)

    def pending(self, records: Iterable[InputRecord]) -> Iterator[InputRecord]:
        """The records that still need a line."""
        for index, record in enumerate(records):
            if self.finished.has(index, record, self.id_field):
                self.skipped += 1
            else:
                yield record

    def close(self) -> None:
        self.handle.close()


def _has_content(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def drop_torn_line(path: Path) -> bool:
    """Cut a last line that has no newline (a write cut short); True if one was cut."""
    with open(path, "r+b") as handle:
        size = handle.seek(0, 2)
        if size == 0:
            return False
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return False
        keep = _last_newline_end(handle, size)
        handle.truncate(keep)
        return True


def _last_newline_end(handle: IO[bytes], size: int, block: int = 1 << 16) -> int:
    """The offset just past the last newline, reading backwards a block at a time."""
    end = size
    while end > 0:
        start = max(0, end - block)
        handle.seek(start)
        chunk = handle.read(end - start)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        end = start
    return 0


def read_finished(path: Path, id_field: str) -> Finished:
    finished = Finished()
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                obj = json.loads(raw)
            except ValueError:
                raise UsageError(
                    f"{path}:{number}: not a JSON line written by tactful, so the run cannot be resumed "
                    "(use --force to start it again, or another --output)"
                ) from None
            rid = record_id(obj, id_field)
            if rid is None:
                finished.positions.add(number - 1)
            else:
                finished.ids.add(rid)
            finished.lines = number
    return finished
