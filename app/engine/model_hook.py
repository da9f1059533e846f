"""A seam where tests reach into the engine's loaded models (never set in production).

``SMART_EMBEDDER_MODEL_HOOK`` names a function as ``module:function``; the engine calls it
with the model set right after loading, in whichever process loads the models (the engine
process of a real server). The fault-injection plan of the device tests
(``app/testing/faults.py``) and the benchmark's simulated device (``app/testing/sim_device.py``)
fill it, so production code never imports a testing module.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable

from app.errors import ModelLoadError
from app.models.catalog import ModelSet
from app.models.loading import load_models
from app.settings import Settings

MODEL_HOOK_ENV = "SMART_EMBEDDER_MODEL_HOOK"


def apply_model_hook(models: ModelSet) -> ModelSet:
    """Hand the loaded models to the hook the environment names, if any."""
    spec = os.environ.get(MODEL_HOOK_ENV)
    if not spec:
        return models
    module_name, _, function_name = spec.partition(":")
    try:
        hook: Callable[[ModelSet], None] = getattr(
            importlib.import_module(module_name), function_name
        )
    except (ImportError, AttributeError, ValueError) as exc:
        raise ModelLoadError(f"{MODEL_HOOK_ENV}={spec!r} names no function: {exc}") from exc
    hook(models)
    return models


def load_engine_models(settings: Settings) -> ModelSet:
    """The models an engine serves: loaded, then handed to the test hook if one is set."""
    return apply_model_hook(load_models(settings))
