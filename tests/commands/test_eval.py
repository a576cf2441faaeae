"""`tactful eval` against the fake Ollama server, whose keyword rules make labels known."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import write_profile


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


SPAM_DATA = [
    {"id": "a", "text": "click here to win a prize", "label": "spam"},
    {"id": "b", "text": "see you at the meeting", "label": "ham"},
    {"id": "c", "text": "free entry, call now", "label": "spam"},  # the fake misses this one
    {"id": "d", "text": "buy the book you wanted?", "label": "ham"},  # a false positive
    {"id": "e", "text": "lunch at noon", "label": "ham"},
]


def test_binary_metrics(cli, ollama_args, tmp_path):
    data = write_jsonl(tmp_path / "spam.jsonl", SPAM_DATA)
    run = cli("eval", str(data), *ollama_args, "--map", "spam=spam", "--map", "ham=none", "--json")
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)["data"]
    assert report["n"] == 5
    assert report["accuracy"] == 0.6
    flagged = report["per_class"]["flagged"]
    assert (flagged["precision"], flagged["recall"], flagged["support"]) == (0.5, 0.5, 2)
    assert report["confusion"] == {"flagged": {"flagged": 1, "acceptable": 1}, "acceptable": {"flagged": 1, "acceptable": 2}}
    # 120 prompt tokens a request (the fake's count). The 2 flagged texts were also asked
    # their category: one token at a time, ' "' (shared by every slug) and then the slug.
    assert report["speed"]["items"] == 5 and report["speed"]["prompt_tokens_per_item"] == (5 + 2 * 2) * 120 / 5


def test_errors_file_is_importable_bank_format(cli, ollama_args, tmp_path):
    data = write_jsonl(tmp_path / "spam.jsonl", SPAM_DATA)
    wrong = tmp_path / "wrong.jsonl"
    run = cli("eval", str(data), *ollama_args, "--map", "spam=spam", "--map", "ham=none", "--errors", str(wrong))
    assert run.code == 0
    rows = [json.loads(line) for line in wrong.read_text().splitlines()]
    assert rows == [
        {"id": "c", "text": "free entry, call now", "labels": ["spam"]},
        {"id": "d", "text": "buy the book you wanted?", "labels": []},
    ]
    assert "macro-F1" in run.stdout and "confusion" in run.stdout


def test_truncated_texts_are_counted(cli, ollama_args, tmp_path):
    profile = write_profile(tmp_path / "p.toml", 'version = 1\n[task]\nmax_chars = 100\nlong_text = "truncate"\n[categories.toxicity]\n')
    data = write_jsonl(tmp_path / "d.jsonl", [
        {"text": "a calm remark " * 10 + "you idiot", "labels": ["toxicity"]},  # the insult is cut off
        {"text": "hello", "labels": []},
    ])
    run = cli("eval", str(data), *ollama_args, "-p", str(profile))
    assert run.code == 0, run.stderr
    assert "; 1 truncated to task.max_chars" in run.stdout
    report = cli("eval", str(data), *ollama_args, "-p", str(profile), "--json")
    assert json.loads(report.stdout)["data"]["speed"]["truncated"] == 1


def test_multiclass_and_multilabel(cli, ollama_args, tmp_path):
    rows = [
        {"text": "you idiot", "label": ["toxic"]},
        {"text": "win a prize", "label": ["spam"]},
        {"text": "win a prize, idiot", "label": ["spam", "toxic"]},
        {"text": "hello there", "label": []},
    ]
    data = write_jsonl(tmp_path / "multi.jsonl", rows)
    run = cli("eval", str(data), *ollama_args, "--mode", "multilabel", "--map", "toxic=toxicity", "--json")
    report = json.loads(run.stdout)["data"]
    # The stand-in names "win a prize, idiot" toxicity alone (its first keyword), so its
    # spam share stays under the threshold: one exact miss of four, counted as such.
    assert report["accuracy"] == 0.75
    assert report["confusion"]["toxicity"] == {"tp": 2, "fp": 0, "fn": 0, "tn": 2}
    assert report["confusion"]["spam"] == {"tp": 1, "fp": 0, "fn": 1, "tn": 2}
    run = cli("eval", str(data), *ollama_args, "--mode", "multiclass", "--map", "toxic=toxicity", "--json")
    report = json.loads(run.stdout)["data"]
    assert set(report["per_class"]) == {"toxicity", "spam", "manipulation", "none"}


def test_policy_tests_fail_the_run(cli, ollama_args, tmp_path):
    write_jsonl(tmp_path / "policy.jsonl", [
        {"id": "insult", "text": "what an idiot", "labels": ["toxicity"]},
        {"id": "criticism", "text": "I am disappointed in this release", "labels": []},
        {"id": "subtle", "text": "nobody wants you here", "labels": ["toxicity"]},
    ])
    profile = write_profile(tmp_path / "p.toml", 'version = 1\ntests = "policy.jsonl"\n[categories.toxicity]\n[categories.negative-sentiment]\nblocked = false\n')
    run = cli("eval", "-p", str(profile), *ollama_args)
    assert run.code == 1
    assert "policy tests: 2/3 passed" in run.stdout
    assert "FAIL subtle: expected flagged, got acceptable" in run.stdout


def test_policy_tests_pass(cli, ollama_args, tmp_path):
    write_jsonl(tmp_path / "policy.jsonl", [{"text": "what an idiot", "labels": ["toxicity"]}])
    profile = write_profile(tmp_path / "p.toml", 'version = 1\ntests = "policy.jsonl"\n[categories.toxicity]\n')
    assert cli("eval", "-p", str(profile), *ollama_args).code == 0


def test_nothing_to_evaluate_and_bad_map(cli, ollama_args, tmp_path):
    run = cli("eval", *ollama_args)
    assert run.code == 2 and "nothing to evaluate" in run.stderr
    data = write_jsonl(tmp_path / "d.jsonl", SPAM_DATA)
    run = cli("eval", str(data), *ollama_args, "--map", "spam")
    assert run.code == 2 and "expected GOLD=SLUG" in run.stderr
    run = cli("eval", str(data), *ollama_args, "--map", "spam=spamm")
    assert run.code == 2 and "spamm" in run.stderr


# ---------------------------------------------------------------- nothing scored, and the bank format


def test_eval_with_nothing_scored_says_why_and_fails(cli, ollama_args, fake_ollama, tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "you idiot", "label": "toxic"}\n{"text": "hello", "label": "ok"}\n')
    run = cli("eval", *ollama_args, str(data), "--label-field", "gold")
    assert run.code == 4
    assert "none of 2 item(s) could be scored" in run.stderr and "--label-field 'gold'" in run.stderr
    assert "no usable gold label in 'gold'" in run.stderr
    assert "accuracy" not in run.stdout  # no table of zeros


def test_eval_reads_the_bank_format_its_errors_file_writes(cli, ollama_args, fake_ollama, tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "you idiot", "label": "ok"}\n{"text": "hello", "label": "ok"}\n')
    wrong = tmp_path / "wrong.jsonl"
    first = cli("eval", *ollama_args, str(data), "--map", "ok=none", "--errors", str(wrong), "--json")
    assert first.code == 0, first.stderr
    assert [json.loads(line)["labels"] for line in wrong.read_text().splitlines()] == [[]]
    again = cli("eval", *ollama_args, str(wrong), "--json")
    assert again.code == 0, again.stderr
    assert json.loads(again.stdout)["data"]["speed"]["items"] == 1


# ---------------------------------------------------------------- gold labels nothing places


def test_unmapped_gold_labels_are_listed_and_stop_eval_before_the_model_is_asked(cli, ollama_args, fake_ollama, tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"text": "you idiot", "label": "toxic"}, {"text": "hi", "label": "ok"},
                                              {"text": "yo", "label": "ok"}, {"text": "bye", "label": "toxicity"}])
    run = cli("eval", *ollama_args, str(data))
    assert run.code == 2
    assert f"{data}: gold labels that name no category of the profile: 'ok' (2), 'toxic' (1)" in run.stderr
    assert fake_ollama.chat_requests() == []
    mapped = cli("eval", *ollama_args, str(data), "--map", "toxic=toxicity", "--map", "ok=none", "--json")
    assert mapped.code == 0, mapped.stderr
    assert json.loads(mapped.stdout)["data"]["per_class"]["flagged"]["support"] == 2
    rest = cli("eval", *ollama_args, str(data), "--rest-acceptable", "--json")
    assert rest.code == 0, rest.stderr
    assert json.loads(rest.stdout)["data"]["per_class"]["flagged"]["support"] == 1  # only 'toxicity' itself


def test_a_policy_test_naming_no_category_stops_eval(cli, ollama_args, fake_ollama, tmp_path):
    write_jsonl(tmp_path / "policy.jsonl", [{"text": "what an idiot", "labels": ["toxicty"]}])
    profile = write_profile(tmp_path / "p.toml", 'version = 1\ntests = "policy.jsonl"\n[categories.toxicity]\n')
    run = cli("eval", "-p", str(profile), *ollama_args)
    assert run.code == 2
    assert "policy.jsonl: gold labels that name no category of the profile: 'toxicty' (1)" in run.stderr
    assert fake_ollama.chat_requests() == []
