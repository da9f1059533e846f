"""Starting the in-process engine (``ENGINE_PROCESS=false``, or models a test loaded): the
models load (unless handed in), warm up and calibrate on this process's threads.

Its own module so that the runtime imports it only on that path: it reaches torch, which
an API process in front of an engine process never imports (``pyproject.toml``'s contract).
"""

from __future__ import annotations

import asyncio
import logging
import time

from app.engine.calibration import calibrate
from app.engine.inline import InlineEngine
from app.engine.layout import DeviceLayout, lay_out
from app.engine.model_hook import load_engine_models
from app.models.catalog import ModelSet
from app.settings import Settings

log = logging.getLogger("smart_embedder")


async def start_inline(
    settings: Settings, preloaded: ModelSet | None
) -> tuple[InlineEngine, ModelSet, DeviceLayout]:
    """A started, warm, calibrated inline engine, its models and the device layout."""
    loop = asyncio.get_running_loop()
    models = (
        preloaded
        if preloaded is not None
        else await loop.run_in_executor(None, load_engine_models, settings)
    )
    layout = lay_out(settings)
    engine = InlineEngine(
        models.backends(),
        threads=layout.workers,
        niceness=layout.niceness,
        express_thread=layout.express_thread,
    )
    engine.start()
    if settings.warmup:
        started = time.perf_counter()
        await engine.warmup()
        log.info("warm-up done in %.2fs", time.perf_counter() - started)
    engine.calibrated = await loop.run_in_executor(None, calibrate, models)
    return engine, models, layout
