"""The command line's entry point: what starting it costs, the version it reports, and the
commands it lists (each built from its module only when it is asked for)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest
from tactful.main import COMMANDS

# What a process has imported after running `main(argv)`, one module name a line.
_LOADED_AFTER = """
import sys
from tactful.main import main
main({argv!r})
print("\\n".join(sorted(sys.modules)))
"""


def _loaded_after(*argv: str) -> set[str]:
    code = _LOADED_AFTER.format(argv=list(argv))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(run.stdout.split())


def test_importing_the_cli_loads_no_command_no_engine_and_no_client():
    code = "import sys, tactful.main; print('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    heavy = ("tactful.commands.", "tactful.engine", "tactful.moderator", "llama_cpp", "ollama", "httpx", "PIL", "wordfreq")
    assert [m for m in loaded if m.startswith(heavy)] == []


def test_a_command_imports_its_own_module_only():
    loaded = _loaded_after("cache", "--help")
    commands = {m for m in loaded if m.startswith("tactful.commands.")}
    assert "tactful.commands.cache" in commands
    assert not commands & {f"tactful.commands.{module}" for module, _ in COMMANDS.values() if module != "cache"}


def test_root_help_lists_every_command_in_its_panel(cli):
    run = cli("--help")
    assert run.code == 0, run.stderr
    for name, (_, panel) in COMMANDS.items():
        assert f" {name} " in run.stdout
        assert f"\n{panel}:\n" in run.stdout  # the panel's heading


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_commands_help_works(cli, name):
    run = cli(name, "--help")
    assert run.code == 0, run.stderr
    assert f"Usage: tactful {name} " in run.stdout


def test_a_mistyped_command_is_suggested_without_loading_every_command(cli):
    run = cli("clasify")
    assert run.code == 2
    assert "No such command 'clasify'. Did you mean 'classify'?" in run.stderr


def test_the_version_is_the_installed_packages(cli, monkeypatch):
    # Written once, in pyproject.toml: tactful reads it from the installed metadata.
    assert cli("--version").stdout == f"tactful {importlib.metadata.version('tactful')}\n"
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "9.8.7" if name == "tactful" else "0")
    assert cli("--version").stdout == "tactful 9.8.7\n"
