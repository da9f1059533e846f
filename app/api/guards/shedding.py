"""Turn inference requests away before their body is read while their queue is full.

The scheduler's admission is the authority (it refuses with 503 whatever gets past here);
this guard only makes the refusal cheap when the pod is already saturated: no body read, no
JSON parse, no validation, so a full pod answers 503 in a few event-loop turns.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from app.errors import Overloaded
from app.paths import METADATA_ENDPOINTS, endpoint_for
from app.runtime import Runtime
from app.scheduler.scheduler import Kind
from app.telemetry.metrics import family_of


class ShedWhenFull:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.bounds: dict[Kind, int] = {
            "embed": runtime.settings.max_queue_size,
            "rerank": runtime.settings.rerank_max_queue,
        }

    async def __call__(
        self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
    ) -> None:
        scheduler = self.runtime.scheduler
        endpoint = endpoint_for(connection.scope["path"])
        if scheduler is None or endpoint is None or endpoint in METADATA_ENDPOINTS:
            return
        kind: Kind = "rerank" if family_of(endpoint) == "rerank" else "embed"
        if scheduler.pending(kind) >= self.bounds[kind]:
            raise Overloaded(
                f"the {kind} queue is full ({self.bounds[kind]} requests waiting); retry later",
                retry_after=1,
            )
