"""Bearer auth: the key a request presents (``Authorization: Bearer <key>``) and the name of
the scheme in the OpenAPI document. Which keys are valid: ``keystore``; the check: ``gate``."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

BEARER_SCHEME = "BearerToken"


def presented_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The bearer key of this request, or ``None`` when it sends none."""
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
