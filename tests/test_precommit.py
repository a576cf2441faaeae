"""The pre-commit hook, run by pre-commit itself as a user's repository would run it.

`pre-commit try-repo` installs this checkout (its working tree, committed or not) into a
fresh virtual environment the way `repo: <url>` in a .pre-commit-config.yaml would, then
runs the `tactful` hook from .pre-commit-hooks.yaml on the files given. It needs the
package index (the local mirror here and in CI) for the dependencies, once per run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.fake_ollama import MODEL, FakeOllama, item_text


@pytest.mark.slow
def test_pre_commit_try_repo_runs_the_hook(fake_ollama: FakeOllama, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    # The isolated XDG_CACHE_HOME would also hide pip's download cache; keep pip's own,
    # so that the hook's environment does not fetch every wheel again on each run.
    monkeypatch.setenv("PIP_CACHE_DIR", os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")))
    Path("tactful.toml").write_text(
        f'version = 1\n[model]\nname = "{MODEL}"\nhost = "{fake_ollama.url}"\n'
        "[categories.toxicity]\nblocked = true\n[categories.spam]\nblocked = true\n",
        encoding="utf-8",
    )
    Path("clean.md").write_text("# Welcome\n\nThanks for reading the docs.\n", encoding="utf-8")
    Path("bad.md").write_text("# Notes\n\n- first\n- you absolute idiot\n", encoding="utf-8")
    Path("notes.txt").write_text("A plain-text note.\n\nclick here for a prize\n", encoding="utf-8")
    Path("script.py").write_text("print('idiot')\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run(["git", "add", "-A"], check=True)

    # One run only: each try-repo of a changed working tree builds a new environment.
    run = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "tactful",
         "--files", "clean.md", "bad.md", "notes.txt", "script.py"],
        capture_output=True, text=True, timeout=420, check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "bad.md:4:3: toxicity [0.90] Rude" in output  # the fake model is 0.9 sure
    assert "notes.txt:3:1: spam [0.90] Unsolicited" in output
    assert "2 findings (2 at or above fail level low); 7 units judged in 3 files" in output
    # The hook's types left the Python file out; the clean file was judged too.
    judged = [item_text(r) for r in fake_ollama.chat_requests()]
    assert "Thanks for reading the docs." in judged
    assert not any("print(" in text for text in judged)
    assert "clean.md:" not in output
