"""Everything a running server owns: settings, models, the engine and the scheduler, and the
lifecycle flags that ``/readyz`` reports. Built by ``create_app``, started by the lifespan."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from app.engine.base import Engine
from app.engine.process import ProcessEngine
from app.errors import ModelLoadError, NotReady, Overloaded
from app.models.base import Head
from app.models.calibration_texts import CALIBRATION_TEXTS
from app.models.catalog import ModelSet
from app.models.quantization import Calibration, ColbertRanges
from app.scheduler.batcher import DEFAULT_OVERHEAD_TOKENS, batch_limits_for
from app.scheduler.cache import EmbedCache
from app.scheduler.outcomes import BatchLimits
from app.scheduler.priorities import (
    CPU_INTERACTIVE_PASS_OVERHEADS,
    MIN_PASS_OVERHEADS,
    PriorityPolicy,
)
from app.scheduler.scheduler import Scheduler
from app.settings import Settings
from app.telemetry.recorder import Recorder

log = logging.getLogger("smart_embedder")

Phase = Literal["loading", "ready", "draining", "failed"]


@dataclass
class Runtime:
    settings: Settings
    recorder: Recorder = field(default_factory=Recorder)
    models: ModelSet | None = None
    engine: Engine | None = None
    scheduler: Scheduler | None = None
    phase: Phase = "loading"
    load_error: str | None = None
    started_at: float = field(default_factory=time.time)
    device: str = "unknown"
    gpu: dict[str, str | int | float | None] | None = None
    #: int8/uint8 ranges of the dense model (app.engine.calibration); None: no dense model
    calibration: Calibration | None = None
    #: the ColBERT uint8 type's ranges (app.engine.calibration); None: no ColBERT model
    colbert_ranges: ColbertRanges | None = None
    #: called once when loading fails, so the process can exit non-zero
    on_fatal: Callable[[str], None] | None = None
    #: with several API processes (API_WORKERS): this one's number, and its siblings' private
    #: sockets, where /metrics and /stats collect the rest of the pod's figures
    front_end: int = 0
    siblings: list[str] = field(default_factory=list)
    _drained: asyncio.Future[bool] | None = field(default=None, init=False, repr=False)

    @property
    def ready(self) -> bool:
        return self.phase == "ready" and self.engine is not None and self.engine.healthy

    def require_scheduler(self) -> Scheduler:
        """The scheduler for an inference route, or the 503 that explains why not."""
        if self.phase == "draining":
            raise Overloaded("the server is shutting down; retry on another replica", retry_after=1)
        if self.scheduler is None or self.phase != "ready":
            raise NotReady(
                "models are still loading; retry shortly"
                if self.phase == "loading"
                else f"the server cannot serve: {self.load_error or 'inference engine stopped'}",
                retry_after=5,
            )
        return self.scheduler

    async def start(self, preloaded: ModelSet | None = None) -> None:
        """Load models and warm them up (in the engine process, or off the loop here), then
        turn ready."""
        try:
            if preloaded is None and self.settings.engine_process:
                process = (
                    self.engine
                    if isinstance(self.engine, ProcessEngine)
                    else ProcessEngine(self.settings)
                )
                self.engine = process
                models = await process.start()
                self.device, self.gpu = process.device, process.gpu
            else:
                models = await self._start_inline(preloaded)
            engine = self.engine
            assert engine is not None
            engine.on_death = self._engine_died
            self.models = models
            self.scheduler = Scheduler(
                models,
                engine,
                limits=self._batch_limits(models),
                max_queue={
                    "embed": self.settings.max_queue_size,
                    "rerank": self.settings.rerank_max_queue,
                },
                batch_max_queue={
                    "embed": self.settings.batch_max_queue_size,
                    "rerank": self.settings.batch_rerank_max_queue,
                },
                policy=priority_policy(
                    self.settings, gpu=bool(self.gpu), express_lane=engine.express_lane
                ),
                cross_request_batching=self.settings.cross_request_batching,
                recorder=self.recorder,
                cache=embed_cache(self.settings),
                # an explicit MAX_BATCH_TOKENS wins over the engine's measurement
                budgets={} if self.settings.max_batch_tokens else engine.measured_budgets,
            )
            self.scheduler.start()
            self.calibration = self._calibration(engine)
            self.colbert_ranges = self._colbert_ranges(engine)
            if self.phase == "loading":
                self.phase = "ready"
                # Everything loaded so far (torch, transformers, the tokenizers) lives as
                # long as the process: out of the collector's sight, a full collection no
                # longer walks it and stalls every request (230-750 ms before, measured).
                gc.collect()
                gc.freeze()
                log.info("ready: serving on %s", self.device)
        except ModelLoadError as exc:
            self._fail(str(exc))
        except Exception as exc:
            self._fail(f"start-up failed: {type(exc).__name__}: {exc}")

    def _calibration(self, engine: Engine) -> Calibration | None:
        """The int8 / uint8 ranges from the vectors the engine computed at start-up."""
        dense = self.models.by_head.get(Head.DENSE) if self.models is not None else None
        vectors = engine.calibrated.dense
        if vectors is None or dense is None:
            return None
        calibration = Calibration(model=dense.name, vectors=vectors)
        log.info("%s", calibration.summary())
        log.debug(
            "quantization ranges (minimum, maximum) per dimension: %s",
            calibration.ranges().tolist(),
        )
        return calibration

    def _colbert_ranges(self, engine: Engine) -> ColbertRanges | None:
        """The ColBERT uint8 ranges from the engine's calibration."""
        colbert = self.models.by_head.get(Head.COLBERT) if self.models is not None else None
        ranges = engine.calibrated.colbert_ranges
        if ranges is None or colbert is None:
            return None
        return ColbertRanges(model=colbert.name, texts=len(CALIBRATION_TEXTS), ranges=ranges)

    async def _start_inline(self, preloaded: ModelSet | None) -> ModelSet:
        # imported here: the in-process engine reaches torch, which an API process in front
        # of an engine process never imports
        from app.engine.inline_start import start_inline

        engine, models, layout = await start_inline(self.settings, preloaded)
        self.engine = engine
        self.device, self.gpu = layout.device, layout.gpu
        return models

    def _engine_died(self, reason: str) -> None:
        """The engine cannot run anything any more: not ready, and the process must go."""
        if self.phase == "failed":
            return
        self._fail(f"{reason}; exiting so that the pod is replaced")

    def _fail(self, message: str) -> None:
        self.phase = "failed"
        self.load_error = message
        log.critical("%s", message)
        if self.on_fatal is not None:
            self.on_fatal(message)

    def begin_draining(self) -> None:
        """Turn ``/readyz`` 503 and refuse new inference requests, at once (first SIGTERM)."""
        if self.phase in ("loading", "ready"):
            self.phase = "draining"
            log.info("draining: no new requests; finishing the admitted ones")

    async def drain(self) -> bool:
        """Begin draining and wait for admitted requests to finish, up to
        SHUTDOWN_DRAIN_SECONDS in all however often it is called; True if they all did."""
        self.begin_draining()
        if self._drained is None:
            self._drained = asyncio.ensure_future(self._wait_for_admitted())
        return await asyncio.shield(self._drained)

    async def _wait_for_admitted(self) -> bool:
        if self.scheduler is None:
            return True
        timeout = self.settings.shutdown_drain_seconds
        drained = await self.scheduler.drain(timeout)
        if drained:
            log.info("drained: every admitted request has been answered")
        else:
            log.warning("drain timed out after %.0fs with requests still open", timeout)
        return drained

    async def shutdown(self) -> None:
        """Stop taking work, let admitted requests finish (bounded), then stop the engine."""
        await self.drain()
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.engine is not None:
            await self.engine.stop()

    def _batch_limits(self, models: ModelSet) -> BatchLimits:
        backends = models.backends()
        longest = max(b.max_length for b in backends)
        hidden = max((b.info.dimension or 1024) for b in backends)
        total_memory = int(self.gpu["total_memory_bytes"] or 0) if self.gpu else None
        tokens, items = batch_limits_for(
            device_type="cuda" if self.gpu else "cpu",
            total_memory_bytes=total_memory,
            max_length=longest,
            hidden_size=hidden,
        )
        return BatchLimits(
            max_tokens=self.settings.max_batch_tokens or tokens,
            max_items=self.settings.max_batch_requests or items,
            overhead_tokens=self.settings.batch_overhead_tokens
            or DEFAULT_OVERHEAD_TOKENS["cuda" if self.gpu else "cpu"],
        )


def embed_cache(settings: Settings) -> EmbedCache | None:
    """The exact-text embedding cache, when EMBED_CACHE_MB asks for one."""
    if settings.embed_cache_mb <= 0:
        return None
    return EmbedCache(int(settings.embed_cache_mb * 2**20))


def priority_policy(
    settings: Settings, *, gpu: bool = False, express_lane: bool = False
) -> PriorityPolicy:
    return PriorityPolicy(
        enabled=settings.priorities,
        starvation_passes=settings.batch_starvation_passes,
        express=settings.priority_express_pass,
        fill_cost_factor=settings.interactive_fill_factor or None,
        bulk_pass_tokens=settings.bulk_pass_tokens or None,
        interactive_bulk_pass_tokens=settings.interactive_bulk_pass_tokens or None,
        lower_while_interactive=not express_lane,
        interactive_seconds=settings.interactive_seconds,
        reserve_slot=settings.interactive_reserved_slot,
        interactive_pass_overheads=MIN_PASS_OVERHEADS if gpu else CPU_INTERACTIVE_PASS_OVERHEADS,
    )
