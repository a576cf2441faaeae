"""`tactful serve` on the real small model (embedded SmolLM2): same engine, same scores as the CLI."""

from __future__ import annotations

import httpx
import openai
import pytest
from perspective import PerspectiveAPI

from tests.serve.server import Server, start
from tests.support.realmodel import ARGS, LINES, REAL_MODEL

pytestmark = REAL_MODEL


@pytest.fixture
def server() -> Server:  # type: ignore[no-untyped-def]
    running = start(*ARGS, "--no-cache")
    yield running
    running.stop()


def test_the_server_scores_as_the_cli_does_with_the_same_prompt_through_both_real_clients(server, cli):
    texts = LINES[:3]
    run = cli("classify", *ARGS, "--mode", "multilabel", "--no-cache", "-q", input="\n".join(texts) + "\n")
    assert run.code == 0, run.stderr
    expected = [record["moderation"]["scores"]["toxicity"] for record in run.records]

    moderations = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    answer = moderations.moderations.create(input=texts)
    assert answer.model == run.records[0]["moderation"]["model"]
    served = [result.category_scores.harassment for result in answer.results]  # toxicity stands in
    assert served == pytest.approx(expected, abs=2e-3)

    api = PerspectiveAPI("unused")
    api.api_client.url = f"{server.url}/v1alpha1/{{endpoint}}"
    scores = [api.score(text, tests=["TOXICITY"])["TOXICITY"] for text in texts]
    assert scores == pytest.approx(expected, abs=2e-3)

    health = httpx.get(f"{server.url}/healthz").json()
    assert health["status"] == "ok" and health["backend"] == "embedded"
    assert health["prompt"] == run.records[0]["moderation"]["prompt"]

