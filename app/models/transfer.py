"""Host <-> device copies for the torch backends.

To a GPU, each batch tensor is staged in page-locked (pinned) memory, so the copy really is
asynchronous (``non_blocking=True`` on pageable memory is a synchronous copy). torch's caching
host allocator recycles the pinned blocks, and keeps one from reuse until its copy is done.

Back from a GPU, every head of a batch travels in one copy: the float32 results are flattened
and concatenated on the device, copied once (one synchronisation per batch instead of one
per head), and split into numpy views on the host.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    host = torch.from_numpy(array)
    if device.type != "cuda":
        return host
    staged = torch.empty(host.shape, dtype=host.dtype, pin_memory=True)
    staged.copy_(host)
    return staged.to(device, non_blocking=True)


def to_host(tensors: Sequence[torch.Tensor]) -> list[np.ndarray]:
    """Each tensor as a float32 numpy array of its shape, in one device-to-host copy."""
    if not tensors:
        return []
    if tensors[0].device.type != "cuda":
        return [t.float().numpy() for t in tensors]
    flat = torch.cat([t.float().reshape(-1) for t in tensors])
    staged = torch.empty(flat.shape, dtype=torch.float32, pin_memory=True)
    staged.copy_(flat)  # one synchronising copy, into pinned memory
    host = staged.numpy()
    out: list[np.ndarray] = []
    start = 0
    for tensor in tensors:
        size = tensor.numel()
        out.append(host[start : start + size].reshape(tuple(tensor.shape)))
        start += size
    return out
