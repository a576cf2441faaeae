"""Consoles for people, built in one place so that text is never markup and never drives the terminal.

Every console here has rich markup, emoji codes and highlighting turned off: anything a
user or a model wrote (a forum post with ``[url]...[/url]`` BBCode, a category
description with ``[/]``) is printed exactly as written and cannot restyle or break what
the moderator sees. tactful's own styling goes through ``style=`` or ``styled``.

Nor can such text drive the terminal: ``printable`` is the one function that makes text
safe to show, and every way out to a person goes through it. A console from ``console``
applies it to every string it prints or puts in a table cell, ``styled`` to each of its
parts, ``say`` to a message line, ``json_safe`` to a JSON document; so a new printer
that uses them cannot forget.
"""

from __future__ import annotations

import os
import re
import sys
from typing import IO, Any

from rich.console import Console
from rich.text import Text

# What must not reach a terminal as it is: C0 controls (ESC starts a sequence that can
# clear the screen or set the window title, BEL rings, CR and LF forge lines), DEL, C1
# controls (0x9b is a CSI of its own); the invisible characters that reorder a line or
# hide text in it (bidi marks, embeddings, overrides and isolates; soft hyphen, zero-width
# space, word joiners, deprecated format controls, BOM, interlinear annotations, and the
# tag characters that smuggle invisible ASCII); line and paragraph separators; and lone
# surrogates (undecodable bytes of a file name), which cannot even be encoded. Joiners
# (ZWNJ, ZWJ) stay: emoji sequences and many scripts need them and they hide nothing.
_INVISIBLE = "\xad\u061c\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f\ud800-\udfff"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}]")
# The same characters where JSON has not escaped them already (it escapes C0 itself).
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_INVISIBLE}]")


# Where output goes to a pipe or a file and $COLUMNS says nothing, tables get this width
# rather than rich's 80, which squeezes a definition column to a word a line.
PIPE_WIDTH = 160


def printable(text: str) -> str:
    """``text`` with every character that could drive or deceive a terminal written as an
    escape: ``\\x1b`` for a control character, ``\\u202e`` for a bidi or invisible one."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def json_safe(document: str) -> str:
    """A JSON document with the characters ``printable`` escapes written as ``\\u`` and four hex digits.

    Lossless: they can only stand inside JSON strings, where the escape means the same
    character, so a program reads the same data and a terminal shows no raw control.
    """
    return _UNSAFE_IN_JSON.sub(_json_escape, document)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    high, low = divmod(code - 0x10000, 0x400)  # JSON spells the others as a surrogate pair
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"


def say(line: str, file: IO[str] | None = None) -> None:
    """Print one message line (stdout, or ``file``) with whatever it quotes made printable."""
    print(printable(line), file=file or sys.stdout, flush=True)


class _SafeConsole(Console):
    """A rich console that makes every string printable before laying it out.

    ``render_str`` is where rich turns each string it prints, or finds in a table cell or
    header, into text, and where it measures it: escaping there keeps columns aligned.
    """

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(printable(text), **kwargs)


def console(stderr: bool = False, file: IO[str] | None = None, soft_wrap: bool = True) -> Console:
    """A console for messages (long lines left whole) or, with ``soft_wrap=False``, for
    tables whose long cells rich should wrap."""
    made = _SafeConsole(file=file, stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=soft_wrap)
    if not made.is_terminal and "COLUMNS" not in os.environ:
        made.width = PIPE_WIDTH
    return made


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line of plain strings and (text, style) pairs, each made printable:
    ``styled(("ok", "green"), "  profile")``."""
    return Text.assemble(*(printable(p) if isinstance(p, str) else (printable(p[0]), p[1]) for p in parts))
