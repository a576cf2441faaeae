"""The Python API: the CLI's judgement, for programs and cluster jobs.

    from tactful import Moderator

    with Moderator.from_profile("tactful.toml") as moderator:
        for record in moderator.classify(["you absolute idiot", "see you at the meetup"]):
            print(record["moderation"]["flagged"], record["moderation"]["scores"])

``classify`` returns the records `tactful classify` writes, one per input, in order
(``moderator.classify("you idiot")`` judges one text and returns a list of one):
an item that cannot be judged comes back with ``flagged: None`` and its ``error``. A
``Moderator`` opens its backend once (a loaded model, an HTTP connection pool) and is
safe to call from several threads, so build one per worker process and call it per
partition (see README, "Scale-out"). Every command that judges runs on it: this is the
one place the engine (backend, example bank, prompt, classifier, results cache) is put
together.

``Moderator(settings, backend=...)`` runs on a backend of the caller's (as httpx takes a
transport): a stand-in for tests, or ``PromptOnly`` to build prompts and send nothing.

Warnings (stale thresholds, a backend without log-probabilities, ...) go to the
``tactful`` logger, as ``logging.getLogger("tactful")``; the library installs no handler.

Errors (``tactful.errors``): ``ConfigError`` for a bad profile, ``BackendError`` when
the backend cannot serve (every host down); both are ``TactfulError`` with a one-line
``message``.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import logging
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any, Literal, TypeAlias, TypeVar

from tactful.backends import Backend, ChatRequest, ChoiceQuery, open_backend, open_embedder
from tactful.backends.base import Prober
from tactful.backends.hosts import HostPool, host_count
from tactful.backends.prompt_only import PromptOnly
from tactful.bank.selection import balanced_examples, bank_for, fixed_examples
from tactful.engine.cache import ResultCache
from tactful.engine.classifier import Classifier
from tactful.engine.learned import Head
from tactful.engine.prompt import PromptBuilder
from tactful.engine.stream import classify_stream
from tactful.errors import UsageError
from tactful.io.readers import INPUT_FORMATS, ReadOptions, line_record, object_record
from tactful.learning.choose import COMBINED
from tactful.learning.head import BINARY_KEY, PROMPT, TEXT, checked_apply, head_path, load_head
from tactful.paths import prompt_states_dir, results_cache_path
from tactful.profile.load import Profile
from tactful.records import InputRecord, Result
from tactful.settings import Overrides, Settings, resolve

# What ``Moderator.classify`` judges: a text, or an object (a JSONL record) holding one.
Item: TypeAlias = str | Mapping[str, Any]
# How ``Moderator.classify_lines`` reads lines, as `tactful classify --input-format`.
InputFormat: TypeAlias = Literal["auto", "text", "jsonl"]
T = TypeVar("T")
_log = logging.getLogger(__name__)


class Moderator:
    """A profile's classifier on its backend, opened once; ``close()`` (or ``with``) when done."""

    def __init__(self, settings: Settings, *, backend: Backend | None = None, use_cache: bool = False,
                 check_calibration: bool = True, use_head: bool = True) -> None:
        """The engine for ``settings``.

        ``backend``, when given, is used instead of the one the profile names, as httpx
        takes a transport: the caller opened it and closes it (``close()`` leaves it open).
        ``use_cache`` reads and fills the results cache shared with the CLI;
        ``check_calibration`` warns when the thresholds were fitted for another model or
        prompt (calibrate, which fits them anew, turns it off). ``use_head``: the learned
        head saved beside the profile decides, where there is one fitted for this model
        and prompt (calibrate, which needs the prompt's own probabilities, turns it off).
        """
        self.settings = settings
        self._owns_backend = backend is None
        with ExitStack() as undo:  # what is open so far is closed again if assembly fails
            self._backend = _open_backend(settings) if backend is None else backend
            if self._owns_backend:
                undo.callback(self._backend.close)
            self._classifier = _classifier(settings, self._backend, use_cache)
            undo.callback(self._classifier.close)
            if use_head:
                self._classifier.head = learned_head(settings, self._backend, self.fingerprint)
            if check_calibration:
                warn_if_stale(settings.profile, self.fingerprint, self._backend)
            undo.pop_all()
        self._text_embedder: Backend | None = None  # opened by the first `representations` of bare texts
        # A host pool counts the records each host answered; a single backend has nothing to count.
        self._pool = self._backend if isinstance(self._backend, HostPool) else None

    @classmethod
    def from_profile(
        cls,
        profile: str | Path | None = None,
        *,
        model: str | None = None,
        backend: str | None = None,
        hosts: str | Sequence[str] | None = None,
        mode: str | None = None,
        cache: bool = False,
    ) -> Moderator:
        """A moderator for a profile file (None: found as the CLI finds it), with overrides.

        ``backend`` is "ollama", "embedded" or "openai"; ``hosts`` a server URL or several
        (a lone string is one URL, not its characters); ``cache`` reads and fills the
        results cache shared with the CLI.
        """
        servers = [hosts] if isinstance(hosts, str) else list(hosts or ())
        overrides = Overrides(profile=Path(profile) if profile is not None else None, model=model, hosts=servers or None,
                              backend=backend, mode=mode)
        return cls(resolve(overrides), use_cache=cache)

    # ------------------------------------------------------------ judging

    def classify(self, items: Item | Iterable[Item], *, field: str = "text",
                 id_field: str = "id", context_field: str | None = None, image_field: str | None = None,
                 jobs: int = 1) -> list[dict[str, Any]]:
        """One record per item, in order: a text, or an object whose ``field`` holds the text.

        A lone text or object is one item, judged whole (a string is iterable too: without
        this, each of its characters would be judged as a text of its own). ``context_field``
        names the thread's earlier messages in an object, ``image_field`` an image (a path,
        base64 or a data: URL) with ``field`` as its caption. ``jobs`` requests are in flight
        on each host at once.
        """
        batch = [items] if isinstance(items, (str, Mapping)) else items
        options = ReadOptions(field=field, id_field=id_field, context_field=context_field, image_field=image_field)
        return self._records((_record(number, item, options) for number, item in enumerate(batch, start=1)), jobs)

    def classify_lines(self, lines: Iterable[tuple[str, int, bytes]], *, input_format: InputFormat = "auto",
                       field: str = "text", id_field: str = "id", context_field: str | None = None,
                       image_field: str | None = None, jobs: int = 1) -> list[dict[str, Any]]:
        """The records `tactful classify PATH` writes for these lines of files, in order.

        Each line is ``(path, number, raw)``: the file it was split from, its number from 1,
        and its bytes as read (a cluster job splits the files and hands each worker a batch).
        As in the command, a blank line has no record, a ``.jsonl``/``.ndjson`` path is JSONL
        (``input_format`` says otherwise), and a line that cannot be read or judged is an
        error record that names ``path:number``.
        """
        if input_format not in INPUT_FORMATS:
            raise UsageError(f"input_format must be one of {', '.join(INPUT_FORMATS)}, not {input_format!r}")
        options = ReadOptions(input_format, field, id_field, context_field=context_field, image_field=image_field)
        records = (line_record(raw, path, number, options) for path, number, raw in lines)
        return self._records((record for record in records if record is not None), jobs)

    def _records(self, records: Iterable[InputRecord], jobs: int) -> list[dict[str, Any]]:
        with closing(self.results(records, jobs)) as results:
            return [result.to_json() for result in results]

    def results(self, records: Iterable[InputRecord], jobs: int = 1) -> Generator[Result, None, None]:
        """Results in input order, ``jobs`` in flight per host; what the commands stream."""
        return self._stream(records, self.judge, jobs)

    def results_left_out(self, items: Iterable[tuple[InputRecord, str | None]], jobs: int = 1) -> Generator[Result, None, None]:
        """As ``results``, for records that are bank examples (their id; None for other
        records): each judged with itself kept out of the prompt, so the model is never
        shown the answer it is asked for (calibration's leave-one-out)."""
        def judge(item: tuple[InputRecord, str | None]) -> Result:
            record, example_id = item
            return (self if example_id is None else self.without_example(example_id)).judge(record)

        return self._stream(items, judge, jobs)

    def judge(self, record: InputRecord) -> Result:
        """One record judged (its error, if it could not be read, comes back as its result)."""
        result = self._classifier.classify(record)
        if self._pool is not None and not result.cached and record.error is None:  # a host answered it
            self._pool.count_record()
        return result

    def without_example(self, example_id: str) -> Moderator:
        """This moderator with one bank example kept out of the prompt, and no results cache
        (the reduced prompt serves one text); itself where that example cannot reach the
        prompt. It shares this one's backend: closing it closes nothing of this one's."""
        classifier = self._classifier.without_example(example_id)
        if classifier is self._classifier:
            return self
        variant = copy.copy(self)
        variant._classifier, variant._owns_backend = classifier, False
        return variant

    def _stream(self, items: Iterable[T], judge: Callable[[T], Result], jobs: int) -> Generator[Result, None, None]:
        # --jobs is per host: a pool of servers has that many requests in flight on each.
        return classify_stream(items, judge, jobs * self.hosts)

    def representations(self, items: Iterable[tuple[InputRecord, str | None]], prompt_state: bool) -> Iterator[list[float]]:
        """Each record's representation for a learned head, in order (bank examples, by id,
        left out of the prompt): the hidden state where the prompt's answer is read
        (``prompt_state``), else the chat model's own vector for the bare text."""
        if prompt_state:
            embedder = None
        else:
            embedder = self._text_embedder = self._text_embedder or open_embedder(
                dataclasses.replace(self.settings.profile.model, embedding=self.settings.profile.model.name),
                self.settings.retry)
        for record, example_id in items:
            judge = self if example_id is None else self.without_example(example_id)
            yield judge._classifier.representation(record, embedder)

    # ------------------------------------------------------------ the prompt

    @property
    def fingerprint(self) -> str:
        """The fixed prompt's fingerprint, as records and calibrations name it."""
        return self._classifier.builder.fingerprint

    def first_request(self, record: InputRecord) -> ChatRequest:
        """The request the backend receives for this record (its text's first part, if split)."""
        return self._classifier.first_request(record)

    def answer_openings(self) -> tuple[ChoiceQuery, ...] | None:
        """Where the answer's probabilities are read (each opening, over its values); None
        where the model writes a rationale, so the sampled answer decides."""
        contract = self._classifier.contract
        return None if contract.explain else contract.queries()

    # ------------------------------------------------------------ facts

    @property
    def model(self) -> str:
        """The model as records name it (the profile's or --model's name)."""
        return self._backend.model

    def model_id(self) -> str:
        """The model's name with a digest where the backend knows one (may ask the server, once)."""
        return self._backend.model_id()

    @property
    def backend_name(self) -> str:
        """The kind of backend: "ollama", "openai", "embedded", or "none" (``PromptOnly``)."""
        return self._backend.name

    @property
    def hosts(self) -> int:
        """How many servers answer (1 for a single server or the embedded backend)."""
        return host_count(self._backend)

    def served(self) -> dict[str, int]:
        """Records each host answered so far, every host listed (empty with one host)."""
        if self._pool is None:
            return {}
        return {host: self._pool.served[host] for host in self._pool.hosts}

    def close(self) -> None:
        try:
            self._classifier.close()
            if self._text_embedder is not None:
                self._text_embedder.close()
        finally:
            if self._owns_backend:
                self._backend.close()

    def __enter__(self) -> Moderator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _record(number: int, item: str | Mapping[str, Any], options: ReadOptions) -> InputRecord:
    source = f"item {number}"
    if isinstance(item, str):
        return InputRecord(str(number), item, {"id": number, "text": item}, source)
    if isinstance(item, Mapping):
        return object_record(dict(item), source, options)
    return InputRecord(str(number), None, {"id": number, "raw": repr(item)[:200]}, source,
                       f"{source}: expected a string or a mapping, got {type(item).__name__}")


