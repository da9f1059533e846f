"""How many cores the server believes it has: a pod's CPU limit, not the node's cores."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cpu import api_processes, cgroup_cpu_limit, threads_per_worker, usable_cores


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("max 100000\n", None), ("150000 100000\n", 2), ("400000 100000\n", 4), ("50000 100000", 1)],
)
def test_cgroup_v2_limit_rounds_up_to_whole_cores(
    tmp_path: Path, cpu_max: str, expected: int | None
) -> None:
    (tmp_path / "cpu.max").write_text(cpu_max)
    assert cgroup_cpu_limit(str(tmp_path)) == expected


def test_cgroup_v1_limit(tmp_path: Path) -> None:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("300000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_limit(str(tmp_path)) == 3
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpu_limit(str(tmp_path)) is None


def test_no_cgroup_files_means_no_limit(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(str(tmp_path)) is None


def test_a_configured_count_wins_and_the_default_is_at_least_one() -> None:
    assert usable_cores(3) == 3
    assert usable_cores(0) >= 1


def test_workers_split_the_cores_evenly_with_at_least_one_thread_each() -> None:
    assert threads_per_worker(16, 2) == 8
    assert threads_per_worker(5, 2) == 2
    assert threads_per_worker(2, 3) == 1


@pytest.mark.parametrize(
    ("configured", "cores", "expected"),
    [(0, 1, 1), (0, 2, 1), (0, 7, 1), (0, 8, 2), (0, 16, 4), (0, 64, 4), (3, 2, 3)],
)
def test_api_processes_one_per_four_cores_up_to_four(
    configured: int, cores: int, expected: int
) -> None:
    assert api_processes(configured, cores) == expected
