"""Device faults injected into real models, for tests on a CPU (never set in production).

``SMART_EMBEDDER_FAULT_PLAN`` (``FAULT_PLAN_ENV``) holds a JSON ``FaultPlan``; with the
engine's model hook pointed here (``fault_environment`` sets both), the engine then wraps
each matching backend's torch module (its encoder) in a ``FaultyModule``, in whichever
process loads the models: the engine process of a real server. The wrapper raises what CUDA
would raise, from where CUDA would raise it (inside the forward pass), and otherwise runs
the real model:

- ``oom_above_tokens``: the real ``torch.OutOfMemoryError`` for a batch of more padded
  tokens (rows x longest) than this; smaller parts of it run;
- ``oom_longer_than``: the same for any batch with a row longer than this (such an item
  does not fit even alone);
- ``sticky_longer_than``: a sticky CUDA error (``sticky_message``, the runtime's own
  wording for an illegal memory access) for any batch with a row longer than this.

Thresholds are in tokens per row or per batch, so start-up's warm-up and calibration passes
(rows of at most ~130 tokens, ~1000 padded) run untouched when they are set above that.
Being a ``torch.nn.Module``, the wrapper stays in the engine: the model set sent to the API
process carries no modules.
"""

from __future__ import annotations

import os
from typing import Any

import msgspec
import torch

from app.engine.model_hook import MODEL_HOOK_ENV
from app.models.catalog import ModelSet

#: names a JSON fault plan that tests inject into the loaded models
FAULT_PLAN_ENV = "SMART_EMBEDDER_FAULT_PLAN"

#: what the CUDA runtime says after an illegal memory access (as torch reports it)
ILLEGAL_ACCESS = (
    "CUDA error: an illegal memory access was encountered\n"
    "CUDA kernel errors might be asynchronously reported at some other API call, so the "
    "stacktrace below might be incorrect."
)
#: the attribute that holds each backend's transformer, first match wins
_MODULE_ATTRIBUTES = ("encoder", "model", "decoder")


class FaultPlan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    oom_above_tokens: int | None = None
    oom_longer_than: int | None = None
    sticky_longer_than: int | None = None
    sticky_message: str = ILLEGAL_ACCESS
    #: backend kinds to wrap ("bge-m3", "cross-encoder", ...); empty: every model
    kinds: list[str] = []


class FaultyModule(torch.nn.Module):
    def __init__(self, inner: torch.nn.Module, plan: FaultPlan) -> None:
        super().__init__()
        self.inner = inner
        self.plan = plan

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        ids = kwargs.get("input_ids", args[0] if args else None)
        if isinstance(ids, torch.Tensor) and ids.dim() == 2:
            self._maybe_fail(rows=int(ids.shape[0]), longest=int(ids.shape[1]))
        return self.inner(*args, **kwargs)

    def _maybe_fail(self, *, rows: int, longest: int) -> None:
        plan = self.plan
        if plan.sticky_longer_than is not None and longest > plan.sticky_longer_than:
            raise RuntimeError(plan.sticky_message)
        too_long = plan.oom_longer_than is not None and longest > plan.oom_longer_than
        too_big = plan.oom_above_tokens is not None and rows * longest > plan.oom_above_tokens
        if too_long or too_big:
            raise torch.OutOfMemoryError(
                f"CUDA out of memory. Tried to allocate a batch of {rows} x {longest} tokens "
                "(injected by the test fault plan)"
            )

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("inner"), name)


def install_fault_plan(models: ModelSet, plan_json: str) -> None:
    plan = msgspec.json.decode(plan_json, type=FaultPlan)
    for backend in models.backends():
        if plan.kinds and backend.kind not in plan.kinds:
            continue
        for attribute in _MODULE_ATTRIBUTES:
            module = getattr(backend, attribute, None)
            if isinstance(module, torch.nn.Module):
                setattr(backend, attribute, FaultyModule(module, plan))
                break


def install_from_environment(models: ModelSet) -> None:
    """The engine's model hook (``MODEL_HOOK_ENV``): install the plan ``FAULT_PLAN_ENV`` holds."""
    install_fault_plan(models, os.environ[FAULT_PLAN_ENV])


def fault_environment(plan_json: str) -> dict[str, str]:
    """The environment of a server (or test) whose engine injects this plan's faults."""
    return {
        MODEL_HOOK_ENV: f"{__name__}:{install_from_environment.__name__}",
        FAULT_PLAN_ENV: plan_json,
    }
