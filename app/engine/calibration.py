"""The int8 / uint8 calibration: the shipped calibration texts through the dense model (and the
ColBERT model), once, where the model runs, before the engine says it is ready.

It runs here and not as a request through the scheduler, so it happens once per pod however
many API processes there are, never counts as traffic (``/stats``, ``/metrics``), never
lowers a batch budget and never fills the embedding cache. The API process builds its
``Calibration`` (the ranges ``/health`` shows) from the vectors sent with ``Ready``, and the
ColBERT ``uint8`` type's ranges from the per-dimension minimum and maximum sent beside them.
"""

from __future__ import annotations

import numpy as np

from app.engine.base import Calibrated
from app.engine.passes import run_pass
from app.models.base import EmbeddingBackend, Head
from app.models.calibration_texts import CALIBRATION_TEXTS
from app.models.catalog import ModelSet
from app.models.quantization import ranges_of, unit_rows

#: texts per pass: a small batch fits any device, and 127 texts are a few passes
_CHUNK = 16


def calibrate(models: ModelSet) -> Calibrated:
    """The calibration texts through each model that gives dense or ColBERT vectors: one set
    of passes per model (bge-m3 giving both runs them once, with both heads)."""
    wanted: dict[int, tuple[EmbeddingBackend, set[Head]]] = {}
    for head in (Head.DENSE, Head.COLBERT):
        backend = models.by_head.get(head)
        if isinstance(backend, EmbeddingBackend):
            wanted.setdefault(id(backend), (backend, set()))[1].add(head)
    dense: list[np.ndarray] = []
    colbert: list[np.ndarray] = []
    for backend, heads in wanted.values():
        tokenized = backend.tokenize(CALIBRATION_TEXTS, "document")
        for start in range(0, len(tokenized), _CHUNK):
            done = run_pass(backend, tokenized[start : start + _CHUNK], frozenset(heads))
            for item in done.results:
                if Head.DENSE in heads:
                    dense.append(np.asarray(item.dense, dtype=np.float32))
                if Head.COLBERT in heads:
                    colbert.append(np.asarray(item.colbert, dtype=np.float32))
    return Calibrated(
        dense=unit_rows(np.stack(dense)) if dense else None,
        colbert_ranges=ranges_of(np.concatenate(colbert)) if colbert else None,
    )
