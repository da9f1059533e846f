"""Counts every inference request once, with the status its client got (SPEC §4, §6).

An app-level middleware: it wraps the route's guards (auth, rate limit), body parsing and the
handler, and Litestar turns their exceptions into responses inside it, so the status seen on
``http.response.start`` is the one the client got: 200, 400, 401, 413, 429, 503 alike. Each
request is counted under the name of its API key too (the gate names it in the scope).
"""

from __future__ import annotations

import time

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.api.common.priority import announce_priority
from app.paths import endpoint_for, endpoint_of
from app.security.apikeys import key_of
from app.telemetry.recorder import Recorder


class RequestAccounting:
    def __init__(self, app: ASGIApp, recorder: Recorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = endpoint_for(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app raises before answering, the server sends a 500

        async def watch_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                announce_priority(scope, message)
            await send(message)

        self.recorder.request_started(endpoint)
        try:
            await self.app(scope, receive, watch_status)
        finally:
            # a handler may have named what the request turned out to be (TEI's /rerank body)
            self.recorder.request_finished(
                endpoint_of(scope) or endpoint,
                status,
                time.perf_counter() - started,
                started_as=endpoint,
                key=key_of(scope),
            )
