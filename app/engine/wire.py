"""The wire between the API process and the engine process: the one module that knows it.

Each message is one MessagePack frame (msgspec, tagged structs). Token ids and results
travel as raw little arrays (int32 ids, float32 vectors) in MessagePack ``bin`` fields, never
as Python lists: encoding copies each array once into the frame, and decoding gives numpy
views into the received frame, so a batch costs a few microseconds of Python either way
whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np

from app.engine.base import ALONE, Calibrated, OomReport, PassLimits
from app.models.base import (
    Head,
    ItemEmbedding,
    SparseVector,
    TokenizedPair,
    TokenizedText,
)

_HEAD_BITS = {Head.DENSE: 1, Head.SPARSE: 2, Head.COLBERT: 4}


# --- API process -> engine ---
class RunBatch(msgspec.Struct, tag="run", array_like=True):
    batch: int
    model: int
    heads: int  # bit mask of _HEAD_BITS
    lengths: memoryview  # int32, one per item
    ids: memoryview  # int32, every item's ids end to end
    type_ids: memoryview | None = None  # int32, same layout as ids
    express: bool = False  # run before the batches waiting for a pass thread
    #: late chunking: int32 per item, its number of spans (-1: none, its own vectors)
    span_counts: memoryview | None = None
    spans: memoryview | None = None  # int32 (start, stop) pairs, end to end
    #: what a pass that also runs other waiting batches (``app.engine.coalescing``) may hold:
    #: padded tokens and items; 0: this batch runs alone
    max_tokens: int = 0
    max_items: int = 0


class Withdraw(msgspec.Struct, tag="withdraw", array_like=True):
    """These items of a batch sent earlier are no longer wanted (their client left): the
    engine drops them unless their pass has started."""

    batch: int
    positions: list[int]


class Shutdown(msgspec.Struct, tag="shutdown", array_like=True):
    pass


# --- engine -> API process ---
class Ready(msgspec.Struct, tag="ready", array_like=True):
    #: the loaded ModelSet without its weights (pickled): tokenizers, names, limits
    models: bytes
    device: str
    gpu: dict[str, str | int | float | None] | None
    threads: int
    #: model number -> the measured fixed cost of one pass, in tokens (empty: not measured)
    overhead_tokens: dict[int, int]
    #: model number -> the token budget measured from device memory (empty: not measured)
    budgets: dict[int, int] = {}
    device_memory: dict[str, int] = {}
    #: the calibration texts' unit dense vectors, float32 (texts, calibration_dim), end to end
    calibration: memoryview | None = None
    calibration_dim: int = 0
    #: the ColBERT uint8 type's ranges, float32 (2, colbert_dim): minima, then maxima
    colbert_ranges: memoryview | None = None
    #: express passes run on a thread of their own (``PassThreads.express_lane``)
    express_lane: bool = False


class LoadFailed(msgspec.Struct, tag="load_failed", array_like=True):
    reason: str


class Embeddings(msgspec.Struct, array_like=True):
    """Every vector-carrying embedding of a batch (``ItemEmbedding.leaves``), end to end."""

    count: int
    dense: memoryview | None = None  # float32 (count, dense_dim)
    dense_dim: int = 0
    sparse_counts: memoryview | None = None  # int32 per item
    sparse_indices: memoryview | None = None  # int64, end to end
    sparse_values: memoryview | None = None  # float32, end to end
    colbert_counts: memoryview | None = None  # int32 rows per item
    colbert: memoryview | None = None  # float32 (rows, colbert_dim), end to end
    colbert_dim: int = 0
    #: int32 per item: how many of the embeddings above are its chunks' (-1: one, its own);
    #: None: every item has its own
    chunk_counts: memoryview | None = None


class Oom(msgspec.Struct, array_like=True):
    """The batch ran out of device memory and was split (``app.engine.oom``)."""

    failed_tokens: int
    fitted_tokens: int
    splits: int
    too_large: list[int] = []


class BatchDone(msgspec.Struct, tag="done", array_like=True):
    batch: int
    seconds: float
    cpu_seconds: float
    embeddings: Embeddings | None = None
    scores: memoryview | None = None  # float32 per pair
    oom: Oom | None = None
    #: the device's memory after this pass, when the engine read it
    device_memory: dict[str, int] | None = None
    #: positions withdrawn before the pass: the results are the other items', in order
    dropped: list[int] = []


class BatchFailed(msgspec.Struct, tag="failed", array_like=True):
    batch: int
    error: str


class Fatal(msgspec.Struct, tag="fatal", array_like=True):
    reason: str


ToEngine = RunBatch | Withdraw | Shutdown
FromEngine = Ready | LoadFailed | BatchDone | BatchFailed | Fatal

_encoder = msgspec.msgpack.Encoder()
_to_engine = msgspec.msgpack.Decoder(ToEngine)
_from_engine = msgspec.msgpack.Decoder(FromEngine)


def encode(message: msgspec.Struct) -> bytes:
    return _encoder.encode(message)


def decode_to_engine(frame: bytes) -> RunBatch | Withdraw | Shutdown:
    message: RunBatch | Withdraw | Shutdown = _to_engine.decode(frame)
    return message


def decode_from_engine(
    frame: bytes | bytearray | memoryview,
) -> Ready | LoadFailed | BatchDone | BatchFailed | Fatal:
    message: Ready | LoadFailed | BatchDone | BatchFailed | Fatal = _from_engine.decode(frame)
    return message


def _raw(array: np.ndarray) -> memoryview:
    contiguous = np.ascontiguousarray(array)
    if contiguous.size == 0:  # (a batch whose items all have no ColBERT rows or sparse weights)
        return memoryview(b"")  # a view of no elements cannot be cast
    return memoryview(contiguous.data).cast("B")


# --- token ids ---
def pack_batch(
    batch: int,
    model: int,
    payloads: Sequence[TokenizedText | TokenizedPair],
    heads: frozenset[Head],
    *,
    express: bool = False,
    limits: PassLimits = ALONE,
) -> RunBatch:
    lengths = np.fromiter((len(p.ids) for p in payloads), dtype=np.int32, count=len(payloads))
    ids = np.concatenate([np.asarray(p.ids, dtype=np.int32) for p in payloads])
    type_ids = None
    if all(p.type_ids is not None for p in payloads):
        type_ids = _raw(np.concatenate([np.asarray(p.type_ids, dtype=np.int32) for p in payloads]))
    message = RunBatch(
        batch=batch,
        model=model,
        heads=sum(bit for head, bit in _HEAD_BITS.items() if head in heads),
        lengths=_raw(lengths),
        ids=_raw(ids),
        type_ids=type_ids,
        express=express,
        max_tokens=limits.tokens,
        max_items=limits.items,
    )
    spans = [getattr(p, "spans", None) for p in payloads]
    if any(s is not None for s in spans):
        counts = [-1 if s is None else len(s) for s in spans]
        pairs = [pair for s in spans if s is not None for pair in s]
        message.span_counts = _raw(np.asarray(counts, dtype=np.int32))
        message.spans = _raw(np.asarray(pairs, dtype=np.int32).reshape(-1))
    return message


def unpack_heads(message: RunBatch) -> frozenset[Head]:
    return frozenset(head for head, bit in _HEAD_BITS.items() if message.heads & bit)


def unpack_payloads(message: RunBatch, *, pairs: bool) -> list[Any]:
    """The batch's items as the backends take them (ids as int32 array views)."""
    lengths = np.frombuffer(message.lengths, dtype=np.int32)
    ids = np.frombuffer(message.ids, dtype=np.int32)
    types = np.frombuffer(message.type_ids, dtype=np.int32) if message.type_ids else None
    out: list[Any] = []
    start = 0
    for length in lengths.tolist():
        row = ids[start : start + length]
        row_types = types[start : start + length] if types is not None else None
        if pairs:
            out.append(TokenizedPair(row, length, length, 0, 0, row_types))  # type: ignore[arg-type]
        else:
            out.append(TokenizedText(row, length, row_types))  # type: ignore[arg-type]
        start += length
    if message.span_counts is not None:
        counts = np.frombuffer(message.span_counts, dtype=np.int32).tolist()
        spans = np.frombuffer(message.spans or b"", dtype=np.int32).reshape(-1, 2).tolist()
        taken = 0
        for item, count in zip(out, counts, strict=True):
            if count >= 0:
                item.spans = [(a, b) for a, b in spans[taken : taken + count]]
                taken += count
    return out


