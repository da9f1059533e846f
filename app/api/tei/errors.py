"""TEI's error body, ``{error, error_type}``, with TEI's status codes, on TEI's routes.

``app.api.common.errors`` builds every error response; for a request that speaks TEI (a route of
this package, or TEI's body on ``/rerank``) it hands the error here instead. The statuses are
TEI's (``router/src/http/server.rs``, ``From<&ErrorType> for StatusCode``): an empty batch is
400 ``Empty``; a batch over the size limit, or a text over the token limit with
``truncate: false``, 413 ``Validation``; a body that does not fit the schema 422; no model for
the route, or a failed forward pass, 424 ``Backend``; a full queue 429 ``Overloaded``; a server
that cannot serve 503 ``Unhealthy``. The message is ours (which field, which limit), in TEI's
words where TEI has them (an empty batch, a batch too large, a text too long).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import ValidationException
from litestar.openapi.datastructures import ResponseSpec

from app.api.common.errors import ERROR_DIALECT
from app.api.tei.schemas import TeiErrorBody, TeiErrorType
from app.errors import (
    EngineStopped,
    Forbidden,
    InferenceFailed,
    InputTooLong,
    InvalidInput,
    LimitExceeded,
    NotReady,
    Overloaded,
    RateLimited,
    RequestTimeout,
    ServiceError,
    Unauthorized,
)


class EmptyBatch(InvalidInput):
    """TEI's ``Empty``: a list of inputs with nothing in it."""


class NotServed(ServiceError):
    """No served model can do what this route does (TEI: the model is not of that type)."""

    status_code = 424
    error_type = "invalid_request_error"


#: (exception class, TEI status, TEI error type), first match wins
_BY_CLASS: tuple[tuple[type[BaseException], int, TeiErrorType], ...] = (
    (EmptyBatch, 400, "Empty"),
    (InputTooLong, 413, "Validation"),
    (LimitExceeded, 413, "Validation"),
    (InvalidInput, 422, "Validation"),
    (ValidationException, 422, "Validation"),
    (NotServed, 424, "Backend"),
    (InferenceFailed, 424, "Backend"),
    (RateLimited, 429, "Overloaded"),
    (Overloaded, 429, "Overloaded"),
    (NotReady, 503, "Unhealthy"),
    (EngineStopped, 503, "Unhealthy"),
    (Unauthorized, 401, "Unauthorized"),
    (Forbidden, 403, "Unauthorized"),
    (RequestTimeout, 504, "Backend"),
)


def tei_status(status: int, exc: BaseException) -> tuple[int, TeiErrorType]:
    """TEI's status and error type for an error that our own API answers with ``status``."""
    for error_class, tei, error_type in _BY_CLASS:
        if isinstance(exc, error_class):
            return tei, error_type
    if status < 500:
        return status, "Validation"  # not JSON, too large, wrong Content-Type, wrong method
    return status, "Backend"


def tei_message(message: str, exc: BaseException) -> str:
    """TEI's wording where a client may match it (its token-limit error), else ours."""
    if isinstance(exc, InputTooLong):
        return (
            f"Input validation error: `inputs` must have less than {exc.max_tokens} tokens. "
            f"Given: {exc.tokens} ({message}; send truncate: true to cut it)"
        )
    return message


def tei_error_response(
    status: int, message: str, exc: BaseException, headers: dict[str, str] | None
) -> Response[bytes]:
    tei, error_type = tei_status(status, exc)
    body = TeiErrorBody(error=tei_message(message, exc), error_type=error_type)
    return Response(
        content=msgspec.json.encode(body),
        status_code=tei,
        media_type=MediaType.JSON,
        headers=headers,
    )


_DESCRIPTIONS = {
    400: "Empty (an empty list of inputs), or the body is not JSON",
    401: "Missing or wrong bearer token (only when API_TOKEN or API_KEYS_FILE is set)",
    403: "The API key may not call this route (its `routes` in API_KEYS_FILE)",
    413: "Validation: over a count or size limit (MAX_SENTENCES_PER_REQUEST...), a body over "
    "MAX_REQUEST_BODY_BYTES, or a text over the model's token limit with truncate: false",
    415: "The body is not sent as JSON (Content-Type: application/json)",
    422: "Validation: a field has a wrong type or value; names the field",
    424: "Backend: no served model does this, or the forward pass failed",
    429: "Overloaded: queue full or rate limit exceeded; see Retry-After",
    503: "Unhealthy: models still loading, or shutting down; see Retry-After",
    504: "Backend: the request did not finish within REQUEST_TIMEOUT",
}


def tei_error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI ``responses`` for these statuses, each documented as TEI's error body."""
    return {
        status: ResponseSpec(
            data_container=TeiErrorBody,
            description=_DESCRIPTIONS[status],
            generate_examples=False,
        )
        for status in statuses
    }


#: the errors a TEI inference route can answer with
TEI_ERRORS = tei_error_responses(400, 401, 403, 413, 415, 422, 424, 429, 503, 504)
#: those of a route that runs no model (``/tokenize``, ``/decode``)
TEI_METADATA_ERRORS = tei_error_responses(400, 401, 403, 413, 415, 422, 424, 429, 503)


def either_error_responses(native: dict[int, ResponseSpec]) -> dict[int, ResponseSpec]:
    """The errors of a path that takes our body or TEI's (``/rerank``): each status in the
    shape of the body that was sent. A refusal before the body is read (401, 415, 429, a full
    queue's 503) is always in ours, as which body it is cannot be known yet."""
    merged: dict[int, ResponseSpec] = {}
    for status in sorted({*native, *TEI_ERRORS}):
        ours, theirs = native.get(status), TEI_ERRORS.get(status)
        if ours is not None and theirs is not None:
            either: Any = ours.data_container | TeiErrorBody
            merged[status] = ResponseSpec(
                data_container=either,
                description=f"{ours.description}. With TEI's body: {theirs.description}",
                generate_examples=False,
            )
        else:
            merged[status] = ours or theirs  # type: ignore[assignment]
    return merged


#: the ``opt`` of every TEI route: its errors take TEI's shape
TEI_OPT: dict[str, Any] = {ERROR_DIALECT: tei_error_response}


def mark_tei(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """This request's body turned out to be TEI's (on ``/rerank``): so are its errors."""
    connection.scope.setdefault("state", {})[ERROR_DIALECT] = tei_error_response
