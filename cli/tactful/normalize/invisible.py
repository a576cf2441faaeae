"""Removing invisible characters, except where they do a job.

Zero-width spaces and joiners, bidi controls, soft hyphens, tag characters and variation
selectors can split a word in two or hide text from people while a model reads it. The
few places where they carry meaning are kept: joiners inside emoji sequences and in
scripts that need them (Arabic, Persian, Indic), variation selectors after symbols and
CJK ideographs, tag characters in subdivision flags.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from tactful.normalize.charclass import char_class

ZWNJ, ZWJ = "\u200c", "\u200d"
BLACK_FLAG = "\U0001f3f4"  # starts the tag sequences of subdivision flags
# Not format characters, yet invisible: combining grapheme joiner, Hangul fillers,
# Khmer inherent vowels.
ALSO_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0")
JOINING_SCRIPTS_FROM = 0x0590  # Hebrew onwards: scripts and emoji that use joiners


def strip_invisible(text: str) -> str:
    return _invisible_pattern().sub(_keep_if_needed, text)


def _keep_if_needed(match: re.Match[str]) -> str:
    text, start = match.string, match.start()
    if _is_tag(match.group()):
        while start and _is_tag(text[start - 1]):
            start -= 1  # judge a run of tag characters by what precedes the whole run
    previous = text[start - 1] if start else ""
    following = text[start + 1] if start + 1 < len(text) else ""
    ch = match.group()
    return ch if _kept_in_context(ch, previous, following) else ""


@lru_cache(maxsize=1)
def _invisible_pattern() -> re.Pattern[str]:
    """One character class of every invisible character, built once from Unicode data."""
    planes = (range(0x80, 0x20000), range(0xE0000, 0xE01F0))
    return re.compile(char_class(c for plane in planes for c in plane if _invisible(chr(c))))


def _invisible(ch: str) -> bool:
    return ch in ALSO_INVISIBLE or unicodedata.category(ch) == "Cf" or _is_variation_selector(ch)


def _is_variation_selector(ch: str) -> bool:
    return "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef"


def _kept_in_context(ch: str, previous: str, following: str) -> bool:
    """Invisible characters that do a job where they stand."""
    if ch in (ZWJ, ZWNJ):
        # Emoji sequences (family, rainbow flag) and Arabic or Indic joining.
        return _joining(previous) and _joining(following)
    if _is_variation_selector(ch):
        # Emoji or text presentation of a symbol, CJK glyph variants; never on a Latin letter.
        return bool(previous) and (not previous.isalpha() or ord(previous) >= JOINING_SCRIPTS_FROM)
    if _is_tag(ch):
        # Tag characters spell subdivision flags after a black flag; elsewhere they hide
        # ASCII text from people ("ASCII smuggling").
        return previous == BLACK_FLAG
    if ch in ("\u115f", "\u1160"):
        # Hangul fillers inside conjoining jamo sequences are part of old Korean syllables.
        return "\u1100" <= previous <= "\u11ff" or "\u1100" <= following <= "\u11ff"
    return False


def _is_tag(ch: str) -> bool:
    return "\U000e0020" <= ch <= "\U000e007f"


def _joining(ch: str) -> bool:
    return bool(ch) and not ch.isspace() and ord(ch) >= JOINING_SCRIPTS_FROM
