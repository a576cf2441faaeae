"""The output contract (engine/answer.py): one schema, one way to write an answer, one parser.

Units: a Contract is built from its fields, no profile file, no backend.
"""

from __future__ import annotations

import json

import pytest
from tactful.backends.base import ChoiceQuery
from tactful.bank.store import Example
from tactful.engine.answer import BY_ANSWER, BY_PROBABILITY, Contract, Decision
from tactful.engine.prompt import PromptBuilder
from tactful.errors import AnswerError
from tactful.profile.load import parse_profile

BLOCKED = ("toxicity", "spam")
ALLOWED = ("negative-sentiment",)
ORDER = ("negative-sentiment", "toxicity", "spam")  # as the profile declares them


def contract(mode: str, explain: bool = False, **thresholds: float) -> Contract:
    return Contract(mode, BLOCKED, ALLOWED, explain, {k.replace("_", "-"): v for k, v in thresholds.items()}, ORDER)


@pytest.mark.parametrize("mode, keys", [("binary", ["flagged"]), ("multiclass", ["flagged"]),
                                        ("multilabel", ["flagged"])])
def test_the_schema_asks_exactly_the_decision_keys_plus_a_rationale_when_explained(mode, keys):
    for explain in (False, True):
        schema = contract(mode, explain).schema()
        expected = keys + (["rationale"] if explain else [])
        assert list(schema["properties"]) == expected and schema["required"] == expected
        assert schema["additionalProperties"] is False
    assert contract(mode).decision_keys == tuple(keys)


def test_multiclass_asks_the_flag_and_names_it_among_every_category():
    # As binary mode does, in the same pass over the text. Acceptable categories are offered
    # too: a text that is what the profile unblocks is named so, and not flagged.
    c = contract("multiclass")
    assert c.queries() == (ChoiceQuery('{"flagged":', (" true", " false")), c.choice_query())
    assert c.choice_query() == ChoiceQuery('{"category":', tuple(f' "{slug}"' for slug in ORDER))
    assert c.schema() == contract("binary").schema() == contract("multilabel").schema()


def test_multilabel_keeps_the_declared_order_whatever_is_blocked():
    assert contract("multilabel").all_slugs == ORDER
    unordered = Contract("multilabel", BLOCKED, ALLOWED, False)  # no order given: blocked first
    assert unordered.all_slugs == (*BLOCKED, *ALLOWED)


