"""`tactful check` end to end against the fake Ollama server, the way a user runs it."""

from __future__ import annotations

import json
import math
import socket
import subprocess
from pathlib import Path

import pytest
from tactful.engine.leaning import CONTENT_FREE

from tests.conftest import write_profile
from tests.fake_ollama import item_text

DOC = """\
# Release notes

The new docs look great, thanks to everyone.

- you are an idiot for asking
- see the changelog

| Who | Said |
|-----|------|
| Bo  | click here for a free prize |
"""


def write(name: str, text: str) -> Path:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def judged(fake_ollama) -> list[str]:  # type: ignore[no-untyped-def]
    return [item_text(r) for r in fake_ollama.chat_requests()]


def test_findings_name_path_line_column_category_and_reason(cli, ollama_args, fake_ollama):
    write("docs/notes.md", DOC)
    run = cli("check", *ollama_args, "docs/notes.md")
    assert run.code == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("docs/notes.md:5:3: toxicity [0.90] Rude, disrespectful or hostile language")
    assert lines[1].startswith("docs/notes.md:10:9: spam [0.90] Unsolicited commercial or scam content")
    assert all(len(line.split(" ", 3)[3]) <= 72 for line in lines[:2])  # the reason, after the score
    assert lines[2] == (
        "tactful: 2 findings (2 at or above fail level low); 8 units judged in 1 file"
    )
    # Headings, paragraphs, list items and table cells were each judged on their own.
    assert judged(fake_ollama) == [
        "Release notes", "The new docs look great, thanks to everyone.", "you are an idiot for asking",
        "see the changelog", "Who", "Said", "Bo", "click here for a free prize",
    ]


def test_binary_profile_is_asked_per_category(cli, ollama_args, fake_ollama):
    write("a.md", "you idiot\n")
    run = cli("check", *ollama_args, "a.md")
    assert run.code == 1
    schema = fake_ollama.chat_requests()[0]["format"]
    assert set(schema["properties"]) == {"toxicity", "spam", "negative-sentiment", "manipulation"}


def test_clean_files_exit_0(cli, ollama_args, fake_ollama):
    write("a.md", "Thanks for the docs.\n\n- nice\n")
    write("b.txt", "A plain note.\n\nAnother one.\n")
    run = cli("check", *ollama_args, "a.md", "b.txt")
    assert run.code == 0, run.stderr
    assert run.stdout == "tactful: 0 findings (0 at or above fail level low); 4 units judged in 2 files\n"


def test_unblocked_category_is_not_a_finding(cli, ollama_args, fake_ollama):
    write("a.md", "I am disappointed with this release.\n")
    run = cli("check", *ollama_args, "a.md")
    assert run.code == 0
    assert run.stdout.startswith("tactful: 0 findings")


FAIL_HIGH = """\
version = 1
[model]
name = "fake-model:1b"
[categories.toxicity]
blocked = true
[categories.threat]
blocked = true
[check]
fail_level = "high"
"""


def test_findings_below_the_fail_level_are_reported_but_pass(cli, ollama_args, fake_ollama):
    write_profile(Path("tactful.toml"), FAIL_HIGH)
    write("a.md", "what a moron\n")
    run = cli("check", *ollama_args, "a.md")
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("a.md:1:1: toxicity ")
    assert "1 finding (0 at or above fail level high)" in run.stdout
    github = cli("check", *ollama_args, "--format", "github", "a.md")
    assert github.code == 0
    assert github.stdout.startswith("::warning file=a.md,line=1,col=1,title=tactful toxicity::toxicity [0.90] Rude")


def test_github_annotations(cli, ollama_args, fake_ollama):
    write("docs/a, b.md", "ok text\n\n  - buy now: 100% off\n")
    run = cli("check", *ollama_args, "--format", "github", "docs/a, b.md")
    assert run.code == 1
    first, summary = run.stdout.splitlines()
    assert first.startswith("::error file=docs/a%2C b.md,line=3,col=5,title=tactful spam::spam [0.90] Unsolicited")
    assert summary.startswith("tactful: 1 finding (1 at or above fail level low)")


