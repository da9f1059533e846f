"""The dispatcher: cuts batches from the per-model queues, hands them to the inference engine,
and delivers each batch's results (or its failure) to the requests it holds.

It keeps one batch per pass slot of the engine and one more cut and ready behind them, so the
engine starts its next pass without waiting for the event loop to answer the last one.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import Any

from app.engine.base import BatchResult, Engine, OomReport
from app.errors import EngineStopped, InferenceFailed, ItemTooLarge
from app.scheduler.batcher import padded_cost
from app.scheduler.jobs import WorkItem
from app.scheduler.queue import ModelQueue
from app.telemetry.recorder import Recorder

log = logging.getLogger("smart_embedder.scheduler")


class Dispatcher:
    def __init__(
        self,
        queues: dict[int, ModelQueue],
        engine: Engine,
        recorder: Recorder,
        *,
        cross_request_batching: bool = True,
    ) -> None:
        self.queues = queues
        self.engine = engine
        self.recorder = recorder
        self.cross_request_batching = cross_request_batching
        self._wakeup = asyncio.Event()
        # One batch per pass slot of the engine and one more cut and ready behind them, so
        # the engine starts its next pass without waiting for this loop to answer the last
        # one. Measured against cutting only when a slot frees, and against filling the
        # reserve only when a pass ends: +13% and +5% texts/s at the same texts per batch
        # (BENCHMARKS.md, fast-device embed_dense).
        self._slots = asyncio.Semaphore(engine.size + 1)
        self._batches_at_engine = 0

    def wake(self) -> None:
        """Work was queued: cut a batch if a slot is free."""
        self._wakeup.set()

    async def run(self) -> None:
        while True:
            await self._slots.acquire()
            picked = self._next_batch()
            while picked is None:
                self._wakeup.clear()
                await self._wakeup.wait()
                picked = self._next_batch()
            queue, items = picked
            self._batches_at_engine += 1
            heads = frozenset().union(*(item.job.heads for item in items))
            payloads = [item.payload for item in items]
            self.recorder.queue_waits(
                queue.kind, time.perf_counter(), (item.enqueued_at for item in items)
            )
            future = self.engine.run(queue.model, payloads, heads)
            future.add_done_callback(functools.partial(self._finish, queue, items))

    def _next_batch(self) -> tuple[ModelQueue, list[WorkItem[Any]]] | None:
        ready = [(q.oldest(), q) for q in self.queues.values()]
        candidates = [(t, q) for t, q in ready if t is not None]
        if not candidates:
            return None
        _, queue = min(candidates, key=lambda c: c[0])
        # Idle pass slots split a lone waiting request between them (on a CPU with two,
        # it runs as two half batches side by side); several waiting requests are not split.
        idle_workers = self.engine.size - self._batches_at_engine
        items = queue.take_batch(
            same_job_only=not self.cross_request_batching, share=max(1, idle_workers)
        )
        return (queue, items) if items else None

    def _finish(
        self, queue: ModelQueue, items: list[WorkItem[Any]], future: asyncio.Future[Any]
    ) -> None:
        self._batches_at_engine -= 1
        self._slots.release()
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            self.recorder.batch_failed(queue.kind, queue.name, len(items), error)
            failure: Exception
            if isinstance(error, EngineStopped):
                failure = error
            else:
                log.error("batch on %s failed: %s: %s", queue.name, type(error).__name__, error)
                failure = InferenceFailed(f"inference failed for this batch: {error}")
            for item in items:
                item.job.fail(failure)
            return
        done: BatchResult = future.result()
        too_large: set[int] = set()
        if done.oom is not None:
            self._out_of_memory(queue, done.oom)
            too_large = set(done.oom.too_large)
        costs = [item.cost for item in items]
        self.recorder.batch_done(
            queue.kind,
            queue.name,
            len(items),
            sum(costs),
            padded_cost(costs),
            done.seconds,
            cpu_seconds=done.cpu_seconds,
        )
        for position, (item, result) in enumerate(zip(items, done.results, strict=True)):
            if position in too_large:
                item.job.fail(
                    ItemTooLarge(
                        f"a text of {item.cost} tokens does not fit in the device's free memory "
                        f"for {queue.name}, even alone in a batch; send it shorter"
                    )
                )
            else:
                item.job.deliver(item.index, result)

    def _out_of_memory(self, queue: ModelQueue, oom: OomReport) -> None:
        self.recorder.out_of_memory(queue.kind, queue.name, oom.splits, len(oom.too_large))
        old = queue.max_tokens
        if not queue.lower_budget(oom.failed_tokens, oom.fitted_tokens):
            return
        log.warning(
            "%s ran out of device memory at %d padded tokens (split %d times): its batch "
            "budget goes from %d to %d tokens",
            queue.name,
            oom.failed_tokens,
            oom.splits,
            old,
            queue.max_tokens,
        )
        self.recorder.budget_lowered(queue.kind, queue.name, old, queue.max_tokens)
