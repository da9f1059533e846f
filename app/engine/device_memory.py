"""The device memory gauges, read where the device is: on the engine's pass threads, after
a pass, at most once a second. The API process only shows the last reading (the engine
sends it with each batch's result), so a scrape never calls CUDA on the event loop, and the
API process never opens a CUDA context of its own."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

_EVERY_SECONDS = 1.0
_lock = threading.Lock()
_last_read = 0.0


def read_device_memory(device: torch.device) -> dict[str, int]:
    """allocated, reserved, free and total bytes of ``device`` (empty off a GPU)."""
    import torch

    if device.type != "cuda":
        return {}
    free, total = torch.cuda.mem_get_info(device)
    return {
        "allocated": int(torch.cuda.memory_allocated(device)),
        "reserved": int(torch.cuda.memory_reserved(device)),
        "free": int(free),
        "total": int(total),
    }


def maybe_read(device: torch.device | None) -> dict[str, int] | None:
    """A reading if the last one is a second old (None otherwise, or off a GPU)."""
    global _last_read
    if device is None or device.type != "cuda":
        return None
    now = time.monotonic()
    with _lock:
        if now - _last_read < _EVERY_SECONDS:
            return None
        _last_read = now
    return read_device_memory(device)
