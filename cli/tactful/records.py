"""Records flowing through tactful: one input item in, one output record out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Pillow loads only when an image is read
    from tactful.io.images import Picture


@dataclass
class InputRecord:
    """One item to classify.

    ``data`` is what comes out again (the JSONL object untouched, or ``id``/``text`` for
    plain text); ``error`` is set when the item could not be read, and then it is written
    out as an error record instead of being classified.
    """

    id: str
    text: str | None
    data: dict[str, Any]
    source: str  # "path:line", for messages
    error: str | None = None
    # Earlier messages of the item's thread, oldest first: read to understand the text,
    # never judged themselves (--context-field, or linked by --thread-field/--reply-to-field).
    context: tuple[str, ...] = ()
    # An image to judge, with ``text`` as its caption ("" for none): --image-field, or an
    # image file given as input.
    image: Picture | None = None
    # A thread's latest messages (context, then text) to judge together as one
    # conversation: the records --per-thread makes.
    whole_thread: bool = False

    def located(self, problem: str, name: str | None = None) -> str:
        """``problem`` as a line for people that names the record once (by ``name``, else
        where it came from): the record's own ``error``, a reader's, names its place already."""
        return problem if problem == self.error else f"{name or self.source}: {problem}"


@dataclass
class Moderation:
    flagged: bool | None
    labels: list[str]
    model: str
    profile: str
    prompt: str
    scores: dict[str, float] | None = None
    rationale: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    explain: bool = False
    normalized: bool = False
    truncated: bool = False  # only the text's start was judged (task.long_text = "truncate"); notes say so
    decided_by: str | None = None  # "probability" or "answer"; None when nothing was judged
    context: int = 0  # earlier messages of the thread the model read with the text

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"flagged": self.flagged, "labels": self.labels}
        if self.scores is not None:
            out["scores"] = {k: round(v, 4) for k, v in self.scores.items()}
        if self.explain:
            out["rationale"] = self.rationale
        if self.decided_by is not None:
            out["decided_by"] = self.decided_by
        if self.context:
            out["context"] = self.context
        out.update(model=self.model, profile=self.profile, prompt=self.prompt, error=self.error)
        if self.normalized:
            out["normalized"] = True
        if self.notes:
            out["notes"] = self.notes
        return out


@dataclass
class Result:
    record: InputRecord
    moderation: Moderation
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    cached: bool = False

    def to_json(self) -> dict[str, Any]:
        return {**self.record.data, "moderation": self.moderation.to_json()}
