"""Is this string an English word? Word frequencies from ``wordfreq``.

Leetspeak decoding and letter-spacing collapse both accept a rewrite only when it yields
real words, so a word list with frequencies is what keeps them from mangling ordinary
text. ``wordfreq`` is maintained, covers slang and slurs (which a moderation tool must
recognise) and ranks words, which a plain dictionary cannot. It is loaded on first use
only: most texts never need it.
"""

from __future__ import annotations

import math
from functools import lru_cache

# Zipf scale: log10 of occurrences per billion words. 3 is "once per million words".
MIN_ZIPF = 2.5  # long words: rare but real ("imbecile" 2.9, "shithole" 2.95)
MIN_ZIPF_SHORT = 3.5  # 3-letter words: many rare ones are abbreviations ("kbs")
MIN_ZIPF_TINY = 5.0  # 1-2 letters: only the very common ("a", "i", "u", "is", "to")


@lru_cache(maxsize=1)
def _frequencies() -> dict[str, float]:
    from wordfreq import get_frequency_dict

    return get_frequency_dict("en", wordlist="large")


def zipf(word: str) -> float:
    """Zipf frequency of a lower-case word, 0.0 when unknown."""
    freq = _frequencies().get(word)
    return math.log10(freq) + 9.0 if freq else 0.0


def is_word(word: str) -> bool:
    lowered = word.lower()
    score = zipf(lowered)
    if len(lowered) <= 2:
        return score >= MIN_ZIPF_TINY
    if len(lowered) == 3:
        return score >= MIN_ZIPF_SHORT
    return score >= MIN_ZIPF
