"""calibrate's learning step: the model's representation of every labelled text, the
cross-validated choice between the prompt's probability, a head and both, and the head
file written (or removed) beside the profile.

Binary mode only: one "anything blocked" target, which is what a head decides.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rich.table import Table

from tactful.errors import BackendError, NoProbabilities, UsageError
from tactful.io.streams import failing_as
from tactful.learning import choose
from tactful.learning.head import BINARY_KEY, PROMPT, SavedHead, cv_quality, head_path, save_head
from tactful.moderator import Moderator
from tactful.records import InputRecord

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Learned:
    """What cross-validation chose, and the head to save where it is not the threshold."""

    choice: choose.Choice
    head: SavedHead | None  # None: the prompt's probability and its threshold decide


def learn(moderator: Moderator, items: Sequence[tuple[InputRecord, str | None]], positives: Sequence[bool],
          probabilities: Sequence[float], representation: str, max_fpr: float) -> Learned | None:
    """Cross-validate the candidates on the labelled texts; None where nothing can be learned
    here (said once: scikit-learn missing, or a backend without the representation)."""
    if not choose.available():
        _log.warning(f"only the threshold is fitted: learning a head needs scikit-learn (`{choose.INSTALL_HINT}`)")
        return None
    try:
        vectors = list(moderator.representations(items, prompt_state=representation == PROMPT))
    except (NoProbabilities, BackendError) as exc:
        _log.warning(f"only the threshold is fitted: no {representation} representation ({exc.message if isinstance(exc, BackendError) else exc})")
        return None
    try:
        choice = choose.cross_validate(positives, probabilities=probabilities, vectors=vectors, max_fpr=max_fpr)
    except UsageError as exc:
        _log.warning(f"only the threshold is fitted: {exc.message}")
        return None
    if choice.winner == choose.PROBABILITY:
        return Learned(choice, None)
    rule = choose.fit(choice.winner, positives, probabilities=probabilities, vectors=vectors, max_fpr=max_fpr)
    head = SavedHead(model=moderator.model_id(), representation=representation, prompt=moderator.fingerprint,
                     mode="binary", fitted=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     rules={BINARY_KEY: rule}, quality={BINARY_KEY: cv_quality(choice, choice.winner)})
    return Learned(choice, head)


def choice_report(choice: choose.Choice) -> tuple[Table, str]:
    """Every candidate's cross-validated F1 and FPR with their spread, the winner marked;
    and a line saying what they were measured on."""
    table = Table(title="cross-validated choice", header_style="bold")
    for column in ("decides", "F1", "FPR", ""):
        table.add_column(column, justify="left" if column in ("decides", "") else "right")
    for scored in choice.scored:
        table.add_row(scored.name, f"{scored.f1:.2f} +/- {scored.f1_sd:.2f}", f"{scored.fpr:.2f} +/- {scored.fpr_sd:.2f}",
                      "chosen" if scored.name == choice.winner else "")
    measured = (f"{choice.total} labelled texts ({choice.positives} harmful), {choice.repeats} repeats of "
                f"{choice.folds} folds, FPR cap {choice.max_fpr:g} (mean +/- standard deviation over the repeats)")
    return table, measured


def write_head(profile_path: Path, learned: Learned) -> str:
    """Save the chosen head beside the profile, or remove an old one the threshold replaces;
    a line saying which."""
    path = head_path(profile_path)
    if learned.head is not None:
        save_head(path, learned.head)
        return f"wrote the learned head ({learned.head.representation} representation) to {path}"
    if path.is_file():
        with failing_as(str(path), "cannot remove the old head"):
            path.unlink()
        return f"removed {path}: the threshold decides"
    return ""
