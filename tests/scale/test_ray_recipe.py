"""docs/ray.md shows samples/cluster_job.py word for word, and the recipe refuses what
would write a record twice (tests/scale/test_ray_job.py runs it on a Ray cluster)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

RECIPE = ROOT / "samples" / "cluster_job.py"


def test_the_recipe_in_the_docs_is_the_file_the_tests_run():
    doc = (ROOT / "docs" / "ray.md").read_text(encoding="utf-8")
    block = doc.split("```python\n", 1)[1].split("```\n", 1)[0]
    assert block == RECIPE.read_text(encoding="utf-8")


def test_an_existing_output_folder_is_refused_before_ray_starts(tmp_path):
    pytest.importorskip("ray", reason="the recipe imports ray (pip install -e '.[ray]')")
    (tmp_path / "out").mkdir()
    run = subprocess.run([sys.executable, str(RECIPE), str(tmp_path / "in.jsonl"), str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.splitlines()[-1].endswith(f"{tmp_path / 'out'} exists: name a new folder, so no record is written twice")
