"""The example bank: labelled texts that teach the model a community's line.

One JSON object a line: ``id``, ``text``, ``labels`` (a list of category slugs; an empty
list marks acceptable content), optional ``rationale`` and ``created``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tactful.errors import ConfigError


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    labels: tuple[str, ...]
    rationale: str | None = None
    created: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "text": self.text, "labels": list(self.labels)}
        if self.rationale:
            data["rationale"] = self.rationale
        if self.created:
            data["created"] = self.created
        return data


def example_from_json(obj: Any, where: str, require_labels: bool = False) -> Example:
    """Validate one decoded bank line; raise ConfigError naming ``where`` when it is wrong.

    ``labels`` (the bank's field) or ``label`` (eval's) give the categories; with
    ``require_labels`` (importing) a line with neither is refused rather than read as
    acceptable content, which would teach the model that it is fine.
    """
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: an example must be a JSON object")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: 'text' must be a non-empty string")
    if "labels" not in obj and "label" not in obj and require_labels:
        raise ConfigError(f"{where}: no 'labels' (or 'label'): give [] for acceptable content")
    labels = obj["labels"] if "labels" in obj else obj.get("label", [])
    if isinstance(labels, str):
        labels = [labels]
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise ConfigError(f"{where}: 'labels' must be a list of category slugs")
    rationale = obj.get("rationale")
    if rationale is not None and not isinstance(rationale, str):
        raise ConfigError(f"{where}: 'rationale' must be a string")
    ex_id = obj.get("id")
    return Example(
        id=str(ex_id) if ex_id is not None else "",
        text=text,
        labels=tuple(labels),
        rationale=rationale or None,
        created=obj.get("created") if isinstance(obj.get("created"), str) else None,
    )


def parse_example_line(line: str, where: str, require_labels: bool = False) -> Example:
    """One bank line, decoded and validated; ConfigError naming ``where`` when it is wrong."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: invalid JSON: {exc.msg}") from None
    return example_from_json(obj, where, require_labels)


def load_bank(path: Path | None) -> list[Example]:
    """All examples in the bank at ``path``; a missing file is an empty bank."""
    if path is None or not path.exists():
        return []
    examples: list[Example] = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read example bank: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        example = parse_example_line(line, f"{path}:{number}")
        examples.append(example if example.id else replace(example, id=f"ex{number}"))
    return examples
