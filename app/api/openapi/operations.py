"""The operations of the OpenAPI document, each with the route handler that serves it: where
the start-up hooks that document bodies and path parameters look for what a handler states."""

from __future__ import annotations

from collections.abc import Iterator

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Operation
from litestar.routes import HTTPRoute


def handler_operations(app: Litestar) -> Iterator[tuple[HTTPRouteHandler, Operation]]:
    """Each documented operation of ``app``'s document, with its handler."""
    paths = app.openapi_schema.paths or {}
    for route in app.routes:
        item = paths.get(route.path_format)
        if item is None or not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if operation is not None:
                    yield handler, operation
