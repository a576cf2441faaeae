"""The review in a terminal: one text at a time, one key per answer (Textual).

Textual rather than rich's prompts: a prompt reads a line, so every answer would be a key
and Enter, and rich has no way to take a single key; Textual reads keys as they are
pressed, redraws in place, runs the refit in a thread while the moderator goes on, and
comes with a test pilot (``App.run_test``).

Nothing a user or a model wrote is ever parsed as markup or reaches the terminal raw:
every widget is given ``rich.text.Text`` built by ``io.console.styled`` (each part made
``printable``), never a string Textual would read as markup.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.events import Key
from textual.widgets import Static

from tactful.errors import TactfulError
from tactful.io.console import styled
from tactful.review.labels import Labelled
from tactful.review.queue import harm_score
from tactful.review.refit import RefitReport
from tactful.review.session import (
    ACCEPTABLE_KEY,
    QUIT_KEY,
    SKIP_KEY,
    UNDO_KEY,
    Judged,
    Refit,
    Session,
    category_keys,
)


class ReviewApp(App[None]):
    """Shows ``session.current``; keys answer, skip, undo or quit; refits every ``refit_every`` answers."""

    TITLE = "tactful review"
    CSS = """
    #status { background: $primary-background; padding: 0 1; }
    #scroll { height: auto; max-height: 70%; border: round $accent; padding: 0 1; }
    #verdict, #keys { padding: 0 1; }
    #quality { height: auto; border: round $secondary; padding: 0 1; }
    """

    def __init__(self, session: Session, refit: Refit, refit_every: int, where: str) -> None:
        super().__init__()
        self.session, self.refit, self.refit_every, self.where = session, refit, refit_every, where
        self.keys = category_keys(session.contract.blocked)
        self.report: RefitReport | None = None
        # One refit at a time (a head's cross-validation takes seconds of CPU); answers
        # given while it runs are refitted once it ends.
        self._refitting = self._refit_again = False
        # An answer that could not be saved (disk full): the review stops, and the command
        # reports it as every command does, one line and its exit code.
        self.failure: TactfulError | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="status", markup=False)
        with VerticalScroll(id="scroll"):
            yield Static(id="text", markup=False)
        yield Static(id="verdict", markup=False)
        yield Static(id="keys", markup=False)
        yield Static(styled(("quality: shown after the first answers", "dim")), id="quality", markup=False)

    def on_mount(self) -> None:
        self._show()
        if self.session.answers:
            self._start_refit()

    def on_key(self, event: Key) -> None:
        try:
            self._act(event)
        except TactfulError as exc:
            self.failure = exc
            self.exit()

    def _act(self, event: Key) -> None:
        key = event.character or event.key
        if key == QUIT_KEY or event.key == "ctrl+c":
            self.exit()
        elif key == UNDO_KEY:
            if not self.session.undo():
                self.notify("nothing to undo in this review")
        elif self.session.current is None:
            return
        elif key in self.keys:
            self._answer((self.keys[key],))
        elif key == ACCEPTABLE_KEY:
            self._answer(())
        elif key == SKIP_KEY:
            self.session.skip()
        else:
            return
        event.stop()
        self._show()

    def _answer(self, labels: tuple[str, ...]) -> None:
        self.session.answer(labels)
        if self.session.answered_now % self.refit_every == 0:
            self._start_refit()

    def _start_refit(self) -> None:
        if self._refitting:
            self._refit_again = True
            return
        self._refitting = True
        self._refit(list(self.session.answers))

    @work(thread=True, group="refit")
    def _refit(self, labelled: list[Labelled]) -> None:
        """Refit on a copy of the answers, in a thread: the moderator goes on answering meanwhile."""
        self.call_from_thread(self._show_quality, None)
        report = self.refit(labelled)
        self.call_from_thread(self._refitted, report)

    def _refitted(self, report: RefitReport) -> None:
        self._refitting = False
        self.report = report
        self.session.refitted(report)
        self._show_quality(report)
        if self._refit_again:
            self._refit_again = False
            self._start_refit()

    def _show_quality(self, report: RefitReport | None) -> None:
        shown = Text("refitting...") if report is None else Text("\n").join(styled(line) for line in report.lines())
        self.query_one("#quality", Static).update(shown)

    def _show(self) -> None:
        session, current = self.session, self.session.current
        status = (f"{len(session.answers)} labelled ({session.answered_now} in this review), "
                  f"{session.remaining} to go; answers go to {self.where}")
        self.query_one("#status", Static).update(styled((status, "bold")))
        self.query_one("#text", Static).update(_text(current))
        self.query_one("#verdict", Static).update(_verdict(current, session) if current else Text(""))
        self.query_one("#keys", Static).update(self._legend(current is not None))

    def _legend(self, asking: bool) -> Text:
        parts: list[str | tuple[str, str]] = []
        answers = [*self.keys.items(), (ACCEPTABLE_KEY, "acceptable"), (SKIP_KEY, "skip")] if asking else []
        for key, meaning in [*answers, (UNDO_KEY, "undo"), (QUIT_KEY, "quit")]:
            parts += [(key, "bold reverse"), f" {meaning}  "]
        return styled(*parts)


def _text(current: Judged | None) -> Text:
    if current is None:
        return styled(("Nothing left to review: every text here is labelled or skipped. u goes back, q quits.", "bold"))
    # Each line made printable on its own: a text's own line breaks stay line breaks.
    body = Text("\n").join(styled(line) for line in current.text.splitlines() or [""])
    return Text.assemble(styled((current.source, "dim")), "\n", body)


def _verdict(current: Judged, session: Session) -> Text:
    if current.flagged is None:
        return styled(("model: not judged", "yellow"))
    said = f"flagged {', '.join(current.verdict)}" if current.flagged and current.verdict else (
        "flagged" if current.flagged else "acceptable")
    parts: list[str | tuple[str, str]] = ["model: ", (said, "red" if current.flagged else "green")]
    if current.scores:
        score = harm_score(current.scores, session.contract)
        if score is not None:
            parts.append(f", score {score:.2f}")
        parts.append(f"  ({_scores(current.scores)})")
    return styled(*parts)


def _scores(scores: Mapping[str, float]) -> str:
    return ", ".join(f"{key} {value:.2f}" for key, value in scores.items())
