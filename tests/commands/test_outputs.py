"""Every file tactful writes: never one it reads, an existing one only with --force, and a
write the OS refuses is one line and exit 5 (issue 22, items 1, 2 and 4)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tactful.errors import EXIT_IO, EXIT_USAGE
from tactful.main import main

from tests.conftest import write_profile

PROFILE = "version = 1\n[categories.spam]\nblocked = true\n"
LABELLED = "".join(json.dumps(row) + "\n" for row in (
    {"id": "a", "text": "win a prize now", "label": "spam"},
    {"id": "b", "text": "see you at the meeting", "label": "spam"},  # misjudged by the fake
))


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = write_profile(tmp_path / "forum.toml", PROFILE)
    path.with_name("forum.examples.jsonl").write_text('{"id": "1", "text": "win a prize", "labels": ["spam"]}\n')
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "labelled.jsonl"
    path.write_text(LABELLED)
    return path


# ---------------------------------------------------------------- never an input

# Each command with an option that writes a file, aimed at one of the files it reads.
# (command line with {data}, {profile}, {bank}, {out} placeholders, the option named)
WRITERS = {
    "classify -o input": (["classify", "{data}", "-o", "{out}", "--force"], "--output", "data"),
    "classify --resume onto input": (["classify", "{data}", "-o", "{out}", "--resume"], "--output", "data"),
    "classify -o profile": (["classify", "{data}", "-p", "{profile}", "-o", "{out}", "--force"], "--output", "profile"),
    "eval --errors labelled": (["eval", "{data}", "--map", "spam=spam", "--errors", "{out}", "--force"], "--errors", "data"),
    "eval --errors bank": (["eval", "{data}", "-p", "{profile}", "--map", "spam=spam", "--errors", "{out}", "--force"], "--errors", "bank"),
    "examples export -o bank": (["examples", "export", "-p", "{profile}", "-o", "{out}", "--force"], "--output", "bank"),
    "examples export -o profile": (["examples", "export", "-p", "{profile}", "-o", "{out}", "--force"], "--output", "profile"),
    "check --write-baseline checked": (["check", "{md}", "--write-baseline", "{out}"], "--write-baseline", "md"),
}


def _files(tmp_path: Path, profile: Path, data: Path) -> dict[str, Path]:
    md = tmp_path / "notes.md"
    md.write_text("# Notes\n\nwin a prize now\n")
    return {"data": data, "profile": profile, "bank": profile.with_name("forum.examples.jsonl"), "md": md}


@pytest.mark.parametrize("how", ["same path", "symlink", "hard link"])
@pytest.mark.parametrize("writer", list(WRITERS))
def test_no_option_ever_writes_a_file_the_run_reads(cli, ollama_args, fake_ollama, tmp_path, profile, data, writer, how):
    args, option, target = WRITERS[writer]
    files = _files(tmp_path, profile, data)
    victim = files[target]
    before = victim.read_bytes()
    out = victim
    if how != "same path":
        out = tmp_path / f"other-name{victim.suffix}"
        (os.symlink if how == "symlink" else os.link)(victim, out)
    argv = [a.format(out=out, **files) for a in args]
    run = cli(*argv, *([] if argv[0] == "examples" else ollama_args))
    assert run.code == EXIT_USAGE, run.stderr
    assert run.stderr.startswith(f"tactful: error: {out}: is ") and run.stderr.count("\n") == 1
    assert f"an input of this run, and writing it would destroy it: choose another {option}\n" in run.stderr
    assert victim.read_bytes() == before
    assert fake_ollama.chat_requests() == []  # refused before any work


def test_classify_refuses_its_input_on_standard_input_too(cli, ollama_args, tmp_path, data):
    before = data.read_bytes()
    with open(data, "rb") as stdin:
        proc = subprocess.run([sys.executable, "-m", "tactful", "classify", *ollama_args, "-o", str(data), "--force"],
                              stdin=stdin, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == EXIT_USAGE
    assert proc.stderr == (f"tactful: error: {data}: is the same file as standard input, an input of this run, "
                           "and writing it would destroy it: choose another --output\n")
    assert data.read_bytes() == before


def test_classify_refuses_to_append_its_results_to_its_input(ollama_args, tmp_path, data):
    before = data.read_bytes()
    with open(data, "ab") as stdout:
        proc = subprocess.run([sys.executable, "-m", "tactful", "classify", *ollama_args, str(data)],
                              stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert proc.returncode == EXIT_USAGE
    assert f"standard output is {data}, an input of this run" in proc.stderr
    assert data.read_bytes() == before


# ---------------------------------------------------------------- an existing file only with --force

EXISTING = {
    "eval --errors": (["eval", "{data}", "--map", "spam=spam", "--errors", "{out}"], "--errors"),
    "examples export -o": (["examples", "export", "-p", "{profile}", "-o", "{out}"], "--output"),
}


@pytest.mark.parametrize("writer", list(EXISTING))
def test_an_existing_file_is_replaced_only_with_force(cli, ollama_args, fake_ollama, tmp_path, profile, data, writer):
    args, option = EXISTING[writer]
    out = tmp_path / "mine.jsonl"
    out.write_text("my own notes\n")
    argv = [a.format(out=out, data=data, profile=profile) for a in args]
    backend = [] if argv[0] == "examples" else ollama_args
    refused = cli(*argv, *backend)
    assert refused.code == EXIT_USAGE
    assert refused.stderr == f"tactful: error: {out}: already exists; add --force to overwrite it, or choose another {option}\n"
    assert out.read_text() == "my own notes\n"
    forced = cli(*argv, "--force", *backend)
    assert forced.code == 0, forced.stderr
    assert out.read_text() != "my own notes\n" and all(json.loads(line)["text"] for line in out.read_text().splitlines())


def test_write_baseline_replaces_a_baseline_and_nothing_else(cli, ollama_args, fake_ollama, tmp_path, profile, data):
    md = _files(tmp_path, profile, data)["md"]
    baseline = tmp_path / "baseline.json"
    assert cli("check", *ollama_args, str(md), "--write-baseline", str(baseline)).code == 0
    again = cli("check", *ollama_args, str(md), "--write-baseline", str(baseline))
    assert again.code == 0, again.stderr
    notes = tmp_path / "NOTES.txt"
    notes.write_text("not a baseline\n")
    refused = cli("check", *ollama_args, str(md), "--write-baseline", str(notes))
    assert refused.code == EXIT_USAGE
    assert refused.stderr == (f"tactful: error: {notes}: already exists; only an earlier baseline is replaced: "
                              "choose another --write-baseline FILE, or delete this one\n")
    assert notes.read_text() == "not a baseline\n"


# ---------------------------------------------------------------- the OS refuses a write

FULL = "/dev/full"


def _is_device(path: str) -> bool:
    return os.path.exists(path) and stat.S_ISCHR(os.stat(path).st_mode)


needs_dev_full = pytest.mark.skipif(not _is_device(FULL), reason="no /dev/full device on this system")


def _tactful(*args: str, stdout: int, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tactful", *args], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, cwd=cwd, timeout=120)


def _stdout_commands(ollama_args: list[str], profile: Path, data: Path) -> dict[str, list[str]]:
    notes = data.with_name("notes.md")
    notes.write_text("# Notes\n\nwin a prize now\n")
    return {
        "profile show": ["profile", "show", "-p", str(profile)],
        "examples export": ["examples", "export", "-p", str(profile)],
        "doctor": ["doctor", "-p", str(profile), *ollama_args],
        "check": ["check", "-p", str(profile), *ollama_args, "--format", "json", str(notes)],
        "classify": ["classify", "-p", str(profile), *ollama_args, str(data)],
    }


@needs_dev_full
@pytest.mark.parametrize("command", ["profile show", "examples export", "doctor", "check", "classify"])
@pytest.mark.parametrize("stdout", ["full", "closed"])
def test_stdout_that_cannot_be_written_is_one_line_and_exit_5(ollama_args, fake_ollama, tmp_path, profile, data, command, stdout):
    args = _stdout_commands(ollama_args, profile, data)[command]
    if stdout == "full":
        with open(FULL, "w") as full:
            proc = _tactful(*args, stdout=full.fileno(), cwd=tmp_path)
        reason = "No space left on device"
    else:
        proc = _closed_stdout(args, tmp_path)
        reason = "Bad file descriptor"
    assert proc.returncode == EXIT_IO, proc.stderr
    assert proc.stderr.endswith(f"tactful: error: stdout: {reason}\n"), proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("tactful: error:") == 1


def _closed_stdout(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`tactful ... >&-`: the command starts with no descriptor 1."""
    return subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m", "tactful", *args],
                          stderr=subprocess.PIPE, text=True, cwd=cwd, timeout=120)


