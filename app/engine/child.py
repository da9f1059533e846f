"""The engine process: loads the models, warms them up, then runs the batches it is sent.

Its main thread only reads the wires (one per API process, ``API_WORKERS``) and hands each
batch to the pass threads, which run it and write the result back on the wire it came from,
so reading the next batch overlaps the current pass. It ignores SIGINT and SIGTERM: the API
processes own the lifecycle (each drains, then sends ``Shutdown``), and a Ctrl-C in a
terminal reaches the whole process group. When every API process has shut down or gone away,
the engine finishes the passes in flight and exits.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import os
import pickle
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np

from app.engine import wire
from app.engine.base import BatchResult
from app.engine.calibrate import overhead_tokens
from app.engine.calibration import calibrate
from app.engine.coalescing import Member, Pass, Waiting, WaitingBatches
from app.engine.device_memory import read_device_memory
from app.engine.heap_trim import start_heap_trimmer
from app.engine.layout import DeviceLayout, lay_out
from app.engine.memory_budget import start_up_budgets, torch_device
from app.engine.model_hook import load_engine_models
from app.engine.passes import run_pass
from app.engine.threads import PassThreads
from app.errors import ModelLoadError
from app.models.base import Head, ItemEmbedding, RerankBackend
from app.models.catalog import ModelSet
from app.settings import Settings

log = logging.getLogger("smart_embedder.engine")

#: exit code of an engine whose device failed (the API process reports it and exits too)
EXIT_ENGINE_FATAL = 70


def serve_engine(conns: Sequence[Connection], settings: Settings) -> None:
    from app.telemetry.logging import configure_logging

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    configure_logging(settings.log_level)
    try:
        models, layout, ready = _load(settings)
    except ModelLoadError as exc:
        _tell_all(conns, wire.LoadFailed(reason=str(exc)))
        return
    except Exception as exc:
        _tell_all(conns, wire.LoadFailed(reason=f"start-up failed: {type(exc).__name__}: {exc}"))
        return
    trim_stop = threading.Event()
    start_heap_trimmer(settings.heap_trim_seconds, trim_stop)
    EngineLoop(conns, models, layout).run(ready)
    trim_stop.set()


def _tell_all(conns: Sequence[Connection], message: Any) -> None:
    frame = wire.encode(message)
    for conn in conns:
        try:
            conn.send_bytes(frame)
        except OSError:
            continue  # that API process is already gone


def _load(settings: Settings) -> tuple[ModelSet, DeviceLayout, wire.Ready]:
    models = load_engine_models(settings)
    layout = lay_out(settings)
    if settings.warmup:
        started = time.perf_counter()
        for backend in models.backends():
            backend.warmup()
        log.info("warm-up done in %.2fs", time.perf_counter() - started)
    overheads: dict[int, int] = {}
    if not settings.batch_overhead_tokens:
        for number, backend in enumerate(models.backends()):
            overheads[number] = overhead_tokens(backend)
            log.info(
                "model %s: one pass costs about %d tokens beyond its own (measured)",
                backend.name,
                overheads[number],
            )
    ready = wire.Ready(
        models=pickle.dumps(without_weights(models)),
        device=layout.device,
        gpu=layout.gpu,
        threads=layout.workers,
        express_lane=layout.express_thread,
        overhead_tokens=overheads,
        budgets=start_up_budgets(models.backends(), layout.device, settings),
        device_memory=read_device_memory(torch_device(layout.device)),
    )
    wire.pack_calibration(ready, calibrate(models))
    return models, layout, ready


def _nothing(result: Any, error: BaseException | None) -> None:
    """A pass's call answers its batches itself; a fatal error is the engine's ``Fatal``."""


def only_heads(
    results: Sequence[ItemEmbedding], wanted: frozenset[Head], computed: frozenset[Head]
) -> Sequence[ItemEmbedding]:
    """A batch's embeddings from a pass that computed more heads than it asked for (joined
    with another process's batch), without the others: they would only cross the wire."""
    extra = computed - wanted
    if not extra:
        return results
    for item in results:
        for leaf in item.leaves():
            if Head.DENSE in extra:
                leaf.dense = None
            if Head.SPARSE in extra:
                leaf.sparse = None
            if Head.COLBERT in extra:
                leaf.colbert = None
    return results


def without_weights(models: ModelSet) -> ModelSet:
    """The same model set, each backend turned into its family's front
    (``app.models.fronts``) without its torch modules and tensors: what the API process
    needs (tokenizers, names, limits, heads) and nothing it must not hold (device memory).
    The fronts' classes import no torch, so neither does the API process that unpickles
    them."""
    import torch

    from app.models.registry import front_of

    copies: dict[int, Any] = {}
    for backend in models.backends():
        clone: Any = object.__new__(front_of(backend))
        clone.__dict__.update(
            {
                key: value
                for key, value in vars(backend).items()
                if not isinstance(value, torch.nn.Module | torch.Tensor | torch.device)
            }
        )
        copies[id(backend)] = clone
    return ModelSet(
        by_head={head: copies[id(b)] for head, b in models.by_head.items()},
        reranker=copies[id(models.reranker)] if models.reranker is not None else None,
    )


