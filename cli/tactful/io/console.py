"""Consoles for people, built in one place so that text is never markup.

Every console here has rich markup, emoji codes and highlighting turned off: anything a
user or a model wrote (a forum post with ``[url]...[/url]`` BBCode, a category
description with ``[/]``) is printed exactly as written and cannot restyle or break what
the moderator sees. tactful's own styling goes through ``style=`` or ``rich.text.Text``.
Control characters are shown as escapes (``printable``) wherever a text reaches a cell.
"""

from __future__ import annotations

import os
import re
from typing import IO

from rich.console import Console
from rich.text import Text

# rich passes ESC through: a text must not be able to clear or retitle the terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


# Where output goes to a pipe or a file and $COLUMNS says nothing, tables get this width
# rather than rich's 80, which squeezes a definition column to a word a line.
PIPE_WIDTH = 160


def console(stderr: bool = False, file: IO[str] | None = None, soft_wrap: bool = True) -> Console:
    """A console for messages (long lines left whole) or, with ``soft_wrap=False``, for
    tables whose long cells rich should wrap."""
    made = Console(file=file, stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=soft_wrap)
    if not made.is_terminal and "COLUMNS" not in os.environ:
        made.width = PIPE_WIDTH
    return made


def printable(text: str) -> str:
    """``text`` with control characters written as ``\\x1b``-style escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line of plain strings and (text, style) pairs: ``styled(("ok", "green"), "  profile")``."""
    return Text.assemble(*parts)
