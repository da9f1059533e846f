"""A real server on a CUDA device (``gpu``-marked: skipped where none is visible)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.helpers import ServerProcess

pytestmark = pytest.mark.gpu


def test_the_budget_is_measured_and_the_dtypes_shown(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server(DEVICE="cuda")
    health = httpx.get(server.url + "/health").json()
    assert health["batch"]["max_batch_tokens_source"] == "measured"
    assert all(t >= 512 for t in health["batch"]["max_batch_tokens_by_model"].values())
    assert {m["dtype"] for m in health["models"].values()} == {"float16"}
    assert "batch budget" in server.log() and "(measured" in server.log()
    r = httpx.post(server.url + "/embeddings/", json={"sentences": ["a", "b c"]})
    assert r.status_code == 200
    metrics = httpx.get(server.url + "/metrics").text
    assert "gpu_memory_total_bytes" in metrics


def test_an_explicit_budget_wins(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(DEVICE="cuda", MAX_BATCH_TOKENS="4096")
    batch = httpx.get(server.url + "/health").json()["batch"]
    assert batch["max_batch_tokens_source"] == "setting"
    assert set(batch["max_batch_tokens_by_model"].values()) == {4096}