def test_json_report(cli, ollama_args, fake_ollama):
    write("a.md", "hello\n\nyou loser\n")
    run = cli("check", *ollama_args, "--format", "json", "--explain", "a.md")
    assert run.code == 1
    report = json.loads(run.stdout)
    (finding,) = report["findings"]
    assert finding["path"] == "a.md" and (finding["line"], finding["col"]) == (3, 1)
    assert finding["category"] == "toxicity" and finding["severity"] == "medium"
    assert finding["reason"] == "matched keywords"  # the model's rationale, with --explain
    assert finding["failing"] is True and finding["score"] == 0.9 and len(finding["hash"]) == 16
    assert report["summary"] == {"files": 1, "units": 2, "findings": 1, "failing": 1, "fail_level": "low", "baselined": 0, "truncated": 0}


def test_a_long_unit_is_judged_whole_or_its_truncation_counted(cli, ollama_args, fake_ollama):
    write_profile(Path("tactful.toml"), 'version = 1\n[task]\nmax_chars = 100\n[categories.toxicity]\n')
    write("a.md", "a calm remark " * 10 + "you idiot\n")
    whole = cli("check", *ollama_args, "a.md")
    assert whole.code == 1, whole.stderr  # the insult after 140 characters was read
    assert "truncated" not in whole.stdout
    write_profile(Path("tactful.toml"), 'version = 1\n[task]\nmax_chars = 100\nlong_text = "truncate"\n[categories.toxicity]\n')
    cut = cli("check", *ollama_args, "a.md")
    assert cut.code == 0
    assert cut.stdout == "tactful: 0 findings (0 at or above fail level low), 1 unit truncated to task.max_chars; 1 unit judged in 1 file\n"
    report = json.loads(cli("check", *ollama_args, "--format", "json", "a.md").stdout)
    assert report["summary"]["truncated"] == 1


def test_a_long_unit_edited_at_its_end_is_asked_again_only_about_the_last_windows(cli, ollama_args, fake_ollama):
    write_profile(Path("tactful.toml"), 'version = 1\n[task]\nmax_chars = 100\n[categories.toxicity]\n')
    paragraph = " ".join(f"calm remark number {n}." for n in range(60))
    write("a.md", paragraph + "\n")
    assert cli("check", *ollama_args, "a.md").code == 0
    first = len(fake_ollama.chat_requests())
    assert first > 10  # one request a window
    write("a.md", paragraph + " And you are an idiot.\n")
    edited = cli("check", *ollama_args, "a.md")
    assert edited.code == 1
    # Windows are cut from the start: all but the last ones are the same, and cached.
    assert len(fake_ollama.chat_requests()) - first <= 3


# ---------------------------------------------------------------- ignores

IGNORES = """\
<!-- tactful: ignore -->
you idiot, block one
still the ignored block

trailing ignore-line, idiot <!-- tactful: ignore-line -->
<!-- tactful: ignore-line -->
- stupid item skipped
- kept item

<!-- tactful: off -->
win a prize, moron

| idiot table |
|---|
<!-- tactful: on -->

<!-- tactful: ignore spam -->
you idiot, click to win

buy this, loser <!-- tactful: ignore-line toxicity -->
"""


def test_every_ignore_form_in_markdown(cli, ollama_args, fake_ollama):
    write("a.md", IGNORES)
    run = cli("check", *ollama_args, "a.md")
    assert run.code == 1, run.stderr
    assert [line.split(" ", 2)[:2] for line in run.stdout.splitlines()[:-1]] == [
        ["a.md:18:1:", "toxicity"],
        ["a.md:20:1:", "spam"],
    ]
    # Fully ignored text never reaches the model; per-category ignores still need it.
    assert judged(fake_ollama) == ["kept item", "you idiot, click to win", "buy this, loser"]


