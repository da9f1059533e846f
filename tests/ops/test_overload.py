"""Overload at 4x the queue bound (SPEC §3, §4): the extra requests get 503 with
``Retry-After`` at once, the admitted ones all succeed, and ``/stats`` and ``/metrics`` count
exactly what the clients saw.

The engine process is held (SIGSTOP) while the queue is full, so the queue stays full for the
whole burst on any machine, however busy: the counts are exact, and a refusal that waited for
the model would never come back at all."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx

from tests.helpers import ServerProcess
from tests.ops.load import (
    HANG_GUARD_S,
    Outcome,
    engine_paused,
    engine_pid,
    raw_post_burst,
    stats_when,
    timed_post,
    wait_until,
    warm_connections,
)
from tests.ops.metrics_text import value

QUEUE = 8
CLIENTS = 4 * QUEUE


def test_rejections_are_fast_and_counted(start_server: Callable[..., ServerProcess]) -> None:
    # The held requests must not time out while the test looks at them.
    server = start_server(MAX_QUEUE_SIZE=str(QUEUE), REQUEST_TIMEOUT="600")
    engine = engine_pid(server.url)
    # Small on purpose: the batches cut while the engine is held wait in its pipe.
    body = json.dumps({"sentences": ["a short text", "and another one"]}).encode()

    async def overload() -> tuple[list[Outcome], list[Outcome], dict[str, Any]]:
        limits = httpx.Limits(max_connections=QUEUE + 1, max_keepalive_connections=QUEUE + 1)
        async with httpx.AsyncClient(base_url=server.url, timeout=600, limits=limits) as client:
            await warm_connections(client, QUEUE + 1)
            with engine_paused(engine):
                first = [
                    asyncio.create_task(timed_post(client, "/embeddings/", body))
                    for _ in range(QUEUE)
                ]
                await stats_when(client, lambda stats: stats["queue"]["embed_pending"] >= QUEUE)
                # The model can answer nothing now: every refusal has to come back without it.
                rest = await asyncio.wait_for(
                    raw_post_burst(server.url, "/embeddings/", body, CLIENTS - QUEUE),
                    HANG_GUARD_S,
                )
                during = (await client.get("/stats")).json()
            return list(await asyncio.gather(*first)), rest, during

    accepted, rejected, during = asyncio.run(overload())
    assert [o.status for o in accepted] == [200] * QUEUE
    assert [o.status for o in rejected] == [503] * (CLIENTS - QUEUE)
    assert all(o.retry_after and int(o.retry_after) >= 1 for o in rejected), rejected
    # While held, the admitted requests all still waited and only the refusals were answered.
    assert during["queue"]["embed_pending"] == QUEUE
    assert during["requests_by_endpoint"]["embeddings"] == CLIENTS - QUEUE
    # A request is counted just after its answer is written: wait for the last count rather
    # than race it.
    stats = wait_until(
        lambda: httpx.get(f"{server.url}/stats").json(),
        lambda stats: stats["requests_by_endpoint"]["embeddings"] >= CLIENTS,
        "every request counted on /stats",
    )
    metrics = wait_until(
        lambda: httpx.get(f"{server.url}/metrics").text,
        lambda text: value(text, "embedding_active_requests") == 0,
        "no request active on /metrics",
    )
    assert stats["rejected_by_endpoint"] == {"embeddings": {"backpressure": len(rejected)}}
    assert stats["totals"]["rejected_requests"] == len(rejected)
    assert stats["requests_by_endpoint"]["embeddings"] == CLIENTS
    # Only /embeddings was called, so the reason alone picks its series out, whatever
    # other labels it carries.
    assert value(metrics, "embedding_requests_rejected_total", reason="backpressure") == len(
        rejected
    )
    # HTTP status codes are in the detailed series (the original's counts success/error)
    assert value(metrics, "smart_embedder_requests_total", status="503") == len(rejected)
    assert value(metrics, "smart_embedder_requests_total", status="200") == len(accepted)
    assert value(metrics, "smart_embedder_queue_depth", queue="embed") == 0
