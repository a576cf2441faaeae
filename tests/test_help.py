"""Every command's ``--help`` as a person reads it in an 80-column terminal: nothing cut
and nothing running past the edge, metavars in words (``URL``, ``N``, ``FILE``), the
description and examples on one screen.

The commands come from the app itself (``main.COMMANDS`` and each group's own listing),
so a command added later is held to the same rules without a change here.
"""

from __future__ import annotations

import re

import pytest
from tactful.main import COMMANDS, command_paths

COLUMNS = 80
SCREEN = 24  # rows of a terminal: usage, description and examples fit in one
MOST_EXAMPLES = 3
# A metavar that is a Python type (`<str>`, `<int range>`, `<list[str]>`, `<path>`), not a
# word or a list of choices (`<binary|multiclass|multilabel>`).
PYTHON_TYPE = re.compile(r"<(?![^>]*\|)[^>]*>")


def _paths() -> list[tuple[str, ...]]:
    return command_paths()


def _help(cli, path: tuple[str, ...]) -> list[str]:  # type: ignore[no-untyped-def]
    run = cli(*path, "--help", env={"COLUMNS": str(COLUMNS)})
    assert run.code == 0, run.stderr
    return run.stdout.splitlines()


def _heading(line: str) -> bool:
    """A list's heading (`Options:`, `Arguments:`, a panel of commands), not indented."""
    return re.fullmatch(r"[A-Z][\w ]*:", line) is not None


def _head(lines: list[str]) -> list[str]:
    """Usage, description and examples: everything before the first list of options."""
    for index, line in enumerate(lines):
        if _heading(line):
            return lines[:index]
    return lines


def _terms(lines: list[str]) -> list[str]:
    """The left column of the option and argument lists (`-o, --output FILE`)."""
    terms = []
    section = False
    for line in lines:
        if _heading(line):
            section = True
        elif section and re.match(r"  \S", line):
            terms.append(re.split(r"\s{2,}", line.strip())[0])
    return terms


def _examples(head: list[str]) -> list[str]:
    examples: list[str] = []
    inside = False
    for line in head:
        if re.fullmatch(r"\s*Examples?:", line):
            inside = True
        elif inside and line.strip():
            examples.append(line.strip())
        elif inside:
            inside = False
    return examples


@pytest.mark.parametrize("path", _paths(), ids=lambda path: " ".join(path) or "tactful")
def test_help_fits_80_columns_with_nothing_cut(cli, path):
    lines = _help(cli, path)
    too_wide = [line for line in lines if len(line) > COLUMNS]
    assert too_wide == [], f"tactful {' '.join(path)} --help runs past {COLUMNS} columns"
    assert not any("…" in line for line in lines), "text cut off"
    split = [line for line in lines if re.search(r"(^|\s)--?[\w-]*-$", line)]
    assert split == [], "an option name broken across lines"
    listed = lines[len(_head(lines)):]
    assert [line for line in listed if line.endswith("...") and "  " in line.strip()] == [], "summary cut off"


@pytest.mark.parametrize("path", _paths(), ids=lambda path: " ".join(path) or "tactful")
def test_help_names_values_in_words(cli, path):
    terms = _terms(_help(cli, path))
    assert terms, "no options listed"
    assert [term for term in terms if PYTHON_TYPE.search(term)] == []
    assert not any("\\[" in line for line in _help(cli, path)), "rich markup escape shown"


@pytest.mark.parametrize("path", _paths(), ids=lambda path: " ".join(path) or "tactful")
def test_help_reads_on_one_screen(cli, path):
    head = _head(_help(cli, path))
    assert len(head) <= SCREEN, f"{len(head)} lines before the options"
    assert len(_examples(head)) <= MOST_EXAMPLES


def test_the_walk_finds_groups_and_their_commands():
    paths = _paths()
    assert paths[0] == ()  # the root
    assert ("classify",) in paths and ("profile", "set") in paths and ("models", "fetch") in paths
    assert len({path[0] for path in paths if path}) == len(COMMANDS)
