"""The classifier over a scripted backend: which strategy decides, retries, one decision for
a text judged in windows (flagged if any window is, scores at their highest), and the
cache. No server: the backend answers by the judged text."""

from __future__ import annotations

import logging

import pytest
from tactful.backends.base import ChatRequest, Completion, ProbeRequest
from tactful.engine.answer import BY_ANSWER, BY_PROBABILITY, Decision
from tactful.engine.cache import ResultCache
from tactful.engine.classifier import Classifier, merge_decisions
from tactful.engine.leaning import CONTENT_FREE
from tactful.engine.prompt import PromptBuilder
from tactful.engine.textprep import windows
from tactful.errors import HostUnavailable, NoProbabilities, Transient
from tactful.profile.load import Profile, parse_profile
from tactful.records import InputRecord

from tests.support.scripted import ScriptedBackend, ScriptedProber, seen_text

CLEAN = '{"flagged": false}'
FLAGGED = '{"flagged": true}'


def profile(mode: str = "binary", blocked: tuple[str, ...] = ("toxicity", "spam"), task: str = "",
            category: str = "", allowed: tuple[str, ...] = ("negative-sentiment",)) -> Profile:
    categories = "".join(f"[categories.{slug}]\n{category}" for slug in blocked)
    categories += "".join(f"[categories.{slug}]\nblocked = false\n" for slug in allowed)
    return parse_profile(f'version = 1\n[task]\nmode = "{mode}"\n{task}{categories}', None)


def classifier(backend: ScriptedBackend, prof: Profile | None = None, **kwargs: object) -> Classifier:
    prof = prof or profile()
    return Classifier(prof, backend, PromptBuilder(prof), **kwargs)  # type: ignore[arg-type]


def record(text: str) -> InputRecord:
    return InputRecord(id="1", text=text, data={"text": text}, source="<stdin>:1")


def probes(backend: ScriptedBackend) -> list[ProbeRequest]:
    return [r for r in backend.requests if isinstance(r, ProbeRequest)]


# ------------------------------------------------------------ probabilities at the answer position


def leaning(**shares: float) -> dict[str, dict[str, dict[str, float]]]:
    """What the model answers to the choice among categories about each content-free text."""
    return {text: {"category": shares} for text in CONTENT_FREE}


def test_probabilities_decide_and_a_flag_is_named_by_a_second_question():
    backend = ScriptedProber(probabilities={"you idiot": {"flagged": 0.9, "category": {"toxicity": 0.8, "spam": 0.2}},
                                            "see you": {"flagged": 0.2},
                                            **leaning(toxicity=0.4, spam=0.4, **{"negative-sentiment": 0.2})})
    c = classifier(backend)
    flagged, clean = c.classify(record("you idiot")).moderation, c.classify(record("see you")).moderation
    assert (flagged.flagged, flagged.labels, flagged.scores, flagged.decided_by) == (True, ["toxicity"], {"flagged": 0.9}, BY_PROBABILITY)
    assert (clean.flagged, clean.labels, clean.scores) == (False, [], {"flagged": pytest.approx(0.2)})
    asked = probes(backend)
    # The flag; its name, while the text is still in the model's cache; the model's leaning
    # among the categories, on three empty texts (once per run); the next text's flag.
    assert [[q.opening for q in p.queries] for p in asked] == [['{"flagged":'], *[['{"category":']] * 4, ['{"flagged":']]
    assert [seen_text(p.messages) for p in asked[1:5]] == ["you idiot", *CONTENT_FREE]
    # Every category is offered, the unblocked one too: a flag named so is lifted.
    assert asked[1].queries[0].choices == (' "negative-sentiment"', ' "spam"', ' "toxicity"')
    assert all(p.fixed == len(c.builder.fixed_messages) for p in asked)


def test_a_backend_without_probabilities_hands_over_to_the_sampled_answer_once_with_one_warning(
        caplog: pytest.LogCaptureFixture):
    backend = ScriptedProber(default_probabilities=NoProbabilities("Ollama 0.11 returns no log-probabilities"),
                             default=CLEAN)
    c = classifier(backend)
    with caplog.at_level(logging.WARNING, logger="tactful"):
        results = [c.classify(record(text)).moderation for text in ("one", "two")]
    warnings = [r.getMessage() for r in caplog.records]
    assert [(m.flagged, m.decided_by, m.scores) for m in results] == [(False, BY_ANSWER, None)] * 2
    assert [type(r).__name__ for r in backend.requests] == ["ProbeRequest", "ChatRequest", "ChatRequest"]
    assert warnings == [
        "Ollama 0.11 returns no log-probabilities: the answer is sampled instead, held to its schema, for the rest of the run",
        "the scripted backend gave no usable log-probabilities: the sampled answer decides, without scores "
        "(records say decided_by: answer)",
    ]


