"""The priority step of the guard: the request's class from its ``X-Priority`` header and its
API key, before its body is read, so that the shedding guard after it refuses by class
(``app.api.common.priority`` holds the rules; a native body's ``priority`` field is applied by
its route)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from app.api.common.priority import header_lane
from app.paths import METADATA_ENDPOINTS, endpoint_for


class ChoosePriority:
    def __init__(self, enabled: bool) -> None:
        #: PRIORITIES: off, every request is interactive and the header is not read
        self.enabled = enabled

    async def __call__(
        self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
    ) -> None:
        if not self.enabled:
            return
        endpoint = endpoint_for(connection.scope["path"])
        if endpoint is not None and endpoint not in METADATA_ENDPOINTS:
            header_lane(connection)
