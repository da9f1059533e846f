"""One forward pass, timed: the same code whichever process the engine runs in."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from app.engine.base import BatchResult
from app.models.base import EmbeddingBackend, Head, RerankBackend


def run_pass(
    backend: EmbeddingBackend | RerankBackend, payloads: Sequence[Any], heads: frozenset[Head]
) -> BatchResult:
    started, cpu_started = time.perf_counter(), time.thread_time()
    results: Any
    if isinstance(backend, RerankBackend):
        results = np.asarray(backend.score(payloads), dtype=np.float32)
    else:
        results = backend.embed(payloads, heads)
    return BatchResult(
        results=results,
        seconds=time.perf_counter() - started,
        cpu_seconds=time.thread_time() - cpu_started,
    )
