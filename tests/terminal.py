"""Running tactful in a real pseudo-terminal, and reading what a person would see there.

``in_terminal`` starts ``python -m tactful`` with stdout and stderr on the slave side of
a pty (stdin from a file, or the pty too), at a fixed size, and returns every byte the
terminal received. ``Screen`` replays those bytes the way a terminal does, just enough
for rich's output: printable characters, CR, LF, cursor up, erase line; colours and
cursor visibility are read and ignored. Used by the tests of what reaches a terminal.
"""

from __future__ import annotations

import errno
import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from dataclasses import dataclass
from pathlib import Path


@dataclass
class TerminalRun:
    code: int
    raw: bytes  # every byte the terminal received, stdout and stderr interleaved as written

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", "replace")

    def screen(self, columns: int = 80) -> list[str]:
        screen = Screen(columns)
        screen.feed(self.text)
        return screen.lines


def in_terminal(*args: str | Path, stdin: Path | None = None, columns: int = 80, env: dict[str, str] | None = None,
                timeout: float = 120) -> TerminalRun:
    """Run ``tactful ARGS`` with its output on a terminal ``columns`` wide."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": "50", **(env or {})}
    for var in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        environment.pop(var, None)
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as source:
        proc = subprocess.Popen([sys.executable, "-m", "tactful", *map(str, args)], stdin=source,
                                stdout=slave, stderr=slave, env=environment, close_fds=True)
    os.close(slave)
    raw = bytearray()
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError as exc:  # EIO: every holder of the slave side has closed it
                if exc.errno != errno.EIO:
                    raise
                break
            if not chunk:
                break
            raw += chunk
        code = proc.wait(timeout=timeout)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return TerminalRun(code, bytes(raw))


# An escape sequence (CSI with its parameters, or OSC up to BEL or ST), or one character.
_TOKEN = re.compile(r"\x1b\[([?0-9;]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|(.)", re.DOTALL)


class Screen:
    """The lines a terminal shows after some output (no scrollback limit, no wrap tricks)."""

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.lines: list[str] = [""]
        self.row = 0
        self.col = 0

    def feed(self, data: str) -> None:
        for token in _TOKEN.finditer(data):
            params, command, char = token.group(1), token.group(2), token.group(3)
            if command is not None:
                self._csi(params, command)
            elif char is not None:
                self._char(char)

    def _csi(self, params: str, command: str) -> None:
        count = int(params) if params.isdigit() else 1
        if command == "A":
            self.row = max(0, self.row - count)
        elif command == "K":
            line = self.lines[self.row]
            self.lines[self.row] = "" if params == "2" else line[: self.col]
        elif command == "G":
            self.col = count - 1
        # m (colours), h/l (cursor shown or hidden): nothing a person reads

    def _char(self, char: str) -> None:
        if char == "\r":
            self.col = 0
        elif char == "\n":
            self.row += 1
            self.col = 0
            if self.row == len(self.lines):
                self.lines.append("")
        elif char >= " ":
            if self.col >= self.columns:  # the terminal wraps a full line
                self._char("\n")
            line = self.lines[self.row].ljust(self.col)
            self.lines[self.row] = line[: self.col] + char + line[self.col + 1:]
            self.col += 1
