"""Preparing a text for the model: normalisation, then fitting it to the context.

Nothing here is silent: a text that was normalised, truncated or split says so in the
notes of its output record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tactful.engine.steering import find_steering
from tactful.normalize.text import normalize_text
from tactful.profile.load import TaskSettings
from tactful.textclip import clip

# Normalisation shortens a text (invisible characters go) but by no more than this factor
# in practice; a text longer than the window is over the limit whatever it holds.
NORMALIZE_WINDOW = 4
# Each earlier message of a thread reaches the model cut to this many characters: context
# explains the text, and a few lines of each message carry what it means.
CONTEXT_CHARS = 500


@dataclass
class PreparedText:
    chunks: list[str]
    normalized: bool = False
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def prepare_text(text: str, task: TaskSettings) -> PreparedText:
    prepared = PreparedText(chunks=[])
    length, limit = len(text), task.max_chars
    if task.long_text != "split" and length > limit * NORMALIZE_WINDOW:
        # Only the start can reach the model: normalise that, not all of a 10 MB line.
        text = text[: limit * NORMALIZE_WINDOW]
    if task.normalize:
        normalized = normalize_text(text)
        if normalized != text:
            prepared.normalized = True
            text = normalized
    cut_short = task.long_text != "split" and length > limit * NORMALIZE_WINDOW
    if len(text) <= limit and not cut_short:
        prepared.chunks = [text]
    elif task.long_text == "error":
        prepared.error = f"text has {length} characters, over task.max_chars = {limit} (set task.long_text to truncate or split)"
    elif task.long_text == "split":
        prepared.chunks = split_text(text, limit)
        prepared.notes.append(f"split into {len(prepared.chunks)} parts of at most {limit} characters")
    else:
        prepared.chunks = [text[:limit]]
        prepared.notes.append(f"truncated from {length} to {limit} characters")
    if task.second_look:
        _add_second_looks(prepared)
    return prepared


def prepare_context(messages: Sequence[str], task: TaskSettings) -> tuple[str, ...]:
    """A thread's earlier messages as the model reads them: normalised like the text, cut short."""
    prepared = []
    for message in messages:
        message = message[: CONTEXT_CHARS * NORMALIZE_WINDOW]
        if task.normalize:
            message = normalize_text(message)
        prepared.append(clip(message, CONTEXT_CHARS, at_word=True))
    return tuple(prepared)


def _add_second_looks(prepared: PreparedText) -> None:
    """Judge each part also without the passages that talk to the moderator (steering.py)."""
    found = [steering for steering in map(find_steering, prepared.chunks) if steering is not None]
    if not found:
        return
    prepared.chunks.extend(steering.rest for steering in found)
    passages = [passage for steering in found for passage in steering.passages]
    quoted = "; ".join(repr(clip(p, 60)) for p in passages[:3]) + ("; ..." if len(passages) > 3 else "")
    prepared.notes.append(f"also judged without {len(passages)} passage(s) addressed to the moderator: {quoted}")


def split_text(text: str, limit: int) -> list[str]:
    """Parts of at most ``limit`` characters, cut at whitespace where there is some."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind(" ", limit // 2, limit)
        cut = cut if cut > 0 else limit
        parts.append(text[:cut])
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts
