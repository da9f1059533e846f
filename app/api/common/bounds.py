"""Bounds whose values are settings (``MAX_SENTENCES_PER_REQUEST``...), declared on the request
structs' fields and resolved in the OpenAPI document to the values this server runs with.

msgspec cannot check these bounds itself: they are operator settings, and over them is a 422
(SPEC §4) where msgspec's own checks are a 400; the handlers check them (``check_texts``). So
``bounded`` only leaves a marker in msgspec's JSON Schema of the field, and ``resolve`` turns
each marker into JSON Schema keywords with the configured values.

TEI's routes answer a request over one of these bounds with TEI's 413 (``app.api.tei.errors``),
as a size limit, not as a body that does not fit the schema. Their bodies state the bounds as
extension keywords (``x-max-items``, ``x-max-length``), as the total is: a request validator
that reads the document (a gateway, a client library, Schemathesis) then leaves the limit to
the server and its 413, the answer TEI's clients expect, instead of refusing the request as
schema-invalid with an answer of its own.
"""

from __future__ import annotations

from typing import Any

from msgspec import Meta

from app.settings import Settings

#: the marker's key in msgspec's JSON Schema; never left in a served document
MARKER = "x-bounded-by-settings"
#: JSON Schema can bound each text but not their sum, so the total is an extension keyword
MAX_TOTAL_CHARS = "x-max-total-chars"
_KEYWORDS = {"max_items": "maxItems", "max_length": "maxLength", "max_total_chars": MAX_TOTAL_CHARS}
#: each bound's keyword where it is a size limit (over it: a 413)
SIZE_LIMITS = {"maxItems": "x-max-items", "maxLength": "x-max-length"}


def bounded(
    *,
    max_items: str | None = None,
    max_length: str | None = None,
    max_total_chars: str | None = None,
) -> Meta:
    """A field bounded by these settings (field names of ``Settings``): the most items of a
    list, characters of a text, or characters of a list's texts in all."""
    names = {"max_items": max_items, "max_length": max_length, "max_total_chars": max_total_chars}
    marker: dict[str, str] = {}
    for bound, setting in names.items():
        if setting is None:
            continue
        if setting not in Settings.__struct_fields__:
            raise ValueError(f"{bound}={setting!r} names no setting")
        marker[_KEYWORDS[bound]] = setting
    return Meta(extra_json_schema={MARKER: marker})


def resolve(schema: Any, settings: Settings, *, size_limits: bool = False) -> Any:
    """A copy of ``schema`` (msgspec's JSON Schema) with every marker replaced by its keywords,
    valued from ``settings``; with ``size_limits``, by their extension keywords
    (``SIZE_LIMITS``)."""
    if isinstance(schema, list):
        return [resolve(item, settings, size_limits=size_limits) for item in schema]
    if not isinstance(schema, dict):
        return schema
    resolved = {
        key: resolve(value, settings, size_limits=size_limits)
        for key, value in schema.items()
        if key != MARKER
    }
    for keyword, setting in schema.get(MARKER, {}).items():
        named = SIZE_LIMITS.get(keyword, keyword) if size_limits else keyword
        resolved[named] = getattr(settings, setting)
    return resolved
