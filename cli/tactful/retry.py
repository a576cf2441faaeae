"""Retrying transient backend faults with exponential backoff and full jitter."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class Transient(Exception):
    """A fault worth retrying (busy server, timeout, dropped connection)."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # total tries, the first included
    base_delay: float = 0.5
    max_delay: float = 8.0

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
