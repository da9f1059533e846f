"""Host memory of the server's processes: the resident set (RSS) of this API process and of
the engine process, read from /proc at scrape time. A pod is OOM-killed when their sum (and
the page cache it is charged for) reaches its memory limit; these say which process grows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from opentelemetry.metrics import CallbackOptions, Meter, Observation

RSS_METRIC = "smart_embedder_process_resident_memory_bytes"
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def resident_bytes(pid: int) -> int | None:
    """RSS of one process (/proc/PID/statm counts pages); None where it is gone or /proc is
    not there (not Linux)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return None


class MemorySources:
    def __init__(self) -> None:
        #: the engine's own process, where it has one (None: the engine runs in this one)
        self.engine_pid: Callable[[], int | None] = lambda: None


def register_memory_instruments(meter: Meter, sources: MemorySources) -> None:
    def observe(_options: CallbackOptions) -> Iterable[Observation]:
        observations = []
        for role, pid in (("api", os.getpid()), ("engine", sources.engine_pid())):
            rss = resident_bytes(pid) if pid is not None else None
            if rss is not None:
                observations.append(Observation(rss, {"process": role, "pid": str(pid)}))
        return observations

    meter.create_observable_gauge(
        RSS_METRIC,
        callbacks=[observe],
        unit="By",
        description="Resident memory (RSS) of a server process, by process (api: this API "
        "process; engine: the process that runs the models) and pid.",
    )
