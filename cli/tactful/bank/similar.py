"""The ``similar`` example selection: for each text, the bank examples nearest in meaning.

Bank texts are embedded once per embedding model (cached on disk); each input text is
embedded when it is classified, through Ollama's /api/embed with the profile's
``model.embedding``. The chosen examples vary per item, so the prompt puts them after
its fixed part.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tactful.backends.ollama import OllamaBackend
from tactful.bank.embedding_cache import Embed, EmbeddingCache, Vector, cached_embeddings
from tactful.bank.store import Example
from tactful.errors import ConfigError
from tactful.paths import embeddings_cache_path
from tactful.profile.load import Profile


class SimilarSelector:
    """Callable ``text -> examples``: the k bank examples closest to the text."""

    def __init__(self, bank: Sequence[Example], vectors: Sequence[Vector], embed: Embed, k: int) -> None:
        self.bank, self.vectors, self.embed, self.k = list(bank), list(vectors), embed, k

    @classmethod
    def for_profile(cls, profile: Profile, bank: Sequence[Example]) -> SimilarSelector:
        model = profile.model.embedding
        if not model:
            where = profile.path or "the profile"
            raise ConfigError(
                f"{where}: example_selection = \"similar\" needs an embedding model: set model.embedding "
                "(`tactful profile set model.embedding nomic-embed-text`, then `ollama pull nomic-embed-text`)"
            )
        embedder = OllamaBackend(
            model, host=profile.model.host, timeout=profile.model.timeout, model_setting="model.embedding"
        )
        cache = EmbeddingCache(embeddings_cache_path())
        try:
            vectors = cached_embeddings([ex.text for ex in bank], model, embedder.embed, cache)
        finally:
            cache.close()
        # As many as `fixed` and `balanced` would give: k per category plus k acceptable.
        k = profile.task.examples_per_category * (len(profile.categories) + 1)
        return cls(bank, vectors, embedder.embed, k)

    def __call__(self, text: str) -> list[Example]:
        if self.k == 0:
            return []
        query = self.embed([text])[0]
        ranked = sorted(range(len(self.bank)), key=lambda i: cosine(query, self.vectors[i]), reverse=True)
        # Nearest last: the turn just before the text weighs most with small models.
        return [self.bank[i] for i in reversed(ranked[: self.k])]


def cosine(a: Vector, b: Vector) -> float:
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b)) / norm if norm else 0.0
