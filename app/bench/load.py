"""The load generator: a fixed number of requests at a fixed concurrency, one aiohttp
session, latencies per request. Bounded in count and time; loopback only in practice."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec

from app.cpu import affinity_cores


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    units: int
    client_cpu_seconds: float = 0.0
    #: where the load generator reports percentiles itself (wrk) instead of latencies
    reported_percentiles: dict[float, float] = field(default_factory=dict)
    reported_mean_ms: float = float("nan")

    @property
    def client_cpu_share(self) -> float:
        """The machine's CPU the load generator itself used (it shares the cores with the
        server when both run on one machine)."""
        return self.client_cpu_seconds / (self.seconds * affinity_cores())

    @property
    def req_per_s(self) -> float:
        return (self.requests - self.errors) / self.seconds

    @property
    def units_per_s(self) -> float:
        return self.units / self.seconds

    def percentile(self, q: float) -> float:
        if self.reported_percentiles:
            return self.reported_percentiles.get(q, float("nan"))
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    @property
    def mean_ms(self) -> float:
        if not self.latencies_ms:
            return self.reported_mean_ms
        return statistics.fmean(self.latencies_ms)


async def _drive(
    url: str, bodies: list[dict[str, Any]], concurrency: int, units_per_body: list[int]
) -> LoadResult:
    # Imported here, not at the top: ``python -m app.bench --help`` (and its one-line "install
    # the bench extra") must work where aiohttp is not installed.
    import aiohttp

    latencies: list[float] = []
    errors = 0
    units = 0
    next_index = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=300)
    # Encoded once, before timing: the client's CPU comes out of the server's cores.
    payloads = [msgspec.json.encode(body) for body in bodies]
    headers = {"content-type": "application/json"}
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def client() -> None:
            nonlocal next_index, errors, units
            while next_index < len(bodies):
                i = next_index
                next_index += 1
                started = time.perf_counter()
                async with session.post(url, data=payloads[i], headers=headers) as response:
                    await response.read()
                    ok = response.status == 200
                latencies.append((time.perf_counter() - started) * 1000)
                if ok:
                    units += units_per_body[i]
                else:
                    errors += 1

        started = time.perf_counter()
        cpu_started = time.process_time()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    return LoadResult(len(bodies), errors, seconds, latencies, units, cpu)


def run_load(
    base_url: str, path: str, bodies: list[dict[str, Any]], concurrency: int, warmup: int
) -> LoadResult:
    def units(body: dict[str, Any]) -> int:
        return len(body.get("sentences") or body.get("passages") or [])

    url = base_url.rstrip("/") + path
    if warmup:
        warm = bodies[:warmup]
        asyncio.run(_drive(url, warm, min(concurrency, len(warm)), [units(b) for b in warm]))
    return asyncio.run(_drive(url, bodies, concurrency, [units(b) for b in bodies]))
