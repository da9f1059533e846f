"""Operations routes (SPEC §1.3): health, liveness, readiness gated on model load, docs."""

from __future__ import annotations

import time

from litestar.testing import TestClient

from app.asgi import create_app
from app.settings import Settings


def test_health_reports_models_device_and_batching(client: TestClient, tiny_models: dict) -> None:  # type: ignore[type-arg]
    body = client.get("/health").json()
    assert body["status"] == "healthy"
    assert body["device"] == "cpu" and body["gpu"] is None
    assert body["models_loaded"] is True
    assert body["dense_model"] == body["sparse_model"] == body["colbert_model"]
    assert body["reranker_model"] == str(tiny_models["bge-reranker"])
    assert body["models"]["dense"]["kind"] == "bge-m3"
    assert body["models"]["rerank"]["max_length"] == 512
    assert body["batch"]["max_batch_tokens"] >= 512


def test_livez_and_openapi(client: TestClient) -> None:  # type: ignore[type-arg]
    assert client.get("/livez").json() == {"status": "alive"}
    spec = client.get("/openapi.json").json()
    assert {"/embeddings", "/rerank", "/health", "/readyz"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200


def test_readyz_is_503_until_models_are_loaded_and_warm(tiny_settings: Settings) -> None:
    # Fresh app, nothing preloaded: models load in the background after start-up.
    with TestClient(create_app(tiny_settings)) as fresh:
        first = fresh.get("/readyz")
        assert first.status_code == 503
        assert first.json()["status"] == "loading"
        embed = fresh.post("/embeddings/", json={"sentences": ["too early"]})
        assert embed.status_code == 503 and "loading" in embed.json()["detail"]
        deadline = time.monotonic() + 60
        while fresh.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "never became ready"
            time.sleep(0.1)
        assert fresh.post("/embeddings/", json={"sentences": ["now"]}).status_code == 200


def test_readyz_turns_503_when_the_engine_dies(make_client) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import wait_ready

    with make_client() as doomed:
        wait_ready(doomed)
        runtime = doomed.app.state.runtime
        runtime.engine.kill()  # what a fatal device error does to the threads
        r = doomed.get("/readyz")
        assert r.status_code == 503
        assert r.json() == {"status": "unhealthy", "detail": "the inference engine stopped"}
        failed = doomed.post("/embeddings/", json={"sentences": ["x"]})
        assert failed.status_code == 503
        assert "inference engine" in failed.json()["detail"]


def test_timeout_is_504(make_client) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import wait_ready

    with make_client(request_timeout=0.001) as hurried:
        wait_ready(hurried)
        r = hurried.post("/embeddings/", json={"sentences": ["long text " * 200] * 64})
        assert r.status_code == 504, r.text
        assert r.json()["detail"] == "the request did not finish within 0.001s"
