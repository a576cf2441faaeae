"""The stream: results in input order, with bounded work in flight.

``classify_stream`` runs a per-record function over a stream of records with a bounded
number in flight and yields results in input order, so memory stays flat however long
the input is. ``SingleFlight`` lets twin texts in flight at once share one model call.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
In = TypeVar("In")
Out = TypeVar("Out")

_END = object()


def classify_stream(
    records: Iterable[In],
    classify: Callable[[In], Out],
    jobs: int = 1,
) -> Generator[Out, None, None]:
    """Results in input order, with at most ``jobs * 4`` records read ahead.

    Records are usually ``InputRecord`` and results ``Result``; anything works, so that
    `calibrate` can stream its labelled texts through the same ordering and bounds.

    Input is read on its own thread, so that a slow source (``tail -f``) never holds back
    a result that is already finished. Up to ``jobs * 2`` records are submitted, so that
    workers keep busy while the oldest record is slow; ``jobs`` run at once. A
    BackendError from any record stops the stream after every earlier result has been
    yielded.
    """
    jobs = max(jobs, 1)
    window = jobs * 2
    inbox: queue.Queue[object] = queue.Queue(maxsize=window)
    stop = threading.Event()
    reader = threading.Thread(target=_feed, args=(records, inbox, stop), daemon=True)
    reader.start()
    pending: deque[Future[Out]] = deque()
    exhausted = False
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="tactful")
    try:
        while pending or not exhausted:
            if pending and pending[0].done():
                yield pending.popleft().result()
                continue
            if exhausted or len(pending) >= window:
                pending[0].exception()  # wait for the oldest
                continue
            try:
                item = inbox.get(timeout=0.05 if pending else None)
            except queue.Empty:
                continue
            if item is _END:
                exhausted = True
            elif isinstance(item, BaseException):
                raise item
            else:
                pending.append(pool.submit(classify, item))  # type: ignore[arg-type]
    finally:
        stop.set()
        # Do not wait for requests still in flight: on Ctrl-C or a dead backend the
        # caller wants to stop now, and nobody will read those results.
        pool.shutdown(wait=False, cancel_futures=True)


def _feed(records: Iterable[In], inbox: queue.Queue[object], stop: threading.Event) -> None:
    try:
        for record in records:
            while not stop.is_set():
                try:
                    inbox.put(record, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
    except BaseException as exc:  # surfaced on the consumer thread
        inbox.put(exc)
        return
    inbox.put(_END)


class SingleFlight(Generic[T]):
    """Runs a call once per key at a time: callers asking for a key in flight share its result."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, Future[T]] = {}

    def run(self, key: str, call: Callable[[], T]) -> tuple[T, bool]:
        """The value, and True when it came from another caller's call."""
        with self._lock:
            future = self._calls.get(key)
            leader = future is None
            if future is None:
                future = self._calls[key] = Future()
        if not leader:
            return future.result(), True
        try:
            value = call()
        except BaseException as exc:
            future.set_exception(exc)
            self._forget(key)
            raise
        future.set_result(value)
        self._forget(key)
        return value, False

    def _forget(self, key: str) -> None:
        with self._lock:
            del self._calls[key]
