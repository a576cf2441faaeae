"""What a server must do that a CLI need not: bound its queue and time, check the key,
keep doNotStore texts out of the cache and the logs, say when it is ready."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from tactful.engine.cache import ResultCache
from tactful.paths import results_cache_path
from tactful.serve.limits import JudgePool
from tactful.serve.problems import ApiError

from tests.serve.conftest import INSULT, QUIET, analyze
from tests.support.scripted import ScriptedProber, seen_text

ANALYZE = "/v1alpha1/comments:analyze"
KEY = "s3cret-key"
HELD = "held up"


class GatedProber(ScriptedProber):
    """A prober whose answers about ``HELD`` wait until the test opens the gate."""

    def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.gate = threading.Event()
        self.entered = threading.Semaphore(0)

    def probe(self, request):  # type: ignore[no-untyped-def]
        if seen_text(request.messages) == HELD:
            self.entered.release()
            self.gate.wait(10)
        return super().probe(request)


def test_the_pool_refuses_what_goes_beyond_workers_plus_waiting():
    pool = JudgePool(workers=1, waiting=1, timeout=5)
    gate = threading.Event()

    async def scenario() -> list[object]:
        first = asyncio.ensure_future(pool.run([lambda: gate.wait(5)]))
        second = asyncio.ensure_future(pool.run([lambda: "queued"]))
        await asyncio.sleep(0.05)
        with pytest.raises(ApiError) as refused:
            await pool.run([lambda: "one too many"])
        assert refused.value.http_status == 429 and "the limit is 2" in refused.value.message
        gate.set()
        return [await first, await second]

    assert asyncio.run(scenario()) == [[True], ["queued"]]
    assert pool.held == 0  # every slot given back
    pool.close()


def test_a_slow_judgment_is_a_504_and_keeps_its_slot_until_it_really_ends():
    pool = JudgePool(workers=1, waiting=0, timeout=0.1)
    gate = threading.Event()

    async def scenario() -> None:
        with pytest.raises(ApiError) as late:
            await pool.run([lambda: gate.wait(5)])
        assert late.value.http_status == 504
        assert pool.held == 1  # the model is still busy: no second call may start
        with pytest.raises(ApiError) as busy:
            await pool.run([lambda: None])
        assert busy.value.http_status == 429

    asyncio.run(scenario())
    gate.set()
    pool.close()
    assert pool.held == 0


def test_a_full_queue_answers_429_resource_exhausted_over_http(make_client):
    gated = GatedProber(default_probabilities=QUIET)
    client = make_client(backend=gated, workers=1, waiting=0)
    with ThreadPoolExecutor(1) as other:
        first = other.submit(client.post, ANALYZE, json=analyze(HELD))
        assert gated.entered.acquire(timeout=5)  # the one worker is busy
        reply = client.post(ANALYZE, json=analyze("and another"))
        assert reply.status_code == 429 and reply.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
        assert reply.headers["Retry-After"] == "1"
        gated.gate.set()
        assert first.result(timeout=10).status_code == 200


def test_with_a_key_each_request_must_carry_it_in_one_of_the_accepted_ways(make_client):
    client = make_client(key=KEY)
    missing = client.post(ANALYZE, json=analyze(INSULT))
    assert missing.status_code == 401 and missing.json()["error"]["status"] == "UNAUTHENTICATED"
    wrong = client.post(f"{ANALYZE}?key=nope", json=analyze(INSULT))
    assert wrong.status_code == 403 and wrong.json()["error"]["status"] == "PERMISSION_DENIED"
    assert "nope" not in wrong.text
    assert client.post(f"{ANALYZE}?key={KEY}", json=analyze(INSULT)).status_code == 200
    assert client.post(ANALYZE, json=analyze(INSULT), headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert client.post(ANALYZE, json=analyze(INSULT), headers={"x-goog-api-key": KEY}).status_code == 200
    openai = client.post("/v1/moderations", json={"input": INSULT}, headers={"Authorization": "Bearer nope"})
    assert openai.status_code == 403 and openai.json()["error"]["code"] == "invalid_api_key"
    assert client.get("/healthz").status_code == 401


def test_without_a_key_configured_none_is_asked_for(client):
    assert client.post(ANALYZE, json=analyze(INSULT)).status_code == 200


def cache_entries() -> int:
    path = results_cache_path()
    if not path.exists():
        return 0
    with ResultCache(path) as cache:
        return cache.stats().entries


def test_do_not_store_keeps_the_text_out_of_the_cache_and_every_log(make_client, caplog, capfd):
    caplog.set_level("DEBUG")
    client = make_client(access_log=True)
    secret = "my phone number is 555-0199, call me"
    reply = client.post(f"{ANALYZE}?key=unused", json=analyze(secret, doNotStore=True))
    assert reply.status_code == 200
    assert cache_entries() == 0
    for path in results_cache_path().parent.glob("*"):
        assert secret.encode() not in path.read_bytes()
    # Everything the server side logged or printed (the test client's own httpx log aside).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx")) + "".join(capfd.readouterr())
    assert "POST /v1alpha1/comments:analyze 200" in logged  # the access line was written ...
    assert secret not in logged and "555-0199" not in logged and "key=" not in logged  # ... without the text or the query
    # The same text without doNotStore is cached, as `tactful classify` caches it.
    client.post(ANALYZE, json=analyze(secret))
    assert cache_entries() == 1


def test_classify_honours_do_not_store_too(make_client):
    client = make_client()
    client.post("/v1/classify", json={"input": "not to be kept", "doNotStore": True})
    assert cache_entries() == 0


def test_healthz_reports_what_answers_once_warm(client):
    reply = client.get("/healthz")
    assert reply.status_code == 200
    info = reply.json()
    assert info["status"] == "ok" and info["model"] == "scripted-model" and info["mode"] == "multilabel"
    assert info["prompt"] == reply.headers.get("X-Tactful-Prompt", info["prompt"])
    assert "TOXICITY" in info["attributes"] and info["judging"]["capacity"] == 33


def test_healthz_is_503_until_the_model_is_warm(make_client, prober):
    from starlette.testclient import TestClient
    from tactful.serve.app import create_app
    from tactful.serve.service import ServeOptions, Service
    from tactful.settings import Overrides, resolve

    service = Service(resolve(Overrides()), ServeOptions(), backend=prober)
    try:
        reply = TestClient(create_app(service)).get("/healthz")
        assert reply.status_code == 503 and reply.json()["status"] == "loading"
    finally:
        service.close()
