"""The request bodies in ``/openapi.json`` say what the server accepts (SPEC §1.3, §4): a body
valid by the document is answered 200, and one the server refuses is invalid by it, at every
bound (counts, characters, blank texts, ``top_n``, vector types, ``dimensions``) and for
booleans (0 and 1 on the native routes, as the original service read them; JSON booleans only
on the others). The bounds that depend on the loaded models follow them. TEI's routes answer a
request over a count or size limit with TEI's 413: their bodies state those limits beside the
schema, as extension keywords.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from litestar.testing import TestClient

from app.asgi import create_app
from app.models.base import Head
from app.models.catalog import ModelSet
from app.settings import Settings
from tests.helpers import wait_ready


def body_validator(client: TestClient, path: str) -> jsonschema.Draft202012Validator:  # type: ignore[type-arg]
    document = client.get("/openapi.json").json()
    ref = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = {**ref, "components": document["components"]}
    return jsonschema.Draft202012Validator(schema)


WORDS = "x" * 20_000
#: (path, body, status): 200 where the document says valid; 400 / 422 where it does not
CASES: list[tuple[str, dict[str, Any], int]] = [
    ("/embeddings", {"sentences": ["a"]}, 200),
    ("/embeddings", {"sentences": ["a"] * 128}, 200),
    ("/embeddings", {"sentences": ["a"] * 129}, 422),
    ("/embeddings", {"sentences": [WORDS]}, 200),
    ("/embeddings", {"sentences": [WORDS + "x"]}, 422),
    ("/embeddings", {"sentences": []}, 400),
    ("/embeddings", {"sentences": ["a", ""]}, 400),
    ("/embeddings", {"sentences": [" \t\n"]}, 400),
    ("/embeddings", {"sentences": ["\u3000\u2028\x1c"]}, 400),
    ("/embeddings", {"sentences": ["\ufeff"]}, 200),  # not whitespace to Python
    ("/embeddings", {"sentences": ["a"], "return_dense": False, "return_sparse": False}, 200),
    (
        "/embeddings",
        {
            "sentences": ["a"],
            "return_dense": False,
            "return_sparse": False,
            "return_colbert": False,
        },
        400,
    ),
    # the native booleans take 0 and 1, as the original's pydantic models did
    ("/embeddings", {"sentences": ["a"], "normalize_dense": 1, "sparse_as_indices": 0}, 200),
    ("/embeddings", {"sentences": ["a"], "return_dense": 1, "return_colbert": 0}, 200),
    ("/embeddings", {"sentences": ["a"], "normalize_dense": 2}, 400),
    (
        "/embeddings",
        {"sentences": ["a"], "return_dense": 0, "return_sparse": False, "return_colbert": 0},
        400,
    ),
    ("/rerank", {"query": "q", "passages": ["p"], "normalize": 1}, 200),
    # chunking (the tiny bge-m3: 510 tokens a chunk); documents longer than MAX_SENTENCE_CHARS
    ("/embeddings", {"sentences": ["a b c"], "chunking": {"max_tokens": 4}}, 200),
    ("/embeddings", {"sentences": ["a"], "chunking": None}, 200),
    ("/embeddings", {"sentences": ["word " * 4001], "chunking": {"late": False}}, 200),
    ("/embeddings", {"sentences": ["a"], "chunking": {"max_tokens": 510}}, 200),
    ("/embeddings", {"sentences": ["a"], "chunking": {"max_tokens": 511}}, 422),
    ("/embeddings", {"sentences": ["a"], "chunking": {"overlap_tokens": 510}}, 422),
    ("/embeddings", {"sentences": ["a"], "chunking": {"max_tokens": 0}}, 400),
    ("/embeddings", {"sentences": ["a"], "chunking": {"max_token": 8}}, 400),
    (
        "/embeddings",
        {"sentences": ["a"], "chunking": {}, "return_dense": False, "return_sparse": False},
        200,
    ),
    (
        "/embeddings",
        {
            "sentences": ["a"],
            "chunking": {},
            "return_dense": False,
            "return_sparse": False,
            "return_colbert": False,
        },
        400,
    ),
    ("/v1/embeddings", {"input": ["a", "b"], "late_chunking": True}, 200),
    ("/rerank", {"query": "q", "passages": ["p"], "top_n": 1}, 200),
    ("/rerank", {"query": "q", "passages": ["p"], "top_n": 0}, 400),
    ("/rerank", {"query": " ", "passages": ["p"]}, 400),
    ("/rerank", {"query": "q", "passages": ["p"] * 129}, 422),
    ("/rerank", {"query": WORDS + "x", "passages": ["p"]}, 422),
    ("/v1/embeddings", {"input": "a"}, 200),
    ("/v1/embeddings", {"input": ["a", "b"]}, 200),
    ("/v1/embeddings", {"input": ""}, 400),
    ("/v1/embeddings", {"input": []}, 400),
    ("/v1/embeddings", {"input": [[1, 2]]}, 400),
    ("/v1/embeddings", {"input": [1, 2]}, 400),
    ("/v1/embeddings", {"input": ["a"] * 129}, 422),
    ("/v1/embeddings", {"input": "a", "dimensions": 0}, 400),
    # the tiny bge-m3 has no Matryoshka dimensions
    ("/v1/embeddings", {"input": "a", "dimensions": 8}, 400),
    ("/v1/rerank", {"query": "q", "documents": ["a", {"text": "b"}], "top_n": 1}, 200),
    ("/v1/rerank", {"query": "q", "documents": []}, 400),
    ("/v1/rerank", {"query": "q", "documents": [{"text": ""}]}, 400),
    ("/v2/rerank", {"query": "q", "documents": ["d"] * 129}, 422),
    ("/v2/rerank", {"query": "q", "documents": ["d"], "top_n": -1}, 400),
    # TEI's inputs: a text, one text's token ids, or a list of either; ids in the vocabulary
    ("/embed", {"inputs": [0, 5, 2]}, 200),
    ("/embed", {"inputs": [[0, 5, 2], "a"]}, 200),
    ("/embed", {"inputs": [0, 250_001, 2]}, 200),
    ("/embed", {"inputs": [0, 250_002, 2]}, 422),
    ("/embed", {"inputs": [[]]}, 422),
    ("/embed", {"inputs": ["a", 5]}, 422),
    ("/embed_sparse", {"inputs": [5] * 20_000}, 200),
    ("/embed_sparse", {"inputs": [5] * 20_001}, 413),
    ("/embed_all", {"inputs": [[5] * 3] * 128}, 200),
    ("/embed_all", {"inputs": [[5] * 3] * 129}, 413),
    ("/tokenize", {"inputs": [[0, 5, 2]]}, 200),
    # TEI's PredictInput: a lone text (a string, or a list of one), a pair, or a list of both
    ("/predict", {"inputs": "a"}, 200),
    ("/predict", {"inputs": ["a"]}, 200),
    ("/predict", {"inputs": [["a"], ["q", "p"]]}, 200),
    ("/predict", {"inputs": ["a", "b", "c"]}, 422),
    ("/predict", {"inputs": [["q", "p", "x"]]}, 422),
    # the other families' booleans are JSON booleans only, as their clients send them
    ("/v1/rerank", {"query": "q", "documents": ["d"], "return_documents": True}, 200),
    ("/v1/rerank", {"query": "q", "documents": ["d"], "return_documents": 1}, 400),
    ("/embed", {"inputs": "a", "normalize": False, "truncate": None}, 200),
    ("/embed", {"inputs": "a", "normalize": 0}, 422),
    ("/embed_sparse", {"inputs": "a", "truncate": 1}, 422),
    ("/rerank", {"query": "q", "texts": ["a"], "return_text": 1}, 422),
    ("/similarity", {"inputs": {"source_sentence": "a", "sentences": ["b"]}}, 200),
    (
        "/similarity",
        {"inputs": {"source_sentence": "a", "sentences": ["b"]}, "parameters": {"truncate": 0}},
        422,
    ),
    ("/tokenize", {"inputs": "a", "add_special_tokens": 0}, 422),
    ("/decode", {"ids": [1], "skip_special_tokens": 1}, 422),
]


@pytest.mark.parametrize(("path", "body", "status"), CASES)
def test_valid_by_the_document_means_accepted(
    client: TestClient,  # type: ignore[type-arg]
    path: str,
    body: dict[str, Any],
    status: int,
) -> None:
    errors = list(body_validator(client, path).iter_errors(body))
    r = client.post(path, json=body)
    assert r.status_code == status, r.text[:300]
    # TEI's 413 is a size limit the document states beside the schema (x-max-*), not a body
    # that breaks it
    assert (not errors) == (status in (200, 413)), [e.message[:200] for e in errors]


def test_the_total_characters_bound_is_stated_as_an_extension(client: TestClient) -> None:  # type: ignore[type-arg]
    """JSON Schema bounds each text, not their sum: the document states the sum beside."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    # without chunking; with it, the documents' own bound (MAX_DOCUMENT_CHARS)
    embedding = schemas["EmbeddingRequest"]
    assert embedding["else"]["properties"]["sentences"]["x-max-total-chars"] == 250_000
    assert embedding["then"]["properties"]["sentences"]["x-max-total-chars"] == 1_000_000
    assert schemas["RerankRequest"]["properties"]["passages"]["x-max-total-chars"] == 250_000
    over = client.post("/embeddings", json={"sentences": [WORDS] * 13})
    assert over.status_code == 422
    assert "at most 250000" in over.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/embed", {"inputs": ["a"] * 129}, "batch size 129 > maximum allowed batch size 128"),
        ("/embed_all", {"inputs": WORDS + "x"}, "inputs exceeds 20000 characters"),
        ("/rerank", {"query": "q", "texts": ["a"] * 129}, "batch size 129 > maximum"),
        ("/rerank", {"query": WORDS + "x", "texts": ["a"]}, "query exceeds 20000 characters"),
        ("/predict", {"inputs": [["q", "a"]] * 129}, "batch size 129 > maximum"),
        ("/decode", {"ids": [[1]] * 129}, "batch size 129 > maximum"),
        (
            "/similarity",
            {"inputs": {"source_sentence": "a", "sentences": ["b"] * 129}},
            "inputs.sentences has 129 items; at most 128",
        ),
    ],
)
def test_teis_size_limits_are_stated_beside_the_schema(
    client: TestClient,  # type: ignore[type-arg]
    path: str,
    body: dict[str, Any],
    message: str,
) -> None:
    """Over a count or size limit, a TEI route answers TEI's 413, not a 422: the document
    states the limit as an extension keyword, so the body is valid by its schema."""
    assert not list(body_validator(client, path).iter_errors(body))
    r = client.post(path, json=body)
    assert r.status_code == 413, r.text[:300]
    assert r.json()["error_type"] == "Validation" and message in r.json()["error"]
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    texts = schemas["TeiRerankRequest"]["properties"]["texts"]
    assert (texts["x-max-items"], texts["items"]["x-max-length"]) == (128, 20_000)
    assert "maxItems" not in texts and "maxLength" not in texts["items"]
    assert "TEI's 413" in schemas["TeiRerankRequest"]["description"]


