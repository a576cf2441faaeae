"""Undoing camouflage before the model reads a text.

The model sees the normalised text; the output keeps the original. Steps, each safe for
genuine non-Latin text: Unicode NFKC, removal of invisible format characters.
"""

from __future__ import annotations

import unicodedata


def strip_invisible(text: str) -> str:
    # Category Cf: zero-width spaces and joiners, soft hyphens, bidi controls, BOMs. None of
    # them carries meaning a moderator needs, and all of them can split a word in two.
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def normalize_text(text: str) -> str:
    return strip_invisible(unicodedata.normalize("NFKC", text))
