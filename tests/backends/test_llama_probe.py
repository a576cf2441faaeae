"""The one-pass probe on a real model (SmolLM2-135M): probabilities, not labels, are checked."""

from __future__ import annotations

import os

import pytest
from tactful.backends.base import ChoiceQuery, ProbeRequest
from tactful.backends.model_store import PINNED, pinned_path

MODEL = "smollm2-135m"
pytestmark = [
    pytest.mark.realmodel,
    pytest.mark.skipif(
        not pinned_path(PINNED[MODEL]).is_file() and os.environ.get("TACTFUL_REQUIRE_REAL_MODEL") != "1",
        reason=f"{MODEL} is not fetched",
    ),
]

MESSAGES = [
    {"role": "system", "content": 'Answer with JSON: {"category": "toxicity" | "threat" | "none"}.'},
    {"role": "user", "content": 'Text: "I will find you and hurt you"'},
]
# "toxicity" and "threat" share their first token(s) in most vocabularies only by quote,
# and " true"/" false" part at once: both shapes of the walk are exercised.
CATEGORY = ChoiceQuery('{"category":', (' "toxicity"', ' "threat"', ' "none"'))
BOOLEAN = ChoiceQuery('{"toxicity":', (" true", " false"))


@pytest.fixture(scope="module")
def backend():
    pytest.importorskip("llama_cpp")
    from tactful.backends.embedded import EmbeddedBackend

    opened = EmbeddedBackend.open(MODEL, options={"num_ctx": 1024})
    yield opened
    opened.close()


def test_each_distribution_covers_its_choices_and_sums_to_one(backend):
    probe = backend.probe(ProbeRequest(MESSAGES, (CATEGORY, BOOLEAN)))
    category, boolean = probe.distributions
    assert set(category) == {' "toxicity"', ' "threat"', ' "none"'}
    assert set(boolean) == {" true", " false"}
    for distribution in (category, boolean):
        assert sum(distribution.values()) == pytest.approx(1.0)
        assert all(0.0 < p < 1.0 for p in distribution.values())


def test_the_cached_prefix_changes_nothing_but_the_cost(backend):
    backend.llm.reset()
    first = backend.probe(ProbeRequest(MESSAGES, (BOOLEAN,)))
    again = backend.probe(ProbeRequest(MESSAGES, (BOOLEAN,)))
    assert again.prompt_tokens < first.prompt_tokens  # only the answer position is read again
    other = [MESSAGES[0], {"role": "user", "content": 'Text: "thanks, that fixed it"'}]
    backend.probe(ProbeRequest(other, (BOOLEAN,)))  # moves the cache to another text
    back = backend.probe(ProbeRequest(MESSAGES, (BOOLEAN,)))
    assert back.distributions[0][" true"] == pytest.approx(first.distributions[0][" true"], abs=1e-3)
    backend.llm.reset()  # from nothing: the same probabilities as with the prefix reused
    cold = backend.probe(ProbeRequest(MESSAGES, (BOOLEAN,)))
    assert cold.distributions[0][" true"] == pytest.approx(first.distributions[0][" true"], abs=1e-3)


def test_a_prompt_longer_than_the_context_is_a_backend_error(backend):
    from tactful.errors import BackendError

    long = [{"role": "user", "content": "word " * 3000}]
    with pytest.raises(BackendError, match="context"):
        backend.probe(ProbeRequest(long, (BOOLEAN,)))


def test_the_hidden_state_comes_with_the_probe_and_changes_no_probability(backend):
    backend.llm.reset()
    plain = backend.probe(ProbeRequest(MESSAGES, (BOOLEAN,)))
    with_state = backend.probe(ProbeRequest(MESSAGES, (BOOLEAN,), state=True))
    assert plain.state is None
    assert with_state.state is not None and len(with_state.state) == backend.llm.n_embd()
    assert with_state.distributions[0][" true"] == pytest.approx(plain.distributions[0][" true"], abs=1e-3)
    again = backend.probe(ProbeRequest(MESSAGES, (BOOLEAN,), state=True))
    assert again.state == pytest.approx(with_state.state, abs=1e-3)  # the same text: the same state
    other = [MESSAGES[0], {"role": "user", "content": 'Text: "thanks, that fixed it"'}]
    assert backend.probe(ProbeRequest(other, (BOOLEAN,), state=True)).state != pytest.approx(with_state.state, abs=1e-3)
    after = backend.probe(ProbeRequest(MESSAGES, (BOOLEAN,)))  # embeddings are off again: logits as before
    assert after.distributions[0][" true"] == pytest.approx(plain.distributions[0][" true"], abs=1e-3)
