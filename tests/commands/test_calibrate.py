"""`tactful calibrate`: thresholds fitted to labelled texts, written into the profile.

The fake server gives each text a known probability of being spam, so the right threshold
is known: spam scores 0.8, an ordinary post about a garden "sale" 0.6 (the model is wrong
about it at 0.5), other ordinary posts 0.2. The best threshold lies between 0.6 and 0.8.
"""

from __future__ import annotations

import json
import math

from tactful.profile.load import parse_profile

from tests.conftest import write_profile
from tests.fake_ollama import chat_response, item_text

PROFILE = """\
# the gardening forum
version = 1
examples = "bank.jsonl"

[categories.spam]
blocked = true   # keep this comment
"""

BANK = [
    {"id": "ex-1", "text": "buy followers now, cheap", "labels": ["spam"]},
    {"id": "ex-2", "text": "buy my course today", "labels": ["spam"]},
    {"id": "ex-3", "text": "our garden sale was lovely", "labels": []},
    {"id": "ex-4", "text": "nice photo of the roses", "labels": []},
]
DATA = [
    {"text": "buy cheap pills", "label": "spam"},
    {"text": "the bake sale raised money for seeds", "label": "ham"},
    {"text": "what a lovely hedge", "label": "ham"},
    {"text": "buy likes here", "label": "spam"},
]


def spam_probability(text: str) -> float:
    if text.startswith("buy"):
        return 0.8
    return 0.6 if "sale" in text else 0.2


def responder(body: dict) -> object:
    p = spam_probability(item_text(body))
    tokens = [
        {"token": '{"flagged":', "logprob": 0.0, "top_logprobs": []},
        {"token": " true" if p >= 0.5 else " false", "logprob": math.log(max(p, 1 - p)),
         "top_logprobs": [{"token": " true", "logprob": math.log(p)}, {"token": " false", "logprob": math.log(1 - p)}]},
        {"token": "}", "logprob": 0.0, "top_logprobs": []},
    ]
    return chat_response(body["model"], "".join(t["token"] for t in tokens), logprobs=tokens)


def setup(tmp_path):
    profile = write_profile(tmp_path / "garden.toml", PROFILE)
    (tmp_path / "bank.jsonl").write_text("".join(json.dumps(ex) + "\n" for ex in BANK))
    data = tmp_path / "labelled.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in DATA))
    return profile, data


