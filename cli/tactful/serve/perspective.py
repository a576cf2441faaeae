"""Perspective's wire format: comments:analyze and comments:suggestscore.

Field for field as Perspective's v1alpha1 API: a client that sends what it sent to
commentanalyzer.googleapis.com gets what it read from there. Scores are the profile's
category probabilities (calibrated when the profile is), always of type PROBABILITY.
What tactful cannot do the way Perspective did is said, not faked: a span score covers
the whole comment, and languages are not detected (docs/server.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tactful.errors import IOFailure
from tactful.records import InputRecord
from tactful.serve import fields
from tactful.serve.attributes import AttributeMap
from tactful.serve.problems import ApiError
from tactful.serve.service import scores_of

if TYPE_CHECKING:
    from tactful.serve.service import Service

ANALYZE_FIELDS = ("comment", "context", "requestedAttributes", "languages", "doNotStore", "spanAnnotations",
                  "clientToken", "sessionId", "communityId")
SUGGEST_FIELDS = ("comment", "context", "attributeScores", "languages", "communityId", "clientToken")
COMMENT_FIELDS = ("text", "type")
CONTEXT_FIELDS = ("entries",)
REQUESTED_FIELDS = ("scoreType", "scoreThreshold")
SCORE_FIELDS = ("summaryScore", "spanScores")
SUMMARY_FIELDS = ("value", "type")
PROBABILITY = "PROBABILITY"
DEFAULT_LANGUAGES = ["en"]  # what Perspective assumed; tactful detects none (the model reads any)
SUGGESTED = 0.5  # a suggested score at or above this says the attribute applies


@dataclass(frozen=True)
class Requested:
    name: str
    slug: str
    threshold: float | None  # scores below it are left out of the answer


@dataclass(frozen=True)
class Comment:
    """A comment and the thread before it, as both methods take them."""

    text: str
    context: tuple[str, ...]
    languages: list[str]
    client_token: str | None


@dataclass(frozen=True)
class Analyze:
    comment: Comment
    requested: tuple[Requested, ...]
    store: bool
    spans: bool


async def analyze(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    request = parse_analyze(body, service.attributes)
    record = InputRecord("comment", request.comment.text, {}, "comment", context=request.comment.context)
    [result] = await service.judge([record], store=request.store)
    return analyze_response(request, scores_of(result.moderation, service.attributes.slugs))


async def suggest_score(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    comment, labels = parse_suggestion(body, service.attributes)
    if service.suggestions is None:
        raise ApiError(400, "this server keeps no suggestions: start it with --suggestions FILE", status="FAILED_PRECONDITION")
    try:
        await asyncio.to_thread(service.suggestions.append, comment.text, labels)  # synced: blocks
    except IOFailure as exc:
        raise ApiError(500, f"the suggestion could not be saved: {exc.message}") from None
    return _echo(comment, {})


def parse_analyze(body: Mapping[str, Any], attributes: AttributeMap) -> Analyze:
    fields.only(body, ANALYZE_FIELDS)
    for key in ("sessionId", "communityId"):
        fields.text(body, key)  # accepted, as Perspective did; they change no score
    requested = fields.mapping(body, "requestedAttributes", required=True) or {}
    if not requested:
        raise ApiError(400, "requestedAttributes is empty: name at least one attribute, e.g. TOXICITY",
                       param="requestedAttributes")
    return Analyze(
        comment=_comment(body),
        requested=tuple(_requested(name, options, attributes) for name, options in requested.items()),
        store=not fields.boolean(body, "doNotStore"),
        spans=fields.boolean(body, "spanAnnotations"),
    )


def parse_suggestion(body: Mapping[str, Any], attributes: AttributeMap) -> tuple[Comment, list[str]]:
    """The comment and the slugs of the attributes its sender says apply."""
    fields.only(body, SUGGEST_FIELDS)
    fields.text(body, "communityId")
    scores = fields.mapping(body, "attributeScores", required=True) or {}
    if not scores:
        raise ApiError(400, "attributeScores is empty: give the score you suggest for at least one attribute",
                       param="attributeScores")
    labels: list[str] = []
    for name, score in scores.items():
        slug = attributes.slug(name)
        if _suggested(name, score) >= SUGGESTED and slug not in labels:
            labels.append(slug)
    return _comment(body), labels


def analyze_response(request: Analyze, scores: Mapping[str, float]) -> dict[str, Any]:
    answered: dict[str, Any] = {}
    for wanted in request.requested:
        value = round(scores.get(wanted.slug, 0.0), 6)
        if wanted.threshold is not None and value < wanted.threshold:
            continue
        score = {"value": value, "type": PROBABILITY}
        answered[wanted.name] = {"summaryScore": score}
        if request.spans:  # one span, the whole comment: tactful judges a text whole
            answered[wanted.name]["spanScores"] = [{"begin": 0, "end": len(request.comment.text), "score": score}]
    return _echo(request.comment, {"attributeScores": answered})


def _echo(comment: Comment, answer: dict[str, Any]) -> dict[str, Any]:
    """The fields every answer repeats from its request."""
    answer.update(languages=comment.languages, detectedLanguages=comment.languages)
    if comment.client_token is not None:
        answer["clientToken"] = comment.client_token
    return answer


def _comment(body: Mapping[str, Any]) -> Comment:
    comment = fields.mapping(body, "comment", required=True) or {}
    fields.only(comment, COMMENT_FIELDS, "comment")
    _plain_text(comment, "comment")
    return Comment(
        text=fields.text(comment, "text", "comment", required=True) or "",
        context=_context(body),
        languages=fields.strings(body, "languages") or DEFAULT_LANGUAGES,
        client_token=fields.text(body, "clientToken"),
    )


def _context(body: Mapping[str, Any]) -> tuple[str, ...]:
    context = fields.mapping(body, "context")
    if context is None:
        return ()
    fields.only(context, CONTEXT_FIELDS, "context")
    texts = []
    for number, entry in enumerate(fields.items(context, "entries", "context")):
        where = f"context.entries[{number}]"
        if not isinstance(entry, dict):
            raise ApiError(400, f"{where} must be an object with a text", param=where)
        fields.only(entry, COMMENT_FIELDS, where)
        _plain_text(entry, where)
        texts.append(fields.text(entry, "text", where, required=True) or "")
    return tuple(texts)


def _plain_text(part: Mapping[str, Any], where: str) -> None:
    kind = fields.text(part, "type", where)
    if kind not in (None, "PLAIN_TEXT"):
        raise ApiError(400, f"{where}.type {kind} is not supported: send the text as PLAIN_TEXT", param=f"{where}.type")


def _requested(name: str, options: Any, attributes: AttributeMap) -> Requested:
    where = f"requestedAttributes.{name}"
    if not isinstance(options, dict):
        raise ApiError(400, f"{where} must be an object ({{}} for the defaults)", param=where)
    fields.only(options, REQUESTED_FIELDS, where)
    kind = fields.text(options, "scoreType", where)
    if kind not in (None, PROBABILITY):
        raise ApiError(400, f"{where}.scoreType {kind} is not supported: scores are of type {PROBABILITY}",
                       param=f"{where}.scoreType")
    return Requested(name, attributes.slug(name), fields.probability(options, "scoreThreshold", where))


def _suggested(name: str, score: Any) -> float:
    where = f"attributeScores.{name}"
    if not isinstance(score, dict):
        raise ApiError(400, f"{where} must be an object with a summaryScore", param=where)
    fields.only(score, SCORE_FIELDS, where)
    summary = fields.mapping(score, "summaryScore", where, required=True) or {}
    fields.only(summary, SUMMARY_FIELDS, f"{where}.summaryScore")
    return fields.probability(summary, "value", f"{where}.summaryScore", required=True) or 0.0