@needs_dev_full
@pytest.mark.parametrize("writer", [
    lambda data, profile: ["classify", "-p", str(profile), str(data), "-o", FULL],
    lambda data, profile: ["classify", "-p", str(profile), str(data), "-f", "table", "-o", FULL],
    lambda data, profile: ["eval", "-p", str(profile), str(data), "--map", "spam=spam", "--errors", FULL],
    lambda data, profile: ["examples", "export", "-p", str(profile), "-o", FULL],
    lambda data, profile: ["check", "-p", str(profile), str(_files(data.parent, profile, data)["md"]), "--write-baseline", FULL],
], ids=["classify -o", "classify -f table -o", "eval --errors", "examples export -o", "check --write-baseline"])
def test_an_output_file_that_cannot_be_written_is_one_line_and_exit_5(cli, ollama_args, fake_ollama, profile, data, writer: Callable[[Path, Path], list[str]]):
    args = writer(data, profile)
    run = cli(*args, *([] if args[0] == "examples" else ollama_args))
    assert run.code == EXIT_IO, run.stderr
    assert f"tactful: error: {FULL}: No space left on device\n" in run.stderr
    assert run.stderr.count("tactful: error:") == 1
    assert _is_device(FULL)  # written through, never replaced by a file (root may replace /dev entries)


@needs_dev_full
def test_in_process_stdout_on_a_full_disk(monkeypatch, capsys, profile):
    with open(FULL, "w") as full, monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", full)
        code = main(["profile", "show", "-p", str(profile)])
    assert code == EXIT_IO
    assert capsys.readouterr().err == "tactful: error: stdout: No space left on device\n"
