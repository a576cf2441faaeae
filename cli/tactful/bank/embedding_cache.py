"""Bank embeddings on disk, so a bank is embedded once per embedding model, not per run.

SQLite under the user cache directory, keyed by embedding model and sha256 of the text.
"""

from __future__ import annotations

import hashlib
import sqlite3
from array import array
from collections.abc import Callable, Sequence
from pathlib import Path

from tactful.errors import ConfigError

Vector = list[float]
Embed = Callable[[list[str]], list[Vector]]
BATCH = 64  # texts per embed call (one /api/embed request): quick, yet rarely timed out


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path)
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS embeddings ("
                "model TEXT NOT NULL, digest TEXT NOT NULL, vector BLOB NOT NULL, "
                "PRIMARY KEY (model, digest))"
            )
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"{path}: cannot open the embedding cache ({exc}); delete the file to start afresh") from None

    def get(self, model: str, digests: Sequence[str]) -> dict[str, Vector]:
        found: dict[str, Vector] = {}
        for digest in digests:
            row = self.db.execute(
                "SELECT vector FROM embeddings WHERE model = ? AND digest = ?", (model, digest)
            ).fetchone()
            if row is not None:
                found[digest] = array("f", row[0]).tolist()
        return found

    def put(self, model: str, vectors: dict[str, Vector]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO embeddings (model, digest, vector) VALUES (?, ?, ?)",
                [(model, digest, array("f", vector).tobytes()) for digest, vector in vectors.items()],
            )

    def close(self) -> None:
        self.db.close()


def cached_embeddings(texts: Sequence[str], model: str, embed: Embed, cache: EmbeddingCache) -> list[Vector]:
    """One vector per text: from the cache where it has one, else from ``embed`` (then stored)."""
    digests = [text_digest(t) for t in texts]
    known = cache.get(model, digests)
    missing = list(dict.fromkeys(d for d in digests if d not in known))
    text_of = dict(zip(digests, texts))
    for start in range(0, len(missing), BATCH):
        batch = missing[start : start + BATCH]
        fresh = dict(zip(batch, embed([text_of[d] for d in batch])))
        cache.put(model, fresh)
        known.update(fresh)
    return [known[d] for d in digests]
