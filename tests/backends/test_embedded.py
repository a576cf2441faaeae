"""A real model end to end through the embedded backend (llama.cpp, SmolLM2-135M).

The model is tiny, so these tests check structure and plumbing, never its labels. They
need `pip install -e '.[embedded]'` and `tactful models fetch smollm2-135m`; CI does
both and sets TACTFUL_REQUIRE_REAL_MODEL=1 so that a missing piece fails instead of
skipping.
"""

from __future__ import annotations

import json
import re

import pytest
from tactful.backends.model_store import PINNED, pinned_path

from tests.conftest import SAMPLES
from tests.support.realmodel import ARGS, LINES, MODEL, REAL_MODEL

pytestmark = REAL_MODEL


@pytest.mark.parametrize("mode", ["binary", "multiclass", "multilabel"])
def test_every_mode_gives_valid_records(cli, mode):
    run = cli("classify", *ARGS, "--mode", mode, str(SAMPLES / "comments.txt"))
    assert run.code == 0, run.stderr
    assert [r["text"] for r in run.records] == LINES
    slugs = {"toxicity", "spam", "negative-sentiment", "manipulation"}
    for record in run.records:
        m = record["moderation"]
        assert m["error"] is None, m["error"]
        assert isinstance(m["flagged"], bool)
        assert set(m["labels"]) <= slugs
        assert m["model"] == MODEL and len(m["prompt"]) == 12
        assert m["decided_by"] == "probability" and m["scores"], m
        if mode == "multiclass":
            assert len(m["labels"]) <= 1
        if mode != "multilabel":
            assert m["flagged"] == bool(m["labels"])  # a flag always names its category


def test_scores_are_probabilities(cli):
    run = cli("classify", *ARGS, "--mode", "multiclass", "--scores", input="\n".join(LINES[:3]) + "\n")
    assert run.code == 0, run.stderr
    for record in run.records:
        scores = record["moderation"]["scores"]
        assert set(scores) == {"toxicity", "spam", "manipulation", "negative-sentiment", "none"}
        assert all(0.0 <= v <= 1.0 for v in scores.values())
        assert sum(scores.values()) == pytest.approx(1.0, abs=1e-3)
        best = max(scores, key=scores.get)
        assert record["moderation"]["labels"] == ([] if best == "none" else [best]) or scores[best] < 0.5
    run = cli("classify", *ARGS, "--mode", "multilabel", "--scores", input=LINES[1] + "\n")
    scores = run.records[0]["moderation"]["scores"]
    # The same two questions as multiclass: P(flagged) x each category's share, "none" the rest.
    assert set(scores) == {"toxicity", "spam", "negative-sentiment", "manipulation", "none"}
    assert all(0.0 <= v <= 1.0 for v in scores.values()) and sum(scores.values()) == pytest.approx(1.0, abs=1e-3)


def test_show_prompt_is_what_the_engine_receives(cli, monkeypatch):
    from tactful.backends.llama_probe import LlamaProber

    received = []
    original = LlamaProber.probe

    def spy(self, request):
        received.append(request)
        return original(self, request)

    monkeypatch.setattr(LlamaProber, "probe", spy)
    shown = json.loads(cli("classify", *ARGS, "--mode", "multilabel", "--show-prompt", input=LINES[2] + "\n").stdout)
    assert received == []
    run = cli("classify", *ARGS, "--mode", "multilabel", input=LINES[2] + "\n")
    assert run.code == 0
    # The text's request is what --show-prompt showed: the flag and its name, in one pass.
    (judged,) = [r for r in received if r.messages == shown["messages"]]
    assert [q.opening for q in judged.queries] == ['{"flagged":', '{"category":']
    assert list(shown["format"]["properties"]) == ["flagged"]
    # The others measure the model's leaning, on the fixed prompt and an empty text.
    assert all(r.messages[:-1] == shown["messages"][:-1] for r in received if r is not judged)


def test_eval_reports_speed_and_tokens(cli, tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"text": t, "label": "none"}) + "\n" for t in LINES[:4]))
    run = cli("eval", str(data), *ARGS, "--json")
    assert run.code == 0, run.stderr
    speed = json.loads(run.stdout)["data"]["speed"]
    assert speed["items"] == 4 and speed["errors"] == 0
    assert speed["prompt_tokens_per_item"] > 20
    assert speed["output_tokens_per_item"] == 0  # one pass: nothing is generated


