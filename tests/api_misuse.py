"""Calls the Python API's types refuse: tests/test_moderator.py expects mypy to flag each
line marked ``# wrong`` in this file, and nothing in tests/api_calls.py. Never run."""

from __future__ import annotations

from tactful import Moderator


def misuse() -> None:
    moderator = Moderator.from_profile(hosts=8080)  # wrong
    moderator.classify(5)  # wrong
    moderator.classify([b"bytes are not text"])  # wrong
    records = moderator.classify("you idiot")
    records.flagged  # noqa: B018 (mypy must reject the attribute)  # wrong
    moderator.classify(["text"], jobs="4")  # wrong
