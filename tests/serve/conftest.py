"""The app on a scripted backend, through Starlette's TestClient: no server, no model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from tactful.serve.app import create_app
from tactful.serve.service import ServeOptions, Service
from tactful.settings import Overrides, resolve

from tests.support.scripted import ScriptedProber

INSULT = "you absolute idiot"
KIND = "thanks for the docs"
SAD = "so disappointed in this release"
SLUGS = ("manipulation", "negative-sentiment", "spam", "toxicity")
# Per text, as the model answers: P(flagged), and the category it names when flagged; a
# category's probability is their product (flagged 1.0: the shares themselves).
PROBABILITIES: dict[str, Any] = {
    INSULT: {"flagged": 1.0, "category": {"toxicity": 0.7, "negative-sentiment": 0.2, "spam": 0.05, "manipulation": 0.05}},
    SAD: {"flagged": 1.0, "category": {"negative-sentiment": 0.85, "toxicity": 0.05, "spam": 0.05, "manipulation": 0.05}},
}
# Anything else (content-free texts too): hardly flagged, no category favoured, so that
# the leaning the engine measures on empty texts changes no share.
QUIET = {"flagged": 0.04, "category": dict.fromkeys(SLUGS, 1.0)}

MakeClient = Callable[..., TestClient]


@pytest.fixture
def prober() -> ScriptedProber:
    return ScriptedProber(probabilities=PROBABILITIES, default_probabilities=QUIET)


@pytest.fixture
def make_client(prober: ScriptedProber) -> Iterator[MakeClient]:
    """A client of a warmed-up app on the built-in profile (binary, served as multilabel),
    with the options given; ``backend`` replaces the prober, ``overrides`` the command line."""
    services: list[Service] = []

    def make(backend: Any = None, overrides: Overrides | None = None, **options: Any) -> TestClient:
        service = Service(resolve(overrides or Overrides()), ServeOptions(**options), backend=backend or prober)
        services.append(service)
        service.warm_up()
        return TestClient(create_app(service), raise_server_exceptions=False)

    yield make
    for service in services:
        service.close()


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()


def analyze(text: str, *attributes: str, **extra: Any) -> dict[str, Any]:
    """A comments:analyze body."""
    return {"comment": {"text": text}, "requestedAttributes": {a: {} for a in attributes or ("TOXICITY",)}, **extra}
