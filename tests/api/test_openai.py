"""The official ``openai`` client against ``/v1`` on a real server (SPEC §1.2)."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import openai
import pytest
from litestar.testing import TestClient
from transformers import AutoTokenizer

from app.asgi import create_app
from app.models.base import Head
from app.models.catalog import ModelSet
from app.settings import Settings
from app.testing import tiny_models as tiny
from tests.api.conftest import API_TOKEN
from tests.helpers import ServerProcess, wait_ready

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

TEXTS = ["The cat sat on the mat.", "Quarterly revenue grew by 12 percent.", "hello"]


@pytest.fixture(scope="module")
def oai(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=API_TOKEN, max_retries=0)


@pytest.fixture(scope="module")
def dense_model(tiny_models: dict[str, Path]) -> str:
    return str(tiny_models["bge-m3"])


def native_dense(http: httpx.Client, texts: list[str]) -> np.ndarray:
    """The same texts through the native API, L2-normalised: the reference vectors."""
    r = http.post(
        "/embeddings/",
        json={
            "sentences": texts,
            "return_sparse": False,
            "return_colbert": False,
            "normalize_dense": True,
        },
    )
    assert r.status_code == 200, r.text
    return np.array([item["embeddings"]["dense"] for item in r.json()["data"]])


def test_float_embeddings_are_unit_vectors_in_input_order(
    oai: openai.OpenAI, server_http: httpx.Client, dense_model: str
) -> None:
    response = oai.embeddings.create(input=TEXTS, model=dense_model, encoding_format="float")
    assert response.object == "list"
    assert response.model == dense_model
    assert [item.index for item in response.data] == [0, 1, 2]
    vectors = np.array([item.embedding for item in response.data])
    assert vectors.shape == (3, 32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(vectors, native_dense(server_http, TEXTS), atol=1e-6)


def test_usage_counts_the_tokens_the_model_saw(oai: openai.OpenAI, dense_model: str) -> None:
    tokenizer = AutoTokenizer.from_pretrained(dense_model)
    expected = sum(len(tokenizer(text)["input_ids"]) for text in TEXTS)
    response = oai.embeddings.create(input=TEXTS, model=dense_model, encoding_format="float")
    assert response.usage.prompt_tokens == expected
    assert response.usage.total_tokens == expected


def test_base64_decodes_to_the_float_vectors(oai: openai.OpenAI, dense_model: str) -> None:
    floats = oai.embeddings.create(input=TEXTS, model=dense_model, encoding_format="float")
    packed = oai.embeddings.create(input=TEXTS, model=dense_model, encoding_format="base64")
    for as_float, as_b64 in zip(floats.data, packed.data, strict=True):
        # asked for explicitly, the client hands the base64 string over untouched
        assert isinstance(as_b64.embedding, str)
        decoded = np.frombuffer(base64.b64decode(as_b64.embedding), dtype="<f4")
        np.testing.assert_allclose(decoded, as_float.embedding, atol=1e-6)


def test_client_default_encoding_round_trips(oai: openai.OpenAI, dense_model: str) -> None:
    # Without encoding_format the client asks for base64 and decodes it itself.
    floats = oai.embeddings.create(input=TEXTS, model=dense_model, encoding_format="float")
    default = oai.embeddings.create(input=TEXTS, model=dense_model)
    for a, b in zip(floats.data, default.data, strict=True):
        np.testing.assert_allclose(b.embedding, a.embedding, atol=1e-6)


def test_single_string_input(oai: openai.OpenAI, dense_model: str) -> None:
    one = oai.embeddings.create(input=TEXTS[0], model=dense_model, encoding_format="float")
    listed = oai.embeddings.create(input=TEXTS, model=dense_model, encoding_format="float")
    assert len(one.data) == 1
    np.testing.assert_allclose(one.data[0].embedding, listed.data[0].embedding, atol=1e-6)


def test_model_may_be_left_out_and_input_type_is_accepted(
    server_http: httpx.Client, dense_model: str
) -> None:
    plain = server_http.post("/v1/embeddings", json={"input": "hello"})
    query = server_http.post("/v1/embeddings", json={"input": "hello", "input_type": "query"})
    assert plain.status_code == 200, plain.text
    assert plain.json()["model"] == dense_model
    # bge-m3 needs no query instruction: a query embeds as the same text would
    np.testing.assert_allclose(
        query.json()["data"][0]["embedding"], plain.json()["data"][0]["embedding"], atol=1e-6
    )


def test_truncated_input_is_reported(server_http: httpx.Client) -> None:
    r = server_http.post("/v1/embeddings", json={"input": ["word " * 600]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["usage"]["prompt_tokens"] == 512  # the tiny model's limit
    (warning,) = body["warnings"]
    assert warning["code"] == "input_truncated"
    assert warning["target"]["pointer"] == "/input/0"
    short = server_http.post("/v1/embeddings", json={"input": ["short"]})
    assert "warnings" not in short.json()


# --- errors the client raises as its own exception types ---
def test_unknown_model_is_not_found(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        oai.embeddings.create(input="hi", model="text-embedding-3-small")
    assert "model 'text-embedding-3-small' is not served here" in caught.value.message
    assert caught.value.param == "model"


def test_the_reranker_is_not_an_embedding_model(
    oai: openai.OpenAI, tiny_models: dict[str, Path]
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        oai.embeddings.create(input="hi", model=str(tiny_models["bge-reranker"]))
    assert "serves rerank here, not dense" in caught.value.message


def test_dimensions_on_a_model_without_matryoshka(oai: openai.OpenAI, dense_model: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        oai.embeddings.create(input="hi", model=dense_model, dimensions=8)
    assert caught.value.param == "dimensions"
    assert "does not support dimensions" in caught.value.message


def test_token_id_arrays_are_refused(oai: openai.OpenAI, dense_model: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        oai.embeddings.create(input=[[101, 2023, 102]], model=dense_model)
    assert caught.value.param == "input[0]"
    assert "token-id array" in caught.value.message
    with pytest.raises(openai.BadRequestError) as caught:
        oai.embeddings.create(input=[101, 2023, 102], model=dense_model)
    assert caught.value.param == "input"


def test_empty_text_and_bad_enum(oai: openai.OpenAI, dense_model: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        oai.embeddings.create(input=["ok", ""], model=dense_model)
    assert caught.value.message.endswith("input[1] is empty")
    with pytest.raises(openai.BadRequestError) as caught:
        oai.embeddings.create(input=[], model=dense_model)
    assert "input must contain at least one text" in caught.value.message
    with pytest.raises(openai.BadRequestError) as caught:
        oai.embeddings.create(input="ok", model=dense_model, extra_body={"input_type": "passage"})
    assert caught.value.param == "input_type"


def test_too_many_inputs_is_unprocessable(oai: openai.OpenAI, dense_model: str) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        oai.embeddings.create(input=["x"] * 129, model=dense_model)
    assert (
        "input has 129 items; at most 128 are allowed (MAX_SENTENCES_PER_REQUEST)"
        in caught.value.message
    )


def test_wrong_api_key_is_an_authentication_error(server: ServerProcess) -> None:
    stranger = openai.OpenAI(base_url=f"{server.url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        stranger.embeddings.create(input="hi", model="any")
    assert "invalid bearer token" in caught.value.message


# --- /v1/models ---
def test_models_list_every_served_model_with_its_roles(
    oai: openai.OpenAI, tiny_models: dict[str, Path]
) -> None:
    listed = {model.id: model for model in oai.models.list()}
    bge, reranker = str(tiny_models["bge-m3"]), str(tiny_models["bge-reranker"])
    assert set(listed) == {bge, reranker}
    assert listed[bge].roles == ["dense", "sparse", "colbert"]  # type: ignore[attr-defined]
    assert listed[bge].dimension == 32  # type: ignore[attr-defined]
    assert listed[reranker].roles == ["rerank"]  # type: ignore[attr-defined]
    assert all(model.object == "model" for model in listed.values())


def test_models_retrieve(server_http: httpx.Client, oai: openai.OpenAI, dense_model: str) -> None:
    r = server_http.get(f"/v1/models{dense_model}")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == dense_model
    with pytest.raises(openai.NotFoundError):
        oai.models.retrieve("BAAI/no-such-model")


# --- dimensions on a Matryoshka model ---
@pytest.fixture(scope="module")
def matryoshka_client(tiny_settings: Settings, tiny_model_set: ModelSet) -> Iterator[TestClient]:  # type: ignore[type-arg]
    """The tiny bge-m3 posing as a Matryoshka model: the route's truncation is what's tested."""
    bge = tiny_model_set.by_head[Head.DENSE]
    posing = copy.copy(bge)
    posing.__class__ = type("MatryoshkaBge", (type(bge),), {"supports_dimensions": True})
    models = ModelSet(by_head={Head.DENSE: posing})
    with TestClient(create_app(tiny_settings, models=models), timeout=60) as client:
        wait_ready(client)
        yield client


def test_dimensions_truncate_then_renormalise(matryoshka_client: TestClient) -> None:  # type: ignore[type-arg]
    full = matryoshka_client.post("/v1/embeddings", json={"input": TEXTS})
    cut = matryoshka_client.post("/v1/embeddings", json={"input": TEXTS, "dimensions": 8})
    assert cut.status_code == 200, cut.text
    for whole, short in zip(full.json()["data"], cut.json()["data"], strict=True):
        head = np.array(whole["embedding"][:8])
        np.testing.assert_allclose(short["embedding"], head / np.linalg.norm(head), atol=1e-6)
    too_many = matryoshka_client.post("/v1/embeddings", json={"input": "x", "dimensions": 33})
    assert too_many.status_code == 400
    assert too_many.json()["error"]["param"] == "dimensions"
    assert "at most 32" in too_many.json()["error"]["message"]
    zero = matryoshka_client.post("/v1/embeddings", json={"input": "x", "dimensions": 0})
    assert zero.status_code == 400
    assert zero.json()["error"]["param"] == "dimensions"


# --- a real Matryoshka model: Qwen3-Embedding as the dense model, bge-m3 for the rest ---
@pytest.fixture(scope="module")
def qwen_client(
    make_client: Callable[..., TestClient],  # type: ignore[type-arg]
    tiny_dir: Path,
) -> Iterator[tuple[TestClient, str]]:  # type: ignore[type-arg]
    build_tokenizer = getattr(tiny, "build_qwen_tokenizer", None)
    build_model = getattr(tiny, "build_qwen3_embedding", None)
    if build_tokenizer is None or build_model is None:
        pytest.skip("no tiny Qwen3-Embedding builder in app.testing.tiny_models")
    tokenizer_dir = build_tokenizer(tiny_dir / "qwen-tokenizer")
    qwen = str(build_model(tiny_dir / "qwen3-embedding", tokenizer_dir))
    with make_client(dense_embedding_model=qwen) as client:
        wait_ready(client)
        yield client, qwen


def test_qwen_dimensions_and_query_prompt(
    qwen_client: tuple[TestClient, str],  # type: ignore[type-arg]
    tiny_models: dict[str, Path],
) -> None:
    client, qwen = qwen_client
    full = client.post("/v1/embeddings", json={"input": TEXTS, "model": qwen}).json()
    cut = client.post("/v1/embeddings", json={"input": TEXTS, "dimensions": 16}).json()
    assert cut["model"] == qwen
    for whole, short in zip(full["data"], cut["data"], strict=True):
        head = np.array(whole["embedding"][:16])
        np.testing.assert_allclose(short["embedding"], head / np.linalg.norm(head), atol=1e-6)
    # Qwen3 gets its instruction prompt for queries: the vector changes
    query = client.post("/v1/embeddings", json={"input": TEXTS[0], "input_type": "query"})
    assert not np.allclose(query.json()["data"][0]["embedding"], full["data"][0]["embedding"])
    listed = {m["id"]: m for m in client.get("/v1/models").json()["data"]}
    assert listed[qwen]["roles"] == ["dense"]
    assert listed[qwen]["supports_dimensions"] is True
    bge = str(tiny_models["bge-m3"])
    assert listed[bge]["roles"] == ["sparse", "colbert"]
    wrong = client.post("/v1/embeddings", json={"input": "x", "model": bge})
    assert wrong.status_code == 400
    assert "serves sparse, colbert here, not dense" in wrong.json()["error"]["message"]
