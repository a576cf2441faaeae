"""Embeddings through the embedded backend (llama.cpp, SmolLM2-135M), and `similar`
example selection with no Ollama at all.

Needs what tests/backends/test_embedded.py needs (llama-cpp-python and the fetched
model); it skips, or fails under TACTFUL_REQUIRE_REAL_MODEL=1, the same way.
"""

from __future__ import annotations

import json
import math

import pytest
from tactful.backends import open_backend, open_embedder
from tactful.profile.load import ModelSettings

from tests.support.bank import BANK, ITEM, write_profile
from tests.support.realmodel import MODEL, REAL_MODEL

pytestmark = REAL_MODEL

SETTINGS = ModelSettings(backend="embedded", name=MODEL, embedding=MODEL)
N_EMBD = 576  # SmolLM2-135M's hidden size


@pytest.fixture(scope="module")
def embedder():
    backend = open_embedder(SETTINGS)
    yield backend
    backend.close()


def test_one_unit_vector_per_text(embedder):
    texts = ["you absolute idiot", "thanks for the docs", "click here to win a prize"]
    vectors = embedder.embed(texts)
    assert len(vectors) == 3
    for vector in vectors:
        assert len(vector) == N_EMBD
        assert math.sqrt(sum(x * x for x in vector)) == pytest.approx(1.0, abs=1e-4)
    assert vectors[0] != vectors[1] != vectors[2]


def test_embeddings_do_not_depend_on_the_batch(embedder):
    together = embedder.embed(["thanks for the docs", "the release train is late"])
    alone = embedder.embed(["the release train is late"]) + embedder.embed(["thanks for the docs"])
    assert together[1] == pytest.approx(alone[0], abs=1e-5)
    assert together[0] == pytest.approx(alone[1], abs=1e-5)


def test_the_chat_backend_embeds_with_model_embedding_beside_its_chat_model():
    backend = open_backend(SETTINGS)
    try:
        assert len(backend.embed(["hello"])[0]) == N_EMBD
    finally:
        backend.close()


def test_similar_selection_needs_no_ollama(cli, monkeypatch):
    from llama_cpp import Llama

    embedded: list[str] = []
    original = Llama.embed

    def spy(self, text, *args, **kwargs):
        embedded.append(text)
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(Llama, "embed", spy)
    write_profile("similar", embedding=MODEL)
    args = ["--backend", "embedded", "--model", MODEL, "--host", "http://127.0.0.1:9"]  # no server there
    run = cli("classify", *args, input=ITEM + "\n")
    assert run.code == 0, run.stderr
    assert run.records[0]["moderation"]["error"] is None
    assert sorted(embedded) == sorted([ex["text"] for ex in BANK] + [ITEM])
    embedded.clear()
    again = cli("classify", *args, "--no-cache", input=ITEM + "\n")
    assert again.code == 0, again.stderr
    assert embedded == [ITEM]  # the bank's vectors come from the embedding cache


def test_similar_with_the_embedded_backend_and_no_embedding_model_chooses_by_shared_words(cli):
    write_profile("similar", embedding=None)
    run = cli("classify", "--backend", "embedded", "--model", MODEL, "--show-prompt", input="hello\n")
    assert run.code == 0, run.stderr
    shown = json.loads(run.stdout)
    assert len([m for m in shown["messages"] if m["role"] == "assistant"]) == 3  # k examples, no embedder asked
