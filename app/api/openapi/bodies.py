"""The request bodies of the OpenAPI document, from msgspec's own JSON Schema of each request
struct: the ``Meta`` that checks a request is the one that describes it, so a request that is
valid by the document is one the server accepts.

Litestar's generator drops the bounds of list items and of union members (a
``list[Annotated[str, Meta(min_length=1)]]`` shows as a bare list of strings), so each body's
component is replaced, at start-up, by msgspec's schema of the route's struct (or of the
struct's ``documented_as``, where the route decodes more than it accepts), with:

- the bounds that are settings (``app.api.common.bounds``) valued as this server runs: on
  TEI's bodies, whose routes answer a request over them with TEI's 413, as extension keywords;
- each boolean as the server reads it: a ``bool`` field also takes 0 and 1 (Litestar decodes
  with msgspec's ``strict=False``, as the original service's pydantic models read booleans),
  a ``StrictBool`` field JSON ``true`` and ``false`` only (``app.api.common.schemas``);
- once the models are loaded, what depends on them: which vector types can be asked for,
  whether ``dimensions`` may be sent and up to what, the token ids TEI's ``inputs`` may hold,
  whether ``/predict`` scores a lone text, and what ``chunking`` takes
  (``app.api.native.chunking_document``).

A route that decodes its body itself (TEI's ``POST /``), or that takes more than one body
(``/rerank``: the original's or TEI's), says so in its handler's ``opt``: ``documented_bodies``,
the structs whose components its body refers to, and ``request_body``, the body's schema (or a
function of the loaded models that gives it), which replaces the one Litestar generated.

Components are rendered on every read of the document, so it follows the models as they load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.spec import Components, OpenAPIMediaType, Reference, RequestBody, Schema

import app.api.tei.schemas as tei_schemas
from app.api.cohere.embed_schemas import CohereEmbedParams
from app.api.cohere.rerank_schemas import CompatRerankRequest
from app.api.common.bounds import resolve
from app.api.common.colbert_vectors import POOL_FACTOR_FIELD, TYPE_FIELD
from app.api.common.model_names import served_models
from app.api.native.chunking_document import chunking_rule, late_chunking_rule
from app.api.native.schemas import EmbeddingRequest, RerankRequest
from app.api.openai.schemas import OpenAIEmbeddingParams
from app.api.openapi.operations import handler_operations
from app.api.tei.schemas import (
    TeiEmbedAllParams,
    TeiEmbedParams,
    TeiInputsParams,
    TeiPredictParams,
    TeiTokenizeParams,
    predict_inputs,
)
from app.models.base import Head
from app.models.catalog import ModelSet
from app.models.registry import Role
from app.runtime import Runtime
from app.settings import Settings

_REF = "#/components/schemas/{name}"
#: Litestar converts a decoded body with msgspec's ``strict=False``: what that reads beyond the
#: JSON types, which each body says in words while its schema keeps the types to send
_STRINGS = 'A number in a string ("5") is read as that number, and "null" as null.'
_LENIENT_BOOLEANS = (
    "A boolean may also be sent as 0 or 1, as the original service read it, or as the string "
    '"true", "false", "0" or "1".'
)
_STRICT_BOOLEANS = "A boolean is JSON true or false, not 0 or 1."
_SIZE_LIMITED = (
    "Over a count or size limit (x-max-items, x-max-length, x-max-total-chars) is TEI's 413."
)
#: what the server reads as false in a ``bool`` field (``_vector_types``)
_FALSE = [False, 0]
#: a rule of a body's schema that depends on the loaded models (``None`` until they are)
Rule = Callable[[dict[str, Any], ModelSet | None, Settings], None]
_HEAD_FIELDS = {
    Head.DENSE: "return_dense",
    Head.SPARSE: "return_sparse",
    Head.COLBERT: "return_colbert",
}


def document_request_bodies(app: Litestar) -> None:
    """Replace the component of every route's request body (an ``on_startup`` hook)."""
    openapi = app.openapi_schema
    structs = _body_structs(app)
    if not structs:
        return
    bodies = RequestBodies(structs, app.state.runtime)
    if openapi.components is None:
        openapi.components = Components()
    schemas = dict(openapi.components.schemas or {})
    for name in bodies.components():
        schemas[name] = RenderedSchema(render=partial(bodies.component, name))
    openapi.components.schemas = schemas
    _replace_bodies(app)


