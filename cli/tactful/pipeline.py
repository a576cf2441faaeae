"""The classification pipeline: record in, result out.

``Classifier`` turns one text into a ``Moderation`` (prompt, backend, answer, decision);
``classify_stream`` runs it over a stream of records with a bounded number in flight and
yields results in input order, so memory stays flat however long the input is.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from tactful.answer import Decision
from tactful.backends.base import Backend, ChatRequest, Completion
from tactful.cache import ResultCache, SingleFlight, cache_key
from tactful.errors import AnswerError
from tactful.example_bank import Example
from tactful.profile import Profile
from tactful.prompt import Prompt, PromptBuilder
from tactful.records import InputRecord, Moderation, Result
from tactful.scores import scores_from_logprobs
from tactful.textprep import prepare_text

ExampleSelector = Callable[[str], list[Example]]


@dataclass(frozen=True)
class Verdict:
    """The decision on one whole text, what it cost, and whether the cache supplied it."""

    decision: Decision
    prompt_tokens: int = 0
    output_tokens: int = 0
    cached: bool = False


@dataclass
class Classifier:
    profile: Profile
    backend: Backend
    builder: PromptBuilder
    select_examples: ExampleSelector | None = None  # per-item examples ("similar")
    want_scores: bool = False
    warn: Callable[[str], None] = lambda message: None
    cache: ResultCache | None = None  # decisions already made, shared between runs

    def __post_init__(self) -> None:
        self._warned_no_logprobs = False
        self._inflight: SingleFlight[Verdict] = SingleFlight()
        self._identity: dict[str, object] | None = None
        self.contract = self.builder.contract
        self.max_tokens = 400 if self.contract.explain else 32 + 8 * len(self.contract.all_slugs)

    def prompt_for(self, text: str) -> Prompt:
        examples = self.select_examples(text) if self.select_examples else []
        return self.builder.build(text, examples)

    def moderation(self, **fields: object) -> Moderation:
        return Moderation(
            model=self.backend.model,
            profile=self.profile.name,
            prompt=self.builder.fingerprint,
            explain=self.contract.explain,
            **fields,  # type: ignore[arg-type]
        )

    def classify(self, record: InputRecord) -> Result:
        if record.error is not None or record.text is None:
            return Result(record, self.moderation(flagged=None, labels=[], error=record.error))
        prepared = prepare_text(record.text, self.profile.task)
        if prepared.error:
            return Result(record, self.moderation(flagged=None, labels=[], error=prepared.error, notes=prepared.notes))
        try:
            verdict = self.judge(prepared.chunks)
        except AnswerError as exc:
            return Result(record, self.moderation(flagged=None, labels=[], error=f"invalid answer from model: {exc}", notes=prepared.notes))
        d = verdict.decision
        moderation = self.moderation(
            flagged=d.flagged, labels=d.labels, scores=d.scores,
            rationale=d.rationale, notes=prepared.notes, normalized=prepared.normalized,
        )
        return Result(record, moderation, verdict.prompt_tokens, verdict.output_tokens, verdict.cached)

    def judge(self, chunks: list[str]) -> Verdict:
        """The decision on a prepared text: from the cache, from a twin in flight, or asked."""
        requests = [self.request_for(chunk) for chunk in chunks]
        if self.cache is None:
            return self._ask(requests)
        key = self.cache_key(requests)
        hit = self.cache.get(key)
        if hit is not None:
            return Verdict(hit, cached=True)
        verdict, shared = self._inflight.run(key, lambda: self._ask_and_store(key, requests))
        return Verdict(verdict.decision, cached=True) if shared else verdict

    def cache_key(self, requests: list[ChatRequest]) -> str:
        # What follows the fixed prefix (per-item examples, the framed text) is what varies;
        # the fingerprint stands for the prefix and the schema.
        fixed = len(self.builder.fixed_messages)
        sent = [request.messages[fixed:] for request in requests]
        return cache_key(self.identity(), sent)

    def identity(self) -> dict[str, object]:
        """Everything besides the item that decides an answer (asks the backend once)."""
        if self._identity is None:
            self._identity = {
                "backend": self.backend.name, "model": self.backend.model_id(),
                "prompt": self.builder.fingerprint, "scores": self.want_scores,
                "options": dict(self.profile.model.options),
            }
        return self._identity

    def _ask_and_store(self, key: str, requests: list[ChatRequest]) -> Verdict:
        assert self.cache is not None
        hit = self.cache.get(key)  # a twin may have finished between our lookup and now
        if hit is not None:
            return Verdict(hit, cached=True)
        verdict = self._ask(requests)
        self.cache.put(key, str(self.identity()["model"]), verdict.decision)
        return verdict

    def _ask(self, requests: list[ChatRequest]) -> Verdict:
        decisions: list[Decision] = []
        prompt_tokens = output_tokens = 0
        for request in requests:
            decision, completion = self.decide_request(request)
            decisions.append(decision)
            prompt_tokens += completion.prompt_tokens or 0
            output_tokens += completion.output_tokens or 0
        return Verdict(merge_decisions(decisions), prompt_tokens, output_tokens)

    def request_for(self, text: str) -> ChatRequest:
        prompt = self.prompt_for(text)
        return ChatRequest(prompt.messages, prompt.schema, self.want_scores, self.max_tokens)

    def first_request(self, text: str) -> ChatRequest:
        """The request the backend receives for this text (its first part, if split)."""
        chunks = prepare_text(text, self.profile.task).chunks
        return self.request_for(chunks[0] if chunks else text)

    def decide_request(self, request: ChatRequest) -> tuple[Decision, Completion]:
        """Ask the model once, and once more if the answer breaks the contract."""
        try:
            return self._attempt(request)
        except AnswerError:
            return self._attempt(request)

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()

    def _attempt(self, request: ChatRequest) -> tuple[Decision, Completion]:
        completion = self.backend.complete(request)
        scores = None
        if self.want_scores:
            scores = self._scores(completion)
        return self.contract.parse(completion.content, scores), completion

    def _scores(self, completion: Completion) -> dict[str, float] | None:
        if not completion.logprobs:
            if not self._warned_no_logprobs:
                self._warned_no_logprobs = True
                self.warn(f"the {self.backend.name} backend returned no log-probabilities: scores are left out")
            return None
        return scores_from_logprobs(completion.content, completion.logprobs, self.contract)


def merge_decisions(decisions: list[Decision]) -> Decision:
    """One decision for a text judged in parts: flagged if any part is."""
    if len(decisions) == 1:
        return decisions[0]
    labels = list(dict.fromkeys(label for d in decisions for label in d.labels))
    scores: dict[str, float] | None = None
    if all(d.scores for d in decisions):
        scores = {}
        for d in decisions:
            for key, value in (d.scores or {}).items():
                scores[key] = max(scores.get(key, 0.0), value)
    rationales = [d.rationale for d in decisions if d.rationale]
    return Decision(any(d.flagged for d in decisions), labels, scores, " / ".join(rationales) or None)


# ---------------------------------------------------------------- streaming

_END = object()


def classify_stream(
    records: Iterable[InputRecord],
    classify: Callable[[InputRecord], Result],
    jobs: int = 1,
) -> Generator[Result, None, None]:
    """Results in input order, with at most ``jobs * 4`` records read ahead.

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
    pending: deque[Future[Result]] = deque()
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


def _feed(records: Iterable[InputRecord], inbox: queue.Queue[object], stop: threading.Event) -> None:
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
