"""Undoing camouflage before the model reads a text.

The model sees the normalised text; the output keeps the original. Steps, each written
to leave genuine text alone (accents, Cyrillic, Greek, CJK, Arabic, emoji, numbers,
URLs):

1. Unicode NFC, then NFKC for letters, digits and spaces only: full-width, bold-math and
   circled letters become plain ones, while the full-width punctuation native to CJK
   text stays as written.
2. Invisible characters removed: zero-width spaces and joiners, bidi controls, tag
   characters, variation selectors; joiners inside emoji sequences and scripts that
   need them (Arabic, Indic) stay.
3. Zalgo: stacks of combining marks beyond what any orthography uses are dropped.
4. Look-alike letters from other scripts mapped to Latin inside words that mix scripts.
5. Letter spacing collapsed ("i d i o t") when the letters form words.
6. Leetspeak undone per token when the decoded token is a word.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from tactful.charclass import char_class
from tactful.homoglyphs import unmask_lookalikes
from tactful.leet import undo_leet
from tactful.spacing import collapse_spacing

ZWNJ, ZWJ = "\u200c", "\u200d"
IDEOGRAPHIC_SPACE = "\u3000"
# CJK punctuation, kana, CJK ideographs, Hangul syllables.
_CJK = re.compile("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
BLACK_FLAG = "\U0001f3f4"  # starts the tag sequences of subdivision flags
# Not format characters, yet invisible: combining grapheme joiner, Hangul fillers,
# Khmer inherent vowels.
ALSO_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0")
# Combining marks used to build Zalgo text (Hebrew, Arabic and Indic marks are not here).
_MARKS = "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20f0\ufe20-\ufe2f"
_MARK = re.compile(f"[{_MARKS}]")
# Overlay marks (strike-through, slashes) on ASCII; no orthography uses them.
_OVERLAYS = "\u0334-\u0338\u20d2\u20d3\u20d8-\u20da\u20e5\u20e6\u20ea\u20eb"
# A stack of marks, marks on a space (strike-through running across words), overlays.
_MARK_STACK = re.compile(f"[{_MARKS}]{{5,}}|(?<=\\s)[{_MARKS}]+|(?<=[!-~])[{_OVERLAYS}]+")
_MARKED_LETTER = re.compile(f"[A-Za-z][{_MARKS}]")
_MARKED_LATIN_WORD = re.compile(f"(?:[A-Za-z][{_MARKS}]*)+")
JOINING_SCRIPTS_FROM = 0x0590  # Hebrew onwards: scripts and emoji that use joiners


def normalize_text(text: str) -> str:
    if not text.isascii():
        text = fold_compatibility(unicodedata.normalize("NFC", text))
        text = strip_invisible(text)
        text = strip_excess_marks(text)
        text = unmask_lookalikes(text)
    text = collapse_spacing(text)
    return undo_leet(text)


def fold_compatibility(text: str) -> str:
    if unicodedata.is_normalized("NFKC", text):
        return text
    cjk = bool(_CJK.search(text))
    return "".join(_folded(ch, cjk) if not ch.isascii() else ch for ch in text)


@lru_cache(maxsize=8192)
def _folded(ch: str, cjk: bool) -> str:
    folded = unicodedata.normalize("NFKC", ch)
    if folded == ch or ch == IDEOGRAPHIC_SPACE:
        return ch
    if folded.isspace() or any(c.isalnum() for c in folded):
        return folded
    # Full-width punctuation is native to CJK text; elsewhere it is more disguise.
    return ch if cjk else folded


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
