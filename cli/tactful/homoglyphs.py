"""Mapping look-alike letters from other scripts to Latin, where a word mixes scripts.

"fuсk" with a Cyrillic "с" reads as English to a person but not to a model. The table
of look-alikes comes from Unicode's confusables data as packaged by
``confusable-homoglyphs``. Genuine Cyrillic or Greek words are left alone: only a word
that mixes Latin with look-alikes is mapped, and a word made only of look-alikes (the
Cyrillic "а" in "yоu аrе") only when the text already shows such mixing and is mostly
Latin.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tactful.charclass import char_class

# Latin letters of living orthographies that the confusables data lists as look-alikes:
# mapping them would rewrite Turkish or Ewe words.
KEEP = frozenset("ıʋɣ")
# Scripts whose letters are never disguised Latin in practice, and that mix with Latin
# legitimately inside one word ("Tシャツ", "CDを").
SKIP_SCRIPT_FROM = 0x2E80

_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=1)
def latin_lookalikes() -> dict[str, str]:
    """Non-ASCII letter -> the ASCII letter it imitates."""
    from confusable_homoglyphs.confusables import confusables_data

    table: dict[str, str] = {}
    for char, glyphs in confusables_data.items():
        if len(char) != 1 or char.isascii() or not char.isalpha() or char in KEEP:
            continue
        if ord(char) >= SKIP_SCRIPT_FROM and not 0xFF00 <= ord(char) <= 0xFFEF:
            continue
        latin = [g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii() and g["c"].isalpha()]
        if latin:
            same_case = [c for c in latin if c.islower() == char.islower()]
            table[char] = (same_case or latin)[0]
    return table


def unmask_lookalikes(text: str) -> str:
    if text.isascii():
        return text
    if not _lookalike_pattern().search(text):
        return text
    table = latin_lookalikes()
    mapped = _WORD.sub(lambda m: _map_mixed(m.group(), table), text)
    if mapped == text:
        return text  # no word mixes scripts: nothing is disguised
    latin, other = _letter_counts(mapped)
    if latin <= other:
        return mapped
    return _WORD.sub(lambda m: _map_lookalike_word(m.group(), table), mapped)


@lru_cache(maxsize=1)
def _lookalike_pattern() -> re.Pattern[str]:
    return re.compile(char_class(ord(ch) for ch in latin_lookalikes()))


def _is_mixed(word: str, table: dict[str, str]) -> bool:
    return any(ch.isascii() for ch in word) and any(ch in table for ch in word)


def _map_mixed(word: str, table: dict[str, str]) -> str:
    if word.isascii() or not _is_mixed(word, table):
        return word
    return "".join(table.get(ch, ch) for ch in word)


def _map_lookalike_word(word: str, table: dict[str, str]) -> str:
    # Only reached in a mostly-Latin text that already disguised some of its words.
    if word.isascii() or not all(ch in table for ch in word):
        return word
    return "".join(table[ch] for ch in word)


def _letter_counts(text: str) -> tuple[int, int]:
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    other = sum(1 for ch in text if not ch.isascii() and ch.isalpha())
    return latin, other
