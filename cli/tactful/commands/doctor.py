"""`tactful doctor`: is everything in place to classify?"""

from __future__ import annotations

from rich.console import Console

from tactful.commands.common import ModelChoice, load_settings, make_backend
from tactful.errors import EXIT_BACKEND, EXIT_OK, EXIT_USAGE, TactfulError


def doctor(choice: ModelChoice, console: Console) -> int:
    ok, bad = "[green]ok[/green]", "[red]FAIL[/red]"
    try:
        profile, location = load_settings(choice)
    except TactfulError as exc:
        console.print(f"{bad}  profile: {exc.message}")
        return EXIT_USAGE
    where = location.path if location.path else "built-in default (no profile file found)"
    console.print(f"{ok}  profile: {profile.name} from {where} [dim]({location.how})[/dim]")
    blocked = ", ".join(c.slug for c in profile.blocked) or "nothing"
    console.print(f"{ok}  categories: {len(profile.categories)}, blocked: {blocked}; mode {profile.task.mode}")
    try:
        backend = make_backend(profile, choice)
        info = backend.info()
    except TactfulError as exc:
        console.print(f"{bad}  backend {profile.model.backend}: {exc.message}")
        return EXIT_BACKEND
    version = f" version {info.version}" if info.version else ""
    console.print(f"{ok}  backend {info.backend}: {info.location}{version}")
    if not info.model_present:
        console.print(f"{bad}  model {info.model}: not found; {info.detail}")
        return EXIT_BACKEND
    console.print(f"{ok}  model {info.model} {info.detail}".rstrip())
    return EXIT_OK
