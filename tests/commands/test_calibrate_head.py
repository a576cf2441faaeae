"""`tactful calibrate` learns: the cross-validated choice between the prompt's threshold and
a head on the model's representation, the head saved beside the profile, and classify
deciding by it (without evaluating the prompt), refusing it when stale or malformed.

The fake server's embedding is a bag of words: "buy" texts and "hello" texts differ in it,
while its chat answers give every text the same probability (a prompt that cannot tell).
"""

from __future__ import annotations

import json

from tests.commands.test_calibrate import coin, inseparable, responder_for
from tests.fake_ollama import item_text


def test_calibrate_chooses_a_head_where_only_the_representation_separates(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = coin
    profile, data = inseparable(tmp_path)
    run = cli("calibrate", *ollama_args, "-p", profile, data, "--map", "ham=none")
    assert run.code == 0, run.stderr
    assert "20 labelled texts (10 harmful), 10 repeats of 5 folds, FPR cap 0.1" in run.stdout
    for candidate in ("head", "probability", "combined"):
        assert candidate in run.stdout
    assert "chosen: head: the best cross-validated F1 (1.00)" in run.stdout
    head = json.loads((tmp_path / "p.head.json").read_text())
    assert (head["format"], head["version"], head["representation"], head["mode"]) == ("tactful-head", 1, "text", "binary")
    assert head["model"].startswith("fake-model") and head["rules"]["flagged"]["kind"] == "head"
    assert head["rules"]["flagged"]["cv"]["labels"] == 20

    asked = len(fake_ollama.chat_requests())
    after = cli("classify", *ollama_args, "-p", profile, "--no-cache", input="buy 99\nhello 99\n")
    assert after.code == 0, after.stderr
    moderation = [r["moderation"] for r in after.records]
    assert [m["flagged"] for m in moderation] == [True, False]
    assert [m["decided_by"] for m in moderation] == ["head", "head"]
    assert set(moderation[0]["scores"]) == {"head"}
    assert len(fake_ollama.chat_requests()) == asked  # the prompt was not evaluated


def test_a_head_for_another_model_warns_and_the_threshold_decides(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = coin
    profile, data = inseparable(tmp_path)
    assert cli("calibrate", *ollama_args, "-p", profile, data, "--map", "ham=none", "--force").code == 0
    path = tmp_path / "p.head.json"
    head = json.loads(path.read_text())
    head["model"] = "another-model@1"
    path.write_text(json.dumps(head))
    run = cli("classify", *ollama_args, "-p", profile, "--no-cache", input="buy 99\n")
    assert run.code == 0, run.stderr
    assert "the learned head was fitted for model another-model@1" in run.stderr
    assert "run `tactful calibrate --mode binary`" in run.stderr
    assert run.records[0]["moderation"]["decided_by"] == "probability"


def test_a_malformed_head_stops_classify_with_one_line(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = coin
    profile, _ = inseparable(tmp_path)
    (tmp_path / "p.head.json").write_text('{"format": "tactful-head", "version": 9}')
    run = cli("classify", *ollama_args, "-p", profile, input="buy 99\n")
    assert run.code == 2
    error = run.stderr.strip()
    assert error.count("\n") == 0 and error.startswith("tactful: error: ") and "p.head.json" in error
    assert "version 9: this tactful reads version 1" in error


def test_the_threshold_wins_where_only_the_prompt_separates_and_an_old_head_goes(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = lambda body: responder_for(0.9 if "cheap" in item_text(body) else 0.1)
    profile, _ = inseparable(tmp_path)
    data = tmp_path / "words.jsonl"  # no word of the fake embedding's vocabulary: every vector is the same
    rows = [{"text": f"cheap pills {n}", "label": "spam"} for n in range(10)]
    rows += [{"text": f"lovely roses {n}", "label": "ham"} for n in range(10)]
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    (tmp_path / "p.head.json").write_text("{}")  # an old head: the threshold replaces it
    run = cli("calibrate", *ollama_args, "-p", profile, data, "--map", "ham=none")
    assert run.code == 0, run.stderr
    assert "chosen: probability" in run.stdout
    assert "removed" in run.stdout and not (tmp_path / "p.head.json").exists()


def test_dry_run_shows_the_choice_and_writes_no_head(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = coin
    profile, data = inseparable(tmp_path)
    run = cli("calibrate", *ollama_args, "-p", profile, data, "--map", "ham=none", "--dry-run")
    assert run.code == 0, run.stderr
    assert "chosen: head" in run.stdout and not (tmp_path / "p.head.json").exists()


def test_max_fpr_outside_zero_to_one_is_a_usage_error(cli, ollama_args, fake_ollama, tmp_path):
    profile, data = inseparable(tmp_path)
    run = cli("calibrate", *ollama_args, "-p", profile, data, "--max-fpr", "1.5")
    assert run.code == 2 and "--max-fpr" in run.stderr


def test_without_scikit_learn_only_the_threshold_is_fitted(cli, ollama_args, fake_ollama, tmp_path, monkeypatch):
    from tactful.learning import choose

    monkeypatch.setattr(choose, "available", lambda: False)
    fake_ollama.responder = coin
    profile, data = inseparable(tmp_path)
    run = cli("calibrate", *ollama_args, "-p", profile, data, "--map", "ham=none", "--force")
    assert run.code == 0, run.stderr
    assert "only the threshold is fitted: learning a head needs scikit-learn (`pip install 'tactful[learn]'`)" in run.stderr
    assert "cross-validated" not in run.stdout and not (tmp_path / "p.head.json").exists()
