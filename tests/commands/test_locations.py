"""A message about one record names where it came from once (issue 22, item 18).

A reader's error already begins with the record's place (``x.jsonl:1: invalid JSON``);
the commands that report a record's problem add the place only to problems of their own.
"""

from __future__ import annotations

import json
from pathlib import Path

from tactful.records import InputRecord

from tests.conftest import write_profile


def policy_profile(tmp_path: Path, cases: str) -> Path:
    (tmp_path / "policy.jsonl").write_text(cases)
    return write_profile(tmp_path / "p.toml", 'version = 1\ntests = "policy.jsonl"\n[categories.toxicity]\n')


def test_a_record_names_its_place_once():
    unreadable = InputRecord("x.jsonl:1", None, {}, "x.jsonl:1", "x.jsonl:1: invalid JSON")
    assert unreadable.located("x.jsonl:1: invalid JSON") == "x.jsonl:1: invalid JSON"
    judged = InputRecord("case-7", "text", {}, "x.jsonl:7")
    assert judged.located("expected flagged") == "x.jsonl:7: expected flagged"
    assert judged.located("expected flagged", judged.id) == "case-7: expected flagged"


def test_an_unreadable_policy_case_is_reported_with_its_place_once_and_no_text(cli, ollama_args, fake_ollama, tmp_path):
    profile = policy_profile(tmp_path, 'not json\n' + json.dumps({"id": "nice", "text": "all fine", "labels": ["toxicity"]}) + "\n")
    run = cli("eval", "-p", profile, *ollama_args)
    assert run.code == 1, run.stderr
    failures = [line.strip() for line in run.stdout.splitlines() if line.strip().startswith("FAIL")]
    source = tmp_path / "policy.jsonl"
    assert failures == [
        f"FAIL {source}:1: invalid JSON: Expecting value",  # not "...:1: ...:1: ...: None"
        "FAIL nice: expected flagged, got acceptable: 'all fine'",
    ]


def test_calibrate_warns_of_a_bad_line_with_its_place_once(cli, ollama_args, fake_ollama, tmp_path):
    data = tmp_path / "gold.jsonl"
    data.write_text('not json\n{"label": "toxicity"}\n')
    profile = write_profile(tmp_path / "p.toml", "version = 1\n[categories.toxicity]\n")
    run = cli("calibrate", "-p", profile, *ollama_args, "--dry-run", data)
    warnings = [line for line in run.stderr.splitlines() if line.startswith("tactful: warning:")]
    assert warnings == [
        f"tactful: warning: {data}:1: invalid JSON: Expecting value (skipped)",
        f"tactful: warning: {data}:2: no field 'text' (choose one with --field) (skipped)",
    ]