def test_every_ignore_form_in_plain_text(cli, ollama_args, fake_ollama):
    write("notes.txt", IGNORES.replace("<!-- ", "# ").replace(" -->", "").replace("|", ""))
    run = cli("check", *ollama_args, "notes.txt")
    assert run.code == 1, run.stderr
    assert [line.split(" ", 2)[:2] for line in run.stdout.splitlines()[:-1]] == [
        ["notes.txt:18:1:", "toxicity"],
        ["notes.txt:20:1:", "spam"],
    ]


def test_misspelt_directive_is_a_usage_error_with_position(cli, ollama_args, fake_ollama):
    write("a.md", "text\n\n  <!-- tactful: ignore spma -->\n")
    run = cli("check", *ollama_args, "a.md")
    assert run.code == 2
    assert run.stderr == "tactful: error: a.md:3:3: unknown category 'spma' in tactful directive (did you mean 'spam'?)\n"
    assert fake_ollama.chat_requests() == []


def test_profile_check_types_choose_how_files_are_read(cli, ollama_args, fake_ollama):
    write_profile(Path("tactful.toml"), 'version = 1\n[categories.toxicity]\n[check.types]\n"notes/*.txt" = "markdown"\n')
    write("notes/a.txt", "```\nidiot in a code block\n```\n")
    write("other.txt", "```\nidiot in a code block\n```\n")
    run = cli("check", *ollama_args, "notes/a.txt", "other.txt")
    assert run.code == 1
    assert run.stdout.splitlines()[0].startswith("other.txt:1:1: toxicity")
    forced = cli("check", *ollama_args, "--type", "markdown", "other.txt")
    assert forced.code == 0


def test_bad_check_types_value_is_a_config_error(cli, ollama_args):
    write_profile(Path("tactful.toml"), 'version = 1\n[categories.toxicity]\n[check.types]\n"*.txt" = "rst"\n')
    write("a.txt", "x\n")
    run = cli("check", *ollama_args, "a.txt")
    assert run.code == 2
    assert "tactful.toml:4: 'check.types.*.txt' must be one of markdown, text, not 'rst'" in run.stderr


# ---------------------------------------------------------------- exit codes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_backend_exits_3(cli):
    write("a.md", "some text\n")
    run = cli("check", "--host", f"http://127.0.0.1:{free_port()}", "a.md")
    assert run.code == 3
    assert run.stderr.startswith("tactful: error: cannot reach Ollama")


def test_nothing_to_judge_needs_no_backend(cli):
    write("a.md", "```\ncode only\n```\n<!-- tactful: ignore -->\nskipped\n")
    run = cli("check", "--host", f"http://127.0.0.1:{free_port()}", "a.md")
    assert run.code == 0, run.stderr
    assert "0 units judged in 1 file" in run.stdout


def test_unjudged_unit_is_reported_and_exits_4(cli, ollama_args, fake_ollama):
    fake_ollama.responder = lambda body: "not json"
    write("a.md", "hello\n")
    run = cli("check", *ollama_args, "a.md")
    assert run.code == 4
    assert run.stdout.startswith("a.md:1:1: error: invalid answer from model: answer is not JSON")
    assert "1 unit not judged" in run.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "check needs files to read"),
        (["missing.md"], "missing.md: no such file"),
        (["--diff", "HEAD", "--staged", "a.md"], "use --diff REF or --staged, not both"),
        (["--baseline", "b.json", "--write-baseline", "c.json", "a.md"], "use --baseline or --write-baseline, not both"),
        (["--baseline", "none.json", "a.md"], "none.json: baseline not found"),
        (["latin1.md"], "latin1.md: not valid UTF-8 (byte 1)"),
    ],
)
def test_usage_errors_exit_2(cli, ollama_args, args: list[str], message: str):
    write("a.md", "x\n")
    Path("latin1.md").write_bytes(b"h\xe9llo\n")
    run = cli("check", *ollama_args, *args)
    assert run.code == 2
    assert run.stderr.startswith(f"tactful: error: {message}"), run.stderr


