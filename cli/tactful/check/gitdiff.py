"""Lines changed against a git ref or the index, for `tactful check --diff/--staged`.

Read from ``git diff -U0``: each hunk header gives the new line numbers it touches. A
pure deletion counts as a change to the lines on both sides of it, because the unit that
held the deleted lines now reads differently.
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


def changed_lines(paths: list[str], ref: str | None, staged: bool) -> Changes:
    """Changed lines per file (resolved paths), against ``ref`` or, with ``staged``, HEAD."""
    root = Path(_git("rev-parse", "--show-toplevel").strip())
    target = ["--cached"] if staged else [ref or "HEAD"]
    diff = _git("-c", "core.quotePath=false", "diff", "-U0", "--no-color", "--no-ext-diff", *target, "--", *paths)
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
    root = Path(_git("rev-parse", "--show-toplevel").strip())
    target = ["--cached"] if staged else [ref or "HEAD"]
    names = _git("-c", "core.quotePath=false", "diff", "--name-only", "--diff-filter=d", "-z", *target).split("\0")
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


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, encoding="utf-8", check=False)
    except FileNotFoundError:
        raise UsageError("--diff and --staged need git, which is not on PATH") from None
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["failed"])[0]
        raise UsageError(f"git {args[0] if args[0] != '-c' else args[2]}: {message.removeprefix('fatal: ')}")
    return done.stdout
