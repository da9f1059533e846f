"""The scheduler with the real engine threads (inline) and queues, on a small numpy backend whose
batches the tests can hold, inspect and break: order, splitting, cross-request batching,
budget, cancellation, overload and error isolation (SPEC §3).

Each step waits for the state it needs (a batch held at the gate, requests admitted or
queued), never for a sleep to have been long enough: the verdicts are the same on an idle
machine and a busy one."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import ClassVar

import numpy as np
import pytest

from app.cpu import inference_workers
from app.engine.inline import InlineEngine
from app.errors import EngineStopped, InferenceFailed, Overloaded
from app.models.base import (
    EmbeddingBackend,
    EmbedInput,
    Head,
    InputType,
    ItemEmbedding,
    ModelInfo,
    TokenIds,
    TokenizedText,
    TruncationSide,
)
from app.models.catalog import ModelSet
from app.scheduler.batcher import padded_cost
from app.scheduler.outcomes import BatchLimits
from app.scheduler.scheduler import Scheduler

#: how long a step may wait for something that happens at once: a hang guard, never a verdict
HANG_GUARD_S = 60.0


async def until(condition: Callable[[], bool], what: str) -> None:
    """Let the loop (and the engine threads) run until ``condition`` holds."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.001)

    try:
        await asyncio.wait_for(poll(), HANG_GUARD_S)
    except asyncio.TimeoutError:
        raise AssertionError(f"never happened: {what}") from None


class CountingBackend(EmbeddingBackend):
    """One token per word; the 'embedding' of a text is (word count, its first token id).

    ``gate`` holds the worker inside a batch until the test opens it; a text containing
    ``boom`` makes its whole batch raise.
    """

    kind = "counting"
    heads: ClassVar[frozenset[Head]] = frozenset({Head.DENSE})

    def __init__(self) -> None:
        self.info = ModelInfo(name="counting", kind=self.kind, source="-", max_length=1000)
        self.batches: list[list[int]] = []  # the token ids' first elements, per batch
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def tokenize(self, texts: Sequence[str], input_type: InputType) -> list[TokenizedText]:
        return [
            TokenizedText(ids=[len(t.split()), *range(1, len(t.split()))], original_tokens=0)
            for t in texts
        ]

    def embed(self, batch: Sequence[TokenizedText], heads: frozenset[Head]) -> list[ItemEmbedding]:
        self.entered.set()
        # A gate never opened fails the batch (and so the test) rather than letting it pass.
        assert self.gate.wait(HANG_GUARD_S), "the test never opened the gate"
        self.batches.append([len(t.ids) for t in batch])
        if any(len(t.ids) == 13 for t in batch):  # "boom" texts have 13 words
            raise RuntimeError("device fault")
        return [
            ItemEmbedding(dense=np.array([len(t.ids), t.ids[0]], dtype=np.float32)) for t in batch
        ]


BOOM = " ".join(["boom"] * 13)


def text(words: int) -> str:
    return " ".join(["w"] * words)


@pytest.fixture
async def setup():  # type: ignore[no-untyped-def]
    backend = CountingBackend()
    engine = InlineEngine([backend])
    engine.start()

    def build(**kw: object) -> Scheduler:
        limits = kw.pop("limits", BatchLimits(max_tokens=10_000, max_items=64))
        scheduler = Scheduler(
            ModelSet(by_head={Head.DENSE: backend}),
            engine,
            limits=limits,  # type: ignore[arg-type]
            max_queue={"embed": int(kw.pop("max_queue", 100)), "rerank": 1},  # type: ignore[call-overload]
            cross_request_batching=bool(kw.pop("cross", True)),
        )
        scheduler.start()
        return scheduler

    yield backend, build
    backend.gate.set()
    await engine.stop()


async def embed(scheduler: Scheduler, texts: Sequence[EmbedInput]) -> list[float]:
    outcome = await scheduler.embed(texts, frozenset({Head.DENSE}))
    return [float(item.dense[0]) for item in outcome.items]  # type: ignore[index]


async def held(backend: CountingBackend) -> None:
    """Wait until the worker is inside a batch, held at the closed gate."""
    assert await asyncio.to_thread(backend.entered.wait, HANG_GUARD_S), "no batch reached it"


