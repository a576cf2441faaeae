"""Batch labelling: concurrency, the results cache, resume, progress and backend faults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.fake_ollama import MODEL, FakeOllama, answer_for_schema, item_text, keyword_labels


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TACTFUL_RETRY_BASE_DELAY", "0.001")


@pytest.fixture
def threaded_ollama() -> Iterator[FakeOllama]:
    """A fake Ollama that serves requests concurrently, as the real one does with slots."""
    server = HTTPServer(threaded=True)
    server.start()
    fake = FakeOllama(server)
    fake.install()
    yield fake
    server.clear()
    if server.is_running():
        server.stop()


def args_for(fake: FakeOllama) -> list[str]:
    return ["--host", fake.url, "--model", MODEL]


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def numbered(count: int) -> str:
    return "".join(f"item {i}{' you idiot' if i % 7 == 0 else ''}\n" for i in range(count))


def busy(body: dict) -> Response:
    return Response(json.dumps({"error": "server busy"}), status=503, content_type="application/json")


def keyword_answer(body: dict) -> str:
    """What the fake model answers by default (for responders that only add a twist)."""
    flagged = "idiot" in item_text(body) or "win" in item_text(body)
    return json.dumps({"flagged": flagged})


def slow_answers(seconds: float) -> Callable[[dict], str]:
    def respond(body: dict) -> str:
        time.sleep(seconds)
        return keyword_answer(body)

    return respond


def tactful_process(*args: str, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tactful", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen,  # type: ignore[call-overload]
    )


def wait_for_lines(path: Path, count: int, proc: subprocess.Popen[str], limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    raise AssertionError(f"{path} did not reach {count} lines")


# ---------------------------------------------------------------- concurrency


def test_order_is_kept_when_answers_come_back_out_of_order(cli, threaded_ollama, tmp_path):
    def slow_first(body: dict) -> str:
        number = int(item_text(body).split()[1])
        time.sleep(0.05 if number % 4 == 0 else 0.0)  # every fourth item is overtaken
        return keyword_answer(body)

    threaded_ollama.responder = slow_first
    run = cli("classify", *args_for(threaded_ollama), "--jobs", "8", "--no-cache", input=numbered(40))
    assert run.code == 0, run.stderr
    assert [r["text"].split()[1] for r in run.records] == [str(i) for i in range(40)]
    assert [r["moderation"]["flagged"] for r in run.records] == [i % 7 == 0 for i in range(40)]
    answered = [item_text(b).split()[1] for b in threaded_ollama.chat_requests()]
    assert sorted(answered, key=int) == [str(i) for i in range(40)]


def test_bad_lines_in_a_large_input_keep_their_place(cli, ollama_args, tmp_path):
    data = tmp_path / "export.jsonl"
    lines = []
    for i in range(600):
        if i % 47 == 13:
            lines.append(f'{{"id": {i}, "text": "cut short')
        elif i % 53 == 7:
            lines.append(f'{{"id": {i}, "body": "no text field"}}')
        else:
            lines.append(json.dumps({"id": i, "text": f"post {i} {'click to win' if i % 5 == 0 else ''}"}))
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = cli("classify", *ollama_args, "-j", "4", "-o", str(tmp_path / "out.jsonl"), str(data))
    assert run.code == 0, run.stderr
    out = lines_of(tmp_path / "out.jsonl")
    assert len(out) == 600
    errors = [i for i, r in enumerate(out) if r["moderation"]["error"]]
    assert errors == [i for i in range(600) if i % 47 == 13 or i % 53 == 7]
    assert [r["id"] for r in out if "id" in r and not r["moderation"]["error"]] == [
        i for i in range(600) if i not in errors
    ]
    assert out[15]["moderation"]["flagged"] is True and out[16]["moderation"]["flagged"] is False
    assert "600 records" in run.stderr and f"{len(errors)} errors" in run.stderr


# ---------------------------------------------------------------- cache


def test_a_cache_hit_sends_no_request(cli, ollama_args, fake_ollama):
    first = cli("classify", *ollama_args, input="you idiot\nnice docs\n")
    sent = len(fake_ollama.chat_requests())
    assert sent == 2
    again = cli("classify", *ollama_args, input="nice docs\nyou idiot\n")
    assert len(fake_ollama.chat_requests()) == sent
    assert again.code == 0
    assert [r["moderation"] for r in again.records] == [r["moderation"] for r in reversed(first.records)]
    assert "2 from cache" in again.stderr


def test_the_cache_key_follows_what_changes_the_answer(cli, ollama_args, fake_ollama):
    cli("classify", *ollama_args, input="you idiot\n")
    cli("classify", *ollama_args, "--explain", input="you idiot\n")  # another prompt
    cli("classify", *ollama_args, "--no-cache", input="you idiot\n")  # asked on purpose
    fake_ollama.models.append("other:1b")
    cli("classify", "--host", fake_ollama.url, "--model", "other:1b", input="you idiot\n")
    assert len(fake_ollama.chat_requests()) == 4
    profile = Path("tactful.toml")
    profile.write_text("version = 1\n[categories.toxicity]\nblocked = true\n")
    cli("classify", *ollama_args, input="you idiot\n")
    cli("classify", *ollama_args, input="you idiot\n")
    assert len(fake_ollama.chat_requests()) == 5
    profile.write_text("version = 1\n[model.options]\nnum_ctx = 2048\n[categories.toxicity]\nblocked = true\n")
    assert cli("classify", *ollama_args, input="you idiot\n").code == 0  # other model options
    assert len(fake_ollama.chat_requests()) == 6


def test_identical_texts_in_one_run_are_sent_once(cli, threaded_ollama):
    threaded_ollama.responder = slow_answers(0.05)
    run = cli("classify", *args_for(threaded_ollama), "-j", "8", input="buy now and win\n" * 24 + "hello\n")
    assert run.code == 0, run.stderr
    assert len(run.records) == 25
    assert [item_text(b) for b in threaded_ollama.chat_requests()].count("buy now and win") == 1
    assert all(r["moderation"]["flagged"] for r in run.records[:24])
    assert "23 from cache" in run.stderr


def test_cache_stats_and_clear(cli, ollama_args, fake_ollama):
    assert "no cache yet" in cli("cache", "stats").stdout
    cli("classify", *ollama_args, input="a\nb\nc\n")
    stats = cli("cache", "stats")
    assert stats.code == 0
    assert "results.sqlite: 3 results" in stats.stdout
    assert f"{MODEL}@" in stats.stdout  # the model with its digest
    cleared = cli("cache", "clear")
    assert cleared.code == 0 and "removed 3 results" in cleared.stdout
    assert "0 results" in cli("cache", "stats").stdout
    cli("classify", *ollama_args, input="a\n")
    assert len(fake_ollama.chat_requests()) == 4


def test_an_unreadable_cache_is_a_one_line_error(cli, ollama_args, tmp_path):
    cache_file = tmp_path / "cache" / "tactful" / "results.sqlite"
    cache_file.parent.mkdir(parents=True)
    cache_file.write_bytes(b"this is not a database" * 100)
    run = cli("classify", *ollama_args, input="a\n")
    assert run.code == 2
    assert run.stderr.startswith(f"tactful: error: {cache_file}: cannot open the results cache")
    assert "--no-cache" in run.stderr
    assert cli("classify", *ollama_args, "--no-cache", input="a\n").code == 0


def test_two_runs_share_one_cache_at_once(cli, threaded_ollama, tmp_path):
    threaded_ollama.responder = slow_answers(0.002)
    data = tmp_path / "in.txt"
    data.write_text(numbered(150))
    procs = [
        tactful_process("classify", *args_for(threaded_ollama), "-j", "4", "-o", str(tmp_path / f"out{n}.jsonl"), str(data))
        for n in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    for n in range(2):
        out = lines_of(tmp_path / f"out{n}.jsonl")
        assert [r["text"] for r in out] == data.read_text().splitlines()
    sent = len(threaded_ollama.chat_requests())
    assert 150 <= sent <= 300
    again = cli("classify", *args_for(threaded_ollama), str(data))
    assert len(again.records) == 150
    assert len(threaded_ollama.chat_requests()) == sent  # both runs filled the cache
    assert "150 results" in cli("cache", "stats").stdout


# ---------------------------------------------------------------- output file and resume


def test_an_existing_output_is_refused_without_resume_or_force(cli, ollama_args, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "x"}\n')
    run = cli("classify", *ollama_args, "-o", str(out), input="a\n")
    assert run.code == 2
    assert run.stderr.strip() == (
        f"tactful: error: {out}: already exists; add --resume to go on where it stopped, "
        "--force to overwrite it, or choose another --output"
    )
    assert out.read_text() == '{"id": "x"}\n'
    forced = cli("classify", *ollama_args, "-o", str(out), "--force", input="a\n")
    assert forced.code == 0
    assert [r["text"] for r in lines_of(out)] == ["a"]


def test_resume_options_need_an_output_file_and_exclude_force(cli, ollama_args, tmp_path):
    run = cli("classify", *ollama_args, "--resume", input="a\n")
    assert run.code == 2 and "add --output FILE" in run.stderr
    both = cli("classify", *ollama_args, "-o", str(tmp_path / "o.jsonl"), "--resume", "--force", input="a\n")
    assert both.code == 2 and "choose one" in both.stderr


def test_resume_drops_a_torn_last_line_and_appends_the_rest(cli, ollama_args, fake_ollama, tmp_path):
    data = tmp_path / "posts.jsonl"
    data.write_text("".join(json.dumps({"id": f"p{i}", "text": f"post {i}"}) + "\n" for i in range(6)))
    out = tmp_path / "out.jsonl"
    cli("classify", *ollama_args, "--no-cache", "-o", str(out), str(data))
    whole = out.read_text().splitlines(keepends=True)
    out.write_text("".join(whole[:3]) + whole[3][:25])  # killed while writing the fourth
    run = cli("classify", *ollama_args, "--no-cache", "-o", str(out), "--resume", str(data))
    assert run.code == 0, run.stderr
    assert out.read_text() == "".join(whole)
    assert [item_text(b) for b in fake_ollama.chat_requests()[6:]] == ["post 3", "post 4", "post 5"]
    assert "3 records" in run.stderr and "3 already done" in run.stderr


def test_resume_matches_records_without_ids_by_position(cli, ollama_args, fake_ollama, tmp_path):
    data = tmp_path / "posts.jsonl"
    data.write_text("".join(json.dumps({"text": f"post {i}"}) + "\n" for i in range(5)))
    out = tmp_path / "out.jsonl"
    cli("classify", *ollama_args, "-o", str(out), str(data))
    out.write_text("".join(out.read_text().splitlines(keepends=True)[:2]))
    run = cli("classify", *ollama_args, "-o", str(out), "--resume", str(data))
    assert run.code == 0
    assert [r["text"] for r in lines_of(out)] == [f"post {i}" for i in range(5)]


def test_resume_refuses_a_file_it_did_not_write(cli, ollama_args, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("hello\n")
    run = cli("classify", *ollama_args, "-o", str(out), "--resume", input="a\n")
    assert run.code == 2
    assert f"{out}:1: not a result line written by tactful" in run.stderr


def _posts(path: Path, ids: range, prefix: str = "p") -> Path:
    path.write_text("".join(json.dumps({"id": f"{prefix}{i}", "text": f"post {i}"}) + "\n" for i in ids))
    return path


@pytest.mark.parametrize(("earlier", "problem"), [
    ('{"id": "p0", "text": "post 0"}\n', ":1: not a result line written by tactful"),  # no moderation
    ('{"id": "p0", "moderation": "yes"}\n', ":1: not a result line written by tactful"),
    ('[1, 2]\n', ":1: not a result line written by tactful"),
], ids=["no moderation", "moderation not an object", "not an object"])
def test_resume_refuses_lines_that_are_not_results(cli, ollama_args, fake_ollama, tmp_path, earlier, problem):
    data = _posts(tmp_path / "posts.jsonl", range(3))
    out = tmp_path / "out.jsonl"
    out.write_text(earlier)
    run = cli("classify", *ollama_args, "-o", str(out), "--resume", str(data))
    assert run.code == 2
    assert run.stderr.startswith(f"tactful: error: {out}{problem}") and run.stderr.count("\n") == 1
    assert out.read_text() == earlier
    assert fake_ollama.chat_requests() == []


def test_resume_refuses_the_results_of_another_input(cli, ollama_args, fake_ollama, tmp_path):
    out = tmp_path / "out.jsonl"
    cli("classify", *ollama_args, "--no-cache", "-o", str(out), str(_posts(tmp_path / "other.jsonl", range(2), "q")))
    earlier = out.read_text()
    data = _posts(tmp_path / "posts.jsonl", range(5))
    run = cli("classify", *ollama_args, "--no-cache", "-o", str(out), "--resume", str(data))
    assert run.code == 2
    assert run.stderr == (
        f"tactful: error: {out}:1: not the result of input record 1 ({data}:1), so the file holds another "
        "input's results; use --force to start again, or choose another --output\n"
    )
    assert out.read_text() == earlier
    assert len(fake_ollama.chat_requests()) == 2  # the first run's only


def test_resume_refuses_a_file_with_more_results_than_the_input_has_records(cli, ollama_args, fake_ollama, tmp_path):
    out = tmp_path / "out.jsonl"
    cli("classify", *ollama_args, "-o", str(out), str(_posts(tmp_path / "posts.jsonl", range(4))))
    earlier = out.read_text()
    shorter = _posts(tmp_path / "posts.jsonl", range(2))
    run = cli("classify", *ollama_args, "-o", str(out), "--resume", str(shorter))
    assert run.code == 2
    assert f"{out}: holds 4 results but the input has 2 records, so it is not this input's output" in run.stderr
    assert out.read_text() == earlier


def test_resume_matches_records_without_ids_by_their_fields(cli, ollama_args, fake_ollama, tmp_path):
    out = tmp_path / "out.jsonl"
    first = tmp_path / "first.jsonl"
    first.write_text("".join(json.dumps({"text": f"post {i}"}) + "\n" for i in range(3)))
    cli("classify", *ollama_args, "-o", str(out), str(first))
    out.write_text(out.read_text().splitlines(keepends=True)[0])
    other = tmp_path / "other.jsonl"
    other.write_text("".join(json.dumps({"text": f"other {i}"}) + "\n" for i in range(3)))
    run = cli("classify", *ollama_args, "-o", str(out), "--resume", str(other))
    assert run.code == 2 and f"{out}:1: not the result of input record 1" in run.stderr


def test_resume_checks_a_torn_file_before_cutting_its_last_line(cli, ollama_args, tmp_path):
    # Not tactful's file: its torn last line must not be cut on the way to refusing it.
    out = tmp_path / "notes.jsonl"
    out.write_text('{"note": "mine"}\n{"note": "half')
    run = cli("classify", *ollama_args, "-o", str(out), "--resume", input="a\n")
    assert run.code == 2 and f"{out}:1: not a result line" in run.stderr
    assert out.read_text() == '{"note": "mine"}\n{"note": "half'


@pytest.mark.parametrize(("how", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGKILL, -9)])
def test_a_killed_run_resumes_to_exactly_one_line_per_record(cli, threaded_ollama, tmp_path, how, code):
    threaded_ollama.responder = slow_answers(0.01)
    data = tmp_path / "in.txt"
    data.write_text(numbered(400))
    out = tmp_path / "out.jsonl"
    proc = tactful_process("classify", *args_for(threaded_ollama), "-j", "2", "-o", str(out), str(data))
    wait_for_lines(out, 30, proc)
    proc.send_signal(how)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    if how != signal.SIGKILL:
        done = lines_of(out)  # every line complete
        assert 30 <= len(done) < 400
        assert "holds complete lines only. To go on: tactful classify" in err
        assert err.rstrip().endswith("--resume")
    threaded_ollama.responder = None
    run = cli("classify", *args_for(threaded_ollama), "-j", "3", "-o", str(out), "--resume", str(data))
    assert run.code == 0, run.stderr
    assert [r["id"] for r in lines_of(out)] == [f"{data}:{n}" for n in range(1, 401)]


# ---------------------------------------------------------------- backend faults


def test_busy_server_is_retried_then_answers(cli, ollama_args, fake_ollama):
    calls = {"n": 0}

    def busy_twice(body: dict) -> object:
        calls["n"] += 1
        return busy(body) if calls["n"] <= 2 else keyword_answer(body)

    fake_ollama.responder = busy_twice
    run = cli("classify", *ollama_args, input="you idiot\n")
    assert run.code == 0, run.stderr
    assert run.records[0]["moderation"]["flagged"] is True
    assert len(fake_ollama.chat_requests()) == 3


def test_a_server_busy_for_good_stops_the_run_with_what_was_done_written(cli, ollama_args, fake_ollama, tmp_path):
    def busy_after_five(body: dict) -> object:
        return busy(body) if len(fake_ollama.chat_requests()) > 5 else keyword_answer(body)

    fake_ollama.responder = busy_after_five
    out = tmp_path / "out.jsonl"
    run = cli("classify", *ollama_args, "--retries", "2", "-o", str(out), input=numbered(20))
    assert run.code == 3
    assert [r["text"] for r in lines_of(out)] == numbered(20).splitlines()[:5]
    assert "kept failing after 3 tries" in run.stderr
    assert run.stderr.splitlines()[-1].startswith("tactful: error: Ollama at")
    assert "--retries 2 -o" in run.stderr and "--resume" in run.stderr
    assert [item_text(b) for b in fake_ollama.chat_requests()].count("item 5") == 3


def test_a_server_that_goes_away_stops_the_run_with_exit_3(cli, threaded_ollama, tmp_path):
    def vanish_after_three(body: dict) -> object:
        if len(threaded_ollama.chat_requests()) == 4:
            threading.Thread(target=threaded_ollama.server.stop).start()
            time.sleep(0.2)
        return keyword_answer(body)

    threaded_ollama.responder = vanish_after_three
    out = tmp_path / "out.jsonl"
    run = cli("classify", *args_for(threaded_ollama), "-o", str(out), input=numbered(10))
    assert run.code == 3, run.stderr
    assert 3 <= len(lines_of(out)) <= 4
    assert "tactful: error: Ollama at" in run.stderr and "--resume" in run.stderr


def test_a_server_never_reached_fails_at_once(cli, tmp_path):
    run = cli("classify", "--host", "http://127.0.0.1:9", "--model", MODEL, "-j", "4", input=numbered(50))
    assert run.code == 3
    # Not "kept failing after N tries": a server that is not there is not retried.
    assert run.stderr.splitlines()[-1] == (
        "tactful: error: cannot reach Ollama at http://127.0.0.1:9: is it running? "
        "Start it with `ollama serve` (or point --host / OLLAMA_HOST at your server)"
    )


def test_a_bad_retry_delay_is_a_usage_error(cli, ollama_args, monkeypatch):
    monkeypatch.setenv("TACTFUL_RETRY_BASE_DELAY", "soon")
    run = cli("classify", *ollama_args, input="a\n")
    assert run.code == 2
    assert "TACTFUL_RETRY_BASE_DELAY='soon': expected a number of seconds" in run.stderr


# ---------------------------------------------------------------- what the user sees


def test_summary_on_stderr_and_quiet(cli, ollama_args):
    run = cli("classify", *ollama_args, "--mode", "multilabel", input="you idiot\nclick to win\nhello\n")
    assert run.code == 0
    assert run.stderr.startswith("tactful: 3 records in ")
    assert "2 flagged, 0 errors, 0 from cache; labels: toxicity 1, spam 1" in run.stderr
    quiet = cli("classify", *ollama_args, "--quiet", input="you idiot\n")
    assert quiet.stderr == "" and len(quiet.records) == 1


def test_progress_bar_only_on_a_terminal(threaded_ollama, tmp_path):
    import pty

    data = tmp_path / "in.txt"
    data.write_text(numbered(30))
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tactful", "classify", *args_for(threaded_ollama), str(data)],
        stdout=subprocess.PIPE, stderr=follower, env={**os.environ, "COLUMNS": "120"},
    )
    os.close(follower)
    stdout, _ = proc.communicate(timeout=30)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.returncode == 0
    assert len(stdout.decode().splitlines()) == 30  # stdout is still pure JSONL
    assert b"30/30" in shown and b"flagged 5" in shown
    assert b"tactful: 30 records" in shown


def test_the_summary_counts_in_english(cli, ollama_args, fake_ollama):
    run = cli("classify", *ollama_args, input="hello\n")
    assert run.stderr.startswith("tactful: 1 record in "), run.stderr


def test_a_directory_is_never_an_output(cli, ollama_args, fake_ollama, tmp_path):
    out = tmp_path / "out.jsonl"
    out.mkdir()
    for extra in ([], ["--resume"], ["--force"]):
        run = cli("classify", *ollama_args, "-o", str(out), *extra, input="a\nb\n")
        assert run.code == 2
        assert run.stderr == f"tactful: error: {out}: is a directory; --output takes a file name\n"
    assert fake_ollama.chat_requests() == []


def test_after_a_hard_kill_every_written_line_is_in_the_cache(cli, threaded_ollama, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    def slow(body):  # type: ignore[no-untyped-def]
        time.sleep(0.01)
        return json.dumps(answer_for_schema(body["format"], keyword_labels(item_text(body))))

    threaded_ollama.responder = slow
    data = tmp_path / "in.txt"
    data.write_text("".join(f"post {i}\n" for i in range(2000)))
    out = tmp_path / "out.jsonl"
    env = {**os.environ}  # the same XDG cache as the in-process runs below
    proc = subprocess.Popen([sys.executable, "-m", "tactful", "classify", *args_for(threaded_ollama), "-j", "4",
                             "-q", "-o", str(out), str(data)], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 200):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    written = [json.loads(line)["text"] for line in out.read_text().splitlines() if line.endswith("}")]
    assert 200 <= len(written) < 2000
    before = len(threaded_ollama.chat_requests())
    again = cli("classify", *args_for(threaded_ollama), input="".join(t + "\n" for t in written))
    assert again.code == 0, again.stderr
    assert f"{len(written)} from cache" in again.stderr
    assert len(threaded_ollama.chat_requests()) == before  # not one of them asked again
