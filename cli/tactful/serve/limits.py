"""The bounded pool the blocking model runs in.

The model call blocks a thread for as long as it thinks, so judgments run in a fixed
number of worker threads, and at most ``waiting`` more wait for one: a request that
would go beyond is refused at once (429) rather than queued without end. A request that
takes longer than its timeout is answered 504, but the slot it holds is freed only when
its judgment really ends: a model call cannot be interrupted, and counting it free
earlier would let slow requests pile up behind the bound.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from tactful.serve.problems import ApiError

T = TypeVar("T")


class JudgePool:
    """``workers`` judgments at once, ``waiting`` more queued, each request within ``timeout`` seconds."""

    def __init__(self, workers: int, waiting: int, timeout: float) -> None:
        self.workers, self.capacity, self.timeout = workers, workers + waiting, timeout
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="tactful-judge")
        self._lock = threading.Lock()
        self._held = 0  # judgments submitted and not yet finished

    @property
    def held(self) -> int:
        with self._lock:
            return self._held

    async def run(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        """Each call's result, in order; every call is refused unless all of them fit."""
        self._take(len(calls))
        futures: list[Future[T]] = []
        try:
            for call in calls:
                future = self._executor.submit(call)
                future.add_done_callback(self._release)
                futures.append(future)
        except RuntimeError:  # the executor is shut down: the server is stopping
            self._give_back(len(calls) - len(futures))
            raise ApiError(503, "the server is shutting down; try again on another instance") from None
        waiting = asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
        try:
            return await asyncio.wait_for(waiting, self.timeout)
        except asyncio.TimeoutError:
            raise ApiError(504, f"the model took longer than {self.timeout:g} s; try again, or start "
                                "the server with a larger --timeout") from None

    def close(self) -> None:
        """Wait for the judgments under way (a graceful stop lets them end)."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _take(self, count: int) -> None:
        with self._lock:
            if self._held + count > self.capacity:
                raise ApiError(429, f"the server is busy: {self._held} judgments under way or waiting, "
                                    f"the limit is {self.capacity}; try again shortly")
            self._held += count

    def _release(self, _: Future[T]) -> None:
        self._give_back(1)

    def _give_back(self, count: int) -> None:
        with self._lock:
            self._held -= count
