"""Fitting a text to the model: a long one is judged whole in overlapping windows, unless
the profile asks for truncation (then it is said), or for an error."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tactful.engine import textprep
from tactful.engine.textprep import OVERLAP_DIVISOR, prepare_text, windows
from tactful.profile.load import TaskSettings

TASK = TaskSettings()  # the defaults a profile gets
FILLER = "the cat sat on a mat. "


def task(**changes: object) -> TaskSettings:
    return dataclasses.replace(TASK, **changes)


@given(
    text=st.text(alphabet="ab \n", max_size=3000),
    width=st.integers(min_value=8, max_value=400),
)
def test_windows_hold_every_short_span_whole(text: str, width: int) -> None:
    parts = list(windows(text, width))
    assert all(len(part) <= width for part in parts)
    starts = located(text, parts)
    assert starts[0] == 0 and starts[-1] + len(parts[-1]) == len(text)
    # Any span of up to the overlap lies inside one window, wherever the edges fell.
    span = width // OVERLAP_DIVISOR
    for begin in range(0, len(text) - span + 1):
        assert any(s <= begin and begin + span <= s + len(p) for s, p in zip(starts, parts)), begin


def located(text: str, parts: list[str]) -> list[int]:
    """Where each window starts in ``text`` (they start in order)."""
    starts, position = [], 0
    for part in parts:
        position = text.index(part, position)
        starts.append(position)
        position += 1
    return starts


def test_windows_cut_at_whitespace_and_overlap_by_a_quarter() -> None:
    text = " ".join(f"w{n:03d}" for n in range(200))  # 999 characters, a space every 5
    parts = list(windows(text, 100))
    assert all(not part.startswith(" ") and not part.endswith(" ") for part in parts)
    starts = located(text, parts)
    assert all(len(part) >= 75 for part in parts[:-1])  # ended in the last quarter
    for start, part, following in zip(starts, parts, starts[1:]):
        assert start + 25 <= following <= start + len(part) - 25


def test_an_insult_across_a_boundary_is_whole_in_one_window() -> None:
    # Cut into consecutive 6000-character parts, this sentence would be split in two.
    text = "x" * 5990 + " you are a total idiot, really " + "y" * 3000
    prepared = prepare_text(text, TASK)
    assert any("you are a total idiot, really" in chunk for chunk in prepared.chunks)
    assert prepared.notes == [f"judged whole in {len(prepared.chunks)} overlapping windows of at most 6000 characters"]
    assert not prepared.truncated


def test_windows_are_the_default_and_a_5_mb_text_is_normalised_a_window_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def normalize(text: str) -> str:
        seen.append(len(text))
        return text.replace("\u200b", "")

    monkeypatch.setattr(textprep, "normalize_text", normalize)
    text = FILLER * 230_000 + "you i\u200bd\u200bi\u200bo\u200bt"
    prepared = prepare_text(text, task(second_look=False))  # (its own test's business)
    assert TASK.long_text == "split"
    assert max(seen) <= TASK.max_chars  # never the whole 5 MB at once
    assert prepared.chunks[-1].endswith("you idiot") and prepared.normalized
    assert all(len(chunk) <= TASK.max_chars for chunk in prepared.chunks)
    assert len(text) / 6000 < len(prepared.chunks) < len(text) / 4400


def test_truncation_is_asked_for_and_marked() -> None:
    prepared = prepare_text("a" * 7000, task(long_text="truncate"))
    assert prepared.chunks == ["a" * 6000] and prepared.truncated
    assert prepared.notes == ["truncated from 7000 to 6000 characters"]


def test_a_text_that_fits_after_normalising_is_one_chunk() -> None:
    text = "\u200b".join("idiot") + " " + "a" * 5994  # 6004 characters, 6000 once normalised
    prepared = prepare_text(text, TASK)
    assert prepared.chunks == ["idiot " + "a" * 5994] and prepared.normalized
    assert prepared.notes == [] and not prepared.truncated


def test_error_mode_judges_nothing() -> None:
    prepared = prepare_text("a" * 7000, task(long_text="error"))
    assert prepared.chunks == [] and prepared.error is not None and prepared.error.startswith("text has 7000 characters")
