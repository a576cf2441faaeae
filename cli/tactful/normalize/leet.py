"""Undoing leetspeak ("th1s 1s $h!t" -> "this is shit"), one token at a time.

A token is rewritten only when some decoding of its symbols is an English word, so
numbers ("2024"), prices ("$5"), versions ("mp3", "10am") and URLs stay as they are.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

from tactful.normalize.wordlist import is_word, zipf

# The usual substitutions; the first reading of an ambiguous symbol is tried first.
LEET: dict[str, tuple[str, ...]] = {
    "0": ("o",), "1": ("i", "l"), "3": ("e",), "4": ("a",), "5": ("s",), "6": ("g", "b"),
    "7": ("t",), "8": ("b",), "9": ("g",), "@": ("a",), "$": ("s",), "!": ("i", "l"),
    "|": ("l", "i"), "+": ("t",), "*": ("u", "i", "a", "o", "e"), "€": ("e",),
}
LEET_CHARS = "".join(LEET)
MAX_READINGS = 64  # a token with more ambiguous symbols than this is left alone

_SYMBOLS = re.escape(LEET_CHARS)
# A symbol touching a letter, or two symbols that are not both digits ("@5$"): the only
# tokens worth a look hold one.
_NON_DIGIT = re.escape("".join(ch for ch in LEET_CHARS if not ch.isdigit()))
_LEET_HINT = re.compile(
    rf"[A-Za-z][{_SYMBOLS}]|[{_SYMBOLS}][A-Za-z]|[{_NON_DIGIT}][{_SYMBOLS}]|[{_SYMBOLS}][{_NON_DIGIT}]"
)
# Digits only before or after letters are mostly units, ordinals and versions ("10am",
# "mp3", "4k"), rarely leetspeak ("g0", "th3"): only very common words count there. Three
# digits after a letter ("h035") are leetspeak again.
_DIGIT_EDGE = re.compile(r"^(\d+[A-Za-z]+|[A-Za-z]+\d{1,2})$")
DIGIT_EDGE_MIN_ZIPF = 5.5
_URLISH = re.compile(r"://|^www\.|\.[a-z]{2,}(/|$)|^[^@\s]+@[^@\s]+\.[a-z]{2,}", re.IGNORECASE)
_LEADING_PUNCT = "\"'([{<"
_TRAILING_PUNCT = "\"'.,;:?!)]}>"


def undo_leet(text: str) -> str:
    # Find where a symbol touches a letter, then widen to the whole token: a regex that
    # matched whole candidate tokens directly would test every position of the text.
    pieces: list[str] = []
    done = 0
    for hit in _LEET_HINT.finditer(text):
        if hit.start() < done:
            continue
        start, end = _token_bounds(text, hit.start(), hit.end())
        pieces += [text[done:start], decode_token(text[start:end])]
        done = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _token_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    while start and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def decode_token(token: str) -> str:
    """The token with its leetspeak undone, or unchanged when no reading is a word."""
    if not _LEET_HINT.search(token) or _URLISH.search(token):
        return token
    lead = len(token) - len(token.lstrip(_LEADING_PUNCT))
    core_end = len(token.rstrip(_TRAILING_PUNCT))
    if core_end <= lead or not any(ch in LEET for ch in token[lead:core_end]):
        return token  # "you!!", "part!": the symbols are punctuation
    # A trailing "!" is punctuation first ("b!tch!"), a letter only if nothing else reads.
    for end in range(core_end, len(token) + 1):
        word = decode_core(token[lead:end])
        if word is not None:
            return token[:lead] + word + token[end:]
    return token


@lru_cache(maxsize=65536)  # chat and SMS repeat their tokens ("2nite", "u", "b4")
def decode_core(core: str) -> str | None:
    if not any(ch in LEET for ch in core):
        return None
    if not any(ch.isascii() and ch.isalpha() for ch in core) and not _all_symbol_word(core):
        return None
    options = [LEET.get(ch, (ch,)) for ch in core]
    if _readings(options) > MAX_READINGS:
        return None
    candidates = ("".join(chars) for chars in itertools.product(*options))
    words = [c for c in candidates if is_word(c)]
    if _DIGIT_EDGE.match(core):
        words = [w for w in words if zipf(w.lower()) >= DIGIT_EDGE_MIN_ZIPF]
    if not words:
        return None
    best = max(words, key=lambda w: zipf(w.lower()))
    letters = [ch for ch in core if ch.isalpha()]
    return best.upper() if len(letters) > 1 and all(ch.isupper() for ch in letters) else best


def _all_symbol_word(core: str) -> bool:
    # "@5$" is a word in symbols; "$50", "47" and "!!!" are a price, a number, a shout.
    symbols = [ch for ch in core if ch in LEET and not ch.isdigit()]
    return len(core) >= 3 and len(symbols) >= 2 and len(set(core)) > 1 and all(ch in LEET for ch in core)


def _readings(options: list[tuple[str, ...]]) -> int:
    count = 1
    for choice in options:
        count *= len(choice)
    return count
