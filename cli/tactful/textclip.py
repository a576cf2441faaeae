"""Shortening text for display, in one place: notes, table cells and check reasons."""

from __future__ import annotations

ELLIPSIS = "…"


def clip(text: str, width: int, at_word: bool = False) -> str:
    """``text`` in at most ``width`` characters, ending in an ellipsis when cut.

    ``at_word`` cuts at the last space that fits (and drops trailing punctuation), for
    prose read by people; otherwise the cut is exact, for quoted passages.
    """
    if len(text) <= width:
        return text
    cut = width - 1
    if at_word:
        space = text.rfind(" ", 0, width - 1)
        cut = space if space > 0 else cut
        return text[:cut].rstrip(" ,;:") + ELLIPSIS
    return text[:cut] + ELLIPSIS


def clip_start(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, its start cut to an ellipsis: for names
    whose end tells them apart (``…ments.txt:12``, where every row starts ``samples/``)."""
    return text if len(text) <= width else ELLIPSIS + text[len(text) - width + 1:]


def plural(count: int, noun: str) -> str:
    """``1 record``, ``2 records``: counts in messages read as English."""
    return f"{count} {noun}" + ("" if count == 1 else "s")
