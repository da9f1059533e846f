"""What TEI's routes share: reading a body that a route decodes itself, TEI's ``inputs``
(a text, one text's token ids, or a list of either), its truncation and prompt options, the
served model a route needs, and TEI's ``x-compute-*`` response headers."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, SerializationException, ValidationException

from app.api.common.errors import describe_validation
from app.api.common.inference import TextLimits, check_text, embed_limits
from app.api.tei.errors import EmptyBatch, NotServed
from app.api.tei.schemas import PromptName, TruncationDirection
from app.errors import InvalidInput, LimitExceeded
from app.models.base import (
    EmbeddingBackend,
    EmbedInput,
    Head,
    InputType,
    TokenIds,
    TruncationSide,
)
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


class TeiInputs(NamedTuple):
    """TEI's ``inputs`` as the model takes them, each with its place in the body."""

    items: list[EmbedInput]
    fields: list[str]  #: ``inputs``, ``inputs[2]``...

    def chars(self) -> int:
        """Characters of the texts, and one for each token id (TEI's ``x-compute-characters``
        counts the texts')."""
        return sum(map(len, self.items))


def inputs_of(
    inputs: str | Sequence[str | int | Sequence[int]], settings: Settings, field: str = "inputs"
) -> TeiInputs:
    """TEI's ``inputs``: a text, one text's token ids, or a list of texts and token-id lists,
    checked against the embedding limits (a token id counts as a character; over a limit:
    TEI's 413). Whether each id is in the model's vocabulary is ``check_vocabulary``'s."""
    limits = embed_limits(settings)
    if isinstance(inputs, str):
        check_text(inputs, field, limits)
        return TeiInputs([inputs], [field])
    if not inputs:
        raise EmptyBatch(f"`{field}` cannot be empty", param=field)
    if all(isinstance(item, int) for item in inputs):  # TEI: one text as its ids
        ids = TokenIds(inputs)  # type: ignore[arg-type]  # every item is an int
        _check_ids(ids, field, limits)
        return TeiInputs([ids], [field])
    check_batch(len(inputs), field, limits)
    items: list[EmbedInput] = []
    fields = [f"{field}[{i}]" for i in range(len(inputs))]
    for item, where in zip(inputs, fields, strict=True):
        if isinstance(item, str):
            check_text(item, where, limits)
            items.append(item)
        elif isinstance(item, int):
            raise InvalidInput(
                f"{where} is a token id among texts: send one text's ids as a list "
                f"([{item}, ...]), and a batch as a list of texts and id lists",
                param=where,
            )
        else:
            ids = TokenIds(item)
            _check_ids(ids, where, limits)
            items.append(ids)
    total = sum(map(len, items))
    if total > limits.total_chars:
        raise LimitExceeded(
            f"{field} has {total} characters and token ids in all; at most "
            f"{limits.total_chars} are allowed ({limits.total_chars_setting})",
            param=field,
        )
    return TeiInputs(items, fields)


def _check_ids(ids: TokenIds, where: str, limits: TextLimits) -> None:
    if not ids:
        raise InvalidInput(f"{where} has no token ids", param=where)
    if len(ids) > limits.chars:
        raise LimitExceeded(
            f"{where} has {len(ids)} token ids; at most {limits.chars} are allowed "
            f"({limits.chars_setting}: a token id counts as a character)",
            param=where,
        )


def check_vocabulary(inputs: TeiInputs, backend: EmbeddingBackend) -> None:
    """Every token id is one of ``backend``'s: an id past its vocabulary is a 422 that names
    it (the model has no vector for it)."""
    size = backend.vocab_size
    for item, where in zip(inputs.items, inputs.fields, strict=True):
        if isinstance(item, str):
            continue
        for j, token in enumerate(item):
            if token >= size:
                raise InvalidInput(
                    f"{where}[{j}] is token id {token}, which {backend.name} does not have: "
                    f"its vocabulary has ids 0..{size - 1}",
                    param=f"{where}[{j}]",
                )


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
