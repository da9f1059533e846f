"""Give glibc's freed heap back to the system now and then (``malloc_trim``).

glibc keeps memory freed inside its arenas for reuse; a workload whose tensors come in many
sizes leaves it fragmented, so the engine's resident memory creeps up. A trim between
passes returns the free pages. Only with glibc: under jemalloc or tcmalloc (preloaded), or
off Linux, there is nothing to call and this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from collections.abc import Callable

log = logging.getLogger("smart_embedder.engine")


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def start_heap_trimmer(interval_s: float, stop: threading.Event) -> threading.Thread | None:
    """A daemon thread that trims every ``interval_s`` seconds until ``stop``; None where
    the interval is 0 or there is no glibc ``malloc_trim``."""
    trim = _malloc_trim()
    if interval_s <= 0 or trim is None:
        return None

    def loop() -> None:
        while not stop.wait(interval_s):
            trim(0)

    thread = threading.Thread(target=loop, name="heap-trim", daemon=True)
    thread.start()
    log.info("malloc_trim every %gs", interval_s)
    return thread
