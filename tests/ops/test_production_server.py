"""One server set up as in production (token, default rate limits, a trusted proxy, OTLP
traces) over real HTTP: a 300-request burst, traces, and logs."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import ServerProcess
from tests.ops.metrics_text import value
from tests.ops.otlp_sink import OtlpSink

TOKEN = "prod-token-never-logged"
SECRET_TEXT = "a private sentence nobody may log"


@pytest.fixture(scope="module")
def sink() -> Iterator[OtlpSink]:
    collector = OtlpSink()
    yield collector
    collector.close()


@pytest.fixture(scope="module")
def server(server_env: dict[str, str], sink: OtlpSink) -> Iterator[ServerProcess]:
    process = ServerProcess(
        {
            **server_env,
            "API_TOKEN": TOKEN,
            # one request a minute after a burst of 120: how many of a burst are refused does
            # not depend on how fast this machine answers them
            "RATE_LIMIT_REQUESTS_PER_MINUTE": "1",
            "RATE_LIMIT_BURST_SIZE": "120",
            # the tests come from loopback and say who they are in X-Forwarded-For,
            # so each test has its own bucket
            "TRUSTED_PROXIES": "127.0.0.1",
            "OTEL_EXPORTER_OTLP_ENDPOINT": sink.url,
        }
    )
    process.wait_ready()
    yield process
    process.stop()


def client_as(server: ServerProcess, who: str, **kwargs: object) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Forwarded-For": who}
    return httpx.AsyncClient(base_url=server.url, headers=headers, **kwargs)  # type: ignore[arg-type]


def test_burst_of_300_from_one_client_is_limited(server: ServerProcess) -> None:
    async def burst() -> list[tuple[str, int]]:
        limits = httpx.Limits(max_connections=50)
        async with client_as(server, "198.51.100.1", timeout=120, limits=limits) as client:

            async def one(i: int) -> tuple[str, int]:
                if i % 2:
                    r = await client.post("/rerank", json={"query": "q", "passages": ["p"]})
                    return "rerank", r.status_code
                r = await client.post("/embeddings/", json={"sentences": [f"text {i}"]})
                return "embeddings", r.status_code

            return await asyncio.gather(*(one(i) for i in range(300)))

    before = httpx.get(f"{server.url}/stats").json()["rejected_by_endpoint"]
    results = asyncio.run(burst())
    assert {status for _, status in results} == {200, 429}
    limited = {
        e: sum(1 for ep, s in results if ep == e and s == 429) for e in ("embeddings", "rerank")
    }
    # 300 against a bucket of 120 (plus one a minute): 180 refused, a few fewer on a machine
    # slow enough to take minutes over the burst
    assert 150 <= sum(limited.values()) <= 180
    stats = httpx.get(f"{server.url}/stats").json()
    metrics = httpx.get(f"{server.url}/metrics").text
    for endpoint, family in (("embeddings", "embedding"), ("rerank", "rerank")):
        was = before.get(endpoint, {}).get("rate_limit", 0)
        assert stats["rejected_by_endpoint"][endpoint]["rate_limit"] - was == limited[endpoint]
        counted = value(
            metrics,
            "smart_embedder_requests_rejected_total",
            endpoint=endpoint,
            reason="rate_limit",
        )
        assert counted - was == limited[endpoint]
        # the original's series: one per family, by reason only
        original = value(metrics, f"{family}_requests_rejected_total", reason="rate_limit")
        assert original == stats["rejected_by_endpoint"][endpoint]["rate_limit"]


def test_another_client_is_not_limited_by_the_first(server: ServerProcess) -> None:
    async def one() -> int:
        async with client_as(server, "198.51.100.2") as client:
            r = await client.post("/embeddings/", json={"sentences": ["fresh bucket"]})
            return r.status_code

    assert asyncio.run(one()) == 200


def test_requests_and_batches_are_traced(server: ServerProcess, sink: OtlpSink) -> None:
    async def traffic() -> None:
        async with client_as(server, "198.51.100.3") as client:
            assert (await client.post("/embeddings/", json={"sentences": ["t"]})).status_code == 200
            r = await client.post("/rerank", json={"query": "q", "passages": ["a"]})
            assert r.status_code == 200

    asyncio.run(traffic())
    # spans leave in batches, about once a second; the deadline only guards against a hang
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        names = set(sink.span_names)
        if {"batch embed", "batch rerank"} <= names and any("/rerank" in n for n in names):
            break
        time.sleep(0.2)
    assert {"batch embed", "batch rerank"} <= set(sink.span_names)
    assert any(n.startswith("POST /embeddings") for n in sink.span_names), sink.span_names
    assert set(sink.paths) == {"/v1/traces"}
    assert not any("/metrics" in n or "/readyz" in n for n in sink.span_names)


def test_logs_are_json_lines_without_token_or_texts(server: ServerProcess) -> None:
    async def traffic() -> None:
        async with client_as(server, "198.51.100.4") as client:
            await client.post("/embeddings/", json={"sentences": [SECRET_TEXT]})
        async with httpx.AsyncClient(base_url=server.url) as anonymous:
            await anonymous.post("/embeddings/", headers={"Authorization": "Bearer " + TOKEN[::-1]})

    asyncio.run(traffic())
    lines = [line for line in server.log().splitlines() if line.strip()]
    assert all(x.startswith("{") for x in lines), [x for x in lines if not x.startswith("{")]
    events = [json.loads(line) for line in lines]
    assert all({"ts", "level", "logger", "msg"} <= set(event) for event in events)
    assert any(event["msg"].startswith("ready") for event in events)
    text = server.log()
    assert TOKEN not in text and TOKEN[::-1] not in text and SECRET_TEXT not in text
