"""Response encoding: JSON by default, MessagePack for clients that send
``Accept: application/msgpack`` (the same body, a fraction of the bytes for ColBERT)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Request, Response

MSGPACK = "application/msgpack"
_MSGPACK_TYPES = (MSGPACK, "application/x-msgpack", "application/vnd.msgpack")
_json = msgspec.json.Encoder()
_msgpack = msgspec.msgpack.Encoder()


def wants_msgpack(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return any(t in accept for t in _MSGPACK_TYPES)


def respond(
    request: Request[Any, Any, Any], body: object, headers: dict[str, str] | None = None
) -> Response[bytes]:
    """``body``: a Struct, or lists of them and of numbers (TEI's bodies are bare arrays)."""
    if wants_msgpack(request):
        return Response(content=_msgpack.encode(body), media_type=MSGPACK, headers=headers)
    return Response(content=_json.encode(body), media_type=MediaType.JSON, headers=headers)
