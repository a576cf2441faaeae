"""`tactful guard`: a stream passes through until it turns harmful, then stops at once."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from tests.fake_ollama import item_text

BENIGN = "Thanks for the update, the release notes look good. See you at the meetup on Friday.\n"
TURNS = "Thanks for the update, the release notes look good. But honestly you are an idiot, and "


def test_a_benign_stream_passes_whole_and_exits_0(cli, ollama_args, fake_ollama):
    run = cli("guard", *ollama_args, "--first", "20", "--every", "20", input=BENIGN)
    assert run.code == 0, run.stderr
    assert run.stdout == BENIGN
    # Judged as it grew: each check saw the whole text so far, ending at a clause boundary.
    judged = [item_text(r) for r in fake_ollama.chat_requests()]
    assert len(judged) >= 2 and all(BENIGN.startswith(t) for t in judged)
    assert judged[-1] == BENIGN


def test_the_stream_stops_where_it_turns_and_names_the_category(cli, ollama_args, fake_ollama):
    run = cli("guard", *ollama_args, "--first", "20", "--every", "20", input=TURNS + "more words that never come out.\n")
    assert run.code == 1
    # What was judged acceptable passed; the clause with the insult and all after it did not.
    assert run.stdout == "Thanks for the update, the release notes look good."
    assert run.stderr.strip().endswith(f"tactful: guard: stopped after {len(run.stdout)} characters: toxicity (score 0.90)")


def test_events_are_json_lines_for_programs(cli, ollama_args, fake_ollama):
    run = cli("guard", *ollama_args, "--first", "20", "--every", "20", "--events", input=TURNS)
    events = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events][-1] == "stop"
    assert {e["event"] for e in events[:-1]} == {"check"}
    stop = events[-1]
    assert stop["labels"] == ["toxicity"] and stop["flagged"] is True and stop["offset"] == len(run.stdout)
    assert stop["judged"] > stop["offset"]


def test_a_check_that_cannot_be_judged_stops_the_stream(cli, ollama_args, fake_ollama):
    fake_ollama.responder = lambda body: "I cannot help with that."
    run = cli("guard", *ollama_args, "--first", "10", input=BENIGN)
    assert run.code == 4  # fail closed
    assert run.stdout == ""
    assert "could not be judged" in run.stderr


def test_text_passes_as_it_arrives_and_the_stop_comes_before_the_writer_ends(ollama_args):
    proc = subprocess.Popen(
        [sys.executable, "-m", "tactful", "guard", *ollama_args, "--first", "10", "--every", "10"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"Good morning, everyone. ")
    proc.stdin.flush()
    # The first clause comes out while the writer is still writing.
    assert proc.stdout.read(len(b"Good morning,")) == b"Good morning,"
    proc.stdin.write(b"What a stupid idea, ")
    proc.stdin.flush()
    started = time.monotonic()
    code = proc.wait(timeout=30)  # stops without waiting for the end of its input
    assert code == 1 and time.monotonic() - started < 30
    rest = proc.stdout.read()
    assert b"stupid" not in rest
    assert b"stopped after" in proc.stderr.read()
    proc.stdin.close()


def test_an_empty_stream_judges_nothing_and_is_not_a_success(cli, ollama_args, fake_ollama):
    run = cli("guard", *ollama_args, input="")
    assert run.code == 4
    assert run.stdout == ""
    assert "the input held no text; nothing was judged" in run.stderr
    assert fake_ollama.chat_requests() == []


def test_a_stream_of_blanks_judges_nothing_and_is_not_a_success(cli, ollama_args, fake_ollama):
    blanks = "  \n\t\n" * 30  # past --first: a check would be due, were there anything to judge
    run = cli("guard", *ollama_args, "--first", "10", input=blanks)
    assert run.code == 4, run.stderr
    assert "the input held no text; nothing was judged" in run.stderr
    assert fake_ollama.chat_requests() == []
    assert run.stdout == blanks  # passed through all the same: blanks harm no one


def test_bytes_that_are_not_utf8_pass_through_unchanged_and_are_judged_as_replacement_characters(ollama_args, fake_ollama):
    stream = b"Good morning \xff\xfe everyone, caf\xc3\xa9 and \xe2\x82 crumbs, see you all soon.\n\xc3"
    done = subprocess.run([sys.executable, "-m", "tactful", "guard", *ollama_args, "--first", "10", "--every", "10"],
                          input=stream, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == stream
    judged = item_text(fake_ollama.chat_requests()[-1])
    assert judged == stream.decode("utf-8", "surrogateescape").translate({c: "\ufffd" for c in range(0xDC80, 0xDD00)})


def test_event_scores_are_rounded_as_in_records(cli, ollama_args, fake_ollama):
    run = cli("guard", *ollama_args, "--first", "20", "--every", "20", "--events", input=BENIGN)
    assert run.code == 0, run.stderr
    scores = [score for line in run.stderr.splitlines() if line.startswith("{")
              for score in (json.loads(line).get("scores") or {}).values()]
    assert scores and set(scores) == {0.1}  # 1 - 0.9, not 0.09999999999999998
