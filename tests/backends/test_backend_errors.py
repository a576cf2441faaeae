"""First-run and backend failures: one clear line, the right exit code, nothing lost."""

from __future__ import annotations

import json
import socket

from werkzeug import Response

from tests.fake_ollama import MODEL, chat_response


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ollama_not_running(cli):
    host = f"http://127.0.0.1:{free_port()}"
    run = cli("classify", "--host", host, "--model", MODEL, input="hello\n")
    assert run.code == 3
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"cannot reach Ollama at {host}" in lines[0] and "ollama serve" in lines[0]
    assert "Traceback" not in run.stderr


def test_model_not_pulled(cli, fake_ollama):
    run = cli("classify", "--host", fake_ollama.url, "--model", "llama9:70b", input="hello\n")
    assert run.code == 3
    assert "model 'llama9:70b' is not available" in run.stderr
    assert "ollama pull llama9:70b" in run.stderr


def test_busy_server_is_retried(cli, ollama_args, fake_ollama):
    calls = {"n": 0}

    def busy_then_ok(body):
        calls["n"] += 1
        if calls["n"] == 1:
            return Response(json.dumps({"error": "server busy"}), status=503, content_type="application/json")
        return '{"flagged": false}'

    fake_ollama.responder = busy_then_ok
    run = cli("classify", *ollama_args, input="hello\n")
    assert run.code == 0, run.stderr
    assert run.records[0]["moderation"]["flagged"] is False
    assert calls["n"] == 2


def test_server_busy_for_good_stops_with_exit_3(cli, ollama_args, fake_ollama):
    def answer(body):
        text = body["messages"][-1]["content"]
        if "second" in text:
            return Response(json.dumps({"error": "busy"}), status=503, content_type="application/json")
        return '{"flagged": false}'

    fake_ollama.responder = answer
    run = cli("classify", *ollama_args, "--retries", "1", input="first\nsecond\nthird\n")
    assert run.code == 3
    assert [r["text"] for r in run.records] == ["first"]  # what finished is written
    assert "kept failing" in run.stderr


def test_bad_request_is_a_backend_error(cli, ollama_args, fake_ollama):
    fake_ollama.responder = lambda body: Response(
        json.dumps({"error": "invalid format"}), status=400, content_type="application/json"
    )
    run = cli("classify", *ollama_args, input="hello\n")
    assert run.code == 3
    assert "refused the request (400): invalid format" in run.stderr


def test_malformed_model_output_becomes_error_record(cli, ollama_args, fake_ollama):
    fake_ollama.logprobs = False  # an old server: the sampled answer decides
    fake_ollama.responder = lambda body: '{"flagged": tru'
    run = cli("classify", *ollama_args, input="hello\nworld\n")
    assert run.code == 4  # every record is an error: nothing was judged
    assert len(run.records) == 2
    assert all("answer is not JSON" in r["moderation"]["error"] for r in run.records)


def test_a_model_that_will_not_answer_the_question_becomes_error_record(cli, ollama_args, fake_ollama):
    # Probabilities decide, but nothing the model would write next starts true or false.
    fake_ollama.responder = lambda body: "I cannot help with that."
    run = cli("classify", *ollama_args, input="hello\nworld\n")
    assert run.code == 4
    assert len(run.records) == 2
    for record in run.records:
        assert record["moderation"]["flagged"] is None
        assert "none of the likeliest next tokens after '{\"flagged\":' starts ' true' or ' false'" in record["moderation"]["error"]


def test_response_shape_matches_ollama(cli, ollama_args, fake_ollama):
    # Guard the fake itself: the official client must parse what it sends.
    import ollama

    client = ollama.Client(host=fake_ollama.url)
    schema = {"type": "object", "properties": {"flagged": {"type": "boolean"}}}
    response = client.chat(model=MODEL, format=schema, messages=[{"role": "user", "content": 'x\n{"text": "hi"}\ny'}])
    assert response.message.role == "assistant"
    assert response.prompt_eval_count == 120
    assert chat_response(MODEL, "{}").status_code == 200
