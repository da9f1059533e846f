"""Only the vectors asked for (issue 12): dense-only, sparse-only and ColBERT-only requests sent
at once share batches (a batch runs the union of their heads), and each response still holds
exactly the vector types its request asked for, with the values a request of its own gets."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import numpy as np
import pytest

from tests.helpers import ServerProcess
from tests.ops.load import heavy_texts, stats_when

#: these tests share the session's default server (tests/ops/conftest.py)
pytestmark = pytest.mark.xdist_group("ops-default-server")

ONLY = {
    "dense": {"return_dense": True, "return_sparse": False, "return_colbert": False},
    "sparse": {"return_dense": False, "return_sparse": True, "return_colbert": False},
    "colbert": {"return_dense": False, "return_sparse": False, "return_colbert": True},
    "dense+sparse": {"return_dense": True, "return_sparse": True, "return_colbert": False},
}
REQUESTS = 60


@pytest.fixture(scope="module")
def server(default_server: ServerProcess) -> ServerProcess:
    return default_server


def text_of(i: int) -> str:
    return f"request {i} asks for some of the vectors of text number {i}"


def kind_of(i: int) -> str:
    return list(ONLY)[i % len(ONLY)]


async def embed(client: httpx.AsyncClient, i: int) -> dict[str, Any]:
    r = await client.post("/embeddings/", json={"sentences": [text_of(i)], **ONLY[kind_of(i)]})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body["data"][0]["embeddings"]


def test_each_response_holds_only_its_heads(server: ServerProcess) -> None:
    async def together() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
        limits = httpx.Limits(max_connections=REQUESTS + 2)
        async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as client:
            before = (await client.get("/stats")).json()
            # a long batch in front makes the requests below wait in the queue together
            hold = asyncio.create_task(
                client.post("/embeddings/", json={"sentences": heavy_texts(32, words=200)})
            )
            await stats_when(client, lambda s: s["queue"]["embed_pending"] >= 1 or hold.done())
            answers = await asyncio.gather(*(embed(client, i) for i in range(REQUESTS)))
            assert (await hold).status_code == 200
            return answers, before, (await client.get("/stats")).json()

    answers, before, after = asyncio.run(together())
    for i, vectors in enumerate(answers):
        wanted = {
            head for head in ("dense", "sparse", "colbert") if ONLY[kind_of(i)][f"return_{head}"]
        }
        assert set(vectors) == wanted, (i, kind_of(i), sorted(vectors))
    # the requests did share forward passes: fewer batches than requests
    batches = after["totals"]["batches"] - before["totals"]["batches"]
    assert batches < REQUESTS + 1, after["totals"]

    async def alone(indexes: list[int]) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            return [await embed(client, i) for i in indexes]

    sample = [0, 1, 2, 3, 17, 42]
    for i, vectors in zip(sample, asyncio.run(alone(sample)), strict=True):
        shared = answers[i]
        assert set(vectors) == set(shared)
        if "dense" in vectors:
            np.testing.assert_allclose(shared["dense"], vectors["dense"], atol=1e-5)
        if "sparse" in vectors:
            assert shared["sparse"].keys() == vectors["sparse"].keys()
            np.testing.assert_allclose(
                [shared["sparse"][k] for k in vectors["sparse"]],
                list(vectors["sparse"].values()),
                atol=1e-5,
            )
        if "colbert" in vectors:
            np.testing.assert_allclose(shared["colbert"], vectors["colbert"], atol=1e-5)
