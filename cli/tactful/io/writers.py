"""Writing results: JSONL for programs, a rich table for people."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, ClassVar, Protocol

import jsonlines
from rich.console import Console, RenderableType
from rich.text import Text

from tactful.errors import OutputClosed
from tactful.io.console import printable, styled
from tactful.records import Result
from tactful.textclip import clip, clip_start

OUTPUT_FORMATS = ("jsonl", "table")


@contextmanager
def reader_may_leave() -> Iterator[None]:
    """A closed pipe (`| head`) ends the output normally: OutputClosed, not an OSError.

    An OSError with EPIPE would reach Typer, which exits 1: the code for "flagged".
    """
    try:
        yield
    except BrokenPipeError:
        raise OutputClosed() from None


class ResultWriter(Protocol):
    def write(self, result: Result) -> None: ...

    def close(self) -> None: ...


class JsonlWriter:
    """One line per result, flushed at once so pipes and `tail -f` see it immediately."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        # One write per record (the line and its newline together), so an interrupted run
        # leaves complete lines only; UTF-8 kept readable rather than \u-escaped.
        self.writer = jsonlines.Writer(stream, flush=True, dumps=functools.partial(json.dumps, ensure_ascii=False))

    def write(self, result: Result) -> None:
        with reader_may_leave():
            self.writer.write(result.to_json())

    def close(self) -> None:
        with reader_may_leave():
            self.stream.flush()


class TableWriter:
    """A table for people, printed row by row as results arrive (a run can take minutes).

    Columns get fixed widths from the console width, so that rows printed one at a time
    line up under the header printed with the first. A long id keeps its end, which tells
    rows apart (``…ments.txt:12``), where its start is the same on every row.
    """

    FIXED: ClassVar[dict[str, int]] = {"id": 13, "flagged": 7, "labels": 14, "scores": 16}

    def __init__(self, console: Console, scores: bool) -> None:
        self.console = console
        self.scores = scores
        self.columns = ["id", "text", "flagged", "labels", *(["scores"] if scores else []), "note"]
        # The text takes two thirds of what the fixed columns leave, the note the rest.
        free = console.width - sum(self.FIXED[c] + 2 for c in self.columns if c in self.FIXED) - 4
        # The note gets exactly what is left (a floor of its own would push the row past the
        # console's width, and rich would squeeze the fixed columns instead: "flagg…").
        text = max(16, free * 2 // 3)
        self.widths = {**{c: self.FIXED[c] for c in self.columns if c in self.FIXED},
                       "text": text, "note": max(8, free - text)}
        self.rows = 0

    def write(self, result: Result) -> None:
        m = result.moderation
        text = result.record.text if result.record.text is not None else ""
        if result.record.image is not None:  # the caption, after what was judged with it
            text = f"[image {result.record.image.width}x{result.record.image.height}] {text}"
        flag = Text("yes", "red") if m.flagged else (Text("-", "dim") if m.flagged is None else Text("no"))
        scores = ", ".join(f"{k} {v:.2f}" for k, v in (m.scores or {}).items())
        # Why a record is not as it looks: its error, else the rationale and what was done
        # to the text (cut, camouflage undone, a second look), as JSONL records say.
        note = styled((m.error, "red")) if m.error else styled("; ".join(filter(None, [m.rationale, *m.notes])))
        # Strings are made printable by the console (see io.console), Text by styled; the
        # id before it is cut, so that the cut sees the width it will have.
        cells: list[RenderableType] = [clip_start(printable(result.record.id), self.widths["id"]), clip(" ".join(text.split()), 80), flag,
                 ", ".join(m.labels), *([scores] if self.scores else []), note]
        from rich.table import Table  # here: JSONL runs, the default, never draw one

        table = Table(box=None, show_header=self.rows == 0, header_style="bold", pad_edge=False)
        for column in self.columns:
            table.add_column(column, width=self.widths[column], overflow="fold" if column in ("text", "note") else "ellipsis")
        table.add_row(*cells)
        with reader_may_leave():
            self.console.print(table)
        self.rows += 1

    def close(self) -> None:
        with reader_may_leave():
            self.console.file.flush()
