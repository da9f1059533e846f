"""The inference worker: the thread that touches the device (on a CPU, a few of them).

Forward passes never run concurrently on a GPU, and the event loop never blocks on a
model: the loop hands the worker a callable and awaits an asyncio future that the worker
resolves through ``call_soon_threadsafe``. An exception fails that call only; a fatal one
(anything that is not an ``Exception``) stops the thread and clears the health flag, which
``/readyz`` reports.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger("smart_embedder.worker")

T = TypeVar("T")
_STOP = object()


class WorkerStopped(RuntimeError):
    pass


class InferenceWorker:
    def __init__(self, name: str = "inference", *, niceness: int = 0, threads: int = 1) -> None:
        self.niceness = niceness
        self._calls: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # One thread per device on a GPU. On a CPU, several single-threaded workers may run
        # batches side by side (torch releases the GIL inside its kernels).
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True)
            for i in range(max(1, threads))
        ]
        self.healthy = False

    @property
    def size(self) -> int:
        return len(self._threads)

    def start(self) -> None:
        self.healthy = True
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if not self.healthy:
            future.set_exception(WorkerStopped("the inference worker is not running"))
            return future
        self._calls.put((fn, future, loop))
        return future

    def stop(self, timeout: float = 120.0) -> None:
        # Waits for the batch in flight: a process that exits while a forward pass runs on
        # this thread aborts inside torch instead of exiting 0.
        alive = [t for t in self._threads if t.is_alive()]
        for _ in alive:
            self._calls.put(_STOP)
        for thread in alive:
            thread.join(timeout)
        self.healthy = False

    def _run(self) -> None:
        self._lower_priority()
        while True:
            call = self._calls.get()
            if call is _STOP:
                return
            fn, future, loop = call
            try:
                result = fn()
            except Exception as exc:
                outcome: tuple[Any, BaseException | None] = (None, exc)
            except BaseException as exc:
                self.healthy = False
                log.critical("inference worker stopped: %s: %s", type(exc).__name__, exc)
                _reply(loop, future, None, WorkerStopped(str(exc)))
                self._fail_pending()
                return
            else:
                outcome = (result, None)
            if not _reply(loop, future, *outcome):
                return

    def _lower_priority(self) -> None:
        """Run inference below the event loop's CPU priority.

        On a CPU-only pod the forward pass wants every core, and so does the event loop that
        parses, refuses and answers requests; a nicer worker thread (and the torch threads it
        starts, which inherit its niceness) yields to the loop at once, so 503s and health
        checks stay fast under full load while idle cores still all go to inference.
        """
        if self.niceness <= 0 or not hasattr(os, "setpriority"):
            return
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.niceness)
        except OSError as exc:
            log.warning("could not lower the inference thread's priority: %s", exc)

    def _fail_pending(self) -> None:
        while True:
            try:
                call = self._calls.get_nowait()
            except queue.Empty:
                return
            if call is _STOP:
                # Meant for a sibling thread that is still running: leave it for it.
                self._calls.put(_STOP)
                return
            _, future, loop = call
            _reply(loop, future, None, WorkerStopped("the inference worker stopped"))


def _reply(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: Any,
    error: BaseException | None,
) -> bool:
    """Hand a result to the loop; False once the loop is closed (the process is ending)."""
    try:
        loop.call_soon_threadsafe(_settle, future, result, error)
    except RuntimeError:
        return not loop.is_closed()
    return True


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
