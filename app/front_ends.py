"""Several API processes in front of the one engine process (``API_WORKERS`` above 1).

One API process is one interpreter lock: HTTP, validation, tokenization and responses for
every request take turns on it, and on a many-core GPU node it becomes the ceiling while the
device waits. Here the process ``smart-embedder serve`` started becomes a small supervisor:

- it binds the port once and starts the engine process with one wire per API process, then
  the API processes, which all accept on that one socket (the kernel hands each connection
  to one of them);
- each API process is a whole server (routes, scheduler, limits, ``/readyz``) whose engine is
  the shared one: batches are cut per API process, and the engine runs them all on its pass
  threads, so embedding and rerank passes still never overlap on a GPU;
- a SIGTERM (Kubernetes's, or SIGINT from a terminal) is handed to every API process, which
  drains as a lone server does, then tells the engine; the engine stops when all have;
- if an API process or the engine dies, the others are stopped and the supervisor exits
  non-zero, so Kubernetes replaces the pod (the engine's death reaches every API process
  first, as a 503 on ``/readyz`` and on the requests in flight);
- ``/metrics`` and ``/stats`` answer for the whole pod: the API process asked collects its
  siblings' own figures over a private Unix socket each and adds them up
  (``app.api.ops.siblings``), so a scrape that lands on any of them sees every request.

The supervisor serves nothing itself: it checks the models on disk (the same preflight as a
lone server), then only starts, watches and stops.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from multiprocessing.connection import Connection, wait
from pathlib import Path
from types import FrameType
from typing import Any

from app.errors import ModelLoadError
from app.lifecycle import EXIT_LOAD, fast_thread_switches, fatal_handler, preflight_or_exit
from app.settings import Settings

log = logging.getLogger("smart_embedder.front_ends")


def serve_front_ends(settings: Settings, count: int) -> int:
    from app.engine.process import spawn_engine_process

    # The engine first, as with one API process: its imports and loading overlap the rest.
    engine, wires = spawn_engine_process(settings, front_ends=count)
    log.info("engine process %d started; %d API processes in front of it", engine.pid, count)
    try:
        preflight_or_exit(settings)
    except ModelLoadError as exc:
        engine.kill()
        print(f"smart-embedder: {exc}", file=sys.stderr)
        return EXIT_LOAD
    listener = _listen(settings.host, settings.port)
    private = Path(tempfile.mkdtemp(prefix="smart-embedder-"))
    sibling_sockets = [str(private / f"api-{index}.sock") for index in range(count)]
    context = multiprocessing.get_context("spawn")
    workers: list[Any] = []
    lifelines: list[Connection] = []
    for index, wire in enumerate(wires):
        theirs, ours = context.Pipe(duplex=False)
        worker = context.Process(
            target=_api_process_main,
            args=(settings, listener, wire, engine.pid, index, sibling_sockets, theirs),
            name=f"smart-embedder-api-{index}",
        )
        worker.start()
        wire.close()
        theirs.close()
        workers.append(worker)
        lifelines.append(ours)  # never written: its end tells the API process we are gone
        log.info(
            "API process %d started (pid %d, private socket %s)",
            index,
            worker.pid,
            sibling_sockets[index],
        )
    listener.close()
    try:
        return _supervise(engine, workers)
    finally:
        for lifeline in lifelines:
            lifeline.close()
        engine.join(10)
        if engine.is_alive():
            engine.kill()
        shutil.rmtree(private, ignore_errors=True)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


def _supervise(engine: Any, workers: list[Any]) -> int:
    stopping = threading.Event()

    def stop_workers(sig: int = signal.SIGTERM) -> None:
        for worker in workers:
            if worker.is_alive() and worker.pid is not None:
                os.kill(worker.pid, sig)

    def on_signal(sig: int, _frame: FrameType | None) -> None:
        if stopping.is_set():
            log.warning("signal %d again: the API processes stop now", sig)
        else:
            log.info("signal %d: the API processes drain before exit", sig)
        stopping.set()
        stop_workers()  # a second one makes each stop at once, as with a lone server

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    codes: list[int] = []
    running = {worker.sentinel: worker for worker in workers}
    watched: list[Any] = [*running, engine.sentinel]
    while running:
        ended = wait(watched)
        if engine.sentinel in ended:  # first: it explains why the API processes go
            watched.remove(engine.sentinel)
            engine.join()
            if engine.exitcode != 0:
                # Each API process sees its wire end, fails what is in flight with 503 and
                # exits non-zero on its own; nothing to do here but wait for them.
                log.critical("the engine process exited (exit code %s)", engine.exitcode)
                stopping.set()
        for sentinel in ended:
            if sentinel == engine.sentinel:
                continue
            watched.remove(sentinel)
            worker = running.pop(sentinel)
            worker.join()
            code = worker.exitcode if worker.exitcode is not None else 1
            codes.append(code)
            if code != 0 and not stopping.is_set():
                log.critical(
                    "API process %d exited (exit code %d); stopping the others", worker.pid, code
                )
                stopping.set()
                stop_workers()
    failed = [code for code in codes if code != 0]
    if not failed:
        return 0
    return failed[0] if failed[0] > 0 else EXIT_LOAD  # below 0: ended by a signal


def _api_process_main(
    settings: Settings,
    listener: socket.socket,
    wire: Connection,
    engine_pid: int,
    index: int,
    sibling_sockets: list[str],
    lifeline: Connection,
) -> None:
    # Own process group: a Ctrl-C in a terminal reaches the supervisor, which hands it on
    # once, instead of every process at once (a second signal would mean "stop now").
    os.setpgrp()
    from app.engine.process import ProcessEngine
    from app.telemetry.logging import configure_logging

    configure_logging(settings.log_level)
    fast_thread_switches()
    threading.Thread(target=_exit_with, args=(lifeline,), name="lifeline", daemon=True).start()

    from app.asgi import create_app
    from app.server import DrainingServer, uvicorn_config

    failure: list[str] = []
    engine = ProcessEngine.attached(settings, wire, engine_pid)
    app = create_app(settings, on_fatal=fatal_handler(failure), engine=engine)
    runtime = app.state.runtime
    runtime.front_end = index
    runtime.siblings = [path for number, path in enumerate(sibling_sockets) if number != index]
    private = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    private.bind(sibling_sockets[index])
    private.listen(64)
    DrainingServer(uvicorn_config(settings, app), runtime).run(sockets=[listener, private])
    if failure:
        print(f"smart-embedder: {failure[0]}", file=sys.stderr)
        sys.exit(EXIT_LOAD)
    sys.exit(0)


def _exit_with(lifeline: Connection) -> None:
    """The supervisor holds the other end and never writes: its end means it is gone (killed),
    and an API process left behind would hold the port. Drain and go, as on a SIGTERM."""
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv_bytes()
    os.kill(os.getpid(), signal.SIGTERM)
