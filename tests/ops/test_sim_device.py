"""The simulated device (``app/testing/sim_device.py``, the benchmark's; issue 22) on a real
server: its engine waits instead of running the transformers, and still answers with the
real heads' shapes, the same vectors for the same text in any batch, and one pass at a time
whatever its pass threads."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from app.testing.sim_device import read_stats, sim_environment
from tests.helpers import ServerProcess

#: the tiny bge-m3's hidden size, which is also its ColBERT dimension
TINY_HIDDEN = 32
ALL_HEADS = {"return_dense": True, "return_sparse": True, "return_colbert": True}


@pytest.fixture(scope="module")
def sim(
    server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, Path]]:
    stats = tmp_path_factory.mktemp("sim-device") / "device.json"
    env = {
        **server_env,
        **sim_environment("2,1", stats),  # 2 ms + 1 us per padded token
        # two pass threads, as on a CPU: the device must still run one pass at a time
        "CPU_INFERENCE_WORKERS": "2",
        "EMBED_CACHE_MB": "0",  # every request reaches a pass
    }
    with ServerProcess(env) as server:
        server.wait_ready()
        yield server, stats


def test_outputs_have_the_real_heads_shapes_and_depend_on_the_text_only(
    sim: tuple[ServerProcess, Path],
) -> None:
    server, _ = sim
    texts = ["a short text", "another, somewhat longer text than the first one"]
    r = httpx.post(server.url + "/embeddings/", json={"sentences": texts, **ALL_HEADS})
    assert r.status_code == 200, r.text
    tokens = httpx.post(server.url + "/tokenize", json={"inputs": texts}).json()
    first = [item["embeddings"] for item in r.json()["data"]]
    for vectors, ids in zip(first, tokens, strict=True):
        assert len(vectors["dense"]) == TINY_HIDDEN
        # one ColBERT row per token after CLS, L2-normalised by the real head
        colbert = np.asarray(vectors["colbert"])
        assert colbert.shape == (len(ids) - 1, TINY_HIDDEN)
        np.testing.assert_allclose(np.linalg.norm(colbert, axis=1), 1.0, atol=1e-4)
        assert vectors["sparse"] and all(weight > 0 for weight in vectors["sparse"].values())
    assert first[0]["dense"] != first[1]["dense"]
    # the same text in another batch (other neighbours, other padding): the same vectors
    again = httpx.post(
        server.url + "/embeddings/", json={"sentences": [texts[1], "x " * 40], **ALL_HEADS}
    ).json()["data"][0]["embeddings"]
    np.testing.assert_allclose(again["dense"], first[1]["dense"], atol=1e-6)
    np.testing.assert_allclose(again["colbert"], first[1]["colbert"], atol=1e-6)
    results = httpx.post(
        server.url + "/rerank", json={"query": "q", "passages": ["one", "two words"]}
    ).json()["results"]
    assert sorted(x["index"] for x in results) == [0, 1]
    assert results[0]["score"] != results[1]["score"]


def test_every_batch_is_one_pass_and_passes_never_overlap(
    sim: tuple[ServerProcess, Path],
) -> None:
    server, stats = sim

    async def load() -> tuple[int, int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            before = (await client.get("/stats")).json()["totals"]["batches"]
            answers = await asyncio.gather(
                *(
                    client.post(
                        "/embeddings/", json={"sentences": [f"text {i} of {j}" for j in range(4)]}
                    )
                    for i in range(32)
                )
            )
            assert all(a.status_code == 200 for a in answers)
            return before, (await client.get("/stats")).json()["totals"]["batches"]

    device_before = read_stats(stats)
    batches_before, batches_after = asyncio.run(load())
    device = read_stats(stats)
    # each batch the engine ran was one wait on the device, and nothing else was
    assert device.passes - device_before.passes == batches_after - batches_before > 0
    assert device.busy_seconds > device_before.busy_seconds
    assert device.max_running == 1