def ran(backend: CountingBackend) -> list[int]:
    """The first token of every text that reached the model (its word count)."""
    return [n for b in backend.batches for n in b]


async def flush(scheduler: Scheduler) -> None:
    """Send one more request and wait for it: the queue is oldest first and one worker runs
    the batches in order, so whatever was queued before it has run (or been dropped) now."""
    assert await embed(scheduler, [text(5)]) == [5.0]


async def test_results_come_back_in_input_order_across_split_batches(setup) -> None:  # type: ignore[no-untyped-def]
    backend, build = setup
    scheduler = build(limits=BatchLimits(max_tokens=10_000, max_items=3))
    sizes = [5, 1, 9, 2, 7, 3, 8, 4, 6, 10]
    assert await embed(scheduler, [text(n) for n in sizes]) == sizes
    assert [len(b) for b in backend.batches] == [3, 3, 3, 1]
    await scheduler.stop()


async def test_token_budget_bounds_every_batch(setup) -> None:  # type: ignore[no-untyped-def]
    backend, build = setup
    scheduler = build(limits=BatchLimits(max_tokens=40, max_items=64))
    sizes = [3, 20, 4, 18, 5, 2, 19, 6, 1, 17]
    assert await embed(scheduler, [text(n) for n in sizes]) == sizes
    assert all(padded_cost(b) <= 40 for b in backend.batches)
    assert sorted(n for b in backend.batches for n in b) == sorted(sizes)
    await scheduler.stop()


async def test_requests_are_batched_together(setup) -> None:  # type: ignore[no-untyped-def]
    backend, build = setup
    scheduler = build()
    backend.gate.clear()
    first = asyncio.create_task(embed(scheduler, [text(2)]))
    await held(backend)  # the worker is now held in batch 1
    others = [asyncio.create_task(embed(scheduler, [text(3), text(4)])) for _ in range(5)]
    # (short texts are tokenized on the loop, so an admitted request is a queued one)
    await until(lambda: scheduler.pending("embed") == 6, "all five requests queued")
    backend.gate.set()
    assert await first == [2.0]
    assert [await o for o in others] == [[3.0, 4.0]] * 5
    # Five requests that queued while batch 1 ran share at most two batches (one is cut
    # as soon as a slot frees, the rest fill the next), so requests were mixed in a batch.
    assert len(backend.batches) <= 3
    assert max(len(b) for b in backend.batches) >= 4
    await scheduler.stop()


class GivenIds:
    """The tokenizer's part in token-id inputs: ids taken as they are."""

    def from_ids(
        self, sequences: Sequence[Sequence[int]], side: TruncationSide | None = None
    ) -> list[TokenizedText]:
        return [TokenizedText(ids=list(ids), original_tokens=len(ids)) for ids in sequences]


async def test_token_ids_are_batched_as_texts_are(setup) -> None:  # type: ignore[no-untyped-def]
    backend, build = setup
    backend.tokenizer = GivenIds()
    scheduler = build()
    seven = TokenIds(range(7, 14))  # seven ids, the first one 7
    # texts and ids of one request: one batch, in input order, the ids untokenized
    assert await embed(scheduler, [text(3), seven, text(4)]) == [3.0, 7.0, 4.0]
    assert backend.batches == [[3, 7, 4]]
    backend.batches.clear()
    backend.gate.clear()
    first = asyncio.create_task(embed(scheduler, [text(2)]))
    await held(backend)
    others = [asyncio.create_task(embed(scheduler, [seven, text(3)])) for _ in range(5)]
    await until(lambda: scheduler.pending("embed") == 6, "all five requests queued")
    backend.gate.set()
    assert await first == [2.0]
    assert [await o for o in others] == [[7.0, 3.0]] * 5
    # cut from the same queue as every text: requests share batches
    assert len(backend.batches) <= 3
    assert max(len(b) for b in backend.batches) >= 4
    await scheduler.stop()


