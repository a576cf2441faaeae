from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tactful.main import main
from tactful.paths import ENV_MODELS_DIR, models_dir
from typer.testing import CliRunner

from tests.fake_ollama import MODEL, FakeOllama

ROOT = Path(__file__).resolve().parent.parent
# Fetched models live in the real cache; tests isolate XDG dirs but still find them.
REAL_MODELS_DIR = models_dir()
SAMPLES = ROOT / "samples"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def records(self) -> list[dict]:
        import json

        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No user profile, cache or Ollama host leaks in from the machine running the tests."""
    for var in ("TACTFUL_PROFILE", "OLLAMA_HOST", "OLLAMA_MODELS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv(ENV_MODELS_DIR, str(REAL_MODELS_DIR))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield


@pytest.fixture
def fake_ollama(httpserver) -> FakeOllama:  # type: ignore[no-untyped-def]
    fake = FakeOllama(httpserver)
    fake.install()
    return fake


@pytest.fixture
def cli():  # type: ignore[no-untyped-def]
    """Run tactful in-process as a user would: argv, stdin, stdout, stderr, exit code."""

    def invoke(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None) -> Run:
        runner = CliRunner()
        with runner.isolation(input=input, env=env) as streams:
            code = main([str(a) for a in args])
            sys.stdout.flush()
            sys.stderr.flush()
            out, err = streams[0], streams[1]
            return Run(code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace"))

    return invoke


@pytest.fixture
def ollama_args(fake_ollama: FakeOllama) -> list[str]:
    return ["--host", fake_ollama.url, "--model", MODEL]


def write_profile(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path
