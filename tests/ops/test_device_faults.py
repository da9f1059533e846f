"""Device faults on a real server, injected into the real tiny models in the engine process
(app/testing/faults.py): out of memory splits the batch and lowers the budget, an item that
does not fit alone gets 507, and a sticky CUDA error takes the whole server down."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable

import httpx
import numpy as np

from app.testing.faults import fault_environment
from tests.helpers import ServerProcess
from tests.ops.metrics_text import value

# No calibration passes (their 16 x 62 tokens would meet the plans), one pass thread (a lone
# request is then not shared between two), every batch cut by the token budget alone.
LOWERED = re.compile(
    r"ran out of device memory at (?P<failed>\d+) padded tokens \(split 1 times\): "
    r"its batch budget goes from 8192 to (?P<new>\d+) tokens"
)
QUIET_START = {"BATCH_OVERHEAD_TOKENS": "64", "CPU_INFERENCE_WORKERS": "1", "WARMUP": "false"}


def plan(**faults: object) -> str:
    return json.dumps({"kinds": ["bge-m3"], **faults})


def texts(count: int, words: int = 90) -> list[str]:
    """Distinct texts of ``words`` + 3 tokens each on the tiny bge-m3."""
    return [f"text{i} " + "word " * (words - 1) for i in range(count)]


def test_a_batch_out_of_memory_is_split_and_the_budget_lowered(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server(**fault_environment(plan(oom_above_tokens=1200)), **QUIET_START)
    client = httpx.Client(base_url=server.url, timeout=60)
    health = client.get("/health").json()["batch"]
    name = next(iter(health["max_batch_tokens_by_model"]))
    assert health["max_batch_tokens_by_model"][name] == 8192
    assert health["max_batch_tokens_source"] == "derived"
    body = {"sentences": texts(16), "return_dense": True, "return_sparse": True}

    # 16 x ~93 padded tokens: out of memory, then two halves that fit.
    first = client.post("/embeddings/", json=body)
    assert first.status_code == 200, first.text
    totals = client.get("/stats").json()["totals"]
    assert (totals["oom_splits"], totals["budget_adaptations"], totals["items_too_large"]) == (
        1,
        1,
        0,
    )
    lowered = LOWERED.search(server.log())
    assert lowered is not None, server.log()
    failed, new = int(lowered["failed"]), int(lowered["new"])
    assert failed > 1200 >= new == failed // 2  # the half that ran
    assert client.get("/health").json()["batch"]["max_batch_tokens_by_model"][name] == new

    # Cut at the lowered budget, the same request fits at once: no split, no new adaptation.
    again = client.post("/embeddings/", json=body)
    assert again.status_code == 200, again.text
    totals = client.get("/stats").json()["totals"]
    assert (totals["oom_splits"], totals["budget_adaptations"]) == (1, 1)
    split, whole = (
        np.array([d["embeddings"]["dense"] for d in r.json()["data"]]) for r in (first, again)
    )
    np.testing.assert_allclose(split, whole, atol=1e-5)
    alone = client.post("/embeddings/", json={"sentences": texts(1), "return_dense": True}).json()[
        "data"
    ][0]["embeddings"]["dense"]
    np.testing.assert_allclose(split[0], alone, atol=1e-5)

    metrics = client.get("/metrics").text
    labels = {"queue": "embed", "model": name}
    assert value(metrics, "smart_embedder_batch_budget_lowered_total", **labels) == 1
    assert value(metrics, "smart_embedder_oom_splits_total", **labels) == 1
    assert value(metrics, "smart_embedder_batch_budget_tokens", **labels) == new
    assert client.get("/readyz").status_code == 200


def test_an_item_that_does_not_fit_alone_fails_with_507_and_the_server_serves_on(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server(**fault_environment(plan(oom_above_tokens=200)), **QUIET_START)
    client = httpx.Client(base_url=server.url, timeout=60)
    # 93 + 253 tokens: the pair fails, the short one then runs alone, the long one cannot.
    r = client.post("/embeddings/", json={"sentences": [*texts(1), *texts(1, words=250)]})
    assert r.status_code == 507, r.text
    assert "does not fit in the device's free memory" in r.json()["detail"]
    assert r.json()["error"]["type"] == "device_memory_error"
    totals = client.get("/stats").json()["totals"]
    assert (totals["oom_splits"], totals["items_too_large"], totals["budget_adaptations"]) == (
        1,
        1,
        1,
    )
    # the smallest part that failed was the long text alone: the budget goes below it
    lowered = LOWERED.search(server.log())
    assert lowered is not None, server.log()
    failed, new = int(lowered["failed"]), int(lowered["new"])
    assert 250 < failed <= 260 and new == failed // 2
    name = next(iter(client.get("/health").json()["batch"]["max_batch_tokens_by_model"]))
    assert client.get("/health").json()["batch"]["max_batch_tokens_by_model"][name] == new
    assert client.get("/readyz").status_code == 200
    short = client.post("/embeddings/", json={"sentences": texts(1)})
    assert short.status_code == 200, short.text


def test_a_sticky_device_error_fails_what_is_in_flight_with_503_and_exits_non_zero(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server(
        **fault_environment(plan(sticky_longer_than=200)),
        **QUIET_START,
        SHUTDOWN_DRAIN_SECONDS="30",
    )

    async def scenario() -> tuple[httpx.Response, list[int]]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            assert (await client.post("/embeddings/", json={"sentences": texts(2)})).is_success
            broken = await client.post("/embeddings/", json={"sentences": texts(1, words=250)})
            readiness: list[int] = []
            while not readiness or readiness[-1] == 200:
                try:
                    readiness.append((await client.get("/readyz")).status_code)
                except httpx.TransportError:
                    readiness.append(0)  # the server has already exited
            return broken, readiness

    broken, readiness = asyncio.run(scenario())
    assert broken.status_code == 503, broken.text
    assert "illegal memory access" in broken.json()["detail"]
    assert readiness[-1] in (503, 0)
    assert server.proc.wait(timeout=60) != 0
    log = server.log()
    assert "the device is unusable: RuntimeError: CUDA error: an illegal memory access" in log
