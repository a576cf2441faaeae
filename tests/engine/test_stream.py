"""Streaming through pipes: a result comes out before the input ends (`tail -f | tactful`)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.fake_ollama import MODEL


def test_result_is_flushed_before_stdin_closes(fake_ollama):
    proc = subprocess.Popen(
        [sys.executable, "-m", "tactful", "classify", "--host", fake_ollama.url, "--model", MODEL],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdin and proc.stdout
        proc.stdin.write("you idiot\n")
        proc.stdin.flush()
        first = json.loads(proc.stdout.readline())  # stdin is still open here
        assert first["text"] == "you idiot" and first["moderation"]["flagged"] is True
        proc.stdin.write("hello\n")
        proc.stdin.close()
        rest = [json.loads(line) for line in proc.stdout]
        assert [r["text"] for r in rest] == ["hello"]
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()


def test_reader_closing_the_pipe_early_is_quiet(fake_ollama, tmp_path):
    data = tmp_path / "many.txt"
    data.write_text("".join(f"line {i}\n" for i in range(200)))
    done = subprocess.run(
        f"{sys.executable} -m tactful classify --host {fake_ollama.url} --model {MODEL} {data} | head -n 2",
        shell=True, capture_output=True, text=True, timeout=60,
    )
    assert len(done.stdout.splitlines()) == 2
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
