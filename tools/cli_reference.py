"""Write docs/cli.md, the CLI reference, from the Typer app: every command's --help as an
80-column terminal shows it. Nothing in it is written by hand.

    python tools/cli_reference.py           # rewrite docs/cli.md
    python tools/cli_reference.py --check   # exit 1 when docs/cli.md is out of date

tests/test_docs.py runs the check, so `.ci/run` fails when a command's help changed and the
page was not regenerated.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tactful.main import app, command_paths
from typer.testing import CliRunner

PAGE = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
COLUMNS = 80

INTRO = """\
# CLI reference

Every command's `--help`, as an 80-column terminal shows it. This page is generated from
the command definitions by `python tools/cli_reference.py`; CI fails when it is out of date.
"""


def help_text(path: tuple[str, ...]) -> str:
    """``tactful PATH --help`` at COLUMNS columns, whatever the terminal running this."""
    result = CliRunner().invoke(app, [*path, "--help"], prog_name="tactful", env={"COLUMNS": str(COLUMNS)})
    if result.exit_code != 0:
        raise SystemExit(f"tactful {' '.join(path)} --help exited {result.exit_code}: {result.output}")
    return result.output.rstrip() + "\n"


def render() -> str:
    """The whole page: one section per command, its help in a text block."""
    sections = [INTRO]
    for path in command_paths():
        title = " ".join(("tactful", *path))
        sections.append(f"## {title}\n\n```text\n{help_text(path)}```\n")
    return "\n".join(sections)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the page is out of date; write nothing")
    args = parser.parse_args(argv)
    page = render()
    if args.check:
        if PAGE.exists() and PAGE.read_text(encoding="utf-8") == page:
            return 0
        print(f"{PAGE} is out of date: run python tools/cli_reference.py", file=sys.stderr)
        return 1
    PAGE.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
