"""The original service's rejection series, read as text (SPEC §4, §6): after real 429s and
503s on a real server, ``/metrics`` carries exactly the lines a query or alert written for the
original matches (``embedding_requests_rejected_total{reason="rate_limit"} 2.0``), every
refusal clients saw is counted once, ``/v1/models``' too, and ``/stats``' ``rejected_requests``
is their sum."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import ServerProcess
from tests.ops.load import heavy_texts, stats_when

#: every client gets a bucket of one request, refilled once a minute: its second request
#: inside the test is a 429 whatever the machine's speed
LIMITS = {
    "RATE_LIMIT_REQUESTS_PER_MINUTE": "1",
    "RATE_LIMIT_BURST_SIZE": "1",
    "TRUSTED_PROXIES": "127.0.0.1",
    "MAX_QUEUE_SIZE": "1",
}
_addresses = (f"198.51.100.{n}" for n in itertools.count(10))


def as_new_client(server: ServerProcess, **kwargs: object) -> httpx.AsyncClient:
    """A client the server has not seen (its own X-Forwarded-For, so its own bucket)."""
    headers = {"X-Forwarded-For": next(_addresses)}
    return httpx.AsyncClient(base_url=server.url, headers=headers, timeout=120, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def server(server_env: dict[str, str]) -> Iterator[ServerProcess]:
    with ServerProcess({**server_env, **LIMITS}) as running:
        running.wait_ready()
        yield running


async def twice(server: ServerProcess, method: str, path: str, **body: object) -> list[int]:
    async with as_new_client(server) as client:
        return [(await client.request(method, path, **body)).status_code for _ in range(2)]  # type: ignore[arg-type]


async def backpressure_refusals(server: ServerProcess) -> int:
    """503s seen by probes sent while one heavy request holds the one queue place. A probe
    that comes back 200 arrived after the heavy one was answered: hold the queue again."""
    heavy = {"sentences": heavy_texts(64, words=200)}
    refused = 0
    async with as_new_client(server) as watcher:
        for _ in range(20):
            async with as_new_client(server) as holder:
                held = asyncio.create_task(holder.post("/embeddings/", json=heavy))
                await stats_when(
                    watcher, lambda s, task=held: s["queue"]["embed_pending"] >= 1 or task.done()
                )
                async with as_new_client(server) as probe:
                    status = (
                        await probe.post("/embeddings/", json={"sentences": ["x"]})
                    ).status_code
                assert (await held).status_code == 200
            assert status in (200, 503)
            if status == 503:
                refused += 1
                break
    assert refused, "the queue was never seen full"
    return refused


def metric_lines(text: str, name: str) -> set[str]:
    return {line for line in text.splitlines() if line.startswith(name + "{")}


def test_rejection_series_read_as_the_original_wrote_them(server: ServerProcess) -> None:
    async def traffic() -> tuple[list[int], list[int], list[int], int]:
        embed = await twice(server, "POST", "/embeddings/", json={"sentences": ["a"]})
        rerank = await twice(server, "POST", "/rerank", json={"query": "q", "passages": ["p"]})
        models = await twice(server, "GET", "/v1/models")
        return embed, rerank, models, await backpressure_refusals(server)

    embed, rerank, models, refused = asyncio.run(traffic())
    assert embed == rerank == models == [200, 429]

    text = httpx.get(f"{server.url}/metrics").text
    assert metric_lines(text, "embedding_requests_rejected_total") == {
        # /embeddings/ and /v1/models: the original counted every refusal outside /rerank here
        'embedding_requests_rejected_total{reason="rate_limit"} 2.0',
        f'embedding_requests_rejected_total{{reason="backpressure"}} {float(refused)}',
    }
    assert metric_lines(text, "rerank_requests_rejected_total") == {
        'rerank_requests_rejected_total{reason="rate_limit"} 1.0',
        'rerank_requests_rejected_total{reason="backpressure"} 0.0',
    }
    detail = metric_lines(text, "smart_embedder_requests_rejected_total")
    assert 'smart_embedder_requests_rejected_total{endpoint="models",reason="rate_limit"} 1.0' in (
        detail
    )
    assert (
        f'smart_embedder_requests_rejected_total{{endpoint="embeddings",reason="backpressure"}} '
        f"{float(refused)}" in detail
    )
    assert 'smart_embedder_requests_total{endpoint="models",status="429"} 1.0' in text

    stats = httpx.get(f"{server.url}/stats").json()
    assert stats["rejected_requests"] == 3 + refused == stats["totals"]["rejected_requests"]
    assert stats["rejected_by_endpoint"]["models"] == {"rate_limit": 1}


def test_stats_total_requests_leaves_out_the_model_list(server: ServerProcess) -> None:
    before = httpx.get(f"{server.url}/stats").json()
    assert asyncio.run(twice(server, "GET", "/v1/models"))[0] == 200
    after = httpx.get(f"{server.url}/stats").json()
    assert after["total_requests"] == before["total_requests"]
    assert after["requests_by_endpoint"]["models"] >= 2