# ---------------------------------------------------------------- assembly


def _open_backend(settings: Settings) -> Backend:
    return open_backend(settings.profile.model, settings.retry, prompt_states_dir())


def _classifier(settings: Settings, backend: Backend, use_cache: bool) -> Classifier:
    """The classifier for resolved settings; ``use_cache`` reads and fills the results cache.

    Call ``close()`` on it when done (it closes the cache and a per-item selector).
    """
    profile = settings.profile
    bank = bank_for(profile)
    strategy = profile.task.example_selection
    select_for_item = None
    if strategy == "similar" and bank:
        from tactful.backends import open_embedder
        from tactful.bank.similar import selector_for

        # The selector owns the embedder it opens; Classifier.close closes the selector.
        select_for_item = selector_for(profile, bank, open_embedder)
        fixed = []
    elif strategy == "fixed":
        fixed = fixed_examples(bank, profile)
    else:
        fixed = balanced_examples(bank, profile)
    cache = ResultCache(results_cache_path()) if use_cache else None
    return Classifier(profile, backend, PromptBuilder(profile, fixed), select_for_item, cache=cache)


def learned_head(settings: Settings, backend: Backend, fingerprint: str) -> Head | None:
    """The head saved beside the profile, ready to decide; None where there is none, or
    where it was fitted for another model, prompt or mode (said once: the thresholds decide)."""
    profile = settings.profile
    path = head_path(profile.path) if profile.path is not None else None
    saved = load_head(path) if path is not None else None
    if path is None or saved is None or isinstance(backend, PromptOnly):
        return None
    stale = saved.stale(backend.model_id(), fingerprint, profile.task.mode)
    if stale is None and saved.mode != "binary":
        stale = f"{saved.mode} mode (a head decides in binary mode only)"
    if stale is None and saved.needs_prompt and not isinstance(backend, Prober):
        stale = f"a backend that reads the prompt's probabilities (the {backend.name} backend does not)"
    if stale is not None:
        _log.warning(f"{path}: the learned head was fitted for {stale}, so it does not decide (the thresholds do); "
                     f"run `tactful calibrate --mode {profile.task.mode}`")
        return None
    rule = saved.rules[BINARY_KEY]
    embedder = None
    if saved.representation == TEXT:  # the chat model's own representation of the bare text
        embedder = open_embedder(dataclasses.replace(profile.model, embedding=profile.model.name), settings.retry)
    return Head(decided_by=rule.kind, reads_prompt_state=saved.representation == PROMPT,
                uses_probability=rule.kind == COMBINED, score=functools.partial(checked_apply, rule, path),
                threshold=rule.threshold, identity=f"{saved.fitted} {saved.model}", embedder=embedder)


def warn_if_stale(profile: Profile, fingerprint: str, backend: Backend) -> None:
    """Say once when the profile's thresholds were fitted for another model or prompt."""
    fitted = profile.calibration
    if not fitted:
        return
    mode, changed = profile.task.mode, []
    if fitted.get("mode") not in (None, mode):  # `tactful check` runs a binary profile as multilabel
        changed.append(f"{fitted['mode']} mode (this run is in {mode} mode)")
    elif fitted.get("prompt") not in (None, fingerprint):
        changed.append(f"prompt {fitted['prompt']} (now {fingerprint}: categories, examples or mode changed)")
    # A backend that sends nothing cannot say which model a server would run.
    if fitted.get("model") is not None and not isinstance(backend, PromptOnly):
        model = backend.model_id()  # may ask the server: once
        if fitted["model"] != model:
            changed.append(f"model {fitted['model']} (now {model})")
    if changed:  # --mode: the command that fits this run's scores, whichever command this is
        _log.warning(f"the thresholds were calibrated for {' and '.join(changed)}; run `tactful calibrate --mode {mode}`")
