"""uvicorn's server, with SIGTERM draining in place of closing the port (SPEC §5).

uvicorn stops listening on the first SIGTERM, so ``/readyz`` could never say 503 and new
requests would be refused at the TCP level. Here the first SIGTERM (or SIGINT) only starts the
runtime's drain: ``/readyz`` turns 503 at once, new inference requests get 503, admitted ones
finish (up to SHUTDOWN_DRAIN_SECONDS); then uvicorn's normal shutdown runs. A second signal
stops at once. The signal is not re-raised afterwards (uvicorn does that by default), so a
drained server exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from types import FrameType

import uvicorn

from app.runtime import Runtime

log = logging.getLogger("smart_embedder.server")


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
        if self._draining or self._loop is None:
            log.warning("signal %d: stopping now", sig)
            self.should_exit = True
            self.force_exit = self._draining
            return
        self._draining = True
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
