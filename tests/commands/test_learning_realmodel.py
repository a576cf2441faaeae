"""End to end on the real small model (SmolLM2-135M, embedded): calibrate fits a head on
the model's representation of labelled texts, and classify decides by it."""

from __future__ import annotations

import json

import pytest

from tests.conftest import write_profile
from tests.support.realmodel import ARGS, REAL_MODEL

pytestmark = REAL_MODEL

SPAM = ["WIN a FREE iPhone now, click http://win.example", "URGENT: claim your $1000 prize, text CLAIM to 80085",
        "Cheap pills online, no prescription, buy now", "You have been selected for a cash reward, reply YES",
        "Earn $500 a day from home, limited offer, click here", "Congratulations! Free cruise tickets, call now",
        "Hot singles near you, click to chat for free", "Lowest mortgage rates guaranteed, apply today online",
        "Free ringtones! Text TONE to 87121 now", "Final notice: your prize is waiting, claim at prize.example"]
HAM = ["Are we still meeting for lunch tomorrow?", "I left the keys on the kitchen table",
       "Thanks for the notes from today's class", "Can you pick up milk on your way home?",
       "The train is late again, see you at eight", "Happy birthday! Hope you have a lovely day",
       "Did you finish the report for Monday?", "Mum says dinner is at six on Sunday",
       "I'll call you after the football match", "The library closes early on Fridays"]


@pytest.fixture
def labelled(tmp_path):
    profile = write_profile(tmp_path / "sms.toml", "version = 1\n[model]\noptions = { num_ctx = 2048 }\n"
                                                   "[categories.spam]\nblocked = true\n")
    data = tmp_path / "labelled.jsonl"
    rows = [{"text": t, "label": "spam"} for t in SPAM] + [{"text": t, "label": "ham"} for t in HAM]
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return profile, data


def test_calibrate_fits_a_head_and_classify_decides_by_it(cli, labelled, tmp_path):
    profile, data = labelled
    run = cli("calibrate", *ARGS, "-p", profile, data, "--map", "ham=none", "--max-fpr", "0.2")
    assert run.code == 0, run.stderr
    assert "cross-validated choice" in run.stdout and "chosen: head" in run.stdout, run.stdout
    head = json.loads((tmp_path / "sms.head.json").read_text())
    assert head["representation"] == "text" and len(head["rules"]["flagged"]["weights"]) == 576  # SmolLM2's width

    out = cli("classify", *ARGS, "-p", profile, "--no-cache",
              input="Claim your FREE prize now, click http://prize.example\nSee you at the meeting tomorrow\n")
    assert out.code == 0, out.stderr
    moderation = [r["moderation"] for r in out.records]
    assert [m["decided_by"] for m in moderation] == ["head", "head"]
    assert [m["flagged"] for m in moderation] == [True, False]
    assert set(moderation[0]["scores"]) == {"head"}  # the prompt was not evaluated
