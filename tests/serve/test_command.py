"""`tactful serve` refuses to start, at once and in one line, when it could not serve safely."""

from __future__ import annotations

import socket
import sys

from tests.conftest import write_profile


def test_binding_beyond_loopback_needs_a_key(cli, ollama_args):
    run = cli("serve", *ollama_args, "--bind", "0.0.0.0")
    assert run.code == 2
    assert "--bind 0.0.0.0 lets other machines in: set TACTFUL_SERVE_KEY" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_port_in_use_is_refused_before_the_model_loads(cli, ollama_args, fake_ollama):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = cli("serve", *ollama_args, "--port", str(port))
    assert run.code == 2
    assert f"--bind 127.0.0.1 --port {port}: Address already in use" in run.stderr
    assert fake_ollama.chat_requests() == []


def test_suggestions_are_never_written_onto_the_profile(cli, ollama_args, tmp_path):
    profile = write_profile(tmp_path / "community.toml", "version = 1\n[categories.toxicity]\n")
    run = cli("serve", *ollama_args, "-p", str(profile), "--suggestions", str(profile))
    assert run.code == 2
    assert "is an input of this run, and writing it would destroy it: choose another --suggestions" in run.stderr


def test_a_suggestions_file_that_cannot_be_written_stops_the_start_with_exit_5(cli, ollama_args, fake_ollama, tmp_path):
    run = cli("serve", *ollama_args, "--suggestions", str(tmp_path / "no" / "such" / "dir.jsonl"))
    assert run.code == 5 and "No such file or directory" in run.stderr
    assert fake_ollama.requests == []  # refused before the backend was asked anything


def test_an_attribute_override_must_name_a_category_of_the_profile(cli, ollama_args):
    run = cli("serve", *ollama_args, "--attribute", "INSULT=harassment")
    assert run.code == 2
    assert "the profile has no category 'harassment' (it has: manipulation, negative-sentiment, spam, toxicity)" in run.stderr
    assert cli("serve", *ollama_args, "--attribute", "insult=toxicity").code == 2


def test_an_unreachable_backend_is_exit_3_before_listening(cli):
    run = cli("serve", "--host", "http://127.0.0.1:9", "--model", "m", "--retries", "0")
    assert run.code == 3 and run.stderr.startswith("tactful: error: ")


def test_without_the_serve_extra_it_says_what_to_install(cli, ollama_args, monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "tactful.serve.run", raising=False)
    run = cli("serve", *ollama_args)
    assert run.code == 2
    assert "tactful serve needs uvicorn, which is not installed: pip install 'tactful[serve]'" in run.stderr


def test_a_bad_serve_table_in_the_profile_is_one_line_naming_the_file_line_and_key(cli, ollama_args, fake_ollama, tmp_path):
    profile = write_profile(tmp_path / "community.toml", 'version = 1\n[categories.toxicity]\n[serve.attributes]\nINSULT = "harassment"\n')
    run = cli("serve", *ollama_args, "-p", str(profile))
    assert run.code == 2 and fake_ollama.requests == []
    assert run.stderr == f"tactful: error: {profile}:4: 'serve.attributes.INSULT' must be one of toxicity, not 'harassment'\n"
