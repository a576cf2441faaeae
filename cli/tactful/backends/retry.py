"""Retrying transient backend faults with exponential backoff and full jitter."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from tactful.errors import ConfigError, HostUnavailable, Transient

T = TypeVar("T")


# For tests and benchmarks: the first backoff step in seconds (default 0.5).
ENV_BASE_DELAY = "TACTFUL_RETRY_BASE_DELAY"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # total tries, the first included
    base_delay: float = 0.5
    max_delay: float = 8.0

    @classmethod
    def configured(cls, retries: int | None = None) -> RetryPolicy:
        """The default policy, with ``--retries`` and $TACTFUL_RETRY_BASE_DELAY applied."""
        policy = cls()
        if retries is not None:
            policy = replace(policy, attempts=retries + 1)
        base = os.environ.get(ENV_BASE_DELAY)
        if base:
            try:
                policy = replace(policy, base_delay=max(float(base), 0.0))
            except ValueError:
                raise ConfigError(f"{ENV_BASE_DELAY}={base!r}: expected a number of seconds such as 0.5") from None
        return policy

    def delays(self) -> list[float]:
        # Full jitter (AWS architecture blog): spreads retries of concurrent workers apart.
        return [
            random.uniform(0, min(self.max_delay, self.base_delay * 2**i))
            for i in range(max(self.attempts - 1, 0))
        ]


def with_retries(call: Callable[[], T], policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``call``; on Transient, wait and try again, up to the policy's attempts."""
    for delay in policy.delays():
        try:
            return call()
        except Transient:
            sleep(delay)
    return call()


class ServerLink:
    """What a server backend's transport faults mean, stated once for Ollama and OpenAI servers.

    A server never reached fails at once (retrying will not start it); once it has
    answered, a lost connection, a timeout or a dropped transfer is worth another try; a
    server that keeps failing is ``HostUnavailable``, so a host pool can move on.
    """

    def __init__(self, where: str, timeout: float, retry: RetryPolicy, not_running: Callable[[], Exception]) -> None:
        self.where = where  # "Ollama at URL", "the server at URL"
        self.timeout = timeout
        self.retry = retry
        self.not_running = not_running
        self.connected = False

    def call(self, request: Callable[[], T]) -> T:
        """One transport call, its faults made Transient (or the not-running error)."""
        import httpx

        try:
            result = request()
        except (ConnectionError, httpx.ConnectError):  # the ollama client raises the built-in one
            if not self.connected:
                raise self.not_running() from None
            raise Transient("connection lost") from None
        except httpx.TimeoutException:
            raise Transient(f"no answer within {self.timeout:g} s") from None
        except httpx.TransportError:
            raise Transient("connection dropped") from None
        self.connected = True
        return result

    def retrying(self, call: Callable[[], T]) -> T:
        """``call`` (which uses ``self.call``) with backoff; HostUnavailable when it keeps failing."""
        try:
            return with_retries(call, self.retry)
        except Transient as exc:
            raise HostUnavailable(f"{self.where} kept failing after {self.retry.attempts} tries: {exc}") from None
