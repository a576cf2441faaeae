"""What tactful may write where: never a file the run reads, an existing file only when asked."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from tactful.errors import UsageError
from tactful.io.destinations import claim, refuse_stdout_onto_input


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "posts.jsonl"
    path.write_text('{"text": "keep me"}\n')
    return path


def test_an_input_is_refused_by_name(data):
    with pytest.raises(UsageError) as refused:
        claim(data, "--output", [data], overwrite=True)
    assert refused.value.message == f"{data}: is an input of this run, and writing it would destroy it: choose another --output"


@pytest.mark.parametrize("link", [os.symlink, os.link], ids=["symlink", "hard link"])
def test_an_input_is_refused_under_another_name(data, tmp_path, link):
    other = tmp_path / "other-name.jsonl"
    link(data, other)
    with pytest.raises(UsageError) as refused:
        claim(other, "--errors", ["unrelated.txt", str(data)], overwrite=True)
    assert refused.value.message == (
        f"{other}: is the same file as {data}, an input of this run, and writing it would destroy it: choose another --errors"
    )


def test_standard_input_that_is_a_file_is_an_input(data):
    with open(data, "rb") as handle:
        saved = os.dup(0)
        os.dup2(handle.fileno(), 0)
        try:
            with pytest.raises(UsageError, match="the same file as standard input"):
                claim(data, "--output", ["-"], overwrite=True)
        finally:
            os.dup2(saved, 0)
            os.close(saved)


def test_standard_output_into_an_input_is_refused(data):
    with open(data, "ab") as handle:
        saved = os.dup(1)
        sys.stdout.flush()
        os.dup2(handle.fileno(), 1)
        try:
            with pytest.raises(UsageError, match=f"standard output is {data}, an input of this run"):
                refuse_stdout_onto_input([data])
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def test_an_existing_file_needs_overwrite(data, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("earlier\n")
    with pytest.raises(UsageError) as refused:
        claim(out, "--output", [data])
    assert refused.value.message == f"{out}: already exists; add --force to overwrite it, or choose another --output"
    with pytest.raises(UsageError, match="already exists; do something else"):
        claim(out, "--output", [data], remedy="do something else")
    claim(out, "--output", [data], overwrite=True)


def test_a_new_or_empty_file_is_free(data, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.touch()
    claim(empty, "--output", [data])
    claim(tmp_path / "new.jsonl", "--output", [data])


def test_a_directory_is_never_a_destination(tmp_path):
    with pytest.raises(UsageError, match="is a directory; --output takes a file name"):
        claim(tmp_path, "--output", [], overwrite=True)


def test_devices_hold_no_data_to_lose():
    # /dev/null as input and output is the same inode, but nothing is destroyed.
    claim(Path(os.devnull), "--output", [os.devnull])
