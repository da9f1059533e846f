"""The engine wire (app/engine/wire.py): every kind of batch and result survives the trip
exactly, arrays come back as views of the frame, and the frames stay compact."""

from __future__ import annotations

import numpy as np

from app.engine import wire
from app.models.base import Head, ItemEmbedding, SparseVector, TokenizedPair, TokenizedText


def test_token_ids_and_heads_travel_exactly() -> None:
    batch = [
        TokenizedText(ids=[0, 5, 6, 2], original_tokens=4),
        TokenizedText(ids=[0, 250001, 2], original_tokens=9),
    ]
    frame = wire.encode(wire.pack_batch(7, 1, batch, frozenset({Head.DENSE, Head.COLBERT})))
    message = wire.decode_to_engine(frame)
    assert isinstance(message, wire.RunBatch)
    assert (message.batch, message.model) == (7, 1)
    assert wire.unpack_heads(message) == frozenset({Head.DENSE, Head.COLBERT})
    items = wire.unpack_payloads(message, pairs=False)
    assert [list(t.ids) for t in items] == [[0, 5, 6, 2], [0, 250001, 2]]
    assert [t.type_ids for t in items] == [None, None]
    # 7 ids as int32 plus a little framing, not a Python list per item
    assert len(frame) < 7 * 4 + 64
    assert message.express is False
    express = wire.pack_batch(8, 0, batch, frozenset({Head.DENSE}), express=True)
    assert wire.decode_to_engine(wire.encode(express)).express is True  # type: ignore[union-attr]


def test_pairs_keep_their_type_ids() -> None:
    pairs = [
        TokenizedPair(
            ids=[1, 2, 3],
            query_tokens=1,
            query_kept=1,
            passage_tokens=1,
            passage_kept=1,
            type_ids=[0, 0, 1],
        ),
        TokenizedPair(
            ids=[1, 4],
            query_tokens=1,
            query_kept=1,
            passage_tokens=0,
            passage_kept=0,
            type_ids=[0, 1],
        ),
    ]
    message = wire.decode_to_engine(wire.encode(wire.pack_batch(1, 0, pairs, frozenset())))
    assert isinstance(message, wire.RunBatch)
    got = wire.unpack_payloads(message, pairs=True)
    assert [list(p.ids) for p in got] == [[1, 2, 3], [1, 4]]
    assert [list(p.type_ids) for p in got] == [[0, 0, 1], [0, 1]]  # type: ignore[arg-type]


def test_every_head_comes_back_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    items = [
        ItemEmbedding(
            dense=rng.standard_normal(8).astype(np.float32),
            sparse=SparseVector(
                indices=np.array(ids, dtype=np.int64),
                values=rng.random(len(ids)).astype(np.float32),
            ),
            colbert=rng.standard_normal((rows, 4)).astype(np.float32),
        )
        for ids, rows in (([3, 17, 250000], 5), ([], 1), ([9], 3))
    ]
    done = wire.BatchDone(
        batch=4, seconds=0.5, cpu_seconds=0.25, embeddings=wire.pack_embeddings(items)
    )
    message = wire.decode_from_engine(wire.encode(done))
    assert isinstance(message, wire.BatchDone) and message.embeddings is not None
    assert (message.batch, message.seconds, message.cpu_seconds) == (4, 0.5, 0.25)
    back = wire.unpack_embeddings(message.embeddings)
    for sent, got in zip(items, back, strict=True):
        assert got.dense is not None and got.sparse is not None and got.colbert is not None
        assert np.array_equal(sent.dense, got.dense)  # type: ignore[arg-type]
        assert np.array_equal(sent.sparse.indices, got.sparse.indices)  # type: ignore[union-attr]
        assert np.array_equal(sent.sparse.values, got.sparse.values)  # type: ignore[union-attr]
        assert np.array_equal(sent.colbert, got.colbert)  # type: ignore[arg-type]
        assert got.colbert.dtype == np.float32 and got.sparse.indices.dtype == np.int64


def test_heads_a_batch_did_not_run_stay_absent() -> None:
    items = [ItemEmbedding(dense=np.ones(3, dtype=np.float32)) for _ in range(2)]
    back = wire.unpack_embeddings(
        wire.decode_from_engine(  # type: ignore[union-attr, arg-type]
            wire.encode(
                wire.BatchDone(
                    batch=0, seconds=0, cpu_seconds=0, embeddings=wire.pack_embeddings(items)
                )
            )
        ).embeddings
    )
    assert [(i.sparse, i.colbert) for i in back] == [(None, None), (None, None)]
    assert [list(i.dense) for i in back] == [[1.0, 1.0, 1.0]] * 2  # type: ignore[arg-type]


def test_scores_and_failures() -> None:
    scores = np.array([0.25, -3.5, 7.0], dtype=np.float32)
    done = wire.decode_from_engine(
        wire.encode(
            wire.BatchDone(batch=2, seconds=0, cpu_seconds=0, scores=wire.pack_scores(scores))
        )
    )
    assert isinstance(done, wire.BatchDone) and done.scores is not None
    assert wire.unpack_scores(done.scores).tolist() == [0.25, -3.5, 7.0]
    failed = wire.decode_from_engine(wire.encode(wire.BatchFailed(batch=2, error="boom")))
    assert failed == wire.BatchFailed(batch=2, error="boom")


def test_items_without_colbert_rows_or_sparse_weights_travel() -> None:
    # a one-token input (token ids [5]) has no ColBERT row after <s>, and a text of special
    # tokens only has no sparse weight: a batch of only such items still packs
    empty = ItemEmbedding(
        dense=np.ones(4, dtype=np.float32),
        sparse=SparseVector(np.array([], dtype=np.int64), np.array([], dtype=np.float32)),
        colbert=np.zeros((0, 4), dtype=np.float32),
    )
    frame = wire.encode(
        wire.BatchDone(
            batch=1, seconds=0.1, cpu_seconds=0.1, embeddings=wire.pack_embeddings([empty] * 2)
        )
    )
    done = wire.decode_from_engine(frame)
    assert isinstance(done, wire.BatchDone) and done.embeddings is not None
    items = wire.unpack_embeddings(done.embeddings)
    assert [item.colbert.shape for item in items] == [(0, 4), (0, 4)]  # type: ignore[union-attr]
    assert [len(item.sparse.indices) for item in items] == [0, 0]  # type: ignore[union-attr]
    np.testing.assert_array_equal(items[1].dense, np.ones(4))  # type: ignore[arg-type]
