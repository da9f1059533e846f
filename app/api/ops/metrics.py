"""``GET /metrics``: the OpenTelemetry instruments in Prometheus text format (SPEC §6)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from app.api.common.inference import runtime_of
from app.api.ops.siblings import ask_siblings, wants_whole_pod
from app.telemetry.metrics import PROMETHEUS_CONTENT_TYPE
from app.telemetry.pod_metrics import merge_expositions


class MetricsController(Controller):
    tags = ["operations"]

    @get("/metrics", summary="Prometheus metrics", media_type=PROMETHEUS_CONTENT_TYPE)
    async def metrics(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        runtime = runtime_of(request)
        body = runtime.recorder.metrics.render()
        if wants_whole_pod(runtime, request.headers):
            body = merge_expositions([body, *await ask_siblings(runtime, "/metrics")])
        return Response(content=body, media_type=PROMETHEUS_CONTENT_TYPE)
