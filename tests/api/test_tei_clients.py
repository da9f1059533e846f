"""The real TEI (text-embeddings-inference) client libraries, from their PyPI packages, against a
real server on the tiny models: LlamaIndex (embeddings, sync and async, and the rerank
postprocessor), Haystack's three TEI components and huggingface_hub's ``InferenceClient``.

Each client is used as its own docs show, and every vector or score it hands its user is
checked against the native API's answer for the same texts (``POST /embeddings/``,
``POST /rerank``). What each client sends is written down in docs/clients.md; the snippets of
that guide's TEI sections run here too (the ``test_doc_*`` tests at the end).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest
from haystack import Document
from haystack.dataclasses import SparseEmbedding
from haystack.utils import Secret
from haystack_integrations.components.embedders.huggingface_api import (
    HuggingFaceAPIDocumentEmbedder,
    HuggingFaceAPISparseTextEmbedder,
    HuggingFaceAPITextEmbedder,
)
from haystack_integrations.components.rankers.huggingface_api import (
    HuggingFaceTEIRanker,
    TruncationDirection,
)
from huggingface_hub import AsyncInferenceClient, InferenceClient
from huggingface_hub.errors import HfHubHTTPError
from llama_index.core.schema import NodeWithScore, TextNode
from llama_index.embeddings.text_embeddings_inference import TextEmbeddingsInference
from llama_index.postprocessor.tei_rerank import TextEmbeddingInference

from tests.api.conftest import API_TOKEN
from tests.helpers import REPO, ServerProcess

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

QUERY = "how do plants make food"
# different lengths, so a batch is padded and any mix-up of rows shows
TEXTS = [
    "Photosynthesis turns light, water and carbon dioxide into sugar.",
    "The stock market closed higher on Friday.",
    "Leaves contain chlorophyll.",
    "A recipe for tomato soup with basil, garlic and a little cream.",
    "hello",
]
DIM = 32  # the tiny bge-m3's hidden size
MAX_TOKENS = 512  # the tiny models' limit, <s> and </s> included


# --- the reference: the native API on the same texts ---
def native_items(http: httpx.Client, texts: list[str]) -> list[dict[str, Any]]:
    r = http.post(
        "/embeddings/",
        json={"sentences": texts, "return_colbert": False, "sparse_as_indices": True},
    )
    assert r.status_code == 200, r.text
    return [item["embeddings"] for item in r.json()["data"]]


def native_dense(http: httpx.Client, texts: list[str], *, normalize: bool) -> np.ndarray:
    dense = np.array([item["dense"] for item in native_items(http, texts)])
    assert dense.shape == (len(texts), DIM)
    return dense / np.linalg.norm(dense, axis=1, keepdims=True) if normalize else dense


def native_sparse(http: httpx.Client, texts: list[str]) -> list[dict[int, float]]:
    sparse = [item["sparse"] for item in native_items(http, texts)]
    return [dict(zip(s["indices"], s["values"], strict=True)) for s in sparse]


def native_logits(http: httpx.Client, query: str, texts: list[str]) -> np.ndarray:
    r = http.post("/rerank", json={"query": query, "passages": texts})
    assert r.status_code == 200, r.text
    logits = np.full(len(texts), np.nan)
    for result in r.json()["results"]:
        logits[result["index"]] = result["score"]
    assert not np.isnan(logits).any()
    return logits


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def assert_vectors(actual: Any, expected: np.ndarray) -> None:
    got = np.asarray(actual, dtype=np.float64)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def assert_sparse(indices: list[int], values: list[float], expected: dict[int, float]) -> None:
    assert len(indices) == len(set(indices)), "an index came twice"
    assert set(indices) == set(expected)
    for index, value in zip(indices, values, strict=True):
        assert value == pytest.approx(expected[index], rel=1e-5, abs=1e-6)


@pytest.fixture(scope="module")
def expected_dense(server_http: httpx.Client) -> np.ndarray:
    return native_dense(server_http, TEXTS, normalize=True)


@pytest.fixture(scope="module")
def expected_raw_dense(server_http: httpx.Client) -> np.ndarray:
    return native_dense(server_http, TEXTS, normalize=False)


@pytest.fixture(scope="module")
def expected_logits(server_http: httpx.Client) -> np.ndarray:
    return native_logits(server_http, QUERY, TEXTS)


# --- LlamaIndex: TextEmbeddingsInference ---
@pytest.fixture(scope="module")
def llama_embed(server: ServerProcess) -> TextEmbeddingsInference:
    # bge-m3 is not in LlamaIndex's instruction table, so no text is prefixed client-side;
    # a batch size of 2 makes five texts three requests
    return TextEmbeddingsInference(
        model_name="BAAI/bge-m3", base_url=server.url, auth_token=API_TOKEN, embed_batch_size=2
    )


def test_llamaindex_embeddings_are_the_normalized_native_dense(
    llama_embed: TextEmbeddingsInference, expected_dense: np.ndarray
) -> None:
    vectors = llama_embed.get_text_embedding_batch(TEXTS)
    assert len(vectors) == len(TEXTS)
    assert all(len(v) == DIM for v in vectors)
    assert_vectors(vectors, expected_dense)  # TEI's normalize defaults to true
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert_vectors(llama_embed.get_query_embedding(TEXTS[2]), expected_dense[2])
    assert_vectors(llama_embed.get_text_embedding(TEXTS[4]), expected_dense[4])


async def test_llamaindex_async_embeddings_match_sync(
    llama_embed: TextEmbeddingsInference, expected_dense: np.ndarray
) -> None:
    vectors = await llama_embed.aget_text_embedding_batch(TEXTS)
    assert_vectors(vectors, expected_dense)
    assert_vectors(await llama_embed.aget_query_embedding(TEXTS[0]), expected_dense[0])
    assert_vectors(await llama_embed.aget_text_embedding(TEXTS[3]), expected_dense[3])


def test_llamaindex_over_long_text_is_truncated_like_native(
    llama_embed: TextEmbeddingsInference, server_http: httpx.Client
) -> None:
    # LlamaIndex sends truncate=true; the native API cuts an over-long text the same way
    long_text = " ".join(["apple"] * (MAX_TOKENS + 200))
    expected = native_dense(server_http, [long_text], normalize=True)[0]
    assert_vectors(llama_embed.get_text_embedding(long_text), expected)


# --- LlamaIndex: the TEI rerank postprocessor ---
def test_llamaindex_rerank_postprocessor_keeps_the_native_order_and_sigmoid_scores(
    server: ServerProcess, expected_logits: np.ndarray
) -> None:
    # This client sends auth_token as the whole Authorization header: the scheme goes in it.
    reranker = TextEmbeddingInference(
        base_url=server.url, auth_token=f"Bearer {API_TOKEN}", top_n=3
    )
    nodes = [NodeWithScore(node=TextNode(text=t, id_=str(i))) for i, t in enumerate(TEXTS)]
    ranked = reranker.postprocess_nodes(nodes, query_str=QUERY)

    expected = sigmoid(expected_logits)
    order = [int(i) for i in np.argsort(-expected)[:3]]
    assert [node.node.node_id for node in ranked] == [str(i) for i in order]
    assert [node.node.get_content() for node in ranked] == [TEXTS[i] for i in order]
    for node, i in zip(ranked, order, strict=True):
        assert node.score == pytest.approx(expected[i], abs=1e-6)


# --- Haystack: HuggingFaceAPITextEmbedder / DocumentEmbedder (through huggingface_hub) ---
def haystack_token() -> Secret:
    return Secret.from_token(API_TOKEN)


def test_haystack_text_embedder_gets_the_raw_native_dense(
    server: ServerProcess, expected_raw_dense: np.ndarray, expected_dense: np.ndarray
) -> None:
    # Haystack sends normalize=false unless told otherwise: the vector as the model gives it
    embedder = HuggingFaceAPITextEmbedder(
        api_type="text_embeddings_inference",
        api_params={"url": server.url},
        token=haystack_token(),
    )
    embedding = embedder.run(TEXTS[0])["embedding"]
    assert isinstance(embedding, list) and len(embedding) == DIM
    assert_vectors(embedding, expected_raw_dense[0])

    normalized = HuggingFaceAPITextEmbedder(
        api_type="text_embeddings_inference",
        api_params={"url": server.url},
        token=haystack_token(),
        normalize=True,
    )
    assert_vectors(normalized.run(TEXTS[1])["embedding"], expected_dense[1])


async def test_haystack_text_embedder_async(
    server: ServerProcess, expected_raw_dense: np.ndarray
) -> None:
    embedder = HuggingFaceAPITextEmbedder(
        api_type="text_embeddings_inference",
        api_params={"url": server.url},
        token=haystack_token(),
    )
    result = await embedder.run_async(TEXTS[3])
    assert_vectors(result["embedding"], expected_raw_dense[3])


def test_haystack_document_embedder_sends_lists(
    server: ServerProcess, expected_raw_dense: np.ndarray
) -> None:
    embedder = HuggingFaceAPIDocumentEmbedder(
        api_type="text_embeddings_inference",
        api_params={"url": server.url},
        token=haystack_token(),
        batch_size=3,  # five documents: a list of 3, then a list of 2
        progress_bar=False,
    )
    documents = embedder.run([Document(content=t) for t in TEXTS])["documents"]
    assert [d.content for d in documents] == TEXTS
    assert_vectors([d.embedding for d in documents], expected_raw_dense)


# --- Haystack: HuggingFaceTEIRanker ---
def test_haystack_ranker_takes_the_server_order_and_scores(
    server: ServerProcess, expected_logits: np.ndarray
) -> None:
    ranker = HuggingFaceTEIRanker(url=server.url, top_k=3, token=haystack_token(), max_retries=1)
    documents = [Document(content=t) for t in TEXTS]
    ranked = ranker.run(query=QUERY, documents=documents)["documents"]

    # Haystack cuts the server's list at top_k without sorting it: the server must sort
    expected = sigmoid(expected_logits)
    order = [int(i) for i in np.argsort(-expected)[:3]]
    assert [d.content for d in ranked] == [TEXTS[i] for i in order]
    for document, i in zip(ranked, order, strict=True):
        assert document.score == pytest.approx(expected[i], abs=1e-6)


def test_haystack_ranker_raw_scores_and_truncation_direction(
    server: ServerProcess, expected_logits: np.ndarray
) -> None:
    ranker = HuggingFaceTEIRanker(
        url=server.url, top_k=10, raw_scores=True, token=haystack_token(), max_retries=1
    )
    documents = [Document(content=t) for t in TEXTS]
    # truncation_direction also sends "truncate": true and "Left"; these texts are short
    ranked = ranker.run(
        query=QUERY, documents=documents, truncation_direction=TruncationDirection.LEFT
    )["documents"]
    assert len(ranked) == len(TEXTS)
    order = [int(i) for i in np.argsort(-expected_logits)]
    assert [d.content for d in ranked] == [TEXTS[i] for i in order]
    for document, i in zip(ranked, order, strict=True):
        assert document.score == pytest.approx(expected_logits[i], abs=1e-5)


# --- Haystack: HuggingFaceAPISparseTextEmbedder (bge-m3's lexical weights) ---
def test_haystack_sparse_embedder_gets_the_bge_m3_lexical_weights(
    server: ServerProcess, server_http: httpx.Client
) -> None:
    embedder = HuggingFaceAPISparseTextEmbedder(api_base_url=server.url, token=haystack_token())
    expected = native_sparse(server_http, [TEXTS[0], TEXTS[2]])
    for text, reference in zip([TEXTS[0], TEXTS[2]], expected, strict=True):
        sparse = embedder.run(text)["sparse_embedding"]
        assert isinstance(sparse, SparseEmbedding)
        assert len(sparse.indices) > 0
        assert_sparse(sparse.indices, sparse.values, reference)


async def test_haystack_sparse_embedder_async(
    server: ServerProcess, server_http: httpx.Client
) -> None:
    embedder = HuggingFaceAPISparseTextEmbedder(
        api_base_url=f"{server.url}/",  # a trailing slash must not double up in the path
        token=haystack_token(),
    )
    (expected,) = native_sparse(server_http, [TEXTS[3]])
    sparse = (await embedder.run_async(TEXTS[3]))["sparse_embedding"]
    assert_sparse(sparse.indices, sparse.values, expected)


# --- huggingface_hub: InferenceClient.feature_extraction ---
@pytest.fixture(scope="module")
def hub(server: ServerProcess) -> InferenceClient:
    # A URL as the model: the client posts to it as is, i.e. to POST / on the server root
    return InferenceClient(model=server.url, token=API_TOKEN)


def test_hub_feature_extraction_is_one_normalized_row(
    hub: InferenceClient, expected_dense: np.ndarray, expected_raw_dense: np.ndarray
) -> None:
    vector = hub.feature_extraction(TEXTS[0])
    assert vector.dtype == np.float32
    assert vector.shape == (1, DIM)
    assert_vectors(vector[0], expected_dense[0])
    raw = hub.feature_extraction(TEXTS[1], normalize=False, truncate=True)
    assert_vectors(raw[0], expected_raw_dense[1])


def test_hub_base_url_alias_and_list_input(
    server: ServerProcess, expected_dense: np.ndarray
) -> None:
    client = InferenceClient(base_url=server.url, api_key=API_TOKEN)
    vectors = client.feature_extraction(TEXTS)  # type: ignore[arg-type]  # TEI takes a list
    assert vectors.shape == (len(TEXTS), DIM)
    assert_vectors(vectors, expected_dense)


def test_hub_truncation_direction_left_keeps_the_end(
    hub: InferenceClient, server_http: httpx.Client
) -> None:
    # "apple" and "cat" are one token each: the last MAX_TOKENS - 2 tokens are all "cat"
    kept = MAX_TOKENS - 2
    text = " ".join(["apple"] * 300 + ["cat"] * kept)
    tail, head = " ".join(["cat"] * kept), " ".join(["apple"] * 300 + ["cat"] * (kept - 300))
    expected_tail, expected_head = native_dense(server_http, [tail, head], normalize=True)
    left = hub.feature_extraction(text, truncate=True, truncation_direction="Left")
    assert_vectors(left[0], expected_tail)
    right = hub.feature_extraction(text, truncate=True, truncation_direction="Right")
    assert_vectors(right[0], expected_head)


def test_hub_truncate_false_on_an_over_long_text_is_teis_413(hub: InferenceClient) -> None:
    text = " ".join(["apple"] * (MAX_TOKENS + 10))
    with pytest.raises(HfHubHTTPError) as caught:
        hub.feature_extraction(text, truncate=False)
    response = caught.value.response
    assert response is not None and response.status_code == 413
    body = response.json()
    assert set(body) == {"error", "error_type"}
    assert body["error_type"] == "Validation"


async def test_hub_async_client(server: ServerProcess, expected_dense: np.ndarray) -> None:
    client = AsyncInferenceClient(model=server.url, token=API_TOKEN)
    vector = await client.feature_extraction(TEXTS[4])
    assert vector.shape == (1, DIM)
    assert_vectors(vector[0], expected_dense[4])


# --- docs/clients.md: every snippet of its TEI sections runs (or, for a database, is checked)
DOC = REPO / "docs" / "clients.md"
DOC_URL = "http://localhost:8000"
DOC_TOKEN = "unused"  # the guide's stand-in for API_TOKEN (auth off accepts any bearer token)
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
CLIENT_SECTIONS = ("LlamaIndex", "Haystack", "huggingface_hub", "Token ids")
DATABASE_SECTIONS = ("Milvus", "Weaviate", "Elasticsearch")


def tei_blocks() -> list[tuple[str, str, str]]:
    """(### heading, language, code) of every fenced block in the guide's ``## TEI`` section."""
    text = DOC.read_text()
    start = text.index("\n## TEI")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    blocks = []
    for chunk in re.split(r"^(?=### )", section, flags=re.MULTILINE)[1:]:
        heading = chunk.splitlines()[0].removeprefix("### ").strip()
        blocks += [(heading, lang, code) for lang, code in FENCE.findall(chunk)]
    return blocks


def doc_blocks(language: str, sections: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(h, code) for h, lang, code in tei_blocks() if lang == language and h in sections]


def for_the_test_server(code: str, server: ServerProcess) -> str:
    return code.replace(DOC_URL, server.url).replace(DOC_TOKEN, API_TOKEN)


def test_every_tei_block_of_the_guide_is_exercised() -> None:
    # The doc tests below are parametrized from the guide: one of a kind they do not handle
    # (or a section they miss) would go untested, so it fails here instead.
    kinds = {(heading, lang) for heading, lang, _ in tei_blocks()}
    handled = (
        {(h, "python") for h in (*CLIENT_SECTIONS, "Milvus", "Weaviate")}
        | {(h, "http") for h in DATABASE_SECTIONS}
        | {("Elasticsearch", "console")}
    )
    assert kinds == handled


def check_llamaindex(ns: dict[str, Any], http: httpx.Client) -> None:
    assert_vectors(ns["vectors"], native_dense(http, ns["texts"], normalize=True))
    assert_vectors(ns["query_vector"], native_dense(http, [ns["query"]], normalize=True)[0])
    scores = sigmoid(native_logits(http, ns["query"], ns["texts"]))
    order = np.argsort(-scores)[:2]
    assert [n.node.get_content() for n in ns["best"]] == [ns["texts"][i] for i in order]
    assert [n.score for n in ns["best"]] == pytest.approx(list(scores[order]), abs=1e-6)


def check_haystack(ns: dict[str, Any], http: httpx.Client) -> None:
    assert_vectors(ns["embedding"], native_dense(http, [ns["query"]], normalize=True)[0])
    (sparse,) = native_sparse(http, [ns["query"]])
    assert_sparse(ns["sparse_embedding"].indices, ns["sparse_embedding"].values, sparse)
    scores = sigmoid(native_logits(http, ns["query"], ns["texts"]))
    order = np.argsort(-scores)[:2]
    assert [d.content for d in ns["ranked"]] == [ns["texts"][i] for i in order]
    assert [d.score for d in ns["ranked"]] == pytest.approx(list(scores[order]), abs=1e-6)


def check_hub(ns: dict[str, Any], http: httpx.Client) -> None:
    assert_vectors(ns["vector"], native_dense(http, [ns["query"]], normalize=True))


def check_token_ids(ns: dict[str, Any], http: httpx.Client) -> None:
    text = ns["text"]
    assert ns["ids"][0] == 0 and ns["ids"][-1] == 2  # <s> ... </s>
    assert_vectors(ns["from_ids"], native_dense(http, [text], normalize=True)[0])
    assert_vectors(ns["from_text"], native_dense(http, [text], normalize=True)[0])
    (sparse,) = native_sparse(http, [text])
    indices = [entry["index"] for entry in ns["sparse"]]
    assert_sparse(indices, [entry["value"] for entry in ns["sparse"]], sparse)
    assert set(indices) <= set(ns["ids"])


DOC_CHECKS: dict[str, Callable[[dict[str, Any], httpx.Client], None]] = {
    "LlamaIndex": check_llamaindex,
    "Haystack": check_haystack,
    "huggingface_hub": check_hub,
    "Token ids": check_token_ids,
}


@pytest.mark.parametrize(
    ("heading", "code"),
    [pytest.param(h, code, id=h) for h, code in doc_blocks("python", CLIENT_SECTIONS)],
)
def test_doc_client_snippet_runs_and_matches_native(
    heading: str, code: str, server: ServerProcess, server_http: httpx.Client, capsys: Any
) -> None:
    code = for_the_test_server(code, server)
    assert DOC_URL not in code and API_TOKEN in code
    namespace: dict[str, Any] = {"__name__": "docs_snippet"}
    exec(compile(code, f"docs/clients.md ({heading})", "exec"), namespace)
    DOC_CHECKS[heading](namespace, server_http)
    assert capsys.readouterr().out.strip(), "the snippet prints what it got"


def parse_http(block: str) -> tuple[str, str, dict[str, str], Any]:
    head, _, body = block.partition("\n\n")
    request_line, *header_lines = head.splitlines()
    method, path = request_line.split()
    headers = dict(line.split(": ", 1) for line in header_lines)
    return method, path, headers, json.loads(body)


def expected_tei_answer(path: str, body: dict[str, Any], http: httpx.Client) -> np.ndarray:
    """What TEI's route answers for ``body``, computed from the native API."""
    if path in {"/", "/embed"}:
        inputs = body["inputs"] if isinstance(body["inputs"], list) else [body["inputs"]]
        return native_dense(http, inputs, normalize=body.get("normalize", True))
    if path == "/rerank":
        logits = native_logits(http, body["query"], body["texts"])
        return logits if body.get("raw_scores") else sigmoid(logits)
    raise AssertionError(f"the guide shows {path}; add its native reference here")


@pytest.mark.parametrize(
    ("heading", "block"),
    [
        pytest.param(h, block, id=f"{h} {block.split()[1]}")
        for h, block in doc_blocks("http", DATABASE_SECTIONS)
    ],
)
def test_doc_database_request_gets_teis_answer(
    heading: str, block: str, server: ServerProcess, server_http: httpx.Client
) -> None:
    """The exact request a vector database sends, as the guide shows it, answers as TEI."""
    method, path, headers, body = parse_http(for_the_test_server(block, server))
    r = httpx.request(method, f"{server.url}{path}", headers=headers, json=body, timeout=60)
    assert r.status_code == 200, r.text
    expected = expected_tei_answer(path, body, server_http)
    if path != "/rerank":
        assert_vectors(r.json(), expected)
        return
    results = r.json()
    assert sorted(item["index"] for item in results) == list(range(len(body["texts"])))
    scores = [item["score"] for item in results]
    assert scores == sorted(scores, reverse=True)
    for item in results:
        assert item["score"] == pytest.approx(expected[item["index"]], abs=1e-6)
        if body.get("return_text"):
            assert item["text"] == body["texts"][item["index"]]
        else:
            assert "text" not in item


def shown_requests() -> dict[tuple[str, str], tuple[dict[str, str], dict[str, Any]]]:
    shown = {}
    for heading, block in doc_blocks("http", DATABASE_SECTIONS):
        method, path, headers, body = parse_http(block)
        assert method == "POST"
        assert headers == {
            "Authorization": f"Bearer {DOC_TOKEN}",
            "Content-Type": "application/json",
        }
        shown[(heading, path)] = (headers, body)
    return shown


def keyword_value(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:  # a name such as FunctionType.RERANK: its source text
        return ast.unparse(node)


def calls_in(code: str, name: str) -> list[dict[str, Any]]:
    """The keyword arguments of every ``name(...)`` call in ``code``, in source order."""
    calls = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith(name):
            calls.append((node.lineno, {k.arg: keyword_value(k.value) for k in node.keywords}))
    return [kwargs for _, kwargs in sorted(calls, key=lambda call: call[0])]


def test_doc_milvus_config_matches_what_milvus_sends() -> None:
    """Milvus runs the function, not this test: its config must name the server and the TEI
    provider, and the request shown must be what Milvus builds from that config (its
    models/tei/tei.go: the endpoint's path replaced, ``truncate`` only when true)."""
    ((_, code),) = doc_blocks("python", ("Milvus",))
    embed, rerank = calls_in(code, "Function")
    assert embed["function_type"] == "FunctionType.TEXTEMBEDDING"
    assert rerank["function_type"] == "FunctionType.RERANK"
    for config in (embed["params"], rerank["params"]):
        assert config["provider"].lower() == "tei"
        assert config["endpoint"] == DOC_URL
        assert config["truncation_direction"] in {"Left", "Right"}  # all Milvus accepts
    shown = shown_requests()
    _, embed_body = shown[("Milvus", "/embed")]
    assert set(embed_body) == {"inputs", "truncate", "truncation_direction"}
    assert embed_body["truncate"] is (embed["params"]["truncate"] == "true")
    assert embed_body["truncation_direction"] == embed["params"]["truncation_direction"]
    _, rerank_body = shown[("Milvus", "/rerank")]
    assert set(rerank_body) == {"query", "texts", "truncate", "truncation_direction"}
    assert [rerank_body["query"]] == rerank["params"]["queries"]
    assert rerank_body["truncate"] is rerank["params"]["truncate"]


def test_doc_weaviate_config_matches_what_weaviate_sends() -> None:
    ((_, code),) = doc_blocks("python", ("Weaviate",))
    (config,) = calls_in(code, "text2vec_huggingface")
    assert config == {"endpoint_url": DOC_URL}  # posted to as is: the server root
    (weaviate,) = [key for key in shown_requests() if key[0] == "Weaviate"]
    assert weaviate == ("Weaviate", "/")
    _, body = shown_requests()[weaviate]
    # text2vec-huggingface's defaults: wait_for_model and use_gpu false (left out), use_cache true
    assert body == {"inputs": body["inputs"], "options": {"use_cache": True}}


def test_doc_elasticsearch_config_matches_what_elasticsearch_sends() -> None:
    ((_, console),) = doc_blocks("console", ("Elasticsearch",))
    endpoints = {}
    for request in re.split(r"\n\n(?=PUT )", console.strip()):
        request_line, _, body = request.partition("\n")
        method, path = request_line.split()
        assert method == "PUT" and path.startswith("_inference/")
        endpoints[path.split("/")[1]] = json.loads(body)
    assert set(endpoints) == {"text_embedding", "rerank"}
    for task, route in (("text_embedding", "/embed"), ("rerank", "/rerank")):
        assert endpoints[task]["service"] == "hugging_face"
        assert endpoints[task]["service_settings"] == {"api_key": DOC_TOKEN, "url": DOC_URL + route}
    shown = shown_requests()
    assert set(shown[("Elasticsearch", "/embed")][1]) == {"inputs"}
    _, rerank_body = shown[("Elasticsearch", "/rerank")]
    task_settings = endpoints["rerank"]["task_settings"]
    assert rerank_body["return_text"] is task_settings["return_documents"]
    assert rerank_body["top_n"] == task_settings["top_n"]
    assert set(rerank_body) == {"texts", "query", "return_text", "top_n"}
