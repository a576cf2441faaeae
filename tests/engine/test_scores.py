"""--scores: probabilities from Ollama's token log-probabilities, thresholds from the profile."""

from __future__ import annotations

import math

from tests.fake_ollama import chat_response


def token(text: str, alternatives: dict[str, float] | None = None) -> dict:
    alternatives = alternatives or {text: 1.0}
    return {
        "token": text,
        "logprob": math.log(alternatives.get(text, 1.0)),
        "top_logprobs": [{"token": t, "logprob": math.log(p)} for t, p in alternatives.items()],
    }


def scripted(tokens: list[dict]):
    content = "".join(t["token"] for t in tokens)
    return lambda body: chat_response(body["model"], content, logprobs=tokens)


def test_binary_score_and_request(cli, ollama_args, fake_ollama):
    fake_ollama.responder = scripted(
        [token('{"'), token("flagged"), token('":'), token(" true", {" true": 0.6, " false": 0.3, " maybe": 0.1}), token("}")]
    )
    run = cli("classify", *ollama_args, "--scores", input="hello\n")
    moderation = run.records[0]["moderation"]
    assert moderation["scores"] == {"flagged": round(0.6 / 0.9, 4)}
    assert moderation["flagged"] is True
    body = fake_ollama.chat_requests()[0]
    assert body["logprobs"] is True and body["top_logprobs"] == 20


def test_no_logprobs_warns_once_and_leaves_scores_out(cli, ollama_args, fake_ollama):
    fake_ollama.logprobs = False
    run = cli("classify", *ollama_args, input="a\nb idiot\n")
    assert [("scores" in r["moderation"]) for r in run.records] == [False, False]
    assert [r["moderation"]["decided_by"] for r in run.records] == ["answer", "answer"]
    assert [r["moderation"]["flagged"] for r in run.records] == [False, True]  # the sampled answer decides
    assert run.stderr.count("no usable log-probabilities") == 1


def test_scores_and_the_deciding_probability_are_in_every_record(cli, ollama_args, fake_ollama):
    run = cli("classify", *ollama_args, input="a\nb idiot\n")
    assert [r["moderation"]["scores"] for r in run.records] == [{"flagged": 0.1}, {"flagged": 0.9}]
    assert [r["moderation"]["decided_by"] for r in run.records] == ["probability", "probability"]
    assert "log-probabilities" not in run.stderr
