"""``GET /metrics``: the OpenTelemetry instruments in Prometheus text format (SPEC §6)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from app.api.inference import runtime_of
from app.telemetry.metrics import PROMETHEUS_CONTENT_TYPE


class MetricsController(Controller):
    tags = ["operations"]

    @get("/metrics", summary="Prometheus metrics", media_type=PROMETHEUS_CONTENT_TYPE)
    async def metrics(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        body = runtime_of(request).recorder.metrics.render()
        return Response(content=body, media_type=PROMETHEUS_CONTENT_TYPE)
