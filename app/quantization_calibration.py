"""Start-up calibration of int8 and uint8 quantization: the shipped calibration texts through
the dense model, once, before the server turns ready (their ranges are logged and shown in
``/health``). Runs through the scheduler like any request, so it runs where the model runs."""

from __future__ import annotations

import logging

import numpy as np

from app.models.base import Head
from app.models.calibration_texts import CALIBRATION_TEXTS
from app.models.quantization import Calibration, unit_rows
from app.scheduler.scheduler import Scheduler

log = logging.getLogger("smart_embedder")


async def calibrate(scheduler: Scheduler) -> Calibration | None:
    """The calibration of the dense model, or None when no model gives dense vectors."""
    backend = scheduler.models.by_head.get(Head.DENSE)
    if backend is None:
        return None
    outcome = await scheduler.embed(CALIBRATION_TEXTS, frozenset({Head.DENSE}), "document")
    dense = np.stack([np.asarray(item.dense, dtype=np.float32) for item in outcome.items])
    calibration = Calibration(model=backend.name, vectors=unit_rows(dense))
    log.info("%s", calibration.summary())
    full = calibration.ranges()
    log.debug("quantization ranges (minimum, maximum) per dimension: %s", full.tolist())
    return calibration
