"""Per-category probabilities from the token log-probabilities of the answer.

The answer is JSON whose decision values (``true``/``false``, or a category slug) sit at
known keys. For each such value we find the generated token where it starts, read the
alternatives the model weighed there, keep those that spell the start of a legal value,
and renormalise over the legal values. Nothing is estimated when the alternatives are
missing: the score is left out instead.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence

from tactful.backends.base import TokenLogprob
from tactful.engine.answer import FLAGGED_KEY, Contract


def scores_from_logprobs(content: str, tokens: Sequence[TokenLogprob], contract: Contract) -> dict[str, float] | None:
    offsets = _token_offsets(tokens)
    if "".join(t.token for t in tokens) != content:
        return None  # tokens do not spell the answer: positions would be guesses
    # The flag's score; its name is sampled after it, without scores.
    p = _value_distribution(content, tokens, offsets, FLAGGED_KEY, ("true", "false"))
    return None if p is None else {FLAGGED_KEY: p["true"]}


def _token_offsets(tokens: Sequence[TokenLogprob]) -> list[int]:
    offsets, position = [], 0
    for token in tokens:
        offsets.append(position)
        position += len(token.token)
    return offsets


def _value_start(content: str, key: str) -> int | None:
    """Character offset where the value of ``key`` begins (after a string's quote)."""
    match = re.search(rf'"{re.escape(json.dumps(key)[1:-1])}"\s*:\s*("?)', content)
    return match.end() if match else None


def _value_distribution(
    content: str,
    tokens: Sequence[TokenLogprob],
    offsets: list[int],
    key: str,
    choices: Sequence[str],
) -> dict[str, float] | None:
    start = _value_start(content, key)
    if start is None:
        return None
    index = max(i for i, off in enumerate(offsets) if off <= start)
    token, skip = tokens[index], start - offsets[index]
    alternatives = dict(token.top) or {token.token: token.logprob}
    alternatives.setdefault(token.token, token.logprob)
    mass = {choice: 0.0 for choice in choices}
    for text, logprob in alternatives.items():
        if text[:skip] != token.token[:skip]:
            continue  # differs before the value starts: another path, not another value
        piece = text[skip:].lstrip()
        matching = [c for c in choices if piece and (c.startswith(piece) or piece.startswith(c))]
        for choice in matching:
            mass[choice] += math.exp(logprob) / len(matching)
    total = sum(mass.values())
    if total <= 0:
        return None
    return {choice: value / total for choice, value in mass.items()}
