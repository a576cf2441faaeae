"""comments:suggestscore: a client's correction, kept for a person to review.

Each suggestion is appended as one line in the labelled-text format `tactful calibrate`
and `tactful eval` read (``{"id", "text", "labels", "source"}``), and synced to disk
before the client is answered. Nothing is learnt from it until someone runs those
commands on the file.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

from tactful.errors import IOFailure

SOURCE = "suggestscore"


class SuggestionFile:
    def __init__(self, path: Path) -> None:
        """Check at start that ``path`` can be appended to: a server that would lose every
        suggestion must not start (IOFailure, exit 5)."""
        self.path = path
        self._lock = threading.Lock()  # one line at a time: lines never interleave
        try:
            open(path, "a", encoding="utf-8").close()
        except OSError as exc:
            raise IOFailure(f"{path}: {exc.strerror or exc}") from None

    def append(self, text: str, labels: Sequence[str]) -> str:
        """Append one labelled text and sync it; its new id."""
        record_id = f"suggest-{uuid.uuid4().hex[:12]}"
        line = json.dumps({"id": record_id, "text": text, "labels": list(labels), "source": SOURCE})
        try:
            with self._lock, open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise IOFailure(f"{self.path}: {exc.strerror or exc}") from None
        return record_id
