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
partition (see README, "Scale-out"). The CLI's classify, check and eval run on it.

Errors (``tactful.errors``): ``ConfigError`` for a bad profile, ``BackendError`` when
the backend cannot serve (every host down); both are ``TactfulError`` with a one-line
``message``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, TypeAlias

from tactful.backends import Backend, open_backend
from tactful.backends.hosts import HostPool, host_count
from tactful.bank.selection import balanced_examples, fixed_examples, usable_examples
from tactful.bank.store import load_bank
from tactful.engine.cache import ResultCache
from tactful.engine.classifier import Classifier
from tactful.engine.prompt import PromptBuilder
from tactful.engine.stream import classify_stream
from tactful.io.readers import ReadOptions, object_record
from tactful.paths import prompt_states_dir, results_cache_path
from tactful.profile.load import Profile
from tactful.records import InputRecord, Result
from tactful.settings import Overrides, Settings, resolve

Warn = Callable[[str], None]
# What ``Moderator.classify`` judges: a text, or an object (a JSONL record) holding one.
Item: TypeAlias = str | Mapping[str, Any]
_log = logging.getLogger("tactful")


class Moderator:
    """A profile's classifier on its backend, opened once; ``close()`` (or ``with``) when done."""

    def __init__(self, settings: Settings, *, use_cache: bool = False, warn: Warn = _log.warning) -> None:
        self.settings = settings
        self.backend = make_backend(settings)
        try:
            self.classifier = make_classifier(settings, self.backend, use_cache=use_cache, warn=warn)
        except BaseException:
            self.backend.close()
            raise
        # A host pool counts the records each host answered; a single backend has nothing to count.
        self._pool = self.backend if isinstance(self.backend, HostPool) else None

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
        records = (_record(number, item, options) for number, item in enumerate(batch, start=1))
        with closing(self.results(records, jobs)) as results:
            return [result.to_json() for result in results]

    def results(self, records: Iterable[InputRecord], jobs: int = 1) -> Generator[Result, None, None]:
        """Results in input order, ``jobs`` in flight per host; what the commands stream."""
        return classify_stream(records, self._judge, jobs * self.hosts)

    def _judge(self, record: InputRecord) -> Result:
        result = self.classifier.classify(record)
        if self._pool is not None and not result.cached and record.error is None:  # a host answered it
            self._pool.count_record()
        return result

    # ------------------------------------------------------------ facts

    @property
    def hosts(self) -> int:
        """How many servers answer (1 for a single server or the embedded backend)."""
        return host_count(self.backend)

    def served(self) -> dict[str, int]:
        """Records each host answered so far, every host listed (empty with one host)."""
        if self._pool is None:
            return {}
        return {host: self._pool.served[host] for host in self._pool.hosts}

    def close(self) -> None:
        try:
            self.classifier.close()
        finally:
            self.backend.close()

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


def make_backend(settings: Settings) -> Backend:
    return open_backend(settings.profile.model, settings.retry, prompt_states_dir())


def make_classifier(settings: Settings, backend: Backend, use_cache: bool = False,
                    check_calibration: bool = True, warn: Warn = _log.warning) -> Classifier:
    """The classifier for resolved settings; ``use_cache`` reads and fills the results cache.

    Call ``close()`` on it when done (it closes the cache).
    """
    profile = settings.profile
    bank = usable_examples(load_bank(profile.examples_path), profile, warn)
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
    builder = PromptBuilder(profile, fixed)
    cache = ResultCache(results_cache_path(), warn) if use_cache else None
    if check_calibration:
        warn_if_stale(profile, builder.fingerprint, backend, warn)
    return Classifier(profile, backend, builder, select_for_item, warn=warn, cache=cache)


def warn_if_stale(profile: Profile, fingerprint: str, backend: Backend, warn: Warn) -> None:
    """Say once when the profile's thresholds were fitted for another model or prompt."""
    fitted = profile.calibration
    if not fitted:
        return
    mode, changed = profile.task.mode, []
    if fitted.get("mode") not in (None, mode):  # `tactful check` runs a binary profile as multilabel
        changed.append(f"{fitted['mode']} mode (this run is in {mode} mode)")
    elif fitted.get("prompt") not in (None, fingerprint):
        changed.append(f"prompt {fitted['prompt']} (now {fingerprint}: categories, examples or mode changed)")
    if fitted.get("model") is not None and backend.name != "none":
        model = backend.model_id()  # may ask the server: once
        if fitted["model"] != model:
            changed.append(f"model {fitted['model']} (now {model})")
    if changed:  # --mode: the command that fits this run's scores, whichever command this is
        warn(f"the thresholds were calibrated for {' and '.join(changed)}; run `tactful calibrate --mode {mode}`")
