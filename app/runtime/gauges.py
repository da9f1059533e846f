"""Point the scrape-time gauges at a runtime: queue depth, server info, GPU memory (as the
engine last read it), batch budgets."""

from __future__ import annotations

from app import __version__
from app.models.base import Head
from app.runtime import Runtime
from app.telemetry.metrics import GaugeSources


def watch_runtime(sources: GaugeSources, runtime: Runtime) -> None:
    def pending(queue: str, priority: str) -> int:
        scheduler = runtime.scheduler
        if scheduler is None:
            return 0
        return scheduler.pending(queue, priority)  # type: ignore[arg-type]

    def queued_items(queue: str) -> int:
        scheduler = runtime.scheduler
        return scheduler.queued_items(queue) if scheduler is not None else 0  # type: ignore[arg-type]

    def server_info() -> dict[str, str]:
        models = runtime.models
        return {
            # the original's labels: its one model, whether a GPU serves, the device
            "model": (models.name_for(Head.DENSE) if models else None) or "",
            "gpu_available": str(bool(runtime.gpu)),
            "version": __version__,
            "device": runtime.device,
            "dense_model": (models.name_for(Head.DENSE) if models else None) or "",
            "sparse_model": (models.name_for(Head.SPARSE) if models else None) or "",
            "colbert_model": (models.name_for(Head.COLBERT) if models else None) or "",
            "reranker_model": models.reranker.name if models and models.reranker else "",
        }

    def gpu_memory() -> dict[str, int]:
        # The engine's last reading: a scrape never calls CUDA (app/engine/device_memory.py).
        engine = runtime.engine
        return dict(engine.device_memory) if engine is not None else {}

    def budgets() -> dict[tuple[str, str], int]:
        scheduler = runtime.scheduler
        return scheduler.budgets() if scheduler is not None else {}

    def embed_cache() -> dict[str, int]:
        scheduler = runtime.scheduler
        if scheduler is None or scheduler.cache is None:
            return {}
        stats = scheduler.cache.stats()
        return {
            "hits": stats.hits,
            "misses": stats.misses,
            "evictions": stats.evictions,
            "bytes": stats.bytes,
            "entries": stats.entries,
        }

    def engine_pid() -> int | None:
        engine = runtime.engine
        return engine.pid if engine is not None else None

    sources.embed_cache = embed_cache
    runtime.recorder.metrics.memory_sources.engine_pid = engine_pid
    runtime.recorder.metrics.priority_sources.pending = pending
    sources.queued_items = queued_items
    sources.server_info = server_info
    sources.gpu_memory = gpu_memory
    sources.budgets = budgets
