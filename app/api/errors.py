"""Every error leaves as the same JSON body (``ErrorBody``): a status, a message that says
what was wrong and where, never a stack trace. One table maps exceptions to responses."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException

from app.api.accounting import endpoint_for
from app.api.schemas import ErrorBody, ErrorInfo
from app.errors import NotReady, Overloaded, RateLimited, ServiceError, Unauthorized

log = logging.getLogger("smart_embedder.api")

_TYPES_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    503: "overloaded_error",
}


def error_response(
    status: int,
    message: str,
    *,
    error_type: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    body = ErrorBody(
        status_code=status,
        detail=message,
        error=ErrorInfo(
            message=message,
            type=error_type or _TYPES_BY_STATUS.get(status, "server_error"),
            param=param,
            code=status,
        ),
    )
    return Response(
        content=msgspec.json.encode(body),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


#: the refusals SPEC §4 counts per endpoint and reason (each 429 / 503 a client sees)
_REJECTION_REASONS: tuple[tuple[type[ServiceError], str], ...] = (
    (RateLimited, "rate_limit"),
    (Overloaded, "backpressure"),
    (NotReady, "not_ready"),
)


def _service_error(request: Request[Any, Any, Any], exc: ServiceError) -> Response[bytes]:
    headers: dict[str, str] = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    endpoint = endpoint_for(request.scope["path"])
    for error_class, reason in _REJECTION_REASONS:
        if isinstance(exc, error_class) and endpoint is not None:
            request.app.state.runtime.recorder.rejected(endpoint, reason)
            break
    return error_response(
        exc.status_code,
        exc.message,
        error_type=exc.error_type,
        param=exc.param,
        headers=headers or None,
    )


def _validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    message, param = describe_validation(exc)
    return error_response(400, message, param=param)


def describe_validation(exc: ValidationException) -> tuple[str, str | None]:
    """Litestar reports msgspec's decode error in ``extra``; turn it into one clear sentence."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    if extra and isinstance(extra[0], dict):
        first = extra[0]
        text = str(first.get("message", exc.detail))
        key = first.get("key")
        location = None
        if " - at `$" in text:
            text, _, at = text.partition(" - at `$")
            location = at.rstrip("`").lstrip(".")
        param = location or (str(key) if key else None)
        if param:
            return f"invalid request body: {param}: {text}", param
        return f"invalid request body: {text}", None
    return f"invalid request body: {exc.detail}", None


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    headers = dict(exc.headers or {})
    message = str(exc.detail)
    if isinstance(exc.__cause__, SerializationException):
        message = f"invalid request body: not valid JSON ({message})"
    elif exc.status_code == 413:
        limit = request.app.request_max_body_size
        message = f"request body is larger than {limit} bytes (MAX_REQUEST_BODY_BYTES)"
    return error_response(exc.status_code, message, headers=headers or None)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, f"internal error: {type(exc).__name__}")


EXCEPTION_HANDLERS: dict[int | type[Exception], Any] = {
    ServiceError: _service_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}
