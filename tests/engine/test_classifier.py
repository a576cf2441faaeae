"""One decision for a text judged in windows: flagged if any window is, scores at their highest."""

from __future__ import annotations

from tactful.engine.answer import BY_PROBABILITY, Decision
from tactful.engine.classifier import merge_decisions


def test_windows_merge_to_any_flag_and_the_highest_scores() -> None:
    windows = [
        Decision(False, [], {"toxicity": 0.1, "spam": 0.3}, decided_by=BY_PROBABILITY),
        Decision(True, ["toxicity"], {"toxicity": 0.9, "spam": 0.2}, decided_by=BY_PROBABILITY),
        Decision(True, ["spam"], {"toxicity": 0.4, "spam": 0.7}, decided_by=BY_PROBABILITY),
    ]
    merged = merge_decisions(windows)
    assert merged.flagged and merged.labels == ["toxicity", "spam"]
    assert merged.scores == {"toxicity": 0.9, "spam": 0.7}


def test_a_window_without_scores_leaves_the_text_without_them() -> None:
    merged = merge_decisions([Decision(False, [], {"flagged": 0.2}), Decision(False, [], None)])
    assert not merged.flagged and merged.scores is None
