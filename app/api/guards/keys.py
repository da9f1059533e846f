"""Who may call an inference route, and how often: the one guard in front of them.

- Auth off (no API_TOKEN, no API_KEYS_FILE): every request is limited per client address
  (RATE_LIMIT_*; with TRUSTED_PROXIES the forwarded client), as before named keys.
- A request with no valid key: the per-client limit first (a flood of guesses is slowed like
  any other), then 401.
- API_TOKEN's key: the per-client limit, as before named keys.
- A named key: 403 if its ``routes`` do not match the path; 429 over its own bucket or its
  ``max_concurrent``. The per-client limit does not apply: behind an ingress every client
  has the proxy's address, and one team must not use up another's share.

The request's key name goes into ``scope["state"]`` (``KEY_STATE_KEY``) for the accounting
and onto the request's span; the key itself is never kept, logged or put on a span.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send
from opentelemetry import trace

from app.api.guards.rate_limit import RateLimitGuard
from app.errors import Forbidden, Unauthorized
from app.paths import is_operations_path
from app.security.apikeys import ANONYMOUS, KEY_PRIORITY_STATE_KEY, KEY_STATE_KEY, KeyRing
from app.security.keystore import KeyStore
from app.security.quotas import KeyQuotas

#: the ``scope["state"]`` key of the name whose in-flight slot a request holds
_LEASE_STATE_KEY = "smart_embedder.api_key_lease"
SPAN_ATTRIBUTE = "smart_embedder.api_key"

BEARER_SCHEME = "BearerToken"


def presented_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The bearer key of this request, or ``None`` when it sends none."""
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


class KeyGate:
    def __init__(
        self,
        keys: KeyStore | None,
        per_client: RateLimitGuard | None,
        quotas: KeyQuotas | None = None,
    ) -> None:
        self.keys = keys
        self.per_client = per_client
        self.quotas = quotas or KeyQuotas()
        self._ring: KeyRing | None = keys.ring if keys else None

    async def __call__(
        self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
    ) -> None:
        path = connection.scope["path"]
        if is_operations_path(path):
            return
        state = connection.scope.setdefault("state", {})
        if self.keys is None:
            state[KEY_STATE_KEY] = ANONYMOUS
            if self.per_client is not None:
                self.per_client.check(connection)
            return
        ring = self.keys.ring
        if ring is not self._ring:  # reloaded: forget the buckets of removed keys
            self._ring = ring
            self.quotas.keep_only(ring.by_name)
        presented = presented_key(connection)
        key = ring.match(presented) if presented is not None else None
        if key is None:
            state[KEY_STATE_KEY] = ANONYMOUS
            if self.per_client is not None:
                self.per_client.check(connection)
            if presented is None:
                raise Unauthorized("missing bearer token: send 'Authorization: Bearer <key>'")
            raise Unauthorized("invalid bearer token")
        state[KEY_STATE_KEY] = key.name
        state[KEY_PRIORITY_STATE_KEY] = key.priority
        trace.get_current_span().set_attribute(SPAN_ATTRIBUTE, key.name)
        if key.per_client:
            if self.per_client is not None:
                self.per_client.check(connection)
            return
        if not key.allows(path):
            raise Forbidden(
                f"API key {key.name!r} may not call {path}; its routes are "
                f"{', '.join(key.routes)} (API_KEYS_FILE)"
            )
        self.quotas.admit(key)
        state[_LEASE_STATE_KEY] = key.name


class ReleaseInFlight:
    """ASGI middleware: give back a request's in-flight slot once its response is done,
    whatever happened after the gate admitted it (a later guard's refusal, an error, a client
    that left)."""

    def __init__(self, app: ASGIApp, quotas: KeyQuotas) -> None:
        self.app = app
        self.quotas = quotas

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            name = scope.get("state", {}).pop(_LEASE_STATE_KEY, None)
            if name is not None:
                self.quotas.release(name)