def test_doctor_and_models_list(cli):
    run = cli("doctor", *ARGS)
    assert run.code == 0, run.stdout
    assert "backend embedded" in run.stdout and "llama-cpp-python" in run.stdout
    # The kernels llama.cpp runs (AVX2 on the portable build, AVX512 where dispatch finds it).
    assert re.search(r"CPU kernels: (AVX512|AVX2|AVX|NEON|SSE3|generic)\)", run.stdout), run.stdout
    listing = cli("models", "list")
    assert MODEL in listing.stdout and "fetched" in listing.stdout


def test_missing_model_file_is_one_line(cli, tmp_path):
    run = cli("classify", "--backend", "embedded", "--model", str(tmp_path / "nope.gguf"), input="x\n")
    assert run.code == 3
    assert run.stderr.strip() == f"tactful: error: {tmp_path / 'nope.gguf'}: no such model file"


def test_cache_and_resume_with_the_real_engine(cli, tmp_path):
    full = tmp_path / "full.jsonl"
    first = cli("classify", *ARGS, "-o", full, str(SAMPLES / "comments.txt"))
    assert first.code == 0, first.stderr
    assert "0 from cache" in first.stderr
    lines = full.read_text().splitlines()
    assert len(lines) == len(LINES)

    again = tmp_path / "again.jsonl"
    second = cli("classify", *ARGS, "-o", again, str(SAMPLES / "comments.txt"))
    assert f"{len(LINES)} from cache" in second.stderr
    assert again.read_text() == full.read_text()

    # A run cut short after three records (and half a line), resumed with the cache off:
    # exactly one line per record, the same records as the uninterrupted run.
    partial = tmp_path / "partial.jsonl"
    partial.write_text("\n".join(lines[:3]) + "\n" + lines[3][:20])
    resumed = cli("classify", *ARGS, "-o", partial, "--resume", "--no-cache", str(SAMPLES / "comments.txt"))
    assert resumed.code == 0, resumed.stderr
    assert partial.read_text().splitlines() == lines


def test_a_model_pulled_with_ollama_is_found_without_a_server(cli, tmp_path, monkeypatch):
    """Ollama's store: manifests name the GGUF blob by digest; no server is needed."""
    store = tmp_path / "ollama"
    digest = "sha256-" + PINNED[MODEL].sha256
    (store / "blobs").mkdir(parents=True)
    (store / "blobs" / digest).symlink_to(pinned_path(PINNED[MODEL]))
    manifest = store / "manifests" / "registry.ollama.ai" / "library" / "smollm2" / "135m"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"schemaVersion": 2, "layers": [
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "0" * 64},
        {"mediaType": "application/vnd.ollama.image.model", "digest": digest.replace("-", ":")},
    ]}))
    monkeypatch.setenv("OLLAMA_MODELS", str(store))
    listing = cli("models", "list", env={"COLUMNS": "250"})
    assert "smollm2:135m" in listing.stdout and "pulled with Ollama" in listing.stdout
    run = cli("classify", "--backend", "embedded", "--model", "smollm2:135m", input=LINES[0] + "\n")
    assert run.code == 0, run.stderr
    assert run.records[0]["moderation"]["model"] == "smollm2:135m"
    missing = cli("classify", "--backend", "embedded", "--model", "llama9:1b", input="x\n")
    assert missing.code == 3 and "ollama pull llama9:1b" in missing.stderr and str(store) in missing.stderr


def test_fetch_reuses_a_verified_copy(cli):
    run = cli("models", "fetch", MODEL)
    assert run.code == 0
    assert "already fetched, verified" in run.stderr


def test_the_embedded_backend_defaults_to_the_model_models_fetch_provides(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "no-ollama"))  # qwen2.5:3b was never pulled
    run = cli("classify", "--backend", "embedded", "--show-prompt", input="hello\n")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["model"] == "qwen2.5-coder-1.5b"
    assert cli("classify", "--backend", "ollama", "--show-prompt", input="hello\n").stdout.count("qwen2.5:3b") == 1


def test_images_are_refused_with_the_way_to_judge_them(cli, tmp_path):
    from PIL import Image

    image = tmp_path / "a.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(image)
    run = cli("classify", *ARGS, str(image))
    assert run.code == 2
    assert "the embedded backend reads text only" in run.stderr and "vision model" in run.stderr
    assert "0 records" not in run.stderr  # one line, no summary of a run that never began
