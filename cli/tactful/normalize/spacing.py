"""Collapsing letter spacing: "i d i o t", "i.d.i.o.t", "i-d-i-o-t" -> "idiot".

A run of at least three single characters joined by one repeated separator is collapsed
only when the letters form a word, or a few words ("s u c k u" -> "suck u"); otherwise
(initials, "a b c", phone numbers) it stays as written.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tactful.normalize.leet import LEET_CHARS, decode_core
from tactful.normalize.wordlist import is_word, zipf

_UNIT = rf"[A-Za-z{re.escape(LEET_CHARS)}]"
_RUN = re.compile(
    rf"(?<![A-Za-z0-9])({_UNIT})([ .\-_·•/~])({_UNIT})(?:\2{_UNIT})+(?![A-Za-z0-9])"
)
MAX_RUN = 40  # letters; longer runs are segmented piecewise by the regex anyway


def collapse_spacing(text: str) -> str:
    if not _RUN.search(text):
        return text
    return _RUN.sub(_collapse, text)


def _collapse(match: re.Match[str]) -> str:
    run, separator = match.group(), match.group(2)
    collapsed = _collapse_run(run, separator)
    if collapsed is None and not run[-1].isalpha():
        # A trailing "!" or "$" may be punctuation rather than a letter: "C U O M O !".
        head = run[: -2]
        collapsed = _collapse_run(head, separator)
        return run if collapsed is None else collapsed + run[-2:]
    return run if collapsed is None else collapsed


def _collapse_run(run: str, separator: str) -> str | None:
    joined = run.replace(separator, "")
    letters = sum(ch.isalpha() for ch in joined)
    if len(joined) < 3 or letters * 3 < len(joined) * 2 or len(joined) > MAX_RUN:
        return None
    decoded = joined if joined.isalpha() else decode_core(joined)
    if decoded is None:
        return None
    if is_word(decoded):
        return decoded
    words = segment(decoded.lower())
    return None if words is None else _restore_case(" ".join(words), decoded)


@lru_cache(maxsize=4096)
def segment(letters: str) -> tuple[str, ...] | None:
    """The split of ``letters`` into the fewest known words (then the most common)."""
    best: list[tuple[int, float, tuple[str, ...]] | None] = [None] * (len(letters) + 1)
    best[0] = (0, 0.0, ())
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - 20), end):
            prior = best[start]
            piece = letters[start:end]
            if prior is None or not is_word(piece):
                continue
            candidate = (prior[0] + 1, prior[1] - zipf(piece), prior[2] + (piece,))
            current = best[end]
            if current is None or candidate[:2] < current[:2]:
                best[end] = candidate
    final = best[-1]
    return final[2] if final is not None and final[0] > 0 else None


def _restore_case(spaced: str, original: str) -> str:
    chars = iter(original)
    return "".join(ch if ch == " " else next(chars) for ch in spaced)
