"""Reading answer values from a server's next-token alternatives, token by token."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pytest
from tactful.backends.base import token_logprobs
from tactful.backends.continuation import read_choices
from tactful.errors import AnswerError


def server(table: Mapping[str, Mapping[str, float]]):  # type: ignore[no-untyped-def]
    """A server whose alternatives after each prefill are given; records what it was asked."""
    asked: list[str] = []

    def next_tokens(prefill: str) -> Mapping[str, float]:
        asked.append(prefill)
        return table[prefill]

    return next_tokens, asked


def test_one_token_reaches_a_boolean_and_other_tokens_are_left_out():
    next_tokens, asked = server({'{"flagged":': {" true": 0.6, " false": 0.2, " maybe": 0.2}})
    assert read_choices(next_tokens, '{"flagged":', (" true", " false")) == pytest.approx({" true": 0.75, " false": 0.25})
    assert asked == ['{"flagged":']


def test_a_value_written_without_its_space_or_in_pieces_still_counts():
    # JSON allows '{"flagged":true}'; ' tru' starts only ' true'; ' false}' writes the value and more.
    next_tokens, _ = server({"{": {"true": 0.3, " tru": 0.3, " false}": 0.4}})
    assert read_choices(next_tokens, "{", (" true", " false")) == pytest.approx({" true": 0.6, " false": 0.4})


def test_values_that_share_a_beginning_are_followed_to_where_they_part():
    next_tokens, asked = server({
        '{"category":': {' "': 0.9, " none": 0.1},
        '{"category": "': {"spam": 0.5, "s": 0.25, "none": 0.25},
        '{"category": "s': {"pam": 0.5, "elf": 0.5},
    })
    choices = (' "spam"', ' "self-harm"', ' "none"')
    got = read_choices(next_tokens, '{"category":', choices)
    # ' none' (no quote) starts no value; 's' is followed once more and splits evenly.
    assert got == pytest.approx({' "spam"': 0.625, ' "self-harm"': 0.125, ' "none"': 0.25})
    assert asked == ['{"category":', '{"category": "', '{"category": "s']


def test_a_shared_beginning_too_unlikely_to_matter_is_not_followed():
    next_tokens, asked = server({"{": {" true": 0.9995, " ": 0.0005, " false": 0.0}})
    assert read_choices(next_tokens, "{", (" true", " false"))[" true"] == pytest.approx(1.0)
    assert asked == ["{"]


def test_no_alternative_that_starts_a_value_is_an_answer_error():
    next_tokens, _ = server({"{": {"I": 0.7, " cannot": 0.3}})
    with pytest.raises(AnswerError, match="starts ' true' or ' false'"):
        read_choices(next_tokens, "{", (" true", " false"))


def test_alternatives_that_write_the_same_text_add_their_probabilities():
    # Two token ids for ' true', and two byte pieces shown as the same replacement character.
    entries = [{"token": " true", "logprob": math.log(0.5)}, {"token": " false", "logprob": math.log(0.2)},
               {"token": " true", "logprob": math.log(0.25)},
               {"token": "\ufffd", "logprob": math.log(0.01), "bytes": [0xE2]},
               {"token": "\ufffd", "logprob": math.log(0.02), "bytes": [0xF0]}]
    [token] = token_logprobs([{"token": " true", "logprob": math.log(0.5), "top_logprobs": entries}]) or []
    assert {text: math.exp(lp) for text, lp in token.top.items()} == pytest.approx({" true": 0.75, " false": 0.2, "\ufffd": 0.03})
    probabilities = {text: math.exp(lp) for text, lp in token.top.items()}
    assert read_choices(lambda prefill: probabilities, "{", (" true", " false"))[" true"] == pytest.approx(0.75 / 0.95)


def test_a_space_a_renderer_trimmed_from_the_prefill_and_the_model_writes_again_still_counts():
    # Following ' ' (which starts both values), the server is sent '{"flagged": ' but its
    # renderer trims the space, so the model writes ' true' with its space once more.
    next_tokens, asked = server({
        '{"flagged":': {" ": 0.9, " true": 0.05, " false": 0.05},
        '{"flagged": ': {" true": 0.6, " false": 0.4},
    })
    got = read_choices(next_tokens, '{"flagged":', (" true", " false"))
    assert got == pytest.approx({" true": 0.05 + 0.9 * 0.6, " false": 0.05 + 0.9 * 0.4})
    assert asked == ['{"flagged":', '{"flagged": ']


def test_inside_a_value_a_space_still_counts():
    # After '{"category": "self' a token ' harm' writes "self harm", which is no slug.
    next_tokens, _ = server({
        '{"category":': {' "self': 1.0},
        '{"category": "self': {"-harm": 0.5, " harm": 0.3, "-help": 0.2},
    })
    got = read_choices(next_tokens, '{"category":', (' "self-harm"', ' "self-help"'))
    assert got == pytest.approx({' "self-harm"': 0.5 / 0.7, ' "self-help"': 0.2 / 0.7})
