"""The review's terminal interface, driven by Textual's pilot: keys in, answers on disk, text shown as written."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable

from tactful.errors import IOFailure
from tactful.review.labels import Labelled, LabelsFile
from tactful.review.refit import CachedVectors, LearnerRefit, RefitReport
from tactful.review.session import Session
from tactful.review.ui import ReviewApp
from textual.pilot import Pilot
from textual.widgets import Static

from tests.support.review import SPAM_SCORES, Embedder, contract, judged, separable_by_vector


def shown(app: ReviewApp, widget: str) -> str:
    return str(app.query_one(f"#{widget}", Static).visual)


def drive(app: ReviewApp, steps: Callable[[Pilot[None]], Awaitable[None]]) -> None:
    async def run() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await steps(pilot)

    asyncio.run(run())


def saved(store: LabelsFile) -> list[tuple[str, list[str]]]:
    return [(line["id"], line["labels"]) for line in map(json.loads, store.path.read_text().splitlines())]


def test_one_key_per_answer_undo_skip_and_quit(tmp_path):
    store = LabelsFile(tmp_path / "reviewed.jsonl")
    app = ReviewApp(Session(judged(tmp_path), store, contract()), LearnerRefit(contract()), 5, "reviewed.jsonl")
    seen = []

    async def steps(pilot: Pilot[None]) -> None:
        seen.append(shown(app, "text"))
        assert "model: flagged spam, score 0.55" in shown(app, "verdict")
        assert "1 spam  2 toxicity  a acceptable  s skip  u undo  q quit" in shown(app, "keys")
        await pilot.press("1")  # spam
        seen.append(shown(app, "text"))
        await pilot.press("a", "u")  # acceptable, then undone: asked again
        assert shown(app, "text") == seen[1]
        await pilot.press("2", "s", "x")  # toxicity, skip, and a key that means nothing
        assert "2 labelled (2 in this review), 3 to go" in shown(app, "status")
        await pilot.press("q")

    drive(app, steps)
    assert app.return_code == 0 and not app.is_running
    assert seen[0] == "export.jsonl:1\nbuy cheap pills now"
    assert saved(store) == [("t1", ["spam"]), ("t4", ["toxicity"])]


def test_every_few_answers_the_quality_is_refitted_and_shown(tmp_path):
    store = LabelsFile(tmp_path / "reviewed.jsonl")
    calls: list[int] = []

    def refit(labelled: list[Labelled]) -> RefitReport:
        calls.append(len(labelled))
        return RefitReport("a test refit", len(labelled), 1, 0.75, 0.1, 0.2, 0.05,
                           ((1, 0.5), (2, 0.75)), True, "more labels still pay")

    app = ReviewApp(Session(judged(tmp_path), store, contract()), refit, 2, "reviewed.jsonl")

    async def steps(pilot: Pilot[None]) -> None:
        await pilot.press("1")
        await app.workers.wait_for_complete()
        assert calls == [] and "shown after the first answers" in shown(app, "quality")
        await pilot.press("a")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert calls == [2]
        assert shown(app, "quality").splitlines() == [
            "a test refit, 2 labels (1 blocked)",
            "cross-validated F1 0.75 +/- 0.10, FPR 0.20 +/- 0.05",
            "learning curve: 1 labels F1 0.50, 2 labels F1 0.75",
            "more labels still pay",
        ]
        await pilot.press("q")

    drive(app, steps)


def test_a_resumed_review_shows_the_quality_of_the_earlier_labels_at_once(tmp_path):
    store = LabelsFile(tmp_path / "reviewed.jsonl")
    texts = judged(tmp_path)
    earlier = [Labelled(j.id, j.text, ("spam",) if (j.scores or {})["flagged"] > 0.5 else (), j.scores)
               for j in texts[:4]]
    app = ReviewApp(Session(texts, store, contract(), earlier), LearnerRefit(contract()), 5, "reviewed.jsonl")

    async def steps(pilot: Pilot[None]) -> None:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "4 labels (3 blocked)" in shown(app, "quality")
        assert "2 to go" in shown(app, "status")
        await pilot.press("q")

    drive(app, steps)


def test_text_is_shown_as_written_never_as_markup_or_terminal_control(tmp_path):
    hostile = "[bold red]FREE[/] \x1b[2J\x1b]0;pwned\x07 [link=http://x]click[/link]"
    store = LabelsFile(tmp_path / "reviewed.jsonl")
    texts = judged(tmp_path, {hostile: 0.5, **SPAM_SCORES})
    app = ReviewApp(Session(texts, store, contract()), LearnerRefit(contract()), 5, "reviewed.jsonl")

    async def steps(pilot: Pilot[None]) -> None:
        assert shown(app, "text").splitlines()[1] == (
            "[bold red]FREE[/] \\x1b[2J\\x1b]0;pwned\\x07 [link=http://x]click[/link]")
        await pilot.press("q")

    drive(app, steps)


def test_an_answer_that_cannot_be_saved_stops_the_review_with_the_error(tmp_path):
    folder = tmp_path / "labels"
    folder.mkdir()
    store = LabelsFile(folder / "reviewed.jsonl")
    app = ReviewApp(Session(judged(tmp_path), store, contract()), LearnerRefit(contract()), 5, "reviewed.jsonl")

    async def steps(pilot: Pilot[None]) -> None:
        folder.rmdir()  # as a disk that went away
        await pilot.press("a")

    drive(app, steps)
    assert isinstance(app.failure, IOFailure) and app.failure.message.startswith(f"{store.path}: cannot save the answer")
    assert not app.is_running


def test_the_refit_shows_every_rule_the_learner_tried_and_the_winner(tmp_path):
    """The prompt's probabilities say nothing, the representation separates: the head wins, and says so."""
    earlier, vectors = separable_by_vector()
    store = LabelsFile(tmp_path / "reviewed.jsonl")
    refit = LearnerRefit(contract(), CachedVectors(Embedder(vectors)))
    app = ReviewApp(Session(judged(tmp_path), store, contract(), earlier), refit, 5, "reviewed.jsonl")

    async def steps(pilot: Pilot[None]) -> None:
        await app.workers.wait_for_complete()
        await pilot.pause()
        quality = shown(app, "quality").splitlines()
        assert quality[:2] == ["cross-validated choice of what decides, 20 labels (10 blocked)",
                               "head: F1 1.00 +/- 0.00, FPR 0.00 +/- 0.00  <- chosen"]
        assert any(line.startswith("chosen: head: the best cross-validated F1 (1.00)") for line in quality)
        assert app.report is not None and app.report.head_wins
        await pilot.press("q")

    drive(app, steps)


def test_one_refit_runs_at_a_time_and_the_answers_given_meanwhile_are_refitted_after(tmp_path):
    store = LabelsFile(tmp_path / "reviewed.jsonl")
    release, calls = threading.Event(), []

    def slow(labelled: list[Labelled]) -> RefitReport:
        calls.append(len(labelled))
        release.wait(10)
        return RefitReport("a slow refit", len(labelled), 0)

    app = ReviewApp(Session(judged(tmp_path), store, contract()), slow, 1, "reviewed.jsonl")

    async def steps(pilot: Pilot[None]) -> None:
        await pilot.press("1", "a", "a")
        await pilot.pause(0.2)
        assert calls == [1]  # the first is still running
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert calls == [1, 3]  # once more, on every answer so far
        assert app.report is not None and app.report.labels == 3
        await pilot.press("q")

    drive(app, steps)
