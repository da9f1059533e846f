"""``Accept: application/msgpack`` gives the same body as JSON on every inference route."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

MSGPACK = {"Accept": "application/msgpack"}
#: fields that differ between two identical requests by design
VOLATILE = {"processing_time_ms", "id"}

TEXTS = ["MessagePack carries the same floats.", "ColBERT payloads are large"]
QUERY = "binary encoding"


ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/embeddings/", {"sentences": TEXTS}),
    ("POST", "/embeddings/", {"sentences": TEXTS, "sparse_as_indices": True}),
    ("POST", "/embeddings", {"sentences": TEXTS, "return_colbert": False, "normalize_dense": True}),
    ("POST", "/rerank", {"query": QUERY, "passages": TEXTS, "normalize": True, "top_n": 1}),
    ("POST", "/v1/embeddings", {"input": TEXTS}),
    ("POST", "/v1/embeddings", {"input": TEXTS[0], "encoding_format": "base64"}),
    ("POST", "/v1/rerank", {"query": QUERY, "documents": TEXTS, "return_documents": True}),
    ("POST", "/v2/embed", {"texts": TEXTS, "embedding_types": ["float", "int8", "binary"]}),
    ("POST", "/v2/rerank", {"query": QUERY, "documents": [{"text": t} for t in TEXTS]}),
    ("GET", "/v1/models", None),
]


def without_volatile(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in VOLATILE}


@pytest.mark.parametrize(("method", "path", "payload"), ROUTES)
def test_msgpack_body_equals_json_body(
    client: TestClient,  # type: ignore[type-arg]
    method: str,
    path: str,
    payload: dict[str, Any] | None,
) -> None:
    as_json = client.request(method, path, json=payload)
    as_msgpack = client.request(method, path, json=payload, headers=MSGPACK)
    assert as_json.status_code == 200, as_json.text
    assert as_msgpack.status_code == 200
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_msgpack.headers["content-type"] == "application/msgpack"
    decoded = msgspec.msgpack.decode(as_msgpack.content)
    assert without_volatile(decoded) == without_volatile(as_json.json())
    assert set(decoded) == set(as_json.json())  # the volatile fields are there too


def test_msgpack_is_smaller_for_colbert(client: TestClient) -> None:  # type: ignore[type-arg]
    payload = {"sentences": ["word " * 200] * 4, "return_dense": False, "return_sparse": False}
    as_json = client.post("/embeddings/", json=payload)
    as_msgpack = client.post("/embeddings/", json=payload, headers=MSGPACK)
    assert len(as_msgpack.content) < 0.7 * len(as_json.content)


def test_x_msgpack_alias_and_json_default(client: TestClient) -> None:  # type: ignore[type-arg]
    aliased = client.post(
        "/v1/embeddings", json={"input": "x"}, headers={"Accept": "application/x-msgpack"}
    )
    assert aliased.headers["content-type"] == "application/msgpack"
    assert msgspec.msgpack.decode(aliased.content)["object"] == "list"
    default = client.post("/v1/embeddings", json={"input": "x"}, headers={"Accept": "*/*"})
    assert default.headers["content-type"].startswith("application/json")


def test_errors_stay_json(client: TestClient) -> None:  # type: ignore[type-arg]
    # A client that asked for MessagePack still gets an error it can read as text.
    r = client.post("/v1/embeddings", json={"input": []}, headers=MSGPACK)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"]["param"] == "input"
