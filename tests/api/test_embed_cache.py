"""The exact-text embedding cache (EMBED_CACHE_MB), over the real app: a hit is answered
without a forward pass (the engine's batch counters in /stats stay put), a mixed request sends
only its misses, the LRU keeps to its bytes, and it is off by default."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from litestar.testing import TestClient

from app.settings import Settings
from tests.helpers import wait_ready
from tests.ops.metrics_text import value

DENSE_ONLY = {"return_sparse": False, "return_colbert": False}


@pytest.fixture()
def cached(make_client: Callable[..., TestClient]) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with make_client(embed_cache_mb=1) as client:
        wait_ready(client)
        yield client


def stats(client: TestClient) -> dict[str, Any]:  # type: ignore[type-arg]
    body: dict[str, Any] = client.get("/stats").json()
    return body


def embed(client: TestClient, texts: list[str], **fields: object) -> dict[str, Any]:  # type: ignore[type-arg]
    r = client.post("/embeddings/", json={"sentences": texts, **fields})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_off_by_default_every_request_runs_a_pass(client: TestClient) -> None:  # type: ignore[type-arg]
    assert stats(client)["embed_cache"] is None
    before = stats(client)["totals"]["batches"]
    embed(client, ["the same text twice"])
    embed(client, ["the same text twice"])
    assert stats(client)["totals"]["batches"] == before + 2


def test_a_repeat_is_a_hit_answered_without_a_pass(cached: TestClient) -> None:  # type: ignore[type-arg]
    first = embed(cached, ["a cat sat on the mat"])
    after_miss = stats(cached)
    assert after_miss["embed_cache"]["misses"] == 1
    assert after_miss["embed_cache"]["hits"] == 0
    assert after_miss["embed_cache"]["entries"] == 1
    assert 0 < after_miss["embed_cache"]["bytes"] <= after_miss["embed_cache"]["max_bytes"]

    second = embed(cached, ["a cat sat on the mat"])
    after_hit = stats(cached)
    assert after_hit["totals"]["batches"] == after_miss["totals"]["batches"]
    assert after_hit["totals"]["batch_items"] == after_miss["totals"]["batch_items"]
    assert after_hit["embed_cache"]["hits"] == 1
    assert second["data"] == first["data"]  # every head, bit for bit
    assert set(second["data"][0]["embeddings"]) == {"dense", "sparse", "colbert"}

    metrics = cached.get("/metrics").text
    assert value(metrics, "smart_embedder_embed_cache_hits_total") == 1
    assert value(metrics, "smart_embedder_embed_cache_misses_total") == 1
    assert value(metrics, "smart_embedder_embed_cache_entries") == 1
    assert value(metrics, "smart_embedder_embed_cache_bytes") == after_hit["embed_cache"]["bytes"]


def test_a_mixed_request_sends_only_its_misses(cached: TestClient) -> None:  # type: ignore[type-arg]
    alone = embed(cached, ["seen before"])
    before = stats(cached)
    mixed = embed(cached, ["new one", "seen before", "another new one"])
    after = stats(cached)
    # the two misses and nothing else went to the engine (idle pass slots may split them)
    assert after["totals"]["batch_items"] == before["totals"]["batch_items"] + 2
    assert after["embed_cache"]["hits"] == before["embed_cache"]["hits"] + 1
    assert after["embed_cache"]["misses"] == before["embed_cache"]["misses"] + 2
    assert [item["text"] for item in mixed["data"]] == ["new one", "seen before", "another new one"]
    assert mixed["data"][1]["embeddings"] == alone["data"][0]["embeddings"]
    # output flags are not in the key: the stored vectors serve them
    fresh = embed(cached, ["new one"], normalize_dense=True)
    assert stats(cached)["totals"]["batches"] == after["totals"]["batches"]
    assert fresh["data"][0]["embeddings"]["sparse"] == mixed["data"][0]["embeddings"]["sparse"]


def test_the_key_holds_heads_and_input_type(cached: TestClient) -> None:  # type: ignore[type-arg]
    embed(cached, ["one text"], **DENSE_ONLY)
    before = stats(cached)
    embed(cached, ["one text"])  # all heads: another key
    embed(cached, ["one text"], input_type="query", **DENSE_ONLY)
    after = stats(cached)
    assert after["totals"]["batches"] == before["totals"]["batches"] + 2
    assert after["embed_cache"]["hits"] == before["embed_cache"]["hits"]
    embed(cached, ["one text"], input_type="query", **DENSE_ONLY)
    assert stats(cached)["embed_cache"]["hits"] == after["embed_cache"]["hits"] + 1


def test_truncation_warnings_are_the_same_on_a_hit(cached: TestClient) -> None:  # type: ignore[type-arg]
    long_text = "word " * 700  # the tiny model takes 512 tokens
    first = embed(cached, [long_text, "short"])
    batches = stats(cached)["totals"]["batches"]
    second = embed(cached, [long_text, "short"])
    assert stats(cached)["totals"]["batches"] == batches
    assert [w["code"] for w in first["warnings"]] == ["input_truncated"]
    assert second["warnings"] == first["warnings"]
    assert second["data"] == first["data"]


def test_the_openai_route_counts_the_same_tokens_on_a_hit(cached: TestClient) -> None:  # type: ignore[type-arg]
    bodies = [
        cached.post("/v1/embeddings", json={"input": ["count my tokens"]}).json() for _ in range(2)
    ]
    assert stats(cached)["embed_cache"]["hits"] == 1
    assert bodies[1]["usage"] == bodies[0]["usage"]
    assert bodies[1]["data"] == bodies[0]["data"]


def test_eviction_keeps_the_cache_within_its_bytes(
    make_client: Callable[..., TestClient],  # type: ignore[type-arg]
) -> None:
    # room for a few dense-only entries of the tiny model
    with make_client(embed_cache_mb=4096 / 2**20) as client:
        wait_ready(client)
        texts = [f"text number {i}" for i in range(40)]
        stored = 0
        for text in texts:
            embed(client, [text], **DENSE_ONLY)
            stored += 1
            cache = stats(client)["embed_cache"]
            assert cache["bytes"] <= cache["max_bytes"] == 4096
            if cache["evictions"]:
                break
        assert cache["evictions"] == 1, "40 entries never filled 4 KiB"
        assert cache["entries"] == stored - 1
        # the least recently used (the first) went; the newest is still there
        before = stats(client)
        embed(client, [texts[stored - 1]], **DENSE_ONLY)
        assert stats(client)["totals"]["batches"] == before["totals"]["batches"]
        embed(client, [texts[0]], **DENSE_ONLY)
        after = stats(client)
        assert after["totals"]["batches"] == before["totals"]["batches"] + 1
        assert after["embed_cache"]["misses"] == before["embed_cache"]["misses"] + 1


def test_two_models_each_send_only_their_misses(
    make_client: Callable[..., TestClient],  # type: ignore[type-arg]
) -> None:
    """The offline preset: MiniLM gives dense, SPLADE sparse; each has its own entries."""
    defaults = Settings()
    with make_client(
        preset="offline",
        bge_m3_model=defaults.bge_m3_model,
        reranker_model=defaults.reranker_model,
        embed_cache_mb=1,
    ) as client:
        wait_ready(client)
        both = {"return_dense": True, "return_sparse": True}
        first = embed(client, ["plants make food", "stocks rose"], **both)
        before = stats(client)
        assert before["embed_cache"]["misses"] == 4  # two texts, two models
        mixed = embed(client, ["stocks rose", "a new text"], **both)
        after = stats(client)
        assert after["totals"]["batch_items"] == before["totals"]["batch_items"] + 2
        assert after["embed_cache"]["hits"] == 2
        assert mixed["data"][0]["embeddings"] == first["data"][1]["embeddings"]
        assert set(mixed["data"][1]["embeddings"]) == {"dense", "sparse"}
        # dense alone: a key holds one model's heads, so MiniLM's entry serves it, no pass
        alone = embed(client, ["a new text"], return_dense=True, return_sparse=False)
        assert stats(client)["totals"]["batch_items"] == after["totals"]["batch_items"]
        assert alone["data"][0]["embeddings"]["dense"] == mixed["data"][1]["embeddings"]["dense"]


def test_token_ids_bypass_the_cache_beside_cached_texts(cached: TestClient) -> None:  # type: ignore[type-arg]
    # TEI's token-id inputs: the cache is of texts; ids always run, texts beside them hit
    text = "a text seen before"
    (ids,) = [
        [t["id"] for t in row] for row in cached.post("/tokenize", json={"inputs": text}).json()
    ]
    first = cached.post("/embed", json={"inputs": [text, ids]})
    assert first.status_code == 200, first.text
    before = stats(cached)
    again = cached.post("/embed", json={"inputs": [text, ids]})
    after = stats(cached)
    assert again.json()[0] == first.json()[0]  # the cached text's vector, bit for bit
    # the ids ran alone this time: the same vector up to the float noise of another batch
    np.testing.assert_allclose(again.json()[1], first.json()[1], atol=1e-5)
    assert after["totals"]["batch_items"] == before["totals"]["batch_items"] + 1  # the ids
    assert after["embed_cache"]["hits"] == before["embed_cache"]["hits"] + 1  # the text
    assert after["embed_cache"]["misses"] == before["embed_cache"]["misses"]
    assert after["embed_cache"]["entries"] == before["embed_cache"]["entries"] == 1
