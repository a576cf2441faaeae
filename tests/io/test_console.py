"""``printable``: the one function that makes untrusted text safe to show on a terminal."""

from __future__ import annotations

import io
import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.table import Table
from tactful.io.console import console, json_safe, printable, say, styled

# Every character that could drive or deceive a terminal, and how it is shown.
UNSAFE = {
    "\x1b": "\\x1b",  # ESC: starts a CSI or OSC sequence
    "\x07": "\\x07",  # BEL
    "\r": "\\x0d",  # overwrites the line
    "\n": "\\x0a",  # forges a line of its own
    "\x7f": "\\x7f",  # DEL
    "\x9b": "\\x9b",  # C1 CSI
    "\u202e": "\\u202e",  # right-to-left override
    "\u2066": "\\u2066",  # left-to-right isolate
    "\u200b": "\\u200b",  # zero-width space: hides a word from a filter and from the eye
    "\ufeff": "\\ufeff",  # byte order mark
    "\u2028": "\\u2028",  # line separator
    "\udcff": "\\udcff",  # an undecodable byte of a file name
    "\U000e0069": "\\U000e0069",  # a tag character: invisible ASCII, read by a model
}
# Format characters that stay: joiners, and marks that are drawn (Arabic number signs,
# Egyptian hieroglyph, shorthand and musical layout controls).
KEPT_FORMAT = set("\u200c\u200d\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd")
KEPT_FORMAT |= {chr(c) for c in [*range(0x13430, 0x13440), *range(0x1BCA0, 0x1BCA4), *range(0x1D173, 0x1D17B)]}


def shown_safely(text: str) -> bool:
    """No character a terminal obeys, or that hides or reorders text (Unicode's own classes)."""
    return not any(
        unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or (unicodedata.category(c) == "Cf" and c not in KEPT_FORMAT)
        for c in text
    )


@pytest.mark.parametrize(("char", "shown"), UNSAFE.items())
def test_each_unsafe_character_is_shown_as_an_escape(char, shown):
    assert printable(f"a{char}b") == f"a{shown}b"


def test_what_is_safe_is_left_as_written():
    text = "Grüße, 你好 👨‍👩‍👧 [b]bold[/b] \\x1b tab-free"  # ZWJ joins an emoji family: kept
    assert printable(text) == text


@given(st.text(st.characters(exclude_categories=())))  # lone surrogates too
def test_printable_leaves_nothing_unsafe_and_changes_nothing_twice(text):
    shown = printable(text)
    assert shown_safely(shown)
    assert printable(shown) == shown


@given(st.recursive(st.text() | st.integers() | st.none(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)))
def test_json_safe_is_lossless_and_leaves_nothing_unsafe(value):
    document = json_safe(json.dumps(value, ensure_ascii=False))
    assert json.loads(document) == value
    assert shown_safely(document)


def test_a_console_escapes_every_string_and_keeps_table_columns_aligned():
    out = io.StringIO()
    table = Table("name", "note", box=None, pad_edge=False)
    table.add_row("\x1b[2Jx", "ok")
    table.add_row("plain", "ok")
    made = console(file=out)
    made.print(table)
    made.print("title \x1b]0;owned\x07")
    made.print(styled(("red \x9b1m", "red"), " \u202eplain"))
    lines = out.getvalue().splitlines()
    assert lines[1].index("ok") == lines[2].index("ok")  # measured escaped: the columns line up
    assert lines[1].startswith("\\x1b[2Jx")
    assert lines[3] == "title \\x1b]0;owned\\x07"
    assert lines[4] == "red \\x9b1m \\u202eplain"


def test_say_prints_one_line_however_many_lines_it_quotes():
    out = io.StringIO()
    say("tactful: error: a\nb.txt: no such file\x1b[2J", out)
    assert out.getvalue() == "tactful: error: a\\x0ab.txt: no such file\\x1b[2J\n"
