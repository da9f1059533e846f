"""uvicorn's server, with SIGTERM draining in place of closing the port (SPEC §5).

uvicorn stops listening on the first SIGTERM, so ``/readyz`` could never say 503 and new
requests would be refused at the TCP level. Here the first SIGTERM (or SIGINT) only starts the
runtime's drain: ``/readyz`` turns 503 at once, new inference requests get 503, admitted ones
finish (up to SHUTDOWN_DRAIN_SECONDS); then uvicorn's normal shutdown runs. A second signal
stops the process at once with exit code 1. The signal is not re-raised afterwards (uvicorn
does that by default), so a drained server exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from types import FrameType
from typing import Any

import uvicorn

from app.runtime import Runtime
from app.settings import Settings

log = logging.getLogger("smart_embedder.server")
EXIT_FORCED = 1


def uvicorn_config(settings: Settings, app: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
        timeout_graceful_shutdown=int(settings.shutdown_drain_seconds) + 5,
        lifespan="on",
        log_config=None,  # app.telemetry.logging formats every logger
        # X-Forwarded-For is believed only from TRUSTED_PROXIES, by the app (app.api.guards.layer);
        # uvicorn's default would trust it from loopback.
        proxy_headers=False,
    )


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, runtime: Runtime) -> None:
        super().__init__(config)
        self.runtime = runtime
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining = False

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining:
            # uvicorn's own forced exit cancels every open request and the lifespan, and each
            # cancellation logs a traceback; a second signal means "now", so go now.
            log.warning("signal %d: stopping now; admitted requests are cut", sig)
            logging.shutdown()
            os._exit(EXIT_FORCED)
        if self._loop is None:
            log.warning("signal %d: stopping before start-up finished", sig)
            self.should_exit = True
            return
        self._draining = True
        if self.runtime.phase == "failed":
            # The SIGTERM is our own (``on_fatal``): blaming a signal would read as if someone
            # had killed the server, while the critical line above says what went wrong.
            log.info("shutting down after the failure above")
        else:
            log.info("signal %d: draining before exit", sig)
        self.runtime.begin_draining()  # a plain attribute write: safe in a signal handler
        # The handler runs between two bytecodes of the loop's thread; hand the rest to the
        # loop through its thread-safe door.
        self._loop.call_soon_threadsafe(self._start_drain)

    def _start_drain(self) -> None:
        task = asyncio.ensure_future(self.runtime.drain())
        task.add_done_callback(self._drained)

    def _drained(self, _: asyncio.Future[bool]) -> None:
        self.should_exit = True
