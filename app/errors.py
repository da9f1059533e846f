"""Domain errors. Each one knows its HTTP status; the API layer turns them into JSON bodies.

Nothing here imports the web framework, so the scheduler and model backends can raise them.
"""

from __future__ import annotations


class ServiceError(Exception):
    status_code: int = 500
    error_type: str = "server_error"
    #: the ``reason`` a refusal of this kind is counted under per API key (None: not a refusal)
    rejection_reason: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.retry_after = retry_after


class InvalidInput(ServiceError):
    """The request is well-formed but asks for something impossible (empty list, bad option)."""

    status_code = 400
    error_type = "invalid_request_error"


class LimitExceeded(ServiceError):
    """A count or size limit of SPEC §4 was exceeded."""

    status_code = 422
    error_type = "invalid_request_error"


class UnprocessableInput(ServiceError):
    """Options the served model cannot honour (``chunking`` on a model that has no token
    states to pool, a chunk size over its limit); the message names the field."""

    status_code = 422
    error_type = "invalid_request_error"


class InputTooLong(ServiceError):
    """A text (or pair) is longer than the model takes and the request said not to truncate.

    Only TEI's routes ask for that (``truncate: false``); TEI answers 413."""

    status_code = 413
    error_type = "invalid_request_error"

    def __init__(self, message: str, *, max_tokens: int, tokens: int, index: int) -> None:
        super().__init__(message)
        self.max_tokens = max_tokens
        self.tokens = tokens
        #: which text (or pair) of the request, counted from 0
        self.index = index


class Unauthorized(ServiceError):
    status_code = 401
    error_type = "authentication_error"
    rejection_reason = "unauthenticated"


class Forbidden(ServiceError):
    """The API key is valid but may not call this route (its ``routes`` in API_KEYS_FILE)."""

    status_code = 403
    error_type = "permission_error"
    rejection_reason = "route_not_allowed"


class RateLimited(ServiceError):
    status_code = 429
    error_type = "rate_limit_error"
    rejection_reason = "rate_limit"


class ConcurrencyLimited(RateLimited):
    """An API key already has its ``max_concurrent`` requests in flight."""

    rejection_reason = "max_concurrent"


class Overloaded(ServiceError):
    """The queue is full, or the server is draining: come back later."""

    status_code = 503
    error_type = "overloaded_error"
    rejection_reason = "backpressure"


class NotReady(ServiceError):
    status_code = 503
    error_type = "not_ready_error"
    rejection_reason = "not_ready"


class EngineStopped(ServiceError):
    """The inference engine died or stopped: nothing can run until the pod is replaced."""

    status_code = 503
    error_type = "engine_error"


class RequestTimeout(ServiceError):
    status_code = 504
    error_type = "timeout_error"


class InferenceFailed(ServiceError):
    """The forward pass of this request's batch raised; other batches are unaffected."""

    status_code = 500
    error_type = "inference_error"


class ItemTooLarge(ServiceError):
    """One text (or pair) of the request needs more device memory than the device has free,
    even in a batch of its own; the other requests of its batch are answered."""

    status_code = 507
    error_type = "device_memory_error"


class ModelLoadError(Exception):
    """A configured model is missing or unsupported; the message is one line for the operator."""
