"""Reading a request body field by field: each mistake is a 400 naming the field.

The APIs served here are strict about their schema (Google's JSON-to-protobuf parser
refuses unknown fields, OpenAI refuses unknown arguments), and so is this: a misspelt
``doNotstore`` silently ignored would store a text its sender asked not to store.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from typing import Any

from tactful.serve.problems import ApiError

# Perspective refuses comments over 20 KB; the same bound keeps every API's texts to
# what one model call judges in reasonable time.
MAX_TEXT_BYTES = 20_480


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, f"Invalid JSON payload received: {_reason(exc)}") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"Invalid JSON payload received: expected an object, got {_kind(body)}")
    return body


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return "the body is not UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)


def only(body: Mapping[str, Any], allowed: Collection[str], where: str = "") -> None:
    """Refuse any field ``body`` has beyond ``allowed``."""
    unknown = [key for key in body if key not in allowed]
    if unknown:
        place = f" in {where}" if where else ""
        raise ApiError(400, f'Unknown field "{unknown[0]}"{place}; known fields: {", ".join(allowed)}',
                       param=_join(where, unknown[0]))


def mapping(body: Mapping[str, Any], key: str, where: str = "", required: bool = False) -> dict[str, Any] | None:
    """An object field (None when absent and not required)."""
    value = _get(body, key, where, required)
    if value is None or isinstance(value, dict):
        return value
    raise _wrong(key, where, "an object", value)


def text(body: Mapping[str, Any], key: str, where: str = "", required: bool = False) -> str | None:
    """A string field; a required one must hold some text, within ``MAX_TEXT_BYTES``."""
    value = _get(body, key, where, required)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _wrong(key, where, "a string", value)
    if required:
        checked_text(value, _join(where, key))
    return value


def checked_text(value: str, name: str) -> str:
    """A text to judge: not blank, not over ``MAX_TEXT_BYTES`` of UTF-8."""
    if not value.strip():
        raise ApiError(400, f"{name} is empty: send the text to judge", param=name)
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate (\ud800 in the JSON): no text can hold one
        raise ApiError(400, f"{name} holds a character that is not valid Unicode (a lone surrogate)", param=name) from None
    if size > MAX_TEXT_BYTES:
        raise ApiError(400, f"{name} is {size} bytes; the limit is {MAX_TEXT_BYTES} bytes of UTF-8", param=name)
    return value


def boolean(body: Mapping[str, Any], key: str, where: str = "") -> bool:
    """A boolean field, false when absent."""
    value = _get(body, key, where, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _wrong(key, where, "true or false", value)
    return value


def probability(body: Mapping[str, Any], key: str, where: str = "", required: bool = False) -> float | None:
    """A number from 0 to 1."""
    value = _get(body, key, where, required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _wrong(key, where, "a number", value)
    if not 0 <= value <= 1:
        raise ApiError(400, f"{_join(where, key)} is {value}; expected a number from 0 to 1", param=_join(where, key))
    return float(value)


def strings(body: Mapping[str, Any], key: str, where: str = "") -> list[str]:
    """A list of strings, empty when absent."""
    value = _get(body, key, where, False)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _wrong(key, where, "a list of strings", value)
    return value


def items(body: Mapping[str, Any], key: str, where: str = "") -> list[Any]:
    """A list field, empty when absent."""
    value = _get(body, key, where, False)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _wrong(key, where, "a list", value)
    return value


def _get(body: Mapping[str, Any], key: str, where: str, required: bool) -> Any:
    value = body.get(key)
    if value is None and required:
        raise ApiError(400, f"{_join(where, key)} is required", param=_join(where, key))
    return value


def _wrong(key: str, where: str, expected: str, value: Any) -> ApiError:
    name = _join(where, key)
    return ApiError(400, f"{name} must be {expected}, got {_kind(value)}", param=name)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: Any) -> str:
    """A JSON value's type as JSON names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else "a number"