def test_a_model_name_is_valid_unless_served_for_another_role(
    client: TestClient,  # type: ignore[type-arg]
    tiny_models: dict[str, Path],
) -> None:
    """A name not served is a 404, which the document lists; a name served for another role
    only is a 400, and invalid by the document. bge-m3 reranks too (its hybrid score)."""
    bge, reranker = str(tiny_models["bge-m3"]), str(tiny_models["bge-reranker"])
    cases = [
        ("/v1/embeddings", {"input": "a", "model": bge}, 200),
        ("/v1/embeddings", {"input": "a", "model": "no-such-model"}, 404),
        ("/v1/embeddings", {"input": "a", "model": reranker}, 400),
        ("/v1/rerank", {"query": "q", "documents": ["d"], "model": reranker}, 200),
        ("/v1/rerank", {"query": "q", "documents": ["d"], "model": "no-such-model"}, 404),
        ("/v1/rerank", {"query": "q", "documents": ["d"], "model": bge}, 200),
        ("/rerank", {"query": "q", "passages": ["d"], "model": bge}, 200),
        ("/rerank", {"query": "q", "passages": ["d"], "model": reranker}, 200),
        ("/rerank", {"query": "q", "passages": ["d"], "model": "no-such-model"}, 404),
    ]
    for path, body, status in cases:
        errors = list(body_validator(client, path).iter_errors(body))
        r = client.post(path, json=body)
        assert r.status_code == status, (body, r.text[:300])
        assert (not errors) == (status != 400), (body, [e.message[:200] for e in errors])


