"""What every inference route does the same way: check texts against the limits, await the
scheduler while watching for a client that left or a timeout, and build truncation warnings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any, NamedTuple, TypeVar

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from app.api.common.schemas import ApiWarning, TruncationDetails, WarningTarget
from app.errors import InvalidInput, LimitExceeded, RequestTimeout, ServiceError
from app.models.base import EmbeddingBackend, TokenizedPair, TokenizedText
from app.paths import endpoint_for
from app.runtime import Runtime
from app.settings import Settings

T = TypeVar("T")


class ClientGone(Exception):
    """The client disconnected; nobody is left to answer."""


class UnsupportedMediaType(ServiceError):
    status_code = 415
    error_type = "invalid_request_error"


#: Content-Types whose body is read as JSON. Besides JSON itself: none at all (httpx, requests
#: with ``data=``), ``text/plain`` (Postman's "raw" default, fetch with a string body) and
#: ``application/x-www-form-urlencoded``, which ``curl -d`` sends unless told otherwise; a
#: body in them that is not JSON gets a 400 that says to send JSON. Anything else (multipart
#: forms, MessagePack, XML...) is a 415 that names the expected type.
JSON_READABLE_TYPES = frozenset(
    {"", "application/json", "text/plain", "application/x-www-form-urlencoded"}
)


async def json_body(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Refuse, before reading it, an inference request body that says it is not JSON."""
    # a GET (/v1/models, /info) has no body to refuse
    scope = connection.scope
    if scope.get("method") in ("GET", "HEAD") or endpoint_for(scope["path"]) is None:
        return
    header = connection.headers.get("content-type", "")
    media_type = header.partition(";")[0].strip().lower()
    if media_type in JSON_READABLE_TYPES or media_type.endswith("+json"):
        return
    raise UnsupportedMediaType(
        f"Content-Type {media_type} is not supported: send the body as JSON, "
        "with Content-Type: application/json",
        param="Content-Type",
    )


def prompt_tokens(tokenized: Sequence[tuple[EmbeddingBackend, Sequence[TokenizedText]]]) -> int:
    """Tokens the model actually ran on (special tokens included, after truncation)."""
    return sum(len(text.ids) for _, texts in tokenized for text in texts)


def pair_tokens(pairs: Sequence[TokenizedPair]) -> int:
    """Tokens of the (query, passage) pairs the reranker ran on, after truncation."""
    return sum(len(pair.ids) for pair in pairs)


def runtime_of(request: Request[Any, Any, Any]) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


class TextLimits(NamedTuple):
    """The bounds of a list of texts, each with the name of the setting that sets it (a
    message says which one an operator would raise)."""

    items: int
    chars: int
    total_chars: int
    items_setting: str
    chars_setting: str
    total_chars_setting: str


def embed_limits(settings: Settings) -> TextLimits:
    """The bounds of texts to embed."""
    return TextLimits(
        settings.max_sentences_per_request,
        settings.max_sentence_chars,
        settings.max_total_chars_per_request,
        "MAX_SENTENCES_PER_REQUEST",
        "MAX_SENTENCE_CHARS",
        "MAX_TOTAL_CHARS_PER_REQUEST",
    )


def rerank_limits(settings: Settings) -> TextLimits:
    """The bounds of rerank queries and passages."""
    return TextLimits(
        settings.max_rerank_passages,
        settings.max_rerank_text_chars,
        settings.max_rerank_total_chars,
        "MAX_RERANK_PASSAGES",
        "MAX_RERANK_TEXT_CHARS",
        "MAX_RERANK_TOTAL_CHARS",
    )


def check_texts(texts: Sequence[str], field: str, limits: TextLimits) -> None:
    """Empty → 400; over a count or size limit → 422; each message names the field, and the
    setting that sets the limit (so that an operator knows what to raise)."""
    if not texts:
        raise InvalidInput(f"{field} must contain at least one text", param=field)
    if len(texts) > limits.items:
        raise LimitExceeded(
            f"{field} has {len(texts)} items; at most {limits.items} are allowed "
            f"({limits.items_setting})",
            param=field,
        )
    total = 0
    for i, text in enumerate(texts):
        check_text(text, f"{field}[{i}]", limits)
        total += len(text)
    if total > limits.total_chars:
        raise LimitExceeded(
            f"{field} has {total} characters in all; at most {limits.total_chars} are allowed "
            f"({limits.total_chars_setting})",
            param=field,
        )


