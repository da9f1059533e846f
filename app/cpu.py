"""How many CPU cores this process has: the machine's share it may run on, and the part of
it a container's CPU limit lets it use. No torch here: the benchmark's load generator and
the operations routes ask too."""

from __future__ import annotations

import math
import os
from pathlib import Path


def affinity_cores() -> int:
    """The cores this process may be scheduled on (its CPU affinity), not the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def usable_cores(configured: int = 0) -> int:
    """The cores this process may use: ``configured`` when set, else the CPU affinity capped
    by the cgroup's CPU limit. A pod limited to 4 CPUs on a 64-core node sees 64 cores in
    its affinity, and 64 torch threads on a 4-CPU quota spend their time throttled."""
    if configured > 0:
        return configured
    cores = affinity_cores()
    quota = cgroup_cpu_limit()
    return max(1, min(cores, quota) if quota else cores)


def threads_per_worker(cores: int, workers: int) -> int:
    """torch threads for each of ``workers`` passes run side by side on ``cores``: the server's
    CPU workers and the benchmark's like-for-like ceiling must split the cores the same way."""
    return max(1, cores // workers)


def inference_workers(configured: int, on_cpu: bool, cores: int) -> int:
    """Forward passes that may run side by side: one on a GPU; on a CPU as configured, or
    two when there are cores for both (two single-threaded passes of a small batch beat one
    two-threaded pass: BENCHMARKS.md)."""
    if not on_cpu:
        return 1
    return configured if configured > 0 else min(2, max(1, cores))


def api_processes(configured: int, cores: int) -> int:
    """API processes in front of the engine: as configured, else one per 4 cores (1 to 4).
    Each takes about a core at full load beside the engine's own; on a small pod a second
    one only takes cores from the forward passes (BENCHMARKS.md)."""
    if configured > 0:
        return configured
    return max(1, min(4, cores // 4))


def cgroup_cpu_limit(root: str = "/sys/fs/cgroup") -> int | None:
    """The CPU limit of this container, rounded up to whole cores (cgroup v2 or v1)."""
    try:
        quota, period = Path(root, "cpu.max").read_text().split()[:2]  # v2: "max 100000"
    except (OSError, ValueError):
        try:
            quota = Path(root, "cpu", "cpu.cfs_quota_us").read_text().strip()  # v1: -1 = none
            period = Path(root, "cpu", "cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    if quota in ("max", "-1"):
        return None
    try:
        return max(1, math.ceil(int(quota) / int(period)))
    except (ValueError, ZeroDivisionError):
        return None
