"""The classifier: one record in, one result out (prompt, backend, answer, decision).

Streams of records are run by ``tactful.engine.stream``. Warnings go to the logger
``tactful.engine.classifier``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import TypeAlias

from tactful.backends.base import (
    Backend,
    ChatRequest,
    Completion,
    Embedder,
    Prober,
    ProbeRequest,
    require_images,
)
from tactful.bank.store import Example
from tactful.engine.answer import BY_ANSWER, BY_PROBABILITY, Decision
from tactful.engine.cache import ResultCache, cache_key
from tactful.engine.image_bias import ImageBias
from tactful.engine.leaning import CONTENT_FREE, CategoryLeaning
from tactful.engine.learned import HEAD_SCORE, Head
from tactful.engine.prompt import NO_PARTS, ItemParts, Prompt, PromptBuilder
from tactful.engine.scores import scores_from_logprobs
from tactful.engine.stream import SingleFlight
from tactful.engine.textprep import prepare_context, prepare_text
from tactful.errors import AnswerError, NoProbabilities
from tactful.profile.load import Profile
from tactful.records import InputRecord, Moderation, Result

ExampleSelector = Callable[[str], list[Example]]
# What asking the model cost for one text (tokens in and out); None where the results
# cache or a twin in flight supplied the decision.
Cost: TypeAlias = Completion | None
_log = logging.getLogger(__name__)


class Strategy(Enum):
    """How the classifier reads a decision: the best way the backend offers at the start;
    a run falls back from probabilities to the sampled answer once, never the other way."""

    PROBABILITY = "probe"  # the answer values' probabilities, read at the answer position
    ANSWER = "answer"  # a sampled answer held to its schema (scored from its log-probabilities where given)


@dataclass
class Classifier:
    profile: Profile
    backend: Backend
    builder: PromptBuilder
    select_examples: ExampleSelector | None = None  # per-item examples ("similar")
    cache: ResultCache | None = None  # decisions already made, shared between runs
    head: Head | None = None  # a learned rule that decides instead of the thresholds (binary mode)

    def __post_init__(self) -> None:
        self._warned_no_logprobs = False
        self._inflight: SingleFlight[tuple[Decision, Cost]] = SingleFlight()
        self._identity: dict[str, object] | None = None
        self.contract = self.builder.contract
        # The answer is {"flagged": true} in every mode; a rationale needs room.
        self.max_tokens = 400 if self.contract.explain else 32
        # Probabilities read at the answer position where the backend can; a rationale has
        # to be written.
        self._image_lock = threading.Lock()
        self._images_checked = False
        self._image_bias: ImageBias | None = None
        self._prober: Prober | None = None  # the backend, where it reads probabilities for this contract
        if isinstance(self.backend, Prober) and not self.contract.explain:
            self._prober = self.backend
        self.strategy = Strategy.ANSWER if self._prober is None else Strategy.PROBABILITY
        self._strategy_lock = threading.Lock()
        # The head reads the prompt where the backend reads probabilities, with --explain too
        # (the rationale of a flagged text is then asked for on its own).
        self._head_prober: Prober | None = self.backend if isinstance(self.backend, Prober) else None
        # Where probabilities choose among two or more categories (a binary flag's name, the
        # multiclass answer), the model's leaning among them is divided out.
        self._leaning_lock = threading.Lock()
        self._leaning: CategoryLeaning | None = None
        self.corrects_leaning = self.contract.needs_naming

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
            d, cost = self.judge(prepared.chunks, parts)
        except AnswerError as exc:
            return Result(record, self.moderation(flagged=None, labels=[], error=f"invalid answer from model: {exc}", notes=prepared.notes))
        notes = prepared.notes
        if record.image is not None and self._image_bias is not None and d.decided_by == BY_PROBABILITY:
            notes = [*notes, IMAGE_NOTE]
        moderation = self.moderation(
            flagged=d.flagged, labels=d.labels, scores=d.scores, rationale=d.rationale,
            notes=notes, normalized=prepared.normalized, truncated=prepared.truncated, decided_by=d.decided_by,
            context=len(parts.context),
        )
        if cost is None:
            return Result(record, moderation, 0, 0, cached=True)
        return Result(record, moderation, cost.prompt_tokens or 0, cost.output_tokens or 0)

    def judge(self, chunks: list[str], parts: ItemParts = NO_PARTS) -> tuple[Decision, Cost]:
        """The decision on a prepared text: each part (a window, a second look) from the
        cache, from a twin in flight, or asked; then merged, with what the parts asked cost
        together (None: none was asked).

        Parts are cached one by one, so a long text edited at its end (a post, a paragraph
        under `tactful check`) is asked again only about the windows that changed.
        """
        judged = [self._judge_part(self.request_for(chunk, parts), chunk) for chunk in chunks]
        if len(judged) == 1:
            return judged[0]
        asked = [cost for _, cost in judged if cost is not None]
        return merge_decisions([decision for decision, _ in judged]), functools.reduce(_plus, asked) if asked else None

    def _judge_part(self, request: ChatRequest, text: str) -> tuple[Decision, Cost]:
        if self.cache is None:
            return self.decide_request(request, text)
        key = self.cache_key(request)
        hit = self.cache.get(key)
        if hit is not None:
            return hit, None
        (decision, cost), shared = self._inflight.run(key, lambda: self._ask_and_store(key, request, text))
        return decision, None if shared else cost

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
                "prompt": self.builder.fingerprint, "engine": self.strategy.value,
                "options": dict(self.profile.model.options),
                "mode": self.contract.mode,  # binary and multiclass send the same prompt
                "leaning": self.corrects_leaning and self.strategy is Strategy.PROBABILITY,
                # Probabilities meet the thresholds in the decision, so a recalibrated
                # profile decides anew.
                "thresholds": {c.slug: c.threshold for c in self.profile.categories},
                "head": self.head.identity if self.head is not None else None,
            }
            self._identity = identity  # published whole: workers read it without a lock
        return self._identity

    def _ask_and_store(self, key: str, request: ChatRequest, text: str) -> tuple[Decision, Cost]:
        assert self.cache is not None
        hit = self.cache.get(key)  # a twin may have finished between our lookup and now
        if hit is not None:
            return hit, None
        decision, completion = self.decide_request(request, text)
        self.cache.put(key, str(self.identity()["model"]), decision)
        return decision, completion

    def request_for(self, text: str, parts: ItemParts = NO_PARTS) -> ChatRequest:
        prompt = self.prompt_for(text, parts)
        return ChatRequest(prompt.messages, prompt.schema, True, self.max_tokens)

    def first_request(self, record: InputRecord) -> ChatRequest:
        """The request the backend receives for this record (its text's first part, if split)."""
        return self.request_for(self.first_text(record), self.parts_of(record))

    def first_text(self, record: InputRecord) -> str:
        """The record's text as the model reads it (its first part, if split)."""
        text = record.text or ""
        chunks = prepare_text(text, self.profile.task).chunks
        return chunks[0] if chunks else text

    def representation(self, record: InputRecord, embedder: Embedder | None) -> list[float]:
        """The model's representation of the record, as a learned head reads it: the bare
        text's vector from ``embedder``, or (None) the hidden state where the prompt's
        answer is read. Raises NoProbabilities where the backend cannot give it."""
        if embedder is not None:
            (vector,) = embedder.embed([self.first_text(record)])
            return vector
        request = self.first_request(record)
        if self._head_prober is None:
            raise NoProbabilities(f"the {self.backend.name} backend cannot read the prompt's hidden state")
        probe = self._head_prober.probe(ProbeRequest(request.messages, self.contract.queries(),
                                                     len(self.builder.fixed_messages), state=True))
        if probe.state is None:
            raise NoProbabilities(f"the {self.backend.name} backend gives no hidden state (the embedded backend does)")
        return probe.state

    def parts_of(self, record: InputRecord) -> ItemParts:
        """What the record brings besides its text, prepared as the model will read it."""
        return ItemParts(prepare_context(record.context, self.profile.task), record.image, record.whole_thread)

    def decide_request(self, request: ChatRequest, text: str | None = None) -> tuple[Decision, Completion]:
        """Ask the model once, and once more if the answer breaks the contract.

        ``text`` is the judged text as framed in ``request``: a head on the bare text's
        representation reads it instead of the prompt.
        """
        head = self.head
        if head is not None and text is not None and not shows_image(request):
            try:
                return self._by_head(head, request, text)
            except NoProbabilities as exc:
                self._drop_head(exc)
        try:
            return self._attempt(request)
        except AnswerError:
            return self._attempt(request)

    def without_example(self, example_id: str) -> Classifier:
        """This classifier with one bank example kept out of the prompt (leave-one-out) and no
        results cache; itself where the example cannot reach the prompt."""
        fixed = self.builder.fixed_examples
        if self.select_examples is None and all(ex.id != example_id for ex in fixed):
            return self
        select = self.select_examples
        if select is not None:  # "similar" would pick the text itself as its nearest example
            select = functools.partial(_other_examples, select, example_id)
        rest = [ex for ex in fixed if ex.id != example_id]
        # No results cache: the reduced prompt is only for this one text.
        return dataclasses.replace(self, builder=PromptBuilder(self.profile, rest), select_examples=select, cache=None)

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        if self.head is not None and self.head.embedder is not None:
            self.head.embedder.close()
        # A per-item selector may hold a backend of its own (the `similar` embedder).
        close_selector = getattr(self.select_examples, "close", None)
        if close_selector is not None:
            close_selector()

    def _attempt(self, request: ChatRequest) -> tuple[Decision, Completion]:
        if self.strategy is Strategy.PROBABILITY:
            try:
                return self._probe(request)
            except NoProbabilities as exc:
                self._fall_back(exc)
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
            _log.warning(
                f"the {self.backend.name} backend gave no usable log-probabilities: "
                "the sampled answer decides, without scores (records say decided_by: answer)"
            )
        return decision, completion

    def _by_head(self, head: Head, request: ChatRequest, text: str) -> tuple[Decision, Completion]:
        """The learned head's decision: from the bare text's representation (the prompt is
        not evaluated), or from the prompt's hidden state and probability, read in the one
        evaluation the thresholds would need."""
        contract, fixed = self.contract, len(self.builder.fixed_messages)
        probability, vector, evaluated = None, None, 0
        if head.needs_prompt:
            if self._head_prober is None:
                raise NoProbabilities(f"the {self.backend.name} backend cannot read the prompt for the learned head")
            probe = self._head_prober.probe(ProbeRequest(request.messages, contract.queries(), fixed,
                                                         state=head.reads_prompt_state))
            probability, vector, evaluated = contract.scores_from(probe.distributions)["flagged"], probe.state, probe.prompt_tokens
        if not head.reads_prompt_state:
            assert head.embedder is not None
            (vector,) = head.embedder.embed([text])
        if vector is None:
            raise NoProbabilities(f"the {self.backend.name} backend gave no hidden state for the learned head")
        score = head.score(probability, vector)
        flagged = score >= head.threshold
        scores = {HEAD_SCORE: score} if probability is None else {"flagged": probability, HEAD_SCORE: score}
        decision = Decision(flagged, contract.named_labels(flagged), scores, None, head.decided_by)
        cost = Completion("", prompt_tokens=evaluated, output_tokens=0)
        if flagged and (contract.explain or contract.needs_naming):
            decision, cost = self._describe_flag(decision, request, cost)
        return decision, cost

    def _describe_flag(self, decision: Decision, request: ChatRequest, cost: Completion) -> tuple[Decision, Completion]:
        """A flag the head raised, explained (--explain) and named (several blocked
        categories) by the model: flagged texts only, so only they pay for the prompt."""
        contract = self.contract
        if contract.explain:
            answer = self.backend.complete(request)
            cost = _plus(cost, answer)
            # The head decided; a rationale that breaks the contract is left out.
            with contextlib.suppress(AnswerError):
                decision = replace(decision, rationale=contract.parse(answer.content).rationale)
        if contract.needs_naming and self._head_prober is not None:
            decision, naming_tokens = self._named(decision, request, self._head_prober)
            cost = _plus(cost, Completion("", prompt_tokens=naming_tokens, output_tokens=0))
        return decision, cost

    def _drop_head(self, reason: NoProbabilities) -> None:
        """The thresholds decide for the rest of the run where the backend cannot give the
        head what it reads; the first worker to learn it says why, once."""
        with self._strategy_lock:
            if self.head is None:
                return
            self.head, self._identity = None, None  # decisions cached from now on are the thresholds'
        _log.warning(f"{reason}: the learned head cannot decide, the thresholds do for the rest of the run")

    def _fall_back(self, reason: NoProbabilities) -> None:
        """From probabilities to the sampled answer, for the rest of the run; the first
        worker to learn that the backend cannot give them says why, once."""
        with self._strategy_lock:
            if self.strategy is Strategy.ANSWER:
                return
            self.strategy = Strategy.ANSWER
        _log.warning(f"{reason}: the answer is sampled instead, held to its schema, for the rest of the run")

    def _probe(self, request: ChatRequest) -> tuple[Decision, Completion]:
        """The decision from the answer values' probabilities, read in one forward pass."""
        assert self._prober is not None
        contract = self.contract
        distributions, evaluated = self._distributions(request)
        if self._image_bias is not None and shows_image(request):
            distributions = self._image_bias.correct(distributions)
        if len(distributions) > 1 and self.corrects_leaning:  # the name, read with the flag
            distributions = [distributions[0], self._category_leaning().correct(distributions[1])]
        decision = contract.decide(contract.scores_from(distributions))
        if decision.flagged and contract.needs_naming and contract.mode == "binary":
            decision, naming_tokens = self._named(decision, request, self._prober)
            evaluated += naming_tokens
        return decision, Completion("", prompt_tokens=evaluated, output_tokens=0)

    def _named(self, decision: Decision, request: ChatRequest, prober: Prober) -> tuple[Decision, int]:
        """A binary flag named by the likeliest blocked category, the model's leaning among
        them divided out; and the tokens that cost. The same conversation again: only the
        naming question's opening is new. A flag stands unnamed when the model will not
        name a category (as when a sampled naming answer breaks its schema)."""
        try:
            naming = prober.probe(ProbeRequest(request.messages, (self.contract.choice_query(),), len(self.builder.fixed_messages)))
        except AnswerError:
            return decision, 0
        return self.contract.named(decision, self._category_leaning().correct(naming.distributions[0])), naming.prompt_tokens

    def _category_leaning(self) -> CategoryLeaning:
        """The model's leaning among the categories, measured on the first call."""
        if self._leaning is not None:  # every call after the first: no lock taken
            return self._leaning
        with self._leaning_lock:
            if self._leaning is None:
                prober = self._prober or self._head_prober  # the head names its flags with --explain too
                assert prober is not None
                query = self.contract.choice_query()
                fixed = len(self.builder.fixed_messages)
                empty = []
                for text in CONTENT_FREE:
                    try:
                        # The fixed prompt alone: no examples picked for an empty text.
                        messages = self.builder.build(text).messages
                        empty.append(prober.probe(ProbeRequest(messages, (query,), fixed)).distributions[0])
                    except AnswerError:  # no reading on this one: the others measure the leaning
                        continue
                self._leaning = CategoryLeaning.measured(empty, [f" {json.dumps(slug)}" for slug in self.contract.all_slugs])
                _log.debug(f"the model's leaning among the blocked categories on empty texts: {self._leaning.describe()}")
            return self._leaning

    def _distributions(self, request: ChatRequest) -> tuple[list[dict[str, float]], int]:
        """Each question's answer distribution, and the tokens evaluated to read them."""
        assert self._prober is not None
        fixed = len(self.builder.fixed_messages)
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
            if self.strategy is Strategy.PROBABILITY:
                from tactful.io.images import content_free_image

                try:
                    blank = self.request_for("", ItemParts(image=content_free_image()))
                    distributions, _ = self._distributions(blank)
                except (AnswerError, NoProbabilities):
                    distributions = []  # no leaning to measure: image scores stay as read
                if distributions:
                    self._image_bias = ImageBias(tuple(distributions))
                    _log.warning(f"the model's leaning on a content-free image ({self._image_bias.describe()}) "
                              "is divided out of every image's scores")
            self._images_checked = True

    def _scores(self, completion: Completion) -> dict[str, float] | None:
        if not completion.logprobs:
            return None
        return scores_from_logprobs(completion.content, completion.logprobs, self.contract)


def _other_examples(select: ExampleSelector, example_id: str, text: str) -> list[Example]:
    return [ex for ex in select(text) if ex.id != example_id]


IMAGE_NOTE = "image: scores corrected for the model's leaning on a content-free image"


def shows_image(request: ChatRequest) -> bool:
    return any(message.get("images") for message in request.messages)


def _plus(first: Completion, second: Completion) -> Completion:
    """``first`` with the tokens of another request added to its cost (a follow-up question, another part)."""
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
