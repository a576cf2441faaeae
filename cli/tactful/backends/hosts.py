"""Several servers of one backend serving one model, used as one backend.

Each worker thread is bound to one host, so every request about a record goes where its
prompt prefix is already cached, and the threads are spread evenly (``--jobs`` per host,
``jobs * hosts`` workers). A host that cannot be reached or keeps failing
(``HostUnavailable``) rests for a while: the request that found it down is sent to
another host at once, and the threads bound to it move to the others until it has
rested, then go home. Only when every host has failed the same request does the run
stop, with everything before it written (a BackendError, as with one host).

Nothing is lost or duplicated: a request either returns from one host or is retried,
whole, on another; records are still written by the stream, in order, once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from tactful.backends.base import (
    Backend,
    BackendInfo,
    ChatRequest,
    Completion,
    Probe,
    Prober,
    ProbeRequest,
    require_images,
)
from tactful.errors import BackendError, HostUnavailable, TactfulError

T = TypeVar("T")

# How long a failed host sits out before threads try it again.
REST_SECONDS = 30.0


class HostPool:
    """``Backend`` over several hosts; see the module's docstring for the rules."""

    def __init__(self, backends: Sequence[Backend], rest: float = REST_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not backends:
            raise ValueError("a host pool needs at least one backend")
        self.backends = list(backends)
        self.name = self.backends[0].name
        self.rest = rest
        self.clock = clock
        self._lock = threading.Lock()
        self._resting: dict[int, float] = {}  # host index -> when it may be tried again
        self._homes: Counter[int] = Counter()  # threads whose home is each host
        self._local = threading.local()
        self.served: Counter[str] = Counter()  # records each host answered, by URL

    @property
    def size(self) -> int:
        return len(self.backends)

    @property
    def hosts(self) -> list[str]:
        return [_host(backend) for backend in self.backends]

    @property
    def model(self) -> str:
        return self.backends[0].model

    # ------------------------------------------------------------ the Backend protocol

    def complete(self, request: ChatRequest) -> Completion:
        return self._call(lambda backend: backend.complete(request))

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self._call(lambda backend: backend.embed(texts))

    def model_id(self) -> str:
        return self._call(lambda backend: backend.model_id())

    def info(self) -> BackendInfo:
        return self.backends[0].info()

    def infos(self) -> list[tuple[str, BackendInfo | TactfulError]]:
        """Each host's facts, or why it cannot serve (for `doctor`)."""
        found: list[tuple[str, BackendInfo | TactfulError]] = []
        for backend in self.backends:
            try:
                found.append((_host(backend), backend.info()))
            except TactfulError as exc:
                found.append((_host(backend), exc))
        return found

    def check_images(self) -> None:
        """Every host's model must see images: any host may serve any record."""
        for backend in self.backends:
            require_images(backend)

    def close(self) -> None:
        for backend in self.backends:
            backend.close()

    # ------------------------------------------------------------ records served

    def count_record(self) -> None:
        """Count the record this thread just finished for the host that answered it."""
        index = getattr(self._local, "current", None)
        if index is not None:
            with self._lock:
                self.served[_host(self.backends[index])] += 1

    # ------------------------------------------------------------ routing

    def _call(self, call: Callable[[Backend], T]) -> T:
        tried: set[int] = set()
        last: HostUnavailable | None = None
        while True:
            index = self._pick(tried)
            if index is None:
                assert last is not None
                raise BackendError(f"every host failed ({self.size}); the last: {last.message}")
            try:
                result = call(self.backends[index])
            except HostUnavailable as exc:
                last = exc
                tried.add(index)
                with self._lock:
                    self._resting[index] = self.clock() + self.rest
                continue
            self._local.current = index
            return result

    def _pick(self, tried: set[int]) -> int | None:
        """This thread's host if it may serve, else the least loaded other one not yet tried."""
        with self._lock:
            home = getattr(self._local, "home", None)
            if home is None:
                home = min(range(self.size), key=lambda i: (self._homes[i], i))
                self._homes[home] += 1
                self._local.home = home
            now = self.clock()
            untried = [i for i in range(self.size) if i not in tried]
            if not untried:
                return None
            awake = [i for i in untried if self._resting.get(i, 0.0) <= now]
            if home in awake:
                return home
            # Away from home: the least crowded host that is up, else the one back soonest.
            if awake:
                return min(awake, key=lambda i: (self._homes[i], i))
            return min(untried, key=lambda i: self._resting.get(i, 0.0))


class ProbingHostPool(HostPool):
    """A pool of backends that read probabilities directly (several Ollama servers)."""

    def probe(self, request: ProbeRequest) -> Probe:
        return self._call(lambda backend: cast(Prober, backend).probe(request))  # the pool holds Probers only


def host_count(backend: object) -> int:
    """How many servers answer for ``backend``: a pool's size, else 1 (one server, or in process)."""
    return backend.size if isinstance(backend, HostPool) else 1


def _host(backend: Any) -> str:
    return str(getattr(backend, "host", backend.name))
