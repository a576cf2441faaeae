"""Listening: the socket, uvicorn, and a graceful stop.

The socket is bound before the model loads, so a port in use is one line and exit 2 at
once, not after a minute of loading. On SIGTERM or Ctrl-C uvicorn stops accepting,
lets the requests in flight finish (up to the request timeout), then re-raises the
signal; the command turns that into its exit code (143 or 130) after closing the engine.
"""

from __future__ import annotations

import socket
import sys

import uvicorn

from tactful.errors import UsageError
from tactful.io.console import say
from tactful.serve.app import create_app
from tactful.serve.service import ServeOptions, Service
from tactful.settings import Settings


def listen(settings: Settings, options: ServeOptions, address: str, port: int) -> None:
    """Bind, load the model, say where, and answer until a signal stops the server."""
    sock = bind(address, port)
    try:
        service = Service(settings, options)
        try:
            service.warm_up()
            say(f"tactful: serving profile {service.profile_name} with {service.model} (prompt {service.fingerprint}) "
                f"on {url_of(sock)}; Ctrl-C to stop", sys.stderr)
            serve(service, sock)
        finally:
            service.close()
    finally:
        sock.close()

def bind(address: str, port: int) -> socket.socket:
    """A listening socket, or a UsageError that says why not."""
    try:
        infos = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"--bind {address}: {exc.strerror or exc}") from None
    family, kind, proto, _, where = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(where)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise UsageError(f"--bind {address} --port {port}: {exc.strerror or exc} (choose another --port, or 0 for any free one)") from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def serve(service: Service, sock: socket.socket) -> None:
    """Answer on ``sock`` until a signal stops the server."""
    config = uvicorn.Config(
        create_app(service),
        log_config=None,  # uvicorn's own lines go through logging, to the handler main installs
        log_level="warning",
        access_log=False,  # its access line holds the query string, and so the ?key=
        lifespan="off",
        timeout_graceful_shutdown=int(service.options.timeout) + 5,
    )
    uvicorn.Server(config).run(sockets=[sock])