@pytest.mark.parametrize("mode", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("labels", [[], ["spam"], ["toxicity", "negative-sentiment"], ["negative-sentiment"]])
def test_an_example_answer_parses_back_to_the_decision_it_stands_for(mode, labels):
    c = contract(mode, explain=True)
    written = c.answer_for(labels, "why")
    decision = c.parse(written)
    assert decision.flagged == any(label in BLOCKED for label in labels)
    assert decision.rationale == "why" and decision.decided_by == BY_ANSWER
    assert decision.labels == []  # a flag is named by a second question


def test_the_example_answer_is_compact_json_in_key_order():
    assert contract("binary").answer_for(["spam"], None) == '{"flagged": true}'
    assert contract("multiclass", explain=True).answer_for([], None) == '{"flagged": false, "rationale": ""}'
    assert contract("multilabel").answer_for(["spam"], None) == '{"flagged": true}'


@pytest.mark.parametrize("mode, content, error", [
    ("binary", '{"flagged": tru', "answer is not JSON"),
    ("binary", "[true]", "answer is not a JSON object"),
    ("binary", '{"flagged": "yes"}', "'flagged' is 'yes', not true or false"),
    ("binary", '{"flagged": false, "labels": []}', "keys outside the contract (labels)"),
    ("multiclass", '{"category": "spam"}', "keys outside the contract (category)"),
    ("multilabel", '{"negative-sentiment": false, "toxicity": true}', "keys outside the contract"),
])
def test_an_answer_outside_the_contract_is_refused_with_the_reason(mode, content, error):
    with pytest.raises(AnswerError, match=error.replace("(", r"\(").replace(")", r"\)")):
        contract(mode).parse(content)


def test_an_explained_answer_must_carry_its_rationale():
    with pytest.raises(AnswerError, match="no 'rationale' string"):
        contract("binary", explain=True).parse('{"flagged": true}')
    with pytest.raises(AnswerError, match="keys outside the contract"):
        contract("binary").parse('{"flagged": true, "rationale": "x"}')
    assert contract("binary", explain=True).parse('{"flagged": true, "rationale": "  insult \\n"}').rationale == "insult"


def test_a_binary_flag_names_its_category_itself_only_when_the_profile_has_one():
    assert contract("binary").parse('{"flagged": true}').labels == []
    one = Contract("binary", ("spam",), (), False)
    assert one.parse('{"flagged": true}').labels == ["spam"]
    assert one.parse('{"flagged": false}').labels == []
    assert contract("binary").needs_naming and not one.needs_naming
    # One blocked and one unblocked: a flag is named, so that the unblocked one can lift it.
    assert Contract("binary", ("spam",), ("toxicity",), False).needs_naming


def test_with_scores_the_thresholds_decide_and_the_answer_only_has_to_be_well_formed():
    c = contract("binary", toxicity=0.8, spam=0.3)
    decision = c.parse('{"flagged": false}', {"flagged": 0.4})
    assert decision == Decision(True, [], {"flagged": 0.4}, None, BY_PROBABILITY)
    with pytest.raises(AnswerError):
        c.parse('{"flagged": 1}', {"flagged": 0.4})


def test_binary_takes_the_most_sensitive_blocked_threshold():
    assert contract("binary", toxicity=0.8, spam=0.3, negative_sentiment=0.1).binary_threshold == 0.3
    assert Contract("binary", (), ("spam",), False).binary_threshold == 0.5  # nothing blocked
    assert not contract("binary", spam=0.3).decide({"flagged": 0.29}).flagged
    assert contract("binary", spam=0.3).decide({"flagged": 0.3}).flagged


def test_multiclass_flags_the_likeliest_category_over_its_threshold_if_it_is_blocked():
    c = contract("multiclass", spam=0.6)
    assert c.decide({"toxicity": 0.3, "spam": 0.5, "none": 0.2}).labels == []  # under spam's 0.6
    assert c.decide({"toxicity": 0.2, "spam": 0.7, "none": 0.1}).labels == ["spam"]
    assert c.decide({"toxicity": 0.1, "spam": 0.3, "none": 0.6}) == Decision(
        False, [], {"toxicity": 0.1, "spam": 0.3, "none": 0.6}, decided_by=BY_PROBABILITY)
    allowed = c.decide({"negative-sentiment": 0.6, "toxicity": 0.3, "spam": 0.0, "none": 0.1})
    assert (allowed.flagged, allowed.labels) == (False, ["negative-sentiment"])


def test_multilabel_labels_every_category_over_its_threshold_and_flags_only_blocked_ones():
    c = contract("multilabel", negative_sentiment=0.4)
    only_allowed = c.decide({"negative-sentiment": 0.45, "toxicity": 0.1, "spam": 0.2, "none": 0.25})
    assert only_allowed.labels == ["negative-sentiment"] and not only_allowed.flagged
    both = c.decide({"negative-sentiment": 0.45, "toxicity": 0.5, "spam": 0.0, "none": 0.05})
    assert both.labels == ["negative-sentiment", "toxicity"] and both.flagged


def test_the_queries_open_the_answer_as_the_examples_write_it():
    flag = ChoiceQuery('{"flagged":', (" true", " false"))
    assert contract("binary").queries() == (flag,)  # named after, and only when flagged
    for mode in ("multiclass", "multilabel"):  # named in the same pass, for every category's score
        assert contract(mode).queries() == (flag, ChoiceQuery('{"category":', tuple(f' "{s}"' for s in ORDER)))
    assert contract("binary").answer_for(["toxicity"], None).startswith(flag.opening)
    one = Contract("multilabel", ("spam",), (), False, order=("spam",))
    assert one.queries() == (flag,) and one.scores_from([{" true": 0.7, " false": 0.3}]) == {"spam": 0.7, "none": pytest.approx(0.3)}


def test_scores_are_read_from_the_distributions_by_key():
    assert contract("binary").scores_from([{" true": 0.7, " false": 0.3}]) == {"flagged": 0.7}
    # Multiclass: P(flagged) x the category's share of the name, and "none" the rest.
    named = [{" true": 0.8, " false": 0.2}, {' "toxicity"': 0.25, ' "spam"': 0.75}]
    for mode in ("multiclass", "multilabel"):
        assert contract(mode).scores_from(named) == pytest.approx({"toxicity": 0.2, "spam": 0.6, "none": 0.2})


def test_naming_keeps_a_flag_unnamed_when_the_answer_breaks_its_schema():
    c = contract("binary")
    flag = Decision(True, [], {"flagged": 0.9}, None, BY_PROBABILITY)
    assert c.naming_schema()["properties"]["category"]["enum"] == list(ORDER)
    assert c.name_from_answer(flag, '{"category": "spam"}').labels == ["spam"]
    for broken in ('{"category": "hate"}', "not json", "[1]"):
        assert c.name_from_answer(flag, broken) == flag
    assert c.named(flag, {json.dumps("toxicity"): 0.3, json.dumps("spam"): 0.7}).labels == ["spam"]


def test_a_flag_named_as_an_unblocked_category_is_lifted():
    c = contract("binary")
    flag = Decision(True, [], {"flagged": 0.9}, None, BY_PROBABILITY)
    lifted = Decision(False, ["negative-sentiment"], {"flagged": 0.9}, None, BY_PROBABILITY)
    assert c.named(flag, {json.dumps("negative-sentiment"): 0.6, json.dumps("spam"): 0.4}) == lifted
    assert c.name_from_answer(flag, '{"category": "negative-sentiment"}') == lifted
    unflagged = Decision(False, [], {"flagged": 0.1})
    assert c.named(unflagged, {json.dumps("spam"): 1.0}) == unflagged


PROFILE = """version = 1
[task]
mode = "{mode}"
explain = true
[categories.negative-sentiment]
blocked = false
[categories.toxicity]
threshold = 0.8
[categories.spam]
"""


def test_a_profile_gives_its_contract_in_canonical_order_whatever_order_it_declares():
    c = Contract.for_profile(parse_profile(PROFILE.format(mode="multilabel"), None))
    assert (c.mode, c.blocked, c.allowed, c.explain) == ("multilabel", ("spam", "toxicity"), ALLOWED, True)
    assert c.thresholds == {"negative-sentiment": 0.5, "toxicity": 0.8, "spam": 0.5}
    assert c.all_slugs == ("negative-sentiment", "spam", "toxicity")


@pytest.mark.parametrize("mode", ["binary", "multiclass", "multilabel"])
def test_swapping_two_category_tables_changes_nothing_the_model_reads(mode):
    tables = PROFILE.format(mode=mode).split("[categories.")
    head, rest = tables[0], ["[categories." + t for t in tables[1:]]
    swapped = head + "".join(reversed(rest))
    assert swapped != PROFILE.format(mode=mode)
    examples = [Example("e1", "you idiot", ("toxicity",), None), Example("e2", "buy now", ("spam",), None)]
    built = [PromptBuilder(parse_profile(text, None), examples) for text in (PROFILE.format(mode=mode), swapped)]
    assert built[0].build("hello") == built[1].build("hello")
    assert built[0].contract == built[1].contract


@pytest.mark.parametrize("mode", ["binary", "multiclass", "multilabel"])
def test_the_prompt_sends_the_contracts_schema_and_its_examples_answer_in_it(mode):
    profile = parse_profile(PROFILE.format(mode=mode), None)
    examples = [Example("e1", "you idiot", ("toxicity",), "insult"), Example("e2", "so sad", ("negative-sentiment",), None)]
    builder = PromptBuilder(profile, examples)
    prompt = builder.build("hello")
    assert prompt.schema == builder.contract.schema() == Contract.for_profile(profile).schema()
    answers = [m["content"] for m in prompt.messages if m["role"] == "assistant"]
    decisions = [builder.contract.parse(answer) for answer in answers]
    assert [d.flagged for d in decisions] == [True, False]
    assert [d.rationale for d in decisions] == ["insult", ""]
