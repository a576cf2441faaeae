"""Server URLs: the one parser for ``--host``, ``model.host``, ``model.hosts`` and $OLLAMA_HOST.

Every server URL a user gives goes through ``server_url`` where the profile is read
(``profile.load``) and where settings are resolved (``tactful.settings``), so a typo is
one line naming the value and what is wrong with it, before any request is made: not a
traceback from deep inside an HTTP client, nor five retries against a scheme that no
client speaks.

The form it returns is explicit, ``scheme://host:port[/path]``, and parsing it again
gives it back unchanged. What is left out follows Ollama's own rules for $OLLAMA_HOST: no
scheme means http on the backend's port (11434 for Ollama), http means port 80, https
443. Surrounding whitespace (a pasted URL's trailing space) is stripped; whitespace
inside a URL is refused.
"""

from __future__ import annotations

import ipaddress
import os
import re

from tactful.errors import UsageError

OLLAMA_PORT = 11434
DEFAULT_OLLAMA_URL = f"http://127.0.0.1:{OLLAMA_PORT}"
HTTP_PORT = 80
SCHEMES = {"http": HTTP_PORT, "https": 443}
OLLAMA_HOST_ENV = "OLLAMA_HOST"

# A DNS name or IPv4 address: dot-separated labels (underscores too, as container names have).
_HOSTNAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?")


class BadURL(ValueError):
    """Why a text is not a server URL: one phrase, which the caller places after the value."""


def server_url(raw: str, default_port: int = HTTP_PORT) -> str:
    """``raw`` as ``scheme://host:port[/path]``; ``default_port`` is the port of a URL with no scheme.

    Raises ``BadURL`` saying what is wrong: a scheme other than http or https, no host,
    a port outside 1..65535, whitespace inside, a query, a fragment or credentials.
    """
    text = raw.strip()
    if not text:
        raise BadURL("it is empty: write http://HOST:PORT")
    if any(char.isspace() for char in text):
        raise BadURL("it contains whitespace")
    if "?" in text or "#" in text:
        raise BadURL("a server URL takes no query or fragment ('?', '#')")
    scheme, written, rest = text.partition("://")
    if written:
        scheme = scheme.lower()
        if scheme not in SCHEMES:
            raise BadURL(f"the scheme must be http or https, not '{scheme}'")
        port = SCHEMES[scheme]
    else:
        scheme, rest, port = "http", text, default_port
    netloc, slash, path = rest.partition("/")
    if "@" in netloc:
        raise BadURL("credentials do not belong in the URL (the openai backend reads a key from model.api_key_env)")
    named = netloc.partition(":")[0].lower()
    if not written and named in SCHEMES:  # `http:/x` or `http//x`: a scheme whose '://' was mistyped
        raise BadURL(f"'{named}' is a scheme, not a host: write {named}://HOST:PORT")
    host, port = _host_and_port(netloc, port)
    return f"{scheme}://{host}:{port}{'/' + path.strip('/') if slash and path.strip('/') else ''}"


def _host_and_port(netloc: str, default_port: int) -> tuple[str, int]:
    """The host (lowercase; an IPv6 address in brackets) and the port of ``host[:port]``."""
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            raise BadURL("an IPv6 address needs its closing ']'")
        host, after = netloc[: end + 1], netloc[end + 1:]
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise BadURL(f"'{host}' is not an IPv6 address") from None
        if after and not after.startswith(":"):
            raise BadURL(f"'{after}' after the address: write [ADDRESS]:PORT")
        port_text: str | None = after[1:] if after else None
    else:
        host, colon, port_text = netloc.partition(":")
        port_text = port_text if colon else None
        if not host:
            raise BadURL("it names no host: write http://HOST:PORT")
        if not _HOSTNAME.fullmatch(host):
            raise BadURL(f"'{host}' is not a host name")
    return host.lower(), default_port if port_text is None else _port(port_text)


def _port(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        raise BadURL(f"the port must be a number from 1 to 65535, not '{text}'")
    return int(text)


def setting_url(raw: str, source: str, default_port: int = HTTP_PORT) -> str:
    """``server_url`` for a value the user gave as ``source`` (--host, $OLLAMA_HOST): a bad one
    is a UsageError (exit 2) naming it."""
    try:
        return server_url(raw, default_port)
    except BadURL as exc:
        raise UsageError(f"{source} {raw!r} is not a server URL: {exc}") from None


def ollama_url(host: str | None, source: str = "--host") -> str:
    """An Ollama server's URL: ``host``, else $OLLAMA_HOST, else localhost:11434 (Ollama's order)."""
    if host is not None:
        return setting_url(host, source, OLLAMA_PORT)
    env = os.environ.get(OLLAMA_HOST_ENV, "")
    return setting_url(env, f"${OLLAMA_HOST_ENV}", OLLAMA_PORT) if env.strip() else DEFAULT_OLLAMA_URL
