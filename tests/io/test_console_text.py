"""User and model text is never console markup: whatever the text, it is printed as written.

Property-based: arbitrary text (brackets, BBCode, rich markup, backslashes, emoji) goes
through the tables and messages of `examples list`, `profile show` and `eval`'s policy
report, and comes out as the same characters.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tactful.io.console import printable

from tests.fake_ollama import keyword_labels

# One line of text: no control characters (printed as escapes) and no line breaks (a
# table cell folds on them); markup's own characters are drawn often.
PIECES = ["[", "]", "/", "\\", ":", "=", "#", "@", "b", " ", "url", "[/]", "[b]", "[/url]", "[bold red]", "é", "😀"]
MARKUPISH = st.lists(st.sampled_from(PIECES), min_size=1, max_size=10).map("".join).filter(str.strip)
LINE = st.one_of(MARKUPISH, st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Zs")), min_size=1, max_size=24))
WIDE = {"COLUMNS": "400"}  # wide enough that no cell folds


def fresh(tmp: Path, description: str = "Ads.") -> Path:
    profile = tmp / "p.toml"
    # TOML basic strings take JSON's escapes, but not surrogate pairs: keep non-ASCII as is.
    profile.write_text(f"version = 1\n[categories.spam]\nblocked = true\ndescription = {json.dumps(description, ensure_ascii=False)}\n")
    profile.with_name("p.examples.jsonl").unlink(missing_ok=True)
    return profile


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=LINE)
def test_examples_list_prints_any_text_as_written(cli, tmp_path, text):
    profile = fresh(tmp_path)
    added = cli("examples", "add", "-p", profile, "--label", "spam", "--", text)
    assert added.code == 0, added.stderr
    listing = cli("examples", "list", "-p", profile, env=WIDE)
    assert listing.code == 0 and "Traceback" not in listing.stderr
    assert printable(text.strip()) in listing.stdout  # as written, bidi and invisible controls as escapes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=LINE)
def test_profile_show_prints_any_definition_as_written(cli, tmp_path, text):
    profile = fresh(tmp_path, description=text)
    shown = cli("profile", "show", "-p", profile, env=WIDE)
    assert shown.code == 0, shown.stderr
    # The table shows a definition with its runs of spaces collapsed: compare words, not spacing.
    assert " ".join(printable(text).split()) in " ".join(shown.stdout.split())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=LINE)
def test_a_failing_policy_case_is_printed_as_written(cli, tmp_path, ollama_args, fake_ollama, text):
    assume(not keyword_labels(text))  # the fake model must find nothing, so that the case fails
    profile = fresh(tmp_path)
    tests = tmp_path / "policy.jsonl"
    tests.write_text(json.dumps({"text": text, "labels": ["spam"]}) + "\n")  # the fake model finds no spam
    profile.write_text(profile.read_text().replace("version = 1\n", f'version = 1\ntests = "{tests.name}"\n'))
    run = cli("eval", *ollama_args, "-p", profile, env=WIDE)
    assert run.code in (1, 4), run.stderr  # failed, or nothing could be judged (a blank-looking text)
    if run.code == 1:
        assert repr(text) in run.stdout  # the report quotes the case's text as a Python literal
