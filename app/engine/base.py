"""What the scheduler sees of an engine, whichever process it runs in."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np

from app.models.base import Head


@dataclass(slots=True)
class OomReport:
    """A batch ran out of device memory and was split (``app.engine.oom``)."""

    #: padded tokens of the smallest part that did not fit
    failed_tokens: int
    #: padded tokens of the largest part that ran after a split (0: none)
    fitted_tokens: int
    splits: int
    #: positions of the items that did not fit even alone (their requests fail with 507)
    too_large: list[int] = field(default_factory=list)


@dataclass(slots=True)
class BatchResult:
    #: per item, in batch order: ItemEmbedding for an embedding model, a float score for a
    #: reranker
    results: Sequence[Any] | np.ndarray
    #: wall time of the forward pass and heads
    seconds: float
    #: CPU time the pass's thread spent (torch's own worker threads not included)
    cpu_seconds: float
    #: set when the batch ran out of device memory and was split
    oom: OomReport | None = None
    #: the device's memory, read after this pass (at most once a second; None: not read)
    device_memory: dict[str, int] | None = None
    #: positions withdrawn before the pass (``Engine.withdraw``); ``results`` are the rest's
    dropped: Sequence[int] = ()


class PassLimits(NamedTuple):
    """What a pass that runs a batch together with others (batches cut by other API
    processes, ``app.engine.coalescing``) may hold: padded tokens and items. 0 tokens: the
    batch runs alone (``CROSS_REQUEST_BATCHING=false``)."""

    tokens: int = 0
    items: int = 0


ALONE = PassLimits()


class Calibrated(NamedTuple):
    """What the engine's quantization calibration gives (``app.engine.calibration``)."""

    #: the calibration texts' unit dense vectors (float32, one row per text); None: no dense
    #: model
    dense: np.ndarray | None = None
    #: (2, colbert_dim): each dimension's minimum and maximum over every ColBERT row of the
    #: calibration texts, for the ColBERT uint8 type; None: no ColBERT model
    colbert_ranges: np.ndarray | None = None


class Engine(ABC):
    #: "process" (the models in a process of their own) or "inline" (threads of this one)
    kind: ClassVar[str]
    #: batches wait in the engine for their pass, where ``withdraw`` can reach them
    withdraws: ClassVar[bool] = False
    #: called once, on the event loop, when the engine can no longer run anything
    on_death: Callable[[str], None] | None = None
    #: model number -> the fixed cost of one pass in tokens, where the engine measured it
    overhead_tokens: dict[int, int] = {}  # replaced per instance, never mutated
    #: the int8 / uint8 calibration's results (app.engine.calibration)
    calibrated: Calibrated = Calibrated()
    #: model number -> the token budget measured from device memory at start-up (CUDA only)
    measured_budgets: dict[int, int] = {}  # replaced per instance, never mutated
    #: the device memory gauges' last reading, taken by the engine (empty off a GPU)
    device_memory: dict[str, int] = {}  # replaced per instance, never mutated

    @property
    @abstractmethod
    def size(self) -> int:
        """How many batches run side by side (one on a GPU)."""

    @property
    def express_lane(self) -> bool:
        """Express batches run at once on a pass thread of their own, beside the passes in
        flight (a CPU), rather than next (``app.engine.threads``)."""
        return False

    @property
    @abstractmethod
    def healthy(self) -> bool: ...

    @property
    def pid(self) -> int | None:
        """The engine's own process, where it has one."""
        return None

    @abstractmethod
    def run(
        self,
        model: int,
        payloads: Sequence[Any],
        heads: frozenset[Head],
        *,
        express: bool = False,
        limits: PassLimits = ALONE,
    ) -> asyncio.Future[BatchResult]:
        """Run one batch on model number ``model`` (its place in ``ModelSet.backends()``);
        an ``express`` batch before the batches already waiting for a pass thread. An engine
        that serves several API processes may run it in one pass with theirs, within
        ``limits``."""

    def withdraw(self, batch: asyncio.Future[BatchResult], positions: Sequence[int]) -> None:
        """The items at ``positions`` of a batch ``run`` returned are no longer wanted (their
        request was cancelled): an engine that holds batches before their pass drops them.
        Its answer then omits them (``BatchResult.dropped``)."""
        return  # an engine that runs each batch as it comes has nothing to withdraw

    @abstractmethod
    async def stop(self) -> None:
        """Finish the passes in flight, then release the device."""


def call_on_loop(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
    """Run ``fn(*args)`` on ``loop`` from another thread; nothing if the loop has closed (the
    process is ending and nobody waits)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(fn, *args)


def settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
