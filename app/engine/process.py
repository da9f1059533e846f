"""The engine in a process of its own, as the API process sees it.

The API process (event loop, HTTP, validation, tokenization, responses) and the engine
process (forward passes and heads) each have their own interpreter lock, so the model's
Python work never stalls the loop and both cores are used. They talk over one pipe
(``app.engine.wire``): a batch of token ids goes out, its arrays come back. The event loop
reads and writes the pipe itself (``app.engine.framing``): no thread, and no write that
blocks the loop.

If the engine process dies (killed, out of memory, a broken device), the pipe ends: every
batch in flight fails with ``EngineStopped`` (503) at once and ``on_death`` tells the runtime,
which turns ``/readyz`` 503 and exits the server non-zero so Kubernetes replaces the pod.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import logging
import multiprocessing
import os
import pickle
import socket
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from app.engine import wire
from app.engine.base import ALONE, BatchResult, Engine, PassLimits
from app.engine.framing import FramedWire
from app.errors import EngineStopped, ModelLoadError
from app.models.base import Head
from app.settings import Settings

if TYPE_CHECKING:
    from app.models.catalog import ModelSet

log = logging.getLogger("smart_embedder.engine")


def _engine_main(conns: list[Connection], settings: Settings) -> None:
    from app.engine.child import serve_engine  # torch and the models: in the child only

    serve_engine(conns, settings)


def spawn_engine_process(settings: Settings, front_ends: int) -> tuple[Any, list[Connection]]:
    """Start the engine process with one wire per API process; return the process and the
    API processes' ends of the wires, in order."""
    context = multiprocessing.get_context("spawn")
    pipes = [context.Pipe(duplex=True) for _ in range(front_ends)]
    process = context.Process(
        target=_engine_main,
        args=([theirs for _, theirs in pipes], settings),
        name="smart-embedder-engine",
        daemon=True,
    )
    process.start()
    for _, theirs in pipes:
        theirs.close()
    return process, [ours for ours, _ in pipes]


_NOT_CONNECTED = FramedWire(lambda frame: None, lambda: None)  # sends nothing


class BatchError(RuntimeError):
    """The engine ran the batch and its forward pass raised; other batches are unaffected."""


