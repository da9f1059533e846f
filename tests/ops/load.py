"""Small helpers for the real-server tests: concurrent requests, waits on the server's own
figures, and a hold on its engine process, so that each test decides on events and not on how
fast a (possibly busy) machine happens to be."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

#: how long a wait for something the server does at once may take before the test fails: a
#: hang guard only, far beyond any answer on a busy 2-core machine
HANG_GUARD_S = 60.0


@dataclass
class Outcome:
    status: int
    seconds: float
    finished_at: float
    retry_after: str | None


async def timed_post(client: httpx.AsyncClient, path: str, body: object) -> Outcome:
    """POST ``body`` (bytes are sent as already-encoded JSON, so a test that fires many
    large requests at once times the server, not the client's JSON encoder)."""
    started = time.perf_counter()
    if isinstance(body, bytes):
        r = await client.post(path, content=body, headers={"content-type": "application/json"})
    else:
        r = await client.post(path, json=body)
    done = time.perf_counter()
    return Outcome(r.status_code, done - started, done, r.headers.get("retry-after"))


def heavy_texts(count: int, words: int = 300) -> list[str]:
    """Texts long enough that a batch of them keeps the tiny model busy for a while."""
    return [" ".join(f"word{i}x{j}" for j in range(words)) for i in range(count)]


async def stats_when(
    client: httpx.AsyncClient,
    ready: Callable[[dict[str, Any]], bool],
    timeout: float = HANG_GUARD_S,
) -> dict[str, Any]:
    """Poll ``/stats`` until ``ready`` holds of it; fail with its last figures after
    ``timeout`` seconds rather than hang the suite."""
    deadline = time.monotonic() + timeout
    while not ready(stats := (await client.get("/stats")).json()):
        assert time.monotonic() < deadline, f"/stats never got there: {stats}"
        await asyncio.sleep(0.01)
    return stats


def wait_until(
    probe: Callable[[], T], ready: Callable[[T], bool], what: str, timeout: float = HANG_GUARD_S
) -> T:
    """Call ``probe`` until ``ready`` holds of what it returns, and return that; fail with
    the last value after ``timeout`` seconds (a hang guard, not part of the verdict)."""
    deadline = time.monotonic() + timeout
    while not ready(seen := probe()):
        assert time.monotonic() < deadline, f"{what} never happened; last seen: {seen!r:.2000}"
        time.sleep(0.02)
    return seen


def engine_pid(url: str) -> int:
    """The pid of the server's engine process (``/health``), which runs every forward pass."""
    batch = httpx.get(f"{url}/health", timeout=HANG_GUARD_S).json()["batch"]
    assert batch["engine"] == "process", batch
    return int(batch["engine_pid"])


def maps_torch(pid: int) -> bool:
    """Whether a running process has imported torch: ``import torch`` maps its C++ library
    (``libtorch_cpu.so``, or the CUDA build's), which stays mapped for the process's life."""
    with open(f"/proc/{pid}/maps") as maps:
        return "/libtorch" in maps.read()


def _stopped(pid: int) -> bool:
    """Whether every thread of ``pid`` is stopped (or the process is gone)."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        # the state is the field after the parenthesised command name
        states = [(task / "stat").read_text().rpartition(")")[2].split()[0] for task in tasks]
    except FileNotFoundError:
        return True
    return all(state in ("T", "t", "Z", "X") for state in states)


@contextlib.contextmanager
def engine_paused(pid: int) -> Iterator[None]:
    """Hold the engine process (SIGSTOP) until the block ends (SIGCONT): no batch finishes
    meanwhile, so whatever the test sees inside happened before any answer, on any machine.
    This is the real-server tests' hold on the model, as the unit tests' gate is.

    The API process keeps working: admission, refusals, ``/stats``, ``/metrics``, readiness
    and disconnects never wait on the engine. Keep the requests sent while it is held small
    (a few KB per batch): the batches cut meanwhile wait in the pipe to the engine, and a
    write that filled it would stall the API process until the block ends."""
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_until(lambda: _stopped(pid), bool, f"engine process {pid} stopping")
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


async def warm_connections(client: httpx.AsyncClient, count: int) -> None:
    """Open ``count`` keep-alive connections first, so timings measure the server and not
    TCP handshakes."""
    await asyncio.gather(*(client.get("/livez") for _ in range(count)))


async def raw_post_burst(url: str, path: str, body: bytes, count: int) -> list[Outcome]:
    """``count`` POSTs written at the same instant on ``count`` connections opened beforehand,
    each timed until its whole response is read: the server's answer time under a burst,
    without a client library's per-request work queued in front of it."""
    host, port = url.removeprefix("http://").split(":")
    connections = [await asyncio.open_connection(host, int(port)) for _ in range(count)]
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Outcome:
        started = time.perf_counter()
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        lowered = {k.lower(): v for k, v in headers.items()}
        await reader.readexactly(int(lowered.get("content-length", "0")))
        done = time.perf_counter()
        writer.close()
        return Outcome(int(lines[0].split()[1]), done - started, done, lowered.get("retry-after"))

    return list(await asyncio.gather(*(one(r, w) for r, w in connections)))
