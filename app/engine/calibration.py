"""The int8 / uint8 calibration: the shipped calibration texts through the dense model, once,
where the model runs, before the engine says it is ready.

It runs here and not as a request through the scheduler, so it happens once per pod however
many API processes there are, never counts as traffic (``/stats``, ``/metrics``), never
lowers a batch budget and never fills the embedding cache. The API process builds its
``Calibration`` (the ranges ``/health`` shows) from the vectors sent with ``Ready``.
"""

from __future__ import annotations

import numpy as np

from app.engine.passes import run_pass
from app.models.base import EmbeddingBackend, Head
from app.models.calibration_texts import CALIBRATION_TEXTS
from app.models.catalog import ModelSet
from app.models.quantization import unit_rows

#: texts per pass: a small batch fits any device, and 127 texts are a few passes
_CHUNK = 16


def calibration_vectors(models: ModelSet) -> np.ndarray | None:
    """The calibration texts' unit dense vectors (float32, one row per text), or None when no
    model gives dense vectors."""
    backend = models.by_head.get(Head.DENSE)
    if not isinstance(backend, EmbeddingBackend):
        return None
    tokenized = backend.tokenize(CALIBRATION_TEXTS, "document")
    rows: list[np.ndarray] = []
    for start in range(0, len(tokenized), _CHUNK):
        done = run_pass(backend, tokenized[start : start + _CHUNK], frozenset({Head.DENSE}))
        rows.extend(np.asarray(item.dense, dtype=np.float32) for item in done.results)
    return unit_rows(np.stack(rows))
