"""The README and the docs say what the code does: the shell blocks of README and of the
docs' walkthrough run as written against the stand-in Ollama server, its test command is the one `.ci/run` calls, and the
CLI reference page is the one the code generates.

Lines this module does not run, and why (each is matched by a rule below):
- `pip install ...`, `python3 -m venv ...`, `. .venv/bin/activate`: they install tactful,
  which `.ci/run` does from a clean checkout in the same way; the rest of such a line runs.
- `python -m pytest`: the test command, i.e. this suite; checked to be what `.ci/run` calls.
- `--backend embedded` lines run against the real model they name (test marked realmodel),
  and skip when that model is not fetched (CI fetches only SmolLM2).
The other pages' commands name files a reader has (an export, a forum dump, photos) and
servers (Ollama, vLLM); for them this module checks that every `tactful` command parses:
its command exists and its options and values are accepted.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from tactful.backends.model_store import PINNED, pinned_path
from tactful.main import app, command_paths
from tactful.profile.schema import DEFAULT_MODEL

from tests.conftest import ROOT, SAMPLES
from tests.fake_ollama import MODEL, FakeOllama

README = ROOT / "README.md"
# Pages whose shell blocks run, in order, as a reader follows them.
WALKTHROUGHS = [README, ROOT / "docs" / "getting-started.md"]
MOST_LINES = 150
TEST_COMMAND = "python -m pytest"
# One `&&` step of a README line that installs tactful.
INSTALL_STEP = re.compile(r"^(python3 -m venv \S+|\. \S+/bin/activate|.*\bpip install\b.*)$")
EMBEDDED = re.compile(r"--backend embedded --model (\S+)")


def shell_lines(markdown: str, languages: str = "sh") -> list[str]:
    """The commands of every block in one of ``languages`` (``sh|console``), in order: one
    per logical line (a trailing backslash continues it, a console's `$ ` prompt is left
    out), blank and comment-only lines left out."""
    lines: list[str] = []
    for block in re.findall(rf"^```(?:{languages})\n(.*?)^```", markdown, re.DOTALL | re.MULTILINE):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip().removeprefix("$ ")
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def without_install(line: str) -> str:
    """The line with the steps that install tactful left out ('' when nothing is left)."""
    return " && ".join(step for step in line.split(" && ") if not INSTALL_STEP.match(step.strip()))


def runnable(lines: list[str]) -> list[str]:
    """What this module runs against the stand-in: neither installs, the test command nor
    the embedded backend."""
    kept = [without_install(line) for line in lines if line != TEST_COMMAND]
    return [line for line in kept if line and not EMBEDDED.search(line)]


def test_readme_is_short():
    assert len(README.read_text(encoding="utf-8").splitlines()) < MOST_LINES


def test_the_readme_test_command_is_what_ci_runs():
    assert TEST_COMMAND in shell_lines(README.read_text(encoding="utf-8"))
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert [line for line in ci if line.startswith("python -m pytest")] == [TEST_COMMAND]


def test_shell_lines_join_continuations_and_drop_comments():
    markdown = "text\n```sh\n# a comment\ntactful a \\\n  --b\n\ntactful c  # note\n```\n```json\n{}\n```\n"
    assert shell_lines(markdown) == ["tactful a    --b", "tactful c  # note"]
    assert without_install("python3 -m venv .venv && . .venv/bin/activate && X=1 pip install . && tactful x") == "tactful x"
    assert runnable(["pip install .", TEST_COMMAND, "tactful y", "tactful z --backend embedded --model m"]) == ["tactful y"]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A git repository holding the samples and a staged page, as a reader's checkout would."""
    work = tmp_path / "readme"
    shutil.copytree(SAMPLES, work / "samples")
    (work / "welcome.md").write_text("# Welcome\n\nAsk anything about the build here.\n", encoding="utf-8")
    for git in (["init", "-q"], ["add", "welcome.md"]):
        subprocess.run(["git", *git], cwd=work, check=True)
    return work


