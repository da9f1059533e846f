"""Generic sentence-transformers encoders: real all-MiniLM-L6-v2 weights and tiny BERT encoders
with each pooling mode, compared with ``SentenceTransformer.encode``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

from app.errors import ModelLoadError
from app.models.registry import embedding_backend_for
from app.models.sentence_transformer import SentenceTransformerBackend
from app.models.source import locate
from app.testing.tiny_models import minilm_dir

TEXTS = [
    "A man is eating food.",
    "Someone is having a meal.",
    "The stock market fell sharply today",
    "x",
    "a long text " * 150,  # over MiniLM's 256-token max_seq_length: truncated alike
]


def _embed(backend: Any, texts: list[str], input_type: str = "document") -> np.ndarray:
    items = backend.embed(backend.tokenize(texts, input_type), backend.heads)
    return np.stack([item.dense for item in items])


@pytest.fixture(scope="module")
def minilm(load_backend: Callable[..., Any]) -> Any:
    return load_backend(SentenceTransformerBackend, minilm_dir())


def test_minilm_equals_sentence_transformers(minilm: Any) -> None:
    reference = SentenceTransformer(str(minilm_dir()), device="cpu")
    expected = reference.encode(TEXTS, batch_size=len(TEXTS))
    got = _embed(minilm, TEXTS)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert got.shape == (5, 384) and minilm.info.dimension == 384
    # modules.json lists Normalize: unit vectors.
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)


def test_minilm_reads_its_limit_and_pooling_from_its_files(minilm: Any) -> None:
    assert minilm.max_length == 256  # sentence_bert_config.json, below BERT's 512
    assert minilm.layout.pooling == ("mean",) and minilm.layout.normalize
    (long,) = minilm.tokenize([TEXTS[-1]], "document")
    assert len(long.ids) == 256 and long.original_tokens == 452 and long.truncated


def test_minilm_ranks_a_paraphrase_above_an_unrelated_text(minilm: Any) -> None:
    query, paraphrase, unrelated = _embed(minilm, TEXTS[:3])
    assert float(query @ paraphrase) > float(query @ unrelated) + 0.3


@pytest.mark.parametrize("pooling", ["cls", "mean", "max", "lasttoken", "mean_sqrt_len_tokens"])
def test_each_pooling_mode_equals_sentence_transformers(
    pooling: str, st_models: Callable[..., Path], load_backend: Callable[..., Any]
) -> None:
    model_dir = st_models(pooling)
    backend = load_backend(SentenceTransformerBackend, model_dir)
    reference = SentenceTransformer(str(model_dir), device="cpu")
    texts = TEXTS[:4]
    np.testing.assert_allclose(_embed(backend, texts), reference.encode(texts), atol=1e-5)
    assert backend.layout.pooling == (pooling,) and not backend.layout.normalize


def test_combined_pooling_concatenates_like_sentence_transformers(
    st_models: Callable[..., Path], load_backend: Callable[..., Any], tmp_path: Path
) -> None:
    model_dir = tmp_path / "st-cls-mean"
    shutil.copytree(st_models("cls"), model_dir)
    pooling = {"word_embedding_dimension": 32, "pooling_mode": ["cls", "mean"]}
    (model_dir / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    backend = load_backend(SentenceTransformerBackend, model_dir)
    reference = SentenceTransformer(str(model_dir), device="cpu")
    np.testing.assert_allclose(_embed(backend, TEXTS[:3]), reference.encode(TEXTS[:3]), atol=1e-5)
    assert backend.info.dimension == 64


def test_prompts_from_the_model_config_are_applied_per_input_type(
    st_models: Callable[..., Path], load_backend: Callable[..., Any], tmp_path: Path
) -> None:
    model_dir = tmp_path / "st-prompts"
    shutil.copytree(st_models("mean", normalize=True), model_dir)
    prompts = {"query": "query: ", "document": "passage: "}
    (model_dir / "config_sentence_transformers.json").write_text(json.dumps({"prompts": prompts}))
    backend = load_backend(SentenceTransformerBackend, model_dir)
    reference = SentenceTransformer(str(model_dir), device="cpu")
    texts = TEXTS[:3]
    np.testing.assert_allclose(
        _embed(backend, texts, "query"), reference.encode(texts, prompt_name="query"), atol=1e-5
    )
    np.testing.assert_allclose(
        _embed(backend, texts), reference.encode(texts, prompt_name="document"), atol=1e-5
    )


def test_unsupported_module_fails_with_its_name(
    st_models: Callable[..., Path], load_backend: Callable[..., Any], tmp_path: Path
) -> None:
    model_dir = tmp_path / "st-dense"
    shutil.copytree(st_models("mean"), model_dir)
    modules = json.loads((model_dir / "modules.json").read_text())
    modules.append(
        {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}
    )
    (model_dir / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(ModelLoadError, match=r"module 'sentence_transformers\.models\.Dense'"):
        load_backend(SentenceTransformerBackend, model_dir)


def test_unsupported_pooling_mode_fails_clearly(
    st_models: Callable[..., Path], load_backend: Callable[..., Any], tmp_path: Path
) -> None:
    model_dir = tmp_path / "st-weighted"
    shutil.copytree(st_models("mean"), model_dir)
    pooling = {"word_embedding_dimension": 32, "pooling_mode_weightedmean_tokens": True}
    (model_dir / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    with pytest.raises(ModelLoadError, match="pooling mode weightedmean is not supported"):
        load_backend(SentenceTransformerBackend, model_dir)


def test_registry_serves_minilm_as_dense_only() -> None:
    model_dir = locate(str(minilm_dir()))
    assert embedding_backend_for(model_dir, "dense") is SentenceTransformerBackend
    with pytest.raises(ModelLoadError, match="not a supported sparse model; supported: bge-m3"):
        embedding_backend_for(model_dir, "sparse")


def test_bfloat16_weights_embed_close_to_float32(
    minilm: Any, load_backend: Callable[..., Any]
) -> None:
    half = load_backend(SentenceTransformerBackend, minilm_dir(), dtype=torch.bfloat16)
    assert half.encoder.dtype == torch.bfloat16
    got = _embed(half, TEXTS)
    assert got.dtype == np.float32
    assert np.all(np.sum(got * _embed(minilm, TEXTS), axis=1) > 0.99)
