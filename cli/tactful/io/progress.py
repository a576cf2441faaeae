"""What a batch run tells the person watching it: a live bar and a closing summary.

Both go to stderr, so stdout stays pure JSONL. The bar is drawn only when stderr is a
terminal (never in pipes or CI logs); the summary is one line, silenced by --quiet.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console

from tactful.io.console import console
from tactful.io.readers import STDIN, ReadOptions, is_image_path
from tactful.records import Result
from tactful.textclip import plural

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

# Counting lines first costs one fast read; beyond this much input it is not worth it.
COUNT_LIMIT_BYTES = 512 * 1024 * 1024


@dataclass
class RunStats:
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    flagged: int = 0
    errors: int = 0
    cached: int = 0
    truncated: int = 0  # texts judged by their start only (task.long_text = "truncate")
    labels: Counter[str] = field(default_factory=Counter)

    def add(self, result: Result) -> None:
        moderation = result.moderation
        self.done += 1
        self.flagged += bool(moderation.flagged)
        self.errors += moderation.error is not None
        self.cached += result.cached
        self.truncated += moderation.truncated
        self.labels.update(moderation.labels)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self, skipped: int = 0, hosts: Mapping[str, int] | None = None) -> str:
        """The run in one line; ``hosts``: records each server answered, when there were several."""
        parts = [f"{self.flagged} flagged", f"{self.errors} errors", f"{self.cached} from cache"]
        if self.truncated:  # what was not judged is said where the run is summed up
            parts.append(f"{self.truncated} truncated to task.max_chars")
        if skipped:
            parts.append(f"{skipped} already done")
        line = f"tactful: {plural(self.done, 'record')} in {self.elapsed:.1f} s ({self.rate:.1f}/s): " + ", ".join(parts)
        if self.labels:
            line += "; labels: " + ", ".join(f"{label} {n}" for label, n in self.labels.most_common())
        if hosts:
            line += "; hosts: " + ", ".join(f"{host} {n}" for host, n in hosts.items())
        return line


def estimate_total(files: list[str], read: ReadOptions) -> int | None:
    """How many records to expect, when that is cheap to know (regular files only)."""
    if STDIN in files:
        return None
    if read.whole:
        return len(files)
    images = [f for f in files if is_image_path(f)]  # one record each
    texts = [f for f in files if f not in images]
    if sum(Path(f).stat().st_size for f in texts) > COUNT_LIMIT_BYTES:
        return None
    return len(images) + sum(_count_lines(f) for f in texts)


def _count_lines(path: str) -> int:
    count, last = 0, b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")  # a last line without a newline counts too


class ProgressBar:
    """A rich progress bar on stderr, or nothing at all when ``enabled`` is false.

    ``above``: the console of a table printed on the terminal while the bar runs. The bar
    is then drawn by that console, whose live display clears the bar before each row and
    draws it again below: drawn on stderr instead, the bar's last frame would be glued to
    the table's header and stale frames left between its rows.
    """

    def __init__(self, enabled: bool, total: int | None, above: Console | None = None) -> None:
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        if not enabled:
            return
        # Imported here: most runs are not on a terminal, and start-up is what they wait for.
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("classify", style="bold"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}", markup=False),
            TimeRemainingColumn(), TextColumn("{task.fields[counts]}", markup=False),
            console=above if above is not None and above.is_terminal else console(stderr=True), transient=True,
        )
        self.task = self.progress.add_task("classify", total=total, rate="", counts="")

    def __enter__(self) -> ProgressBar:
        if self.progress is not None:
            self.progress.start()
        return self

    def update(self, stats: RunStats) -> None:
        if self.progress is None or self.task is None:
            return
        counts = f"flagged {stats.flagged}  errors {stats.errors}"
        self.progress.update(self.task, completed=stats.done, rate=f"{stats.rate:.1f}/s", counts=counts)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.progress is not None:
            self.progress.stop()
