"""What every serving process shares, whether ``serve`` runs one API process or a supervisor
starts several (``app/front_ends.py``): the exit code of a load failure, the preflight, the
thread switch interval, and the handler the runtime calls when the server cannot go on."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable

from app.settings import Settings

#: the exit code of a server that could not load or locate its models
EXIT_LOAD = 3


def fast_thread_switches() -> None:
    # Threads here (the tokenizer pool, the siblings' figures; the passes themselves with
    # ENGINE_PROCESS=false) hold the GIL between their C calls; a short switch interval lets
    # the event loop answer (and refuse) requests in ~1 ms instead of ~5 ms slices meanwhile.
    # Measured: burst refusals p99 60-180 ms -> under 50 ms, at ~5% of a tiny model's
    # throughput (real models release the GIL in long kernels and lose nothing).
    sys.setswitchinterval(0.001)


def preflight_or_exit(settings: Settings) -> None:
    """Every model on disk located and matched to a backend before anything serves; raises
    ``ModelLoadError`` with one line otherwise."""
    from app.models.catalog import preflight

    pending = preflight(settings)
    if pending:
        logging.getLogger("smart_embedder").info(
            "will download from the hub after start: %s", ", ".join(pending)
        )


def fatal_handler(failure: list[str]) -> Callable[[str], None]:
    """What the runtime calls when the server cannot go on: note why, then drain and exit as
    on a SIGTERM (the caller then exits non-zero with the reason as its last line)."""

    def on_fatal(message: str) -> None:
        failure.append(message)
        os.kill(os.getpid(), signal.SIGTERM)

    return on_fatal
