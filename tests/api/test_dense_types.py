"""Quantized dense vectors beside Cohere's routes: the native API's ``dense_type`` (its
default unchanged) and a Matryoshka model's ``output_dimension``, whose int8 ranges are the
calibration vectors' cut and renormalised the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from litestar.testing import TestClient
from sentence_transformers.quantization import quantize_embeddings

from app.models.calibration_texts import CALIBRATION_TEXTS
from app.testing import tiny_models as tiny
from tests.helpers import wait_ready

TEXTS = ["How do plants make food?", "Leaves contain chlorophyll.", "Stocks rose on Friday."]
DENSE_ONLY = {"return_sparse": False, "return_colbert": False}


def native(client: TestClient, **options: Any) -> Any:  # type: ignore[type-arg]
    r = client.post("/embeddings/", json={"sentences": TEXTS, **DENSE_ONLY, **options})
    assert r.status_code == 200, r.text
    return [item["embeddings"]["dense"] for item in r.json()["data"]]


def health_ranges(client: TestClient) -> np.ndarray:  # type: ignore[type-arg]
    q = client.get("/health").json()["quantization"]
    return np.array([q["minimum"], q["maximum"]], dtype=np.float32)


def unit(rows: Any) -> np.ndarray:
    vectors = np.asarray(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_native_default_is_unchanged_float(client: TestClient) -> None:  # type: ignore[type-arg]
    plain = native(client)
    assert plain == native(client, dense_type="float")
    assert all(isinstance(v, float) for v in plain[0])
    # unnormalised unless normalize_dense, as the original's
    np.testing.assert_allclose(native(client, normalize_dense=True), unit(plain), atol=1e-6)


@pytest.mark.parametrize("kind", ["int8", "uint8", "binary", "ubinary"])
def test_native_dense_type_matches_sentence_transformers(
    client: TestClient,  # type: ignore[type-arg]
    kind: str,
) -> None:
    floats = unit(native(client))
    ranges = health_ranges(client) if kind.endswith("int8") else None
    expected = quantize_embeddings(floats, kind, ranges=ranges)
    for normalize in (False, True):  # quantized from the unit vector either way
        got = native(client, dense_type=kind, normalize_dense=normalize)
        np.testing.assert_array_equal(got, expected)
        assert all(isinstance(v, int) for v in got[0])


def test_native_dense_type_must_be_a_known_type(client: TestClient) -> None:  # type: ignore[type-arg]
    r = client.post("/embeddings/", json={"sentences": TEXTS, "dense_type": "int4"})
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "dense_type"


# --- a Matryoshka model: tiny Qwen3-Embedding as the dense model ---
@pytest.fixture(scope="module")
def qwen(
    make_client: Callable[..., TestClient],  # type: ignore[type-arg]
    tiny_dir: Path,
) -> Iterator[TestClient]:  # type: ignore[type-arg]
    tokenizer_dir = tiny.build_qwen_tokenizer(tiny_dir / "qwen-tokenizer")
    model = str(tiny.build_qwen3_embedding(tiny_dir / "qwen3-embedding", tokenizer_dir))
    with make_client(dense_embedding_model=model) as c:
        wait_ready(c)
        yield c


def cohere_embed(client: TestClient, texts: list[str], **options: Any) -> Any:  # type: ignore[type-arg]
    r = client.post("/v2/embed", json={"texts": texts, **options})
    assert r.status_code == 200, r.text
    return r.json()["embeddings"]


def test_output_dimension_cuts_renormalises_and_quantizes_by_the_cut_ranges(
    qwen: TestClient,  # type: ignore[type-arg]
) -> None:
    full = np.asarray(cohere_embed(qwen, TEXTS)["float"], dtype=np.float32)
    cut = cohere_embed(
        qwen, TEXTS, output_dimension=16, embedding_types=["float", "int8", "uint8", "binary"]
    )
    np.testing.assert_allclose(cut["float"], unit(full[:, :16]), atol=1e-6)
    calibration = unit(
        np.asarray(cohere_embed(qwen, list(CALIBRATION_TEXTS))["float"], np.float32)[:, :16]
    )
    floats = np.asarray(cut["float"], dtype=np.float32)
    for kind in ("int8", "uint8"):
        np.testing.assert_array_equal(
            cut[kind], quantize_embeddings(floats, kind, calibration_embeddings=calibration)
        )
    np.testing.assert_array_equal(cut["binary"], quantize_embeddings(floats, "binary"))
    assert np.asarray(cut["binary"]).shape == (len(TEXTS), 2)
    # the full width's ranges are /health's
    np.testing.assert_array_equal(
        cohere_embed(qwen, TEXTS, embedding_types=["int8"])["int8"],
        quantize_embeddings(full, "int8", ranges=health_ranges(qwen)),
    )


def test_qwen_queries_get_their_instruction(qwen: TestClient) -> None:  # type: ignore[type-arg]
    query = cohere_embed(qwen, TEXTS, input_type="search_query")["float"]
    document = cohere_embed(qwen, TEXTS, input_type="search_document")["float"]
    assert not np.allclose(query, document)
    openai_query = qwen.post("/v1/embeddings", json={"input": TEXTS, "input_type": "query"})
    np.testing.assert_allclose(
        query, [d["embedding"] for d in openai_query.json()["data"]], atol=1e-6
    )


def test_output_dimension_over_the_model_width(qwen: TestClient) -> None:  # type: ignore[type-arg]
    dimension = qwen.get("/health").json()["quantization"]["dimension"]
    r = qwen.post("/v2/embed", json={"texts": TEXTS, "output_dimension": dimension + 1})
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "output_dimension"
    assert f"output_dimension must be at most {dimension}" in r.json()["detail"]
