"""One way to warn: the ``tactful`` logger, and one handler that the command line installs.

The library says a warning by logging it; the CLI prints each as `tactful: warning: ...`
on stderr, once; a program using the Python API decides where warnings go, as with any
library (nothing is printed unless it configures logging).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from tactful.engine.answer import Decision
from tactful.engine.cache import ResultCache

from tests.conftest import write_profile
from tests.fake_ollama import MODEL

SKIPPED = "1 bank example(s) use categories this profile does not have and were left out"


def profile_with_a_stray_example(tmp_path: Path) -> Path:
    """A profile whose bank holds an example of a category it does not have: a warning."""
    bank = [
        {"id": "ex-1", "text": "buy followers now", "labels": ["spam"]},
        {"id": "ex-2", "text": "nice roses", "labels": []},
        {"id": "ex-3", "text": "you idiot", "labels": ["toxicity"]},  # not in this profile
    ]
    (tmp_path / "bank.jsonl").write_text("".join(json.dumps(ex) + "\n" for ex in bank))
    return write_profile(tmp_path / "p.toml", 'version = 1\nexamples = "bank.jsonl"\n[categories.spam]\nblocked = true\n')


# ---------------------------------------------------------------- the command line


@pytest.mark.parametrize("command", [["classify"], ["calibrate", "--dry-run"]])
def test_the_cli_says_a_warning_on_stderr_once(cli, ollama_args, fake_ollama, tmp_path, command):
    # calibrate reads the bank twice (its labelled texts, then the prompt's examples): one warning.
    run = cli(*command, *ollama_args, "-p", profile_with_a_stray_example(tmp_path), input="hello\n")
    assert run.stderr.count(f"tactful: warning: {SKIPPED}") == 1, run.stderr
    assert SKIPPED not in run.stdout


def test_the_cli_handler_is_there_for_the_run_only(cli):
    package = logging.getLogger("tactful")
    before = list(package.handlers)
    run = cli("profile", "path")
    assert run.stderr.count("tactful: warning: no profile yet") == 1
    assert package.handlers == before  # a program that calls main keeps its own logging


# ---------------------------------------------------------------- the Python API


def test_an_api_user_captures_warnings_with_logging(fake_ollama, tmp_path, caplog, capsys):
    import tactful

    with caplog.at_level(logging.WARNING, logger="tactful"), \
            tactful.Moderator.from_profile(profile_with_a_stray_example(tmp_path), model=MODEL, hosts=fake_ollama.url):
        pass
    assert [(r.name, r.getMessage()) for r in caplog.records] == [("tactful.bank.selection", SKIPPED)]
    assert capsys.readouterr().err == ""  # the library prints nothing itself


API_RUN = """
import logging, sys
from pathlib import Path
from tactful.backends.prompt_only import PromptOnly
from tactful.moderator import Moderator
from tactful.settings import Overrides, resolve
if sys.argv[2] == "configured":
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
Moderator(resolve(Overrides(profile=Path(sys.argv[1]))), backend=PromptOnly("m")).close()
"""


def test_a_program_that_configures_no_logging_gets_no_output(tmp_path):
    # Python prints a message that no handler takes on stderr (its "last resort");
    # the package's NullHandler leaves that choice to the program.
    profile = profile_with_a_stray_example(tmp_path)

    def stderr_of(how: str) -> str:
        return subprocess.run([sys.executable, "-c", API_RUN, str(profile), how],
                              capture_output=True, text=True, check=True).stderr

    assert stderr_of("unconfigured") == ""
    assert stderr_of("configured") == f"WARNING tactful.bank.selection: {SKIPPED}\n"


# ---------------------------------------------------------------- warnings that a default used to drop


def test_a_result_the_cache_cannot_keep_is_a_warning(tmp_path, caplog):
    path = tmp_path / "results.sqlite"
    with ResultCache(path) as cache:
        other = sqlite3.connect(path)
        other.execute("DROP TABLE results")  # the insert below now fails
        other.close()
        with caplog.at_level(logging.WARNING, logger="tactful"):
            cache.put("key", "model", Decision(True, ["spam"]))
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: a result was not cached: no such table: results"]
