"""Operations routes (SPEC §1.3): health, liveness, readiness gated on model load, docs."""

from __future__ import annotations

import re
import time

from litestar.testing import TestClient

from app.api.ops.routes import format_uptime
from app.asgi import create_app
from app.settings import Settings


def test_health_reports_models_device_and_batching(client: TestClient, tiny_models: dict) -> None:  # type: ignore[type-arg]
    body = client.get("/health").json()
    assert body["status"] == "healthy"
    assert body["device"] == "cpu"
    assert body["models_loaded"] is True
    assert body["dense_model"] == body["sparse_model"] == body["colbert_model"]
    assert body["reranker_model"] == str(tiny_models["bge-reranker"])
    assert body["models"]["dense"]["kind"] == "bge-m3"
    assert body["models"]["rerank"]["max_length"] == 512
    assert body["batch"]["max_batch_tokens"] >= 512


def test_health_has_the_original_fields_with_their_types(
    client: TestClient, tiny_models: dict
) -> None:  # type: ignore[type-arg]
    body = client.get("/health").json()
    # a script written for the original reads health["gpu"]["device_info"] on a CPU too
    assert body["gpu"] == {
        "available": False,
        "device_info": "CPU",
        "memory_gb": 0.0,
        "device_count": 0,
        "multi_gpu_enabled": False,
        "configured_devices": ["cpu"],
        "capability": None,
        "cuda": None,
        "total_memory_bytes": None,
    }
    assert body["model"] == body["dense_embedding_model"] == str(tiny_models["bge-m3"])
    assert body["reranker_model"] == str(tiny_models["bge-reranker"])
    assert body["max_input_length"] == body["models"]["dense"]["max_length"]
    assert isinstance(body["batch_size"], int) and body["batch_size"] >= 1
    assert body["max_requests_in_batch"] == body["batch"]["max_batch_requests"]


def test_stats_has_the_original_fields_with_their_types(client: TestClient) -> None:  # type: ignore[type-arg]
    before = client.get("/stats").json()
    assert client.post("/embeddings/", json={"sentences": ["one", "two"]}).status_code == 200
    body = client.get("/stats").json()
    assert re.fullmatch(r"\d+h \d+m \d+s", body["uptime"])
    hours, minutes, seconds = (int(part[:-1]) for part in body["uptime"].split())
    assert hours * 3600 + minutes * 60 + seconds == body["uptime_seconds"]
    assert type(body["uptime_seconds"]) is int
    assert body["total_requests"] == before["total_requests"] + 1
    assert body["total_sentences"] == before["total_sentences"] + 2
    assert body["total_batches"] >= before["total_batches"] + 1
    assert body["rejected_requests"] == body["totals"]["rejected_requests"]
    assert body["hardware"] == "CPU"
    assert body["hardware_details"]["device"] == "cpu"


def test_uptime_is_written_as_the_original_writes_it() -> None:
    assert format_uptime(3723.9) == "1h 2m 3s"
    assert format_uptime(0) == "0h 0m 0s"
    assert format_uptime(90061) == "25h 1m 1s"


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