async def test_without_cross_request_batching_each_batch_is_one_request(setup) -> None:  # type: ignore[no-untyped-def]
    backend, build = setup
    scheduler = build(cross=False)
    backend.gate.clear()
    tasks = [asyncio.create_task(embed(scheduler, [text(3), text(4)])) for _ in range(4)]
    # All four wait together while the first batch is held: cross-request batching, if it
    # were on, would mix them.
    await held(backend)
    await until(lambda: scheduler.pending("embed") == 4, "all four requests queued")
    backend.gate.set()
    await asyncio.gather(*tasks)
    assert [len(b) for b in backend.batches] == [2, 2, 2, 2]
    await scheduler.stop()


async def test_a_cancelled_request_never_reaches_the_model(setup) -> None:  # type: ignore[no-untyped-def]
    backend, build = setup
    scheduler = build()
    backend.gate.clear()
    running = asyncio.create_task(embed(scheduler, [text(2)]))
    await held(backend)
    second = asyncio.create_task(embed(scheduler, [text(3)]))  # cut as batch 2 at once
    await until(
        lambda: scheduler.pending("embed") == 2 and scheduler.queued_items("embed") == 0,
        "the second request cut as the batch behind the held one",
    )
    abandoned = asyncio.create_task(embed(scheduler, [text(77)]))
    await until(lambda: scheduler.queued_items("embed") == 1, "the third request queued")
    abandoned.cancel()
    backend.gate.set()
    await running
    await second
    with pytest.raises(asyncio.CancelledError):
        await abandoned
    await flush(scheduler)
    assert 77 not in ran(backend)
    assert scheduler.pending("embed") == 0
    await scheduler.stop()


async def test_full_queue_rejects_at_once_and_recovers(setup) -> None:  # type: ignore[no-untyped-def]
    backend, build = setup
    scheduler = build(max_queue=2)
    backend.gate.clear()
    admitted = [asyncio.create_task(embed(scheduler, [text(2)])) for _ in range(2)]
    await until(lambda: scheduler.pending("embed") == 2, "both requests admitted")
    with pytest.raises(Overloaded) as refused:
        await embed(scheduler, [text(2)])
    assert refused.value.retry_after == 1 and "queue is full" in refused.value.message
    backend.gate.set()
    assert [await a for a in admitted] == [[2.0], [2.0]]
    assert await embed(scheduler, [text(5)]) == [5.0]
    await scheduler.stop()


async def test_a_failing_batch_fails_only_its_own_requests(setup) -> None:  # type: ignore[no-untyped-def]
    backend, build = setup
    scheduler = build(cross=False)
    backend.gate.clear()
    good_before = asyncio.create_task(embed(scheduler, [text(2)]))
    await held(backend)
    bad = asyncio.create_task(embed(scheduler, [BOOM, text(4)]))
    good_after = asyncio.create_task(embed(scheduler, [text(6)]))
    await until(lambda: scheduler.pending("embed") == 3, "the bad and the good request queued")
    backend.gate.set()
    assert await good_before == [2.0]
    with pytest.raises(InferenceFailed, match="device fault"):
        await bad
    assert await good_after == [6.0]
    assert await embed(scheduler, [text(8)]) == [8.0]  # the worker lives on
    await scheduler.stop()


async def test_drain_finishes_admitted_work_and_refuses_new(setup) -> None:  # type: ignore[no-untyped-def]
    backend, build = setup
    scheduler = build()
    backend.gate.clear()
    admitted = asyncio.create_task(embed(scheduler, [text(3)]))
    await held(backend)
    draining = asyncio.create_task(scheduler.drain(timeout=HANG_GUARD_S))
    await until(lambda: not scheduler.accepting, "the drain begun")
    with pytest.raises(Overloaded, match="shutting down"):
        await embed(scheduler, [text(2)])
    assert not draining.done()  # it waits for the admitted request, held at the gate
    backend.gate.set()
    assert await admitted == [3.0]
    assert await draining is True
    await scheduler.stop()


class _FatalBackend(CountingBackend):
    def embed(self, batch: Sequence[TokenizedText], heads: frozenset[Head]) -> list[ItemEmbedding]:
        raise KeyboardInterrupt


