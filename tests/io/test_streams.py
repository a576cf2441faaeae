"""Streams that name themselves when a write fails."""

from __future__ import annotations

import errno
import io
import sys

import pytest
from tactful.errors import EXIT_IO, IOFailure
from tactful.io.streams import NamedStream, failing_as, named_stdout


class Full(io.StringIO):
    def flush(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_write_names_the_stream():
    with pytest.raises(IOFailure) as failed:
        NamedStream(Full(), "out.jsonl").flush()
    assert failed.value.message == "out.jsonl: No space left on device"
    assert failed.value.exit_code == EXIT_IO == 5


def test_a_closed_pipe_is_not_a_failure():
    with pytest.raises(BrokenPipeError), failing_as("stdout"):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def test_what_is_not_a_write_passes_through():
    stream = NamedStream(io.StringIO(), "stdout")
    stream.write("kept")
    assert stream.getvalue() == "kept" and stream.isatty() is False


def test_a_stdout_closed_at_start_fails_as_a_closed_descriptor(monkeypatch):
    monkeypatch.setattr(sys, "stdout", None)
    with named_stdout(), pytest.raises(IOFailure, match=r"^stdout: Bad file descriptor$"):
        print("lost", file=sys.stdout)
    assert sys.stdout is None  # put back as it was