class ProcessEngine(Engine):
    kind = "process"
    withdraws = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.workers = 1  # known once the engine has seen its device
        self._express_lane = False
        self.device = "unknown"
        self.gpu: dict[str, str | int | float | None] | None = None
        #: the engine process, where this process started it (not with several API processes)
        self._process: Any = None
        self._conn: Any = None
        self._engine_pid: int | None = None
        #: the wire as the loop reads and writes it, once the engine is ready
        self._wire: FramedWire = _NOT_CONNECTED
        self._wire_ended = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[int, asyncio.Future[BatchResult]] = {}
        #: id of a pending batch's future -> its number on the wire (``withdraw``)
        self._batch_of: dict[int, int] = {}
        self._ids = itertools.count()
        self._alive = False
        self._stopping = False
        self._stopped_because = "the inference engine is not running"

    @property
    def size(self) -> int:
        return self.workers

    @property
    def express_lane(self) -> bool:
        return self._express_lane

    @property
    def healthy(self) -> bool:
        return self._alive

    @property
    def pid(self) -> int | None:
        return self._engine_pid

    @classmethod
    def attached(cls, settings: Settings, conn: Connection, engine_pid: int) -> ProcessEngine:
        """One API process's client of an engine process that another process (the front
        ends' supervisor, ``app.front_ends``) started and owns."""
        engine = cls(settings)
        engine._conn = conn
        engine._engine_pid = engine_pid
        return engine

    def spawn(self) -> None:
        """Start the engine process. ``smart-embedder serve`` calls this first thing, so the
        engine's imports and model loading overlap the API process's own start-up; this
        module imports nothing heavy for the same reason."""
        if self._conn is not None:
            return
        self._process, (self._conn,) = spawn_engine_process(self.settings, front_ends=1)
        self._engine_pid = self._process.pid
        # Whatever way this process ends, the engine ends with it: it ignores the SIGTERM
        # that multiprocessing sends its children at exit (and this runs first, LIFO).
        atexit.register(self.kill)
        log.info("engine process %d started; loading models there", self._engine_pid)

    async def start(self) -> ModelSet:
        """Start the engine process (unless ``spawn`` did) and wait until its models are
        loaded and warm; the model set it returns has tokenizers and limits, no weights."""
        self._loop = asyncio.get_running_loop()
        self.spawn()
        try:
            frame = await self._loop.run_in_executor(None, self._conn.recv_bytes)
        except (EOFError, OSError):
            raise ModelLoadError(
                f"the engine process exited during start-up ({self._exit_code()})"
            ) from None
        message = wire.decode_from_engine(frame)
        if isinstance(message, wire.LoadFailed):
            if self._process is not None:
                self._process.join(5)
            raise ModelLoadError(message.reason)
        if not isinstance(message, wire.Ready):
            raise ModelLoadError(f"the engine process sent {type(message).__name__} first")
        self.device, self.gpu, self.workers = message.device, message.gpu, message.threads
        self._express_lane = message.express_lane
        self.overhead_tokens = message.overhead_tokens
        self.measured_budgets, self.device_memory = message.budgets, message.device_memory
        self.calibrated = wire.unpack_calibration(message)
        models: ModelSet = pickle.loads(message.models)  # our own child wrote it
        # From here the loop reads and writes the wire itself (``app.engine.framing``), on a
        # socket of its own over the same pipe.
        pipe = socket.socket(fileno=os.dup(self._conn.fileno()))
        _, self._wire = await self._loop.create_unix_connection(
            lambda: FramedWire(self._received, self._wire_closed), sock=pipe
        )
        self._alive = True
        return models

    def run(
        self,
        model: int,
        payloads: Sequence[Any],
        heads: frozenset[Head],
        *,
        express: bool = False,
        limits: PassLimits = ALONE,
    ) -> asyncio.Future[BatchResult]:
        future: asyncio.Future[BatchResult] = asyncio.get_running_loop().create_future()
        if not self._alive:
            future.set_exception(EngineStopped(self._stopped_because))
            return future
        batch = next(self._ids)
        message = wire.pack_batch(batch, model, payloads, heads, express=express, limits=limits)
        frame = wire.encode(message)
        self._pending[batch] = future
        self._batch_of[id(future)] = batch
        # A wire that broke under this write means the engine is dead: its end is seen, says
        # how it died and fails this batch with the rest.
        self._wire.send(frame)
        return future

    def withdraw(self, batch: asyncio.Future[BatchResult], positions: Sequence[int]) -> None:
        number = self._batch_of.get(id(batch))
        if number is None or not self._alive:
            return  # answered already: its pass ran
        self._wire.send(wire.encode(wire.Withdraw(number, list(positions))))

    async def stop(self) -> None:
        """Let the passes in flight finish, then end the engine process. One that is still
        loading (a stop during start-up) is ended at once: it ignores SIGTERM."""
        if self._conn is None:
            return
        self._stopping = True
        loop = asyncio.get_running_loop()
        if self._alive:
            self._wire.send(wire.encode(wire.Shutdown()))
            # The engine closes this wire once the passes in flight are answered (with
            # several API processes, once every one of them has said Shutdown).
            if self._process is not None:
                await loop.run_in_executor(None, self._process.join, 120)
                if self._process.is_alive():
                    log.warning("the engine process did not stop in time; killing it")
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wire_ended.wait(), 120)
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            await loop.run_in_executor(None, self._process.join, 5)
        self._alive = False

    def kill(self) -> None:
        """End the engine process now (start-up failed before it was needed)."""
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(5)

    # --- on the loop: the wire ---
    def _received(self, frame: memoryview | bytearray) -> None:
        message = wire.decode_from_engine(frame)
        if isinstance(message, wire.BatchDone):
            if message.device_memory is not None:
                self.device_memory = message.device_memory
            self._settle(
                message.batch,
                BatchResult(
                    results=wire.unpack_results(message),
                    seconds=message.seconds,
                    cpu_seconds=message.cpu_seconds,
                    oom=wire.unpack_oom(message.oom),
                    dropped=message.dropped,
                ),
            )
        elif isinstance(message, wire.BatchFailed):
            self._settle(message.batch, BatchError(message.error))
        elif isinstance(message, wire.Fatal):
            self._died(message.reason)

    def _wire_closed(self) -> None:
        self._wire_ended.set()
        if self._stopping:
            return  # an orderly stop: ``stop`` reaps the process
        loop = asyncio.get_running_loop()
        # how it ended: waiting to reap the process must not hold up the loop
        ended = loop.run_in_executor(None, self._exit_code)
        ended.add_done_callback(
            lambda how: self._died(f"the inference engine process exited ({how.result()})")
        )

    def _exit_code(self) -> str:
        if self._process is None:
            return "its supervisor reports how"  # not our child: we cannot reap it
        self._process.join(5)
        return f"exit code {self._process.exitcode}"

    def _settle(self, batch: int, outcome: BatchResult | BaseException) -> None:
        future = self._pending.pop(batch, None)
        if future is not None:
            self._batch_of.pop(id(future), None)
        if future is None or future.done():
            return
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    def _died(self, reason: str) -> None:
        if not self._alive:
            return
        self._alive = False
        log.critical("%s", reason)
        self._stopped_because = f"{reason}; this replica cannot serve and will restart"
        pending, self._pending = self._pending, {}
        self._batch_of.clear()
        for future in pending.values():
            if not future.done():
                future.set_exception(EngineStopped(self._stopped_because))
        if self.on_death is not None:
            self.on_death(reason)
