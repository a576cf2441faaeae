"""Lines changed against a git ref or the index, for `tactful check --diff/--staged`.

Read from ``git diff -U0``: each hunk header gives the new line numbers it touches. A
pure deletion counts as a change to the lines on both sides of it, because the unit that
held the deleted lines now reads differently. Renames are not followed: a renamed file
is new at its new path, so it is judged whole there (and its units are likely cached).

With --staged the content judged is the index's (``Index``), not the working copy's:
what `git commit` records is what the gate must see, and the line numbers of
``git diff --cached`` are line numbers of that content.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tactful.errors import UsageError

# None: every line of the file counts as changed (a file git does not track yet).
Changes = dict[Path, set[int] | None]

_FILE_RE = re.compile(r"^\+\+\+ (?:b/(?P<path>.*)|/dev/null)$")
_HUNK_RE = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")
# Index entries that hold a file's bytes: regular files, executable or not (not symlinks
# or submodules, whose "content" is a target path or a commit id).
_FILE_MODES = {"100644", "100755"}


def changed_lines(paths: list[str], ref: str | None, staged: bool) -> Changes:
    """Changed lines per file (resolved paths), against ``ref`` or, with ``staged``, HEAD."""
    root = _root()
    target = ["--cached"] if staged else [ref or "HEAD"]
    diff = _git("-c", "core.quotePath=false", "diff", "-U0", "--no-color", "--no-ext-diff", "--no-renames", *target, "--", *paths)
    changes: Changes = parse_diff(diff, root)
    if not staged:
        tracked = {(root / name).resolve() for name in _git("ls-files", "--full-name", "-z", "--", *paths).split("\0") if name}
        for name in paths:
            resolved = Path(name).resolve()
            if resolved not in tracked:
                changes[resolved] = None
    return changes


def changed_files(ref: str | None, staged: bool) -> list[str]:
    """Files changed against ``ref`` (with ``staged``, the index), deletions left out,
    as paths relative to the current directory; for --diff, untracked files too."""
    root = _root()
    target = ["--cached"] if staged else [ref or "HEAD"]
    names = _git("-c", "core.quotePath=false", "diff", "--name-only", "--no-renames", "--diff-filter=d", "-z", *target).split("\0")
    if not staged:
        names += _git("ls-files", "--others", "--exclude-standard", "--full-name", "-z", ":/").split("\0")
    here = Path.cwd().resolve()
    found = []
    for name in dict.fromkeys(n for n in names if n):
        path = (root / name).resolve()
        try:
            found.append(path.relative_to(here).as_posix())
        except ValueError:
            continue  # outside the current directory: not asked about
    return found


class Index:
    """The staged content of some files: the blobs `git commit` would record now."""

    def __init__(self, paths: list[str]) -> None:
        self._blobs: dict[Path, str] = _index_blobs(paths) if paths else {}

    def has(self, path: str) -> bool:
        """True when the index holds ``path`` as a file (not deleted, not unmerged)."""
        return Path(path).resolve() in self._blobs

    def read(self, path: str) -> bytes:
        return _run("cat-file", "blob", self._blobs[Path(path).resolve()])


def _index_blobs(paths: list[str]) -> dict[Path, str]:
    """Resolved path to blob id, for the index entries of ``paths`` that are files."""
    root = _root()
    blobs: dict[Path, str] = {}
    for entry in _git("ls-files", "--stage", "--full-name", "-z", "--", *paths).split("\0"):
        if not entry:
            continue
        meta, name = entry.split("\t", 1)
        mode, blob, stage = meta.split()
        if mode in _FILE_MODES and stage == "0":  # stages 1-3: a conflict, not committable
            blobs[(root / name).resolve()] = blob
    return blobs


def parse_diff(diff: str, root: Path) -> Changes:
    changes: Changes = {}
    current: set[int] | None = None
    for line in diff.splitlines():
        file_match = _FILE_RE.match(line)
        if file_match:
            name = file_match.group("path")
            current = changes.setdefault((root / name).resolve(), set()) if name else None
            continue
        hunk = _HUNK_RE.match(line)
        if hunk and current is not None:
            start, count = int(hunk.group("start")), int(hunk.group("count") or 1)
            current.update(range(start, start + count) if count else (start, start + 1))
    return changes


def _root() -> Path:
    return Path(_git("rev-parse", "--show-toplevel").strip())


def _git(*args: str) -> str:
    # A diff quotes the changed lines, which need not be UTF-8; names keep their bytes.
    return _run(*args).decode("utf-8", "surrogateescape")


def _run(*args: str) -> bytes:
    """git's standard output as bytes (a blob is whatever the file holds), or one usage error."""
    try:
        done = subprocess.run(["git", *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("--diff and --staged need git, which is not on PATH") from None
    if done.returncode != 0:
        message = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["failed"])[0]
        raise UsageError(f"git {args[0] if args[0] != '-c' else args[2]}: {message.removeprefix('fatal: ')}")
    return done.stdout
