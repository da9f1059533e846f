"""Our bge-m3 heads and bge reranker against FlagEmbedding, the reference implementation,
on the same tiny model (SPEC §9): equal within 1e-5."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from app.models.base import Head
from app.models.bge_m3 import BgeM3Backend
from app.models.cross_encoder import CrossEncoderBackend
from app.models.source import locate
from app.settings import Settings

TEXTS = [
    "hello world",
    "Ein kurzer deutscher Satz über Katzen und Hunde, die im Garten spielen.",
    "repeat repeat repeat tokens tokens",
    "短い日本語の文です。",
    "x",
]
PAIRS = [
    ("what is a cat", "a cat is a small domesticated carnivorous mammal"),
    ("what is a cat", "the stock market fell sharply on monday"),
    ("wie spät ist es", "es ist halb drei"),
]


@pytest.fixture(scope="module")
def ours(tiny_models: dict[str, Path]) -> BgeM3Backend:
    return BgeM3Backend(
        locate(str(tiny_models["bge-m3"])),
        name="tiny",
        device=torch.device("cpu"),
        dtype=torch.float32,
        settings=Settings(),
    )


@pytest.fixture(scope="module")
def reference(tiny_models: dict[str, Path]) -> dict[str, object]:
    from FlagEmbedding import BGEM3FlagModel

    def encode(normalize: bool) -> dict[str, object]:
        model = BGEM3FlagModel(
            str(tiny_models["bge-m3"]),
            use_fp16=False,
            devices="cpu",
            normalize_embeddings=normalize,
        )
        out: dict[str, object] = model.encode(
            TEXTS, return_dense=True, return_sparse=True, return_colbert_vecs=True, max_length=512
        )
        return out

    return {"normalized": encode(True), "raw": encode(False)}


def test_dense_matches_flagembedding_raw_and_normalized(
    ours: BgeM3Backend, reference: dict[str, dict[str, np.ndarray]]
) -> None:
    items = ours.embed(ours.tokenize(TEXTS, "document"), frozenset({Head.DENSE}))
    dense = np.stack([item.dense for item in items])
    np.testing.assert_allclose(dense, reference["raw"]["dense_vecs"], atol=1e-5)
    unit = dense / np.linalg.norm(dense, axis=1, keepdims=True)
    np.testing.assert_allclose(unit, reference["normalized"]["dense_vecs"], atol=1e-5)


def test_sparse_matches_flagembedding(ours: BgeM3Backend, reference: dict[str, dict]) -> None:
    items = ours.embed(ours.tokenize(TEXTS, "document"), frozenset({Head.SPARSE}))
    nonempty = 0
    for item, expected in zip(items, reference["raw"]["lexical_weights"], strict=True):
        assert item.sparse is not None
        indices, values = item.sparse.indices.tolist(), item.sparse.values.tolist()
        got = dict(zip(map(str, indices), values, strict=True))
        assert got.keys() == expected.keys()
        for token, weight in expected.items():
            assert got[token] == pytest.approx(float(weight), abs=1e-5)
        nonempty += bool(got)
    assert nonempty >= 3  # the comparison must not pass on empty vectors


def test_colbert_matches_flagembedding(ours: BgeM3Backend, reference: dict[str, dict]) -> None:
    tokenized = ours.tokenize(TEXTS, "document")
    items = ours.embed(tokenized, frozenset({Head.COLBERT}))
    for item, tokens, expected in zip(
        items, tokenized, reference["normalized"]["colbert_vecs"], strict=True
    ):
        assert item.colbert is not None
        assert item.colbert.shape == (len(tokens.ids) - 1, 32)
        np.testing.assert_allclose(item.colbert, expected, atol=1e-5)


def test_only_requested_heads_are_computed(ours: BgeM3Backend) -> None:
    (item,) = ours.embed(ours.tokenize(["only sparse"], "document"), frozenset({Head.SPARSE}))
    assert item.dense is None and item.colbert is None and item.sparse is not None


def test_batched_equals_alone(ours: BgeM3Backend) -> None:
    """Padding inside a mixed-length batch must not change any text's vectors."""
    tokenized = ours.tokenize(TEXTS, "document")
    together = ours.embed(tokenized, frozenset(Head))
    for tokens, batched in zip(tokenized, together, strict=True):
        (alone,) = ours.embed([tokens], frozenset(Head))
        np.testing.assert_allclose(batched.dense, alone.dense, atol=1e-5)
        np.testing.assert_allclose(batched.colbert, alone.colbert, atol=1e-5)
        np.testing.assert_array_equal(batched.sparse.indices, alone.sparse.indices)


def test_reranker_matches_flagembedding(tiny_models: dict[str, Path]) -> None:
    from FlagEmbedding import FlagReranker

    backend = CrossEncoderBackend(
        locate(str(tiny_models["bge-reranker"])),
        name="tiny",
        device=torch.device("cpu"),
        dtype=torch.float32,
        settings=Settings(),
    )
    raw = np.concatenate([backend.score(backend.tokenize_pairs(q, [p])) for q, p in PAIRS])
    reference = FlagReranker(str(tiny_models["bge-reranker"]), use_fp16=False, devices="cpu")
    expected = np.array(reference.compute_score([list(p) for p in PAIRS]))
    np.testing.assert_allclose(raw, expected, atol=1e-5)
    expected_sigmoid = np.array(reference.compute_score([list(p) for p in PAIRS], normalize=True))
    np.testing.assert_allclose(backend.normalize(raw, True), expected_sigmoid, atol=1e-5)
    assert len(set(np.round(raw, 6))) == len(PAIRS)  # distinct scores: the test can fail
