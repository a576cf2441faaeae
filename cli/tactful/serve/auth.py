"""The API key, when the server needs one.

Clients send it as Perspective's clients do (``?key=KEY``), as OpenAI's do
(``Authorization: Bearer KEY``) or as Google's client libraries may (``x-goog-api-key``).
It is compared in constant time, and no message or log line ever quotes what was sent.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from tactful.serve.problems import ApiError

if TYPE_CHECKING:  # starlette loads with the app, not with the command's --help
    from starlette.requests import Request

ENV_KEY = "TACTFUL_SERVE_KEY"


class KeyCheck:
    def __init__(self, key: str | None) -> None:
        self._key = key.encode("utf-8") if key else None

    @property
    def required(self) -> bool:
        return self._key is not None

    def check(self, request: Request) -> None:
        """Pass, or raise 401 (no key sent) or 403 (a wrong one)."""
        if self._key is None:
            return
        given = _sent_key(request)
        if given is None:
            raise ApiError(401, "this server needs an API key: send ?key=KEY or the header "
                                "Authorization: Bearer KEY", code="missing_api_key")
        if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), self._key):
            raise ApiError(403, "the API key is not valid for this server", code="invalid_api_key")


def _sent_key(request: Request) -> str | None:
    if "key" in request.query_params:
        return request.query_params["key"]
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-goog-api-key")
