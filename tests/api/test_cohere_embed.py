"""Cohere's embed API on a real server: the official ``cohere`` client (v1 and v2) with
quantized ``embedding_types``, each type checked against sentence-transformers'
``quantize_embeddings`` given the ranges ``/health`` shows, and the errors."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import cohere
import httpx
import numpy as np
import pytest
from sentence_transformers.quantization import quantize_embeddings
from transformers import AutoTokenizer

from app.models.calibration_texts import CALIBRATION_TEXTS
from tests.api.conftest import API_TOKEN
from tests.helpers import REPO, ServerProcess

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

TEXTS = [
    "How do plants make food?",
    "Photosynthesis turns light, water and carbon dioxide into sugar.",
    "The stock market closed higher on Friday.",
]
TYPES = ["float", "int8", "uint8", "binary", "ubinary"]


@pytest.fixture(scope="module")
def bge(tiny_models: dict[str, Path]) -> str:
    return str(tiny_models["bge-m3"])


@pytest.fixture(scope="module")
def co(server: ServerProcess) -> cohere.ClientV2:
    return cohere.ClientV2(api_key=API_TOKEN, base_url=server.url, max_retries=0)


@pytest.fixture(scope="module")
def ranges(server_http: httpx.Client, bge: str) -> np.ndarray:
    calibration = server_http.get("/health").json()["quantization"]
    assert calibration["model"] == bge
    assert calibration["calibration_texts"] == len(CALIBRATION_TEXTS)
    return np.array([calibration["minimum"], calibration["maximum"]], dtype=np.float32)


def native_unit(http: httpx.Client, texts: list[str]) -> np.ndarray:
    r = http.post(
        "/embeddings/",
        json={"sentences": texts, "return_sparse": False, "return_colbert": False},
    )
    assert r.status_code == 200, r.text
    dense = np.array([item["embeddings"]["dense"] for item in r.json()["data"]], np.float32)
    return dense / np.linalg.norm(dense, axis=1, keepdims=True)


def as_float32(rows: Any) -> np.ndarray:
    return np.asarray(rows, dtype=np.float32)


def test_health_ranges_are_those_of_the_calibration_texts(
    server_http: httpx.Client, ranges: np.ndarray
) -> None:
    r = server_http.post("/v2/embed", json={"texts": list(CALIBRATION_TEXTS)})
    assert r.status_code == 200, r.text
    floats = as_float32(r.json()["embeddings"]["float"])
    # the engine embedded them at start-up in batches of its own: the same vectors up to the
    # float32 noise of a different batch shape (7e-9 seen)
    np.testing.assert_allclose(ranges, np.vstack((floats.min(0), floats.max(0))), atol=1e-6)
    assert ranges.shape == (2, floats.shape[1])


def test_v2_client_float_int8_ubinary(
    co: cohere.ClientV2, server_http: httpx.Client, bge: str, ranges: np.ndarray
) -> None:
    response = co.embed(
        model=bge,
        input_type="search_document",
        texts=TEXTS,
        embedding_types=["float", "int8", "ubinary"],
    )
    embeddings = response.embeddings
    floats = as_float32(embeddings.float_)
    np.testing.assert_allclose(floats, native_unit(server_http, TEXTS), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(floats, axis=1), 1.0, atol=1e-6)
    int8 = np.asarray(embeddings.int8)
    np.testing.assert_array_equal(int8, quantize_embeddings(floats, "int8", ranges=ranges))
    assert int8.min() >= -128 and int8.max() <= 127
    ubinary = np.asarray(embeddings.ubinary)
    np.testing.assert_array_equal(ubinary, quantize_embeddings(floats, "ubinary"))
    assert ubinary.shape == (len(TEXTS), floats.shape[1] // 8)
    assert embeddings.uint8 is None and embeddings.binary is None  # not asked for
    assert response.texts == TEXTS
    assert response.id
    tokenizer = AutoTokenizer.from_pretrained(bge)
    tokens = sum(len(tokenizer(text)["input_ids"]) for text in TEXTS)
    assert response.meta is not None and response.meta.billed_units is not None
    assert response.meta.billed_units.input_tokens == tokens
    assert response.meta.api_version is not None and response.meta.api_version.version == "2"


def test_v1_client_by_type_and_floats(
    server: ServerProcess, co: cohere.ClientV2, bge: str, ranges: np.ndarray
) -> None:
    v1 = cohere.Client(api_key=API_TOKEN, base_url=server.url, max_retries=0)
    by_type = v1.embed(
        texts=TEXTS,
        model=bge,
        input_type="search_query",
        embedding_types=["float", "int8", "ubinary"],
    )
    assert by_type.response_type == "embeddings_by_type"
    floats = as_float32(by_type.embeddings.float_)  # type: ignore[union-attr]
    v2 = co.embed(model=bge, input_type="search_query", texts=TEXTS, embedding_types=["float"])
    np.testing.assert_array_equal(floats, as_float32(v2.embeddings.float_))
    np.testing.assert_array_equal(
        by_type.embeddings.int8,  # type: ignore[union-attr]
        quantize_embeddings(floats, "int8", ranges=ranges),
    )
    np.testing.assert_array_equal(
        by_type.embeddings.ubinary,  # type: ignore[union-attr]
        quantize_embeddings(floats, "ubinary"),
    )
    assert by_type.meta is not None and by_type.meta.api_version is not None
    assert by_type.meta.api_version.version == "1"
    plain = v1.embed(texts=TEXTS, model=bge, input_type="search_query")
    assert plain.response_type == "embeddings_floats"
    np.testing.assert_array_equal(as_float32(plain.embeddings), floats)


def test_every_type_over_http(server_http: httpx.Client, ranges: np.ndarray) -> None:
    r = server_http.post(
        "/v2/embed",
        json={
            "texts": TEXTS,
            "input_type": "classification",
            "embedding_types": [*TYPES, "base64"],
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["response_type"] == "embeddings_by_type"
    embeddings = body["embeddings"]
    assert sorted(embeddings) == sorted([*TYPES, "base64"])
    floats = as_float32(embeddings["float"])
    for kind in ("int8", "uint8"):
        np.testing.assert_array_equal(
            embeddings[kind], quantize_embeddings(floats, kind, ranges=ranges)
        )
    for kind in ("binary", "ubinary"):
        np.testing.assert_array_equal(embeddings[kind], quantize_embeddings(floats, kind))
    decoded = [np.frombuffer(base64.b64decode(row), dtype="<f4") for row in embeddings["base64"]]
    np.testing.assert_array_equal(np.stack(decoded), floats)


def test_inputs_search_query_and_clustering(server_http: httpx.Client) -> None:
    inputs = [{"content": [{"type": "text", "text": text}]} for text in TEXTS]
    from_inputs = server_http.post("/v2/embed", json={"inputs": inputs, "input_type": "clustering"})
    from_texts = server_http.post("/v2/embed", json={"texts": TEXTS, "input_type": "search_query"})
    assert from_inputs.status_code == from_texts.status_code == 200
    assert from_inputs.json()["texts"] == TEXTS
    # bge-m3 has no query prompt: a query and a document embed alike
    assert from_inputs.json()["embeddings"] == from_texts.json()["embeddings"]
    assert list(from_texts.json()["embeddings"]) == ["float"]  # the default type


def test_truncate_end_start_and_none(server_http: httpx.Client) -> None:
    long = "alpha beta gamma delta " * 200 + "omega"
    ends = {}
    for truncate in ("END", "START"):
        r = server_http.post("/v1/embed", json={"texts": [long, "short"], "truncate": truncate})
        assert r.status_code == 200, r.text
        (warning,) = r.json()["meta"]["warnings"]
        side = "end" if truncate == "END" else "start"
        assert warning.startswith("texts[0] has ") and warning.endswith(f"from its {side}")
        ends[truncate] = r.json()["embeddings"][0]
    assert ends["END"] != ends["START"]
    np.testing.assert_allclose(ends["END"], native_unit(server_http, [long])[0], atol=1e-6)
    refused = server_http.post("/v1/embed", json={"texts": ["short", long], "truncate": "NONE"})
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "texts[1]"
    assert "truncate is NONE" in refused.json()["detail"]


def test_output_dimension_is_refused_for_bge_m3(co: cohere.ClientV2, bge: str) -> None:
    with pytest.raises(cohere.BadRequestError) as caught:
        co.embed(model=bge, input_type="search_document", texts=TEXTS, output_dimension=16)
    assert caught.value.body["error"]["param"] == "output_dimension"
    assert "does not support output_dimension" in caught.value.body["detail"]


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        ({"texts": []}, "texts", "texts must contain at least one text"),
        ({"texts": ["fine", " "]}, "texts[1]", "texts[1] is empty"),
        ({}, "texts", "nothing to embed: give texts (or v2's inputs)"),
        (
            {"texts": ["a"], "inputs": [{"content": [{"type": "text", "text": "a"}]}]},
            "inputs",
            "give texts or inputs, not both",
        ),
        ({"images": ["data:image/png;base64,AAAA"]}, "images", "images are not supported"),
        (
            {"inputs": [{"content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
            "inputs[0].content[0]",
            "is an image",
        ),
        ({"texts": ["a"], "embedding_types": ["int4"]}, "embedding_types[0]", "int4"),
        ({"texts": ["a"], "input_type": "image"}, "input_type", "image"),
        ({"texts": ["a"], "truncate": "MIDDLE"}, "truncate", "MIDDLE"),
    ],
)
def test_bad_requests_name_the_field(
    server_http: httpx.Client, body: dict[str, Any], param: str, message: str
) -> None:
    r = server_http.post("/v2/embed", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param
    assert message in r.json()["detail"]


def test_too_many_texts_and_unknown_model(co: cohere.ClientV2, bge: str) -> None:
    with pytest.raises(cohere.UnprocessableEntityError) as caught:
        co.embed(model=bge, input_type="search_document", texts=["t"] * 129)
    assert caught.value.body["detail"] == (
        "texts has 129 items; at most 128 are allowed (MAX_SENTENCES_PER_REQUEST)"
    )
    with pytest.raises(cohere.NotFoundError) as caught_model:
        co.embed(model="embed-v4.0", input_type="search_document", texts=TEXTS)
    assert "model 'embed-v4.0' is not served here" in caught_model.value.body["detail"]


# --- docs/clients.md: the Cohere embed snippet runs against this server and is right ---
def clients_guide_block(heading: str) -> str:
    text = (REPO / "docs" / "clients.md").read_text()
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    (code,) = re.findall(r"^```python\n(.*?)^```", text[start:end], re.MULTILINE | re.DOTALL)
    return code


def test_the_guide_snippet(
    server: ServerProcess, server_http: httpx.Client, bge: str, ranges: np.ndarray, capsys: Any
) -> None:
    code = clients_guide_block("Cohere embed: vectors quantized per request")
    for ours, theirs in (
        ("http://localhost:8000", server.url),
        ('"unused"', f'"{API_TOKEN}"'),
        ('"BAAI/bge-m3"', repr(bge)),
    ):
        assert ours in code
        code = code.replace(ours, theirs)
    namespace: dict[str, Any] = {"__name__": "docs_snippet"}
    exec(compile(code, "docs/clients.md (Cohere embed)", "exec"), namespace)
    passages = namespace["passages"]
    floats = native_unit(server_http, passages)
    np.testing.assert_allclose(namespace["floats"], floats, atol=1e-6)
    np.testing.assert_array_equal(
        namespace["int8"],
        quantize_embeddings(as_float32(namespace["floats"]), "int8", ranges=ranges),
    )
    np.testing.assert_array_equal(namespace["bits"], quantize_embeddings(floats, "ubinary"))
    query_bits = quantize_embeddings(
        native_unit(server_http, ["How do plants make food?"]), "ubinary"
    )
    expected = [
        bin(int(a) ^ int(b)).count("1")
        for a, b in zip(
            np.repeat(query_bits, len(passages), axis=0).ravel(),
            namespace["bits"].ravel(),
            strict=True,
        )
    ]
    hamming = np.asarray(expected).reshape(len(passages), -1).sum(axis=1)
    np.testing.assert_array_equal(namespace["hamming"], hamming)
    assert namespace["best"] == passages[int(hamming.argmin())]
    assert capsys.readouterr().out.strip(), "the snippet prints what it got"