@pytest.mark.parametrize("threads", [1, 2])
async def test_a_fatal_error_stops_the_engine_and_clears_health(threads: int) -> None:
    engine = InlineEngine([_FatalBackend()], threads=threads, name="fatal-test")
    deaths: list[str] = []
    died = asyncio.Event()

    def on_death(reason: str) -> None:
        deaths.append(reason)
        died.set()

    engine.on_death = on_death
    engine.start()
    payload = [TokenizedText(ids=[1], original_tokens=1)]
    with pytest.raises(EngineStopped):
        await engine.run(0, payload, frozenset({Head.DENSE}))
    assert engine.healthy is False
    with pytest.raises(EngineStopped):
        await engine.run(0, payload, frozenset({Head.DENSE}))
    await asyncio.wait_for(died.wait(), HANG_GUARD_S)  # reported through the loop, once
    assert deaths == ["the inference engine stopped: KeyboardInterrupt: "]
    await engine.stop()
    # The dying thread must not swallow the stop meant for its sibling.
    assert not [t for t in threading.enumerate() if t.name.startswith("fatal-test-")]


class _LeavingClient:
    """What a Litestar request shows ``await_or_abandon``: an ASGI receive that reports the
    client's disconnect once ``gone`` returns."""

    def __init__(self, gone: Callable[[], Awaitable[object]]) -> None:
        self.gone = gone

    async def receive(self) -> dict[str, str]:
        await self.gone()
        return {"type": "http.disconnect"}


async def never() -> None:
    await asyncio.Event().wait()


async def test_a_client_that_leaves_is_dropped_before_its_batch_runs(setup) -> None:  # type: ignore[no-untyped-def]
    from app.api.common.inference import ClientGone, await_or_abandon

    backend, build = setup
    scheduler = build()
    backend.gate.clear()
    busy = asyncio.create_task(embed(scheduler, [text(2)]))
    await held(backend)
    queued = asyncio.create_task(embed(scheduler, [text(3)]))  # takes the second slot
    await until(
        lambda: scheduler.pending("embed") == 2 and scheduler.queued_items("embed") == 0,
        "the second request cut as the batch behind the held one",
    )
    # The client leaves once its request waits in the queue behind both slots.
    leaves = _LeavingClient(lambda: until(lambda: scheduler.queued_items("embed") == 1, "queued"))
    with pytest.raises(ClientGone):
        await await_or_abandon(
            leaves,  # type: ignore[arg-type]
            scheduler.embed([text(55)], frozenset({Head.DENSE})),
            timeout=HANG_GUARD_S,
        )
    backend.gate.set()
    await busy
    await queued
    await flush(scheduler)
    assert 55 not in ran(backend)
    await scheduler.stop()


async def test_a_request_over_its_timeout_is_dropped_with_504(setup) -> None:  # type: ignore[no-untyped-def]
    from app.api.common.inference import await_or_abandon
    from app.errors import RequestTimeout

    backend, build = setup
    scheduler = build()
    backend.gate.clear()
    busy = asyncio.create_task(embed(scheduler, [text(2)]))
    await held(backend)
    queued = asyncio.create_task(embed(scheduler, [text(3)]))
    await until(
        lambda: scheduler.pending("embed") == 2 and scheduler.queued_items("embed") == 0,
        "the second request cut as the batch behind the held one",
    )
    # Both slots are held at the gate, so the request cannot finish in any time: the short
    # timeout always passes first, on any machine.
    with pytest.raises(RequestTimeout) as late:
        await await_or_abandon(
            _LeavingClient(never),  # type: ignore[arg-type]
            scheduler.embed([text(66)], frozenset({Head.DENSE})),
            timeout=0.05,
        )
    assert late.value.status_code == 504
    backend.gate.set()
    await busy
    await queued
    await flush(scheduler)
    assert 66 not in ran(backend)
    await scheduler.stop()


class _PairedBackend(CountingBackend):
    """Every batch waits at a two-party barrier: it only returns when another batch is
    inside ``embed`` at the same time, so results prove that two passes ran side by side."""

    def __init__(self) -> None:
        super().__init__()
        self.barrier = threading.Barrier(2, timeout=HANG_GUARD_S)

    def embed(self, batch: Sequence[TokenizedText], heads: frozenset[Head]) -> list[ItemEmbedding]:
        self.barrier.wait()
        return super().embed(batch, heads)


