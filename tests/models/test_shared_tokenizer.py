"""Models that ship the same tokenizer files hold one Rust tokenizer in the engine
(``app.models.pretrained_tokenizer``): bge-m3 and its reranker read the same 17 MB XLM-R
tokenizer, which costs seconds to parse and about 280 MB to hold."""

from __future__ import annotations

from pathlib import Path

from app.models.base import Head
from app.models.catalog import ModelSet
from app.models.pretrained_tokenizer import load_tokenizer, shared_while_loading, tokenizer_digest
from app.testing import tiny_models as tiny


def test_bge_m3_and_its_reranker_share_one_tokenizer(tiny_model_set: ModelSet) -> None:
    embedder = tiny_model_set.by_head[Head.DENSE]
    assert tiny_model_set.reranker is not None
    assert embedder.tokenizer._tok is tiny_model_set.reranker.tokenizer._tok


def test_the_digest_follows_the_files(tiny_models: dict[str, Path]) -> None:
    xlmr = tokenizer_digest(tiny_models["bge-m3"])
    assert tokenizer_digest(tiny_models["bge-reranker"]) == xlmr
    assert tokenizer_digest(tiny.minilm_dir()) != xlmr


def test_wrappers_are_shared_only_while_a_model_set_loads(tiny_models: dict[str, Path]) -> None:
    with shared_while_loading():
        first = load_tokenizer(tiny_models["bge-m3"])
        assert load_tokenizer(tiny_models["bge-reranker"]) is first
        assert load_tokenizer(tiny.minilm_dir()) is not first
    assert load_tokenizer(tiny_models["bge-m3"]) is not first
