"""Several Ollama hosts: requests spread, a failing host is left out, doctor checks each."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.fake_ollama import MODEL, FakeOllama, item_text


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TACTFUL_RETRY_BASE_DELAY", "0.001")


@pytest.fixture
def two_hosts() -> Iterator[tuple[FakeOllama, FakeOllama]]:
    servers = [HTTPServer(threaded=True) for _ in range(2)]
    fakes = []
    for server in servers:
        server.start()
        fake = FakeOllama(server)
        fake.install()
        fakes.append(fake)
    yield fakes[0], fakes[1]
    for server in servers:
        server.clear()
        if server.is_running():
            server.stop()


def hosts_of(summary: str) -> dict[str, int]:
    return {host: int(n) for host, n in (part.rsplit(" ", 1) for part in summary.split("; hosts: ")[1].split(", "))}


def test_requests_spread_across_hosts_and_every_record_comes_out_once(cli, two_hosts):
    a, b = two_hosts
    texts = [f"post {i}{' you idiot' if i % 3 == 0 else ''}" for i in range(20)]
    run = cli("classify", "--host", a.url, "--host", b.url, "--model", MODEL, "-j", "2", "--no-cache",
              input="\n".join(texts) + "\n")
    assert run.code == 0, run.stderr
    assert [r["text"] for r in run.records] == texts
    served = hosts_of(run.stderr.strip().splitlines()[-1])
    assert served[a.url] > 0 and served[b.url] > 0 and sum(served.values()) == len(texts)
    # A record's requests stay on one host (its prefix is cached there): a flagged text's
    # naming questions went where its flag was read.
    for fake in (a, b):
        asked = [item_text(r) for r in fake.chat_requests()]
        named = [item_text(r) for r in fake.naming_requests()]
        assert set(named) <= set(asked)


def test_a_host_that_keeps_failing_is_left_out_and_the_others_carry_on(cli, two_hosts):
    a, b = two_hosts
    b.responder = lambda body: Response(json.dumps({"error": "overloaded"}), status=503, content_type="application/json")
    texts = [f"post {i}" for i in range(8)]
    run = cli("classify", "--host", a.url, "--host", b.url, "--model", MODEL, "-j", "2", "--no-cache",
              input="\n".join(texts) + "\n")
    assert run.code == 0, run.stderr
    assert [r["text"] for r in run.records] == texts
    assert all(r["moderation"]["error"] is None for r in run.records)
    assert hosts_of(run.stderr.strip().splitlines()[-1]) == {a.url: 8, b.url: 0}
    # The two workers whose home it was each found it failing (5 tries, the retry policy),
    # then it rested: it was not asked again for the other records.
    assert len(b.chat_requests()) <= 2 * 5


def test_every_host_down_stops_the_run_with_one_line(cli, two_hosts):
    a, b = two_hosts
    for fake in (a, b):
        fake.responder = lambda body: Response(json.dumps({"error": "overloaded"}), status=503, content_type="application/json")
    run = cli("classify", "--host", a.url, "--host", b.url, "--model", MODEL, "--no-cache", input="hello\n")
    assert run.code == 3
    assert "every host failed (2); the last: Ollama at" in run.stderr


def test_doctor_checks_every_host(cli, two_hosts):
    a, _ = two_hosts
    down = "http://127.0.0.1:9"  # nothing listens on the discard port
    run = cli("doctor", "--host", a.url, "--host", down, "--model", MODEL)
    assert run.code == 3
    assert f"backend ollama: {a.url} version 0.33.1" in run.stdout
    assert f"cannot reach Ollama at {down}" in run.stdout
