"""What the operations issue adds around every route, built from the settings in one place:
request accounting, trusted-proxy client addresses, API keys with their own limits and the
per-client rate limit (``app.api.guards.keys``), request spans, ``GET /metrics`` and the bearer
scheme in the OpenAPI document. ``app.asgi`` passes each field to ``Litestar``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import PluginProtocol
from litestar.types import ControllerRouterHandler, Guard, Middleware

from app.api.common.accounting import RequestAccounting
from app.api.common.inference import json_body
from app.api.guards.keys import BEARER_SCHEME, KeyGate, ReleaseInFlight
from app.api.guards.priority import ChoosePriority
from app.api.guards.rate_limit import rate_limit_guard
from app.api.guards.shedding import ShedWhenFull
from app.api.ops.metrics import MetricsController
from app.paths import OPERATIONS_PATHS, is_operations_path
from app.runtime import Runtime
from app.security.keystore import KeyStore
from app.security.quotas import KeyQuotas


@dataclass
class OperationsLayer:
    route_handlers: list[ControllerRouterHandler] = field(default_factory=list)
    middleware: list[Middleware] = field(default_factory=list)
    guards: list[Guard] = field(default_factory=list)
    plugins: list[PluginProtocol] = field(default_factory=list)
    on_startup: list[Any] = field(default_factory=list)
    on_shutdown: list[Any] = field(default_factory=list)


def operations_layer(runtime: Runtime, keys: KeyStore | None = None) -> OperationsLayer:
    """``keys``: the API keys in force (``KeyStore.from_settings``), ``None`` for no auth."""
    settings = runtime.settings
    layer = OperationsLayer(route_handlers=[MetricsController])
    if settings.trusted_proxies.strip():
        # X-Forwarded-For is believed only from these peers; uvicorn's own copy of this
        # middleware is switched off in app.cli so that loopback is not trusted by default.
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        layer.middleware.append(
            DefineMiddleware(
                ProxyHeadersMiddleware,  # type: ignore[arg-type]  # uvicorn types its own ASGI
                trusted_hosts=settings.trusted_proxies,
            )
        )
    quotas = KeyQuotas()
    layer.middleware += [
        DefineMiddleware(RequestAccounting, recorder=runtime.recorder),
        DefineMiddleware(ReleaseInFlight, quotas=quotas),
    ]
    # The checks run in order, after routing and before the body is read.
    per_client = rate_limit_guard(
        settings.rate_limit_requests_per_minute, settings.rate_limit_burst_size
    )
    checks: list[Guard] = [
        KeyGate(keys, per_client, quotas),
        ChoosePriority(settings.priorities),
        ShedWhenFull(runtime),
        json_body,
    ]
    layer.guards.append(in_order(checks))
    sources = runtime.recorder.metrics.key_sources
    sources.in_flight = lambda: quotas.in_flight
    if keys is not None:
        layer.on_startup.append(document_bearer_auth)
        # the polling task lives on the server's loop: started and stopped with the app
        layer.on_startup.append(keys.start)
        layer.on_shutdown.append(keys.stop)
        sources.reloads = lambda: keys.reloads
        sources.names = lambda: keys.ring.names
    tracing = runtime.recorder.tracing
    if tracing.enabled:
        from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
        from opentelemetry.metrics import NoOpMeterProvider

        layer.plugins.append(
            OpenTelemetryPlugin(
                OpenTelemetryConfig(
                    tracer_provider=tracing.provider,
                    # request metrics are ours (app.telemetry.metrics), not the plugin's
                    meter_provider=NoOpMeterProvider(),
                    exclude=[f"^{p}" for p in sorted(OPERATIONS_PATHS)],
                    exclude_spans=["receive", "send"],
                )
            )
        )
    return layer


def in_order(checks: list[Guard]) -> Guard:
    """The checks as one Litestar guard. One, because Litestar copies the route handler for
    every guard on every request; a coroutine, because it runs a plain function guard in a
    worker thread (a thread hop and back per request). Each check is a coroutine too."""

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        for check in checks:
            await check(connection, handler)  # type: ignore[misc]

    return guard


def document_bearer_auth(app: Litestar) -> None:
    """Show the bearer scheme on every protected operation of the OpenAPI document (and on no
    operations route). Litestar adds handler-level security from every layer, with no way for
    a route to opt out, so the generated document is amended once, at start-up."""
    schema = app.openapi_schema
    if schema.components is None:
        schema.components = Components()
    schemes = dict(schema.components.security_schemes or {})
    schemes[BEARER_SCHEME] = SecurityScheme(
        type="http",
        scheme="bearer",
        description="API_TOKEN or a key of API_KEYS_FILE, as `Authorization: Bearer <key>`",
    )
    schema.components.security_schemes = schemes
    for path, item in (schema.paths or {}).items():
        if is_operations_path(path):
            continue
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is not None:
                operation.security = [{BEARER_SCHEME: []}]
