"""A review batch on the real small model (SmolLM2-135M, embedded): plumbing and the first pick, not labels."""

from __future__ import annotations

import json
import math

from tests.conftest import SAMPLES
from tests.support.realmodel import ARGS, LINES, REAL_MODEL

pytestmark = REAL_MODEL


def test_the_first_pick_is_the_flagged_text_nearest_the_threshold(cli, tmp_path):
    comments = str(SAMPLES / "comments.txt")
    judged = cli("classify", *ARGS, comments)
    assert judged.code == 0, judged.stderr
    by_id = {r["id"]: r["moderation"] for r in judged.records}
    scores = {rid: m["scores"]["flagged"] for rid, m in by_id.items()}

    batch = tmp_path / "next.jsonl"
    run = cli("review", *ARGS, comments, "--batch", "3", "-o", batch, "--labels", tmp_path / "reviewed.jsonl")
    assert run.code == 0, run.stderr
    picked = [json.loads(line) for line in batch.read_text().splitlines()]
    assert len({p["id"] for p in picked}) == 3 and all(p["labels"] is None for p in picked)
    assert all(p["text"] in LINES and p["moderation"] == by_id[p["id"]] for p in picked)
    flagged_side = [rid for rid, p in scores.items() if p >= 0.5]
    if flagged_side:  # nothing to say about the first pick when the model flags nothing
        nearest = min(flagged_side, key=lambda rid: abs(math.log(scores[rid] / (1 - scores[rid]))))
        assert picked[0]["id"] == nearest
