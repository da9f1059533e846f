"""Which paths are which: the counted routes (and the ``endpoint`` label each one's counters
carry) and the operations routes (SPEC §1.3: never behind the token, never rate-limited).

A table that imports nothing of ours, so the API layer, the security guards and the telemetry
can all ask it without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

#: inference paths → the ``endpoint`` label of their counters
ENDPOINTS = {
    "/embeddings": "embeddings",
    "/rerank": "rerank",
    "/hybrid_score": "hybrid_score",
    "/v1/embeddings": "openai_embeddings",
    "/v1/rerank": "rerank_compat",
    "/v2/rerank": "rerank_compat",
    "/v1/embed": "cohere_embed",
    "/v2/embed": "cohere_embed",
    "/v1/models": "models",
    # Hugging Face text-embeddings-inference's routes (app/api/tei/). TEI's /rerank is the
    # path above: a request counts as "rerank" until its body shows TEI's shape (see
    # ``endpoint_of``). / and /invocations count as the route they dispatch to.
    "/embed": "tei_embed",
    "/": "tei_embed",
    "/invocations": "tei_embed",
    "/embed_sparse": "tei_embed_sparse",
    "/embed_all": "tei_embed_all",
    "/similarity": "tei_similarity",
    "/predict": "tei_predict",
    "/tokenize": "tei_tokenize",
    "/decode": "tei_decode",
    "/info": "tei_info",
}

#: endpoint label → the path it is named by in the original service's series (SPEC §6:
#: ``embedding_requests_total{endpoint="/embeddings"}``); the first path of each label
ENDPOINT_PATHS = {
    **{label: path for path, label in reversed(ENDPOINTS.items())},
    "tei_rerank": "/rerank",
}

#: endpoints that are counted but queue nothing: never shed, never in the inference families
METADATA_ENDPOINTS = frozenset({"models", "tei_tokenize", "tei_decode", "tei_info"})

#: the ``scope["state"]`` key where a handler names the endpoint a request turned out to be
#: (TEI's body on ``/rerank``, ``POST /`` dispatching): ``endpoint_of`` reads it
ENDPOINT_STATE_KEY = "smart_embedder.endpoint"

OPERATIONS_PATHS = ("/health", "/livez", "/readyz", "/stats", "/metrics", "/docs", "/openapi.json")


def endpoint_for(path: str) -> str | None:
    """The endpoint label of a counted path (inference routes and ``/v1/models[/{id}]``);
    ``None`` for everything else."""
    trimmed = path.rstrip("/") or "/"
    found = ENDPOINTS.get(trimmed)
    if found is None and trimmed.startswith("/v1/models/"):
        return "models"
    return found


def endpoint_of(scope: Mapping[str, Any]) -> str | None:
    """The endpoint label of a request: the one its handler named (``ENDPOINT_STATE_KEY``),
    else its path's."""
    named = scope.get("state", {}).get(ENDPOINT_STATE_KEY)
    return str(named) if named is not None else endpoint_for(scope["path"])


def name_endpoint(state: MutableMapping[str, Any], endpoint: str) -> None:
    """Count this request (whose ``scope["state"]`` is ``state``) as ``endpoint`` from here on
    (``endpoint_of``)."""
    state[ENDPOINT_STATE_KEY] = endpoint


def is_operations_path(path: str) -> bool:
    """``/docs`` and everything under it (Swagger, its schema) count as operations too."""
    trimmed = path.rstrip("/") or "/"
    return trimmed in OPERATIONS_PATHS or trimmed.startswith("/docs/")
