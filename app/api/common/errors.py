"""Every error leaves as the same JSON body (``ErrorBody``): a status, a message that says
what was wrong and where, never a stack trace. One table maps exceptions to responses."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin

import msgspec
from litestar import MediaType, Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from app.api.common.inference import ClientGone
from app.api.common.schemas import NOT_BLANK, ErrorBody, ErrorInfo
from app.errors import NotReady, Overloaded, RateLimited, ServiceError, Unauthorized
from app.paths import endpoint_of
from app.security.apikeys import key_of

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
    499: "client_closed_request",
    503: "overloaded_error",
}

#: what the OpenAPI document says each error status means
_ERROR_DESCRIPTIONS = {
    400: "Malformed JSON, a wrong type, an empty text or an impossible option; names the field",
    401: "Missing or wrong bearer token (only when API_TOKEN or API_KEYS_FILE is set)",
    403: "The API key may not call this route (its `routes` in API_KEYS_FILE)",
    404: "The model named is not served here",
    413: "The request body is larger than MAX_REQUEST_BODY_BYTES",
    415: "The body is not sent as JSON (Content-Type: application/json)",
    422: "Over a count or size limit (MAX_SENTENCES_PER_REQUEST etc.), or chunking options the "
    "model cannot honour; names the field",
    429: "Rate limit, or the API key's max_concurrent, exceeded; see Retry-After",
    500: "The forward pass of this request's batch failed",
    503: "Queue full, models still loading, or shutting down; see Retry-After",
    504: "The request did not finish within REQUEST_TIMEOUT",
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI ``responses`` for these error statuses, each documented as ``ErrorBody``."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody,
            description=_ERROR_DESCRIPTIONS[status],
            generate_examples=False,
        )
        for status in statuses
    }


#: the errors every inference route can answer with (the ecosystem routes add 404, for a
#: ``model`` not served here)
INFERENCE_ERRORS = error_responses(400, 401, 403, 413, 415, 422, 429, 500, 503, 504)


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


#: renders an error in an API family's own shape: (status, message, exception, headers)
ErrorDialect = Callable[[int, str, BaseException, dict[str, str] | None], Response[bytes]]
#: the route-handler ``opt`` key, and the ``scope["state"]`` key, that hold the ``ErrorDialect``
#: of a route (or of a request whose body turned out to be another family's) whose errors do
#: not take the native shape; a family sets it, so this core never imports a family
ERROR_DIALECT = "error_dialect"


def error_dialect(connection: ASGIConnection[Any, Any, Any, Any]) -> ErrorDialect | None:
    """How this request's errors are shaped, when not the native way."""
    scope = connection.scope
    handler = scope.get("route_handler")
    if handler is not None and (dialect := handler.opt.get(ERROR_DIALECT)) is not None:
        return dialect
    return scope.get("state", {}).get(ERROR_DIALECT)


