"""What goes wrong in a request, and how each API spells it on the wire.

A handler raises ``ApiError(http_status, message, param=...)`` and never builds an error
body itself; the app renders it in the shape of the API the path belongs to, so one
mistake reads the same to a Perspective client and to an OpenAI client, each in its own
terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# google.rpc.Code names by HTTP status, as Google's APIs pair them.
GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
# OpenAI's error "type" by HTTP status.
OPENAI_TYPE = {
    401: "invalid_request_error",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "server_error",
    504: "server_error",
}


@dataclass
class ApiError(Exception):
    """A request that cannot be answered: its HTTP status and one sentence for the caller.

    ``param`` names the field at fault (OpenAI's ``param``); ``status`` overrides the
    Google status the HTTP code implies (``FAILED_PRECONDITION`` is a 400 too); ``code``
    is OpenAI's machine-readable code (``invalid_api_key``).
    """

    http_status: int
    message: str
    param: str | None = None
    status: str | None = None
    code: str | None = None

    def __str__(self) -> str:
        return self.message


def google_body(error: ApiError) -> dict[str, Any]:
    """Google's error body (google.rpc.Status as JSON), which Perspective's clients read."""
    status = error.status or GOOGLE_STATUS.get(error.http_status, "UNKNOWN")
    return {"error": {"code": error.http_status, "message": error.message, "status": status}}


def openai_body(error: ApiError) -> dict[str, Any]:
    """OpenAI's error body, which the openai SDK turns into its typed exceptions."""
    kind = OPENAI_TYPE.get(error.http_status, "invalid_request_error")
    return {"error": {"message": error.message, "type": kind, "param": error.param, "code": error.code}}
