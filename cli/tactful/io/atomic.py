"""Safe writes for files a user edits by hand: the profile and the example bank.

A write goes to a temporary file in the same directory, is flushed to disk, then renamed
over the original, so a crash or a full disk leaves either the old file or the new one,
never half of each. A read-modify-write holds a lock so that two tactful processes editing
the same file at once cannot lose each other's changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from tactful.errors import ConfigError
from tactful.io.streams import failing_as, io_failure
from tactful.paths import locks_dir

LOCK_TIMEOUT_S = 30.0


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` all at once; raise IOFailure if it cannot be written.

    A symlink keeps pointing where it did: the file it names is replaced. A device or a
    pipe (``-o /dev/stdout``) has nothing to replace and is written through.
    """
    target = Path(os.path.realpath(path))
    if _is_stream(target):
        with failing_as(str(path)), open(target, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    with failing_as(str(path), "cannot write"):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        _copy_mode(target, temp)
        os.replace(temp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise io_failure(str(path), exc, "cannot write, the file was left as it was") from None
    _fsync_directory(target.parent)


def _is_stream(path: Path) -> bool:
    """A character device or a pipe: written through, never replaced by a file."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _copy_mode(original: Path, temp: str) -> None:
    """The permissions the user chose for the file, or for a new one what the umask allows.

    mkstemp creates files readable by the owner only: a new profile or export would be
    0600 where every other file the user makes is 0644.
    """
    try:
        mode = original.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    os.chmod(temp, mode)


def _umask() -> int:
    current = os.umask(0)  # reading the umask means setting it; put it back at once
    os.umask(current)
    return current


def _fsync_directory(folder: Path) -> None:
    # The rename itself is only durable once the directory entry is on disk.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the edit lock of ``path`` for one read-modify-write."""
    lock = FileLock(str(lock_path(path)), timeout=LOCK_TIMEOUT_S)
    try:
        lock.acquire()
    except Timeout:
        raise ConfigError(
            f"{path}: another tactful has been editing this file for {LOCK_TIMEOUT_S:g} s; "
            f"try again, or delete {lock.lock_file} if no tactful is running"
        ) from None
    try:
        yield
    finally:
        lock.release()


def lock_path(path: Path) -> Path:
    """Where the lock for ``path`` lives.

    Locks live in the user cache directory, not beside the file: a profile is often a
    tactful.toml in a repository, and a stray lock file there would end up in commits.
    """
    digest = hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:16]
    folder = locks_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{digest}.lock"
