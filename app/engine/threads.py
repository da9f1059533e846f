"""The threads that run forward passes: one on a GPU, a few side by side on a CPU.

Forward passes never run concurrently on a GPU. On a CPU several single-threaded passes of
small batches keep more cores busy than one pass on all of them (torch releases the
interpreter lock inside its kernels), and an express pass (an interactive request's, cut
while bulk work holds every thread) may get a thread of its own: it then runs at once beside
the bulk passes in flight, sharing the cores with them for its short length, instead of
waiting for the first of them to end. An ``Exception`` fails its own call only; anything
worse (``KeyboardInterrupt``, ``SystemExit``, a ``BaseException`` from an extension) stops
the thread, clears the health flag, fails what is still queued and reports ``on_fatal``.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

from app.errors import EngineStopped

log = logging.getLogger("smart_embedder.engine")

Done = Callable[[Any, BaseException | None], None]
_STOP = object()
#: the order calls are taken in: express ones first, then the rest as they came, then stops
_EXPRESS, _NORMAL, _LAST = 0, 1, 2


class PassThreads:
    def __init__(
        self,
        name: str = "inference",
        *,
        threads: int = 1,
        niceness: int = 0,
        express_thread: bool = False,
        on_fatal: Callable[[str], None] | None = None,
    ) -> None:
        self.niceness = niceness
        self.on_fatal = on_fatal
        self._calls: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        #: express calls, where they have a thread of their own (else they queue with the rest)
        self._express_calls: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._threads = [
            threading.Thread(target=self._run, args=(self._calls,), name=f"{name}-{i}", daemon=True)
            for i in range(max(1, threads))
        ]
        self._express_thread = (
            threading.Thread(
                target=self._run, args=(self._express_calls,), name=f"{name}-express", daemon=True
            )
            if express_thread
            else None
        )
        self.healthy = False
        self._fatal_reported = threading.Lock()

    @property
    def size(self) -> int:
        """Threads for passes of any kind (a thread kept for express passes not counted)."""
        return len(self._threads)

    @property
    def express_lane(self) -> bool:
        """Express passes run on a thread of their own, beside the others' passes."""
        return self._express_thread is not None

    def start(self) -> None:
        self.healthy = True
        for thread in self._threads:
            thread.start()
        if self._express_thread is not None:
            self._express_thread.start()

    def submit(self, fn: Callable[[], Any], done: Done, *, express: bool = False) -> None:
        """Run ``fn`` on a free thread; ``done(result, error)`` is called on that thread. An
        ``express`` call runs before the calls already waiting (a pass an interactive request
        waits on, cut while the threads were busy with bulk work)."""
        if not self.healthy:
            done(None, EngineStopped("the inference engine is not running"))
            return
        calls = self._express_calls if express and self.express_lane else self._calls
        calls.put((_EXPRESS if express else _NORMAL, next(self._order), (fn, done)))

    def stop(self, timeout: float = 120.0) -> None:
        # Waits for the batch in flight: a process that exits while a forward pass runs on
        # one of these threads aborts inside torch instead of exiting 0.
        alive = [t for t in self._threads if t.is_alive()]
        for _ in alive:
            self._calls.put((_LAST, next(self._order), _STOP))
        if self._express_thread is not None and self._express_thread.is_alive():
            alive.append(self._express_thread)
            self._express_calls.put((_LAST, next(self._order), _STOP))
        for thread in alive:
            thread.join(timeout)
        self.healthy = False

    def _run(self, calls: queue.PriorityQueue[tuple[int, int, Any]]) -> None:
        self._lower_priority()
        while True:
            _, _, call = calls.get()
            if call is _STOP:
                return
            fn, done = call
            try:
                result = fn()
            except Exception as exc:
                done(None, exc)
                continue
            except BaseException as exc:
                reason = f"the inference engine stopped: {type(exc).__name__}: {exc}"
                self.healthy = False
                log.critical("%s", reason)
                done(None, EngineStopped(reason))
                self._fail_pending(reason)
                if self.on_fatal is not None and self._fatal_reported.acquire(blocking=False):
                    self.on_fatal(reason)
                return
            done(result, None)

    def _lower_priority(self) -> None:
        """Run inference below the event loop's CPU priority, where configured
        (``WORKER_NICENESS``): refusals and health checks then stay fast under full load
        while idle cores still all go to inference. Torch's threads inherit the niceness."""
        if self.niceness <= 0 or not hasattr(os, "setpriority"):
            return
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.niceness)
        except OSError as exc:
            log.warning("could not lower the inference thread's priority: %s", exc)

    def _fail_pending(self, reason: str) -> None:
        for calls in (self._calls, self._express_calls):
            while True:
                try:
                    entry = calls.get_nowait()
                except queue.Empty:
                    break
                call = entry[2]
                if call is _STOP:
                    # Meant for a sibling thread that is still running: leave it for it.
                    calls.put(entry)
                    break
                _, done = call
                done(None, EngineStopped(reason))
