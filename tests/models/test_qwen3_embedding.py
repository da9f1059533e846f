"""Qwen3-Embedding on a tiny random Qwen3Model with the real Qwen vocabulary."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from litestar.testing import TestClient
from sentence_transformers import SentenceTransformer
from transformers import AutoTokenizer

from app.errors import ModelLoadError
from app.models.base import Head
from app.models.pooling import matryoshka
from app.models.qwen3_embedding import Qwen3EmbeddingBackend, ensure_end_of_text, query_prompt
from app.models.qwen3_reranker import Qwen3RerankerBackend
from app.models.registry import embedding_backend_for, rerank_backend_for
from app.models.source import locate
from tests.helpers import wait_ready

END_OF_TEXT_ID = 151643
DEFAULT_TASK = "Given a web search query, retrieve relevant passages that answer the query"
TEXTS = [
    "hello world",
    "A much longer sentence about cats, dogs and the weather in Zürich?",
    "x",
    "数学是科学的语言",
]


@pytest.fixture(scope="module")
def qwen_embedder(qwen_models: dict[str, Path], load_backend: Callable[..., Any]) -> Any:
    return load_backend(Qwen3EmbeddingBackend, qwen_models["qwen3-embedding"])


@pytest.fixture(scope="module")
def reference(qwen_models: dict[str, Path]) -> SentenceTransformer:
    """sentence-transformers' own reading of the same checkpoint."""
    return SentenceTransformer(str(qwen_models["qwen3-embedding"]), device="cpu")


def _embed(backend: Any, texts: list[str], input_type: str = "document") -> np.ndarray:
    items = backend.embed(backend.tokenize(texts, input_type), backend.heads)
    return np.stack([item.dense for item in items])


def test_documents_equal_sentence_transformers_lasttoken(
    qwen_embedder: Any, reference: SentenceTransformer
) -> None:
    assert reference[1].pooling_mode == "lasttoken"
    expected = reference.encode(TEXTS, batch_size=len(TEXTS))
    np.testing.assert_allclose(_embed(qwen_embedder, TEXTS), expected, atol=1e-5)


def test_queries_get_the_instruction_and_equal_the_reference(
    qwen_embedder: Any, reference: SentenceTransformer
) -> None:
    expected = reference.encode(TEXTS, prompt=f"Instruct: {DEFAULT_TASK}\nQuery:")
    queries = _embed(qwen_embedder, TEXTS, "query")
    np.testing.assert_allclose(queries, expected, atol=1e-5)
    # The instruction changes the vector: a query is not embedded like a document.
    assert np.abs(queries - _embed(qwen_embedder, TEXTS)).max() > 1e-3


def test_query_task_comes_from_settings(
    qwen_models: dict[str, Path], load_backend: Callable[..., Any]
) -> None:
    task = "Find the code snippet that implements the described function"
    custom = load_backend(
        Qwen3EmbeddingBackend, qwen_models["qwen3-embedding"], qwen_embed_query_task=task
    )
    tokenizer = AutoTokenizer.from_pretrained(qwen_models["qwen3-embedding"])
    (item,) = custom.tokenize(["sort a list"], "query")
    assert item.ids == tokenizer(f"Instruct: {task}\nQuery:sort a list")["input_ids"]
    assert query_prompt(task) == f"Instruct: {task}\nQuery:"
    (doc,) = custom.tokenize(["sort a list"], "document")
    assert doc.ids == tokenizer("sort a list")["input_ids"]


def test_end_of_text_is_appended_and_batches_are_left_padded(qwen_embedder: Any) -> None:
    short, long = qwen_embedder.tokenize(["hi", "a longer text than the first"], "document")
    assert short.ids[-1] == END_OF_TEXT_ID and long.ids[-1] == END_OF_TEXT_ID
    assert short.ids.count(END_OF_TEXT_ID) == 1
    # Padding must not change a vector: batched equals one at a time.
    batched = _embed(qwen_embedder, TEXTS)
    alone = np.stack([_embed(qwen_embedder, [t])[0] for t in TEXTS])
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-6)


def test_a_tokenizer_without_end_of_text_gets_one(qwen_models: dict[str, Path]) -> None:
    # The plain Qwen tokenizer (as the reranker's, or an old Qwen3-Embedding revision)
    # adds nothing; the backend installs the model card's <|endoftext|> suffix.
    tokenizer = AutoTokenizer.from_pretrained(qwen_models["qwen-tokenizer"])
    assert tokenizer("hello")["input_ids"] == [14990]
    assert ensure_end_of_text(tokenizer) == END_OF_TEXT_ID
    assert tokenizer("hello")["input_ids"] == [14990, END_OF_TEXT_ID]
    ensure_end_of_text(tokenizer)  # idempotent: never two
    assert tokenizer("hello")["input_ids"] == [14990, END_OF_TEXT_ID]


