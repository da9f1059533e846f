"""Device, dtype and batch-tensor helpers shared by the torch backends."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from app.models.precision import choose_dtype, device_capability, torch_dtype
from app.models.transfer import to_device


def resolve_device(setting: str) -> torch.device:
    if setting == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("cpu")
    return torch.device(setting)


def resolve_dtype(setting: str, device: torch.device, kind: str | None = None) -> torch.dtype:
    """The dtype a model of backend ``kind`` runs in on ``device`` (``app.models.precision``)."""
    name = choose_dtype(setting, device.type, device_capability(device), kind)
    return torch_dtype(name)


def describe_device(device: torch.device) -> dict[str, str | int | float | None] | None:
    """What /health shows of a GPU (None on a CPU)."""
    if device.type != "cuda":
        return None
    props = torch.cuda.get_device_properties(device.index or 0)
    return {
        "name": props.name,
        "total_memory_bytes": int(props.total_memory),
        "capability": f"{props.major}.{props.minor}",
        "cuda": torch.version.cuda,
        "device_count": torch.cuda.device_count(),
    }


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
    return to_device(ids, device), to_device(mask, device)


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
    return to_device(out, device)


def configure_cpu_threads(threads: int) -> None:
    torch.set_num_threads(max(1, threads))
