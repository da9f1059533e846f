"""The ColBERT vectors a request asked for, for the native ``/embeddings/`` and TEI's
``/embed_all``: a document's rows pooled by ``colbert_pool_factor`` (app.models.token_pooling),
then written as ``colbert_type``.

- ``float``: the float32 rows, as before (JSON and MessagePack alike: arrays of numbers);
- ``float16``: each value rounded to float16;
- ``uint8``: each dimension cut into 256 buckets between its minimum and maximum over the
  calibration texts' ColBERT vectors (``/health`` ``colbert_quantization``), as the dense
  uint8 is;
- ``binary``: the sign bits (value > 0), 8 per byte, most significant first: the dense
  ``ubinary``.

The compact types travel as ``PackedRows``: in MessagePack one byte string per document.

Pooling runs here, in the API process, on the rows the engine returned (the embedding cache
keeps them unpooled, so one text serves every factor), on a worker thread: see
BENCHMARKS.md for why not in the engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from msgspec import UNSET, UnsetType

from app.api.common.encoding import PackedRows
from app.errors import InvalidInput, NotReady
from app.models.base import Head, ItemEmbedding
from app.models.catalog import ModelSet
from app.models.quantization import ColbertRanges, ColbertType, quantize
from app.models.token_pooling import pool_tokens, pooled_count
from app.settings import Settings

POOL_FACTOR_FIELD = "colbert_pool_factor"
TYPE_FIELD = "colbert_type"


@dataclass(frozen=True)
class ColbertOptions:
    """What a request's ColBERT rows become."""

    #: the factor applied: the request's (or COLBERT_POOL_FACTOR), 1 for a query
    pool_factor: int
    type: ColbertType
    #: a query asked for pooling in its own field and was not pooled (the server's default
    #: passes queries by without a word)
    query_not_pooled: bool
    #: the request asked for pooling or a compact type: the response says what it did (left
    #: out otherwise, so that a request without them gets the bytes it always got)
    described: bool


def colbert_options(
    models: ModelSet,
    settings: Settings,
    pool_factor: int | UnsetType,
    colbert_type: ColbertType | UnsetType,
    *,
    query: bool,
) -> ColbertOptions:
    """The options as a request gives them (``UNSET``: left out); either one on a server
    without a ColBERT model is a 400 naming it."""
    if Head.COLBERT not in models.by_head:
        for field, value in ((POOL_FACTOR_FIELD, pool_factor), (TYPE_FIELD, colbert_type)):
            if value is not UNSET:
                raise InvalidInput(
                    f"{field} applies to ColBERT vectors and no model served here gives them "
                    "(bge-m3 does); leave it out",
                    param=field,
                )
    factor = settings.colbert_pool_factor if pool_factor is UNSET else pool_factor
    kind: ColbertType = "float" if colbert_type is UNSET else colbert_type
    return ColbertOptions(
        pool_factor=1 if query else factor,
        type=kind,
        query_not_pooled=query and pool_factor is not UNSET and pool_factor > 1,
        described=factor > 1 or kind != "float",
    )


@dataclass(frozen=True)
class ShapedColbert:
    """One text's ColBERT rows as the response carries them."""

    #: float32 rows (``float``), or the compact type's rows
    rows: np.ndarray | PackedRows
    vectors_before_pooling: int
    vectors_after_pooling: int


async def shape_colbert(
    items: Sequence[ItemEmbedding], options: ColbertOptions, ranges: ColbertRanges | None
) -> list[ShapedColbert]:
    """Each text's ColBERT rows, pooled by ``options.pool_factor`` and written as
    ``options.type``."""
    rows = []
    for item in items:
        assert item.colbert is not None  # the ColBERT head ran for every item
        rows.append(np.asarray(item.colbert, dtype=np.float32))
    if options.type == "uint8" and ranges is None:
        raise NotReady("the ColBERT quantization calibration has not run yet; retry shortly")
    pooled: Sequence[np.ndarray] = rows
    if any(pooled_count(len(r), options.pool_factor) < len(r) for r in rows):
        # off the loop: even a 16-token text costs about 1 ms (most of it scipy checking its
        # arguments), a 300-token one about 10 ms, against 0.1 ms for the hop
        pooled = await asyncio.to_thread(_pool_all, rows, options.pool_factor)
    return [
        ShapedColbert(typed(after, options.type, ranges), len(before), len(after))
        for before, after in zip(rows, pooled, strict=True)
    ]


def _pool_all(rows: Sequence[np.ndarray], factor: int) -> list[np.ndarray]:
    return [pool_tokens(r, factor) for r in rows]


def typed(
    rows: np.ndarray, kind: ColbertType, ranges: ColbertRanges | None
) -> np.ndarray | PackedRows:
    """Float32 rows as ``kind``."""
    if kind == "float":
        return rows
    if kind == "float16":
        return PackedRows(rows.astype(np.float16))
    if kind == "uint8":
        assert ranges is not None  # shape_colbert checked it
        return PackedRows(quantize(rows, "uint8", ranges.ranges))
    return PackedRows(quantize(rows, "ubinary"))
