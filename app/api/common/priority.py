"""A request's priority class and tenant (``Lane``), as the scheduler queues it.

A request asks for a class with the native bodies' ``priority`` field, else with the
``X-Priority`` header (every route, so that OpenAI, Cohere and TEI clients can mark
themselves without changing their bodies); a request that asks for nothing gets its API key's
``priority`` (API_KEYS_FILE), else ``interactive``. It never gets more than its key's: a key
set to ``batch`` is pinned there. A request that asks for more is served in its key's class,
not refused: pinning a key is the operator's decision, taken after its clients were written,
and a client that sends ``X-Priority: interactive`` everywhere keeps working, in the batch
class. It is told (the ``X-Priority`` response header; a ``priority_lowered`` warning in a
native body), counted (``/stats`` ``priorities.lowered``) and logged once per key.

The tenant is the key's name; every request without a key is one tenant (``anonymous``).
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.types import Message, Scope

from app.api.common.inference import runtime_of
from app.api.common.schemas import ApiWarning, WarningTarget
from app.errors import InvalidInput
from app.scheduler.priorities import (
    DEFAULT_LANE,
    Lane,
    Priority,
    parse_priority,
    rank,
    served_priority,
)
from app.security.apikeys import KEY_PRIORITY_STATE_KEY, key_of

log = logging.getLogger("smart_embedder.api")

PRIORITY_HEADER = "X-Priority"
#: ``scope["state"]`` keys: the lane the request is queued in, and the class it asked for
LANE_STATE_KEY = "smart_embedder.lane"
_ASKED_STATE_KEY = "smart_embedder.priority_asked"
_LOWERED_STATE_KEY = "smart_embedder.priority_lowered"


def header_lane(connection: ASGIConnection[Any, Any, Any, Any]) -> Lane:
    """The request's lane from its ``X-Priority`` header and its API key (before its body is
    read), kept in its scope for the shedding guard, the route and the response header."""
    state = connection.scope.setdefault("state", {})
    header = connection.headers.get(PRIORITY_HEADER)
    asked = None
    if header is not None:
        asked = parse_priority(header)
        if asked is None:
            raise InvalidInput(
                f"{PRIORITY_HEADER} must be interactive or batch, not {header[:40]!r}",
                param=PRIORITY_HEADER,
            )
    lane = Lane(served_priority(asked, state.get(KEY_PRIORITY_STATE_KEY)), key_of(connection.scope))
    state[_ASKED_STATE_KEY] = asked
    state[LANE_STATE_KEY] = lane
    return lane


def request_lane(request: Request[Any, Any, Any], asked: Priority | None = None) -> Lane:
    """The lane the scheduler queues this request in: ``asked`` (a native body's ``priority``)
    wins over the header; neither goes above the API key's class."""
    state = request.scope.setdefault("state", {})
    lane: Lane | None = state.get(LANE_STATE_KEY)
    if lane is None:  # PRIORITIES is off: one class, one tenant
        return DEFAULT_LANE
    if asked is None:
        asked = state.get(_ASKED_STATE_KEY)
    else:
        lane = Lane(served_priority(asked, state.get(KEY_PRIORITY_STATE_KEY)), lane.tenant)
        state[LANE_STATE_KEY] = lane
    if asked is not None and rank(asked) < rank(lane.priority):
        state[_LOWERED_STATE_KEY] = asked
        if runtime_of(request).recorder.priority_lowered(lane.tenant):
            log.warning(
                "API key %r asked for the %s class and is served in %s, its priority in "
                "API_KEYS_FILE (logged once per key)",
                lane.tenant,
                asked,
                lane.priority,
            )
    return lane


def priority_warnings(request: Request[Any, Any, Any], field: str = "priority") -> list[ApiWarning]:
    """A native body's warning when its key held it below the class it asked for."""
    state = request.scope.get("state", {})
    asked = state.get(_LOWERED_STATE_KEY)
    if asked is None:
        return []
    lane: Lane = state[LANE_STATE_KEY]
    return [
        ApiWarning(
            code="priority_lowered",
            message=f"the request asked for the {asked} class; API key {lane.tenant!r} is "
            f"pinned to {lane.priority} (its priority in API_KEYS_FILE), so it was served "
            f"as {lane.priority}",
            target=WarningTarget(field=field, pointer=f"/{field}"),
        )
    ]


def announce_priority(scope: Scope, message: Message) -> None:
    """Say on the response which class served the request (``X-Priority``), where one did."""
    lane = scope.get("state", {}).get(LANE_STATE_KEY)
    if lane is not None and message["type"] == "http.response.start":
        message["headers"] = [
            *message.get("headers", ()),
            (b"x-priority", lane.priority.encode()),
        ]
