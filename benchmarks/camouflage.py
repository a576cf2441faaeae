"""Camouflage generators for benchmarks/adversarial.py: other techniques than evasion-dev's.

The project is judged on camouflage it has not seen, so the normalisation is also measured
on toxic dev texts camouflaged here, by techniques and substitution tables that
evasion-dev does not use: other invisible characters, Greek as well as Cyrillic
look-alikes, other leet symbols, dotted and dashed spacing, full-width letters,
strike-through marks, and two techniques at once. Seeded, so every run sees the same
texts.
"""

from __future__ import annotations

import random
from collections.abc import Callable

INVISIBLE = ["\u200b", "\u2060", "\u00ad", "\ufeff", "\u200c"]
LEET = {"a": "@4", "e": "3", "i": "!1", "o": "0", "s": "$5", "t": "7+", "l": "1|", "g": "9"}
LOOKALIKE = {"a": "аα", "e": "е", "o": "оο", "p": "рρ", "c": "с", "x": "хχ", "y": "у", "i": "іι", "s": "ѕ", "k": "κ"}


def _words(rng: random.Random, text: str, share: float, change: Callable[[str], str]) -> str:
    words = text.split(" ")
    return " ".join(change(w) if len(w) > 2 and rng.random() < share else w for w in words)


def invisible(rng: random.Random, text: str) -> str:
    return _words(rng, text, 0.6, lambda w: rng.choice(INVISIBLE).join(w))


def lookalikes(rng: random.Random, text: str) -> str:
    swap = lambda ch: rng.choice(LOOKALIKE[ch]) if ch in LOOKALIKE and rng.random() < 0.6 else ch  # noqa: E731
    return "".join(swap(ch) for ch in text)


def leet(rng: random.Random, text: str) -> str:
    swap = lambda ch: rng.choice(LEET[ch]) if ch in LEET and rng.random() < 0.7 else ch  # noqa: E731
    return _words(rng, text, 0.7, lambda w: "".join(swap(ch) for ch in w))


def spaced(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    longest = max(range(len(words)), key=lambda i: sum(ch.isalpha() for ch in words[i]))
    if words[longest].isalpha():
        words[longest] = rng.choice([" ", ".", "-"]).join(words[longest])
    return " ".join(words)


def fullwidth(rng: random.Random, text: str) -> str:
    wide = lambda w: "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in w)  # noqa: E731
    return _words(rng, text, 0.5, wide)


def strikethrough(rng: random.Random, text: str) -> str:
    return _words(rng, text, 0.5, lambda w: "".join(ch + "\u0336" for ch in w))


def mixed(rng: random.Random, text: str) -> str:
    return invisible(rng, lookalikes(rng, text))


TECHNIQUES: dict[str, Callable[[random.Random, str], str]] = {
    "invisible (other)": invisible,
    "look-alikes (Cyrillic+Greek)": lookalikes,
    "leet (other symbols)": leet,
    "spacing (. - space)": spaced,
    "full-width": fullwidth,
    "strike-through": strikethrough,
    "look-alikes + invisible": mixed,
}


def camouflaged(texts: list[str], seed: int = 7) -> dict[str, list[tuple[str, str]]]:
    """(camouflaged, original) pairs per technique."""
    rng = random.Random(seed)
    return {name: [(make(rng, t), t) for t in texts] for name, make in TECHNIQUES.items()}
