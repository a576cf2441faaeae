"""Preparing a text for the model: normalisation, then fitting it to the context.

Nothing here is silent: a text that was normalised, truncated or judged in windows says
so in the notes of its output record, and a truncated one is counted in the run's summary.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
# Windows of a long text overlap by at least this fraction of task.max_chars (1500 of
# 6000): a passage that short (an insult, its sentence, most paragraphs) lies whole in
# one window wherever the edges fall. The price is about a third more model calls.
OVERLAP_DIVISOR = 4
_SPACES = (" ", "\n", "\t")


@dataclass
class PreparedText:
    chunks: list[str]
    normalized: bool = False
    truncated: bool = False  # only the start reaches the model (long_text = "truncate")
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def prepare_text(text: str, task: TaskSettings) -> PreparedText:
    """The parts of ``text`` the model judges, normalised: the whole text, its windows
    (long_text = "split", the default), or its start (truncate); or an error."""
    prepared = PreparedText(chunks=[])
    length, limit = len(text), task.max_chars
    head = text[: limit * NORMALIZE_WINDOW]
    if task.long_text == "split" and len(head) < length:
        # Normalising megabytes at once would hold several copies of them: each window
        # is normalised on its own (and cut again in the rare case normalising grew it).
        pieces = [_normalize(window, task, prepared) for window in windows(text, limit)]
        prepared.chunks = [part for piece in pieces for part in windows(piece, limit)]
    else:
        # Short enough to normalise whole; or, cut or refused, only the start matters.
        text = _normalize(head, task, prepared)
        if len(text) <= limit and len(head) == length:
            prepared.chunks = [text]
        elif task.long_text == "error":
            prepared.error = f"text has {length} characters, over task.max_chars = {limit} (set task.long_text to truncate or split)"
        elif task.long_text == "split":
            prepared.chunks = list(windows(text, limit))
        else:
            prepared.chunks, prepared.truncated = [text[:limit]], True
            prepared.notes.append(f"truncated from {length} to {limit} characters")
    if len(prepared.chunks) > 1:
        prepared.notes.append(f"judged whole in {len(prepared.chunks)} overlapping windows of at most {limit} characters")
    if task.second_look:
        _add_second_looks(prepared)
    return prepared


def _normalize(text: str, task: TaskSettings, prepared: PreparedText) -> str:
    """The text as the model reads it; ``prepared`` notes whether that changed anything."""
    if not task.normalize:
        return text
    normalized = normalize_text(text)
    prepared.normalized |= normalized != text
    return normalized


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


def windows(text: str, width: int) -> Iterator[str]:
    """Overlapping parts of at most ``width`` characters that together hold all of ``text``.

    A window ends at the last whitespace in its final quarter (else at ``width``); the
    next one starts after the last whitespace between two quarters and one quarter of
    ``width`` before that end (else one quarter before it). So neighbours share at least
    ``width // OVERLAP_DIVISOR`` characters, and each window moves on by at least as
    many: any span that short lies whole in one window.
    """
    overlap = width // OVERLAP_DIVISOR
    start = 0
    while len(text) - start > width:
        end = _last_space(text, start + width - overlap, start + width)
        end = end if end >= 0 else start + width
        yield text[start:end]
        space = _last_space(text, end - 2 * overlap, end - overlap)
        start = space + 1 if space >= 0 else end - overlap
    yield text[start:]


def _last_space(text: str, low: int, high: int) -> int:
    """Index of the last whitespace in ``text[low:high]``, or -1."""
    return max(text.rfind(space, low, high) for space in _SPACES)
