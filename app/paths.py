"""Which paths are which: the counted routes (and the ``endpoint`` label each one's counters
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
    "/v1/models": "models",
}

#: endpoint label → the path it is named by in the original service's series (SPEC §6:
#: ``embedding_requests_total{endpoint="/embeddings"}``); the first path of each label
ENDPOINT_PATHS = {label: path for path, label in reversed(ENDPOINTS.items())}

#: endpoints that are counted but queue nothing: never shed, never in the inference families
METADATA_ENDPOINTS = frozenset({"models"})

OPERATIONS_PATHS = ("/health", "/livez", "/readyz", "/stats", "/metrics", "/docs", "/openapi.json")


def endpoint_for(path: str) -> str | None:
    """The endpoint label of a counted path (inference routes and ``/v1/models[/{id}]``);
    ``None`` for everything else."""
    trimmed = path.rstrip("/")
    found = ENDPOINTS.get(trimmed)
    if found is None and trimmed.startswith("/v1/models/"):
        return "models"
    return found


def is_operations_path(path: str) -> bool:
    """``/docs`` and everything under it (Swagger, its schema) count as operations too."""
    trimmed = path.rstrip("/") or "/"
    return trimmed in OPERATIONS_PATHS or trimmed.startswith("/docs/")
