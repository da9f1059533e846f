"""Path parameters whose values depend on the loaded models, documented as they are.

A handler states such a parameter in its ``opt``: ``path_parameters``, each parameter's name
with a function of the runtime that gives its JSON Schema. The schema replaces the one Litestar
generated and, like the request bodies (``app.api.openapi.bodies``), is rendered on every read
of the document, so it follows the models as they load.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from litestar import Litestar
from litestar.openapi.spec import Parameter

from app.api.openapi.bodies import RenderedSchema
from app.api.openapi.operations import handler_operations
from app.runtime import Runtime

#: a path parameter's JSON Schema with this runtime's models (``opt["path_parameters"]``)
ParameterSchema = Callable[[Runtime], dict[str, Any]]


def document_path_parameters(app: Litestar) -> None:
    """Each path parameter that a handler states gets its schema (an ``on_startup`` hook)."""
    runtime: Runtime = app.state.runtime
    for handler, operation in handler_operations(app):
        stated: dict[str, ParameterSchema] = handler.opt.get("path_parameters", {})
        for parameter in operation.parameters or () if stated else ():
            if isinstance(parameter, Parameter) and parameter.name in stated:
                render = partial(stated[parameter.name], runtime)
                parameter.schema = RenderedSchema(render=render)