def _respond(
    request: Request[Any, Any, Any],
    exc: BaseException,
    status: int,
    message: str,
    *,
    error_type: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    """The error in the shape the request's route speaks: ours, or its family's own dialect
    (TEI's on TEI's routes)."""
    dialect = error_dialect(request)
    if dialect is not None:
        return dialect(status, message, exc, headers)
    return error_response(status, message, error_type=error_type, param=param, headers=headers)


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
    endpoint = endpoint_of(request.scope)
    recorder = request.app.state.runtime.recorder
    for error_class, reason in _REJECTION_REASONS:
        if isinstance(exc, error_class) and endpoint is not None:
            recorder.rejected(endpoint, reason)
            break
    if exc.rejection_reason is not None and endpoint is not None:
        recorder.key_rejected(key_of(request.scope), exc.rejection_reason)
    return _respond(
        request,
        exc,
        exc.status_code,
        exc.message,
        error_type=exc.error_type,
        param=exc.param,
        headers=headers or None,
    )


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    if _missing_body(request, exc):
        return _respond(
            request, exc, 400, "invalid request body: expected a JSON object, got nothing"
        )
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    message, param = describe_validation(exc, data.annotation if data is not None else None)
    return _respond(request, exc, 400, message, param=param)


def _missing_body(request: Request[Any, Any, Any], exc: ValidationException) -> bool:
    """An empty body, or a literal ``null``: Litestar reports the handler's ``data`` missing."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    if not extra or not isinstance(extra[0], dict) or extra[0].get("key") != "data":
        return False
    return _cached_body(request).strip() in (b"", b"null")


_MISSING_FIELD = re.compile(r"Object missing required field `(.+)`")
#: msgspec's words for the texts' own bounds (``schemas._TEXT``, non-empty lists), said as the
#: handlers said them before msgspec checked them: clients match these messages
_TEXT_BOUNDS = {
    "Expected `array` of length >= 1": "{field} must contain at least one text",
    "Expected `str` of length >= 1": "{field} is empty",
    f"Expected `str` matching regex {NOT_BLANK!r}": "{field} is empty",
}


def describe_validation(exc: ValidationException, body_type: Any = None) -> tuple[str, str | None]:
    """Litestar reports msgspec's decode error in ``extra``; turn it into one clear sentence
    that names the field (``sentences[3]``, ``documents[0].text``). ``body_type``, the
    request Struct, lets an unknown enum value list the known ones."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    if extra and isinstance(extra[0], dict):
        first = extra[0]
        text = str(first.get("message", exc.detail))
        key = first.get("key")
        location = None
        if " - at `$" in text:
            text, _, at = text.partition(" - at `$")
            location = at.rstrip("`").lstrip(".")
        # Litestar names the whole body after the handler's ``data`` argument
        param = location or (str(key) if key and key != "data" else None)
        if param and text in _TEXT_BOUNDS:
            return _TEXT_BOUNDS[text].format(field=param), param
        if missing := _MISSING_FIELD.fullmatch(text):
            # param stays the object that lacks the field (``documents[1]``), or the field
            field = f"{param}.{missing[1]}" if param else missing[1]
            return f"invalid request body: {field} is required", param or field
        if text.startswith("Invalid enum value") and param:
            allowed = _literal_values(body_type, param)
            if allowed:
                text += f"; expected one of {', '.join(map(repr, allowed))}"
        if param:
            return f"invalid request body: {param}: {text}", param
        return f"invalid request body: {text}", None
    return f"invalid request body: {exc.detail}", None


def _literal_values(body_type: Any, field: str) -> list[Any]:
    """The values a top-level ``Literal[...]`` (or ``Literal[...] | None``) field allows."""
    if not (isinstance(body_type, type) and issubclass(body_type, msgspec.Struct)):
        return []
    for info in msgspec.structs.fields(body_type):
        if info.encode_name == field:
            options = (info.type,) if get_origin(info.type) is Literal else get_args(info.type)
            return [
                v for option in options if get_origin(option) is Literal for v in get_args(option)
            ]
    return []


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    headers = dict(exc.headers or {})
    message = str(exc.detail)
    param = None
    if isinstance(exc.__cause__, SerializationException):
        message, param = describe_bad_json(request, message)
    elif exc.status_code == 413:
        limit = request.app.request_max_body_size
        message = f"request body is larger than {limit} bytes (MAX_REQUEST_BODY_BYTES)"
    return _respond(request, exc, exc.status_code, message, param=param, headers=headers or None)


#: a \uD800-\uDBFF escape not followed by a low one, or a \uDC00-\uDFFF escape not preceded
#: by a high one; ``_surrogate_path`` confirms it (an escaped backslash before "ud800" is none)
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def describe_bad_json(
    request: Request[Any, Any, Any], decoder_message: str
) -> tuple[str, str | None]:
    """The 400 message for a body that msgspec could not decode, and the field if known.

    msgspec reports an escaped lone surrogate (``"\\ud800"``) as "Input data was truncated";
    that case is recognised here and named for what it is."""
    body = _cached_body(request)
    lone = _LONE_SURROGATE.search(body)
    where = _surrogate_path(body) if lone is not None else None
    if lone is not None and where is not None:
        escape = lone.group().decode("ascii")
        subject = f"{where} contains" if where else "the body contains"
        return (
            f"invalid request body: {subject} an invalid escape, a lone UTF-16 surrogate "
            f"('{escape}' without its pair); text must be valid Unicode",
            where or None,
        )
    message = f"invalid request body: not valid JSON ({decoder_message})"
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        message += f"; it was sent as {media_type}: send JSON with Content-Type: application/json"
    return message, None


def _surrogate_path(body: bytes) -> str | None:
    """Where the first string holding a lone surrogate is (``sentences[2]``); "" when the body
    is not JSON even for Python's decoder (so the place is unknown); None when there is none.

    Python's json (unlike msgspec) decodes lone surrogates, so it can find the field; the body
    is already under the size cap, and the walk is iterative."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if not _is_unicode(value):
                return path
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                if not _is_unicode(key):
                    return f"{path}.{key!a}".lstrip(".")
                stack.append((f"{path}.{key}".lstrip("."), item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in reversed(list(enumerate(value))))
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _cached_body(request: Request[Any, Any, Any]) -> bytes:
    """The request body as far as it was read (it is cached in the scope once read)."""
    body = ScopeState.from_scope(request.scope).body
    return body if isinstance(body, bytes) else b""


def _undecodable_body(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[bytes]:
    """Invalid UTF-8 in a JSON body: msgspec raises ``UnicodeDecodeError`` itself, which
    Litestar does not turn into a 400."""
    state = ScopeState.from_scope(request.scope)
    if state.body is Empty or state.json is not Empty:  # not the body parse: a real bug
        return _unexpected(request, exc)
    bad = exc.object[exc.start : exc.start + 1].hex() if isinstance(exc.object, bytes) else "?"
    return _respond(
        request, exc, 400, f"invalid request body: not valid UTF-8 (byte 0x{bad}: {exc.reason})"
    )


def _nested_too_deeply(request: Request[Any, Any, Any], exc: RecursionError) -> Response[bytes]:
    """A body nested deeper than the decoder recurses (``[[[[...]]]]`` a thousand levels):
    msgspec raises ``RecursionError`` itself, which Litestar does not turn into a 400. The
    decoder stops at its limit, so the depth of what was sent costs nothing more."""
    state = ScopeState.from_scope(request.scope)
    decoding = state.body is not Empty and state.json is Empty and state.msgpack is Empty
    if not decoding:  # not the body parse: a real bug
        return _unexpected(request, exc)
    return _respond(
        request,
        exc,
        400,
        "invalid request body: arrays or objects are nested too deeply to decode; "
        "no field of this API nests more than three levels",
    )


def _client_gone(request: Request[Any, Any, Any], exc: ClientGone) -> Response[bytes]:
    """The client disconnected before its answer was ready: nothing to log, nobody to read
    the body. 499 is nginx's "client closed request"; the accounting middleware counts it."""
    return _respond(request, exc, 499, "the client closed the request before the answer was ready")


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _respond(request, exc, 500, f"internal error: {type(exc).__name__}")


EXCEPTION_HANDLERS: dict[int | type[Exception], Any] = {
    ServiceError: _service_error,
    ClientGone: _client_gone,
    UnicodeDecodeError: _undecodable_body,
    RecursionError: _nested_too_deeply,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}