def test_the_models_leaning_among_categories_is_divided_out_of_a_flags_name():
    # On empty texts the model names spam four times as often as toxicity. A text it reads
    # as 0.6 spam, 0.4 toxicity moves it towards toxicity, and is named so; one it reads
    # as 0.95 spam is still spam. The leaning is measured once, not per text.
    backend = ScriptedProber(probabilities={
        "rude ad": {"flagged": 0.9, "category": {"spam": 0.6, "toxicity": 0.4}},
        "buy now": {"flagged": 0.9, "category": {"spam": 0.95, "toxicity": 0.05}}, **leaning(spam=0.8, toxicity=0.2)})
    c = classifier(backend)
    assert [c.classify(record(text)).moderation.labels for text in ("rude ad", "buy now")] == [["toxicity"], ["spam"]]
    assert [seen_text(p.messages) for p in probes(backend)].count("N/A") == 1


def test_multiclass_reads_flag_and_name_in_one_pass_and_moves_only_the_choice_among_categories():
    backend = ScriptedProber(probabilities={
        "rude ad": {"flagged": 0.85, "category": {"spam": 0.5, "toxicity": 0.5}}, **leaning(spam=0.75, toxicity=0.25)})
    m = classifier(backend, profile("multiclass", allowed=())).classify(record("rude ad")).moderation
    # Spam's share on empty texts is 0.75, toxicity's 0.25: 0.5/0.75 and 0.5/0.25 share the 0.85.
    assert m.labels == ["toxicity"] and m.flagged
    assert m.scores == pytest.approx({"spam": 0.85 * 0.25, "toxicity": 0.85 * 0.75, "none": 0.15})
    text_probes = [p for p in probes(backend) if seen_text(p.messages) == "rude ad"]
    assert [[q.opening for q in p.queries] for p in text_probes] == [['{"flagged":', '{"category":']]


def test_one_category_is_never_corrected():
    backend = ScriptedProber(probabilities={"rude": {"flagged": 0.4, "category": {"toxicity": 1.0}}})
    m = classifier(backend, profile("multiclass", blocked=("toxicity",), allowed=())).classify(record("rude")).moderation
    assert m.scores == pytest.approx({"toxicity": 0.4, "none": 0.6}) and len(probes(backend)) == 1


def test_multilabel_labels_every_category_over_its_threshold_from_the_flag_and_its_name():
    backend = ScriptedProber(probabilities={"idiot, buy now": {"flagged": 0.9, "category": {"toxicity": 0.55, "spam": 0.45}},
                                            **leaning(toxicity=0.4, spam=0.4, **{"negative-sentiment": 0.2})})
    strict = profile("multilabel", category="threshold = 0.3\n")  # toxicity and spam at 0.3
    m = classifier(backend, strict).classify(record("idiot, buy now")).moderation
    assert m.labels == ["spam", "toxicity"] and m.flagged  # 0.9 x 0.45 and 0.9 x 0.55
    one = classifier(ScriptedProber(probabilities=backend.probabilities), profile("multiclass", category="threshold = 0.3\n"))
    assert one.classify(record("idiot, buy now")).moderation.labels == ["toxicity"]  # multiclass: the likeliest


def test_an_unblocked_category_lifts_the_flag_in_every_mode():
    backend = ScriptedProber(probabilities={"so sad": {"flagged": 0.8, "category": {"negative-sentiment": 0.9, "toxicity": 0.1}},
                                            **leaning(toxicity=0.4, spam=0.4, **{"negative-sentiment": 0.2})})
    for mode in ("binary", "multiclass", "multilabel"):
        m = classifier(backend, profile(mode)).classify(record("so sad")).moderation
        assert (m.flagged, m.labels) == (False, ["negative-sentiment"]), mode


def test_a_rationale_is_written_so_the_answer_is_sampled():
    backend = ScriptedProber(default_probabilities={"flagged": 0.9}, default='{"flagged": false, "rationale": "fine"}')
    m = classifier(backend, profile(task="explain = true\n")).classify(record("hello")).moderation
    assert probes(backend) == [] and (m.flagged, m.rationale, m.decided_by) == (False, "fine", BY_ANSWER)


# ------------------------------------------------------------ the sampled answer


def test_an_answer_outside_the_contract_is_asked_once_more():
    backend = ScriptedBackend(answers={"hello": ["Sure! It is fine.", CLEAN]})
    m = classifier(backend).classify(record("hello")).moderation
    assert (m.flagged, m.error) == (False, None) and len(backend.requests) == 2


def test_two_broken_answers_make_the_record_an_error_and_the_run_goes_on():
    backend = ScriptedBackend(answers={"hello": '{"flagged": tru', "next": CLEAN})
    c = classifier(backend)
    broken, fine = c.classify(record("hello")), c.classify(record("next"))
    assert broken.moderation.flagged is None
    assert broken.moderation.error == "invalid answer from model: answer is not JSON (Expecting value): '{\"flagged\": tru'"
    assert fine.moderation.flagged is False and len(backend.requests) == 3


