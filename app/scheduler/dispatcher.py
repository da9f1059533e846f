"""The dispatcher: cuts batches from the per-model queues, hands them to the inference engine,
and delivers each batch's results (or its failure) to the requests it holds.

It keeps one batch per pass slot of the engine and one more cut and ready behind them, so the
engine starts its next pass without waiting for the event loop to answer the last one. Which
work leads each cut is the priority policy's (``app.scheduler.priorities``): interactive work
first, batch work filling what is left, and never passed over more than a few cuts in a row.
While those slots are all held by bulk work, one more pass (the express pass) may be cut for
interactive work at once; the engine runs it ahead of the batches queued there, or, on a CPU
engine with a thread kept for it (``Engine.express_lane``), at once beside the bulk passes
in flight (then as soon as bulk work holds every other thread, and with no bulk fill). So
that the pass a query may wait for is short, a pass holding bulk work is cut to a bounded
cost, lower while interactive work has been seen within the last ``interactive_seconds``
(not where an express thread spares the query that wait).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from app.engine.base import ALONE, BatchResult, Engine, OomReport, PassLimits
from app.errors import EngineStopped, InferenceFailed, ItemTooLarge
from app.scheduler.batcher import padded_cost
from app.scheduler.jobs import WorkItem
from app.scheduler.priorities import INTERACTIVE, PRIORITIES, Priority, PriorityPolicy, Turns
from app.scheduler.queue import ModelQueue
from app.telemetry.recorder import Recorder

log = logging.getLogger("smart_embedder.scheduler")


class Cut(NamedTuple):
    queue: ModelQueue
    items: list[WorkItem[Any]]
    #: cut into the express pass (see the module's docstring)
    express: bool
    #: no interactive item in it
    bulk: bool
    #: what a pass that joins it with other API processes' batches may hold
    limits: PassLimits = ALONE


class Dispatcher:
    def __init__(
        self,
        queues: dict[int, ModelQueue],
        engine: Engine,
        recorder: Recorder,
        *,
        cross_request_batching: bool = True,
        policy: PriorityPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queues = queues
        self.engine = engine
        self.recorder = recorder
        self.cross_request_batching = cross_request_batching
        self.policy = policy or PriorityPolicy()
        self.turns = Turns(self.policy.starvation_passes)
        self._wakeup = asyncio.Event()
        # One batch per pass slot of the engine and one more cut and ready behind them, so
        # the engine starts its next pass without waiting for this loop to answer the last
        # one. Measured against cutting only when a slot frees, and against filling the
        # reserve only when a pass ends: +13% and +5% texts/s at the same texts per batch
        # (BENCHMARKS.md, fast-device embed_dense).
        self._slots = engine.size + 1
        self._batches_at_engine = 0
        #: of those, batches with no interactive item
        self._bulk_at_engine = 0
        self._express_at_engine = False
        self._clock = clock
        #: when a cut last saw interactive work waiting (``PriorityPolicy.bulk_max_cost``)
        self._interactive_seen_at = -math.inf

    def wake(self) -> None:
        """Work was queued, or a pass ended: cut a batch if a slot is free."""
        self._wakeup.set()

    async def run(self) -> None:
        while True:
            cut = self._next_batch()
            while cut is None:
                self._wakeup.clear()
                await self._wakeup.wait()
                cut = self._next_batch()
            queue, items = cut.queue, cut.items
            self._batches_at_engine += 1
            self._bulk_at_engine += cut.bulk
            self._express_at_engine |= cut.express
            heads = frozenset().union(*(item.job.heads for item in items))
            payloads = [item.payload for item in items]
            self._record_waits(queue, items)
            future = self.engine.run(
                queue.model, payloads, heads, express=cut.express, limits=cut.limits
            )
            future.add_done_callback(functools.partial(self._finish, cut))
            if self.engine.withdraws:
                self._watch_cancels(items, future)

    def _watch_cancels(self, items: list[WorkItem[Any]], batch: asyncio.Future[Any]) -> None:
        """A request cancelled while this batch waits at the engine withdraws its items
        there, before the pass that would run them is cut (``app.engine.coalescing``)."""
        positions: dict[int, list[int]] = {}
        jobs = {}
        for position, item in enumerate(items):
            positions.setdefault(id(item.job), []).append(position)
            jobs[id(item.job)] = item.job
        for key, job in jobs.items():
            job.on_cancel.append(functools.partial(self.engine.withdraw, batch, positions[key]))

    def _record_waits(self, queue: ModelQueue, items: list[WorkItem[Any]]) -> None:
        now = time.perf_counter()
        by_class: dict[Priority, list[float]] = {}
        for item in items:
            by_class.setdefault(item.job.lane.priority, []).append(item.enqueued_at)
        for priority, enqueued_at in by_class.items():
            self.recorder.queue_waits(queue.kind, now, enqueued_at, priority=priority)

    def _next_batch(self) -> Cut | None:
        full = self._batches_at_engine >= self._slots
        may_express = bool(
            self.policy.express and self._bulk_at_engine and not self._express_at_engine
        )
        if full and not may_express:
            return None
        # An engine with a thread kept for express passes runs one at once, so an
        # interactive request goes there as soon as bulk work holds every other thread.
        lane_busy = self.engine.express_lane and self._bulk_at_engine >= self.engine.size
        oldest: dict[Priority, tuple[float, ModelQueue]] = {}
        for queue in self.queues.values():
            for priority in PRIORITIES:
                at = queue.oldest(priority)
                if at is not None and (priority not in oldest or at < oldest[priority][0]):
                    oldest[priority] = (at, queue)
        now = self._clock()
        if INTERACTIVE in oldest:
            self._interactive_seen_at = now
        express = may_express and (full or lane_busy) and INTERACTIVE in oldest
        if full and not express:
            return None
        recent = now - self._interactive_seen_at <= self.policy.interactive_seconds
        if self._slot_reserved(recent, oldest):
            return None
        order = self.turns.order(oldest)
        if not order:
            return None
        if express:
            # On a thread of its own, bulk work would only lengthen the query's pass; run
            # next on a shared one (a GPU's), it fills what the pass has room for.
            order = (
                (INTERACTIVE,)
                if self.engine.express_lane
                else (INTERACTIVE, *(p for p in order if p != INTERACTIVE))
            )
        queue = oldest[order[0]][1]
        bulk_cap = self.policy.bulk_max_cost(recent, queue.max_tokens, queue.overhead_tokens or 0)
        # Idle pass slots split a lone waiting request between them (on a CPU with two,
        # it runs as two half batches side by side); several waiting requests are not split.
        idle_workers = self.engine.size - self._batches_at_engine
        items = queue.take_batch(
            order,
            same_job_only=not self.cross_request_batching,
            share=max(1, idle_workers),
            bulk_max_cost=bulk_cap,
        )
        if not items:
            return None
        served = {item.job.lane.priority for item in items}
        self.turns.cut(oldest, served)
        limits = ALONE
        if self.cross_request_batching:
            tokens = queue.max_tokens
            if served - {INTERACTIVE}:  # bulk work in it: a pass holding it keeps the cap
                tokens = min(tokens, max(1, bulk_cap - (queue.overhead_tokens or 0)))
            limits = PassLimits(tokens, queue.max_items)
        return Cut(queue, items, express, bulk=INTERACTIVE not in served, limits=limits)

    def _slot_reserved(self, recent: bool, waiting: dict[Priority, Any]) -> bool:
        """No bulk cut now: the last free pass slot is kept for interactive work
        (``PriorityPolicy.reserve_slot``)."""
        return (
            self.policy.reserve_slot
            and recent
            and INTERACTIVE not in waiting
            and self.engine.size > 1
            and self._bulk_at_engine >= self.engine.size - 1
        )

    def _finish(self, cut: Cut, future: asyncio.Future[Any]) -> None:
        queue, items = cut.queue, cut.items
        self._batches_at_engine -= 1
        self._bulk_at_engine -= cut.bulk
        if cut.express:
            self._express_at_engine = False
        self.wake()
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
        # positions withdrawn at the engine (their requests were cancelled) have no result
        dropped = set(done.dropped)
        ran = [p for p in range(len(items)) if p not in dropped] if dropped else None
        if ran is not None:
            items = [items[p] for p in ran]
            if not items:
                return
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
        for place, (item, result) in enumerate(zip(items, done.results, strict=True)):
            if (place if ran is None else ran[place]) in too_large:
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