# --- results ---
def pack_embeddings(batch_items: Sequence[ItemEmbedding]) -> Embeddings:
    items = [leaf for item in batch_items for leaf in item.leaves()]
    packed = Embeddings(count=len(items))
    if any(item.chunks is not None for item in batch_items):
        packed.chunk_counts = _raw(
            np.asarray(
                [-1 if i.chunks is None else len(i.chunks) for i in batch_items], dtype=np.int32
            )
        )
    if items and items[0].dense is not None:
        dense = np.stack([np.asarray(i.dense, dtype=np.float32) for i in items])
        packed.dense, packed.dense_dim = _raw(dense), int(dense.shape[1])
    if items and items[0].sparse is not None:
        sparse = [i.sparse for i in items]
        packed.sparse_counts = _raw(
            np.fromiter((len(s.indices) for s in sparse), dtype=np.int32, count=len(sparse))  # type: ignore[union-attr]
        )
        packed.sparse_indices = _raw(np.concatenate([s.indices for s in sparse]).astype(np.int64))  # type: ignore[union-attr]
        packed.sparse_values = _raw(np.concatenate([s.values for s in sparse]).astype(np.float32))  # type: ignore[union-attr]
    if items and items[0].colbert is not None:
        rows = [np.asarray(i.colbert, dtype=np.float32) for i in items]
        packed.colbert_counts = _raw(
            np.fromiter((len(r) for r in rows), dtype=np.int32, count=len(rows))
        )
        packed.colbert = _raw(np.concatenate(rows))
        packed.colbert_dim = int(rows[0].shape[1])
    return packed


