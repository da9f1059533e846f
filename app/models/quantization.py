"""Quantized dense vectors, as Cohere's ``embedding_types`` and sentence-transformers'
``quantize_embeddings`` define them.

- ``binary`` / ``ubinary``: one sign bit per dimension (``value > 0``), packed 8 per byte,
  most significant bit first; ``binary`` is the byte minus 128 as an int8.
- ``int8`` / ``uint8``: scalar quantization into 256 buckets per dimension, the buckets cut
  evenly between that dimension's minimum and maximum over a calibration set (``Calibration``);
  values outside the range land in the first or last bucket.

The arithmetic is sentence-transformers' own, step for step and in float32, so the same
ranges give the same bytes (tests/unit/test_quantization.py checks it bit for bit). It is
written out here because sentence-transformers is not a dependency of the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np

EmbeddingType = Literal["float", "int8", "uint8", "binary", "ubinary"]
EMBEDDING_TYPES: tuple[EmbeddingType, ...] = get_args(EmbeddingType)
#: the ColBERT rows' types (app.api.colbert_vectors): binary is the dense ubinary
ColbertType = Literal["float", "float16", "uint8", "binary"]
#: the types whose buckets come from the calibration set's ranges
SCALAR_TYPES = frozenset({"int8", "uint8"})


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm (a zero row stays zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: np.ndarray = vectors / np.where(norms > 0, norms, 1.0)
    return unit.astype(np.float32, copy=False)


def ranges_of(vectors: np.ndarray) -> np.ndarray:
    """(2, dimensions): each dimension's minimum (row 0) and maximum (row 1)."""
    return np.vstack((vectors.min(axis=0), vectors.max(axis=0))).astype(np.float32)


def quantize(
    vectors: np.ndarray, kind: EmbeddingType, ranges: np.ndarray | None = None
) -> np.ndarray:
    """``vectors`` (rows of float32) as ``kind``; ``ranges`` (from ``ranges_of``) are needed
    for int8 and uint8, and their width must be the vectors'."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if kind == "float":
        return vectors
    if kind in ("binary", "ubinary"):
        packed = np.packbits(vectors > 0, axis=-1).reshape(vectors.shape[0], -1)
        return (packed - 128).astype(np.int8) if kind == "binary" else packed
    if ranges is None or ranges.shape != (2, vectors.shape[1]):
        raise ValueError(f"{kind} needs ranges of shape (2, {vectors.shape[1]})")
    starts = ranges[0, :]
    steps = (ranges[1, :] - ranges[0, :]) / 255
    steps = np.where(steps == 0, 1, steps)
    buckets = np.clip(np.floor((vectors - starts) / steps), 0, 255)
    return buckets.astype(np.uint8) if kind == "uint8" else (buckets - 128).astype(np.int8)


@dataclass
class Calibration:
    """The calibration set's dense vectors (unit rows, full width) through one model, and
    the per-dimension ranges int8 and uint8 cut their buckets by.

    A Matryoshka model's vector cut to N dimensions is renormalised before it is quantized,
    so its ranges are those of the calibration vectors cut and renormalised the same way;
    they are computed on first use and kept."""

    model: str
    vectors: np.ndarray
    _ranges: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def texts(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1])

    def ranges(self, dimensions: int | None = None) -> np.ndarray:
        """Ranges for vectors of the first ``dimensions`` values (None: the full vector)."""
        width = self.dimension if dimensions is None else dimensions
        found = self._ranges.get(width)
        if found is None:
            cut = self.vectors if width == self.dimension else unit_rows(self.vectors[:, :width])
            found = self._ranges[width] = ranges_of(cut)
        return found

    def summary(self) -> str:
        """One log line: what was calibrated and how wide the ranges are."""
        full = self.ranges()
        widths = full[1] - full[0]
        return (
            f"quantization calibrated on {self.texts} texts through {self.model}: "
            f"{self.dimension} dimensions, minimum {float(full[0].min()):.4f}, "
            f"maximum {float(full[1].max()):.4f}, bucket range width "
            f"{float(widths.min()):.4f}..{float(widths.max()):.4f} "
            f"(mean {float(widths.mean()):.4f})"
        )


@dataclass(frozen=True)
class ColbertRanges:
    """The ColBERT ``uint8`` type's buckets: each dimension's minimum (row 0) and maximum (row
    1) over every ColBERT vector of the calibration texts, as ``ranges_of`` gives them. A
    pooled vector, a mean of token vectors, stays inside its tokens' ranges."""

    model: str
    #: how many calibration texts the vectors came from
    texts: int
    ranges: np.ndarray


def encode_rows(
    vectors: np.ndarray, kind: EmbeddingType, calibration: Calibration | None
) -> np.ndarray:
    """``vectors`` (unit rows, maybe cut to fewer dimensions) as ``kind``, with the
    calibration's ranges for their width where ``kind`` needs them."""
    ranges = None
    if kind in SCALAR_TYPES:
        if calibration is None:
            raise ValueError(f"{kind} needs a calibration")
        ranges = calibration.ranges(vectors.shape[1])
    return quantize(vectors, kind, ranges)
