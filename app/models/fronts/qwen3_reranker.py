"""Qwen3-Reranker's front: the prompt around each (query, document) pair, tokenized.

Tokenization keeps the template whole: the pair text is encoded once with offsets (the
exact ids the model card's code produces when nothing is cut), each token is assigned to the
template, the query or the document by where it starts, and only when the pair is over the
limit are document (and, for a very long query, query) tokens dropped from their ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tokenizers import Tokenizer

from app.models.fronts.base import RerankFront
from app.models.source import ModelDir
from app.models.tokenization import split_pair_budget
from app.models.tokens import TokenizedPair, TruncationSide

SYSTEM_PREFIX = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query "
    'and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n'
    "<|im_start|>user\n"
)
ASSISTANT_SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"


def user_turn(instruction: str, query: str, document: str) -> str:
    return f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {document}"


@dataclass(frozen=True)
class PromptTemplate:
    """The fixed parts of the prompt around a (query, document) pair, pre-tokenized."""

    head: str  # system turn + user turn up to (not including) the space before the query
    middle: str  # from the end of the query to (not including) the space before the document
    suffix: str
    head_ids: list[int]
    middle_ids: list[int]
    suffix_ids: list[int]

    @classmethod
    def build(cls, tokenizer: Tokenizer, instruction: str) -> PromptTemplate:
        head = SYSTEM_PREFIX + f"<Instruct>: {instruction}\n<Query>:"
        middle = "\n<Document>:"

        def ids(text: str) -> list[int]:
            return list(tokenizer.encode(text, add_special_tokens=False).ids)

        return cls(head, middle, ASSISTANT_SUFFIX, ids(head), ids(middle), ids(ASSISTANT_SUFFIX))

    @property
    def fixed_tokens(self) -> int:
        return len(self.head_ids) + len(self.middle_ids) + len(self.suffix_ids)


class PairPromptTokenizer:
    """Token ids of the full reranking prompt for each (query, document) pair."""

    def __init__(self, tokenizer: Tokenizer, instruction: str, max_length: int) -> None:
        self._tok = tokenizer
        self.template = PromptTemplate.build(tokenizer, instruction)
        if max_length < self.template.fixed_tokens + 2:
            raise ValueError(
                f"max length {max_length} leaves no room for a pair: the prompt template "
                f"alone takes {self.template.fixed_tokens} tokens"
            )
        self.max_length = max_length

    def encode_pairs(
        self, query: str, documents: Sequence[str], side: TruncationSide | None = None
    ) -> list[TokenizedPair]:
        """The query is cut from its end when it must be; the document from ``side``."""
        t = self.template
        # The query and document each start with the template's separating space: a split
        # point of the pre-tokenizer (after ":"), so the template's head tokens stay intact.
        texts = [f"{t.head} {query}{t.middle} {doc}{t.suffix}" for doc in documents]
        encodings = self._tok.encode_batch(texts, add_special_tokens=False)
        query_start = len(t.head)
        middle_start = query_start + 1 + len(query)
        budget = self.max_length - t.fixed_tokens
        out: list[TokenizedPair] = []
        for doc, enc in zip(documents, encodings, strict=True):
            doc_start = middle_start + len(t.middle)
            suffix_start = doc_start + 1 + len(doc)
            starts = np.fromiter((s for s, _ in enc.offsets), dtype=np.int64, count=len(enc.ids))
            # Token spans by where each token starts; the suffix opens with a special token,
            # so the document's last token never reaches into it.
            q_from, q_to = np.searchsorted(starts, [query_start, middle_start])
            d_from, d_to = np.searchsorted(starts, [doc_start, suffix_start])
            ids = list(enc.ids)
            q_len, d_len = int(q_to - q_from), int(d_to - d_from)
            q_keep, d_keep = split_pair_budget(q_len, d_len, budget)
            if (q_keep, d_keep) != (q_len, d_len):
                kept = (
                    ids[d_to - d_keep : d_to] if side == "left" else ids[d_from : d_from + d_keep]
                )
                if q_keep == q_len:
                    # Only the document is cut: everything before it is exactly as encoded.
                    ids = ids[:d_from] + kept + t.suffix_ids
                else:
                    ids = (
                        t.head_ids
                        + ids[q_from : q_from + q_keep]
                        + t.middle_ids
                        + kept
                        + t.suffix_ids
                    )
            out.append(
                TokenizedPair(
                    ids=ids,
                    query_tokens=q_len,
                    query_kept=q_keep,
                    passage_tokens=d_len,
                    passage_kept=d_keep,
                )
            )
        return out


class Qwen3RerankerFront(RerankFront):
    kind = "qwen3-reranker"
    scores_are_probabilities = True
    tokenizer: PairPromptTokenizer

    @classmethod
    def matches(cls, model_dir: ModelDir) -> bool:
        return model_dir.model_type == "qwen3" and "Qwen3ForCausalLM" in model_dir.architectures

    def tokenize_pairs(
        self, query: str, passages: Sequence[str], truncation_side: TruncationSide | None = None
    ) -> list[TokenizedPair]:
        return self.tokenizer.encode_pairs(query, passages, truncation_side)
