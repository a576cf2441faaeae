"""OpenAI's moderation format: POST /v1/moderations.

``input`` is a text, a list of texts, or a list of ``{"type": "text", "text": ...}``
parts; each comes back as a result with ``flagged`` (the profile's decision, true when a blocked category is),
``categories`` and ``category_scores`` under OpenAI's category names (mapped as
``profile.schema.OPENAI_DEFAULTS`` and the profile's [serve.openai] say), then each of
the profile's own categories under its slug. ``model`` is accepted and answered with the
model that judged.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from tactful.records import InputRecord, Result
from tactful.serve import fields
from tactful.serve.attributes import AttributeMap
from tactful.serve.problems import ApiError
from tactful.serve.service import scores_of

if TYPE_CHECKING:
    from tactful.serve.service import Service

MODERATION_FIELDS = ("input", "model")
PART_FIELDS = ("type", "text")
MAX_INPUTS = 32  # texts in one request


async def moderations(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    texts = parse_moderation(body)
    records = [InputRecord(str(number), text, {}, f"input[{number}]") for number, text in enumerate(texts)]
    results = await service.judge(records)
    return {
        "id": f"modr-{uuid.uuid4().hex}",
        "model": service.model,
        "results": [_result(result, service.attributes, service.blocked) for result in results],
    }


def parse_moderation(body: dict[str, Any]) -> list[str]:
    """The texts to judge, in order."""
    fields.only(body, MODERATION_FIELDS)
    fields.text(body, "model")
    value = body.get("input")
    if isinstance(value, str):
        return [fields.checked_text(value, "input")]
    if not isinstance(value, list) or not value:
        raise ApiError(400, "input must be a string or a non-empty list of strings or text parts", param="input")
    if len(value) > MAX_INPUTS:
        raise ApiError(400, f"input holds {len(value)} items; send at most {MAX_INPUTS} in one request", param="input")
    return [_text(item, f"input[{number}]") for number, item in enumerate(value)]


def _text(item: Any, where: str) -> str:
    if isinstance(item, str):
        return fields.checked_text(item, where)
    if not isinstance(item, dict):
        raise ApiError(400, f"{where} must be a string or a text part", param=where)
    if item.get("type") != "text":
        raise ApiError(400, f"{where}: only text parts ({{\"type\": \"text\", \"text\": ...}}) are judged here", param=where)
    fields.only(item, PART_FIELDS, where)
    return fields.text(item, "text", where, required=True) or ""


def _result(result: Result, attributes: AttributeMap, blocked: Collection[str]) -> dict[str, Any]:
    """One text's result; a category is true only where the profile blocks it (a label of
    a category the community allows, say negative sentiment, is no violation)."""
    moderation = result.moderation
    scores = attributes.openai_scores({slug: round(p, 6) for slug, p in scores_of(moderation, attributes.slugs).items()})
    return {
        "flagged": bool(moderation.flagged),
        "categories": attributes.openai_categories(label for label in moderation.labels if label in blocked),
        "category_scores": scores,
        "category_applied_input_types": {category: ["text"] for category in scores},
    }
