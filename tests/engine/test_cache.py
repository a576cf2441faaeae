"""The results cache (engine/cache.py): keys, what is kept, what a damaged file does."""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from tactful.engine.answer import BY_PROBABILITY, Decision
from tactful.engine.cache import SCHEMA_VERSION, ResultCache, cache_key
from tactful.errors import ConfigError

IDENTITY = {"backend": "ollama", "model": "m@abc", "prompt": "f00d", "engine": "probe", "options": {}, "thresholds": {}}
SENT = [[{"role": "user", "content": "hello"}]]
DECISION = Decision(True, ["spam"], {"flagged": 0.75}, "prize bait", BY_PROBABILITY)


def test_the_key_names_every_part_of_identity_and_what_was_sent():
    key = cache_key(IDENTITY, SENT)
    assert len(key) == 64 and key == cache_key(dict(reversed(IDENTITY.items())), SENT)  # order of keys is no change
    for part, other in [("model", "m@def"), ("prompt", "beef"), ("engine", "answer"), ("thresholds", {"spam": 0.3})]:
        assert cache_key({**IDENTITY, part: other}, SENT) != key, part
    assert cache_key(IDENTITY, [[{"role": "user", "content": "hello!"}]]) != key


def test_a_decision_comes_back_whole_from_another_handle_on_the_file(tmp_path: Path):
    path = tmp_path / "deep" / "results.sqlite"  # parents are made
    with ResultCache(path) as writer, ResultCache(path) as reader:
        assert reader.get("k") is None
        writer.put("k", "m@abc", DECISION)
        assert reader.get("k") == DECISION
        writer.put("k", "m@abc", Decision(False, []))  # a key decided again is replaced
        assert reader.get("k") == Decision(False, [])


def test_stats_count_by_model_and_clear_empties(tmp_path: Path):
    with ResultCache(tmp_path / "c.sqlite") as cache:
        for i in range(3):
            cache.put(f"a{i}", "model-a", DECISION)
        cache.put("b", "model-b", DECISION)
        stats = cache.stats()
        assert (stats.entries, stats.by_model) == (4, {"model-a": 3, "model-b": 1})
        assert stats.size_bytes > 0
        assert cache.clear() == 4
        assert cache.stats().entries == 0 and cache.get("a0") is None


def test_a_damaged_entry_is_a_miss_not_a_failure(tmp_path: Path):
    path = tmp_path / "c.sqlite"
    with ResultCache(path) as cache:
        cache.put("k", "m", DECISION)
        cache.put("other", "m", DECISION)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE results SET decision = ? WHERE key = 'k'", ('{"flagged": tr',))
        db.execute("UPDATE results SET decision = ? WHERE key = 'other'", ('{"unknown": 1}',))
    with ResultCache(path) as cache:
        assert cache.get("k") is None and cache.get("other") is None


def test_a_file_from_another_schema_version_starts_afresh(tmp_path: Path):
    path = tmp_path / "c.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE results (key TEXT PRIMARY KEY, whatever TEXT)")
        db.execute("INSERT INTO results VALUES ('k', 'old')")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with ResultCache(path) as cache:
        assert cache.get("k") is None
        cache.put("k", "m", DECISION)
        assert cache.get("k") == DECISION


def test_a_file_that_cannot_be_opened_names_itself_and_the_way_out(tmp_path: Path):
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ConfigError, match=r"c\.sqlite: cannot open the results cache: .*\(delete the file, or run with --no-cache\)"):
        ResultCache(path)


def test_after_close_a_late_worker_neither_reads_nor_writes(tmp_path: Path):
    cache = ResultCache(tmp_path / "c.sqlite")
    cache.put("k", "m", DECISION)
    cache.close()
    cache.close()  # twice is harmless
    assert cache.get("k") is None
    cache.put("late", "m", DECISION)  # no error: the run has stopped
    with ResultCache(tmp_path / "c.sqlite") as again:
        assert again.get("k") == DECISION and again.get("late") is None


def test_a_write_that_fails_is_a_warning_and_the_run_goes_on(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    path = tmp_path / "c.sqlite"
    with caplog.at_level(logging.WARNING, logger="tactful"), ResultCache(path) as cache:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TRIGGER no_writes BEFORE INSERT ON results BEGIN SELECT RAISE(ABORT, 'read-only'); END")
        cache.put("k", "m", DECISION)
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1 and warnings[0].startswith(f"{path}: a result was not cached: ")


def test_threads_share_one_handle(tmp_path: Path):
    with ResultCache(tmp_path / "c.sqlite") as cache:
        def work(n: int) -> None:
            for i in range(20):
                cache.put(f"{n}-{i}", "m", DECISION)
                assert cache.get(f"{n}-{i}") == DECISION

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert cache.stats().entries == 80


def _open_and_put(path: str, start: Any, n: int) -> None:
    start.wait()
    with ResultCache(Path(path)) as cache:
        cache.put(f"key{n}", "m", Decision(False, []))


def test_many_runs_opening_one_new_cache_at_the_same_moment_all_succeed(tmp_path):
    # CI once saw "database is locked" when two runs created the file together: the switch
    # to WAL does not wait for a lock the way a write does.
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(8)
    path = tmp_path / "results.sqlite"
    procs = [ctx.Process(target=_open_and_put, args=(str(path), start, n)) for n in range(8)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
    assert [proc.exitcode for proc in procs] == [0] * 8
    with ResultCache(path) as cache:
        assert cache.stats().entries == 8
