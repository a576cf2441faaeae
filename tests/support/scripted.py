"""A scripted backend for unit tests of the engine: no server, no model, no HTTP.

It answers by what a model would see, the judged text (the ``text`` or ``thread`` of
the JSON line that frames it in the last user message), never by the prompt's wording,
so rewording a template changes no scripted answer. It records every request, and fails
on demand: script an exception (``Transient``, ``HostUnavailable``, ``NoProbabilities``)
instead of an answer, or an answer that breaks the contract (``AnswerError`` follows).

Two kinds, as the engine tells them apart: ``ScriptedBackend`` only completes (a server
without probabilities at the answer position); ``ScriptedProber`` also reads answer
probabilities (``Prober``), from per-text tables::

    ScriptedProber(probabilities={"you idiot": {"flagged": 0.9}})
    ScriptedProber(probabilities={"win a prize": {"category": {"spam": 0.7, "none": 0.3}}})
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tactful.backends.base import (
    BackendInfo,
    ChatRequest,
    ChoiceQuery,
    Completion,
    Message,
    Probe,
    ProbeRequest,
)
from tactful.errors import AnswerError

from tests.fake_ollama import item_text

# What the model does when asked about one text: writes this content, returns this
# completion, or fails with this exception.
Outcome = str | Completion | Exception
# Per text: one outcome for every ask, or a list taken in order (the last one repeats).
Script = Outcome | Sequence[Outcome]
# Per text, per answer key: P(true) for a boolean key ("flagged", a slug), or a
# distribution over slugs for "category"; an exception instead fails the probe.
Table = Mapping[str, float | Mapping[str, float]] | Exception

_LAST_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:\s*$')


def seen_text(messages: Sequence[Message]) -> str:
    """The text a model is asked to judge: the framed ``text`` of the last user message
    (a whole thread: its messages joined by " / "), found by its JSON, not by wording."""
    return item_text({"messages": list(messages)})


@dataclass
class ScriptedBackend:
    """``Backend``: each completion is the next outcome scripted for the text it judges."""

    answers: Mapping[str, Script] = field(default_factory=dict)
    default: Script | None = None  # for a text with no script of its own; None: the test fails
    name: str = "scripted"
    model: str = "scripted-model"
    host: str = "scripted://one"
    requests: list[ChatRequest | ProbeRequest] = field(default_factory=list)
    closed: bool = False

    def __post_init__(self) -> None:
        self._asked: dict[str, int] = {}

    @property
    def texts(self) -> list[str]:
        """The judged text of each request, in the order they came."""
        return [seen_text(request.messages) for request in self.requests]

    def complete(self, request: ChatRequest) -> Completion:
        self.requests.append(request)
        outcome = self._next(seen_text(request.messages), self.answers, self.default)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome if isinstance(outcome, Completion) else Completion(outcome, prompt_tokens=10, output_tokens=3)

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [[float(len(text)), 1.0] for text in texts]

    def model_id(self) -> str:
        return self.model

    def info(self) -> BackendInfo:
        return BackendInfo(self.name, self.host, None, self.model, True)

    def close(self) -> None:
        self.closed = True

    def _next(self, text: str, scripts: Mapping[str, Script], default: Script | None) -> Outcome:
        script = scripts.get(text, default)
        if script is None:
            raise AssertionError(f"nothing scripted for {text!r}")
        if isinstance(script, (str, Completion, Exception)):
            return script
        index = self._asked.get(text, 0)
        self._asked[text] = index + 1
        return script[min(index, len(script) - 1)]


@dataclass
class ScriptedProber(ScriptedBackend):
    """``Backend`` and ``Prober``: each query's distribution comes from the text's table."""

    probabilities: Mapping[str, Table] = field(default_factory=dict)
    default_probabilities: Table | None = None

    def probe(self, request: ProbeRequest) -> Probe:
        self.requests.append(request)
        text = seen_text(request.messages)
        table = self.probabilities.get(text, self.default_probabilities)
        if table is None:
            raise AssertionError(f"no probabilities scripted for {text!r}")
        if isinstance(table, Exception):
            raise table
        return Probe([distribution(table, query) for query in request.queries], prompt_tokens=10)


def distribution(table: Mapping[str, float | Mapping[str, float]], query: ChoiceQuery) -> dict[str, float]:
    """The query's choices weighed by the table entry for the key its opening ends in."""
    key = _LAST_KEY.search(query.opening)
    assert key is not None, f"an opening that asks no key: {query.opening!r}"
    entry = table.get(json.loads(f'"{key.group(1)}"'), 0.0)
    if isinstance(entry, Mapping):
        weights = {choice: float(entry.get(json.loads(choice), 0.0)) for choice in query.choices}
    else:
        weights = {choice: float(entry) if choice == " true" else 1 - float(entry) for choice in query.choices}
    total = sum(weights.values())
    if total <= 0:  # as a server whose likeliest tokens start no choice
        raise AnswerError(f"no choice of {query.opening!r} is likely")
    return {choice: weight / total for choice, weight in weights.items()}
