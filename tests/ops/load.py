"""Small helpers for the real-server tests: concurrent requests with per-request timings."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx


@dataclass
class Outcome:
    status: int
    seconds: float
    finished_at: float
    retry_after: str | None


async def timed_post(client: httpx.AsyncClient, path: str, body: object) -> Outcome:
    started = time.perf_counter()
    r = await client.post(path, json=body)
    done = time.perf_counter()
    return Outcome(r.status_code, done - started, done, r.headers.get("retry-after"))


def heavy_texts(count: int, words: int = 300) -> list[str]:
    """Texts long enough that a batch of them keeps the tiny model busy for a while."""
    return [" ".join(f"word{i}x{j}" for j in range(words)) for i in range(count)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def warm_connections(client: httpx.AsyncClient, count: int) -> None:
    """Open ``count`` keep-alive connections first, so timings measure the server and not
    TCP handshakes."""
    await asyncio.gather(*(client.get("/livez") for _ in range(count)))