def run_line(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def environment(**extra: str) -> dict[str, str]:
    """This process's environment (isolated config and cache) with this venv's tactful first."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "PATH": path, **extra}


@pytest.mark.parametrize("page", WALKTHROUGHS, ids=lambda page: page.name)
def test_shell_blocks_run_as_written(page: Path, fake_ollama: FakeOllama, workdir: Path):
    fake_ollama.models = [MODEL, DEFAULT_MODEL]  # the model the samples and `profile init` name
    env = environment(OLLAMA_HOST=fake_ollama.url)
    lines = runnable(shell_lines(page.read_text(encoding="utf-8")))
    assert len(lines) >= 8, lines
    for line in lines:
        run = run_line(line, workdir, env)
        assert run.returncode == 0, f"{line}\nexit {run.returncode}\n{run.stderr}"
        assert "Traceback" not in run.stderr, line
    assert fake_ollama.chat_requests(), "no README command asked the model"


def _embedded_lines() -> list[str]:
    lines = {without_install(line) for page in WALKTHROUGHS for line in shell_lines(page.read_text(encoding="utf-8"))}
    return sorted(line for line in lines if EMBEDDED.search(line))


@pytest.mark.realmodel
@pytest.mark.parametrize("line", _embedded_lines())
def test_readme_embedded_lines_run_as_written(line: str, workdir: Path):
    pytest.importorskip("llama_cpp")
    model = EMBEDDED.search(line).group(1)  # type: ignore[union-attr]
    if model in PINNED and not pinned_path(PINNED[model]).is_file():
        pytest.skip(f"{model} is not fetched: the line would download it")
    run = run_line(line, workdir, environment())
    assert run.returncode == 0, f"{line}\nexit {run.returncode}\n{run.stderr}"
    assert '"moderation"' in run.stdout


def test_the_cli_reference_is_up_to_date():
    check = subprocess.run([sys.executable, str(ROOT / "tools" / "cli_reference.py"), "--check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def tactful_commands(line: str) -> list[list[str]]:
    """The arguments of each `tactful ...` in a shell line (between `&&` and `|`, before a
    redirection or a comment)."""
    found = []
    for part in re.split(r"\s*(?:&&|\|)\s*", line):
        words = shlex.split(part, comments=True)
        if words[:1] == ["tactful"]:
            redirect = next((i for i, word in enumerate(words) if word.startswith((">", "<"))), len(words))
            found.append(words[1:redirect])
    return found


def parse(args: list[str]) -> None:
    """Parse ``tactful ARGS`` as the command line would, running nothing: a usage error
    (unknown command or option, a value that is not one of the choices) raises."""
    paths = set(command_paths())
    depth = max(i for i in range(len(args) + 1) if tuple(args[:i]) in paths)
    command = typer.main.get_command(app)
    for name in args[:depth]:
        command = command.get_command(typer.Context(command), name)  # type: ignore[attr-defined]
    rest = args[depth:]
    if isinstance(command, typer.core.TyperGroup) and rest and not rest[0].startswith("-"):
        raise ValueError(f"tactful {' '.join(args[:depth])}: no command {rest[0]!r}")
    command.make_context(" ".join(["tactful", *args[:depth]]), rest)


def _documented_commands() -> list[tuple[str, list[str]]]:
    pages = [README, *sorted((ROOT / "docs").glob("*.md"))]
    return [(f"{page.name}: {line}", args) for page in pages if page.name != "cli.md"
            for line in shell_lines(page.read_text(encoding="utf-8"), "sh|console")
            for args in tactful_commands(line)]


def test_every_tactful_command_in_the_docs_parses():
    documented = _documented_commands()
    assert len(documented) > 40
    for where, args in documented:
        try:
            parse(args)
        except Exception as exc:
            pytest.fail(f"{where}: {exc}")


def test_parse_refuses_what_the_command_line_refuses():
    assert tactful_commands("cat a | tactful classify -p x.toml > out.jsonl  # note") == [["classify", "-p", "x.toml"]]
    parse(["profile", "set", "task.mode", "multilabel"])
    for wrong in (["classify", "--no-such-option"], ["classify", "--mode", "fancy"], ["profile", "nosuch"]):
        with pytest.raises(Exception):  # noqa: B017  # click's usage errors have no public common base here
            parse(wrong)
