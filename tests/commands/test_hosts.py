"""Several Ollama hosts: requests spread, a failing host is left out, doctor checks each."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from tactful.engine.leaning import CONTENT_FREE
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
        # (Besides the empty texts that measure the model's leaning among the categories.)
        named = [item_text(r) for r in fake.naming_requests() if item_text(r) not in CONTENT_FREE]
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


# ---------------------------------------------------------------- bad settings: one line, exit 2

BAD_HOSTS = [
    ("http://127.0.0.1:99999", "--host 'http://127.0.0.1:99999' is not a server URL: the port must be a number from 1 to 65535, not '99999'"),
    ("htp://127.0.0.1:11434", "--host 'htp://127.0.0.1:11434' is not a server URL: the scheme must be http or https, not 'htp'"),
    ("http://:11434", "--host 'http://:11434' is not a server URL: it names no host: write http://HOST:PORT"),
    ("", "--host '' is not a server URL: it is empty: write http://HOST:PORT"),
    ("http://gpu box:1", "--host 'http://gpu box:1' is not a server URL: it contains whitespace"),
]


@pytest.mark.parametrize(("host", "message"), BAD_HOSTS)
def test_a_bad_host_is_one_line_and_exit_2_before_any_request(cli, fake_ollama, host, message):
    run = cli("classify", "--host", fake_ollama.url, "--host", host, "--model", MODEL, "--no-cache", input="hello\n")
    assert (run.code, run.stdout, run.stderr) == (2, "", f"tactful: error: {message}\n")
    assert fake_ollama.chat_requests() == []  # refused at once: no retries, not even the good host
    doctor = cli("doctor", "--host", host, "--model", MODEL)
    assert doctor.code == 2
    assert doctor.stdout.splitlines() == [f"FAIL  settings: {message}"]


def test_surrounding_whitespace_in_a_host_is_stripped(cli, fake_ollama):
    padded = f"  {fake_ollama.url} "
    run = cli("classify", "--host", padded, "--model", MODEL, "--no-cache", input="you idiot\n")
    assert run.code == 0, run.stderr
    assert run.records[0]["moderation"]["flagged"] is True
    doctor = cli("doctor", "--host", padded, "--model", MODEL)
    assert doctor.code == 0 and f"backend ollama: {fake_ollama.url} version" in doctor.stdout


def test_one_server_written_two_ways_is_one_host(cli, fake_ollama):
    port = fake_ollama.url.rsplit(":", 1)[1]
    run = cli("classify", "--host", f"http://127.0.0.1:{port}", "--host", f"127.0.0.1:{port}/", "--model", MODEL,
              "--no-cache", input="hello\n")
    assert run.code == 0, run.stderr
    assert "; hosts:" not in run.stderr  # one host: no per-host counts


def test_an_empty_model_name_is_refused(cli, fake_ollama):
    message = "tactful: error: --model is empty: name a model, or leave --model out to use the profile's model.name\n"
    for model in ("", "  "):
        run = cli("classify", "--host", fake_ollama.url, "--model", model, input="hello\n")
        assert (run.code, run.stderr) == (2, message)
    doctor = cli("doctor", "--host", fake_ollama.url, "--model", "")
    assert doctor.code == 2 and doctor.stdout.splitlines() == [f"FAIL  settings: {message.removeprefix('tactful: error: ').strip()}"]


def test_a_bad_ollama_host_variable_is_named(cli, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "htp://gpu-box")
    run = cli("classify", "--model", MODEL, input="hello\n")
    assert (run.code, run.stderr) == (
        2, "tactful: error: $OLLAMA_HOST 'htp://gpu-box' is not a server URL: the scheme must be http or https, not 'htp'\n")
    # Only the Ollama backend reads it.
    other = cli("classify", "--backend", "openai", input="x\n")
    assert other.code == 2 and "the openai backend needs the server's URL" in other.stderr


def test_a_bad_host_in_the_profile_names_its_line(cli, tmp_path):
    profile = tmp_path / "p.toml"
    profile.write_text('version = 1\n[model]\nhosts = ["http://a:1", "htp://b:2"]\n[categories.toxicity]\n')
    for args in (("classify", "-p", profile), ("doctor", "-p", profile)):
        run = cli(*args, input="hello\n")
        assert run.code == 2
        line = (run.stderr or run.stdout).strip()
        assert line.endswith(f"{profile}:3: 'model.hosts' element 2 ('htp://b:2') is not a server URL: "
                             "the scheme must be http or https, not 'htp'"), line
        assert "\n" not in line


@pytest.mark.parametrize(
    "command",
    [
        ["check", "post.txt"],
        ["eval", "data.jsonl", "--map", "spam=spam"],
        ["calibrate", "data.jsonl", "--map", "spam=spam", "-p", "tactful.toml"],
        ["guard"],
    ],
)
def test_every_command_that_resolves_settings_refuses_a_bad_host(cli, tmp_path, command):
    work = tmp_path / "work"
    (work / "post.txt").write_text("hello\n")
    (work / "data.jsonl").write_text('{"text": "win a prize", "label": "spam"}\n')
    (work / "tactful.toml").write_text("version = 1\n[categories.spam]\n")
    run = cli(*command, "--host", "http://127.0.0.1:99999", "--model", MODEL, input="hello there\n")
    assert run.code == 2
    assert run.stderr == f"tactful: error: {BAD_HOSTS[0][1]}\n"


def test_an_empty_model_name_in_the_profile_is_named(cli, fake_ollama, tmp_path):
    profile = tmp_path / "p.toml"
    profile.write_text(f'version = 1\n[model]\nname = " "\nhost = "{fake_ollama.url}"\n[categories.toxicity]\n')
    message = f"{profile}: 'model.name' is empty: name a model (`tactful profile set model.name qwen2.5:3b`) or pass --model"
    run = cli("classify", "-p", profile, input="hello\n")
    assert (run.code, run.stderr) == (2, f"tactful: error: {message}\n")
    assert cli("doctor", "-p", profile).stdout.splitlines() == [f"FAIL  profile: {message}"]
    assert cli("classify", "-p", profile, "--model", MODEL, "--no-cache", input="hello\n").code == 0