def check_text(text: str, field: str, limits: TextLimits) -> None:
    """One text against ``limits``' per-text bound."""
    if not text or not text.strip():
        raise InvalidInput(f"{field} is empty", param=field)
    if len(text) > limits.chars:
        raise LimitExceeded(
            f"{field} exceeds {limits.chars} characters ({limits.chars_setting})", param=field
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            f"{field} is not valid Unicode (it contains a lone surrogate)", param=field
        ) from None


async def await_or_abandon(
    request: Request[Any, Any, Any], work: Awaitable[T], timeout: float
) -> T:
    """Await ``work`` in this task; cancel it (so its queued items never run) if the client
    disconnects or ``timeout`` passes first.

    One watcher task and one timer per request, and ``work`` runs in the caller's task: a
    second task and ``asyncio.wait`` per request cost more than the rest of the hot path."""
    task = asyncio.current_task()
    assert task is not None
    interrupted: list[type[Exception]] = []

    def interrupt(why: type[Exception]) -> None:
        if not interrupted:
            interrupted.append(why)
            task.cancel()

    watcher = asyncio.ensure_future(_disconnected(request))
    watcher.add_done_callback(lambda w: None if w.cancelled() else interrupt(ClientGone))
    timer = asyncio.get_running_loop().call_later(timeout, interrupt, RequestTimeout)
    try:
        return await work
    except asyncio.CancelledError:
        if not interrupted:
            raise  # cancelled from outside (the server is stopping): not ours to turn
        if hasattr(task, "uncancel"):
            task.uncancel()
        if interrupted[0] is ClientGone:
            raise ClientGone from None
        raise RequestTimeout(f"the request did not finish within {timeout:g}s") from None
    finally:
        timer.cancel()
        watcher.cancel()


async def _disconnected(request: Request[Any, Any, Any]) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


def input_warnings(
    tokenized: Sequence[tuple[EmbeddingBackend, Sequence[TokenizedText]]],
    field: str,
) -> list[ApiWarning]:
    warnings: list[ApiWarning] = []
    for backend, texts in tokenized:
        for i, text in enumerate(texts):
            if text.truncated:
                cut = text.original_tokens - len(text.ids)
                warnings.append(
                    ApiWarning(
                        code="input_truncated",
                        message=(
                            f"{field}[{i}] has {text.original_tokens} tokens; {backend.name} "
                            f"takes {backend.max_length}, so the last {cut} were dropped"
                        ),
                        target=WarningTarget(field=field, index=i, pointer=f"/{field}/{i}"),
                        details=TruncationDetails(
                            model=backend.name,
                            max_tokens=backend.max_length,
                            original_tokens=text.original_tokens,
                            truncated_tokens=cut,
                            truncation_side=backend.truncation_side,
                        ),
                    )
                )
    return warnings


def pair_warnings(
    pairs: Sequence[TokenizedPair],
    *,
    model: str,
    max_tokens: int,
    query_field: str,
    passage_field: str,
) -> list[ApiWarning]:
    warnings: list[ApiWarning] = []
    query_cut = max(
        (p for p in pairs if p.query_kept < p.query_tokens),
        key=lambda p: p.query_tokens - p.query_kept,
        default=None,
    )
    if query_cut is not None:
        cut = query_cut.query_tokens - query_cut.query_kept
        warnings.append(
            ApiWarning(
                code="query_truncated",
                message=(
                    f"{query_field} has {query_cut.query_tokens} tokens; to fit {model}'s "
                    f"{max_tokens}-token pairs up to {cut} were dropped from its end"
                ),
                target=WarningTarget(field=query_field, pointer=f"/{query_field}"),
                details=TruncationDetails(
                    model=model,
                    max_tokens=max_tokens,
                    original_tokens=query_cut.query_tokens,
                    truncated_tokens=cut,
                    truncation_side="right",
                ),
            )
        )
    for i, pair in enumerate(pairs):
        if pair.passage_kept < pair.passage_tokens:
            cut = pair.passage_tokens - pair.passage_kept
            warnings.append(
                ApiWarning(
                    code="passage_truncated",
                    message=(
                        f"{passage_field}[{i}] has {pair.passage_tokens} tokens; the last {cut} "
                        f"were dropped to fit {model}'s {max_tokens}-token pairs"
                    ),
                    target=WarningTarget(
                        field=passage_field, index=i, pointer=f"/{passage_field}/{i}"
                    ),
                    details=TruncationDetails(
                        model=model,
                        max_tokens=max_tokens,
                        original_tokens=pair.passage_tokens,
                        truncated_tokens=cut,
                        truncation_side="right",
                    ),
                )
            )
    return warnings
