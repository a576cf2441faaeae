"""The host pool (backends/hosts.py): homes, a host taken out and back, counting.

Units over scripted backends and a clock the test moves; the CLI's view of several hosts
is in tests/commands/test_hosts.py.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from tactful.backends.base import ChatRequest, ChoiceQuery, Prober, ProbeRequest
from tactful.backends.hosts import HostPool, ProbingHostPool, host_count
from tactful.errors import BackendError, HostUnavailable, Transient

from tests.support.scripted import ScriptedBackend, ScriptedProber

REQUEST = ChatRequest([{"role": "user", "content": '{"text": "hello"}'}], {})
ANSWER = '{"flagged": false}'
DOWN = HostUnavailable("cannot reach it")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def hosts(*scripts: object) -> list[ScriptedBackend]:
    return [ScriptedBackend(default=script, host=f"http://h{i}") for i, script in enumerate(scripts)]  # type: ignore[arg-type]


def served_by(backends: list[ScriptedBackend]) -> list[int]:
    return [len(backend.requests) for backend in backends]


def test_threads_get_homes_in_turn_and_stay_there():
    backends = hosts(ANSWER, ANSWER, ANSWER)
    pool = HostPool(backends)

    def work() -> None:
        for _ in range(5):
            pool.complete(REQUEST)

    for _ in range(6):  # one after another: homes go to the least crowded host, lowest first
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert served_by(backends) == [10, 10, 10]


def test_a_host_that_is_down_rests_and_its_request_goes_elsewhere_at_once():
    clock = Clock()
    backends = hosts([DOWN, ANSWER], ANSWER)
    pool = HostPool(backends, rest=30.0, clock=clock)
    assert pool.complete(REQUEST).content == ANSWER  # home (host 0) failed: host 1 answered
    assert served_by(backends) == [1, 1]
    pool.complete(REQUEST)
    clock.now += 29.9
    pool.complete(REQUEST)
    assert served_by(backends) == [1, 3]  # still resting
    clock.now += 0.2
    pool.complete(REQUEST)
    assert served_by(backends) == [2, 3]  # rested: back home


def test_when_every_host_fails_the_request_the_run_stops_naming_the_last_failure():
    backends = hosts(DOWN, HostUnavailable("the second one is gone too"))
    with pytest.raises(BackendError, match=r"^every host failed \(2\); the last: the second one is gone too$") as exc:
        HostPool(backends).complete(REQUEST)
    assert not isinstance(exc.value, HostUnavailable)  # nothing left to move to
    assert served_by(backends) == [1, 1]  # each tried once for this request


def test_a_resting_host_is_still_tried_before_the_run_stops():
    clock = Clock()
    backends = hosts([DOWN, ANSWER], [ANSWER, DOWN])
    pool = HostPool(backends, rest=30.0, clock=clock)
    pool.complete(REQUEST)  # home (host 0) down: it rests; host 1 answers
    clock.now += 10
    assert pool.complete(REQUEST).content == ANSWER  # host 1 fails now; host 0, still resting, answers
    assert served_by(backends) == [2, 2]


def test_a_passing_fault_is_not_a_host_failure():
    backends = hosts(Transient("busy"), ANSWER)
    with pytest.raises(Transient):
        HostPool(backends).complete(REQUEST)
    assert served_by(backends) == [1, 0]  # the backend's own retries handle it, not the pool


def test_records_are_counted_for_the_host_that_answered():
    clock = Clock()
    backends = hosts([DOWN, ANSWER], ANSWER)
    pool = HostPool(backends, clock=clock)
    pool.count_record()  # nothing answered yet on this thread: nothing counted
    for _ in range(3):
        pool.complete(REQUEST)
        pool.count_record()
    assert pool.served == Counter({"http://h1": 3})
    clock.now += pool.rest + 1
    pool.complete(REQUEST)
    pool.count_record()
    assert pool.served == Counter({"http://h1": 3, "http://h0": 1})
    assert pool.hosts == ["http://h0", "http://h1"] and host_count(pool) == 2 and host_count(backends[0]) == 1


def test_every_call_of_the_protocol_is_routed_and_close_reaches_every_host():
    backends = hosts(ANSWER, ANSWER)
    pool = HostPool(backends)
    assert pool.embed(["a", "bb"]) == [[1.0, 1.0], [2.0, 1.0]]
    assert pool.model_id() == "scripted-model" and pool.model == "scripted-model" and pool.name == "scripted"
    assert [host for host, _ in pool.infos()] == ["http://h0", "http://h1"]
    pool.close()
    assert all(backend.closed for backend in backends)
    with pytest.raises(ValueError):
        HostPool([])


def test_a_pool_of_probers_probes_and_is_no_prober_for_text_kept_between_questions():
    probers = [ScriptedProber(default_probabilities={"flagged": 0.8}, host=f"http://h{i}") for i in range(2)]
    pool = ProbingHostPool(probers)
    probe = pool.probe(ProbeRequest(REQUEST.messages, (ChoiceQuery('{"flagged":', (" true", " false")),)))
    assert probe.distributions == [pytest.approx({" true": 0.8, " false": 0.2})]
    assert isinstance(pool, Prober)
    assert not isinstance(HostPool(hosts(ANSWER)), Prober)
