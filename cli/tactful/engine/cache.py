"""The results cache: decisions already made, in SQLite under the platform cache directory.

A key names everything that can change an answer: backend, model (with its digest where
the backend knows one), prompt fingerprint (instructions, categories, examples, mode,
rationale or not), whether scores were asked for, the model options, and what was sent
for the item itself; the key is a sha256 of all that. Only the decision (flagged, labels, scores, rationale) is
stored, never the record or the text: notes such as "truncated" follow from the text and are
computed again on a hit.

Two runs may share the file at once: WAL lets readers work while one writer commits, and
busy_timeout makes a writer wait for the lock instead of failing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tactful.engine.answer import Decision
from tactful.errors import ConfigError

SCHEMA_VERSION = 1
_log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 30_000


def cache_key(identity: dict[str, Any], sent: Any) -> str:
    """One hex digest for what decides the answer: who answers (``identity``: backend,
    model, prompt fingerprint, flags, options) and what was sent for the item."""
    blob = json.dumps({"identity": identity, "sent": sent}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheStats:
    path: Path
    entries: int
    size_bytes: int
    by_model: dict[str, int]


class ResultCache:
    """A thread-safe handle on the SQLite file (one connection, guarded by a lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._closed = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                       check_same_thread=False)
            _retry_while_busy(self._setup)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"{path}: cannot open the results cache: {exc} (delete the file, or run with --no-cache)") from None

    def _setup(self) -> None:
        self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # Only the first opener switches to WAL: the switch needs an exclusive lock, and
        # SQLite answers it with SQLITE_BUSY at once, without waiting, when a second run
        # opens the same new file at the same moment (hence the retry around _setup).
        if self._db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")  # WAL keeps it consistent; a lost tail is only lost cache
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):  # written by another tactful: start afresh
            self._db.execute("DROP TABLE IF EXISTS results")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS results ("
            " key TEXT PRIMARY KEY, model TEXT NOT NULL, decision TEXT NOT NULL, created REAL NOT NULL)"
        )
        if version != SCHEMA_VERSION:
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def get(self, key: str) -> Decision | None:
        with self._lock:
            if self._closed:
                return None
            row = self._db.execute("SELECT decision FROM results WHERE key = ?", (key,)).fetchone()
        return _decode(row[0]) if row else None

    def put(self, key: str, model: str, decision: Decision) -> None:
        """Commit one decision at once, before its line is written to the output.

        A run killed with SIGKILL then never leaves a line in the output whose decision
        the cache lacks. With WAL and synchronous=NORMAL a commit is an append to the log,
        not an fsync, so this costs little (benchmarks/throughput.py measures it).
        """
        blob = json.dumps(asdict(decision), ensure_ascii=False)
        with self._lock:
            if self._closed:  # a worker finishing after the run stopped: nothing to keep
                return
            try:
                self._db.execute("INSERT OR REPLACE INTO results (key, model, decision, created) VALUES (?, ?, ?, ?)",
                                 (key, model, blob, time.time()))
            except sqlite3.Error as exc:  # the result is still written out; only its reuse is lost
                _log.warning(f"{self.path}: a result was not cached: {exc}")

    def stats(self) -> CacheStats:
        with self._lock:
            rows = self._db.execute("SELECT model, COUNT(*) FROM results GROUP BY model ORDER BY 2 DESC").fetchall()
        size = sum(p.stat().st_size for p in _files(self.path) if p.exists())
        return CacheStats(self.path, sum(n for _, n in rows), size, dict(rows))

    def clear(self) -> int:
        with self._lock:
            removed = self._db.execute("DELETE FROM results").rowcount
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.execute("VACUUM")
        return int(removed)

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()


def _retry_while_busy(step: Callable[[], None]) -> None:
    """Run ``step`` again while another process holds a lock SQLite does not wait for,
    up to the busy timeout; any other error, or a lock held that long, is raised."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.01
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


def _decode(blob: str) -> Decision | None:
    try:
        return Decision(**json.loads(blob))
    except (ValueError, TypeError):  # a damaged entry is a miss, not a failure
        return None


def _files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
