"""Bearer-token auth for every non-operations route (``API_TOKEN``; empty disables it)."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard

from app.errors import Unauthorized
from app.paths import is_operations_path

BEARER_SCHEME = "BearerToken"


def bearer_token_guard(token: str) -> Guard:
    """A guard that lets a request through only with ``Authorization: Bearer <token>``."""
    expected = token.encode()

    async def require_token(
        connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
    ) -> None:
        if is_operations_path(connection.scope["path"]):
            return
        scheme, _, presented = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise Unauthorized("missing bearer token: send 'Authorization: Bearer <API_TOKEN>'")
        # compare_digest takes the same time wherever the first wrong byte is
        if not hmac.compare_digest(presented.strip().encode(), expected):
            raise Unauthorized("invalid bearer token")

    return require_token
