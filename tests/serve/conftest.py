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
# Per text, P(true) per category, as a multilabel answer weighs them.
PROBABILITIES: dict[str, Any] = {
    INSULT: {"toxicity": 0.91, "spam": 0.02, "negative-sentiment": 0.6, "manipulation": 0.01},
    KIND: {"toxicity": 0.03, "spam": 0.04, "negative-sentiment": 0.05, "manipulation": 0.01},
}
QUIET = {"toxicity": 0.1, "spam": 0.1, "negative-sentiment": 0.1, "manipulation": 0.1}

MakeClient = Callable[..., TestClient]


@pytest.fixture
def prober() -> ScriptedProber:
    return ScriptedProber(probabilities=PROBABILITIES, default_probabilities=QUIET)


@pytest.fixture
def make_client(prober: ScriptedProber) -> Iterator[MakeClient]:
    """A client of a warmed-up app on the built-in profile (binary, served as multilabel),
    with the options given; ``backend`` replaces the prober."""
    services: list[Service] = []

    def make(backend: Any = None, **options: Any) -> TestClient:
        service = Service(resolve(Overrides()), ServeOptions(**options), backend=backend or prober)
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
