"""Thread context for records linked by fields: each record gets its thread's earlier messages.

An export of a forum or a chat holds one message per line, each naming its thread
(``--thread-field``) and/or the message it answers (``--reply-to-field``). Streaming
through it in order, tactful remembers what it has read, so each record is judged with
what came before it:

- with a reply-to field, the chain of messages it answers (parent, grandparent, ...);
- with only a thread field, the thread's latest messages before it.

Both keep at most ``last`` messages, oldest first. Memory stays bounded: each thread keeps
``last`` texts and the reply index forgets the oldest messages past ``remember``.

With ``per_thread`` (derailment), each thread instead becomes one record, its latest
messages judged together, once the input ends.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from tactful.io.readers import lookup
from tactful.records import InputRecord

DEFAULT_LAST = 5
REMEMBER = 200_000  # messages the reply index holds: far more than a reply chain reaches back


@dataclass(frozen=True)
class ThreadOptions:
    thread_field: str | None = None
    reply_to_field: str | None = None
    last: int = DEFAULT_LAST
    per_thread: bool = False  # one record per thread: its latest message and ``last`` before it

    @property
    def linked(self) -> bool:
        return self.thread_field is not None or self.reply_to_field is not None


@dataclass(frozen=True)
class _Seen:
    text: str
    parent: str | None


class ThreadMemory:
    """What has been read so far, for the context of what comes next."""

    def __init__(self, options: ThreadOptions, remember: int = REMEMBER) -> None:
        self.options = options
        self.remember = remember
        self._threads: dict[str, deque[str]] = {}
        self._messages: OrderedDict[str, _Seen] = OrderedDict()

    def attach(self, record: InputRecord) -> InputRecord:
        """The record with its context, then remembered for the records after it."""
        if record.error is not None or record.text is None:
            return record  # unreadable: it neither gets nor gives context
        thread = _key(lookup(record.data, self.options.thread_field)) if self.options.thread_field else None
        parent = _key(lookup(record.data, self.options.reply_to_field)) if self.options.reply_to_field else None
        context = self._chain(parent) if self.options.reply_to_field else self._latest(thread)
        self._remember(record, thread, parent)
        # Context given in the record itself (--context-field) comes first: it is older.
        joined = (*record.context, *context)[-self.options.last:] if self.options.last else ()
        return replace(record, context=joined)

    def _latest(self, thread: str | None) -> tuple[str, ...]:
        if thread is None:
            return ()
        return tuple(self._threads.get(thread, ()))

    def _chain(self, parent: str | None) -> tuple[str, ...]:
        chain: list[str] = []
        seen: set[str] = set()
        while parent is not None and parent not in seen and len(chain) < self.options.last:
            seen.add(parent)  # a reply loop in a damaged export must not spin forever
            message = self._messages.get(parent)
            if message is None:
                break
            chain.append(message.text)
            parent = message.parent
        return tuple(reversed(chain))

    def _remember(self, record: InputRecord, thread: str | None, parent: str | None) -> None:
        assert record.text is not None
        if thread is not None and self.options.last:
            self._threads.setdefault(thread, deque(maxlen=self.options.last)).append(record.text)
        if self.options.reply_to_field:
            self._messages[record.id] = _Seen(record.text, parent)
            self._messages.move_to_end(record.id)
            if len(self._messages) > self.remember:
                self._messages.popitem(last=False)


def with_thread_context(records: Iterable[InputRecord], options: ThreadOptions) -> Iterator[InputRecord]:
    """Each record with its thread's earlier messages as context, in input order; or, with
    ``per_thread``, one record per thread."""
    if options.per_thread:
        assert options.thread_field is not None, "per_thread needs a thread field"
        yield from thread_windows(records, options.thread_field, options.last + 1)
        return
    if not options.linked:
        yield from (_last(record, options.last) for record in records)
        return
    memory = ThreadMemory(options)
    for record in records:
        yield memory.attach(record)


def _last(record: InputRecord, last: int) -> InputRecord:
    if len(record.context) <= last:
        return record
    return replace(record, context=record.context[-last:] if last else ())


def _key(value: Any) -> str | None:
    """A thread or message id as a string; objects and lists name nothing."""
    if value is None or isinstance(value, (dict, list)) or value == "":
        return None
    return str(value)


@dataclass
class _Window:
    latest: deque[tuple[str, str]]  # (id, text): not the whole record, which may be large
    messages: int = 0


def thread_windows(records: Iterable[InputRecord], thread_field: str, last: int) -> Iterator[InputRecord]:
    """One record per thread: its latest ``last`` messages, to be judged together.

    A thread's record has the latest message as its text and the ones before it as its
    context; its data says which thread, how many messages it had and which were read.
    Threads come out in the order they started, once the input ends (an export's threads
    interleave). Unreadable lines, and lines naming no thread, come out at once as the
    error records they are.
    """
    windows: dict[str, _Window] = {}
    for record in records:
        if record.error is not None or record.text is None:
            yield record
            continue
        thread = _key(lookup(record.data, thread_field))
        if thread is None:
            yield replace(record, text=None, error=f"{record.source}: no thread in field '{thread_field}' (choose one with --thread-field)")
            continue
        window = windows.setdefault(thread, _Window(deque(maxlen=max(last, 1))))
        window.latest.append((record.id, record.text))
        window.messages += 1
    for thread, window in windows.items():
        yield _thread_record(thread, window)


def _thread_record(thread: str, window: _Window) -> InputRecord:
    ids = [rid for rid, _ in window.latest]
    texts = [text for _, text in window.latest]
    # "id" as well: --resume finds a thread's line by it.
    data = {"id": thread, "thread": thread, "messages": window.messages, "judged": len(ids), "ids": ids}
    return InputRecord(thread, texts[-1], data, f"thread {thread}", context=tuple(texts[:-1]), whole_thread=True)
