"""The scheduler's priority classes and tenants with the real engine threads (inline), on the
counting backend whose passes the tests hold at a gate: the order of the passes the model saw
is the verdict, never a time."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

import numpy as np
import pytest

from app.engine.inline import InlineEngine
from app.engine.threads import PassThreads
from app.models.base import Head, ItemEmbedding
from app.models.catalog import ModelSet
from app.scheduler.outcomes import BatchLimits
from app.scheduler.priorities import BATCH, INTERACTIVE, Lane, PriorityPolicy
from app.scheduler.scheduler import Scheduler
from tests.unit.test_scheduler import HANG_GUARD_S, CountingBackend, text, until

DENSE = frozenset({Head.DENSE})


async def held_scheduler(
    policy: PriorityPolicy,
    *,
    max_items: int = 2,
    clock: Callable[[], float] = time.monotonic,
    threads: int = 1,
) -> tuple[CountingBackend, InlineEngine, Scheduler]:
    """One pass thread (unless told), its gate closed: the first batch waits inside the
    model."""
    backend = CountingBackend()
    backend.gate.clear()
    engine = InlineEngine([backend], threads=threads)
    engine.start()
    scheduler = Scheduler(
        ModelSet(by_head={Head.DENSE: backend}),
        engine,
        limits=BatchLimits(max_tokens=10_000, max_items=max_items),
        max_queue={"embed": 100, "rerank": 1},
        policy=policy,
        clock=clock,
    )
    scheduler.start()
    return backend, engine, scheduler


def embed(scheduler: Scheduler, words: int, count: int, lane: Lane) -> Awaitable[object]:
    return asyncio.ensure_future(scheduler.embed([text(words)] * count, DENSE, lane=lane))


@pytest.mark.parametrize("enabled", [True, False])
async def test_an_interactive_request_overtakes_bulk_work_already_cut(enabled: bool) -> None:
    backend, engine, scheduler = await held_scheduler(PriorityPolicy(enabled=enabled))
    bulk = [embed(scheduler, 5, 2, Lane(BATCH, "indexer")) for _ in range(4)]
    # one pass inside the model, one ready behind it, two requests still queued
    await until(lambda: backend.entered.is_set(), "the first pass reached the model")
    await until(lambda: scheduler.queued_items("embed") == 4, "two requests still queued")
    query = embed(scheduler, 3, 1, Lane(INTERACTIVE, "app"))
    # on: cut at once with a bulk text beside it; off: it waits behind the bulk work
    await until(lambda: scheduler.queued_items("embed") == (3 if enabled else 5), "the query")
    backend.gate.set()
    await asyncio.gather(*bulk, query)
    await engine.stop()
    if enabled:
        # cut at once into the express pass, filled with bulk work, and run before the
        # batch that was ready behind the first
        assert backend.batches == [[5, 5], [3, 5], [5, 5], [5, 5], [5]]
    else:
        # as before classes: oldest first
        assert backend.batches == [[5, 5], [5, 5], [5, 5], [5, 5], [3]]


async def test_without_the_express_pass_it_is_cut_at_the_next_slot() -> None:
    backend, engine, scheduler = await held_scheduler(PriorityPolicy(express=False))
    bulk = [embed(scheduler, 5, 2, Lane(BATCH)) for _ in range(4)]
    await until(lambda: scheduler.queued_items("embed") == 4, "two requests still queued")
    query = embed(scheduler, 3, 1, Lane(INTERACTIVE))
    await until(lambda: scheduler.queued_items("embed", INTERACTIVE) == 1, "the query waits")
    backend.gate.set()
    await asyncio.gather(*bulk, query)
    await engine.stop()
    assert backend.batches == [[5, 5], [5, 5], [3, 5], [5, 5], [5]]


async def test_tenants_of_a_class_take_turns() -> None:
    backend, engine, scheduler = await held_scheduler(PriorityPolicy())
    team_a = [embed(scheduler, 5, 2, Lane(BATCH, "a")) for _ in range(4)]
    await until(lambda: scheduler.queued_items("embed") == 4, "a's last two requests queued")
    team_b = [embed(scheduler, 7, 2, Lane(BATCH, "b")) for _ in range(2)]
    await until(lambda: scheduler.queued_items("embed") == 8, "b's requests queued")
    backend.gate.set()
    await asyncio.gather(*team_a, *team_b)
    await engine.stop()
    assert backend.batches == [[5, 5], [5, 5], [5, 5], [7, 7], [5, 5], [7, 7]]


async def test_batch_work_is_passed_over_at_most_n_cuts() -> None:
    backend, engine, scheduler = await held_scheduler(PriorityPolicy(starvation_passes=2))
    queries = [embed(scheduler, 3, 2, Lane(INTERACTIVE)) for _ in range(6)]
    await until(lambda: scheduler.queued_items("embed") == 8, "four queries queued")
    bulk = embed(scheduler, 9, 1, Lane(BATCH))
    await until(lambda: scheduler.queued_items("embed") == 9, "the bulk request queued")
    backend.gate.set()
    await asyncio.gather(*queries, bulk)
    await engine.stop()
    # two passes already at the engine, two that passed it over, then its own (led by it,
    # filled with a query's text), while queries still waited
    assert backend.batches[:5] == [[3, 3], [3, 3], [3, 3], [3, 3], [9, 3]]
    assert [3, 3] in backend.batches[5:]


def test_an_express_call_runs_before_the_calls_already_waiting() -> None:
    threads = PassThreads("test", threads=1)
    threads.start()
    busy, ran, done = threading.Event(), [], threading.Event()

    def hold() -> None:
        busy.set()
        assert done.wait(HANG_GUARD_S)

    def record(name: str) -> None:
        ran.append(name)

    threads.submit(hold, lambda _result, _error: None)
    assert busy.wait(HANG_GUARD_S)
    for name, express in (("first", False), ("second", False), ("express", True)):
        threads.submit(lambda n=name: record(n), lambda _result, _error: None, express=express)
    done.set()
    threads.stop()
    assert ran == ["express", "first", "second"]


async def test_bulk_passes_are_cut_to_their_cost_cap() -> None:
    backend, engine, scheduler = await held_scheduler(
        PriorityPolicy(bulk_pass_tokens=12), max_items=64
    )
    bulk = [
        embed(scheduler, 3, 8, Lane(BATCH, "indexer")),
        embed(scheduler, 9, 2, Lane(BATCH, "indexer")),
    ]
    # the first pass is cut as the first request comes; hold it until both are queued
    await until(lambda: backend.entered.is_set(), "the first pass reached the model")
    await until(lambda: scheduler.queued_items("embed") == 2, "two passes cut, the rest queued")
    backend.gate.set()
    await asyncio.gather(*bulk)
    await engine.stop()
    # 12 tokens a pass: four 3-token texts, then each 9-token text alone
    assert backend.batches == [[3, 3, 3, 3], [3, 3, 3, 3], [9], [9]]


async def test_bulk_passes_are_cut_smaller_while_interactive_work_is_about() -> None:
    now = [0.0]
    policy = PriorityPolicy(
        bulk_pass_tokens=12, interactive_bulk_pass_tokens=6, interactive_seconds=1.0
    )
    backend, engine, scheduler = await held_scheduler(policy, max_items=64, clock=lambda: now[0])
    query = embed(scheduler, 3, 1, Lane(INTERACTIVE, "app"))
    await until(lambda: backend.entered.is_set(), "the query's pass reached the model")
    bulk = embed(scheduler, 3, 12, Lane(BATCH, "indexer"))
    # cut while the query was just seen: 6 tokens, two texts
    await until(lambda: scheduler.queued_items("embed") == 10, "a small bulk pass ready")
    now[0] = 5.0  # no query since: the passes cut from now on are full again
    backend.gate.set()
    await asyncio.gather(query, bulk)
    await engine.stop()
    assert backend.batches == [[3], [3, 3], [3, 3, 3, 3], [3, 3, 3, 3], [3, 3]]


@pytest.mark.parametrize("reserve", [True, False])
async def test_a_pass_slot_may_be_kept_for_interactive_work(reserve: bool) -> None:
    now = [0.0]
    backend, engine, scheduler = await held_scheduler(
        PriorityPolicy(reserve_slot=reserve, interactive_seconds=1.0),
        clock=lambda: now[0],
        threads=2,
    )
    query = embed(scheduler, 3, 1, Lane(INTERACTIVE))
    await until(lambda: backend.entered.is_set(), "the query's pass reached the model")
    bulk = embed(scheduler, 5, 6, Lane(BATCH))
    # every cut the dispatcher can make happens in the step that queued the bulk request:
    # kept, one slot stays free for the next query (one bulk pass); else both free ones fill
    await until(lambda: scheduler.queued_items("embed") < 6, "bulk work cut")
    assert scheduler.queued_items("embed") == (4 if reserve else 2)
    now[0] = 5.0  # no query since: bulk work takes every slot again
    backend.gate.set()
    await asyncio.gather(query, bulk)
    await engine.stop()
    # (two threads: how the last texts split between them is theirs to race for)
    assert sorted(size for batch in backend.batches for size in batch) == [3, *[5] * 6]


def test_an_express_thread_runs_express_calls_while_every_other_thread_is_busy() -> None:
    threads = PassThreads("test", threads=1, express_thread=True)
    threads.start()
    busy, release, express_ran = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        busy.set()
        assert release.wait(HANG_GUARD_S)

    threads.submit(hold, lambda _result, _error: None)
    assert busy.wait(HANG_GUARD_S)
    threads.submit(express_ran.set, lambda _result, _error: None, express=True)
    # it ran while the only other thread is still inside its call
    assert express_ran.wait(HANG_GUARD_S)
    assert not release.is_set()
    release.set()
    threads.stop()
    assert threads.express_lane and threads.size == 1


class BulkHeldBackend(CountingBackend):
    """Holds at the gate only passes without a 3-word text (this file's queries)."""

    def embed(self, batch, heads):  # type: ignore[no-untyped-def]
        if any(len(t.ids) == 3 for t in batch):
            self.batches.append([len(t.ids) for t in batch])
            return [ItemEmbedding(dense=np.array([len(t.ids), 0], np.float32)) for t in batch]
        return super().embed(batch, heads)


async def test_on_an_express_thread_a_query_passes_bulk_work_in_flight() -> None:
    backend = BulkHeldBackend()
    backend.gate.clear()
    engine = InlineEngine([backend], threads=1, express_thread=True)
    engine.start()
    scheduler = Scheduler(
        ModelSet(by_head={Head.DENSE: backend}),
        engine,
        limits=BatchLimits(max_tokens=10_000, max_items=2),
        max_queue={"embed": 100, "rerank": 1},
        policy=PriorityPolicy(lower_while_interactive=False),
    )
    scheduler.start()
    bulk = embed(scheduler, 5, 6, Lane(BATCH, "indexer"))
    await until(lambda: backend.entered.is_set(), "a bulk pass reached the model")
    await until(lambda: scheduler.queued_items("embed") == 2, "one bulk pass ready behind it")
    query = embed(scheduler, 3, 1, Lane(INTERACTIVE, "app"))
    # answered while the bulk pass still holds the only other thread, in a pass of its own
    await asyncio.wait_for(query, HANG_GUARD_S)
    assert not backend.gate.is_set() and backend.batches == [[3]]
    backend.gate.set()
    await bulk
    await engine.stop()
    assert backend.batches == [[3], [5, 5], [5, 5], [5, 5]]
