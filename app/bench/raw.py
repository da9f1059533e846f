"""The ceiling: the model's own forward passes on the benchmark's texts, same device, with
ideal batches (all texts sorted by length, cut by the server's token budget), no HTTP.

With ``workers > 1`` the same batches run in that many processes side by side, each pass on
cores/workers torch threads (one single-threaded pass per core on a CPU): processes, not
threads, so that a model whose pass is mostly Python (a tiny one, or any model on a fast
device) is not held back by one interpreter lock. The machine's ceiling is the better of
that and one pass at a time on every core.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

from app.cpu import threads_per_worker, usable_cores
from app.models.base import Head
from app.models.loading import load_models
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
    """Best of ``repeats`` timed runs of every batch (the most favourable ceiling)."""
    limits = (max_tokens, max_items, overhead_tokens)
    units = sum(len(b.get("sentences") or b.get("passages") or []) for b in bodies)
    if workers == 1:
        passes = _passes(settings, bodies, limits)
        best = min(_timed(passes) for _ in range(repeats))
        return RawResult(units=units, seconds=best, workers=1)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    results = context.Queue()
    procs = [
        context.Process(
            target=_side_by_side,
            args=(settings, bodies, limits, workers, part, repeats, barrier, results),
        )
        for part in range(workers)
    ]
    for proc in procs:
        proc.start()
    runs = [results.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join()
    # Each repeat starts at a barrier: its time is the slowest process's.
    best = min(max(times[r] for times in runs) for r in range(repeats))
    return RawResult(units=units, seconds=best, workers=workers)


def _side_by_side(
    settings: Settings,
    bodies: list[dict[str, Any]],
    limits: tuple[int, int, int | None],
    workers: int,
    part: int,
    repeats: int,
    barrier: Any,
    results: Any,
) -> None:
    passes = _passes(settings, bodies, limits, part=part, parts=workers)
    configure_cpu_threads(threads_per_worker(usable_cores(settings.cpu_threads), workers))
    passes[0]()  # the first pass of a new process pays for lazy initialisation
    times = []
    for _ in range(repeats):
        barrier.wait()
        times.append(_timed(passes))
    results.put(times)


def _timed(passes: list[partial[Any]]) -> float:
    started = time.perf_counter()
    for run in passes:
        run()
    return time.perf_counter() - started


def _passes(
    settings: Settings,
    bodies: list[dict[str, Any]],
    limits: tuple[int, int, int | None],
    *,
    part: int = 0,
    parts: int = 1,
) -> list[partial[Any]]:
    """The ideal batches of ``bodies`` as ready-to-run passes (every ``parts``-th of them,
    from ``part``)."""
    models = load_models(settings)
    passes: list[partial[Any]] = []
    if "query" in bodies[0]:
        reranker = models.reranker
        assert reranker is not None, "rerank scenario needs a reranker"
        pairs = [p for b in bodies for p in reranker.tokenize_pairs(b["query"], b["passages"])]
        passes = [partial(reranker.score, batch) for batch in ideal_batches(pairs, *limits)]
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
            for batch in ideal_batches(tokenized, *limits):
                passes.append(partial(backend.embed, batch, frozenset(hs)))
    return passes[part::parts]
