"""Device, dtype and batch-tensor helpers shared by the torch backends."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def resolve_device(setting: str) -> torch.device:
    if setting == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("cpu")
    return torch.device(setting)


def resolve_dtype(setting: str, device: torch.device) -> torch.dtype:
    if setting != "auto":
        return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[
            setting
        ]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def pad_batch(
    sequences: Sequence[Sequence[int]],
    pad_id: int,
    device: torch.device,
    *,
    left: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad token id lists into ``(input_ids, attention_mask)`` on ``device``."""
    longest = max(len(s) for s in sequences)
    ids = np.full((len(sequences), longest), pad_id, dtype=np.int64)
    mask = np.zeros((len(sequences), longest), dtype=np.int64)
    for row, seq in enumerate(sequences):
        if left:
            ids[row, longest - len(seq) :] = seq
            mask[row, longest - len(seq) :] = 1
        else:
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
    return (
        torch.from_numpy(ids).to(device, non_blocking=True),
        torch.from_numpy(mask).to(device, non_blocking=True),
    )


def pad_type_ids(
    sequences: Sequence[Sequence[int] | None], device: torch.device
) -> torch.Tensor | None:
    if any(s is None for s in sequences):
        return None
    longest = max(len(s) for s in sequences if s is not None)
    out = np.zeros((len(sequences), longest), dtype=np.int64)
    for row, seq in enumerate(sequences):
        assert seq is not None
        out[row, : len(seq)] = seq
    return torch.from_numpy(out).to(device, non_blocking=True)


def cpu_count(configured: int = 0) -> int:
    """The cores this process may use: ``configured`` when set, else the CPU affinity capped
    by the cgroup's CPU limit. A pod limited to 4 CPUs on a 64-core node sees 64 cores in
    its affinity, and 64 torch threads on a 4-CPU quota spend their time throttled."""
    import os

    if configured > 0:
        return configured
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_limit()
    return max(1, min(cores, quota) if quota else cores)


def cgroup_cpu_limit(root: str = "/sys/fs/cgroup") -> int | None:
    """The CPU limit of this container, rounded up to whole cores (cgroup v2 or v1)."""
    import math
    from pathlib import Path

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


def configure_cpu_threads(threads: int) -> None:
    torch.set_num_threads(max(1, threads))
