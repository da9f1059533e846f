"""``e2e/gpu_check.sh --cpu``: the CPU side of the GPU check runs here, as it will in CI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from app.testing.server import REPO


@pytest.mark.slow
def test_the_cpu_mode_runs_every_step_and_prints_the_block(tmp_path: Path) -> None:
    run = subprocess.run(
        ["bash", str(REPO / "e2e" / "gpu_check.sh"), "--cpu"],
        env={**os.environ, "OUT": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    block = (tmp_path / "gpu_check.md").read_text()
    assert block == run.stdout
    assert "(cpu mode)" in block and "CPU (no device lent)" in block
    assert "bge-m3 float32" in block  # auto on a CPU
    tests = (tmp_path / "tests.txt").read_text()
    assert " failed" not in tests and "9 skipped" in tests
    assert "needs a CUDA device; none is visible" in tests
    assert block.count("errors 0/24 timed requests") == 2
    assert "DEVICE=cpu" in block and "raw forward" in block
