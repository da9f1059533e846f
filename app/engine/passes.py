"""One forward pass, timed: the same code whichever process the engine runs in.

Out of device memory, the batch is split and retried (``app.engine.oom``); a sticky device
error (``app.engine.device_errors``) raises ``DeviceLost``, which stops the engine.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from app.engine.base import BatchResult, OomReport
from app.engine.device_errors import DeviceLost, is_sticky
from app.engine.device_memory import maybe_read
from app.engine.oom import fill_gaps, run_splitting
from app.models.base import EmbeddingBackend, Head, RerankBackend


def run_pass(
    backend: EmbeddingBackend | RerankBackend, payloads: Sequence[Any], heads: frozenset[Head]
) -> BatchResult:
    started, cpu_started = time.perf_counter(), time.thread_time()
    pairs = isinstance(backend, RerankBackend)

    def run(part: Sequence[Any]) -> Any:
        if isinstance(backend, RerankBackend):
            return np.asarray(backend.score(part), dtype=np.float32)
        return backend.embed(part, heads)

    device = getattr(backend, "device", None)
    try:
        outcome = run_splitting(run, payloads, on_cuda=getattr(device, "type", "") == "cuda")
    except Exception as exc:
        if is_sticky(exc):
            raise DeviceLost(f"the device is unusable: {type(exc).__name__}: {exc}") from exc
        raise
    oom = None
    if outcome.failed_tokens:
        oom = OomReport(
            failed_tokens=outcome.failed_tokens,
            fitted_tokens=outcome.fitted_tokens,
            splits=outcome.splits,
            too_large=outcome.too_large,
        )
    results: Sequence[Any] | np.ndarray = outcome.results
    if outcome.too_large:
        results = fill_gaps(outcome.results, pairs=pairs)
    elif pairs:
        results = np.asarray(outcome.results, dtype=np.float32)
    return BatchResult(
        results=results,
        seconds=time.perf_counter() - started,
        cpu_seconds=time.thread_time() - cpu_started,
        oom=oom,
        device_memory=maybe_read(device),
    )
