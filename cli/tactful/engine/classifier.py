"""The classifier: one record in, one result out (prompt, backend, answer, decision).

Streams of records are run by ``tactful.engine.stream``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from tactful.backends.base import (
    Backend,
    ChatRequest,
    Completion,
    Prober,
    ProbeRequest,
    require_images,
)
from tactful.bank.store import Example
from tactful.engine.answer import BY_ANSWER, BY_PROBABILITY, Decision
from tactful.engine.cache import ResultCache, cache_key
from tactful.engine.image_bias import ImageBias
from tactful.engine.prompt import NO_PARTS, ItemParts, Prompt, PromptBuilder
from tactful.engine.scores import scores_from_logprobs
from tactful.engine.stream import SingleFlight
from tactful.engine.textprep import prepare_context, prepare_text
from tactful.errors import AnswerError, NoProbabilities
from tactful.profile.load import Profile
from tactful.records import InputRecord, Moderation, Result

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
    warn: Callable[[str], None] = lambda message: None
    cache: ResultCache | None = None  # decisions already made, shared between runs

    def __post_init__(self) -> None:
        self._warned_no_logprobs = False
        self._inflight: SingleFlight[Verdict] = SingleFlight()
        self._identity: dict[str, object] | None = None
        self.contract = self.builder.contract
        self.max_tokens = 400 if self.contract.explain else 32 + 8 * len(self.contract.all_slugs)
        # Probabilities read at the answer position where the backend can; a rationale has
        # to be written. Multilabel reads each key after the earlier values, which pays only
        # where the backend keeps the text between questions; a server answers it in one
        # sampled answer read key by key.
        self._image_lock = threading.Lock()
        self._images_checked = False
        self._image_bias: ImageBias | None = None
        self._prober: Prober | None = None
        if (isinstance(self.backend, Prober) and not self.contract.explain
                and (self.contract.mode != "multilabel" or self.backend.keeps_context)):
            self._prober = self.backend

    def prompt_for(self, text: str, parts: ItemParts = NO_PARTS) -> Prompt:
        examples = self.select_examples(text) if self.select_examples else []
        return self.builder.build(text, examples, parts)

    def moderation(self, **fields: object) -> Moderation:
        return Moderation(
            model=self.backend.model,
            profile=self.profile.name,
            prompt=self.builder.fingerprint,
            explain=self.contract.explain,
            **fields,  # type: ignore[arg-type]
        )

    def classify(self, record: InputRecord) -> Result:
        """The record judged: its text read in its context, or (a whole thread) the
        conversation its context and text make together."""
        if record.error is not None or record.text is None:
            return Result(record, self.moderation(flagged=None, labels=[], error=record.error))
        prepared = prepare_text(record.text, self.profile.task)
        if prepared.error:
            return Result(record, self.moderation(flagged=None, labels=[], error=prepared.error, notes=prepared.notes))
        parts = self.parts_of(record)
        if record.image is not None:
            self._ready_for_images()
        try:
            verdict = self.judge(prepared.chunks, parts)
        except AnswerError as exc:
            return Result(record, self.moderation(flagged=None, labels=[], error=f"invalid answer from model: {exc}", notes=prepared.notes))
        d = verdict.decision
        notes = prepared.notes
        if record.image is not None and self._image_bias is not None and d.decided_by == BY_PROBABILITY:
            notes = [*notes, IMAGE_NOTE]
        moderation = self.moderation(
            flagged=d.flagged, labels=d.labels, scores=d.scores, rationale=d.rationale,
            notes=notes, normalized=prepared.normalized, truncated=prepared.truncated, decided_by=d.decided_by,
            context=len(parts.context),
        )
        return Result(record, moderation, verdict.prompt_tokens, verdict.output_tokens, verdict.cached)

    def judge(self, chunks: list[str], parts: ItemParts = NO_PARTS) -> Verdict:
        """The decision on a prepared text: each part (a window, a second look) from the
        cache, from a twin in flight, or asked; then merged.

        Parts are cached one by one, so a long text edited at its end (a post, a paragraph
        under `tactful check`) is asked again only about the windows that changed.
        """
        verdicts = [self._judge_part(self.request_for(chunk, parts)) for chunk in chunks]
        if len(verdicts) == 1:
            return verdicts[0]
        return Verdict(
            merge_decisions([v.decision for v in verdicts]),
            sum(v.prompt_tokens for v in verdicts), sum(v.output_tokens for v in verdicts),
            cached=all(v.cached for v in verdicts),
        )

    def _judge_part(self, request: ChatRequest) -> Verdict:
        if self.cache is None:
            return self._ask(request)
        key = self.cache_key(request)
        hit = self.cache.get(key)
        if hit is not None:
            return Verdict(hit, cached=True)
        verdict, shared = self._inflight.run(key, lambda: self._ask_and_store(key, request))
        return Verdict(verdict.decision, cached=True) if shared else verdict

    def cache_key(self, request: ChatRequest) -> str:
        # What follows the fixed prefix (per-item examples, the framed text) is what varies,
        # context and image included; the fingerprint stands for the prefix and the schema.
        fixed = len(self.builder.fixed_messages)
        return cache_key(self.identity(), [request.messages[fixed:]])

    def identity(self) -> dict[str, object]:
        """Everything besides the item that decides an answer (asks the backend once)."""
        if self._identity is None:
            identity: dict[str, object] = {
                "backend": self.backend.name, "model": self.backend.model_id(),
                "prompt": self.builder.fingerprint, "engine": "probe" if self._prober else "answer",
                "options": dict(self.profile.model.options),
                # Probabilities meet the thresholds in the decision, so a recalibrated
                # profile decides anew.
                "thresholds": {c.slug: c.threshold for c in self.profile.categories},
            }
            self._identity = identity  # published whole: workers read it without a lock
        return self._identity

    def _ask_and_store(self, key: str, request: ChatRequest) -> Verdict:
        assert self.cache is not None
        hit = self.cache.get(key)  # a twin may have finished between our lookup and now
        if hit is not None:
            return Verdict(hit, cached=True)
        verdict = self._ask(request)
        self.cache.put(key, str(self.identity()["model"]), verdict.decision)
        return verdict

    def _ask(self, request: ChatRequest) -> Verdict:
        decision, completion = self.decide_request(request)
        return Verdict(decision, completion.prompt_tokens or 0, completion.output_tokens or 0)

    def request_for(self, text: str, parts: ItemParts = NO_PARTS) -> ChatRequest:
        prompt = self.prompt_for(text, parts)
        return ChatRequest(prompt.messages, prompt.schema, True, self.max_tokens)

    def first_request(self, record: InputRecord) -> ChatRequest:
        """The request the backend receives for this record (its text's first part, if split)."""
        text = record.text or ""
        chunks = prepare_text(text, self.profile.task).chunks
        return self.request_for(chunks[0] if chunks else text, self.parts_of(record))

    def parts_of(self, record: InputRecord) -> ItemParts:
        """What the record brings besides its text, prepared as the model will read it."""
        return ItemParts(prepare_context(record.context, self.profile.task), record.image, record.whole_thread)

    def decide_request(self, request: ChatRequest) -> tuple[Decision, Completion]:
        """Ask the model once, and once more if the answer breaks the contract."""
        try:
            return self._attempt(request)
        except AnswerError:
            return self._attempt(request)

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        # A per-item selector may hold a backend of its own (the `similar` embedder).
        close_selector = getattr(self.select_examples, "close", None)
        if close_selector is not None:
            close_selector()

    def _attempt(self, request: ChatRequest) -> tuple[Decision, Completion]:
        if self._prober is not None:
            try:
                return self._probe(request)
            except NoProbabilities as exc:
                if self._prober is not None:  # the first worker to learn it says why, once
                    self.warn(f"{exc}: the answer is sampled instead, held to its schema, for the rest of the run")
                self._prober = None  # the sampled answer decides from now on
        completion = self.backend.complete(request)
        decision = self.contract.parse(completion.content, self._scores(completion))
        if decision.flagged and self.contract.needs_naming:
            # The same conversation, asked which blocked category: flagged texts only, and
            # a server's prefix cache makes it cost about the text.
            named = self.backend.complete(ChatRequest(request.messages, self.contract.naming_schema(), False, 32))
            decision = self.contract.name_from_answer(decision, named.content)
            completion = _plus(completion, named)
        if decision.decided_by == BY_ANSWER and not self._warned_no_logprobs:
            self._warned_no_logprobs = True
            self.warn(
                f"the {self.backend.name} backend gave no usable log-probabilities: "
                "the sampled answer decides, without scores (records say decided_by: answer)"
            )
        return decision, completion

    def _probe(self, request: ChatRequest) -> tuple[Decision, Completion]:
        """The decision from the answer values' probabilities, read in one forward pass."""
        assert self._prober is not None
        contract = self.contract
        fixed = len(self.builder.fixed_messages)
        distributions, evaluated = self._distributions(request)
        if self._image_bias is not None and shows_image(request):
            distributions = self._image_bias.correct(distributions)
        decision = contract.decide(contract.scores_from(distributions))
        if decision.flagged and contract.needs_naming:
            # The same conversation again: only the naming question's opening is new. A
            # flag stands unnamed when the model will not name a category (as when a
            # sampled naming answer breaks its schema).
            try:
                naming = self._prober.probe(ProbeRequest(request.messages, (contract.category_query(contract.blocked),), fixed))
            except AnswerError:
                return decision, Completion("", prompt_tokens=evaluated, output_tokens=0)
            decision = contract.named(decision, naming.distributions[0])
            evaluated += naming.prompt_tokens
        return decision, Completion("", prompt_tokens=evaluated, output_tokens=0)

    def _distributions(self, request: ChatRequest) -> tuple[list[dict[str, float]], int]:
        """Each question's answer distribution, and the tokens evaluated to read them."""
        assert self._prober is not None
        fixed = len(self.builder.fixed_messages)
        if self.contract.mode == "multilabel":
            return self._probe_in_order(request, fixed)
        probe = self._prober.probe(ProbeRequest(request.messages, self.contract.queries(), fixed))
        return probe.distributions, probe.prompt_tokens

    # ------------------------------------------------------------ images

    def _ready_for_images(self) -> None:
        """Before the first image: the backend must see images, and the model's leaning on
        a content-free image is measured (where probabilities decide) to be divided out."""
        if self._images_checked:  # every image after the first: no lock taken
            return
        with self._image_lock:
            if self._images_checked:
                return
            require_images(self.backend)
            if self._prober is not None:
                from tactful.io.images import content_free_image

                try:
                    blank = self.request_for("", ItemParts(image=content_free_image()))
                    distributions, _ = self._distributions(blank)
                except (AnswerError, NoProbabilities):
                    distributions = []  # no leaning to measure: image scores stay as read
                if distributions:
                    self._image_bias = ImageBias(tuple(distributions))
                    self.warn(f"the model's leaning on a content-free image ({self._image_bias.describe()}) "
                              "is divided out of every image's scores")
            self._images_checked = True

    def _probe_in_order(self, request: ChatRequest, fixed: int) -> tuple[list[dict[str, float]], int]:
        """Multilabel: each category read after the model's likelier value for the ones before.

        Each question extends the answer written so far, so it costs its own few tokens.
        """
        assert self._prober is not None
        answered: list[tuple[str, bool]] = []
        distributions: list[dict[str, float]] = []
        evaluated = 0
        for slug in self.contract.all_slugs:
            query = self.contract.key_query(answered, slug)
            probe = self._prober.probe(ProbeRequest(request.messages, (query,), fixed))
            distribution = probe.distributions[0]
            distributions.append(distribution)
            evaluated += probe.prompt_tokens
            answered.append((slug, distribution[" true"] >= distribution[" false"]))
        return distributions, evaluated

    def _scores(self, completion: Completion) -> dict[str, float] | None:
        if not completion.logprobs:
            return None
        return scores_from_logprobs(completion.content, completion.logprobs, self.contract)


IMAGE_NOTE = "image: scores corrected for the model's leaning on a content-free image"


def shows_image(request: ChatRequest) -> bool:
    return any(message.get("images") for message in request.messages)


def _plus(first: Completion, second: Completion) -> Completion:
    """``first`` with the tokens of a follow-up request added to its cost."""
    def total(a: int | None, b: int | None) -> int | None:
        return None if a is None and b is None else (a or 0) + (b or 0)

    return Completion(first.content, total(first.prompt_tokens, second.prompt_tokens),
                      total(first.output_tokens, second.output_tokens), first.logprobs)


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
    flagged = any(d.flagged for d in decisions)
    return Decision(flagged, labels, scores, " / ".join(rationales) or None, decisions[0].decided_by)
