"""The engine on threads of the calling process: no wire, no second process.

Used where the models are already loaded in this process (tests hand in one ``ModelSet``
for many apps) and with ``ENGINE_PROCESS=false``. The forward passes then share the event
loop's interpreter lock, which is what ``ProcessEngine`` exists to avoid.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Sequence
from typing import Any

from app.engine.base import ALONE, BatchResult, Engine, PassLimits, call_on_loop, settle
from app.engine.passes import run_pass
from app.engine.threads import PassThreads
from app.models.base import EmbeddingBackend, Head, RerankBackend


class InlineEngine(Engine):
    kind = "inline"

    def __init__(
        self,
        backends: Sequence[EmbeddingBackend | RerankBackend],
        *,
        threads: int = 1,
        niceness: int = 0,
        express_thread: bool = False,
        name: str = "inference",
    ) -> None:
        self.backends = list(backends)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._threads = PassThreads(
            name,
            threads=threads,
            niceness=niceness,
            express_thread=express_thread,
            on_fatal=self._report_death,
        )

    @property
    def size(self) -> int:
        return self._threads.size

    @property
    def express_lane(self) -> bool:
        return self._threads.express_lane

    @property
    def healthy(self) -> bool:
        return self._threads.healthy

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._threads.start()

    async def warmup(self) -> None:
        for backend in self.backends:
            await self._call(backend.warmup)

    def run(
        self,
        model: int,
        payloads: Sequence[Any],
        heads: frozenset[Head],
        *,
        express: bool = False,
        limits: PassLimits = ALONE,  # one API process: its batches are already whole
    ) -> asyncio.Future[BatchResult]:
        future = self._call(
            functools.partial(run_pass, self.backends[model], payloads, heads), express=express
        )
        future.add_done_callback(self._note_device_memory)
        return future

    def _note_device_memory(self, future: asyncio.Future[BatchResult]) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        reading = future.result().device_memory
        if reading is not None:
            self.device_memory = reading

    def _call(self, fn: Any, *, express: bool = False) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        self._threads.submit(
            fn, functools.partial(call_on_loop, loop, settle, future), express=express
        )
        return future

    def _report_death(self, reason: str) -> None:
        loop, callback = self._loop, self.on_death
        if loop is None or callback is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(callback, reason)

    def kill(self) -> None:
        """Stop the threads now, as a fatal device error would (tests)."""
        self._threads.stop(timeout=5)

    async def stop(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._threads.stop)
