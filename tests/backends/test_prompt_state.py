"""The fixed prompt's state saved by one process and loaded by the next (embedded, SmolLM2)."""

from __future__ import annotations

from pathlib import Path

from tests.support.realmodel import ARGS, LINES, REAL_MODEL

pytestmark = REAL_MODEL


def states(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "tactful" / "prompt-states").glob("*.llstate"))


def test_a_second_process_starts_from_the_saved_prefix_and_decides_the_same(cli, tmp_path):
    text = "\n".join(LINES[:2]) + "\n"
    first = cli("classify", *ARGS, "--no-cache", input=text)
    assert first.code == 0, first.stderr
    saved = states(tmp_path)
    assert len(saved) == 1 and saved[0].stat().st_size > 0
    second = cli("classify", *ARGS, "--no-cache", input=text)
    assert second.code == 0, second.stderr
    assert second.stdout == first.stdout  # the same scores to the last digit written
    assert states(tmp_path) == saved  # loaded, not saved again under another name


def test_a_damaged_state_file_is_evaluated_again(cli, tmp_path):
    text = LINES[0] + "\n"
    first = cli("classify", *ARGS, "--no-cache", input=text)
    [saved] = states(tmp_path)
    saved.write_bytes(saved.read_bytes()[:1000])  # torn: a crash mid-write elsewhere
    second = cli("classify", *ARGS, "--no-cache", input=text)
    assert second.code == 0, second.stderr
    assert second.stdout == first.stdout


def test_cache_clear_removes_the_saved_states(cli, tmp_path):
    assert cli("classify", *ARGS, input=LINES[0] + "\n").code == 0
    assert len(states(tmp_path)) == 1
    assert "1 saved prompt states" in cli("cache", "stats").stdout
    cleared = cli("cache", "clear")
    assert cleared.code == 0 and "removed 1 saved prompt states" in cleared.stdout
    assert states(tmp_path) == []