# ---------------------------------------------------------------- baseline


def test_baseline_hides_known_findings_even_after_they_move(cli, ollama_args, fake_ollama):
    write("a.md", "intro\n\nyou idiot\n")
    wrote = cli("check", *ollama_args, "--write-baseline", "baseline.json", "a.md")
    assert wrote.code == 0
    assert wrote.stderr == "tactful: wrote 1 finding to baseline.json\n"
    recorded = json.loads(Path("baseline.json").read_text())
    assert [(e["path"], e["category"], e["line"]) for e in recorded["findings"]] == [("a.md", "toxicity", 3)]

    write("a.md", "a new first paragraph\n\nintro\n\nyou  idiot\n")
    moved = cli("check", *ollama_args, "--baseline", "baseline.json", "a.md")
    assert moved.code == 0, moved.stdout
    assert moved.stdout.startswith("tactful: 0 findings (0 at or above fail level low), 1 more known to the baseline")

    write("a.md", "intro\n\nyou idiot\n\nbuy a prize\n")
    new = cli("check", *ollama_args, "--baseline", "baseline.json", "a.md")
    assert new.code == 1
    assert new.stdout.splitlines()[0].startswith("a.md:5:1: spam ")
    assert len(new.stdout.splitlines()) == 2


def test_broken_baseline_is_a_config_error(cli, ollama_args):
    write("a.md", "x\n")
    write("b.json", "{not json")
    run = cli("check", *ollama_args, "--baseline", "b.json", "a.md")
    assert run.code == 2
    assert run.stderr.startswith("tactful: error: b.json:1: baseline is not valid JSON")


# ---------------------------------------------------------------- --diff and --staged


def git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false", *args],
        capture_output=True, text=True, check=True,
    )
    return done.stdout


@pytest.fixture
def repo() -> Path:
    git("init", "-q", "-b", "main")
    write("docs/a.md", "# Title\n\nold idiot paragraph\n\nkept paragraph\n")
    git("add", "-A")
    git("commit", "-qm", "start")
    return Path.cwd()


def test_diff_judges_only_units_touching_changed_lines(cli, ollama_args, fake_ollama, repo):
    write("docs/a.md", "# Title\n\nold idiot paragraph\n\nkept paragraph\nnow with a prize\n\nnew moron line\n")
    write("docs/new.md", "untracked: click to win\n")
    run = cli("check", *ollama_args, "--diff", "HEAD", "docs/a.md", "docs/new.md")
    assert run.code == 1, run.stderr
    assert [line.split(" ", 2)[:2] for line in run.stdout.splitlines()[:-1]] == [
        ["docs/a.md:5:1:", "spam"],
        ["docs/a.md:8:1:", "toxicity"],
        ["docs/new.md:1:1:", "spam"],
    ]
    assert judged(fake_ollama) == ["kept paragraph\nnow with a prize", "new moron line", "untracked: click to win"]


def test_deleting_a_line_rejudges_its_unit(cli, ollama_args, fake_ollama, repo):
    write("docs/b.md", "first line, you idiot\nsecond line\n\nlast paragraph\n")
    git("add", "-A")
    git("commit", "-qm", "b")
    write("docs/b.md", "first line, you idiot\n\nlast paragraph\n")
    run = cli("check", *ollama_args, "--diff", "HEAD", "docs/b.md")
    assert judged(fake_ollama) == ["first line, you idiot"]
    assert run.code == 1


def test_staged_judges_only_what_is_staged(cli, ollama_args, fake_ollama, repo):
    write("docs/a.md", "# Title\n\nold idiot paragraph\n\nkept paragraph\n\nstaged loser\n")
    git("add", "docs/a.md")
    write("docs/b.md", "unstaged file, idiot\n")
    run = cli("check", *ollama_args, "--staged", "docs/a.md", "docs/b.md")
    assert run.code == 1
    assert judged(fake_ollama) == ["staged loser"]


