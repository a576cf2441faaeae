"""Baselines for gradual adoption: the findings a repository already has, kept in a file.

A baseline records each finding as path, category and a hash of the unit's text, plus
the line for people reading it. Lines are not part of the key, so editing above a known
finding does not bring it back; editing the unit itself does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from tactful.check.findings import Finding
from tactful.errors import ConfigError, TactfulError, UsageError
from tactful.io.atomic import atomic_write_text

VERSION = 1
Key = tuple[str, str, str]


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    entries = sorted(
        {f.key: {"path": f.path, "category": f.slug, "hash": f.digest, "line": f.line} for f in findings}.values(),
        key=lambda e: (e["path"], e["line"], e["category"]),
    )
    document = {"version": VERSION, "tool": "tactful check", "findings": entries}
    atomic_write_text(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    return len(entries)


def is_baseline(path: Path) -> bool:
    """Whether ``path`` holds a baseline: the one kind of file --write-baseline replaces unasked."""
    if not path.is_file():  # a device such as /dev/zero would be read without end
        return False
    try:
        read_baseline(path)
    except TactfulError:
        return False
    return True


def read_baseline(path: Path) -> set[Key]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: baseline not found (create it with `tactful check --write-baseline {path} FILE...`)") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read baseline: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: baseline is not valid JSON ({exc.msg}); write it again with --write-baseline") from None
    return _keys(path, document)


def _keys(path: Path, document: object) -> set[Key]:
    if not isinstance(document, dict) or document.get("version") != VERSION or not isinstance(document.get("findings"), list):
        raise ConfigError(f"{path}: not a tactful baseline (version {VERSION}); write it again with --write-baseline")
    keys: set[Key] = set()
    for number, entry in enumerate(document["findings"], start=1):
        try:
            keys.add((str(entry["path"]), str(entry["category"]), str(entry["hash"])))
        except (TypeError, KeyError) as exc:
            raise ConfigError(f"{path}: finding {number} lacks {exc}; write the baseline again with --write-baseline") from None
    return keys
