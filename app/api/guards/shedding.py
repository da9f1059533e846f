"""Turn inference requests away before their body is read while their queue is full for
their priority class.

The scheduler's admission is the authority (it refuses with 503 whatever gets past here);
this guard only makes the refusal cheap when the pod is already saturated: no body read, no
JSON parse, no validation, so a full pod answers 503 in a few event-loop turns. It knows the
class the header and the API key give (``ChoosePriority`` ran before it): a flood of batch
work fills the batch class's bound and never turns an interactive request away. A native body
that asks for ``batch`` in its field is seen as interactive here, and its class's bound is
applied by admission.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from app.api.common.priority import LANE_STATE_KEY
from app.errors import Overloaded
from app.paths import METADATA_ENDPOINTS, endpoint_for
from app.runtime import Runtime
from app.scheduler.outcomes import Kind
from app.scheduler.priorities import DEFAULT_LANE, Lane
from app.scheduler.refusals import queue_full_message
from app.telemetry.metrics import family_of


class ShedWhenFull:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(
        self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
    ) -> None:
        scheduler = self.runtime.scheduler
        endpoint = endpoint_for(connection.scope["path"])
        if scheduler is None or endpoint is None or endpoint in METADATA_ENDPOINTS:
            return
        kind: Kind = "rerank" if family_of(endpoint) == "rerank" else "embed"
        lane: Lane = connection.scope.get("state", {}).get(LANE_STATE_KEY, DEFAULT_LANE)
        bound = scheduler.queue_bound(kind, lane.priority)
        if scheduler.pending(kind, lane.priority) >= bound:
            self.runtime.recorder.class_refused(kind, lane.priority)
            raise Overloaded(queue_full_message(kind, lane.priority, bound), retry_after=1)