#: a body's schema, or a function of the loaded models that gives it (``opt["request_body"]``)
BodySchema = dict[str, Any] | Callable[[ModelSet | None], dict[str, Any]]


def _replace_bodies(app: Litestar) -> None:
    """Each operation whose handler states its body (``opt["request_body"]``) gets it."""
    runtime: Runtime = app.state.runtime
    for handler, operation in handler_operations(app):
        body: BodySchema | None = handler.opt.get("request_body")
        if body is not None:
            schema = RenderedSchema(render=partial(_render_body, body, runtime))
            operation.request_body = RequestBody(
                content={"application/json": OpenAPIMediaType(schema=schema)}, required=True
            )


def _render_body(body: BodySchema, runtime: Runtime) -> dict[str, Any]:
    return body(runtime.models) if callable(body) else body


@dataclass(eq=False)  # eq=False keeps Schema's own __hash__
class RenderedSchema(Schema):
    """A component whose JSON Schema is built each time the document is rendered."""

    render: Callable[[], dict[str, Any]] = field(default=dict)

    def to_schema(self) -> dict[str, Any]:
        return self.render()


class RequestBodies:
    """The body components (by the names the document refers to them by), rebuilt when the
    loaded models change."""

    def __init__(self, structs: dict[str, type[msgspec.Struct]], runtime: Runtime) -> None:
        self._structs = structs
        self._runtime = runtime
        self._built: tuple[ModelSet | None, dict[str, dict[str, Any]]] | None = None

    def component(self, name: str) -> dict[str, Any]:
        return self.components()[name]

    def components(self) -> dict[str, dict[str, Any]]:
        models = self._runtime.models
        if self._built is None or self._built[0] is not models:
            self._built = (models, self._build(models))
        return self._built[1]

    def _build(self, models: ModelSet | None) -> dict[str, dict[str, Any]]:
        documented = {name: getattr(s, "documented_as", s) for name, s in self._structs.items()}
        refs, nested = msgspec.json.schema_components(documented.values(), ref_template=_REF)
        # msgspec names a component after its struct; the document's operations refer to
        # Litestar's name for the route's own struct. A body struct is never nested.
        tops = [nested.pop(ref["$ref"].rpartition("/")[2]) for ref in refs]
        booleans = {name: _document_booleans(schema) for name, schema in nested.items()}
        bodies: dict[str, dict[str, Any]] = {}
        size_limited: set[str] = set()
        for (name, struct), schema in zip(documented.items(), tops, strict=True):
            reached = _reached(schema, nested)
            read = _document_booleans(schema).union(*(booleans[n] for n in reached))
            for rule in _MODEL_RULES.get(struct, ()):
                rule(schema, models, self._runtime.settings)
            notes = [schema.get("description"), _STRINGS]
            if "lenient" in read:
                notes.append(_LENIENT_BOOLEANS)
            if "strict" in read:
                notes.append(_STRICT_BOOLEANS)
            if struct.__module__ == tei_schemas.__name__:
                size_limited |= {name, *reached}
                notes.append(_SIZE_LIMITED)
            bodies[name] = {**schema, "title": name, "description": " ".join(filter(None, notes))}
        components = {**nested, **bodies}
        for component in components.values():
            _describe_tags(component)
        settings = self._runtime.settings
        return {
            name: resolve(schema, settings, size_limits=name in size_limited)
            for name, schema in components.items()
        }