@contextlib.asynccontextmanager
async def two_worker_scheduler(
    backend: CountingBackend, max_items: int
) -> AsyncIterator[Scheduler]:
    engine = InlineEngine([backend], threads=2)
    engine.start()
    scheduler = Scheduler(
        ModelSet(by_head={Head.DENSE: backend}),
        engine,
        limits=BatchLimits(max_tokens=10_000, max_items=max_items),
        max_queue={"embed": 100, "rerank": 1},
        cross_request_batching=True,
    )
    scheduler.start()
    try:
        yield scheduler
    finally:
        await scheduler.stop()
        await engine.stop()


async def test_two_cpu_workers_run_two_batches_side_by_side() -> None:
    backend = _PairedBackend()
    async with two_worker_scheduler(backend, max_items=2) as scheduler:
        sizes = [4, 1, 3, 2]
        # Two batches of two: with one thread the first would wait at the barrier forever.
        done = await asyncio.wait_for(embed(scheduler, [text(n) for n in sizes]), HANG_GUARD_S)
        assert done == sizes
        assert sorted(len(b) for b in backend.batches) == [2, 2]


@pytest.mark.parametrize(
    ("configured", "on_cpu", "cores", "expected"),
    [
        (0, True, 2, 2),
        (0, True, 1, 1),
        (0, True, 16, 2),
        (3, True, 2, 3),
        (0, False, 16, 1),
        (4, False, 16, 1),
    ],
)
def test_inference_workers_per_device(
    configured: int, on_cpu: bool, cores: int, expected: int
) -> None:
    assert inference_workers(configured, on_cpu, cores) == expected


async def test_idle_workers_share_a_lone_request() -> None:
    """Nothing else waiting: two idle CPU workers each take half of a request (the barrier
    only opens when both halves run at once); a whole batch on one worker would hang there."""
    backend = _PairedBackend()
    async with two_worker_scheduler(backend, max_items=64) as scheduler:
        sizes = [4, 1, 3, 2, 5]
        done = await asyncio.wait_for(embed(scheduler, [text(n) for n in sizes]), HANG_GUARD_S)
        assert done == sizes
        assert sorted(len(b) for b in backend.batches) == [2, 3]


class _TwoHeadBackend(CountingBackend):
    """Dense and ColBERT; a batch computes every head that any of its items asked for."""

    heads: ClassVar[frozenset[Head]] = frozenset({Head.DENSE, Head.COLBERT})

    def embed(self, batch: Sequence[TokenizedText], heads: frozenset[Head]) -> list[ItemEmbedding]:
        items = super().embed(batch, heads)
        if Head.COLBERT in heads:
            for item, t in zip(items, batch, strict=True):
                item.colbert = np.ones((len(t.ids), 2), dtype=np.float32)
        return items


async def test_a_dense_only_request_batched_with_colbert_gets_only_dense() -> None:
    backend = _TwoHeadBackend()
    engine = InlineEngine([backend])
    engine.start()
    scheduler = Scheduler(
        ModelSet(by_head={Head.DENSE: backend, Head.COLBERT: backend}),
        engine,
        limits=BatchLimits(max_tokens=10_000, max_items=64),
        max_queue={"embed": 100, "rerank": 1},
    )
    scheduler.start()
    backend.gate.clear()
    first = asyncio.create_task(scheduler.embed([text(2)], frozenset({Head.DENSE})))
    await held(backend)  # batch 1 holds the engine
    # Both are queued in one loop turn, before the dispatcher (woken by the first) runs, so
    # batch 2 is cut with both of them on any machine.
    dense_only = asyncio.create_task(scheduler.embed([text(3)], frozenset({Head.DENSE})))
    both = asyncio.create_task(scheduler.embed([text(4)], frozenset({Head.DENSE, Head.COLBERT})))
    await until(lambda: scheduler.pending("embed") == 3, "both requests queued")
    backend.gate.set()
    await first
    dense_outcome, both_outcome = await dense_only, await both
    assert backend.batches == [[2], [3, 4]]  # the two requests shared batch 2
    assert dense_outcome.items[0].dense is not None
    assert dense_outcome.items[0].colbert is None
    assert both_outcome.items[0].colbert is not None
    await scheduler.stop()
    await engine.stop()
