"""`tactful doctor`: is everything in place to classify?"""

from __future__ import annotations

from rich.console import Console

from tactful.backends import Backend, BackendInfo
from tactful.backends.hosts import HostPool
from tactful.commands.common import make_backend
from tactful.commands.options import BackendOpt, HostOpt, ModelOpt, ProfileOpt
from tactful.errors import EXIT_BACKEND, EXIT_OK, EXIT_USAGE, ConfigError, TactfulError
from tactful.io.console import console, styled
from tactful.settings import Overrides, resolve

OK = ("ok", "green")
BAD = ("FAIL", "red")
WARN = ("warn", "yellow")


def command(profile: ProfileOpt = None, model: ModelOpt = None, host: HostOpt = None, backend: BackendOpt = None) -> int:
    """Check that the profile is valid, the backend reachable and the model present."""
    return doctor(Overrides(profile=profile, model=model, hosts=host, backend=backend), console())


def _line(out: Console, mark: tuple[str, str], *parts: str | tuple[str, str]) -> None:
    out.print(styled(mark, "  ", *parts))


def doctor(overrides: Overrides, out: Console) -> int:
    try:
        settings = resolve(overrides)
    except TactfulError as exc:
        # A bad profile is the profile's fault; a bad --host, --model or $OLLAMA_HOST is not.
        _line(out, BAD, f"{'profile' if isinstance(exc, ConfigError) else 'settings'}: {exc.message}")
        return EXIT_USAGE
    profile, location = settings.profile, settings.location
    where = location.path if location.path else "built-in default (no profile file found)"
    _line(out, OK, f"profile: {profile.name} from {where} ", (f"({location.how})", "dim"))
    blocked = ", ".join(c.slug for c in profile.blocked) or "nothing"
    _line(out, OK, f"categories: {len(profile.categories)}, blocked: {blocked}; mode {profile.task.mode}")
    try:
        backend = make_backend(settings)
    except TactfulError as exc:
        _line(out, BAD, f"backend {profile.model.backend}: {exc.message}")
        return EXIT_BACKEND
    try:
        # Several hosts: every one is checked, and each must serve the model.
        infos = backend.infos() if isinstance(backend, HostPool) else [("", _info(backend))]
    finally:
        backend.close()
    return max(_report(out, info) for _, info in infos)


def _info(backend: Backend) -> BackendInfo | TactfulError:
    try:
        return backend.info()
    except TactfulError as exc:
        return exc


def _report(out: Console, info: BackendInfo | TactfulError) -> int:
    if isinstance(info, TactfulError):
        _line(out, BAD, f"backend: {info.message}")
        return EXIT_BACKEND
    version = f" version {info.version}" if info.version else ""
    _line(out, OK, f"backend {info.backend}: {info.location}{version}")
    if not info.model_present:
        _line(out, BAD, f"model {info.model}: not found; {info.detail}")
        return EXIT_BACKEND
    _line(out, OK, f"model {info.model} {info.detail}".rstrip())
    for fact in info.facts:  # how scores will be read: a warning where not the usual way, never a failure
        _line(out, OK if fact.ok else WARN, f"model {info.model}: {fact.text}")
    return EXIT_OK
