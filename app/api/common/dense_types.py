"""The dense vector in a requested type (float, int8, uint8, binary, ubinary), for the Cohere
embed routes and the native API's ``dense_type``: one place that cuts a Matryoshka vector,
renormalises it and quantizes it with the calibration's ranges for its width."""

from __future__ import annotations

import numpy as np

from app.errors import InvalidInput, NotReady
from app.models.base import EmbeddingBackend
from app.models.quantization import SCALAR_TYPES, EmbeddingType, encode_rows, unit_rows
from app.runtime import Runtime


def dense_width(backend: EmbeddingBackend, dimensions: int | None, param: str) -> int | None:
    """How many leading dimensions to keep (None: all); a model not trained for Matryoshka
    truncation, or more dimensions than it has, is a 400 naming ``param``."""
    if dimensions is None:
        return None
    if not backend.supports_dimensions:
        raise InvalidInput(
            f"model '{backend.name}' does not support {param} (it was not trained for "
            f"Matryoshka truncation); leave {param} out",
            param=param,
        )
    full = backend.info.dimension
    if full is not None and dimensions > full:
        raise InvalidInput(
            f"{param} must be at most {full} for model '{backend.name}'", param=param
        )
    return dimensions


def unit_dense(dense: np.ndarray, width: int | None) -> np.ndarray:
    """Rows of the dense vectors, cut to ``width`` and L2-normalised."""
    return unit_rows(dense[:, :width] if width is not None else dense)


def typed_rows(runtime: Runtime, unit: np.ndarray, kind: EmbeddingType) -> list[list[int]]:
    """Unit rows quantized as ``kind`` (not float), as lists of ints."""
    calibration = runtime.calibration
    if kind in SCALAR_TYPES and calibration is None:
        raise NotReady("the quantization calibration has not run yet; retry shortly")
    rows: list[list[int]] = encode_rows(unit, kind, calibration).tolist()
    return rows