def test_calibrate_fits_the_threshold_and_records_what_it_was_fitted_for(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = responder
    profile, data = setup(tmp_path)
    before = cli("classify", *ollama_args, "-p", profile, input="our church sale is on sunday\n")
    assert before.records[0]["moderation"]["flagged"] is True  # 0.6 >= the default 0.5

    run = cli("calibrate", *ollama_args, "-p", profile, data, "--map", "ham=none", "--no-head")
    assert run.code == 0, run.stderr
    assert "0.5 -> 0.7" in run.stdout and "0.50 -> 0.00" in run.stdout  # threshold, FPR
    text = profile.read_text()
    assert "# keep this comment" in text and text.startswith("# the gardening forum")
    fitted = parse_profile(text, profile)
    assert fitted.category("spam").threshold == 0.7
    calibration = fitted.calibration
    assert calibration["mode"] == "binary" and calibration["items"] == 8
    assert calibration["model"].startswith("fake-model") and len(calibration["prompt"]) == 12
    assert calibration["quality"]["flagged"].startswith("F1 1.000, FPR 0.000")

    after = cli("classify", *ollama_args, "-p", profile, input="our church sale is on sunday\nbuy now\n")
    assert [r["moderation"]["flagged"] for r in after.records] == [False, True]
    assert after.records[0]["moderation"]["scores"] == {"flagged": 0.6}


def test_a_bank_example_is_scored_without_itself_in_the_prompt(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = responder
    profile, _ = setup(tmp_path)
    run = cli("calibrate", *ollama_args, "-p", profile, "--dry-run")
    assert run.code == 0, run.stderr
    requests = fake_ollama.chat_requests()
    assert len(requests) == len(BANK)
    for body in requests:
        judged = item_text(body)
        asked = max(i for i, m in enumerate(body["messages"]) if m["role"] == "user")
        earlier = [m["content"] for m in body["messages"][:asked]]
        assert not any(json.dumps(judged) in turn for turn in earlier), judged
    assert "dry run" in run.stdout
    assert "calibration" not in profile.read_text()


def test_too_few_labels_keep_the_threshold_and_say_why(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = responder
    profile = write_profile(tmp_path / "p.toml", "version = 1\n[categories.spam]\nblocked = true\n")
    data = tmp_path / "one.jsonl"
    data.write_text(json.dumps({"text": "buy now", "label": "spam"}) + "\n")
    run = cli("calibrate", *ollama_args, "-p", profile, data)
    assert run.code == 2
    assert "2 labelled texts on each side" in run.stderr
    assert "threshold" not in profile.read_text()


def test_nothing_labelled_is_a_usage_error(cli, ollama_args, fake_ollama, tmp_path):
    profile = write_profile(tmp_path / "p.toml", "version = 1\n[categories.spam]\nblocked = true\n")
    run = cli("calibrate", *ollama_args, "-p", profile)
    assert run.code == 2
    assert "nothing labelled to calibrate on" in run.stderr
    assert fake_ollama.chat_requests() == []


def test_a_backend_without_log_probabilities_is_refused(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.logprobs = False
    profile, data = setup(tmp_path)
    run = cli("calibrate", *ollama_args, "-p", profile, data, "--map", "ham=none")
    assert run.code == 2
    assert "calibrate needs scores" in run.stderr
    assert "threshold" not in profile.read_text()


def test_classify_warns_once_when_the_prompt_changed_since_calibration(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = responder
    profile, data = setup(tmp_path)
    assert cli("calibrate", *ollama_args, "-p", profile, data, "--map", "ham=none").code == 0
    quiet = cli("classify", *ollama_args, "-p", profile, input="a\nb\n")
    assert "calibrated for" not in quiet.stderr
    assert cli("profile", "block", "toxicity", "-p", profile).code == 0  # the prompt changes
    stale = cli("classify", *ollama_args, "-p", profile, input="a\nb\n")
    assert stale.code == 0
    assert stale.stderr.count("the thresholds were calibrated for prompt") == 1
    assert "run `tactful calibrate --mode binary`" in stale.stderr


def test_eval_reports_separation_from_scores(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = responder
    profile, data = setup(tmp_path)
    run = cli("eval", *ollama_args, "-p", profile, data, "--map", "ham=none", "--scores", "--json")
    assert run.code == 0, run.stderr
    separation = json.loads(run.stdout)["data"]["separation"]["flagged"]
    assert separation["items"] == 4 and separation["positive"] == 2
    assert separation["roc_auc"] == 1.0 and separation["pr_auc"] == 1.0
    assert sum(b["count"] for b in separation["reliability"]) == 4
    table = cli("eval", *ollama_args, "-p", profile, data, "--map", "ham=none", "--scores")
    assert "ROC-AUC" in table.stdout and "1.000" in table.stdout


def test_a_profile_that_blocks_nothing_has_nothing_to_calibrate(cli, ollama_args, fake_ollama, tmp_path):
    profile = write_profile(tmp_path / "p.toml", "version = 1\n[categories.spam]\nblocked = false\n")
    run = cli("calibrate", *ollama_args, "-p", profile)
    assert run.code == 2
    assert "nothing is blocked" in run.stderr
    assert fake_ollama.chat_requests() == []


def test_calibrate_reads_labelled_replies_in_their_context(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = responder
    profile = write_profile(tmp_path / "threads.toml", "version = 1\n[categories.spam]\nblocked = true\n")
    data = tmp_path / "replies.jsonl"
    rows = [{"text": f"buy item {n}", "context": [f"thread {n}"], "label": "spam"} for n in range(3)]
    rows += [{"text": f"lovely hedge {n}", "context": [f"thread {n}"], "label": "ham"} for n in range(3)]
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    run = cli("calibrate", *ollama_args, "-p", profile, str(data), "--context-field", "context", "--map", "ham=none", "--dry-run")
    assert run.code == 0, run.stderr
    sent = [r for r in fake_ollama.chat_requests() if '{"context": ["thread 0"]}' in r["messages"][-2]["content"]]
    assert len(sent) == 2  # both replies of thread 0 were read after it


# ---------------------------------------------------------------- thresholds the labels cannot support


def coin(body: dict) -> object:
    """A model that cannot tell spam from the rest: every text is 0.7 spam."""
    return responder_for(0.7)


def responder_for(p: float) -> object:
    tokens = [
        {"token": '{"flagged":', "logprob": 0.0, "top_logprobs": []},
        {"token": " true", "logprob": math.log(p),
         "top_logprobs": [{"token": " true", "logprob": math.log(p)}, {"token": " false", "logprob": math.log(1 - p)}]},
        {"token": "}", "logprob": 0.0, "top_logprobs": []},
    ]
    return chat_response("fake-model:1b", "".join(t["token"] for t in tokens), logprobs=tokens)


def inseparable(tmp_path):
    profile = write_profile(tmp_path / "p.toml", "version = 1\n[categories.spam]\nblocked = true\n")
    data = tmp_path / "d.jsonl"
    rows = [{"text": f"buy {n}", "label": "spam"} for n in range(10)] + [{"text": f"hello {n}", "label": "ham"} for n in range(10)]
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return profile, data


def test_a_threshold_no_better_than_chance_is_not_written(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = coin
    profile, data = inseparable(tmp_path)
    before = profile.read_text()
    run = cli("calibrate", *ollama_args, "-p", profile, data, "--map", "ham=none", "--no-head", "--max-fpr", "1")
    assert run.code == 2
    error = run.stderr.strip()
    assert error.count("\n") == 0 and error.startswith("tactful: error: not writing the threshold for any of spam")
    assert "ROC-AUC 0.500 +/- 0.265" in error and "10 harmful and 10 acceptable texts" in error
    assert "flags 10 of 10 acceptable texts (FPR 1.00" in error
    assert "add labelled texts" in error and "larger model" in error and "--force" in error
    assert profile.read_text() == before


def test_force_writes_an_unsupported_threshold(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = coin
    profile, data = inseparable(tmp_path)
    run = cli("calibrate", *ollama_args, "-p", profile, data, "--map", "ham=none", "--force")
    assert run.code == 0, run.stderr
    assert parse_profile(profile.read_text(), profile).calibration["items"] == 20


def test_dry_run_says_what_would_be_refused(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = coin
    profile, data = inseparable(tmp_path)
    run = cli("calibrate", *ollama_args, "-p", profile, data, "--map", "ham=none", "--dry-run", "--no-head")
    assert run.code == 0
    assert "not written without --force: not writing the threshold for any of spam" in run.stderr


# ---------------------------------------------------------------- gold labels nothing places


def test_unmapped_gold_labels_stop_calibrate_before_the_model_is_asked(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = responder
    profile, data = setup(tmp_path)
    run = cli("calibrate", *ollama_args, "-p", profile, data)
    assert run.code == 2
    assert "gold labels that name no category of the profile: 'ham' (2)" in run.stderr
    assert fake_ollama.chat_requests() == []
    assert "calibration" not in profile.read_text()
    rest = cli("calibrate", *ollama_args, "-p", profile, data, "--rest-acceptable", "--dry-run")
    assert rest.code == 0, rest.stderr
    assert "8 (4+)" in rest.stdout  # ham read as acceptable: 4 spam of 8 texts


def test_a_policy_test_naming_no_category_stops_calibrate(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = responder
    profile = write_profile(tmp_path / "p.toml", 'version = 1\ntests = "policy.jsonl"\n[categories.spam]\nblocked = true\n')
    (tmp_path / "policy.jsonl").write_text(json.dumps({"text": "buy now", "labels": ["spma"]}) + "\n")
    run = cli("calibrate", *ollama_args, "-p", profile, "--dry-run")
    assert run.code == 2
    assert "policy.jsonl: gold labels that name no category of the profile: 'spma' (1)" in run.stderr


# ---------------------------------------------------------------- calibrated for check


def test_check_runs_quiet_after_calibrating_its_mode_and_says_what_to_run_when_stale(cli, ollama_args, fake_ollama, tmp_path):
    # The fake's keyword rules score "buy ..." as spam; a binary profile, which check runs as multilabel.
    profile, data = setup(tmp_path)
    (tmp_path / "post.md").write_text("a quiet post about roses\n")
    post = str(tmp_path / "post.md")
    assert cli("calibrate", *ollama_args, "-p", profile, data, "--map", "ham=none").code == 0
    binary = cli("check", *ollama_args, "-p", profile, post)
    assert "calibrated for binary mode (this run is in multilabel mode)" in binary.stderr
    assert "run `tactful calibrate --mode multilabel`" in binary.stderr

    run = cli("calibrate", *ollama_args, "-p", profile, data, "--map", "ham=none", "--mode", "multilabel")
    assert run.code == 0, run.stderr
    quiet = cli("check", *ollama_args, "-p", profile, post)
    assert quiet.code == 0, quiet.stderr
    assert "calibrated" not in quiet.stderr

    with (tmp_path / "bank.jsonl").open("a") as bank:
        bank.write(json.dumps({"id": "ex-5", "text": "win a prize", "labels": ["spam"]}) + "\n")
    stale = cli("check", *ollama_args, "-p", profile, post)
    assert stale.stderr.count("the thresholds were calibrated for prompt") == 1
    assert "run `tactful calibrate --mode multilabel`" in stale.stderr


def test_a_bank_example_of_a_category_the_profile_lost_is_left_out_not_read_as_acceptable(cli, ollama_args, fake_ollama, tmp_path):
    fake_ollama.responder = responder
    profile, data = setup(tmp_path)
    with (tmp_path / "bank.jsonl").open("a") as bank:
        bank.write(json.dumps({"id": "ex-5", "text": "buy rude words", "labels": ["rudeness"]}) + "\n")
    run = cli("calibrate", *ollama_args, "-p", profile, data, "--map", "ham=none", "--dry-run")
    assert run.code == 0, run.stderr
    assert run.stderr.count("1 bank example(s) use categories this profile does not have and were left out") == 1
    assert "8 (4+)" in run.stdout  # not 9 texts with a harmful one counted as acceptable
