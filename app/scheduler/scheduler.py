"""The scheduler: admission, off-loop tokenization, per-model queues and the dispatcher that
feeds the inference worker.

A request is admitted (or refused with 503 at once when its kind's queue is full), tokenized
in a small thread pool, split into jobs (one per model it needs) and queued. The dispatcher
keeps at most two batches at the worker: one running, one ready, so cutting and padding the
next batch overlaps the current forward pass, and batches are cut as late as possible so they
fill up under load. Results are delivered per item on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from app.errors import InferenceFailed, InvalidInput, Overloaded
from app.models.base import (
    EmbeddingBackend,
    Head,
    InputType,
    ItemEmbedding,
    RerankBackend,
    TokenizedPair,
    TokenizedText,
)
from app.models.catalog import ModelSet
from app.scheduler.batcher import padded_cost
from app.scheduler.jobs import Job, WorkItem
from app.scheduler.queue import ModelQueue
from app.scheduler.worker import InferenceWorker
from app.telemetry.recorder import Recorder

log = logging.getLogger("smart_embedder.scheduler")

Kind = Literal["embed", "rerank"]


@dataclass(frozen=True)
class BatchLimits:
    max_tokens: int
    max_items: int
    #: see ``cut_batch``; None grows batches as far as the budget allows
    overhead_tokens: int | None = None


@dataclass
class EmbedOutcome:
    items: list[ItemEmbedding]
    #: the tokenization each model saw, for truncation warnings and usage counts
    tokenized: list[tuple[EmbeddingBackend, list[TokenizedText]]]


@dataclass
class RerankOutcome:
    scores: np.ndarray
    pairs: list[TokenizedPair]


class Scheduler:
    def __init__(
        self,
        models: ModelSet,
        worker: InferenceWorker,
        *,
        limits: BatchLimits,
        max_queue: dict[Kind, int],
        cross_request_batching: bool = True,
        recorder: Recorder | None = None,
    ) -> None:
        self.models = models
        self.worker = worker
        self.limits = limits
        self.recorder = recorder or Recorder()
        self.cross_request_batching = cross_request_batching
        self._max_queue = max_queue
        self._pending: dict[Kind, int] = {"embed": 0, "rerank": 0}
        self._queues: dict[int, ModelQueue] = {}
        for backend in models.embedding_backends():
            self._queues[id(backend)] = ModelQueue(
                backend.name,
                "embed",
                backend.embed,
                max_tokens=limits.max_tokens,
                max_items=limits.max_items,
                overhead_tokens=limits.overhead_tokens,
            )
        if models.reranker is not None:
            reranker = models.reranker
            self._queues[id(reranker)] = ModelQueue(
                reranker.name,
                "rerank",
                lambda batch, _heads: reranker.score(batch),
                max_tokens=limits.max_tokens,
                max_items=limits.max_items,
                overhead_tokens=limits.overhead_tokens,
            )
        self._tokenize_pool = ThreadPoolExecutor(2, thread_name_prefix="tokenize")
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        # One batch running per worker thread and one more cut and ready behind them.
        self._slots = asyncio.Semaphore(worker.size + 1)
        self._batches_at_worker = 0  # running, or cut and waiting for a free thread
        self._dispatcher: asyncio.Task[None] | None = None
        self.accepting = True

    # --- lifecycle ---
    def start(self) -> None:
        self._dispatcher = asyncio.create_task(self._dispatch(), name="dispatcher")

    async def drain(self, timeout: float) -> bool:
        """Refuse new work, then wait for every admitted request to finish."""
        self.accepting = False
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
        self._tokenize_pool.shutdown(wait=False, cancel_futures=True)

    # --- what operators and the HPA watch ---
    def pending(self, kind: Kind) -> int:
        """Requests admitted and not yet answered."""
        return self._pending[kind]

    def queued_items(self, kind: Kind) -> int:
        return sum(len(q) for q in self._queues.values() if q.kind == kind)

    # --- admission ---
    @contextlib.contextmanager
    def _admitted(self, kind: Kind) -> Iterator[None]:
        if not self.accepting:
            raise Overloaded("the server is shutting down; retry on another replica", retry_after=1)
        if self._pending[kind] >= self._max_queue[kind]:
            raise Overloaded(
                f"the {kind} queue is full ({self._max_queue[kind]} requests waiting); retry later",
                retry_after=1,
            )
        self._pending[kind] += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._pending[kind] -= 1
            if not any(self._pending.values()):
                self._idle.set()

    # --- requests ---
    async def embed(
        self, texts: Sequence[str], heads: frozenset[Head], input_type: InputType = "document"
    ) -> EmbedOutcome:
        plan: dict[int, tuple[EmbeddingBackend, set[Head]]] = {}
        for head in heads:
            backend = self.models.by_head.get(head)
            if backend is None:
                raise InvalidInput(
                    f"{head.value} vectors are not available: no configured model gives them",
                    param=f"return_{head.value}",
                )
            plan.setdefault(id(backend), (backend, set()))[1].add(head)
        with self._admitted("embed"):
            loop = asyncio.get_running_loop()
            backends = [backend for backend, _ in plan.values()]
            tokenized = await asyncio.gather(
                *(
                    loop.run_in_executor(self._tokenize_pool, b.tokenize, texts, input_type)
                    for b in backends
                )
            )
            jobs = [
                Job(tokens, loop, frozenset(plan[id(b)][1]))
                for b, tokens in zip(backends, tokenized, strict=True)
            ]
            results = await self._run_jobs(jobs, backends)
        merged = [ItemEmbedding() for _ in texts]
        for job_results in results:
            for target, part in zip(merged, job_results, strict=True):
                target.dense = part.dense if part.dense is not None else target.dense
                target.sparse = part.sparse if part.sparse is not None else target.sparse
                target.colbert = part.colbert if part.colbert is not None else target.colbert
        return EmbedOutcome(items=merged, tokenized=list(zip(backends, tokenized, strict=True)))

    async def rerank(self, query: str, passages: Sequence[str]) -> RerankOutcome:
        reranker = self.models.reranker
        if reranker is None:
            raise InvalidInput("reranking is not available: no reranker model is configured")
        with self._admitted("rerank"):
            loop = asyncio.get_running_loop()
            pairs = await loop.run_in_executor(
                self._tokenize_pool, reranker.tokenize_pairs, query, passages
            )
            (scores,) = await self._run_jobs([Job(pairs, loop)], [reranker])
        return RerankOutcome(scores=np.asarray(scores, dtype=np.float32), pairs=pairs)

    async def _run_jobs(
        self, jobs: list[Job[Any]], backends: Sequence[EmbeddingBackend | RerankBackend]
    ) -> list[list[Any]]:
        for job, backend in zip(jobs, backends, strict=True):
            self._queues[id(backend)].push(job)
        self._wakeup.set()
        try:
            return list(await asyncio.gather(*(job.future for job in jobs)))
        except BaseException:
            for job in jobs:
                job.cancel()
            raise

    # --- dispatch ---
    async def _dispatch(self) -> None:
        while True:
            await self._slots.acquire()
            picked = self._next_batch()
            while picked is None:
                self._wakeup.clear()
                await self._wakeup.wait()
                picked = self._next_batch()
            queue, items = picked
            self._batches_at_worker += 1
            heads = frozenset().union(*(item.job.heads for item in items))
            payloads = [item.payload for item in items]
            now = time.perf_counter()
            for item in items:
                self.recorder.queue_wait(queue.kind, now - item.enqueued_at)
            future = self.worker.submit(_timed(queue.run, payloads, heads))
            future.add_done_callback(functools.partial(self._finish, queue, items))

    def _next_batch(self) -> tuple[ModelQueue, list[WorkItem[Any]]] | None:
        ready = [(q.oldest(), q) for q in self._queues.values()]
        candidates = [(t, q) for t, q in ready if t is not None]
        if not candidates:
            return None
        _, queue = min(candidates, key=lambda c: c[0])
        # Workers with nothing to do split what is waiting between them (a lone request on a
        # CPU with two workers runs as two half batches); busy workers take whole batches.
        idle_workers = self.worker.size - self._batches_at_worker
        items = queue.take_batch(
            same_job_only=not self.cross_request_batching, share=max(1, idle_workers)
        )
        return (queue, items) if items else None

    def _finish(
        self, queue: ModelQueue, items: list[WorkItem[Any]], future: asyncio.Future[Any]
    ) -> None:
        self._batches_at_worker -= 1
        self._slots.release()
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            log.error("batch on %s failed: %s: %s", queue.name, type(error).__name__, error)
            self.recorder.batch_failed(queue.kind, queue.name, len(items), error)
            failure = InferenceFailed(f"inference failed for this batch: {error}")
            for item in items:
                item.job.fail(failure)
            return
        results, seconds = future.result()
        costs = [item.cost for item in items]
        self.recorder.batch_done(
            queue.kind, queue.name, len(items), sum(costs), padded_cost(costs), seconds
        )
        for item, result in zip(items, results, strict=True):
            item.job.deliver(item.index, result)


def _timed(run: Any, payloads: list[Any], heads: frozenset[Head]) -> Any:
    def call() -> tuple[Any, float]:
        started = time.perf_counter()
        result = run(payloads, heads)
        return result, time.perf_counter() - started

    return call
