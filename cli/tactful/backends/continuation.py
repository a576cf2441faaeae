"""Reading a choice's probability from a server that continues a partial answer.

A server that continues a final, partial assistant message (Ollama does) and reports the
top alternatives of each generated token reaches the answer value in one generated token:
send the conversation plus the answer's opening (``{"flagged":``) and ask for one token
with its alternatives. Which value each alternative starts is decided on text, since the
server's tokens are not known here: `` true`` starts `` true``, and so does ``true`` (the
space is optional in JSON). An alternative that starts several values (`` "`` before any
slug) is followed one more token down, so values that share a beginning still part; mass
on tokens that start no value is the model writing something else, and is left out before
renormalising.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from tactful.errors import AnswerError

# The top alternatives of the next token after a prefill: token text -> probability.
NextTokens = Callable[[str], Mapping[str, float]]

# Shared beginnings are followed at most this deep, and only while they carry this much
# mass: below it, their share cannot move a decision.
MAX_DEPTH = 4
MIN_MASS = 1e-3
# The values of a boolean, as they follow a key's colon.
BOOLEANS = (" true", " false")


def read_choices(next_tokens: NextTokens, opening: str, choices: Sequence[str]) -> dict[str, float]:
    """The distribution over ``choices`` (summing to 1) as written after ``opening``.

    Raises AnswerError when no listed alternative starts any choice: the model would not
    answer in the contract's terms, which is what a broken sampled answer meant before.
    """
    mass = _mass(next_tokens, opening, choices)
    total = sum(mass.values())
    if total <= 0:
        raise AnswerError(f"none of the likeliest next tokens after {opening!r} starts {' or '.join(map(repr, choices))}")
    return {choice: mass.get(choice, 0.0) / total for choice in choices}


def value_mass(next_tokens: NextTokens, opening: str, choices: Sequence[str]) -> float:
    """How much of the probability after ``opening`` goes to writing one of ``choices``.

    Near 1 where the server continues the opening and the model answers in its terms;
    near 0 where the model writes something else, such as a new answer from its start.
    """
    return sum(_mass(next_tokens, opening, choices).values())


def _mass(next_tokens: NextTokens, opening: str, choices: Sequence[str]) -> dict[str, float]:
    return _walk(next_tokens, opening, {choice: choice for choice in choices}, 1.0, 0)


def _walk(next_tokens: NextTokens, prefill: str, left: Mapping[str, str], weight: float, depth: int) -> dict[str, float]:
    """Mass per choice below ``prefill``; ``left`` maps each choice to its unwritten rest."""
    mass: dict[str, float] = {}
    for token, p in next_tokens(prefill).items():
        rests = {choice: rest for choice, r in left.items()
                 if (rest := _after(r, token, r.lstrip() == choice.lstrip())) is not None}
        if len(rests) == 1 or (rests and all(rest == "" for rest in rests.values())):
            choice = next(iter(rests))
            mass[choice] = mass.get(choice, 0.0) + weight * p
        elif rests and depth < MAX_DEPTH and weight * p >= MIN_MASS:
            for choice, m in _walk(next_tokens, prefill + token, rests, weight * p, depth + 1).items():
                mass[choice] = mass.get(choice, 0.0) + m
    return mass


def _after(rest: str, token: str, at_start: bool) -> str | None:
    """What is left of ``rest`` once ``token`` is written, or None if the token leaves it.

    Before a value (``at_start``) whitespace means nothing in JSON: a token may drop the
    value's leading space, or bring one back that a server's renderer trimmed from the end
    of the prefill (the model then writes it again). Inside a value every character counts.
    A token that writes the rest and more (`` true}``) completes it.
    """
    if not token or (token.isspace() and not rest.startswith(token)):
        # Whitespace other than the value's own leading space ('\n' before ' true') is left
        # out: following it would cost a request for a sliver of mass.
        return None
    if at_start and not token.isspace():
        rest, token = rest.lstrip(), token.lstrip()
    if rest.startswith(token):
        return rest[len(token):]
    if rest and token.startswith(rest):
        return ""
    return None
