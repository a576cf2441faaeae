"""The head file: a versioned JSON format that round-trips, refuses what it cannot read,
and says when it was fitted for another model, prompt or mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tactful.errors import ConfigError
from tactful.learning.choose import COMBINED, HEAD, Rule
from tactful.learning.head import PROMPT, TEXT, SavedHead, head_path, load_head, save_head


def _head(representation: str = TEXT, kind: str = HEAD) -> SavedHead:
    rule = Rule(kind, 0.5, (0.25, -1.5, 3.0e-7), -0.125, 0.75 if kind == COMBINED else 0.0)
    return SavedHead(model="m.gguf@1-2", representation=representation, prompt="abc123", mode="binary",
                     fitted="2026-12-03T10:00:00Z", rules={"flagged": rule},
                     quality={"flagged": {"f1": 0.9, "f1_sd": 0.05, "fpr": 0.04, "fpr_sd": 0.02, "labels": 40.0,
                                          "positives": 20.0}})


def test_the_head_file_sits_beside_its_profile(tmp_path: Path):
    assert head_path(tmp_path / "tactful.toml") == tmp_path / "tactful.head.json"
    assert head_path(tmp_path / ".tactful.toml") == tmp_path / ".tactful.head.json"


def test_a_saved_head_loads_back_exactly(tmp_path: Path):
    path = tmp_path / "p.head.json"
    head = _head(PROMPT, COMBINED)
    save_head(path, head)
    assert load_head(path) == head
    document = json.loads(path.read_text())
    assert (document["format"], document["version"]) == ("tactful-head", 1)  # documented, versioned


def test_no_file_is_no_head(tmp_path: Path):
    assert load_head(tmp_path / "absent.head.json") is None


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: d.update(version=2), "version 2: this tactful reads version 1"),
    (lambda d: d.update(format="pickle"), '"format" must be "tactful-head"'),
    (lambda d: d.update(representation="layer-12"), '"representation" must be one of text, prompt'),
    (lambda d: d["rules"]["flagged"].update(weights=[]), "rules.flagged.weights must be a non-empty list"),
    (lambda d: d["rules"]["flagged"].update(weights=[1.0, "x"]), "rules.flagged.weights must be a non-empty list"),
    (lambda d: d["rules"]["flagged"].update(bias=float("nan")), "rules.flagged.bias must be a finite number"),
    (lambda d: d["rules"]["flagged"].update(kind="probability"), 'rules.flagged.kind must be "head" or "combined"'),
    (lambda d: d.update(model=None), '"model" must be a string'),
])
def test_a_malformed_head_is_a_config_error_naming_the_file(tmp_path: Path, change, problem):
    path = tmp_path / "p.head.json"
    save_head(path, _head())
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    with pytest.raises(ConfigError) as caught:
        load_head(path)
    assert str(path) in caught.value.message and problem in caught.value.message
    assert "run `tactful calibrate`" in caught.value.message


def test_a_file_that_is_not_json_is_a_config_error(tmp_path: Path):
    path = tmp_path / "p.head.json"
    path.write_bytes(b"\x80\x04\x95 a pickle")
    with pytest.raises(ConfigError, match=r"p\.head\.json"):
        load_head(path)


def test_a_head_is_stale_for_another_model_or_mode():
    head = _head(TEXT)
    assert head.stale("m.gguf@1-2", "abc123", "binary") is None
    assert head.stale("m.gguf@1-2", "other", "binary") is None  # the bare text's vector: the prompt does not matter
    assert head.stale("n.gguf@3-4", "abc123", "binary") == "model m.gguf@1-2 (now n.gguf@3-4)"
    assert head.stale("m.gguf@1-2", "abc123", "multilabel") == "binary mode (this run is in multilabel mode)"


def test_a_head_on_the_prompt_is_stale_for_another_prompt():
    assert _head(PROMPT).stale("m.gguf@1-2", "other", "binary") == (
        "prompt abc123 (now other: categories, examples or mode changed)")
    assert _head(TEXT, COMBINED).stale("m.gguf@1-2", "other", "binary") is not None  # reads the probability
