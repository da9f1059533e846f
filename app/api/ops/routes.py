"""Operations routes (SPEC §1.3): never behind the token, never rate-limited."""

from __future__ import annotations

import dataclasses
import platform
import time
from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec

from app import __version__
from app.api.common.inference import runtime_of
from app.api.ops.pod_stats import merge_stats
from app.api.ops.priority_stats import priority_stats
from app.api.ops.schemas import (
    BatchSettings,
    EmbedCacheStatus,
    GpuStatus,
    HealthStatus,
    KeysStats,
    KeyUsage,
    LiveStatus,
    ModelDescription,
    QuantizationRanges,
    ReadyStatus,
    StatsBody,
    StatsTotals,
)
from app.api.ops.siblings import ask_siblings, wants_whole_pod
from app.cpu import affinity_cores
from app.models.base import Head
from app.models.quantization import Calibration, ColbertRanges
from app.paths import METADATA_ENDPOINTS
from app.runtime import Runtime
from app.scheduler.scheduler import Scheduler
from app.telemetry.recorder import Recorder

if TYPE_CHECKING:
    from app.runtime import Runtime


class OpsController(Controller):
    tags = ["operations"]
    include_in_schema = True

    @get("/livez", summary="The process is alive")
    async def livez(self) -> LiveStatus:
        return LiveStatus(status="alive")

    @get(
        "/readyz",
        summary="200 once every model is loaded and warm; 503 otherwise",
        responses={
            503: ResponseSpec(
                ReadyStatus,
                description="Loading, draining, failed or unhealthy",
                generate_examples=False,
            )
        },
    )
    async def readyz(self, request: Request[Any, Any, Any]) -> Response[ReadyStatus]:
        runtime = runtime_of(request)
        if runtime.ready:
            return Response(ReadyStatus(status="ready"), status_code=200)
        phase = runtime.phase
        if phase == "ready":  # the worker died under us
            body = ReadyStatus(status="unhealthy", detail="the inference engine stopped")
        else:
            body = ReadyStatus(status=phase, detail=runtime.load_error)
        return Response(body, status_code=503, headers={"Retry-After": "5"})

    # on a worker thread: rendering takes milliseconds once the schemas are built (at
    # readiness, app.asgi), seconds for a read that comes first, which would stall the loop
    @get(
        "/openapi.json",
        include_in_schema=False,
        summary="The OpenAPI document",
        sync_to_thread=True,
    )
    def openapi(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = request.app.openapi_schema.to_schema()
        return schema

    @get("/health", summary="Status, version, device, models and batch settings")
    async def health(self, request: Request[Any, Any, Any]) -> HealthStatus:
        runtime = runtime_of(request)
        models = runtime.models
        described: dict[str, ModelDescription] = {}
        if models is not None:
            roles: list[tuple[str, Any]] = [(h.value, b) for h, b in models.by_head.items()]
            if models.reranker is not None:
                roles.append(("rerank", models.reranker))
            for role, backend in roles:
                described[role] = ModelDescription(
                    name=backend.name,
                    kind=backend.info.kind,
                    max_length=backend.max_length,
                    dimension=backend.info.dimension,
                    dtype=backend.info.dtype,
                )
        scheduler = runtime.scheduler
        settings = runtime.settings
        max_items = scheduler.limits.max_items if scheduler else None
        return HealthStatus(
            status="healthy" if runtime.ready else runtime.phase,
            gpu=gpu_status(runtime.device, runtime.gpu),
            model=(models.name_for(Head.SPARSE) or models.name_for(Head.DENSE)) if models else None,
            dense_embedding_model=models.name_for(Head.DENSE) if models else None,
            reranker_model=models.reranker.name if models and models.reranker else None,
            max_input_length=max((b.max_length for b in models.by_head.values()), default=None)
            if models
            else None,
            batch_size=max_items,
            max_requests_in_batch=max_items,
            version=__version__,
            device=runtime.device,
            models_loaded=runtime.models is not None,
            dense_model=models.name_for(Head.DENSE) if models else None,
            sparse_model=models.name_for(Head.SPARSE) if models else None,
            colbert_model=models.name_for(Head.COLBERT) if models else None,
            models=described,
            batch=BatchSettings(
                max_batch_tokens=scheduler.limits.max_tokens,
                max_batch_requests=scheduler.limits.max_items,
                batch_overhead_tokens=scheduler.limits.overhead_tokens,
                batch_overhead_tokens_by_model=scheduler.overhead_tokens(),
                max_batch_tokens_by_model={
                    model: tokens for (_, model), tokens in scheduler.budgets().items()
                },
                max_batch_tokens_source=budget_source(runtime),
                max_queue_size=settings.max_queue_size,
                rerank_max_queue=settings.rerank_max_queue,
                cross_request_batching=settings.cross_request_batching,
                inference_workers=runtime.engine.size if runtime.engine else 1,
                express_thread=runtime.engine.express_lane if runtime.engine else False,
                engine=runtime.engine.kind if runtime.engine else "process",
                engine_pid=runtime.engine.pid if runtime.engine else None,
                api_processes=len(runtime.siblings) + 1,
            )
            if scheduler
            else None,
            uptime_seconds=round(time.time() - runtime.started_at, 3),
            quantization=quantization_ranges(runtime.calibration),
            colbert_quantization=colbert_quantization_ranges(runtime.colbert_ranges),
        )

    @get("/stats", summary="Uptime, totals, rejections and hardware")
    async def stats(self, request: Request[Any, Any, Any]) -> StatsBody:
        runtime = runtime_of(request)
        own = process_stats(runtime)
        if wants_whole_pod(runtime, request.headers):
            return merge_stats(own, await ask_siblings(runtime, "/stats"))
        return own


def process_stats(runtime: Runtime) -> StatsBody:
    """This API process's own figures (the whole pod's with one API process)."""
    stats = runtime.recorder.stats
    rejected: dict[str, dict[str, int]] = {}
    for (endpoint, reason), count in stats.rejected.items():
        rejected.setdefault(endpoint, {})[reason] = count
    scheduler = runtime.scheduler
    uptime = time.time() - stats.started_at
    inference_requests = sum(
        n for endpoint, n in stats.requests.items() if endpoint not in METADATA_ENDPOINTS
    )
    rejected_requests = sum(stats.rejected.values())
    return StatsBody(
        uptime=format_uptime(uptime),
        uptime_seconds=int(uptime),
        total_requests=inference_requests,
        total_sentences=stats.sentences,
        total_batches=stats.batches,
        rejected_requests=rejected_requests,
        hardware=hardware_line(runtime.gpu),
        totals=StatsTotals(
            requests=inference_requests,
            errors=sum(stats.errors.values()),
            sentences=stats.sentences,
            rerank_pairs=stats.pairs,
            batches=stats.batches,
            batch_items=stats.batch_items,
            batch_tokens=stats.batch_tokens,
            padded_tokens=stats.padded_tokens,
            rejected_requests=rejected_requests,
            items_per_batch=round(stats.batch_items / stats.batches, 2) if stats.batches else 0.0,
            inference_seconds=round(stats.inference_seconds, 6),
            inference_cpu_seconds=round(stats.inference_cpu_seconds, 6),
            budget_adaptations=stats.budget_adaptations,
            oom_splits=stats.oom_splits,
            items_too_large=stats.items_too_large,
        ),
        requests_by_endpoint=dict(stats.requests),
        rejected_by_endpoint=rejected,
        queue={
            "embed_pending": scheduler.pending("embed") if scheduler else 0,
            "rerank_pending": scheduler.pending("rerank") if scheduler else 0,
        },
        hardware_details={
            "device": runtime.device,
            "gpu": str(runtime.gpu.get("name")) if runtime.gpu else None,
            "cpu_count": affinity_cores(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        keys=key_stats(runtime.recorder),
        embed_cache=cache_status(scheduler),
        priorities=priority_stats(scheduler, runtime.recorder),
    )


def quantization_ranges(calibration: Calibration | None) -> QuantizationRanges | None:
    if calibration is None:
        return None
    ranges = calibration.ranges()
    return QuantizationRanges(
        model=calibration.model,
        calibration_texts=calibration.texts,
        dimension=calibration.dimension,
        minimum=ranges[0].tolist(),
        maximum=ranges[1].tolist(),
    )


def colbert_quantization_ranges(colbert: ColbertRanges | None) -> QuantizationRanges | None:
    if colbert is None:
        return None
    return QuantizationRanges(
        model=colbert.model,
        calibration_texts=colbert.texts,
        dimension=int(colbert.ranges.shape[1]),
        minimum=colbert.ranges[0].tolist(),
        maximum=colbert.ranges[1].tolist(),
    )


def key_stats(recorder: Recorder) -> KeysStats:
    """``/stats``' ``keys``: the same tallies ``smart_embedder_key_*`` reads."""
    stats, sources = recorder.stats, recorder.metrics.key_sources
    in_flight = sources.in_flight()
    usage: dict[str, KeyUsage] = {}

    def of(name: str) -> KeyUsage:
        if name not in usage:
            usage[name] = KeyUsage(
                requests=0,
                statuses={},
                texts=stats.key_texts[name],
                tokens=stats.key_tokens[name],
                rejected={},
                in_flight=in_flight[name],
            )
        return usage[name]

    for (name, _endpoint, status), n in stats.key_requests.items():
        entry = of(name)
        entry.requests += n
        entry.statuses[str(status)] = entry.statuses.get(str(status), 0) + n
    for (name, reason), n in stats.key_rejected.items():
        of(name).rejected[reason] = n
    for name in in_flight:
        of(name)
    reloads = sources.reloads()
    return KeysStats(
        loaded=sources.names(),
        reloads={"success": reloads["success"], "failure": reloads["failure"]},
        usage=dict(sorted(usage.items())),
    )


GpuDescription = dict[str, str | int | float | None] | None


def budget_source(runtime: Runtime) -> str:
    if runtime.settings.max_batch_tokens:
        return "setting"
    return (
        "measured" if runtime.engine is not None and runtime.engine.measured_budgets else "derived"
    )


def gpu_status(device: str, gpu: GpuDescription) -> GpuStatus:
    """The original's ``gpu`` object from what the engine found at start-up (it never touches
    CUDA here: the API process has no CUDA context of its own)."""
    if not gpu:
        return GpuStatus(
            available=False,
            device_info="CPU",
            memory_gb=0.0,
            device_count=0,
            multi_gpu_enabled=False,
            configured_devices=[device],
        )
    total = int(gpu.get("total_memory_bytes") or 0)
    return GpuStatus(
        available=True,
        device_info=str(gpu.get("name")),
        memory_gb=round(total / 1024**3, 2),
        device_count=int(gpu.get("device_count") or 1),
        # one engine serves one device (a pod per GPU scales out instead)
        multi_gpu_enabled=False,
        configured_devices=[device],
        capability=str(gpu.get("capability")),
        cuda=str(gpu.get("cuda")),
        total_memory_bytes=total,
    )


def hardware_line(gpu: GpuDescription) -> str:
    """The original's ``hardware``: "CPU", or "<GPU name> (<memory> GB)"."""
    if not gpu:
        return "CPU"
    return f"{gpu.get('name')} ({int(gpu.get('total_memory_bytes') or 0) / 1024**3:.2f} GB)"


def format_uptime(seconds: float) -> str:
    """ "1h 2m 3s", as the original writes it (hours are not folded into days)."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes}m {secs}s"


def cache_status(scheduler: Scheduler | None) -> EmbedCacheStatus | None:
    if scheduler is None or scheduler.cache is None:
        return None
    return EmbedCacheStatus(**dataclasses.asdict(scheduler.cache.stats()))
