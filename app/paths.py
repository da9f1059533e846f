"""Which paths are which: the inference routes (and the ``endpoint`` label each one's counters
carry) and the operations routes (SPEC §1.3: never behind the token, never rate-limited).

A table with no imports, so the API layer, the security guards and the telemetry can all ask
it without importing each other.
"""

from __future__ import annotations

#: inference paths → the ``endpoint`` label of their counters
ENDPOINTS = {
    "/embeddings": "embeddings",
    "/rerank": "rerank",
    "/v1/embeddings": "openai_embeddings",
    "/v1/rerank": "rerank_compat",
    "/v2/rerank": "rerank_compat",
}

OPERATIONS_PATHS = ("/health", "/livez", "/readyz", "/stats", "/metrics", "/docs", "/openapi.json")


def endpoint_for(path: str) -> str | None:
    """The endpoint label of an inference path; ``None`` for everything else."""
    return ENDPOINTS.get(path.rstrip("/"))


def is_operations_path(path: str) -> bool:
    """``/docs`` and everything under it (Swagger, its schema) count as operations too."""
    trimmed = path.rstrip("/") or "/"
    return trimmed in OPERATIONS_PATHS or trimmed.startswith("/docs/")
