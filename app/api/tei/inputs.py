"""What TEI's routes share: reading a body that a route decodes itself, TEI's ``inputs``
(a text or a list), its truncation and prompt options, the served model a route needs, and
TEI's ``x-compute-*`` response headers."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, SerializationException, ValidationException

from app.api.common.errors import describe_validation
from app.api.common.inference import TextLimits, check_text, check_texts, embed_limits
from app.api.tei.errors import EmptyBatch, NotServed
from app.api.tei.schemas import PromptName, TruncationDirection
from app.errors import InvalidInput, LimitExceeded
from app.models.base import EmbeddingBackend, Head, InputType, TruncationSide
from app.models.catalog import ModelSet
from app.settings import Settings

T = TypeVar("T", bound=msgspec.Struct)


async def body_json(request: Request[Any, Any, Any]) -> Any:
    """The body as JSON values, for a route that decodes it itself; a body that is not JSON
    fails as Litestar's own decoding fails, so it gets the same 400."""
    try:
        return await request.json()
    except SerializationException as exc:
        raise ClientException(str(exc)) from exc


def convert_body(raw: Any, struct: type[T]) -> T:
    """``raw`` read as ``struct``, as leniently as Litestar reads a route's ``data``; a value
    that does not fit is a 422 that names the field, as it is on the routes Litestar decodes."""
    try:
        return msgspec.convert(raw, struct, strict=False)
    except msgspec.ValidationError as exc:
        report = ValidationException(extra=[{"message": str(exc), "key": "data"}])
        message, param = describe_validation(report, struct)
        raise InvalidInput(message, param=param) from None


def texts_of(
    inputs: str | Sequence[str | int | list[int]], settings: Settings, field: str = "inputs"
) -> list[str]:
    """TEI's ``inputs``, a text or a list of them, checked against the embedding limits
    (over them: TEI's 413); token-id inputs are refused with a message that says why."""
    if isinstance(inputs, str):
        check_text(inputs, field, embed_limits(settings))
        return [inputs]
    if not inputs:
        raise EmptyBatch(f"`{field}` cannot be empty", param=field)
    one_sequence = all(isinstance(item, int) for item in inputs)  # TEI: one text as its ids
    for i, item in enumerate(inputs):
        if not isinstance(item, str):
            where = field if one_sequence else f"{field}[{i}]"
            raise InvalidInput(
                f"{where} is token ids; this server embeds text: send a string or a list of "
                "strings",
                param=where,
            )
    texts: list[str] = list(inputs)  # type: ignore[arg-type]  # every item was checked above
    limits = embed_limits(settings)
    check_batch(len(texts), field, limits)
    check_texts(texts, field, limits)
    return texts


def check_batch(count: int, field: str, limits: TextLimits) -> None:
    """TEI's batch-size check, in its words, then the name of the setting that sets it."""
    if count > limits.items:
        raise LimitExceeded(
            f"batch size {count} > maximum allowed batch size {limits.items} "
            f"({limits.items_setting})",
            param=field,
        )


def side_of(direction: TruncationDirection) -> TruncationSide:
    return "left" if direction.lower() == "left" else "right"


def input_type_of(prompt_name: PromptName | None) -> InputType:
    """TEI prepends the model's prompt of that name; this server's models have a query prompt
    (Qwen3-Embedding's instruction) at most, and a sentence-transformers model's document prompt
    is its ``document`` input type."""
    return "query" if prompt_name == "query" else "document"


def truncates(truncate: bool | None) -> bool:
    """TEI's ``truncate`` is optional and falls back to the server's ``auto_truncate``; this
    server cuts over-long texts unless asked not to, as its own routes do."""
    return truncate is not False


def serving(models: ModelSet, head: Head, route: str) -> EmbeddingBackend:
    backend = models.by_head.get(head)
    if backend is None:
        giver = {
            Head.DENSE: "an embedding model",
            Head.SPARSE: "bge-m3 or a SPLADE model",
            Head.COLBERT: "bge-m3",
        }[head]
        raise NotServed(
            f"{route} needs {head.value} vectors and no served model gives them ({giver} does)"
        )
    return backend


def primary_backend(models: ModelSet) -> EmbeddingBackend | None:
    """The model TEI's single-model routes (``/info``, ``/tokenize``, ``/decode``) describe:
    the dense model, else the sparse, else the ColBERT one."""
    for head in (Head.DENSE, Head.SPARSE, Head.COLBERT):
        if head in models.by_head:
            return models.by_head[head]
    return None


def compute_headers(started: float, chars: int, tokens: int) -> dict[str, str]:
    """TEI's response headers that clients and proxies read (``x-compute-*``)."""
    elapsed = str(round((time.perf_counter() - started) * 1000))
    return {
        "x-compute-time": elapsed,
        "x-total-time": elapsed,
        "x-compute-characters": str(chars),
        "x-compute-tokens": str(tokens),
    }
