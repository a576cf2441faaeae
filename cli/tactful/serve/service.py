"""What the server holds for its whole life: the engine, the pool, the suggestions file.

One backend is opened at start, as `tactful classify` opens it, and two moderators share
it: one that reads and fills the results cache shared with the CLI, and one that touches
no cache, for ``doNotStore`` (the text must not be written anywhere). A profile in binary
mode runs in multilabel mode here, as in `tactful check`: every API served asks for a
probability per category.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from tactful.backends import Backend, open_backend
from tactful.errors import BackendError
from tactful.moderator import Moderator
from tactful.paths import prompt_states_dir
from tactful.records import InputRecord, Moderation, Result
from tactful.serve.attributes import AttributeMap
from tactful.serve.auth import KeyCheck
from tactful.serve.limits import JudgePool
from tactful.serve.problems import ApiError
from tactful.serve.suggestions import SuggestionFile
from tactful.settings import Settings

_log = logging.getLogger(__name__)
# Judged once at start, through the moderator that stores nothing: the model is loaded
# and the fixed prompt evaluated before the first client waits for them.
WARM_UP_TEXT = "Thanks for the update."


@dataclass(frozen=True)
class ServeOptions:
    workers: int = 1  # judgments at once
    waiting: int = 32  # judgments queued beyond those
    timeout: float = 30.0  # seconds a request may wait for its answer
    use_cache: bool = True
    key: str | None = None  # the API key clients must send; None: none needed
    suggestions: Path | None = None  # where comments:suggestscore appends
    access_log: bool = False  # one line per request on stderr (never the query or body)


class Service:
    """Everything a request needs; ``close()`` when the server stops."""

    def __init__(self, settings: Settings, options: ServeOptions, *, backend: Backend | None = None) -> None:
        settings = serving_settings(settings)
        self.settings, self.options = settings, options
        # What can refuse to start does so before the model loads.
        self.suggestions = SuggestionFile(options.suggestions) if options.suggestions else None
        self.blocked = frozenset(category.slug for category in settings.profile.blocked)
        self.attributes = AttributeMap(settings.profile.slugs, settings.profile.serve)
        self.auth = KeyCheck(options.key)
        self._backend = backend or open_backend(settings.profile.model, settings.retry, prompt_states_dir())
        self._owns_backend = backend is None
        try:
            self._stored = Moderator(settings, backend=self._backend, use_cache=options.use_cache)
            self._unstored = Moderator(settings, backend=self._backend, use_cache=False, check_calibration=False)
        except BaseException:
            self._close_backend()
            raise
        self.pool = JudgePool(options.workers * self._stored.hosts, options.waiting, options.timeout)
        self.ready = False

    def warm_up(self) -> None:
        """Load the model and evaluate the fixed prompt; then /healthz says ready. A
        backend that cannot answer stops the start here (BackendError, exit 3)."""
        self._unstored.judge(InputRecord("warm-up", WARM_UP_TEXT, {}, "warm-up"))
        self.ready = True

    @property
    def model(self) -> str:
        return self._stored.model

    @property
    def fingerprint(self) -> str:
        return self._stored.fingerprint

    @property
    def profile_name(self) -> str:
        return self.settings.profile.name

    def info(self) -> dict[str, Any]:
        """What /healthz reports: what answers, and how busy it is."""
        return {
            "status": "ok" if self.ready else "loading",
            "profile": self.profile_name,
            "model": self.model,
            "prompt": self.fingerprint,
            "backend": self._stored.backend_name,
            "hosts": self._stored.hosts,
            "mode": self.settings.profile.task.mode,
            "attributes": self.attributes.names(),
            "judging": {"held": self.pool.held, "capacity": self.pool.capacity, "workers": self.pool.workers},
        }

    async def judge(self, records: Sequence[InputRecord], store: bool = True) -> list[Result]:
        """Each record judged in the pool; ``store`` False: no cache is read or written."""
        return await self.pool.run([partial(self._judge_one, record, store) for record in records])

    def _judge_one(self, record: InputRecord, store: bool) -> Result:
        moderator = self._stored if store else self._unstored
        try:
            return moderator.judge(record)
        except BackendError as exc:  # every host is down: this request fails, the server stays
            raise ApiError(503, f"the model backend cannot answer: {exc.message}") from None

    def close(self) -> None:
        try:
            self.pool.close()
            self._stored.close()
            self._unstored.close()
        finally:
            self._close_backend()

    def _close_backend(self) -> None:
        if self._owns_backend:
            self._backend.close()


def serving_settings(settings: Settings) -> Settings:
    """The settings a server runs on: a binary profile in multilabel mode, since every
    API served asks for a probability per category."""
    return settings.with_mode("multilabel") if settings.profile.task.mode == "binary" else settings


def scores_of(moderation: Moderation, slugs: Sequence[str]) -> dict[str, float]:
    """The probability of each of ``slugs`` for a judged text; a judgment without them is
    an error, never a made-up number."""
    if moderation.error is not None:
        raise ApiError(500, f"the text could not be judged: {moderation.error}")
    if moderation.scores is None:
        raise ApiError(500, "the model gave no probabilities for this text (its answer was sampled); "
                            "run `tactful doctor` to see why")
    missing = [slug for slug in slugs if slug not in moderation.scores]
    if missing:
        raise ApiError(500, f"the model's answer gave no probability for {', '.join(missing)}")
    return moderation.scores