def _body_structs(app: Litestar) -> dict[str, type[msgspec.Struct]]:
    """Each request body's component name in the document → the struct its route decodes."""
    found: dict[str, type[msgspec.Struct]] = {}
    for handler, operation in handler_operations(app):
        for documented in handler.opt.get("documented_bodies", ()):
            found[documented.__name__] = documented
        data = handler.parsed_fn_signature.parameters.get("data")
        struct = data.annotation if data is not None else None
        if not (isinstance(struct, type) and issubclass(struct, msgspec.Struct)):
            continue
        body = operation.request_body
        for media in body.content.values() if isinstance(body, RequestBody) else ():
            if isinstance(media.schema, Reference):
                found[media.schema.ref.rpartition("/")[2]] = struct
    return found


def _document_booleans(schema: Any) -> set[str]:
    """Each boolean in ``schema`` (msgspec's, changed in place) as the server reads it: a
    ``bool`` (``"type": "boolean"``) takes 0 and 1 too, a ``StrictBool`` (the literal's
    ``"enum": [false, true]``) only what JSON Schema calls a boolean. Which of the two it holds:
    ``"lenient"``, ``"strict"``."""
    found: set[str] = set()
    if isinstance(schema, list):
        for item in schema:
            found |= _document_booleans(item)
        return found
    if not isinstance(schema, dict):
        return found
    if schema.get("type") == "boolean":
        del schema["type"]
        schema["anyOf"] = [{"type": "boolean"}, {"enum": [0, 1]}]
        return {"lenient"}
    values = schema.get("enum")
    if isinstance(values, list) and len(values) == 2 and all(type(v) is bool for v in values):
        del schema["enum"]
        schema["type"] = "boolean"
        return {"strict"}
    for value in schema.values():
        found |= _document_booleans(value)
    return found


def _reached(schema: Any, components: dict[str, Any]) -> set[str]:
    """The names of the components ``schema`` refers to, directly or through others."""
    found: set[str] = set()
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            name = str(node.get("$ref", "")).rpartition("/")[2]
            if name in components and name not in found:
                found.add(name)
                pending.append(components[name])
            pending.extend(node.values())
    return found


def _vector_types(schema: dict[str, Any], models: ModelSet | None, _: Settings) -> None:
    """``return_*``: a vector type no loaded model gives can only be left out or false, and a
    request that asks for none of the others is a 400 (``requested_heads``)."""
    available = set(_HEAD_FIELDS) if models is None else set(models.by_head)
    properties = schema["properties"]
    for head, name in _HEAD_FIELDS.items():
        if head not in available:
            properties[name] = {
                **properties[name],
                "enum": _FALSE,
                "default": False,
                "description": f"No model served here gives {head.value} vectors",
            }
        elif models is not None:
            # left out, a vector type that a loaded model gives is returned
            properties[name] = {**properties[name], "default": True}
    asked = [_HEAD_FIELDS[head] for head in _HEAD_FIELDS if head in available]
    schema["not"] = {"required": asked, "properties": {name: {"enum": _FALSE} for name in asked}}


def _colbert_options(schema: dict[str, Any], models: ModelSet | None, settings: Settings) -> None:
    """``colbert_pool_factor`` and ``colbert_type``: their defaults (the pool factor's is
    COLBERT_POOL_FACTOR), or, with no ColBERT model, never to be sent (``colbert_options``)."""
    properties = schema["properties"]
    if models is not None and Head.COLBERT not in models.by_head:
        for name in (POOL_FACTOR_FIELD, TYPE_FIELD):
            properties[name] = {
                "not": {},
                "description": "No model served here gives ColBERT vectors: leave it out",
            }
        return
    properties[POOL_FACTOR_FIELD] = {
        **properties[POOL_FACTOR_FIELD],
        "default": settings.colbert_pool_factor,
    }
    properties[TYPE_FIELD] = {**properties[TYPE_FIELD], "default": "float"}


def _dimensions(field: str = "dimensions") -> Rule:
    """``field`` (``dimensions``, Cohere's ``output_dimension``): only for a dense model trained
    for Matryoshka truncation, and up to its full size (``output_dimensions``)."""

    def rule(schema: dict[str, Any], models: ModelSet | None, _: Settings) -> None:
        backend = models.by_head.get(Head.DENSE) if models is not None else None
        if backend is None:
            return
        properties = schema["properties"]
        if not backend.supports_dimensions:
            properties[field] = {
                "type": "null",
                "default": None,
                "description": f"{backend.name} has no Matryoshka dimensions: leave it out",
            }
            return
        if backend.info.dimension is not None:
            for option in properties[field]["anyOf"]:
                if option.get("type") == "integer":
                    option["maximum"] = backend.info.dimension

    return rule


