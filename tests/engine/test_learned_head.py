"""A learned head decides in the classifier: on the bare text (the prompt is not evaluated),
on the prompt's hidden state, or with the prompt's probability; records say which decided
and carry the scores computed; --explain still asks the model why a flagged text is."""

from __future__ import annotations

import functools

import pytest
from tactful.backends.base import ChatRequest, ProbeRequest
from tactful.engine.answer import BY_PROBABILITY
from tactful.engine.learned import Head
from tactful.learning.choose import COMBINED, HEAD, Rule, apply

from tests.engine.test_classifier import classifier, profile, record
from tests.support.scripted import ScriptedProber

# Scripted vectors are [length of the text, ...]: this rule flags texts longer than 8 characters.
LONG = Rule(HEAD, 0.5, (1.0, 0.0), -8.5)


def head(rule: Rule = LONG, reads_prompt_state: bool = False, backend: ScriptedProber | None = None) -> Head:
    return Head(decided_by=rule.kind, reads_prompt_state=reads_prompt_state, uses_probability=rule.kind == COMBINED,
                score=functools.partial(apply, rule), threshold=rule.threshold, identity="test-head",
                embedder=None if reads_prompt_state else backend)


def test_a_head_on_the_bare_text_decides_without_evaluating_the_prompt():
    backend = ScriptedProber(default_probabilities={"flagged": 0.99})
    c = classifier(backend, profile(blocked=("toxicity",), allowed=()), head=head(backend=backend))
    long, short = c.classify(record("you absolute idiot")).moderation, c.classify(record("hi there")).moderation
    assert (long.flagged, long.labels, long.decided_by) == (True, ["toxicity"], "head")
    assert (short.flagged, short.labels, short.decided_by) == (False, [], "head")
    assert long.scores == {"head": pytest.approx(apply(LONG, None, [18.0, 1.0]))}  # no prompt probability: none carried
    assert backend.requests == []  # neither probed nor completed


def test_a_head_on_the_prompt_state_reads_it_with_the_probability_in_one_probe():
    backend = ScriptedProber(default_probabilities={"flagged": 0.2})
    c = classifier(backend, profile(blocked=("toxicity",), allowed=()), head=head(reads_prompt_state=True))
    moderation = c.classify(record("you absolute idiot")).moderation
    assert (moderation.flagged, moderation.decided_by) == (True, "head")
    assert moderation.scores == {"flagged": pytest.approx(0.2), "head": pytest.approx(apply(LONG, None, [18.0, 0.0]))}
    (probe,) = backend.requests
    assert isinstance(probe, ProbeRequest) and probe.state


def test_the_combined_rule_weighs_the_prompt_probability():
    rule = Rule(COMBINED, 0.5, (0.0, 0.0), 0.0, 1.0)  # the probability alone, through the head
    backend = ScriptedProber(probabilities={"bad": {"flagged": 0.8}, "good": {"flagged": 0.3}})
    c = classifier(backend, profile(blocked=("toxicity",), allowed=()), head=head(rule, reads_prompt_state=True))
    bad, good = c.classify(record("bad")).moderation, c.classify(record("good")).moderation
    assert (bad.flagged, bad.decided_by, good.flagged, good.decided_by) == (True, "combined", False, "combined")
    assert bad.scores == {"flagged": pytest.approx(0.8), "head": pytest.approx(0.8)}


def test_explain_asks_the_model_why_for_flagged_texts_only():
    backend = ScriptedProber(default_probabilities={"flagged": 0.1},
                             default='{"flagged": true, "rationale": "An insult."}')
    prof = profile(blocked=("toxicity",), task="explain = true\n", allowed=())
    c = classifier(backend, prof, head=head(backend=backend))
    flagged, clean = c.classify(record("you absolute idiot")).moderation, c.classify(record("hi there")).moderation
    assert (flagged.flagged, flagged.rationale, flagged.decided_by) == (True, "An insult.", "head")
    assert (clean.flagged, clean.rationale) == (False, None)
    assert [type(r) for r in backend.requests] == [ChatRequest]  # the flagged text's rationale, nothing else


def test_a_flag_with_several_blocked_categories_is_named_by_the_model():
    backend = ScriptedProber(default_probabilities={"category": {"toxicity": 0.2, "spam": 0.8}})
    c = classifier(backend, profile(blocked=("toxicity", "spam"), allowed=()), head=head(backend=backend))
    moderation = c.classify(record("click here to win")).moderation
    assert (moderation.flagged, moderation.labels, moderation.decided_by) == (True, ["spam"], "head")


def test_a_flag_the_model_names_as_an_unblocked_category_is_lifted_as_without_a_head():
    backend = ScriptedProber(default_probabilities={"category": {"toxicity": 0.1, "negative-sentiment": 0.9}})
    c = classifier(backend, profile(blocked=("toxicity",)), head=head(backend=backend))
    moderation = c.classify(record("this film was dreadful")).moderation
    assert (moderation.flagged, moderation.labels, moderation.decided_by) == (False, ["negative-sentiment"], "head")


def test_without_a_head_the_thresholds_decide():
    backend = ScriptedProber(default_probabilities={"flagged": 0.9})
    moderation = classifier(backend, profile(blocked=("toxicity",), allowed=())).classify(record("you absolute idiot")).moderation
    assert moderation.decided_by == BY_PROBABILITY and moderation.scores == {"flagged": pytest.approx(0.9)}


def test_a_backend_that_gives_no_hidden_state_leaves_the_decision_to_the_thresholds(caplog):
    backend = ScriptedProber(default_probabilities={"flagged": 0.9}, states=None)
    c = classifier(backend, profile(blocked=("toxicity",), allowed=()), head=head(reads_prompt_state=True))
    first, second = (c.classify(record(text)).moderation for text in ("you absolute idiot", "you fool"))
    assert [first.decided_by, second.decided_by] == [BY_PROBABILITY, BY_PROBABILITY]
    assert first.flagged and first.scores == {"flagged": pytest.approx(0.9)}
    said = [r.getMessage() for r in caplog.records if "learned head cannot decide" in r.getMessage()]
    assert len(said) == 1 and "gave no hidden state" in said[0]
