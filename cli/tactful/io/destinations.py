"""What tactful may write where: one rule for every file a command writes.

- A file the run reads (an input, the labelled set, the profile, its example bank and
  policy tests, standard input when it is a file) is never written, however the
  destination names it: the same path, a symlink, a hard link or ``/dev/stdout`` all
  come down to one device and inode. Opening it for writing would empty it before it
  is read, so --force and --resume do not lift this.
- An existing file with content is replaced (or, with --resume, appended to) only when
  the user said so.
- A directory is never a destination.

Each command asks here before it opens anything for writing or loads a model, so a
refusal costs nothing and touches nothing. Devices and pipes (``/dev/null``,
``/dev/full``, a FIFO) hold no data to lose and are never refused as inputs.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from tactful.errors import UsageError
from tactful.io.readers import STDIN

if TYPE_CHECKING:
    from tactful.profile.load import Profile

FileId = tuple[int, int]


def claim(path: Path, option: str, reads: Iterable[str | Path], overwrite: bool = False, remedy: str | None = None) -> None:
    """Refuse ``path`` as what ``option`` writes unless writing it destroys nothing.

    ``reads``: every file this run reads (``-`` is standard input). ``overwrite``: the
    user allowed an existing file to be replaced or appended to (--force, --resume).
    ``remedy``: what to do about an existing file, when more than --force applies.
    """
    if path.is_dir():
        raise UsageError(f"{path}: is a directory; {option} takes a file name")
    _refuse_input(path, option, reads)
    if not overwrite and has_content(path):
        raise UsageError(f"{path}: already exists; {remedy or f'add --force to overwrite it, or choose another {option}'}")


def refuse_stdout_onto_input(reads: Iterable[str | Path]) -> None:
    """Standard output redirected into a file the run reads (``classify in.jsonl >> in.jsonl``)
    would feed its own results back to it without end."""
    here = _fd_id(1)
    source = _matching(here, reads) if here is not None else None
    if source is not None:
        raise UsageError(f"standard output is {_named(source)}, an input of this run: redirect it to another file, or use --output")


def profile_files(profile: Profile) -> list[Path]:
    """The files a profile brings to a run: itself, its example bank, its policy tests."""
    return [p for p in (profile.path, profile.examples_path, profile.tests_path) if p is not None]


def has_content(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def _refuse_input(path: Path, option: str, reads: Iterable[str | Path]) -> None:
    here = _path_id(path)
    source = _matching(here, reads) if here is not None else None
    if source is None:
        return
    which = "an input" if str(source) == str(path) else f"the same file as {_named(source)}, an input"
    raise UsageError(f"{path}: is {which} of this run, and writing it would destroy it: choose another {option}")


def _matching(target: FileId, reads: Iterable[str | Path]) -> str | Path | None:
    """The first of ``reads`` that is the file ``target``, if any."""
    for source in reads:
        if (_fd_id(0) if str(source) == STDIN else _path_id(Path(source))) == target:
            return source
    return None


def _named(source: str | Path) -> str:
    return "standard input" if str(source) == STDIN else str(source)


def _path_id(path: Path) -> FileId | None:
    try:
        return _regular_id(os.stat(path))
    except (OSError, ValueError):  # absent, unreadable, or a name the OS rejects
        return None


def _fd_id(fd: int) -> FileId | None:
    try:
        return _regular_id(os.fstat(fd))
    except OSError:  # closed
        return None


def _regular_id(status: os.stat_result) -> FileId | None:
    """Device and inode of a regular file: the identity every name of it shares."""
    return (status.st_dev, status.st_ino) if stat.S_ISREG(status.st_mode) else None