def _token_ids(schema: dict[str, Any], models: ModelSet | None, _: Settings) -> None:
    """TEI's ``inputs``: its token ids are below every served embedding model's vocabulary
    size (the route's model checks its own; an id past it is a 422)."""
    if models is None or not models.by_head:
        return
    size = min(backend.vocab_size for backend in models.by_head.values())
    properties = schema["properties"]
    properties["inputs"] = _bound_ids(properties["inputs"], size - 1)


def _bound_ids(node: Any, maximum: int) -> Any:
    """A copy of ``node`` whose integer schemas (the token ids) have ``maximum``."""
    if isinstance(node, list):
        return [_bound_ids(item, maximum) for item in node]
    if not isinstance(node, dict):
        return node
    bounded = {key: _bound_ids(value, maximum) for key, value in node.items()}
    if node.get("type") == "integer":
        bounded["maximum"] = maximum
    return bounded


def _lone_texts(schema: dict[str, Any], models: ModelSet | None, _: Settings) -> None:
    """``/predict``: a lone text only where the served reranker scores one."""
    reranker = models.reranker if models is not None else None
    if reranker is not None:
        schema["properties"]["inputs"] = predict_inputs(reranker.scores_lone_texts)


def _texts_or_inputs(schema: dict[str, Any], _: ModelSet | None, __: Settings) -> None:
    """Cohere's embed body: ``texts`` or ``inputs``, exactly one; ``images`` never."""
    schema["oneOf"] = [
        {"required": ["texts"], "not": {"required": ["inputs"]}},
        {"required": ["inputs"], "not": {"required": ["texts"]}},
    ]
    schema["properties"]["images"] = {"not": {}, "description": "This server embeds text"}


def _describe_tags(schema: dict[str, Any]) -> None:
    """A tagged struct's tag field (Cohere's content ``type``), which msgspec writes as a bare
    one-value enum: say that it takes that one value."""
    for prop in schema.get("properties", {}).values():
        values = prop.get("enum")
        if isinstance(values, list) and len(values) == 1 and "description" not in prop:
            prop["description"] = f"Always {values[0]!r}"


def _model_names(role: Role, *also: Role) -> Rule:
    """``model``: a name served for another role only is a 400 (``resolve_model``); any name
    not served at all stays valid by the document, as the 404 that it gets is documented.
    ``also``: roles whose models serve this route too (bge-m3, the ColBERT source, reranks)."""

    def rule(schema: dict[str, Any], models: ModelSet | None, settings: Settings) -> None:
        if models is None:
            return
        served = served_models(settings, models)
        roles = {role, *also}
        ours = {name for entry in served if roles & set(entry.roles) for name in entry.names}
        others = sorted({n for entry in served for n in entry.names} - ours)
        for option in schema["properties"]["model"]["anyOf"] if others else ():
            if option.get("type") == "string":
                option["not"] = {"enum": others}

    return rule


#: what depends on the loaded models, by the struct a body is documented as
_MODEL_RULES: dict[type[msgspec.Struct], tuple[Rule, ...]] = {
    EmbeddingRequest: (_vector_types, _colbert_options, chunking_rule),
    OpenAIEmbeddingParams: (_dimensions(), _model_names("dense"), late_chunking_rule),
    TeiEmbedParams: (_dimensions(), _token_ids),
    TeiInputsParams: (_token_ids,),
    TeiTokenizeParams: (_token_ids,),
    TeiPredictParams: (_lone_texts,),
    TeiEmbedAllParams: (_token_ids, _colbert_options),
    CohereEmbedParams: (_dimensions("output_dimension"), _model_names("dense"), _texts_or_inputs),
    CompatRerankRequest: (_model_names("rerank", "colbert"),),
    RerankRequest: (_model_names("rerank", "colbert"),),
}
