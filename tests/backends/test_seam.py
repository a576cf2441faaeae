"""The backend seam: what the transport layer imports, the shared log-probability parser,
pooling of per-token embeddings, and who closes the `similar` embedder."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import ollama
import pytest
from tactful.backends import open_embedder
from tactful.backends.base import TokenLogprob, token_logprobs
from tactful.backends.embedded import EmbeddedBackend, _pooled
from tactful.backends.ollama import OllamaBackend
from tactful.errors import ConfigError
from tactful.profile.load import ModelSettings

from tests.support.bank import write_profile


def test_the_backends_import_nothing_above_them():
    code = (
        "import sys, tactful.backends, tactful.backends.ollama, tactful.backends.embedded, "
        "tactful.backends.model_store, tactful.backends.retry\n"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    above = ("tactful.engine", "tactful.profile", "tactful.bank", "tactful.commands")
    assert [m for m in loaded if m.startswith(above)] == []


LOGPROBS = [
    {"token": "{\"", "logprob": -0.01, "top_logprobs": [{"token": "{\"", "logprob": -0.01}, {"token": "{", "logprob": -4.6}]},
    {"token": "true", "logprob": -0.2, "top_logprobs": None},
]
PARSED = [
    TokenLogprob("{\"", -0.01, {"{\"": -0.01, "{": -4.6}),
    TokenLogprob("true", -0.2, {}),
]


def test_one_parser_reads_both_wire_shapes():
    llama_cpp_shape = LOGPROBS  # dicts, as under choices[0].logprobs.content
    ollama_shape = ollama.ChatResponse.model_validate(
        {"model": "m", "message": {"role": "assistant", "content": "{}"}, "logprobs": LOGPROBS}
    ).logprobs
    assert token_logprobs(llama_cpp_shape) == PARSED
    assert token_logprobs(ollama_shape) == PARSED
    assert token_logprobs(None) is None and token_logprobs([]) is None


def test_per_token_embeddings_are_mean_pooled_to_a_unit_vector():
    assert _pooled([[1.0, 0.0], [3.0, 0.0], [2.0, 3.0]]) == pytest.approx([2 / math.sqrt(5), 1 / math.sqrt(5)])  # mean (2, 1)
    assert _pooled([3.0, 4.0]) == pytest.approx([0.6, 0.8])  # a model that pools already
    assert _pooled([[0.0, 0.0]]) == [0.0, 0.0]
    assert _pooled([]) == []
    assert math.hypot(*_pooled([[0.1, 0.2], [0.3, -0.4]])) == pytest.approx(1.0)


def test_embedding_without_model_embedding_names_the_setting():
    backend = EmbeddedBackend("chat.gguf", Path("chat.gguf"))  # loads nothing until asked
    with pytest.raises(ConfigError, match="set model.embedding"):
        backend.embed(["hello"])
    with pytest.raises(ConfigError, match="set model.embedding"):
        open_embedder(ModelSettings(backend="ollama", embedding=None))


def test_open_embedder_opens_the_profiles_kind_for_the_embedding_model():
    embedder = open_embedder(ModelSettings(backend="ollama", name="chat", host="http://127.0.0.1:9", embedding="nomic"))
    try:
        assert isinstance(embedder, OllamaBackend) and embedder.model == "nomic"
        assert embedder.model_setting == "model.embedding"
    finally:
        embedder.close()


def _count_closes(monkeypatch) -> list[str]:
    closed: list[str] = []
    original = OllamaBackend.close

    def close(self: OllamaBackend) -> None:
        closed.append(self.model)
        original(self)

    monkeypatch.setattr(OllamaBackend, "close", close)
    return closed


def test_the_similar_embedder_is_closed_with_the_classifier(cli, ollama_args, fake_ollama, monkeypatch):
    closed = _count_closes(monkeypatch)
    write_profile("similar")
    run = cli("classify", *ollama_args, input="hello\n")
    assert run.code == 0, run.stderr
    assert sorted(closed) == sorted([ollama_args[-1], "fake-embed"])


def test_the_similar_embedder_is_closed_when_the_bank_cannot_be_embedded(cli, ollama_args, fake_ollama, monkeypatch):
    from werkzeug import Response

    closed = _count_closes(monkeypatch)
    write_profile("similar", embedding="nomic-embed-text")
    fake_ollama.server.clear_all_handlers()
    fake_ollama.server.expect_request("/api/embed", method="POST").respond_with_response(
        Response(json.dumps({"error": "model \"nomic-embed-text\" not found"}), status=404, content_type="application/json")
    )
    run = cli("classify", *ollama_args, input="hello\n")
    assert run.code == 3
    assert "nomic-embed-text" in closed
