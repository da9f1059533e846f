"""SIGTERM while 100 requests are in flight (SPEC §5): readiness turns 503 first, new
inference requests get 503, every accepted request still gets its 200, then exit 0."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.helpers import ServerProcess
from tests.ops.load import Outcome, heavy_texts, stats_when, timed_post


def admitted(stats: dict[str, Any]) -> int:
    answered: int = stats["requests_by_endpoint"].get("embeddings", 0)
    return answered + int(stats["queue"]["embed_pending"])


def test_sigterm_drains_every_accepted_request(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server(SHUTDOWN_DRAIN_SECONDS="60", MAX_QUEUE_SIZE="1024")
    body = {"sentences": heavy_texts(2, words=200), "return_colbert": False}

    async def scenario() -> tuple[list[Outcome], float, int, int]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with (
            httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as load,
            httpx.AsyncClient(base_url=server.url, timeout=5) as probe,
        ):
            requests = [
                asyncio.create_task(timed_post(load, "/embeddings/", body)) for _ in range(100)
            ]
            # SIGTERM only once all 100 are admitted (answered or still pending): a request
            # still on the wire at SIGTERM is rightly refused, and this test is about the
            # accepted ones.
            await stats_when(probe, lambda stats: admitted(stats) >= 100)
            server.proc.send_signal(signal.SIGTERM)
            while (ready := await probe.get("/readyz")).status_code == 200:
                await asyncio.sleep(0.01)
            readiness_503_at = time.perf_counter()
            assert ready.json()["status"] == "draining"
            late = await probe.post("/embeddings/", json={"sentences": ["too late"]})
            pending_at_503 = (await probe.get("/stats")).json()["queue"]["embed_pending"]
            outcomes = await asyncio.gather(*requests)
            return outcomes, readiness_503_at, late.status_code, pending_at_503

    outcomes, readiness_503_at, late_status, pending_at_503 = asyncio.run(scenario())
    assert [o.status for o in outcomes] == [200] * 100
    assert late_status == 503
    # readiness went 503 while accepted requests were still being served
    assert pending_at_503 > 0
    assert readiness_503_at < max(o.finished_at for o in outcomes)
    assert server.proc.wait(timeout=60) == 0
    log = server.log()
    assert "draining" in log and "drained" in log


def test_a_second_sigterm_stops_at_once_without_a_traceback(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server(SHUTDOWN_DRAIN_SECONDS="60")
    body = {"sentences": heavy_texts(64, words=300), "return_colbert": False}

    async def scenario() -> float:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            requests = [
                asyncio.create_task(client.post("/embeddings/", json=body)) for _ in range(8)
            ]
            await stats_when(client, lambda stats: stats["queue"]["embed_pending"] >= 4)
            server.proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            server.proc.send_signal(signal.SIGTERM)
            second_at = time.perf_counter()
            await asyncio.to_thread(server.proc.wait, 30)
            stopped_after = time.perf_counter() - second_at
            await asyncio.gather(*requests, return_exceptions=True)
            return stopped_after

    stopped_after = asyncio.run(scenario())
    assert stopped_after < 10, f"still running {stopped_after:.1f}s after the second SIGTERM"
    assert server.proc.returncode == 1  # cut short: not the clean drain's 0
    log = server.log()
    assert "stopping now" in log
    assert "Traceback" not in log, log[-3000:]
