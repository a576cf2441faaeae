"""Removing Zalgo: combining marks piled on letters as noise."""

from __future__ import annotations

import re

# Combining marks used to build Zalgo text (Hebrew, Arabic and Indic marks are not here).
_MARKS = "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20f0\ufe20-\ufe2f"
_MARK = re.compile(f"[{_MARKS}]")
# Overlay marks (strike-through, slashes) on ASCII; no orthography uses them.
_OVERLAYS = "\u0334-\u0338\u20d2\u20d3\u20d8-\u20da\u20e5\u20e6\u20ea\u20eb"
# A stack of marks, marks on a space (strike-through running across words), overlays.
_MARK_STACK = re.compile(f"[{_MARKS}]{{5,}}|(?<=\\s)[{_MARKS}]+|(?<=[!-~])[{_OVERLAYS}]+")
_MARKED_LETTER = re.compile(f"[A-Za-z][{_MARKS}]")
_MARKED_LATIN_WORD = re.compile(f"(?:[A-Za-z][{_MARKS}]*)+")


def strip_excess_marks(text: str) -> str:
    """Remove Zalgo: stacks of marks, and marks on most letters of a Latin word.

    After NFKC every accent that has a precomposed letter is part of that letter, so a
    Latin word whose letters still carry separate marks, letter after letter, is noise;
    so is a stack of more marks on one letter than any orthography uses (Hebrew with
    cantillation needs four).
    """
    if not _MARK.search(text):
        return text
    text = _MARK_STACK.sub("", text)
    return _MARKED_LATIN_WORD.sub(_unmark_word, text)


def _unmark_word(match: re.Match[str]) -> str:
    word = match.group()
    letters = sum(ch.isascii() for ch in word)
    marked = len(_MARKED_LETTER.findall(word))
    if marked >= 2 and marked * 2 >= letters:
        return _MARK.sub("", word)
    return word
