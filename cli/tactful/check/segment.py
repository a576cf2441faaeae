"""Splitting Markdown and plain text into the units `tactful check` judges.

A unit is a paragraph, a list item, a heading or a table cell, with the 1-based line and
column of its first character. Columns count characters (Unicode code points) from 1,
after a UTF-8 byte order mark is removed: an emoji or a CJK character counts as one, a
tab as one. That is what Python, ruff and most editors' "go to line:column" agree on.

Skipped: fenced code (``` and ~~~), indented code, YAML (---) and TOML (+++) front
matter, HTML comments and tag-only lines, link reference definitions, and link-only
lines (badges, "[Docs](...) | [API](...)").

This is a small line-based state machine written for the job rather than a Markdown
parser: markdown-it-py and mistune give line ranges at best, never the column of a table
cell or of the text after a list marker, and check needs exactly those. It follows
CommonMark/GFM where a moderation gate can tell the difference, and is forgiving
elsewhere (odd nesting only changes how text is grouped, never loses it).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from tactful.check.directives import EVERYTHING, Directive, Ignores, Scope, parse_directive

_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")
_FENCE_RE = re.compile(r"(`{3,}|~{3,})(.*)$")
_ATX_RE = re.compile(r"(#{1,6})(?:[ \t]+|$)")
_ATX_CLOSE_RE = re.compile(r"(?:[ \t]+#+)?[ \t]*$")
_SETEXT_RE = re.compile(r"(=+|-+)[ \t]*$")
_BREAK_RE = re.compile(r"([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LIST_RE = re.compile(r"([-*+]|\d{1,9}[.)])([ \t]+|$)")
_TASK_RE = re.compile(r"\[[ xX]\][ \t]+")
_QUOTE_RE = re.compile(r" {0,3}> ?")
_TABLE_DELIM_RE = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_REF_DEF_RE = re.compile(r"\[[^\]]+\]:\s*\S+")
_HTML_ONLY_RE = re.compile(r"(</?[A-Za-z][^>]*>\s*)+$")
_LINK_RE = re.compile(
    r"!?\[(?:[^\]]|\\\])*\]\([^)]*\)"  # [text](url), ![alt](src)
    r"|!?\[[^\]]*\]\[[^\]]*\]"  # [text][ref]
    r"|<[a-z][a-z0-9+.-]*:[^>\s]*>"  # <https://...>
    r"|\b(?:https?|ftp)://\S+"  # bare URL
)
_CODE_SPAN_RE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
_HASH_DIRECTIVE_RE = re.compile(r"(?:^|\s)(#\s*)(tactful\s*:.*)$")


@dataclass(frozen=True)
class Unit:
    """One piece of a document judged on its own."""

    text: str
    line: int  # 1-based line of the first character
    col: int  # 1-based column of the first character, in code points
    end_line: int
    kind: str  # paragraph | heading | list-item | table-cell
    ignored: frozenset[str] = frozenset()  # categories whose findings are silenced


def split_lines(text: str) -> list[str]:
    """Lines without their endings (LF, CRLF or a lone CR), after any BOM."""
    return _LINE_BREAK_RE.split(text.removeprefix("\ufeff"))


def link_only(text: str) -> bool:
    """True when nothing but links, images, URLs and punctuation is left in the text."""
    return not re.search(r"\w", _LINK_RE.sub("", text))


def _width(text: str) -> int:
    """Indentation width of a line, tabs to the next multiple of 4 as CommonMark says."""
    width = 0
    for char in text:
        if char == " ":
            width += 1
        elif char == "\t":
            width += 4 - width % 4
        else:
            break
    return width


class _Builder:
    """Collects the lines of the unit being read; silenced lines leave no text."""

    def __init__(self) -> None:
        self.units: list[Unit] = []
        self.kind: str | None = None
        self._reset()

    def _reset(self) -> None:
        self.kind = None
        self._lines: list[str] = []
        self._start: tuple[int, int] | None = None
        self._end = 0
        self._ignored: set[str] = set()

    @property
    def open(self) -> bool:
        return self.kind is not None

    def begin(self, kind: str) -> None:
        self.flush()
        self.kind = kind

    def add(self, number: int, index: int, text: str, scope: Scope) -> None:
        """Add ``text``, found at 0-based character ``index`` of line ``number``."""
        body = text.strip()
        if not body or scope >= EVERYTHING:
            return
        if self._start is None:
            self._start = (number, index + len(text) - len(text.lstrip()) + 1)
        self._lines.append(body)
        self._end = number
        self._ignored |= scope

    def flush(self) -> None:
        if self._start is not None and self.kind is not None:
            line, col = self._start
            text = "\n".join(self._lines)
            self.units.append(Unit(text, line, col, self._end, self.kind, frozenset(self._ignored)))
        self._reset()


# ---------------------------------------------------------------- plain text


def segment_text(text: str, known: Collection[str] | None = None) -> list[Unit]:
    """Paragraphs (runs of non-blank lines) of a plain-text file; ``# tactful:`` directives.

    ``known``: the category slugs a directive may name (None: any).
    """
    builder, ignores = _Builder(), Ignores()
    for number, raw in enumerate(split_lines(text), start=1):
        clean, directive, trailing = raw, None, False
        match = _HASH_DIRECTIVE_RE.search(raw)
        if match:
            directive = parse_directive(match.group(2), number, match.start(1) + 1, known)
            clean = raw[: match.start(1)]
            trailing = bool(clean.strip())
        blank = not clean.strip()
        scope = ignores.line(number, blank)
        if directive is not None:
            scope |= ignores.apply(directive, number, trailing)
        if blank:
            builder.flush()
            continue
        if not builder.open:
            builder.begin("paragraph")
        builder.add(number, 0, clean, scope)
    builder.flush()
    return builder.units


# ---------------------------------------------------------------- Markdown


def segment_markdown(text: str, known: Collection[str] | None = None) -> list[Unit]:
    """Headings, paragraphs, list items and table cells of a Markdown document."""
    return _Markdown(split_lines(text), known).run()


class _Markdown:
    def __init__(self, lines: list[str], known: Collection[str] | None) -> None:
        self.lines = lines
        self.known = known
        self.builder = _Builder()
        self.ignores = Ignores()
        self.fence: tuple[str, int] | None = None  # marker character and length
        self.in_comment = False
        self.in_table = False
        self.skip_delimiter = False
        self.lists: list[int] = []  # content indents of the open list items
        self.indent = 0  # indentation of the line being read, inside any blockquote

    def run(self) -> list[Unit]:
        for number in range(self._front_matter_end() + 1, len(self.lines) + 1):
            self._line(number, self.lines[number - 1])
        self.builder.flush()
        return self.builder.units

    def _front_matter_end(self) -> int:
        """Lines taken by front matter at the very top (0 when there is none)."""
        marker = self.lines[0].rstrip()
        if marker not in ("---", "+++"):
            return 0
        closers = ("---", "...") if marker == "---" else ("+++",)
        for number, line in enumerate(self.lines[1:], start=2):
            if line.rstrip() in closers:
                return number
        return 0  # never closed: a thematic break, not front matter

    def _line(self, number: int, raw: str) -> None:
        if self.fence is not None:
            self._close_fence(raw, *self.fence)
            self.ignores.line(number, not raw.strip())
            return
        clean, found = self._without_comments(raw, number)
        blank = not clean.strip()
        scope = self.ignores.line(number, blank)
        for directive, start in found:
            scope |= self.ignores.apply(directive, number, trailing=bool(clean[:start].strip()))
        offset = _quote_prefix(clean)
        if blank or not clean[offset:].strip():
            self._blank()
            return
        self._content(number, clean, offset, scope)

    def _close_fence(self, raw: str, char: str, length: int) -> None:
        body = raw[_quote_prefix(raw):].strip()
        if body and set(body) == {char} and len(body) >= length:
            self.fence = None

    def _without_comments(self, raw: str, number: int) -> tuple[str, list[tuple[Directive, int]]]:
        """The line with HTML comments blanked out (columns kept), and its directives."""
        found: list[tuple[Directive, int]] = []
        out: list[str] = []
        pos = 0
        if self.in_comment:
            end = raw.find("-->")
            if end < 0:
                return " " * len(raw), found
            self.in_comment, pos = False, end + 3
            out.append(" " * pos)
        spans = _code_spans(raw)
        while True:
            start = _comment_start(raw, pos, spans)
            if start < 0:
                out.append(raw[pos:])
                break
            out.append(raw[pos:start])
            end = raw.find("-->", start + 4)
            if end < 0:
                self.in_comment = True
                out.append(" " * (len(raw) - start))
                break
            directive = parse_directive(raw[start + 4 : end], number, start + 1, self.known)
            if directive is not None:
                found.append((directive, start))
            out.append(" " * (end + 3 - start))
            pos = end + 3
        return "".join(out), found

    def _blank(self) -> None:
        self.builder.flush()
        self.in_table = False
        self.skip_delimiter = False

    def _content(self, number: int, line: str, offset: int, scope: Scope) -> None:
        rest = line[offset:]
        indent = self.indent = _width(rest)
        first = offset + len(rest) - len(rest.lstrip())
        body = line[first:]
        if not self.builder.open:
            while self.lists and self.lists[-1] > indent:
                self.lists.pop()
        relative = indent - (self.lists[-1] if self.lists and indent >= self.lists[-1] else 0)
        if relative < 4 and self._opens_fence(body):
            return
        if relative >= 4 and not self.builder.open and not self.in_table:
            return  # indented code
        if self.skip_delimiter:
            self.skip_delimiter = False
            return
        if self.in_table:
            if "|" in body:
                self._cells(number, line, first, scope)
                return
            self.in_table = False
        self._block(number, line, first, body, scope)

    def _opens_fence(self, body: str) -> bool:
        match = _FENCE_RE.match(body)
        if match is None or (match.group(1)[0] == "`" and "`" in match.group(2)):
            return False
        self.builder.flush()
        self.fence = (match.group(1)[0], len(match.group(1)))
        return True

    def _block(self, number: int, line: str, first: int, body: str, scope: Scope) -> None:
        heading = _ATX_RE.match(body)
        if heading:
            self.builder.begin("heading")
            title = _ATX_CLOSE_RE.sub("", body[heading.end():])
            self.builder.add(number, first + heading.end(), title, scope)
            self.builder.flush()
        elif self.builder.kind == "paragraph" and _SETEXT_RE.match(body):
            self.builder.kind = "heading"
            self.builder.flush()
        elif _BREAK_RE.match(body) or _REF_DEF_RE.match(body) or _HTML_ONLY_RE.match(body):
            self.builder.flush()
        elif "|" in body and self._table_follows(number, line, first):
            self.builder.flush()
            self.in_table = self.skip_delimiter = True
            self._cells(number, line, first, scope)
        elif _LIST_RE.match(body):
            self._list_item(number, line, first, body, scope)
        else:
            if not self.builder.open:
                self.builder.begin("paragraph")
            self._add_prose(number, first, body, scope)

    def _table_follows(self, number: int, line: str, first: int) -> bool:
        """A GFM table starts here: a delimiter row with as many cells comes next."""
        if number >= len(self.lines):
            return False
        following = self.lines[number]
        rest = following[_quote_prefix(following):]
        if not _TABLE_DELIM_RE.match(rest):
            return False
        return _row_width(line, first) == _row_width(following, len(following) - len(rest.lstrip()))

    def _list_item(self, number: int, line: str, first: int, body: str, scope: Scope) -> None:
        marker = _LIST_RE.match(body)
        assert marker is not None
        start = first + marker.end()
        task = _TASK_RE.match(line, start)
        if task:
            start = task.end()
        while self.lists and self.lists[-1] > self.indent:
            self.lists.pop()
        self.lists.append(self.indent + max(marker.end(), len(marker.group(1)) + 1))
        self.builder.begin("list-item")
        self._add_prose(number, start, line[start:], scope)

    def _add_prose(self, number: int, index: int, text: str, scope: Scope) -> None:
        if not link_only(text):
            self.builder.add(number, index, text, scope)

    def _cells(self, number: int, line: str, first: int, scope: Scope) -> None:
        for index, cell in _table_cells(line, first):
            if cell.strip() and not link_only(cell):
                self.builder.begin("table-cell")
                self.builder.add(number, index, cell, scope)
        self.builder.flush()


def _quote_prefix(line: str) -> int:
    """Characters taken by blockquote markers (``> > ``) at the start of the line."""
    pos = 0
    while match := _QUOTE_RE.match(line, pos):
        pos = match.end()
    return pos


def _code_spans(line: str) -> list[tuple[int, int]]:
    """Where inline code spans are: `<!--` inside one is text, not a comment."""
    return [m.span() for m in _CODE_SPAN_RE.finditer(line)]


def _comment_start(line: str, pos: int, spans: list[tuple[int, int]]) -> int:
    start = line.find("<!--", pos)
    while start >= 0:
        inside = next((end for begin, end in spans if begin <= start < end), None)
        if inside is None:
            return start
        start = line.find("<!--", inside)
    return start


def _row_width(line: str, first: int) -> int:
    """Cells in a table row, outer pipes not counted."""
    cells = list(_table_cells(line, first))
    return len(cells) - (1 if line.rstrip().endswith("|") and len(cells) > 1 else 0)


def _table_cells(line: str, first: int) -> Iterator[tuple[int, str]]:
    """(start index, text) of each cell of a table row; ``\\|`` is a pipe inside a cell."""
    start = first + 1 if line.startswith("|", first) else first
    index = start
    while index <= len(line):
        if index == len(line) or (line[index] == "|" and line[index - 1] != "\\"):
            yield start, line[start:index]
            start = index + 1
        index += 1

