"""``similar`` example selection without an embedding model: BM25 over the bank.

Where no ``model.embedding`` is set (the embedded backend on a bare machine, an Ollama
without an embedding model pulled), the examples sharing the most informative words with
the text are chosen, as the in-context-learning paper this tool follows retrieves them.
A bank is tens to a few thousand short texts, so a plain inverted index is enough.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from tactful.bank.store import Example
from tactful.normalize.text import normalize_text

# The usual BM25 constants: term-frequency saturation and length normalisation.
K1, B = 1.5, 0.75
_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-cased word tokens of the text after undoing camouflage (l33t, look-alikes)."""
    return _WORD.findall(normalize_text(text).casefold())


class BM25Selector:
    """Callable ``text -> examples``: the k bank examples with the best BM25 score."""

    def __init__(self, bank: Sequence[Example], k: int) -> None:
        self.bank, self.k = list(bank), k
        self._docs = [Counter(words(ex.text)) for ex in self.bank]
        self._lengths = [sum(doc.values()) for doc in self._docs]
        self._mean_length = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0
        frequency = Counter(term for doc in self._docs for term in doc)
        n = len(self._docs)
        self._idf = {term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}

    def score(self, query: str) -> list[float]:
        terms = set(words(query))
        return [self._score(terms, doc, length) for doc, length in zip(self._docs, self._lengths)]

    def _score(self, terms: set[str], doc: Counter[str], length: int) -> float:
        norm = K1 * (1 - B + B * length / self._mean_length) if self._mean_length else K1
        return sum(
            self._idf[t] * doc[t] * (K1 + 1) / (doc[t] + norm) for t in terms if t in doc
        )

    def __call__(self, text: str) -> list[Example]:
        if self.k == 0 or not self.bank:
            return []
        scores = self.score(text)
        # Ties (no shared word) keep bank order, so the choice is stable from run to run.
        ranked = sorted(range(len(self.bank)), key=lambda i: (-scores[i], i))
        return nearest_last([self.bank[i] for i in ranked[: self.k]])

    def close(self) -> None:
        """Nothing to release: the index lives in memory (the same interface as SimilarSelector)."""


def nearest_last(best_first: Sequence[Example]) -> list[Example]:
    # Nearest last: the turn just before the text weighs most with small models.
    return list(reversed(best_first))