def test_staged_with_no_files_finds_them_and_skips_deletions_and_code(cli, ollama_args, fake_ollama, repo):
    write("docs/b.md", "staged idiot note\n")
    write("script.py", "print('you idiot')\n")
    git("add", "docs/b.md", "script.py")
    git("rm", "-q", "docs/a.md")  # a staged deletion
    run = cli("check", *ollama_args, "--staged", "--format", "github")
    assert run.code == 1, run.stderr
    assert judged(fake_ollama) == ["staged idiot note"]  # not the Python file, not the deleted one
    # The help's own form, with the deleted file named on the command line, works too.
    listed = cli("check", *ollama_args, "--staged", "docs/a.md", "docs/b.md", "script.py")
    assert listed.code == 1, listed.stderr


def test_staged_judges_the_index_not_the_working_copy(cli, ollama_args, fake_ollama, repo):
    # Staged: an insult on line 5 of the index's copy. Working copy: clean, and longer above.
    write("docs/a.md", "# Title\n\nold idiot paragraph\n\nstaged loser here\n")
    git("add", "docs/a.md")
    write("docs/a.md", "# Title\n\nintro\n\nold idiot paragraph\n\nstaged remark here\n")
    for args in (["docs/a.md"], []):
        run = cli("check", *ollama_args, "--staged", *args)
        assert run.code == 1, run.stderr
        assert run.stdout.splitlines()[0].startswith("docs/a.md:5:1: toxicity ")
    assert judged(fake_ollama) == ["staged loser here"]  # the second run's from the cache


def test_staged_ignores_an_insult_only_in_the_working_copy(cli, ollama_args, fake_ollama, repo):
    write("docs/a.md", "# Title\n\nold idiot paragraph\n\nkept paragraph, edited\n")
    git("add", "docs/a.md")
    write("docs/a.md", "# Title\n\nold idiot paragraph\n\nkept paragraph, you moron\n")
    run = cli("check", *ollama_args, "--staged", "docs/a.md")
    assert run.code == 0, run.stdout
    assert judged(fake_ollama) == ["kept paragraph, edited"]


def test_staged_added_renamed_and_deleted_files_are_read_from_the_index(cli, ollama_args, fake_ollama, repo):
    write("docs/gone.md", "deleted stupid text\n")
    git("add", "docs/gone.md")
    git("commit", "-qm", "gone")
    git("rm", "-q", "--cached", "docs/gone.md")  # deleted in the index, kept on disk
    write("docs/new.md", "intro\n\nadded loser\n")
    git("add", "docs/new.md")
    Path("docs/new.md").unlink()  # gone from the working copy, still in the commit
    git("mv", "docs/a.md", "docs/moved.md")
    write("docs/moved.md", "# Title\n\nworking copy only\n")  # not staged
    for args in ([], ["docs/new.md", "docs/moved.md", "docs/gone.md"]):
        run = cli("check", *ollama_args, "--staged", *args)
        assert run.code == 1, run.stderr
        # A renamed file is new at its new path: judged whole, as staged.
        assert sorted(line.split(" ", 2)[:2] for line in run.stdout.splitlines()[:-1]) == [
            ["docs/moved.md:3:1:", "toxicity"],
            ["docs/new.md:3:1:", "toxicity"],
        ]
        assert "units judged in 2 files" in run.stdout


def test_staged_file_that_is_not_utf8_is_a_usage_error(cli, ollama_args, fake_ollama, repo):
    Path("docs/latin1.md").write_bytes(b"h\xe9llo\n")
    git("add", "docs/latin1.md")
    run = cli("check", *ollama_args, "--staged")
    assert run.code == 2
    assert run.stderr.startswith("tactful: error: docs/latin1.md: not valid UTF-8 (byte 1)"), run.stderr


