"""Small helpers for the real-server tests: concurrent requests with per-request timings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


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
    client: httpx.AsyncClient, ready: Callable[[dict[str, Any]], bool], timeout: float = 30
) -> dict[str, Any]:
    """Poll ``/stats`` until ``ready`` holds of it; fail with its last figures after
    ``timeout`` seconds rather than hang the suite."""
    deadline = time.monotonic() + timeout
    while not ready(stats := (await client.get("/stats")).json()):
        assert time.monotonic() < deadline, f"/stats never got there: {stats}"
        await asyncio.sleep(0.01)
    return stats


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
