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

from tactful.normalize.homoglyphs import unmask_lookalikes
from tactful.normalize.invisible import strip_invisible
from tactful.normalize.leet import undo_leet
from tactful.normalize.spacing import collapse_spacing
from tactful.normalize.zalgo import strip_excess_marks

IDEOGRAPHIC_SPACE = "\u3000"
# CJK punctuation, kana, CJK ideographs, Hangul syllables.
_CJK = re.compile("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


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
