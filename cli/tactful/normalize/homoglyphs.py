"""Mapping look-alike letters from other scripts to Latin, where a word mixes scripts.

"fuсk" with a Cyrillic "с" reads as English to a person but not to a model. The table
of look-alikes comes from Unicode's confusables data as packaged by
``confusable-homoglyphs``. Genuine Cyrillic or Greek words are left alone: only a word
that mixes Latin with look-alikes is mapped, and a word made only of look-alikes (the
Cyrillic "а" in "yоu аrе") only when the text already shows such mixing and is mostly
Latin. Words in Latin look-alike letters of the Latin script itself ("ɪᴅɪᴏᴛ" in small
capitals) are mapped wherever they occur: no other script is involved.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from tactful.normalize.charclass import char_class

# Latin letters of living orthographies that the confusables data lists as look-alikes:
# mapping them would rewrite Turkish, Ewe or Khoekhoe words.
KEEP = frozenset("ıʋɣǀ")
# Scripts whose letters are never disguised Latin in practice, and that mix with Latin
# legitimately inside one word ("Tシャツ", "CDを").
SKIP_SCRIPT_FROM = 0x2E80
# The one second hop the data needs by hand: Greek κ and Cyrillic к are listed as
# look-alikes of the kra "ĸ", which itself is listed as nothing.
FALLBACK = {"ĸ": "k"}
SMALL_CAPITAL_BLOCKS = (range(0x0250, 0x02B0), range(0x1D00, 0x1D80), range(0xA720, 0xA800))
_SMALL_CAPITAL = re.compile(r"^LATIN LETTER SMALL CAPITAL ([A-Z])$")

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
        latin = [letter for g in glyphs if (letter := _ascii_letter(g["c"]))]
        if latin:
            same_case = [c for c in latin if c.islower() == char.islower()]
            table[char] = (same_case or latin)[0]
    # Small capitals ("ᴅ") are Latin letters in all but size; not all are in the data.
    for block in SMALL_CAPITAL_BLOCKS:
        for point in block:
            small_capital = _SMALL_CAPITAL.match(unicodedata.name(chr(point), ""))
            if small_capital:
                table.setdefault(chr(point), small_capital.group(1).lower())
    return table


def _ascii_letter(glyph: str) -> str | None:
    """The ASCII letter a confusable glyph stands for: itself, itself under marks ("n̩"),
    a small capital ("ᴛ" for Cyrillic т), or the fallback."""
    base = "".join(ch for ch in glyph if not unicodedata.combining(ch))
    if len(base) != 1:
        return None
    if base.isascii() and base.isalpha():
        return base
    small_capital = _SMALL_CAPITAL.match(unicodedata.name(base, ""))
    if small_capital:
        return small_capital.group(1).lower()
    return FALLBACK.get(base)


@lru_cache(maxsize=1)
def _latin_script_lookalikes() -> frozenset[str]:
    """Look-alikes that are Latin letters themselves (small capitals "ᴅ", IPA "ɑ")."""
    from confusable_homoglyphs.categories import alias

    return frozenset(ch for ch in latin_lookalikes() if alias(ch) == "LATIN")


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
    if word.isascii():
        return word
    if not _is_mixed(word, table) and not all(ch.isascii() or ch in _latin_script_lookalikes() for ch in word):
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
