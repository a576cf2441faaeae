"""llama.cpp says nothing on stderr in an embedded run unless asked to (issue 22, item 18).

A real SmolLM2 in a fresh process: the CPU kernels are loaded there for the first time,
which is when llama.cpp announced them ("load_backend: loaded CPU backend ..."), then the
model. `doctor` loads both as every run does, and judges nothing, so what it prints does
not depend on the model's answers.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.realmodel import ARGS, REAL_MODEL

pytestmark = REAL_MODEL


def doctor(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "TACTFUL_LLAMA_LOG"} | env
    return subprocess.run([sys.executable, "-m", "tactful", "doctor", *ARGS], capture_output=True, text=True,
                          timeout=300, env=environment)


def test_an_embedded_run_leaves_stderr_to_tactful():
    done = doctor()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CPU kernels" in done.stdout  # the kernels were loaded
    assert done.stderr == ""


def test_llama_cpp_speaks_when_asked_to():
    done = doctor(TACTFUL_LLAMA_LOG="1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "llama_model_loader" in done.stderr
