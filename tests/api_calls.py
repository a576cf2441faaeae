"""The Python API's documented calls, written as a user writes them.

The calls of ``tactful.moderator``'s docstring and of docs/python-api.md, with the
profile and servers passed in. tests/test_moderator.py runs each against
the stand-in Ollama server and type-checks this file with ``mypy --strict``, so a
signature that stops accepting a documented call, or a result typed other than the
documentation says, fails a test. Not collected by pytest: no ``test_`` names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tactful import Moderator


def docstring_example(profile: str) -> list[tuple[bool | None, dict[str, float]]]:
    """moderator.py's docstring: a profile file, a list of texts, a context manager."""
    seen = []
    with Moderator.from_profile(profile) as moderator:
        for record in moderator.classify(["you absolute idiot", "see you at the meetup"]):
            seen.append((record["moderation"]["flagged"], record["moderation"]["scores"]))
    return seen


def readme_example(profile: Path, backend: str, hosts: list[str]) -> list[dict[str, Any]]:
    """docs/python-api.md's cluster-job call: a backend, several hosts, texts and objects, jobs, close()."""
    moderator = Moderator.from_profile(profile, backend=backend, hosts=hosts)
    records = moderator.classify(["you absolute idiot", {"id": 7, "text": "see you friday"}], jobs=4)
    moderator.close()
    return records


def one_text(host: str, model: str) -> list[dict[str, Any]]:
    """A lone text is one item; a lone host is one host."""
    with Moderator.from_profile(model=model, hosts=host) as moderator:
        return moderator.classify("you idiot")


def one_object(host: str, model: str) -> list[dict[str, Any]]:
    """A lone object (a JSONL record) is one item too."""
    with Moderator.from_profile(model=model, hosts=[host]) as moderator:
        return moderator.classify({"id": "a", "body": "you idiot"}, field="body")