def test_truncation_keeps_the_end_of_text_and_counts_exactly(
    qwen_models: dict[str, Path], load_backend: Callable[..., Any]
) -> None:
    backend = load_backend(
        Qwen3EmbeddingBackend, qwen_models["qwen3-embedding"], qwen_embed_max_length=8
    )
    text = "one two three four five six seven eight nine ten"
    (item,) = backend.tokenize([text], "document")
    full = AutoTokenizer.from_pretrained(qwen_models["qwen3-embedding"])(text)["input_ids"]
    assert item.original_tokens == len(full) == 11
    assert item.ids == [*full[:7], END_OF_TEXT_ID]
    assert backend.max_length == 8 and item.truncated


def test_matryoshka_dimensions_are_exposed(qwen_embedder: Any) -> None:
    assert Qwen3EmbeddingBackend.supports_dimensions is True
    assert qwen_embedder.info.dimension == 32
    vector = _embed(qwen_embedder, ["hello world"])[0]
    cut = matryoshka(vector, 8)
    np.testing.assert_allclose(cut, vector[:8] / np.linalg.norm(vector[:8]), atol=1e-7)
    assert abs(float(np.linalg.norm(cut)) - 1.0) < 1e-6
    with pytest.raises(ValueError, match="between 1 and 32"):
        matryoshka(vector, 33)


def test_registry_tells_qwen_embedder_from_qwen_reranker(qwen_models: dict[str, Path]) -> None:
    embedding = locate(str(qwen_models["qwen3-embedding"]))
    reranker = locate(str(qwen_models["qwen3-reranker"]))
    assert embedding_backend_for(embedding, "dense") is Qwen3EmbeddingBackend
    assert rerank_backend_for(reranker) is Qwen3RerankerBackend
    with pytest.raises(ModelLoadError, match="not a supported dense model"):
        embedding_backend_for(reranker, "dense")
    with pytest.raises(ModelLoadError, match="not a supported sparse model"):
        embedding_backend_for(embedding, "sparse")


def test_mixed_setup_reports_each_heads_model(
    make_client: Callable[..., TestClient],  # type: ignore[type-arg]
    qwen_models: dict[str, Path],
    tiny_models: dict[str, Path],
) -> None:
    """Qwen3 dense + bge-m3 sparse/ColBERT + Qwen3 reranker, through the HTTP API."""
    dense_dir, reranker_dir = qwen_models["qwen3-embedding"], qwen_models["qwen3-reranker"]
    with make_client(
        dense_embedding_model=str(dense_dir), reranker_model=str(reranker_dir)
    ) as client:
        wait_ready(client)
        r = client.post("/embeddings/", json={"sentences": ["hello world", "x"]})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["model_name"] == body["dense_model_name"] == str(dense_dir)
        assert body["sparse_model_name"] == body["colbert_model_name"] == str(tiny_models["bge-m3"])
        first = body["data"][0]["embeddings"]
        assert len(first["dense"]) == 32
        assert first["sparse"] and len(first["colbert"][0]) == 32

        r = client.post(
            "/rerank", json={"query": "what is a cat?", "passages": ["a cat purrs", "stocks"]}
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["model_name"] == str(reranker_dir)
        scores = [result["score"] for result in body["results"]]
        assert all(0.0 <= s <= 1.0 for s in scores) and scores == sorted(scores, reverse=True)
        normalized = client.post(
            "/rerank",
            json={
                "query": "what is a cat?",
                "passages": ["a cat purrs", "stocks"],
                "normalize": True,
            },
        ).json()
        # Already probabilities: normalize must not apply a second sigmoid.
        assert [x["score"] for x in normalized["results"]] == pytest.approx(scores, abs=1e-6)


def test_backend_heads(qwen_embedder: Any) -> None:
    assert qwen_embedder.heads == frozenset({Head.DENSE})
    assert qwen_embedder.kind == "qwen3-embedding"


def test_bfloat16_weights_embed_close_to_float32(
    qwen_embedder: Any, qwen_models: dict[str, Path], load_backend: Callable[..., Any]
) -> None:
    half = load_backend(Qwen3EmbeddingBackend, qwen_models["qwen3-embedding"], dtype=torch.bfloat16)
    assert half.encoder.dtype == torch.bfloat16
    got = _embed(half, TEXTS)
    assert got.dtype == np.float32
    cosine = np.sum(got * _embed(qwen_embedder, TEXTS), axis=1)
    assert np.all(cosine > 0.99)


def test_a_causal_lm_checkpoint_with_sentence_transformers_files_is_an_embedder(
    qwen_embedder: Any,
    qwen_models: dict[str, Path],
    load_backend: Callable[..., Any],
    tmp_path: Path,
) -> None:
    # The published Qwen3-Embedding config names Qwen3ForCausalLM; its modules.json is what
    # marks it as an embedder (and keeps it away from the generic sentence-transformers one).
    source = qwen_models["qwen3-embedding"]
    for item in source.iterdir():
        (tmp_path / item.name).symlink_to(item)
    config = json.loads((source / "config.json").read_text())
    config["architectures"] = ["Qwen3ForCausalLM"]
    (tmp_path / "config.json").unlink()
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert embedding_backend_for(locate(str(tmp_path)), "dense") is Qwen3EmbeddingBackend
    relabelled = load_backend(Qwen3EmbeddingBackend, tmp_path)
    np.testing.assert_allclose(_embed(relabelled, TEXTS), _embed(qwen_embedder, TEXTS), atol=1e-6)
