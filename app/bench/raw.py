"""The ceiling: the model's own forward passes on the benchmark's texts, same device, with
ideal batches (all texts sorted by length, cut by the server's token budget), no HTTP.

With ``workers > 1`` (a CPU server with ``CPU_INFERENCE_WORKERS``) the same batches run
that many at a time, each pass on cores/workers torch threads: the ceiling of the
server's own thread layout, so the ratio compares like with like.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from app.cpu import threads_per_worker, usable_cores
from app.models.base import Head
from app.models.catalog import load_models
from app.models.runtime import configure_cpu_threads
from app.scheduler.batcher import cut_batch
from app.settings import Settings


@dataclass
class RawResult:
    units: int
    seconds: float
    workers: int = 1

    @property
    def units_per_s(self) -> float:
        return self.units / self.seconds


def ideal_batches(
    items: list[Any], max_tokens: int, max_items: int, overhead_tokens: int | None
) -> list[list[Any]]:
    """All items sorted by length, then cut by the server's own rule: the best batches the
    scheduler could ever form, with every text of the benchmark waiting at once."""
    remaining = sorted(items, key=lambda t: len(t.ids))
    batches = []
    while remaining:
        chosen = cut_batch(
            [_Cost(len(t.ids)) for t in remaining],
            max_tokens=max_tokens,
            max_items=max_items,
            overhead_tokens=overhead_tokens,
        )
        batches.append([remaining[i] for i in chosen])
        taken = set(chosen)
        remaining = [t for i, t in enumerate(remaining) if i not in taken]
    return batches


@dataclass(frozen=True)
class _Cost:
    cost: int


def raw_throughput(
    settings: Settings,
    bodies: list[dict[str, Any]],
    *,
    max_tokens: int,
    max_items: int,
    overhead_tokens: int | None,
    workers: int = 1,
    repeats: int = 2,
) -> RawResult:
    """Best of ``repeats`` timed passes (the most favourable ceiling for the comparison)."""
    models = load_models(settings)
    if workers > 1:
        configure_cpu_threads(threads_per_worker(usable_cores(settings.cpu_threads), workers))
    passes: list[Callable[[], object]] = []
    if "query" in bodies[0]:
        reranker = models.reranker
        assert reranker is not None, "rerank scenario needs a reranker"
        pairs = [p for b in bodies for p in reranker.tokenize_pairs(b["query"], b["passages"])]
        batches = ideal_batches(pairs, max_tokens, max_items, overhead_tokens)
        passes = [partial(reranker.score, batch) for batch in batches]
        units = len(pairs)
    else:
        heads = frozenset({Head.DENSE})
        if bodies[0].get("return_sparse"):
            heads |= {Head.SPARSE}
        if bodies[0].get("return_colbert"):
            heads |= {Head.COLBERT}
        plan: dict[int, tuple[Any, set[Head]]] = {}
        for head in heads:
            backend = models.by_head[head]
            plan.setdefault(id(backend), (backend, set()))[1].add(head)
        texts = [t for b in bodies for t in b["sentences"]]
        for backend, hs in plan.values():
            tokenized = backend.tokenize(texts, "document")
            for batch in ideal_batches(tokenized, max_tokens, max_items, overhead_tokens):
                passes.append(partial(backend.embed, batch, frozenset(hs)))
        units = len(texts)
    best = float("inf")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in range(repeats):
            started = time.perf_counter()
            for _result in pool.map(lambda run: run(), passes):
                pass
            best = min(best, time.perf_counter() - started)
    return RawResult(units=units, seconds=best, workers=workers)
