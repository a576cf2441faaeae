"""How the classifier reads a decision: probabilities where the backend gives them, and
one explicit fallback to the sampled answer, said once, for the rest of the run."""

from __future__ import annotations

import contextlib
import logging
import threading

from tactful.backends.base import ChatRequest, Completion, Probe, ProbeRequest
from tactful.errors import NoProbabilities
from tactful.moderator import Moderator
from tactful.settings import Overrides, resolve

from tests.conftest import write_profile

FELL_BACK = "the answer is sampled instead, held to its schema, for the rest of the run"


class NoProbabilitiesBackend:
    """A backend that offers probes but turns out to give no probabilities; its sampled
    answer says "acceptable". The first ``together`` probes wait for each other, so that
    workers learn at the same moment that probing fails."""

    name = "scripted"
    model = "scripted-model"

    def __init__(self, together: int) -> None:
        self.probes = 0
        self.completions = 0
        self._meet = threading.Barrier(together)
        self._lock = threading.Lock()

    def probe(self, request: ProbeRequest) -> Probe:
        with self._lock:
            self.probes += 1
        with contextlib.suppress(threading.BrokenBarrierError):  # only the first ones meet
            self._meet.wait(timeout=2)
        raise NoProbabilities("the scripted backend gives no log-probabilities")

    def complete(self, request: ChatRequest) -> Completion:
        with self._lock:
            self.completions += 1
        return Completion('{"flagged": false}', prompt_tokens=7, output_tokens=4)

    def model_id(self) -> str:
        return self.model

    def embed(self, texts: list[str]) -> list[list[float]]:
        raise AssertionError("no embeddings here")

    def info(self) -> object:
        raise AssertionError("not asked")

    def close(self) -> None:
        pass


def test_the_fallback_to_the_sampled_answer_is_made_and_said_once(tmp_path, caplog):
    profile = write_profile(tmp_path / "p.toml", "version = 1\n[categories.spam]\nblocked = true\n")
    backend = NoProbabilitiesBackend(together=4)
    texts = [f"post number {n}" for n in range(12)]
    with caplog.at_level(logging.WARNING, logger="tactful"), \
            Moderator(resolve(Overrides(profile=profile)), backend=backend) as moderator:
        records = moderator.classify(texts, jobs=4)
    assert [r["moderation"]["flagged"] for r in records] == [False] * len(texts)
    assert {r["moderation"]["decided_by"] for r in records} == {"answer"}
    # Four workers found out together; every text after them went straight to the answer.
    assert backend.probes == 4 and backend.completions == len(texts)
    said = [r.getMessage() for r in caplog.records]
    assert [m for m in said if FELL_BACK in m] == [f"the scripted backend gives no log-probabilities: {FELL_BACK}"]