def unpack_embeddings(packed: Embeddings) -> list[ItemEmbedding]:
    items = [ItemEmbedding() for _ in range(packed.count)]
    if packed.dense is not None:
        dense = np.frombuffer(packed.dense, dtype=np.float32).reshape(-1, packed.dense_dim)
        for item, row in zip(items, dense, strict=True):
            item.dense = row
    if packed.sparse_counts is not None:
        counts = np.frombuffer(packed.sparse_counts, dtype=np.int32).tolist()
        indices = np.frombuffer(packed.sparse_indices or b"", dtype=np.int64)
        values = np.frombuffer(packed.sparse_values or b"", dtype=np.float32)
        start = 0
        for item, n in zip(items, counts, strict=True):
            item.sparse = SparseVector(indices[start : start + n], values[start : start + n])
            start += n
    if packed.colbert_counts is not None:
        counts = np.frombuffer(packed.colbert_counts, dtype=np.int32).tolist()
        rows = np.frombuffer(packed.colbert or b"", dtype=np.float32).reshape(
            -1, packed.colbert_dim
        )
        start = 0
        for item, n in zip(items, counts, strict=True):
            item.colbert = rows[start : start + n]
            start += n
    if packed.chunk_counts is None:
        return items
    grouped: list[ItemEmbedding] = []
    taken = 0
    for count in np.frombuffer(packed.chunk_counts, dtype=np.int32).tolist():
        if count < 0:
            grouped.append(items[taken])
            taken += 1
        else:
            grouped.append(ItemEmbedding(chunks=items[taken : taken + count]))
            taken += count
    return grouped


def unpack_results(done: BatchDone) -> Sequence[Any] | np.ndarray:
    """Per item: an ItemEmbedding, or a float32 score for a reranker batch."""
    if done.scores is not None:
        return unpack_scores(done.scores)
    return unpack_embeddings(done.embeddings) if done.embeddings is not None else []


def unpack_oom(oom: Oom | None) -> OomReport | None:
    if oom is None:
        return None
    return OomReport(oom.failed_tokens, oom.fitted_tokens, oom.splits, list(oom.too_large))


def pack_scores(scores: np.ndarray) -> memoryview:
    return _raw(np.asarray(scores, dtype=np.float32))


def unpack_scores(raw: memoryview) -> np.ndarray:
    return np.frombuffer(raw, dtype=np.float32)


def pack_calibration(ready: Ready, calibrated: Calibrated) -> None:
    if calibrated.dense is not None:
        ready.calibration = _raw(calibrated.dense.astype(np.float32, copy=False))
        ready.calibration_dim = int(calibrated.dense.shape[1])
    if calibrated.colbert_ranges is not None:
        ready.colbert_ranges = _raw(calibrated.colbert_ranges.astype(np.float32, copy=False))


def unpack_calibration(ready: Ready) -> Calibrated:
    dense = colbert = None
    if ready.calibration is not None:
        dense = np.frombuffer(ready.calibration, dtype=np.float32)
        dense = dense.reshape(-1, ready.calibration_dim)
    if ready.colbert_ranges is not None:
        colbert = np.frombuffer(ready.colbert_ranges, dtype=np.float32).reshape(2, -1)
    return Calibrated(dense, colbert)
