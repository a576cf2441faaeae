"""Retrying transient backend faults with exponential backoff and full jitter."""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable, Iterable
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


# How much of a server's answer an error line quotes: enough to name the cause, never a page.
EXCERPT_CHARS = 120
# A run of the prompt this long found in an answer is where the quote stops (a server that
# echoes the prompt in its error must not put the judged text on the user's screen).
ECHO_CHARS = 16
_TITLE = re.compile(r"<title[^>]*>([^<]*)</title>", re.IGNORECASE)


def excerpt(body: str, sent: Iterable[str] = ()) -> str:
    """At most a short, single-line quote of a server's answer, cut before any text of ``sent``.

    An HTML page is quoted by its title. Control characters become spaces, so the quote
    stays one line whatever the server sent.
    """
    title = _TITLE.search(body) if looks_like_html(body) else None
    line = title.group(1) if title else next((row for row in body.splitlines() if row.strip()), "")
    line = " ".join("".join(c if c.isprintable() else " " for c in line).split())
    line = line[: EXCERPT_CHARS + ECHO_CHARS]
    cut = _echo_at(line, [" ".join(text.split()) for text in sent])
    quoted = line[: min(cut, EXCERPT_CHARS)].rstrip()
    return quoted + ("…" if len(quoted) < len(line) else "")


def _echo_at(line: str, sent: list[str]) -> int:
    """Where ``line`` starts quoting any of ``sent`` (a run of ECHO_CHARS characters), else its length."""
    for at in range(max(len(line) - ECHO_CHARS + 1, 0)):
        window = line[at : at + ECHO_CHARS]
        if any(window in text for text in sent):
            return at
    return len(line)


def looks_like_html(body: str) -> bool:
    return body.lstrip()[:15].lower().startswith(("<!doctype html", "<html", "<head", "<body"))


def foreign_answer(where: str, status: int, content_type: str, body: str, expected: str) -> str:
    """An error line for an answer that is not in the API's terms: what came, what it may be."""
    kind = content_type.split(";")[0].strip() or ("text/html" if looks_like_html(body) else "no content type")
    quoted = excerpt(body)
    return f"{where} answered {status} {kind}{f' ({quoted})' if quoted else ''}: is this {expected}?"
