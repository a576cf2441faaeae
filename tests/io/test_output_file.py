"""The output file of a run that may be resumed: which lines are done, and whose they are."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tactful.errors import IOFailure, UsageError
from tactful.io.output_file import OutputFile, read_finished, record_key
from tactful.records import InputRecord


def record(data: dict) -> InputRecord:
    return InputRecord(str(data.get("id")), data.get("text"), data, "in.jsonl:1")


def result_line(data: dict) -> str:
    return json.dumps({**data, "moderation": {"flagged": False}}) + "\n"


def test_a_line_and_its_record_have_one_key_with_or_without_an_id():
    with_id = {"id": 7, "text": "a"}
    no_id = {"text": "a", "moderation": {"flagged": True}}  # an earlier run's output as input
    assert record_key(json.loads(result_line(with_id)), "id") == record_key(with_id, "id")
    assert record_key(json.loads(result_line(no_id)), "id") == record_key(no_id, "id")
    assert record_key({"text": "b"}, "id") != record_key({"text": "a"}, "id")


def test_a_torn_last_line_is_not_counted_and_is_dropped_on_open(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text(result_line({"id": "a"}) + '{"id": "b", "moder')
    finished = read_finished(out, "id")
    assert finished.lines == 1
    assert out.read_text().endswith('"moder')  # reading changes nothing
    OutputFile.open(out, finished).close()
    assert out.read_text() == result_line({"id": "a"})


def test_the_records_past_the_finished_ones_are_read_as_the_run_goes(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text(result_line({"id": "a"}))
    pulled: list[str] = []

    def records() -> Iterator[InputRecord]:
        for rid in "abc":
            pulled.append(rid)
            yield record({"id": rid, "text": rid})

    rest = read_finished(out, "id").rest(records(), out, "id")
    assert pulled == ["a"]  # checked at once, before any model is loaded
    assert [r.id for r in rest] == ["b", "c"]


def test_a_special_file_cannot_be_resumed(tmp_path):
    with pytest.raises(UsageError, match="not a regular file, so there is nothing to resume"):
        read_finished(Path("/dev/null"), "id")


def test_a_file_that_cannot_be_opened_for_writing_is_an_io_failure(tmp_path):
    with pytest.raises(IOFailure) as failed:
        OutputFile.open(tmp_path / "no-such-folder" / "out.jsonl", None)
    assert failed.value.message == f"{tmp_path / 'no-such-folder' / 'out.jsonl'}: cannot write output: No such file or directory"
