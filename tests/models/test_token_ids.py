"""Token-id inputs (TEI's): a text's ids, as the tokenizer gives them, are taken as they are and
cut by the rule the text is cut by, on each tokenizer family the server runs: XLM-R (bge-m3),
BERT word pieces (MiniLM) and Qwen's byte-level BPE with an appended ``<|endoftext|>``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from transformers import AutoTokenizer

from app.models.base import TokenIds
from app.models.qwen3_embedding import Qwen3EmbeddingBackend
from app.models.tokenization import TextTokenizer
from app.testing import tiny_models as tiny

TEXT = "Photosynthesis turns light, water and carbon dioxide into sugar in the leaves. " * 3
LIMIT = 12  # a small token limit, so that the text is cut


def bert() -> TextTokenizer:
    return TextTokenizer(
        AutoTokenizer.from_pretrained(tiny.minilm_dir()), LIMIT, with_type_ids=True
    )


def xlmr(tiny_models: dict[str, Path]) -> TextTokenizer:
    return TextTokenizer(AutoTokenizer.from_pretrained(tiny_models["bge-m3"]), LIMIT)


@pytest.mark.parametrize("family", ["xlmr", "bert"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_framed_ids_are_cut_as_their_text_is(
    family: str, side: str, tiny_models: dict[str, Path]
) -> None:
    tokenizer = xlmr(tiny_models) if family == "xlmr" else bert()
    (cut,) = tokenizer.encode([TEXT], side)  # type: ignore[arg-type]
    assert cut.truncated and len(cut.ids) == LIMIT
    full = [span.id for span in tokenizer.spans(TEXT)]
    (given,) = tokenizer.from_ids([TokenIds(full)], side)  # type: ignore[arg-type]
    assert given.ids == cut.ids
    assert given.original_tokens == cut.original_tokens == len(full)
    assert given.type_ids == cut.type_ids  # BERT's: all zero for one text


def test_ids_within_the_limit_are_taken_as_they_are(tiny_models: dict[str, Path]) -> None:
    tokenizer = xlmr(tiny_models)
    (given,) = tokenizer.from_ids([TokenIds([5, 6, 7])])
    assert (given.ids, given.original_tokens, given.truncated) == ([5, 6, 7], 3, False)


def test_unframed_ids_lose_the_asked_end_themselves(tiny_models: dict[str, Path]) -> None:
    tokenizer = xlmr(tiny_models)
    ids = list(range(100, 130))
    right, left = (tokenizer.from_ids([ids], side)[0] for side in ("right", "left"))  # type: ignore[arg-type]
    assert right.ids == ids[:LIMIT] and left.ids == ids[-LIMIT:]
    assert right.original_tokens == left.original_tokens == 30


def test_qwen3_embedding_ids_keep_the_appended_end_of_text(
    qwen_models: dict[str, Path], load_backend: Callable[..., Any]
) -> None:
    backend = load_backend(
        Qwen3EmbeddingBackend, qwen_models["qwen3-embedding"], qwen_embed_max_length=LIMIT
    )
    (cut,) = backend.tokenize([TEXT], "document")
    full = [span.id for span in backend.tokenizer.spans(TEXT)]
    assert full[-1] == cut.ids[-1] == tiny.QWEN_BPE_SIZE  # <|endoftext|>
    (given,) = backend.tokenize_inputs([TokenIds(full)], "document")
    assert given.ids == cut.ids
    # a query's instruction is a text's prompt; given ids get none
    (as_query,) = backend.tokenize_inputs([TokenIds(full[-4:])], "query")
    assert as_query.ids == full[-4:]
