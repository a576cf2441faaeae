"""`--output FILE` for runs that may stop at any moment and go on later with `--resume`.

Results are written one complete line at a time, in input order, so after a crash the
file is a prefix of the run with at most a torn last line: line *n* is the result of
input record *n*. Resuming checks exactly that before anything is written or a model
loaded (a file of other results, or of another input, is refused: appending to it would
mix two runs, and counting its lines as done would skip records never judged), then
drops the torn line and appends the rest.

A line is matched to its record by the record's id (the value at ``--id-field``, the same
in the input record and the output line, which repeats the input's fields); a record
with no id of its own, by all of its fields.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from tactful.errors import UsageError
from tactful.io.readers import lookup
from tactful.io.streams import NamedStream, failing_as
from tactful.records import InputRecord

START_AGAIN = "use --force to start again, or choose another --output"


def record_id(data: Any, id_field: str) -> str | None:
    """The record's own id as text, or None when it has none usable."""
    if not isinstance(data, dict):
        return None
    value = lookup(data, id_field)
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def record_key(data: Any, id_field: str) -> str:
    """What tells a record, and the output line written for it, from every other one."""
    rid = record_id(data, id_field)
    if rid is not None:
        return f"id {rid}"
    # The line is the record's fields plus `moderation` (which replaces one the input had).
    fields = {k: v for k, v in data.items() if k != "moderation"} if isinstance(data, dict) else data
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return "fields " + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


@dataclass
class Finished:
    """The results an earlier run wrote: one key per line, in input order."""

    keys: list[str] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return len(self.keys)

    def rest(self, records: Iterable[InputRecord], path: Path, id_field: str) -> Iterator[InputRecord]:
        """The records that still need a line.

        The first ``lines`` records are read and checked against the file's lines now,
        not as the run goes: a mismatch found after the first new line was appended
        would leave a file that is neither run's.
        """
        remaining = iter(records)
        for number, key in enumerate(self.keys, start=1):
            record = next(remaining, None)
            if record is None:
                raise UsageError(
                    f"{path}: holds {self.lines} results but the input has {number - 1} records, so it is "
                    f"not this input's output; {START_AGAIN}"
                )
            if record_key(record.data, id_field) != key:
                raise UsageError(
                    f"{path}:{number}: not the result of input record {number} ({record.source}), so the file "
                    f"holds another input's results; {START_AGAIN}"
                )
        return remaining


@dataclass
class OutputFile:
    path: Path
    handle: IO[str]
    done: int = 0  # lines an earlier run wrote, kept

    @classmethod
    def open(cls, path: Path, finished: Finished | None) -> OutputFile:
        """Open ``path`` for results: after ``finished`` (an earlier run's lines, its torn
        last line dropped), or from the start when None."""
        with failing_as(str(path), "cannot write output"):
            if finished is not None and path.is_file():
                drop_torn_line(path)
            handle = open(path, "w" if finished is None else "a", encoding="utf-8")  # noqa: SIM115 (the OutputFile owns it)
        done = finished.lines if finished is not None else 0
        return cls(path, cast(IO[str], NamedStream(handle, str(path))), done)

    def close(self) -> None:
        self.handle.close()


def read_finished(path: Path, id_field: str) -> Finished:
    """The results already in ``path``; refuses a file whose lines are not tactful results.

    A last line with no newline is a write cut short: it is not counted, and `OutputFile.open` drops it.
    """
    if not path.exists():
        return Finished()
    if not path.is_file():
        raise UsageError(f"{path}: not a regular file, so there is nothing to resume: drop --resume")
    finished = Finished()
    with failing_as(str(path), "cannot resume this output"), open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                break
            finished.keys.append(record_key(_result(raw, path, number), id_field))
    return finished


def _result(raw: bytes, path: Path, number: int) -> dict[str, Any]:
    """One line's record, if it is a result tactful wrote (a JSON object with `moderation`)."""
    try:
        obj = json.loads(raw)
    except ValueError:
        obj = None
    if not isinstance(obj, dict) or not isinstance(obj.get("moderation"), dict):
        raise UsageError(
            f"{path}:{number}: not a result line written by tactful (a JSON object with 'moderation'), "
            f"so the run cannot be resumed; {START_AGAIN}"
        )
    return obj


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
