"""The Starlette application: paths to handlers, and every answer in its API's shape.

Each handler takes the parsed body and returns the answer; all that is common to them
happens here once: the key, the body limit, JSON parsing, provenance headers, the access
line, and turning whatever went wrong into the error body of the API the path belongs
to: OpenAI's under /v1/ (but /v1/classify), Google's everywhere else. No request ever
gets a traceback; a bug is logged (its type and place, never the request) and answered
500 in the right shape.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tactful.io.console import say
from tactful.serve import native, openai_format, perspective
from tactful.serve.discovery import discovery_document
from tactful.serve.fields import parse_body
from tactful.serve.problems import ApiError, google_body, openai_body
from tactful.serve.service import Service

Handler = Callable[[Service, dict[str, Any]], Awaitable[dict[str, Any]]]
Endpoint = Callable[[Request], Awaitable[Response]]
_log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1_048_576  # a comment, its thread and the JSON around them fit many times over
OPENAI_PATHS = "/v1/"
GOOGLE_SHAPED = ("/v1/classify",)  # under /v1/ but tactful's own: Google's error shape


def create_app(service: Service) -> Starlette:
    routes = [
        Route("/v1alpha1/comments:analyze", _endpoint(service, perspective.analyze), methods=["POST"]),
        Route("/v1alpha1/comments:suggestscore", _endpoint(service, perspective.suggest_score), methods=["POST"]),
        Route("/v1/moderations", _endpoint(service, openai_format.moderations), methods=["POST"]),
        Route("/v1/classify", _endpoint(service, native.classify), methods=["POST"]),
        Route("/healthz", _read_only(service, lambda _: _health(service)), methods=["GET"]),
        # The root URL the client reached: behind a proxy, the proxy's forwarded one.
        Route("/$discovery/rest", _read_only(service, lambda request: JSONResponse(
            discovery_document(str(request.base_url)))), methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: _routing_error})  # type: ignore[dict-item]


def error_response(path: str, error: ApiError) -> JSONResponse:
    """``error`` in the shape of the API ``path`` belongs to."""
    openai = path.startswith(OPENAI_PATHS) and not path.startswith(GOOGLE_SHAPED)
    body = openai_body(error) if openai else google_body(error)
    headers = {"Retry-After": "1"} if error.http_status == 429 else None
    return JSONResponse(body, status_code=error.http_status, headers=headers)


def _endpoint(service: Service, handler: Handler) -> Endpoint:
    async def respond(request: Request) -> Response:
        started = time.perf_counter()
        try:
            service.auth.check(request)
            answer = await handler(service, parse_body(await _body(request)))
            response: Response = JSONResponse(answer, headers=_provenance(service))
        except ApiError as error:
            response = error_response(request.url.path, error)
        except Exception as exc:  # a bug: the client gets the API's shape, the log its place
            _log.error(f"{request.method} {request.url.path}: internal error {_where(exc)}")
            response = error_response(request.url.path, ApiError(500, "internal error; the server's log says where"))
        _access(service, request, response.status_code, started)
        return response

    return respond


def _read_only(service: Service, answer: Callable[[Request], Response]) -> Endpoint:
    """A GET that reads no body: the key is still checked."""
    async def respond(request: Request) -> Response:
        try:
            service.auth.check(request)
        except ApiError as error:
            return error_response(request.url.path, error)
        return answer(request)

    return respond


def _health(service: Service) -> Response:
    """Ready (200) only once the model is loaded; what answers, and how busy it is."""
    return JSONResponse(service.info(), status_code=200 if service.ready else 503)


async def _routing_error(request: Request, exc: HTTPException) -> Response:
    """Starlette's 404 (no such path) and 405 (wrong method), in the API's shape."""
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        error = ApiError(405, f"{request.method} is not allowed on {request.url.path}; use {allowed or 'another method'}")
    elif exc.status_code == 404:
        error = ApiError(404, f"no such path: {request.url.path}")
    else:
        error = ApiError(exc.status_code, str(exc.detail))
    response = error_response(request.url.path, error)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _body(request: Request) -> bytes:
    """The request body, refused (413) past ``MAX_BODY_BYTES`` before it is all read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> ApiError:
    return ApiError(413, f"the request body is over {MAX_BODY_BYTES} bytes")


def _provenance(service: Service) -> dict[str, str]:
    """What judged, on every answer: the formats borrowed have no field for it."""
    return {"X-Tactful-Model": _header(service.model), "X-Tactful-Prompt": service.fingerprint,
            "X-Tactful-Profile": _header(service.profile_name)}


def _header(value: str) -> str:
    return value.encode("ascii", "backslashreplace").decode("ascii")  # headers are Latin-1 at most


def _where(exc: Exception) -> str:
    """An exception's type and innermost place: enough to find the bug, nothing of the request."""
    frames = traceback.extract_tb(exc.__traceback__)
    place = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{place}"


def _access(service: Service, request: Request, status: int, started: float) -> None:
    """One line per request with --access-log: method, path and status, never the query
    (it may hold the key) nor the body (it holds the text)."""
    if service.options.access_log:
        elapsed = (time.perf_counter() - started) * 1000
        say(f"tactful: serve: {request.method} {request.url.path} {status} {elapsed:.0f} ms", sys.stderr)
