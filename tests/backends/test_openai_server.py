"""The openai backend against a real OpenAI-compatible server (llama-cpp-python's), end to end.

Through the CLI as a user runs it: classify, eval and check; an API key; several hosts
with one killed mid-run. The Ray recipe over two servers: tests/scale/test_ray_job.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.llama_server import ALIAS, llama_server

pytestmark = pytest.mark.realmodel

SPAM = ["WINNER!! Claim your free prize now, call 09061701461", "Are we still on for lunch at noon?",
        "URGENT: your account is blocked, click http://bit.ly/x to verify", "Thanks for the notes from today"]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with llama_server() as (url, _):
        yield url


def openai_args(*hosts: str) -> list[str]:
    return ["--backend", "openai", *[arg for host in hosts for arg in ("--host", host)]]


def spam_profile(path: Path, extra: str = "") -> Path:
    path.write_text(f'version = 1\n[model]\n{extra}[categories.spam]\nblocked = true\n', encoding="utf-8")
    return path


def test_classify_through_a_real_server_reads_scores_and_names_its_model(cli, server, tmp_path):
    profile = spam_profile(tmp_path / "p.toml")
    run = cli("classify", "-p", profile, *openai_args(server), input="\n".join(SPAM) + "\n")
    assert run.code in (0, 1), run.stderr
    assert len(run.records) == len(SPAM)
    for record in run.records:
        moderation = record["moderation"]
        assert moderation["error"] is None
        # Probabilities from the server's top log-probabilities decide.
        assert moderation["decided_by"] == "probability"
        assert 0.0 <= moderation["scores"]["flagged"] <= 1.0
        assert moderation["flagged"] == (moderation["scores"]["flagged"] >= 0.5)
        assert moderation["model"] == ALIAS  # the model the server lists, not Ollama's default name


def test_eval_and_check_through_a_real_server(cli, server, tmp_path):
    profile = spam_profile(tmp_path / "p.toml")
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"text": t, "label": "spam" if i % 2 == 0 else "ham"}) + "\n"
                            for i, t in enumerate(SPAM)))
    report = cli("eval", "-p", profile, *openai_args(server), str(data), "--map", "spam=spam", "--map", "ham=none", "--json")
    assert report.code == 0, report.stderr
    assert json.loads(report.stdout)["data"]["n"] == len(SPAM)
    doc = tmp_path / "post.md"
    doc.write_text("# Hello\n\nSee you at the meetup on Friday.\n")
    check = cli("check", "-p", profile, *openai_args(server), str(doc))
    assert check.code in (0, 1), check.stderr
    assert "could not be judged" not in check.stdout + check.stderr


def test_a_refused_api_key_is_one_line_not_a_retry_loop(cli, tmp_path, monkeypatch):
    with llama_server("--api_key", "sesame") as (url, _):
        monkeypatch.setenv("MY_LLM_KEY", "wrong")
        profile = spam_profile(tmp_path / "p.toml", 'api_key_env = "MY_LLM_KEY"\n')
        started = time.monotonic()
        refused = cli("classify", "-p", profile, *openai_args(url), input="hello\n")
        assert refused.code == 3
        assert refused.stderr.strip().splitlines()[-1] == (
            f"tactful: error: the server at {url} refused the API key (401): check $MY_LLM_KEY"
        )
        assert time.monotonic() - started < 5  # no backoff on a refusal
        monkeypatch.setenv("MY_LLM_KEY", "sesame")
        run = cli("classify", "-p", profile, *openai_args(url), input="hello\n")
        assert run.code == 0, run.stderr
        assert run.records[0]["moderation"]["error"] is None


def test_two_hosts_one_killed_mid_run_write_every_record_once(server, tmp_path):
    texts = [f"message {i}: " + SPAM[i % len(SPAM)] for i in range(24)]
    data = tmp_path / "in.txt"
    data.write_text("\n".join(texts) + "\n")
    out = tmp_path / "out.jsonl"
    profile = spam_profile(tmp_path / "p.toml")
    with llama_server() as (doomed, proc):
        env = {**os.environ, "TACTFUL_RETRY_BASE_DELAY": "0.01"}
        run = subprocess.Popen(
            [sys.executable, "-m", "tactful", "classify", "-p", str(profile), *openai_args(server, doomed),
             "-o", str(out), "--no-cache", str(data)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 4):
            time.sleep(0.1)
        proc.kill()  # the second host dies with requests in flight
        _, err = run.communicate(timeout=300)
    assert run.returncode in (0, 1), err
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["text"] for line in lines] == texts  # one line per record, in order
    assert all(line["moderation"]["error"] is None for line in lines)
    summary = err.strip().splitlines()[-1]
    served = dict(part.rsplit(" ", 1) for part in summary.split("; hosts: ")[1].split(", "))
    assert set(served) == {server, doomed}
    assert sum(int(n) for n in served.values()) == len(texts)
    assert int(served[doomed]) < len(texts) // 2  # it stopped serving when it died
