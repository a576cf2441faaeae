"""Which files `tactful check` reads, as what: Markdown or plain text, cut into units."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath

from tactful.check.segment import Unit, segment_markdown, segment_text
from tactful.errors import DirectiveError, UsageError
from tactful.profile.load import Profile

MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd", ".mdx"}
TEXT_SUFFIXES = {".txt", ".text", ".rst"}

# Where a file's bytes come from: the disk, or (check --staged) the git index.
Reader = Callable[[str], bytes]


def known_type(path: str, profile: Profile) -> bool:
    """Prose check knows how to read: Markdown, text, or what the profile's [check] types map.

    With --diff/--staged, changed files of other kinds (code, images, lock files) are left
    out instead of being judged as prose.
    """
    pure = PurePosixPath(Path(path).as_posix())
    if any(pure.match(glob) for glob, _ in profile.check_types):
        return True
    return pure.suffix.lower() in MARKDOWN_SUFFIXES | TEXT_SUFFIXES


def file_type(path: str, forced: str | None, profile: Profile) -> str:
    """--type, else the first matching glob of [check] types, else by suffix."""
    if forced is not None:
        return forced
    pure = PurePosixPath(Path(path).as_posix())
    for glob, kind in profile.check_types:
        if pure.match(glob):
            return kind
    return "markdown" if pure.suffix.lower() in MARKDOWN_SUFFIXES else "text"


def read_disk(path: str) -> bytes:
    """The file as it is on disk (the working copy)."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None


def segment_file(path: str, kind: str, slugs: set[str], read: Reader = read_disk) -> list[Unit]:
    """The units of ``path``, its bytes got from ``read`` (the disk, or the git index)."""
    data = read(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not valid UTF-8 (byte {exc.start}); re-encode the file as UTF-8 or leave it out") from None
    try:
        return segment_markdown(text, slugs) if kind == "markdown" else segment_text(text, slugs)
    except DirectiveError as exc:
        raise UsageError(f"{path}:{exc.line}:{exc.col}: {exc.message}") from None
