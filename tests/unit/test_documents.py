"""Long documents below the HTTP layer: the windows of late chunking, a document's passes in
the queue (they share passes with short requests, never hold them back, spread over several
passes, and are dropped when cancelled), and chunked results across the engine's wire and
its out-of-memory stand-ins."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from app.engine import wire
from app.engine.oom import fill_gaps
from app.models.base import Head, ItemEmbedding, SparseVector, TokenizedText
from app.models.chunk_passes import plan_windows
from app.scheduler.jobs import Job
from app.scheduler.queue import ModelQueue


@pytest.mark.parametrize(
    ("total", "content", "chunk"),
    [(100, 200, 10), (1000, 200, 10), (1000, 200, 100), (1003, 64, 33), (5000, 510, 500)],
)
def test_windows_hold_every_chunk_whole_with_the_most_context(
    total: int, content: int, chunk: int
) -> None:
    spans = [(a, min(a + chunk, total)) for a in range(0, total, chunk)]
    windows, choice = plan_windows(total, spans, content)
    if total <= content:
        assert windows == [(0, total)] and choice == [0] * len(spans)
        return
    assert all(b - a == content and a >= 0 and b <= total for a, b in windows)
    assert sorted(set(choice)) == list(range(len(windows)))  # no window runs for nothing
    # windows start every half window, and the last ends at the document's end
    regular = [*range(0, total - content, content // 2), total - content]
    for (first, stop), number in zip(spans, choice, strict=True):
        a, b = windows[number]
        assert a <= first and stop <= b
        # no regular window that holds it leaves it more context on its poorer side
        best = min(first - a, b - stop)
        holding = [s for s in regular if s <= first and stop <= s + content]
        if holding:
            assert best == max(min(first - s, s + content - stop) for s in holding)
        else:  # longer than half a window, between two regular ones: centred on it
            assert a == min(max(0, (first + stop) // 2 - content // 2), total - content)


def test_a_span_between_two_regular_windows_gets_one_of_its_own() -> None:
    # windows start every 50 tokens; a span of 90 from 30 fits none of them whole
    windows, choice = plan_windows(1000, [(30, 120)], 100)
    assert windows == [(25, 125)]
    assert choice == [0]


def _job(costs: list[int], loop: asyncio.AbstractEventLoop, *, yields: bool) -> Job[TokenizedText]:
    return Job([TokenizedText(list(range(c)), c) for c in costs], loop, yields=yields)


def test_a_document_shares_passes_and_never_holds_short_requests_back() -> None:
    loop = asyncio.new_event_loop()
    try:
        queue = ModelQueue("m", "embed", 0, max_tokens=1000, max_items=64)
        document = _job([500] * 5, loop, yields=True)
        short = _job([10], loop, yields=False)
        queue.push(document)
        queue.push(short)
        first = queue.take_batch()
        assert [item.job for item in first] == [document, document]  # two windows fill a pass
        second = queue.take_batch()
        # the short request comes next, with one window beside it up to the budget
        assert {item.job for item in second} == {short, document}
        assert max(i.cost for i in second) * len(second) <= 1000
        rest = []
        while batch := queue.take_batch():
            assert max(i.cost for i in batch) * len(batch) <= 1000
            rest.append(batch)
        assert sum(len(b) for b in rest) == 2 and len(rest) >= 1
    finally:
        loop.close()


def test_without_yielding_the_short_request_waits_for_every_window() -> None:
    # the same queue, a job that does not yield: what the flag changes
    loop = asyncio.new_event_loop()
    try:
        queue = ModelQueue("m", "embed", 0, max_tokens=1000, max_items=64)
        document = _job([500] * 5, loop, yields=False)
        short = _job([10], loop, yields=False)
        queue.push(document)
        queue.push(short)
        queue.take_batch()
        assert {item.job for item in queue.take_batch()} == {document}
    finally:
        loop.close()


def test_a_cancelled_document_never_reaches_a_batch() -> None:
    loop = asyncio.new_event_loop()
    try:
        queue = ModelQueue("m", "embed", 0, max_tokens=1000, max_items=64)
        document = _job([500] * 4, loop, yields=True)
        queue.push(document)
        assert len(queue.take_batch()) == 2
        document.cancel()
        assert queue.take_batch() == []
    finally:
        loop.close()


def _leaf(dim: int, seed: int) -> ItemEmbedding:
    rng = np.random.default_rng(seed)
    return ItemEmbedding(
        dense=rng.standard_normal(dim).astype(np.float32),
        sparse=SparseVector(
            np.array([3, 7 + seed], dtype=np.int64), np.array([0.5, 1.5], dtype=np.float32)
        ),
        colbert=rng.standard_normal((seed + 1, 4)).astype(np.float32),
    )


def test_spans_and_chunks_cross_the_wire_unchanged() -> None:
    payloads = [
        TokenizedText([0, 5, 6, 2], 4),
        TokenizedText([0, 8, 9, 10, 11, 2], 6, spans=[(1, 3), (2, 5)]),
        TokenizedText([0, 12, 2], 3, spans=[(1, 2)]),
    ]
    message = wire.decode_to_engine(wire.encode(wire.pack_batch(1, 0, payloads, frozenset(Head))))
    assert isinstance(message, wire.RunBatch)
    received = wire.unpack_payloads(message, pairs=False)
    assert [r.spans for r in received] == [None, [(1, 3), (2, 5)], [(1, 2)]]
    assert [list(r.ids) for r in received] == [p.ids for p in payloads]

    results = [
        _leaf(8, 0),
        ItemEmbedding(chunks=[_leaf(8, 1), _leaf(8, 2)]),
        ItemEmbedding(chunks=[_leaf(8, 3)]),
    ]
    done = wire.BatchDone(
        batch=1, seconds=0.0, cpu_seconds=0.0, embeddings=wire.pack_embeddings(results)
    )
    back = wire.unpack_results(wire.decode_from_engine(wire.encode(done)))  # type: ignore[arg-type]
    assert back[0].chunks is None and [len(b.chunks) for b in back[1:]] == [2, 1]
    for sent, got in zip(
        [leaf for r in results for leaf in r.leaves()],
        [leaf for r in back for leaf in r.leaves()],
        strict=True,
    ):
        np.testing.assert_array_equal(sent.dense, got.dense)
        np.testing.assert_array_equal(sent.sparse.indices, got.sparse.indices)
        np.testing.assert_array_equal(sent.colbert, got.colbert)


def test_chunks_of_no_token_cross_the_wire() -> None:
    # text the tokenizer drops (a zero-width space): zero vectors, no sparse weight, no row
    empty = ItemEmbedding(
        dense=np.zeros(8, dtype=np.float32),
        sparse=SparseVector(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)),
        colbert=np.zeros((0, 4), dtype=np.float32),
    )
    done = wire.BatchDone(
        batch=1,
        seconds=0.0,
        cpu_seconds=0.0,
        embeddings=wire.pack_embeddings([ItemEmbedding(chunks=[empty, empty])]),
    )
    (back,) = wire.unpack_results(wire.decode_from_engine(wire.encode(done)))  # type: ignore[arg-type]
    assert [leaf.colbert.shape for leaf in back.leaves()] == [(0, 4), (0, 4)]
    assert all(leaf.sparse.indices.size == 0 for leaf in back.leaves())


def test_an_item_too_large_beside_chunked_ones_gets_a_stand_in_the_wire_packs() -> None:
    # out of memory, a window that did not fit alone: its request fails, the rest travel
    results = [None, ItemEmbedding(chunks=[_leaf(8, 1), _leaf(8, 2)])]
    filled = fill_gaps(results, pairs=False)
    assert filled[0].dense is not None and filled[0].colbert is not None
    packed = wire.unpack_embeddings(wire.pack_embeddings(filled))
    assert packed[0].chunks is None and len(packed[1].chunks or []) == 2
