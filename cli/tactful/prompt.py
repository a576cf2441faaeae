"""Building the messages sent to the model, from the templates in ``prompts/``.

Layout, for speed and for safety: the system message (instructions, definitions, output
contract) and the fixed examples come first and are byte-identical from item to item, so
a server reuses its cached prefix; examples chosen per item come next; the text comes
last, JSON-encoded inside a fixed frame so that nothing in it can pass for instructions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from string import Template
from typing import Any

from tactful.answer import Contract
from tactful.example_bank import Example
from tactful.profile import Profile

Message = dict[str, str]


@lru_cache(maxsize=None)
def template(name: str) -> Template:
    text = resources.files("tactful.prompts").joinpath(f"{name}.txt").read_text("utf-8")
    return Template(text.rstrip("\n"))


def render(name: str, **values: str) -> str:
    return template(name).substitute(values)


@dataclass(frozen=True)
class Prompt:
    """Everything the backend needs for one item."""

    messages: list[Message]
    schema: dict[str, Any]
    fingerprint: str


class PromptBuilder:
    """Builds prompts for one profile; the fixed part is computed once."""

    def __init__(self, profile: Profile, fixed_examples: Sequence[Example] = ()) -> None:
        self.profile = profile
        self.contract = Contract.for_profile(profile)
        self.schema = self.contract.schema()
        self.fixed_messages: list[Message] = [
            {"role": "system", "content": self._system_text()},
            *self.example_turns(fixed_examples),
        ]
        self.fingerprint = _fingerprint(self.fixed_messages, self.schema)

    def build(self, text: str, item_examples: Sequence[Example] = ()) -> Prompt:
        messages = [*self.fixed_messages, *self.example_turns(item_examples), user_turn(text)]
        return Prompt(messages, self.schema, self.fingerprint)

    def example_turns(self, examples: Sequence[Example]) -> list[Message]:
        turns: list[Message] = []
        for example in examples:
            turns.append(user_turn(example.text))
            answer = self.contract.answer_for(example.labels, example.rationale)
            turns.append({"role": "assistant", "content": answer})
        return turns

    def _system_text(self) -> str:
        profile, contract = self.profile, self.contract
        blocked = _definitions(profile.blocked) or "- (none: nothing is blocked)"
        allowed = (
            render("allowed", allowed_list=_definitions(profile.allowed))
            if profile.allowed
            else render("allowed_none")
        )
        rationale = render("rationale") if contract.explain else ""
        keys = ", ".join(f'"{slug}"' for slug in contract.all_slugs)
        contract_text = render(f"contract_{contract.mode}", rationale=rationale, keys=keys)
        return render(
            "system",
            blocked=blocked,
            allowed=allowed,
            mode_rules=render(f"mode_{contract.mode}"),
            contract=contract_text,
        )


def user_turn(text: str) -> Message:
    # json.dumps escapes quotes, backslashes and newlines: the text cannot close the frame.
    return {"role": "user", "content": render("item", text=json.dumps(text, ensure_ascii=False))}


def _definitions(categories: Sequence[Any]) -> str:
    return "\n".join(f"- {c.slug}: {c.description}" for c in categories)


def _fingerprint(messages: list[Message], schema: dict[str, Any]) -> str:
    blob = json.dumps({"messages": messages, "schema": schema}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