@pytest.mark.parametrize("fault", [Transient("busy"), HostUnavailable("cannot reach it")])
def test_a_backend_fault_is_not_a_record_error_it_stops_the_caller(fault):
    with pytest.raises(type(fault)):
        classifier(ScriptedBackend(default=fault)).classify(record("hello"))


def test_a_flag_is_named_by_a_sampled_answer_and_both_requests_are_counted():
    backend = ScriptedBackend(answers={"win a prize": [Completion(FLAGGED, 100, 4), Completion('{"category": "spam"}', 110, 5)]})
    result = classifier(backend).classify(record("win a prize"))
    assert result.moderation.labels == ["spam"] and (result.prompt_tokens, result.output_tokens) == (210, 9)
    naming = backend.requests[1]
    assert isinstance(naming, ChatRequest) and naming.schema["properties"]["category"]["enum"] == ["negative-sentiment", "spam", "toxicity"]


# ------------------------------------------------------------ a text judged in parts


def test_a_long_text_is_judged_in_windows_and_flagged_if_any_window_is():
    text = ("calm words " * 10 + "you idiot " * 5).strip()
    chunks = list(windows(text, 110))
    backend = ScriptedBackend(answers={chunk: '{"flagged": true, "rationale": "insult"}' if "idiot" in chunk
                                       else '{"flagged": false, "rationale": "calm"}' for chunk in chunks})
    prof = profile(blocked=("toxicity",), allowed=(), task='explain = true\nmax_chars = 110\nlong_text = "split"\n')
    result = classifier(backend, prof).classify(record(text))
    m = result.moderation
    assert len(chunks) > 1 and backend.texts == chunks
    assert (m.flagged, m.labels) == (True, ["toxicity"]) and "insult" in (m.rationale or "")
    assert m.notes == [f"judged whole in {len(chunks)} overlapping windows of at most 110 characters"]
    assert (result.prompt_tokens, result.output_tokens) == (10 * len(chunks), 3 * len(chunks))


def test_windows_merge_to_every_reason_and_the_first_windows_way_of_deciding():
    merged = merge_decisions([Decision(False, [], None, "ad", BY_ANSWER), Decision(True, ["spam"], None, None, BY_ANSWER),
                              Decision(True, ["spam"], None, "sells", BY_ANSWER)])
    assert (merged.labels, merged.rationale, merged.decided_by) == (["spam"], "ad / sells", BY_ANSWER)
    assert merge_decisions([merged]) is merged


def test_windows_merge_to_any_flag_and_the_highest_scores() -> None:
    windows = [
        Decision(False, [], {"toxicity": 0.1, "spam": 0.3}, decided_by=BY_PROBABILITY),
        Decision(True, ["toxicity"], {"toxicity": 0.9, "spam": 0.2}, decided_by=BY_PROBABILITY),
        Decision(True, ["spam"], {"toxicity": 0.4, "spam": 0.7}, decided_by=BY_PROBABILITY),
    ]
    merged = merge_decisions(windows)
    assert merged.flagged and merged.labels == ["toxicity", "spam"]
    assert merged.scores == {"toxicity": 0.9, "spam": 0.7}


def test_a_window_without_scores_leaves_the_text_without_them() -> None:
    merged = merge_decisions([Decision(False, [], {"flagged": 0.2}), Decision(False, [], None)])
    assert not merged.flagged and merged.scores is None


# ------------------------------------------------------------ the results cache


def test_a_text_decided_once_comes_from_the_cache_after_and_a_new_threshold_asks_again(tmp_path):
    backend = ScriptedProber(default_probabilities={"flagged": 0.6, "category": {"toxicity": 1.0}})
    with ResultCache(tmp_path / "c.sqlite") as cache:
        first = classifier(backend, cache=cache).classify(record("you idiot"))
        again = classifier(backend, cache=cache).classify(record("you idiot"))
        assert (first.cached, again.cached) == (False, True)
        assert again.moderation.labels == first.moderation.labels == ["toxicity"]
        assert len(probes(backend)) == 5  # the flag, the leaning on three empty texts and the naming, once
        strict = profile(category="threshold = 0.7\n")
        moved = classifier(backend, strict, cache=cache).classify(record("you idiot"))
        assert not moved.cached and moved.moderation.flagged is False


def test_a_record_that_could_not_be_read_reaches_no_backend():
    backend = ScriptedBackend()
    result = classifier(backend).classify(InputRecord(id="1", text=None, data={}, source="in.jsonl:3", error="not JSON"))
    assert result.moderation.error == "not JSON" and backend.requests == []
