"""Everything a running server owns: settings, models, the worker and the scheduler, and the
lifecycle flags that ``/readyz`` reports. Built by ``create_app``, started by the lifespan."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from app.cpu import threads_per_worker, usable_cores
from app.errors import ModelLoadError, NotReady, Overloaded
from app.models.catalog import ModelSet, load_models
from app.models.runtime import configure_cpu_threads
from app.scheduler.batcher import DEFAULT_OVERHEAD_TOKENS, batch_limits_for
from app.scheduler.scheduler import BatchLimits, Scheduler
from app.scheduler.worker import InferenceWorker
from app.settings import Settings
from app.telemetry.recorder import Recorder

log = logging.getLogger("smart_embedder")

Phase = Literal["loading", "ready", "draining", "failed"]


def inference_workers(configured: int, on_cpu: bool, cores: int) -> int:
    """Forward passes that may run side by side: one on a GPU; on a CPU as configured, or
    two when there are cores for both (two single-threaded passes of a small batch beat one
    two-threaded pass: BENCHMARKS.md)."""
    if not on_cpu:
        return 1
    return configured if configured > 0 else min(2, max(1, cores))


@dataclass
class Runtime:
    settings: Settings
    recorder: Recorder = field(default_factory=Recorder)
    models: ModelSet | None = None
    worker: InferenceWorker | None = None
    scheduler: Scheduler | None = None
    phase: Phase = "loading"
    load_error: str | None = None
    started_at: float = field(default_factory=time.time)
    device: str = "unknown"
    gpu: dict[str, str | int | float | None] | None = None
    #: called once when loading fails, so the process can exit non-zero
    on_fatal: Callable[[str], None] | None = None
    _drained: asyncio.Future[bool] | None = field(default=None, init=False, repr=False)

    @property
    def ready(self) -> bool:
        return self.phase == "ready" and self.worker is not None and self.worker.healthy

    def require_scheduler(self) -> Scheduler:
        """The scheduler for an inference route, or the 503 that explains why not."""
        if self.phase == "draining":
            raise Overloaded("the server is shutting down; retry on another replica", retry_after=1)
        if self.scheduler is None or self.phase != "ready":
            raise NotReady(
                "models are still loading; retry shortly"
                if self.phase == "loading"
                else f"the server cannot serve: {self.load_error or 'inference worker stopped'}",
                retry_after=5,
            )
        return self.scheduler

    async def start(self, preloaded: ModelSet | None = None) -> None:
        """Load models (off the loop), warm them up on the worker, then turn ready."""
        try:
            loop = asyncio.get_running_loop()
            models = (
                preloaded
                if preloaded is not None
                else await loop.run_in_executor(None, load_models, self.settings)
            )
            self.models = models
            self._describe_device()
            on_cpu = self.device == "cpu"
            cores = usable_cores(self.settings.cpu_threads)
            workers = inference_workers(self.settings.cpu_inference_workers, on_cpu, cores)
            if workers > 1:
                configure_cpu_threads(threads_per_worker(cores, workers))
            worker = InferenceWorker(
                niceness=self.settings.worker_niceness if on_cpu else 0, threads=workers
            )
            worker.start()
            self.worker = worker
            if self.settings.warmup:
                started = time.perf_counter()
                for backend in [*models.embedding_backends(), models.reranker]:
                    if backend is not None:
                        await worker.submit(backend.warmup)
                log.info("warm-up done in %.2fs", time.perf_counter() - started)
            self.scheduler = Scheduler(
                models,
                worker,
                limits=self._batch_limits(models),
                max_queue={
                    "embed": self.settings.max_queue_size,
                    "rerank": self.settings.rerank_max_queue,
                },
                cross_request_batching=self.settings.cross_request_batching,
                recorder=self.recorder,
            )
            self.scheduler.start()
            if self.phase == "loading":
                self.phase = "ready"
                log.info("ready: serving on %s", self.device)
        except ModelLoadError as exc:
            self._fail(str(exc))
        except Exception as exc:
            self._fail(f"start-up failed: {type(exc).__name__}: {exc}")

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
        """Stop taking work, let admitted requests finish (bounded), then stop the worker."""
        await self.drain()
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.worker is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.worker.stop)

    def _describe_device(self) -> None:
        import torch

        from app.models.runtime import resolve_device

        device = resolve_device(self.settings.device)
        self.device = str(device)
        if device.type == "cuda":
            index = device.index or 0
            props = torch.cuda.get_device_properties(index)
            self.gpu = {
                "name": props.name,
                "total_memory_bytes": int(props.total_memory),
                "capability": f"{props.major}.{props.minor}",
                "cuda": torch.version.cuda,
            }

    def _batch_limits(self, models: ModelSet) -> BatchLimits:
        backends = [*models.embedding_backends(), models.reranker]
        longest = max(b.max_length for b in backends if b is not None)
        hidden = max((b.info.dimension or 1024) for b in backends if b is not None)
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
