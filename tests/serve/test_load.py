"""Many concurrent clients on loopback against a running server over two stand-in hosts,
one of which dies mid-run: bounded in requests, it stops by itself."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from pytest_httpserver import HTTPServer

from tests.fake_ollama import MODEL, FakeOllama
from tests.serve.server import start

REQUESTS = 96
CLIENTS = 16


@pytest.fixture
def two_hosts() -> Iterator[list[HTTPServer]]:
    servers = [HTTPServer(threaded=True) for _ in range(2)]
    for server in servers:
        server.start()
        FakeOllama(server).install()
    yield servers
    for server in servers:
        if server.is_running():
            server.stop()


def test_every_request_is_answered_once_in_shape_while_a_host_dies(two_hosts, monkeypatch):
    monkeypatch.setenv("TACTFUL_RETRY_BASE_DELAY", "0.001")
    urls = [server.url_for("").rstrip("/") for server in two_hosts]
    server = start("--host", urls[0], "--host", urls[1], "--model", MODEL, "--jobs", "4", "--queue", "200", "--no-cache")

    def ask(number: int) -> tuple[int, httpx.Response]:
        if number == REQUESTS // 3:
            two_hosts[1].stop()  # the second host dies with requests in flight
        body = {"input": [{"id": f"r{number}", "text": f"message number {number}{' you idiot' if number % 5 == 0 else ''}"}]}
        return number, httpx.post(f"{server.url}/v1/classify", json=body, timeout=60)

    try:
        with ThreadPoolExecutor(CLIENTS) as clients:
            answers = list(clients.map(ask, range(REQUESTS)))
    finally:
        assert server.stop() == 143
    statuses = [reply.status_code for _, reply in answers]
    assert set(statuses) <= {200, 503}, statuses
    for number, reply in answers:
        if reply.status_code == 200:  # each answer is the one for its own request
            [record] = reply.json()["records"]
            assert record["id"] == f"r{number}" and record["moderation"]["flagged"] is (number % 5 == 0)
        else:
            assert set(reply.json()["error"]) == {"code", "message", "status"}
    # the surviving host answers everything after the death
    assert all(status == 200 for status in statuses[REQUESTS // 2:])
    assert "Traceback" not in server.stderr