def test_nothing_staged_passes(cli, ollama_args, fake_ollama, repo):
    run = cli("check", *ollama_args, "--staged")
    assert run.code == 0, run.stderr
    assert "0 units judged in 0 files" in run.stdout
    assert fake_ollama.chat_requests() == []


def test_diff_against_an_unknown_ref_is_a_usage_error(cli, ollama_args, repo):
    run = cli("check", *ollama_args, "--diff", "no-such-ref", "docs/a.md")
    assert run.code == 2
    assert "no-such-ref" in run.stderr and run.stderr.startswith("tactful: error: git diff: ")


def test_diff_outside_a_repository_is_a_usage_error(cli, ollama_args):
    write("a.md", "x\n")
    run = cli("check", *ollama_args, "--diff", "HEAD", "a.md")
    assert run.code == 2
    assert "not a git repository" in run.stderr


# ---------------------------------------------------------------- speed


def test_second_check_of_unchanged_files_makes_no_model_requests(cli, ollama_args, fake_ollama):
    write("a.md", DOC)
    first = cli("check", *ollama_args, "a.md")
    sent = len(fake_ollama.chat_requests())
    assert sent == 8
    second = cli("check", *ollama_args, "a.md")
    assert second.stdout == first.stdout and second.code == first.code
    assert len(fake_ollama.chat_requests()) == sent


def test_scores_come_from_log_probabilities(cli, ollama_args, fake_ollama):
    from tests.fake_ollama import chat_response

    def answer(body):  # type: ignore[no-untyped-def]
        pieces = [('{"toxicity": ', None), ("true", 0.9), (', "spam": ', None), ("false", 0.2),
                  (', "negative-sentiment": ', None), ("false", 0.1),
                  (', "manipulation": ', None), ("false", 0.05), ("}", None)]
        entries = []
        for token, p_true in pieces:
            top = [] if p_true is None else [{"token": "true", "logprob": math.log(p_true)},
                                            {"token": "false", "logprob": math.log(1 - p_true)}]
            entries.append({"token": token, "logprob": -0.01, "top_logprobs": top})
        return chat_response(body["model"], "".join(t for t, _ in pieces), entries)

    fake_ollama.responder = answer
    write("a.md", "some text\n")
    run = cli("check", *ollama_args, "--scores", "a.md")
    assert run.code == 1, run.stderr
    assert run.stdout.startswith("a.md:1:1: toxicity [0.90] Rude")
    assert fake_ollama.chat_requests()[0]["logprobs"] is True


def test_multiclass_profile_reports_the_chosen_category(cli, ollama_args, fake_ollama):
    write_profile(Path("tactful.toml"), (
        'version = 1\n[task]\nmode = "multiclass"\n[categories.spam]\n'
        '[categories.off-topic-politics]\ndescription = "Party politics and elections."\nseverity = "low"\n'
        '[check]\nfail_level = "medium"\n'
    ))
    write("a.md", "Vote in the election!\n")
    run = cli("check", *ollama_args, "a.md")
    assert run.code == 0, run.stderr
    # The score is P(flagged) x the category's share of the name: the stand-in is 0.9 sure.
    assert run.stdout.splitlines()[0] == "a.md:1:1: off-topic-politics [0.90] Party politics and elections."
    # The flag, then its name read one token at a time after the answer's opening: ' "' (which
    # every value starts with), then the slug. Then the same about three empty texts, once,
    # measures the model's leaning among the categories.
    assert [r["messages"][-1]["content"] for r in fake_ollama.chat_requests()] == ['{"flagged":']
    naming = fake_ollama.naming_requests()
    assert [r["messages"][-1]["content"] for r in naming] == ['{"category":', '{"category": "'] * 4
    assert [item_text(r) for r in naming[::2]] == ["Vote in the election!", *CONTENT_FREE]
    assert "- off-topic-politics: Party politics" in fake_ollama.chat_requests()[0]["messages"][0]["content"]
