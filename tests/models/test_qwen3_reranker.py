"""Qwen3-Reranker on a tiny random Qwen3ForCausalLM with the real Qwen vocabulary, checked
against the model card's own computation of P(yes)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from app.errors import ModelLoadError
from app.models.fronts.qwen3_reranker import ASSISTANT_SUFFIX, SYSTEM_PREFIX
from app.models.qwen3_reranker import Qwen3RerankerBackend

OFFICIAL_SUFFIX_AFTER_IM_END = [198, 151644, 77091, 198, 151667, 271, 151668, 271]
IM_END = 151645
DEFAULT_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"
QUERY = "What is the capital of China?"
PASSAGES = [
    "The capital of China is Beijing.",
    "Gravity is a force that attracts two bodies towards each other.",
    "北京是中国的首都",
    "ends with whitespace and punctuation?!  ",
    "",
]


@pytest.fixture(scope="module")
def qwen_tokenizer(qwen_models: dict[str, Path]) -> Any:
    return AutoTokenizer.from_pretrained(qwen_models["qwen3-reranker"])


@pytest.fixture(scope="module")
def reranker(qwen_models: dict[str, Path], load_backend: Callable[..., Any]) -> Any:
    return load_backend(Qwen3RerankerBackend, qwen_models["qwen3-reranker"])


def model_card_scores(
    model_dir: Path, query: str, documents: list[str], instruction: str, max_length: int = 8192
) -> np.ndarray:
    """The Qwen3-Reranker model card's reference code, written out independently."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    yes, no = tokenizer.convert_tokens_to_ids("yes"), tokenizer.convert_tokens_to_ids("no")
    prefix_ids = tokenizer.encode(SYSTEM_PREFIX, add_special_tokens=False)
    suffix_ids = tokenizer.encode(ASSISTANT_SUFFIX, add_special_tokens=False)
    pairs = [f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {d}" for d in documents]
    inputs = tokenizer(
        pairs,
        padding=False,
        truncation="longest_first",
        return_attention_mask=False,
        max_length=max_length - len(prefix_ids) - len(suffix_ids),
    )
    inputs["input_ids"] = [prefix_ids + ids + suffix_ids for ids in inputs["input_ids"]]
    batch = tokenizer.pad(inputs, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits[:, -1, :]
    pair = torch.stack([logits[:, no], logits[:, yes]], dim=1)
    return torch.nn.functional.log_softmax(pair, dim=1)[:, 1].exp().numpy()


def test_suffix_tokens_are_the_official_ids(
    qwen_models: dict[str, Path], reranker: Any, qwen_tokenizer: Any
) -> None:
    tokenizer = qwen_tokenizer
    suffix = tokenizer.encode(ASSISTANT_SUFFIX, add_special_tokens=False)
    assert suffix == [IM_END, *OFFICIAL_SUFFIX_AFTER_IM_END]
    assert reranker.tokenizer.template.suffix_ids == suffix
    assert tokenizer.convert_tokens_to_ids(["yes", "no"]) == [9693, 2152]
    assert tokenizer.padding_side == "left"


def test_scores_equal_the_model_card_reference(reranker: Any, qwen_models: dict[str, Path]) -> None:
    expected = model_card_scores(
        qwen_models["qwen3-reranker"], QUERY, PASSAGES, DEFAULT_INSTRUCTION
    )
    scores = reranker.score(reranker.tokenize_pairs(QUERY, PASSAGES))
    np.testing.assert_allclose(scores, expected, atol=1e-5)
    # A comparison that can fail: the tiny model's scores differ clearly between passages.
    assert float(np.ptp(expected)) > 0.05


def test_untruncated_ids_are_exactly_the_model_card_prompt(
    reranker: Any, qwen_models: dict[str, Path], qwen_tokenizer: Any
) -> None:
    tokenizer = qwen_tokenizer
    queries = [QUERY, "  spaced query ", "why?", "x\n"]
    for query in queries:
        pairs = reranker.tokenize_pairs(query, PASSAGES)
        for doc, pair in zip(PASSAGES, pairs, strict=True):
            text = (
                SYSTEM_PREFIX
                + f"<Instruct>: {DEFAULT_INSTRUCTION}\n<Query>: {query}\n<Document>: {doc}"
                + ASSISTANT_SUFFIX
            )
            assert pair.ids == tokenizer.encode(text, add_special_tokens=False), (query, doc)
            assert pair.query_kept == pair.query_tokens and pair.passage_kept == pair.passage_tokens


def test_token_counts_per_side(
    reranker: Any, qwen_models: dict[str, Path], qwen_tokenizer: Any
) -> None:
    tokenizer = qwen_tokenizer
    (pair,) = reranker.tokenize_pairs(QUERY, ["The capital of China is Beijing."])
    assert pair.query_tokens == len(tokenizer.encode(" " + QUERY)) == 7
    assert pair.passage_tokens == len(tokenizer.encode(" The capital of China is Beijing.")) == 7
    fixed = reranker.tokenizer.template.fixed_tokens
    # "?" and the template's following "\n" pre-tokenize as one token "?\n", counted with the
    # query (tokens belong where they start), so this prompt is one token under the template.
    assert len(pair.ids) == fixed + 14 - 1
    (plain,) = reranker.tokenize_pairs("capital of China", ["Beijing"])
    assert (plain.query_tokens, plain.passage_tokens) == (3, 1)
    assert len(plain.ids) == fixed + 4


def test_long_passage_is_cut_and_the_template_survives(
    reranker: Any,
    qwen_models: dict[str, Path],
    load_backend: Callable[..., Any],
    qwen_tokenizer: Any,
) -> None:
    fixed = reranker.tokenizer.template.fixed_tokens
    limit = fixed + 20
    backend = load_backend(
        Qwen3RerankerBackend, qwen_models["qwen3-reranker"], qwen_rerank_max_length=limit
    )
    template = backend.tokenizer.template
    passage = " ".join(f"word{i}" for i in range(40))
    short, long = backend.tokenize_pairs("capital of China", ["Beijing.", passage])
    assert short.passage_kept == short.passage_tokens  # a short pair is untouched
    assert long.query_kept == long.query_tokens == 3
    assert long.passage_kept == 20 - 3 < long.passage_tokens
    assert len(long.ids) == limit == backend.max_length
    assert long.ids[: len(template.head_ids)] == template.head_ids
    assert long.ids[-len(template.suffix_ids) :] == template.suffix_ids
    tokenizer = qwen_tokenizer
    document = tokenizer.encode(" " + passage)[: long.passage_kept]
    assert long.ids[-len(template.suffix_ids) - len(document) : -len(template.suffix_ids)] == (
        document
    )
    scores = backend.score([short, long])
    assert scores.shape == (2,) and np.all((scores > 0) & (scores < 1))


def test_long_query_is_cut_but_keeps_half_the_budget(
    reranker: Any, qwen_models: dict[str, Path], load_backend: Callable[..., Any]
) -> None:
    limit = reranker.tokenizer.template.fixed_tokens + 20
    backend = load_backend(
        Qwen3RerankerBackend, qwen_models["qwen3-reranker"], qwen_rerank_max_length=limit
    )
    query = " ".join(f"q{i}" for i in range(30))  # 80 tokens: digits are single tokens
    short, long = backend.tokenize_pairs(query, ["a short passage", "long passage " * 20])
    # The query yields only what a short passage leaves unused, and never below half.
    assert (short.query_tokens, short.query_kept) == (80, 20 - 3)
    assert short.passage_kept == short.passage_tokens == 3
    assert (long.query_kept, long.passage_kept) == (10, 10)
    template = backend.tokenizer.template
    for pair in (short, long):
        assert len(pair.ids) == limit
        middle_at = len(template.head_ids) + pair.query_kept
        assert pair.ids[middle_at : middle_at + len(template.middle_ids)] == template.middle_ids
        assert pair.ids[-len(template.suffix_ids) :] == template.suffix_ids


def test_scores_are_probabilities_and_instruction_is_configurable(
    reranker: Any, qwen_models: dict[str, Path], load_backend: Callable[..., Any]
) -> None:
    assert Qwen3RerankerBackend.scores_are_probabilities
    scores = reranker.score(reranker.tokenize_pairs(QUERY, PASSAGES))
    np.testing.assert_array_equal(reranker.normalize(scores, True), scores)
    instruction = "Judge whether the passage names a city"
    custom = load_backend(
        Qwen3RerankerBackend, qwen_models["qwen3-reranker"], qwen_rerank_instruction=instruction
    )
    custom_scores = custom.score(custom.tokenize_pairs(QUERY, PASSAGES))
    expected = model_card_scores(qwen_models["qwen3-reranker"], QUERY, PASSAGES, instruction)
    np.testing.assert_allclose(custom_scores, expected, atol=1e-5)
    assert np.abs(custom_scores - scores).max() > 1e-3


def test_a_limit_below_the_template_fails_start_up(
    qwen_models: dict[str, Path], load_backend: Callable[..., Any]
) -> None:
    with pytest.raises(ModelLoadError, match="prompt template alone takes 72 tokens"):
        load_backend(Qwen3RerankerBackend, qwen_models["qwen3-reranker"], qwen_rerank_max_length=50)


def test_bfloat16_weights_score_close_to_float32(
    reranker: Any, qwen_models: dict[str, Path], load_backend: Callable[..., Any]
) -> None:
    half = load_backend(Qwen3RerankerBackend, qwen_models["qwen3-reranker"], dtype=torch.bfloat16)
    assert half.decoder.dtype == torch.bfloat16
    pairs = reranker.tokenize_pairs(QUERY, PASSAGES)
    scores = half.score(pairs)
    assert scores.dtype == np.float32
    np.testing.assert_allclose(scores, reranker.score(pairs), atol=0.05)
