"""The ``similar`` example selection: for each text, the bank examples nearest in meaning.

With ``model.embedding`` set, by embeddings (this module); without, by shared words
(BM25, ``tactful.bank.lexical``). ``selector_for`` picks.

Bank texts are embedded once per embedding model (cached on disk); each input text is
embedded when it is classified, with the profile's ``model.embedding`` through the
profile's backend (Ollama's /api/embed, or a second llama.cpp instance in process). The
chosen examples vary per item, so the prompt puts them after its fixed part.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from tactful.backends.base import Embedder
from tactful.bank.embedding_cache import EmbeddingCache, Vector, cached_embeddings
from tactful.bank.lexical import BM25Selector, nearest_last
from tactful.bank.store import Example
from tactful.paths import embeddings_cache_path
from tactful.profile.load import ModelSettings, Profile

OpenEmbedder = Callable[[ModelSettings], Embedder]

class SimilarSelector:
    """Callable ``text -> examples``: the k bank examples closest to the text.

    It owns its embedder: call ``close()`` when done.
    """

    def __init__(self, bank: Sequence[Example], vectors: Sequence[Vector], embedder: Embedder, k: int) -> None:
        self.bank, self.vectors, self.embedder, self.k = list(bank), list(vectors), embedder, k

    @classmethod
    def for_profile(cls, profile: Profile, bank: Sequence[Example], open_embedder: OpenEmbedder) -> SimilarSelector:
        """Embed the bank (or read it from the cache) with an embedder from ``open_embedder``.

        ``open_embedder`` comes from the backend layer (``tactful.backends.open_embedder``),
        so this module needs no backend of its own.
        """
        embedder = open_embedder(profile.model)
        try:
            vectors = _bank_vectors(bank, embedder)
        except BaseException:  # the selector that would own it is never made
            embedder.close()
            raise
        return cls(bank, vectors, embedder, similar_count(profile))

    def __call__(self, text: str) -> list[Example]:
        if self.k == 0:
            return []
        query = self.embedder.embed([text])[0]
        ranked = sorted(range(len(self.bank)), key=lambda i: cosine(query, self.vectors[i]), reverse=True)
        return nearest_last([self.bank[i] for i in ranked[: self.k]])

    def close(self) -> None:
        self.embedder.close()


def selector_for(profile: Profile, bank: Sequence[Example], open_embedder: OpenEmbedder) -> SimilarSelector | BM25Selector:
    """By embeddings when the profile names an embedding model, else by shared words."""
    if profile.model.embedding:
        return SimilarSelector.for_profile(profile, bank, open_embedder)
    return BM25Selector(bank, similar_count(profile))


def similar_count(profile: Profile) -> int:
    """As many examples as `fixed` and `balanced` would give: k per category plus k acceptable."""
    return profile.task.examples_per_category * (len(profile.categories) + 1)


def _bank_vectors(bank: Sequence[Example], embedder: Embedder) -> list[Vector]:
    cache = EmbeddingCache(embeddings_cache_path())
    try:
        # model_id, not the name: vectors differ between backends (and between versions
        # of a model), so each keeps its own cache entries.
        return cached_embeddings([ex.text for ex in bank], embedder.model_id(), embedder.embed, cache)
    finally:
        cache.close()


def cosine(a: Vector, b: Vector) -> float:
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b)) / norm if norm else 0.0
