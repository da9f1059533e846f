"""Reading ``/metrics`` back with prometheus_client's own text parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

SPEC_NAMES = (
    "embedding_requests_total",
    "embedding_requests_rejected_total",
    "embedding_sentences_processed_total",
    "embedding_request_duration_seconds",
    "embedding_batch_size",
    "embedding_gpu_inference_duration_seconds",
    "embedding_queue_size",
    "embedding_active_requests",
    "embedding_server_info",
    "rerank_requests_total",
    "rerank_requests_rejected_total",
    "rerank_pairs_processed_total",
    "rerank_request_duration_seconds",
    "rerank_inference_duration_seconds",
    "rerank_active_requests",
    "gpu_memory_allocated_bytes",
    "gpu_memory_reserved_bytes",
    "gpu_memory_free_bytes",
    "gpu_memory_total_bytes",
)
OPERATOR_NAMES = (
    "smart_embedder_queue_depth",
    "smart_embedder_batch_tokens",
    "smart_embedder_batch_padding_ratio",
    "smart_embedder_queue_wait_seconds",
)


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample by its exposed name (``x_total``, ``x_bucket``, ``x_count``...)."""
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(text: str, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels`` (0 if none)."""
    return sum(
        v
        for sample_labels, v in samples(text).get(name, [])
        if all(sample_labels.get(k) == want for k, want in labels.items())
    )


def series(text: str, name: str, **labels: str) -> list[float]:
    """The values of ``name``'s samples whose labels are exactly ``labels`` (none: ``[]``)."""
    return [v for sample_labels, v in samples(text).get(name, []) if sample_labels == labels]
