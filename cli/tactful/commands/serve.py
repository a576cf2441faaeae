"""`tactful serve`: one warm process answering Perspective and OpenAI moderation clients."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from tactful.commands.options import (
    BackendOpt,
    HostOpt,
    JobsOpt,
    ModelOpt,
    ModeOpt,
    NoCacheOpt,
    ProfileOpt,
    RetriesOpt,
)
from tactful.errors import EXIT_OK, Stopped, UsageError
from tactful.io.destinations import claim, profile_files
from tactful.io.interrupts import stop_on_signals
from tactful.serve.addresses import is_loopback
from tactful.serve.auth import ENV_KEY
from tactful.serve.service import ServeOptions, serving_settings
from tactful.settings import Overrides, Settings, resolve

DEFAULT_PORT = 8080


def command(
    profile: ProfileOpt = None,
    model: ModelOpt = None,
    host: HostOpt = None,
    backend: BackendOpt = None,
    mode: ModeOpt = None,
    retries: RetriesOpt = None,
    jobs: JobsOpt = 1,
    no_cache: NoCacheOpt = False,
    address: Annotated[str, typer.Option("--bind", metavar="ADDRESS", help=f"The address to listen on; any but loopback needs ${ENV_KEY}.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", min=0, max=65535, help="The port to listen on (0: any free one, printed at start).")] = DEFAULT_PORT,
    queue: Annotated[int, typer.Option("--queue", metavar="N", min=0, max=10_000, help="Texts that may wait for the model beyond those it judges; more are refused with 429.")] = 32,
    timeout: Annotated[float, typer.Option("--timeout", metavar="SECONDS", min=1, max=3600, help="Seconds a request may wait for its answer before a 504.")] = 30.0,
    suggestions: Annotated[Path | None, typer.Option("--suggestions", metavar="FILE", show_default=False, help="Append comments:suggestscore corrections to this JSONL file, for review.")] = None,
    attribute: Annotated[list[str] | None, typer.Option("--attribute", metavar="NAME=SLUG", show_default=False, help="Answer attribute NAME with category SLUG, over the profile's [serve.attributes] (repeatable).")] = None,
    access_log: Annotated[bool, typer.Option("--access-log", metavar="", help="One line per request on stderr: method, path, status, time.")] = False,
) -> int:
    """Answer Perspective and OpenAI moderation clients over HTTP.

    \b
    Loads the profile and model once, then answers:
      POST /v1alpha1/comments:analyze       Perspective
      POST /v1alpha1/comments:suggestscore  Perspective (needs --suggestions)
      POST /v1/moderations                  OpenAI
      POST /v1/classify                     tactful's own records
      GET  /healthz                         ready, profile, model, prompt
    A profile's [serve] table remaps the attribute names; --attribute wins.
    Same engine, cache and calibration as `tactful classify`; doNotStore: the
    text is written to no cache and no log. Listens on 127.0.0.1 unless --bind
    says otherwise; then clients send the key in $TACTFUL_SERVE_KEY (?key=KEY or
    a Bearer token). SIGTERM or Ctrl-C: finishes the requests in flight.

    \b
    Exit codes: 0 stopped; 2 usage or profile error (port in use, no key);
    3 backend unreachable; 5 suggestions file not writable; 130/143 a signal.

    \b
    Examples:
      tactful serve -p community.toml
      tactful serve --backend embedded -m smollm2-135m --port 0
      TACTFUL_SERVE_KEY=secret tactful serve --bind 0.0.0.0
    """
    overrides = Overrides(profile=profile, model=model, hosts=host, backend=backend, mode=mode, retries=retries,
                          attributes=attribute)
    settings = serving_settings(resolve(overrides))
    key = os.environ.get(ENV_KEY) or None
    if key is None and not is_loopback(address):
        raise UsageError(f"--bind {address} lets other machines in: set {ENV_KEY} to the key clients must send, "
                         "or drop --bind to listen on 127.0.0.1 only")
    if suggestions is not None:
        claim(suggestions, "--suggestions", profile_files(settings.profile), overwrite=True)
    options = ServeOptions(
        workers=jobs, waiting=queue, timeout=timeout, use_cache=not no_cache, key=key, suggestions=suggestions,
        access_log=access_log,
    )
    listen = _server()
    try:
        with stop_on_signals():
            listen(settings, options, address, port)
    except Stopped as stop:
        return stop.exit_code
    return EXIT_OK


def _server() -> Callable[[Settings, ServeOptions, str, int], None]:
    """The HTTP side (Starlette, uvicorn): an optional extra, loaded only to serve."""
    try:
        from tactful.serve.run import listen
    except ImportError as exc:
        raise UsageError(f"tactful serve needs {exc.name or 'its HTTP server'}, which is not installed: "
                         "pip install 'tactful[serve]'") from None
    return listen
