"""Building the messages sent to the model, from the templates in ``prompts/``.

Layout, for speed and for safety: the system message (instructions, definitions, output
contract) and the fixed examples come first and are byte-identical from item to item, so
a server reuses its cached prefix; examples chosen per item come next; the text comes
last, JSON-encoded inside a fixed frame so that nothing in it can pass for instructions.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any

from tactful.backends.base import Message
from tactful.bank.store import Example
from tactful.engine.answer import Contract
from tactful.profile.load import Profile

if TYPE_CHECKING:
    from tactful.io.images import Picture

# For measuring the defences only (benchmarks/adversarial.py): "plain" swaps in the
# unhardened templates, system.plain.txt and item.plain.txt. Not a user setting.
VARIANT_ENV = "TACTFUL_PROMPT_VARIANT"


def template(name: str, variant: str = "") -> Template:
    return _load(name, variant)


@cache
def _load(name: str, variant: str) -> Template:
    prompts = resources.files("tactful.prompts")
    variant_file = prompts.joinpath(f"{name}.{variant}.txt")
    chosen = variant_file if variant and variant_file.is_file() else prompts.joinpath(f"{name}.txt")
    return Template(chosen.read_text("utf-8").rstrip("\n"))


def render(name: str, variant: str = "", **values: str) -> str:
    return template(name, variant).substitute(values)


@dataclass(frozen=True)
class ItemParts:
    """What an item brings besides its text."""

    context: tuple[str, ...] = ()  # the thread's earlier messages, oldest first
    image: Picture | None = None  # judged, with the text as its caption
    whole_thread: bool = False  # judge the conversation (context and text together)


NO_PARTS = ItemParts()


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
        # Read once per builder (once per run), never per template lookup.
        self.variant = os.environ.get(VARIANT_ENV, "")
        self.contract = Contract.for_profile(profile)
        self.fixed_examples: tuple[Example, ...] = tuple(fixed_examples)
        self.schema = self.contract.schema()
        self.fixed_messages: list[Message] = [
            {"role": "system", "content": self._system_text()},
            *self.example_turns(fixed_examples),
        ]
        self.fingerprint = _fingerprint(self.fixed_messages, self.schema)

    def build(self, text: str, item_examples: Sequence[Example] = (), parts: ItemParts = NO_PARTS) -> Prompt:
        """The prompt for one text, with what ``parts`` adds: thread context, an image, or
        the whole thread to judge. They go in the last user turn, after the fixed prefix,
        so a server's prefix cache still serves; a text without them gets the plain item.
        """
        if parts.whole_thread:
            item = thread_turn([*parts.context, text], self.variant)
        elif parts.image is not None:
            item = image_turn(parts.image, text, self.variant, parts.context)
        else:
            item = user_turn(text, self.variant, parts.context)
        messages = [*self.fixed_messages, *self.example_turns(item_examples), item]
        return Prompt(messages, self.schema, self.fingerprint)

    def example_turns(self, examples: Sequence[Example]) -> list[Message]:
        turns: list[Message] = []
        for example in examples:
            turns.append(user_turn(example.text, self.variant))
            answer = self.contract.answer_for(example.labels, example.rationale)
            turns.append({"role": "assistant", "content": answer})
        return turns

    def _system_text(self) -> str:
        profile, contract = self.profile, self.contract
        blocked = _definitions(profile.blocked) or "- (none: nothing is blocked)"
        allowed = (
            render("allowed", self.variant, allowed_list=_definitions(profile.allowed))
            if profile.allowed
            else render("allowed_none", self.variant)
        )
        rationale = render("rationale", self.variant) if contract.explain else ""
        contract_text = render("contract", self.variant, rationale=rationale)
        return render(
            "system",
            self.variant,
            blocked=blocked,
            allowed=allowed,
            mode_rules=render("mode", self.variant),
            contract=contract_text,
        )


def user_turn(text: str, variant: str = "", context: Sequence[str] = ()) -> Message:
    if context:
        content = render("item_context", variant, text=frame(text), context=frame_list(context))
    else:
        content = render("item", variant, text=frame(text), raw=text)
    return {"role": "user", "content": content}


def image_turn(image: Picture, caption: str, variant: str = "", context: Sequence[str] = ()) -> Message:
    lead = render("image_context", variant, context=frame_list(context)) + "\n" if context else ""
    content = render("item_image", variant, text=frame(caption), context=lead)
    return {"role": "user", "content": content, "images": [image.base64()]}


def thread_turn(messages: Sequence[str], variant: str = "") -> Message:
    return {"role": "user", "content": render("item_thread", variant, thread=frame_list(messages))}


def frame_list(texts: Sequence[str]) -> str:
    """Several texts as one JSON list on one line, each framed as ``frame`` frames one."""
    return "[" + ", ".join(frame(text) for text in texts) + "]"


# "<|im_start|>", "</s>", "<start_of_turn>", "[INST]": servers that tokenize the rendered
# chat with special tokens enabled (Ollama, ollama/ollama#15931) would read these in a
# text as the real control tokens and let it open a turn of its own.
_CONTROL_LOOKALIKE = re.compile(r"<(?=[|\uff5c/!<A-Za-z])|\[(?=/?INST\])", re.IGNORECASE)


def frame(text: str) -> str:
    """The text as a JSON string that cannot close the frame or forge a chat turn.

    json.dumps escapes quotes, backslashes and line breaks; the "<" or "[" that starts a
    control-token look-alike becomes a \\u escape, so the string still decodes to exactly
    the text while no tokenizer can match the marker.
    """
    encoded = json.dumps(text, ensure_ascii=False)
    return _CONTROL_LOOKALIKE.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


def _definitions(categories: Sequence[Any]) -> str:
    return "\n".join(f"- {c.slug}: {c.description}" for c in categories)


def _fingerprint(messages: list[Message], schema: dict[str, Any]) -> str:
    blob = json.dumps({"messages": messages, "schema": schema}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
