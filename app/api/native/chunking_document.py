"""What the OpenAPI document says of ``chunking`` and ``late_chunking``, from the loaded models
(rules of ``app.api.openapi.bodies``), so that a body valid by the document is one the server
accepts:

- a text of ``/embeddings/`` may have MAX_SENTENCE_CHARS characters (MAX_TOTAL_CHARS_PER_REQUEST
  in all), or MAX_DOCUMENT_CHARS (each and in all) with ``chunking`` (``if``/``then``/``else``);
- ``max_tokens`` is at most what the chunking model takes in a chunk, ``overlap_tokens`` one less;
- with ``chunking``, a vector type the chunking model does not give cannot be true, and not all
  of those it gives may be false;
- no model that pools token states: ``chunking`` (and ``late_chunking`` without such a dense
  model) can only be left out.

One rule JSON Schema cannot state: ``overlap_tokens`` below ``max_tokens`` (a 422 says so).
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec

from app.api.common.bounds import MARKER, MAX_TOTAL_CHARS
from app.api.native.chunking import chunker
from app.api.native.chunking_schemas import ChunkingOptions
from app.models.base import Head
from app.models.catalog import ModelSet
from app.models.chunk_passes import chunk_token_limit
from app.settings import Settings

#: what the server reads as false and as true in a boolean field (``app.api.openapi.bodies``)
FALSE: list[object] = [False, 0]
TRUE: list[object] = [True, 1]
_FIELDS = {Head.DENSE: "return_dense", Head.SPARSE: "return_sparse", Head.COLBERT: "return_colbert"}
#: a body that sends a ``chunking`` object
_CHUNKED = {"required": ["chunking"], "properties": {"chunking": {"type": "object"}}}


def _options_schema() -> dict[str, Any]:
    _, components = msgspec.json.schema_components([ChunkingOptions])
    options: dict[str, Any] = components["ChunkingOptions"]
    return options


def chunking_rule(schema: dict[str, Any], models: ModelSet | None, _: Settings) -> None:
    """``EmbeddingRequest``'s ``chunking``, and the bounds of ``sentences`` with and without it."""
    properties = schema["properties"]
    backend = chunker(models) if models is not None else None
    if models is not None and backend is None:
        properties["chunking"] = {
            "type": "null",
            "default": None,
            "description": "No model served here pools its token states: leave it out",
        }
        return
    sentences = properties["sentences"]
    whole_text = sentences["items"].pop(MARKER)
    whole_total = sentences[MARKER].pop(MAX_TOTAL_CHARS)
    chunked: dict[str, Any] = {
        "properties": {
            "sentences": {
                "items": {MARKER: {"maxLength": "max_document_chars"}},
                MARKER: {MAX_TOTAL_CHARS: "max_document_chars"},
            }
        }
    }
    schema["if"] = _CHUNKED
    schema["then"] = chunked
    schema["else"] = {
        "properties": {
            "sentences": {"items": {MARKER: whole_text}, MARKER: {MAX_TOTAL_CHARS: whole_total}}
        }
    }
    if backend is None or models is None:
        return
    limit = min(chunk_token_limit(backend, kind) for kind in ("query", "document"))
    options = copy.deepcopy(_options_schema())
    for option in options["properties"]["max_tokens"]["anyOf"]:
        if option.get("type") == "integer":
            option["maximum"] = limit
    options["properties"]["overlap_tokens"]["maximum"] = limit - 1
    properties["chunking"] = {**properties["chunking"], "anyOf": [options, {"type": "null"}]}
    own = [field for head, field in _FIELDS.items() if models.by_head.get(head) is backend]
    for head, field in _FIELDS.items():
        if models.by_head.get(head) not in (backend, None):
            chunked["properties"][field] = {"not": {"enum": TRUE}}
    chunked["not"] = {"required": own, "properties": {field: {"enum": FALSE} for field in own}}


def late_chunking_rule(schema: dict[str, Any], models: ModelSet | None, _: Settings) -> None:
    """``/v1/embeddings``' ``late_chunking``: only where the dense model pools token states."""
    dense = models.by_head.get(Head.DENSE) if models is not None else None
    if dense is None or dense.pools_spans:
        return
    schema["properties"]["late_chunking"] = {
        "enum": [False],
        "default": False,
        "description": f"{dense.name} has no token states to pool: leave it out",
    }