class EngineLoop:
    def __init__(self, conns: Sequence[Connection], models: ModelSet, layout: DeviceLayout) -> None:
        self.conns = list(conns)
        self.backends = models.backends()
        self._send_lock = threading.Lock()
        self.waiting = WaitingBatches(join=layout.workers == 1)
        self.threads = PassThreads(
            "engine",
            threads=layout.workers,
            niceness=layout.niceness,
            express_thread=layout.express_thread,
            on_fatal=self._fatal,
        )

    def run(self, ready: wire.Ready) -> None:
        # The models' modules and parameters live as long as the process: a full collection
        # that walked them would stall every pass in flight.
        gc.collect()
        gc.freeze()
        self.threads.start()
        frame = wire.encode(ready)
        for conn in self.conns:
            self._send(conn, frame)
        open_conns = list(self.conns)
        shut_down = 0
        while open_conns:
            for ready_conn in wait(open_conns):
                conn = self.conns[self.conns.index(ready_conn)]  # type: ignore[arg-type]
                try:
                    frame = conn.recv_bytes()
                except (EOFError, OSError):
                    open_conns.remove(conn)
                    continue
                message = wire.decode_to_engine(frame)
                if isinstance(message, wire.Shutdown):
                    open_conns.remove(conn)
                    shut_down += 1
                elif isinstance(message, wire.Withdraw):
                    self._withdraw(conn, message)
                else:
                    self._submit(conn, message)
        if not shut_down:
            # Every API process went away without a word: nobody waits for the passes.
            log.info("the API process is gone; the engine stops")
            os._exit(0)
        # Each API process drained before it said Shutdown: finish what is in flight, answer
        # it, then close the wires (an API process waits for its wire to end).
        self.threads.stop()
        for conn in self.conns:
            conn.close()

    def _submit(self, conn: Connection, message: wire.RunBatch) -> None:
        backend = self.backends[message.model]
        waiting = Waiting(
            conn,
            message.batch,
            message.model,
            wire.unpack_payloads(message, pairs=isinstance(backend, RerankBackend)),
            wire.unpack_heads(message),
            message.express,
            message.max_tokens,
            message.max_items,
        )
        self.waiting.add(waiting)
        self.threads.submit(
            functools.partial(self._run_pass, waiting), _nothing, express=message.express
        )

    def _withdraw(self, conn: Connection, message: wire.Withdraw) -> None:
        emptied = self.waiting.withdraw(conn, message.batch, message.positions)
        if emptied is not None:
            no_pass = Pass(emptied.model, [Member(emptied, [])], [], frozenset())
            self._answer(no_pass, BatchResult(results=[], seconds=0.0, cpu_seconds=0.0))

    def _run_pass(self, lead: Waiting) -> None:
        """On a pass thread: the pass ``lead`` starts (nothing, if it ran in another's)."""
        joined = self.waiting.take(lead)
        if joined is None:
            return
        backend = self.backends[joined.model]
        try:
            result = run_pass(backend, joined.payloads, joined.heads)
        except Exception as exc:  # these batches fail; the engine goes on
            self._fail(joined, exc)
            return
        try:
            self._answer(joined, result)
        except Exception as exc:
            self._fail(joined, exc)

    def _answer(self, joined: Pass, result: BatchResult) -> None:
        pairs = isinstance(self.backends[joined.model], RerankBackend)
        too_large = set(result.oom.too_large) if result.oom is not None else set()
        for member, share in joined.shares():
            done = wire.BatchDone(
                batch=member.waiting.batch,
                seconds=result.seconds,
                cpu_seconds=result.cpu_seconds,
                device_memory=result.device_memory,
                dropped=sorted(member.waiting.dropped),
            )
            if result.oom is not None:
                mine = [
                    position
                    for place, position in enumerate(member.positions, start=share.start)
                    if place in too_large
                ]
                done.oom = wire.Oom(**{**asdict(result.oom), "too_large": mine})
            results = result.results[share]
            if pairs:
                done.scores = wire.pack_scores(np.asarray(results, dtype=np.float32))
            else:
                done.embeddings = wire.pack_embeddings(
                    only_heads(list(results), member.waiting.heads, joined.heads)
                )
            self._send(member.waiting.wire, wire.encode(done))

    def _fail(self, joined: Pass, error: BaseException) -> None:
        for member in joined.members:
            failed = wire.BatchFailed(
                batch=member.waiting.batch, error=f"{type(error).__name__}: {error}"
            )
            self._send(member.waiting.wire, wire.encode(failed))

    def _send(self, conn: Connection, frame: bytes) -> None:
        # An API process that is gone took its requests with it.
        with self._send_lock, contextlib.suppress(OSError):
            conn.send_bytes(frame)

    def _fatal(self, reason: str) -> None:
        # The device is unusable: say why, then go, so every API process fails what is in
        # flight with 503 and exits for Kubernetes to replace the pod.
        try:
            frame = wire.encode(wire.Fatal(reason=reason))
            for conn in self.conns:
                self._send(conn, frame)
        finally:
            logging.shutdown()
            os._exit(EXIT_ENGINE_FATAL)
