"""The request examples of the OpenAPI document: what Swagger UI's "Try it out" sends. Each
family lists its own (``examples.py`` beside its routes); this puts them on the document."""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody

from app.api.cohere.examples import EXAMPLES as COHERE
from app.api.common.examples import Examples
from app.api.native.examples import EXAMPLES as NATIVE
from app.api.openai.examples import EXAMPLES as OPENAI
from app.api.tei.examples import EXAMPLES as TEI

EXAMPLES: Examples = {**NATIVE, **OPENAI, **COHERE, **TEI}


def document_request_examples(app: Litestar) -> None:
    """Put each route's examples on its JSON body (an ``on_startup`` hook, after the bodies
    are in place: ``app.api.openapi.bodies``)."""
    paths = app.openapi_schema.paths or {}
    for (method, path), examples in EXAMPLES.items():
        item = paths.get(path)
        operation: Operation | None = getattr(item, method, None) if item is not None else None
        body = operation.request_body if operation is not None else None
        media = body.content.get("application/json") if isinstance(body, RequestBody) else None
        if not isinstance(media, OpenAPIMediaType):
            raise RuntimeError(f"{method.upper()} {path} has no JSON body to give examples to")
        media.examples = {name: example.as_openapi() for name, example in examples.items()}