def test_a_model_id_is_a_name_the_server_lists(
    client: TestClient,  # type: ignore[type-arg]
    tiny_models: dict[str, Path],
) -> None:
    """``GET /v1/models/{model_id}``: the document lists the served names, each answered 200;
    any other name is a 404."""
    operation = client.get("/openapi.json").json()["paths"]["/v1/models/{model_id}"]["get"]
    (parameter,) = operation["parameters"]
    served = [str(tiny_models["bge-m3"]), str(tiny_models["bge-reranker"])]
    assert parameter["schema"]["enum"] == served
    listed = [model["id"] for model in client.get("/v1/models").json()["data"]]
    assert listed == served
    for name in served:
        assert client.get(f"/v1/models/{name}").json()["id"] == name
    assert client.get("/v1/models/no-such-model").status_code == 404


@pytest.fixture(scope="module")
def dense_only(tiny_settings: Settings, tiny_model_set: ModelSet) -> Iterator[TestClient]:  # type: ignore[type-arg]
    """Only a dense model, the tiny bge-m3 posing as a Matryoshka one (32 dimensions)."""
    bge = tiny_model_set.by_head[Head.DENSE]
    posing = copy.copy(bge)
    posing.__class__ = type("MatryoshkaBge", (type(bge),), {"supports_dimensions": True})
    app = create_app(tiny_settings, models=ModelSet(by_head={Head.DENSE: posing}))
    with TestClient(app, timeout=60) as client:
        wait_ready(client)
        yield client


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/embeddings", {"sentences": ["a"]}, 200),
        ("/embeddings", {"sentences": ["a"], "return_colbert": False}, 200),
        ("/embeddings", {"sentences": ["a"], "return_colbert": True}, 400),
        ("/embeddings", {"sentences": ["a"], "return_colbert": 0}, 200),
        ("/embeddings", {"sentences": ["a"], "return_dense": False}, 400),
        ("/embeddings", {"sentences": ["a"], "return_dense": 0}, 400),
        ("/v1/embeddings", {"input": "a", "dimensions": 32}, 200),
        ("/v1/embeddings", {"input": "a", "dimensions": 33}, 400),
    ],
)
def test_the_document_follows_the_loaded_models(
    dense_only: TestClient,  # type: ignore[type-arg]
    path: str,
    body: dict[str, Any],
    status: int,
) -> None:
    errors = list(body_validator(dense_only, path).iter_errors(body))
    r = dense_only.post(path, json=body)
    assert r.status_code == status, r.text[:300]
    assert (not errors) == (status == 200), [e.message[:200] for e in errors]
