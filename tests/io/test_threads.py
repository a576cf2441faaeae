"""Thread context from linked records: what each record is read after."""

from __future__ import annotations

from tactful.io.threads import ThreadMemory, ThreadOptions, thread_windows, with_thread_context
from tactful.records import InputRecord


def record(rid: str, text: str | None, **data: object) -> InputRecord:
    error = None if text is not None else f"line {rid}: unreadable"
    return InputRecord(rid, text, {"id": rid, **data}, f"in:{rid}", error)


def contexts(records: list[InputRecord], options: ThreadOptions) -> dict[str, tuple[str, ...]]:
    return {r.id: r.context for r in with_thread_context(records, options)}


def test_a_reply_loop_in_a_damaged_export_ends():
    looped = [record("1", "one", parent="2"), record("2", "two", parent="1"), record("3", "three", parent="2")]
    assert contexts(looped, ThreadOptions(reply_to_field="parent", last=10))["3"] == ("one", "two")


def test_unreadable_records_neither_get_nor_give_context():
    rows = [record("1", "one", topic="t"), record("2", None, topic="t"), record("3", "three", topic="t")]
    got = contexts(rows, ThreadOptions(thread_field="topic"))
    assert got == {"1": (), "2": (), "3": ("one",)}


def test_context_in_the_record_comes_before_linked_context_and_the_limit_keeps_the_latest():
    first = record("1", "one", topic="t")
    second = InputRecord("2", "two", {"id": "2", "topic": "t"}, "in:2", context=("older", "old"))
    assert contexts([first, second], ThreadOptions(thread_field="topic", last=2))["2"] == ("old", "one")


def test_the_reply_index_forgets_the_oldest_messages():
    memory = ThreadMemory(ThreadOptions(reply_to_field="parent"), remember=2)
    for rid in ("1", "2", "3"):
        memory.attach(record(rid, f"m{rid}"))
    assert memory.attach(record("4", "x", parent="1")).context == ()  # forgotten
    assert memory.attach(record("5", "y", parent="3")).context == ("m3",)


def test_context_size_zero_reads_no_context():
    rows = [record("1", "one", topic="t"), record("2", "two", topic="t")]
    assert contexts(rows, ThreadOptions(thread_field="topic", last=0))["2"] == ()


def test_thread_windows_keep_the_latest_messages_of_each_thread_in_start_order():
    rows = [record(str(n), f"m{n}", topic="ab"[n % 2]) for n in range(7)] + [record("x", None)]
    out = list(thread_windows(rows, "topic", 3))
    assert out[0].error is not None  # an unreadable line comes out at once
    a, b = out[1:]
    assert (a.id, a.data["messages"], a.data["ids"], a.context, a.text) == ("a", 4, ["2", "4", "6"], ("m2", "m4"), "m6")
    assert (b.id, b.data["messages"], b.data["ids"]) == ("b", 3, ["1", "3", "5"])
