"""``GET /metrics``: every SPEC §6 name, the operator extras, and numbers that agree with
``/stats`` and with what the clients saw."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import wait_ready
from tests.ops.metrics_text import OPERATOR_NAMES, SPEC_NAMES, samples, series, value

ClientFactory = Callable[..., TestClient]  # type: ignore[type-arg]


@pytest.fixture(scope="module")
def served(make_client: ClientFactory) -> Iterator[TestClient]:  # type: ignore[type-arg]
    """An app that has answered a few embeddings, reranks and bad requests."""
    with make_client() as client:
        wait_ready(client)
        for _ in range(3):
            r = client.post("/embeddings/", json={"sentences": ["one text", "and another"]})
            assert r.status_code == 200
        r = client.post("/rerank", json={"query": "q", "passages": ["a", "b", "c"]})
        assert r.status_code == 200
        assert client.post("/embeddings/", json={"sentences": []}).status_code == 400
        assert client.post("/embeddings/", content=b"{").status_code == 400
        assert client.post("/rerank", json={"query": "q"}).status_code == 400
        yield client


def test_metrics_parse_and_name_everything(served: TestClient) -> None:  # type: ignore[type-arg]
    r = served.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    families = {family.name for family in text_string_to_metric_families(r.text)}
    exposed = set(samples(r.text))
    for name in SPEC_NAMES + OPERATOR_NAMES:
        # a counter's family is named without _total; its sample carries it
        assert name in exposed or f"{name}_count" in exposed, name
    assert not {"target_info", "target"} & families  # no exporter extras
    assert not any("otel_scope" in label for s in samples(r.text).values() for label, _ in s)


def test_counts_match_stats_and_clients(served: TestClient) -> None:  # type: ignore[type-arg]
    text = served.get("/metrics").text
    stats = served.get("/stats").json()
    # the original's series: its labels, its status values
    assert value(text, "embedding_requests_total", endpoint="/embeddings", status="success") == 3
    assert value(text, "embedding_requests_total", endpoint="/embeddings", status="error") == 2
    assert value(text, "rerank_requests_total", status="success") == 1
    assert value(text, "rerank_requests_total", status="error") == 1
    # the detail: our endpoint labels, HTTP codes
    assert value(text, "smart_embedder_requests_total", endpoint="embeddings", status="200") == 3
    assert value(text, "smart_embedder_requests_total", endpoint="embeddings", status="400") == 2
    assert value(text, "smart_embedder_requests_total", endpoint="rerank", status="200") == 1
    assert value(text, "smart_embedder_requests_total", endpoint="rerank", status="400") == 1
    assert value(text, "embedding_sentences_processed_total") == stats["totals"]["sentences"] == 6
    assert value(text, "rerank_pairs_processed_total") == stats["totals"]["rerank_pairs"] == 3
    assert stats["requests_by_endpoint"] == {"embeddings": 5, "rerank": 2}
    assert stats["totals"]["errors"] == 3
    assert value(text, "embedding_request_duration_seconds_count", endpoint="/embeddings") == 5
    assert value(text, "rerank_request_duration_seconds_count") == 2
    assert value(text, "smart_embedder_request_duration_seconds_count", endpoint="rerank") == 2
    batches = value(text, "smart_embedder_batch_tokens_count")
    assert batches == stats["totals"]["batches"] >= 2
    padded = value(text, "smart_embedder_batch_tokens_sum")
    assert padded == stats["totals"]["padded_tokens"]


def test_gauges_are_zero_when_idle(served: TestClient) -> None:  # type: ignore[type-arg]
    text = served.get("/metrics").text
    for queue in ("embed", "rerank"):
        assert samples(text)["smart_embedder_queue_depth"]
        assert value(text, "smart_embedder_queue_depth", queue=queue) == 0
    for name in ("embedding_queue_size", "embedding_active_requests", "rerank_active_requests"):
        assert value(text, name) == 0, name
    info = samples(text)["embedding_server_info"][0][0]
    assert set(info) == {"model", "version", "gpu_available", "device"}
    assert info["device"] == "cpu" and info["gpu_available"] == "False"
    assert info["model"].endswith("bge-m3")
    detail = samples(text)["smart_embedder_server_info"][0][0]
    assert detail["reranker_model"].endswith("bge-reranker")


#: every original-named series and exactly the labels the original gives it (its README)
ORIGINAL_LABELS = {
    "embedding_requests_total": {"status", "endpoint"},
    "embedding_requests_rejected_total": {"reason"},
    "embedding_sentences_processed_total": set(),
    "embedding_request_duration_seconds_count": {"endpoint"},
    "embedding_batch_size_count": set(),
    "embedding_gpu_inference_duration_seconds_count": set(),
    "embedding_queue_size": set(),
    "embedding_active_requests": set(),
    "embedding_gpu_memory_allocated_bytes": set(),
    "rerank_requests_total": {"status"},
    "rerank_requests_rejected_total": {"reason"},
    "rerank_pairs_processed_total": set(),
    "rerank_request_duration_seconds_count": set(),
    "rerank_inference_duration_seconds_count": set(),
    "rerank_active_requests": set(),
    "gpu_memory_allocated_bytes": set(),
    "gpu_memory_reserved_bytes": set(),
    "gpu_memory_free_bytes": set(),
    "gpu_memory_total_bytes": set(),
}


def test_original_series_carry_exactly_the_original_labels(served: TestClient) -> None:  # type: ignore[type-arg]
    found = samples(served.get("/metrics").text)
    for name, labels in ORIGINAL_LABELS.items():
        assert found.get(name), name
        for sample_labels, _ in found[name]:
            assert set(sample_labels) == labels, (name, sample_labels)


def test_the_values_dashboards_filter_on_exist_from_the_first_scrape(
    make_client: ClientFactory,
) -> None:
    with make_client() as client:
        wait_ready(client)
        text = client.get("/metrics").text
    for status in ("success", "error", "timeout"):
        assert series(text, "embedding_requests_total", endpoint="/embeddings", status=status) == [
            0
        ]
        assert series(text, "rerank_requests_total", status=status) == [0]
    for reason in ("rate_limit", "backpressure"):
        assert series(text, "embedding_requests_rejected_total", reason=reason) == [0]
        assert series(text, "rerank_requests_rejected_total", reason=reason) == [0]
        for endpoint in ("embeddings", "rerank"):
            detail = series(
                text, "smart_embedder_requests_rejected_total", endpoint=endpoint, reason=reason
            )
            assert detail == [0]
