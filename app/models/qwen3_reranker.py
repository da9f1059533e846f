"""Qwen3-Reranker: a causal LM asked whether a document meets a query; score = P("yes").

The prompt is the model card's: a fixed system turn, a user turn
``<Instruct>: {instruction}\\n<Query>: {query}\\n<Document>: {doc}``, and the assistant
prefix with an empty think block. The score is softmax over the ``no``/``yes`` logits at the
last position, i.e. sigmoid(yes - no), so it is already a probability.

Tokenization keeps the template whole: the pair text is encoded once with offsets (the
exact ids the model card's code produces when nothing is cut), each token is assigned to the
template, the query or the document by where it starts, and only when the pair is over the
limit are document (and, for a very long query, query) tokens dropped from their ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM, AutoTokenizer

from app.errors import ModelLoadError
from app.models.base import ModelInfo, RerankBackend, TokenizedPair, TruncationSide
from app.models.runtime import pad_batch
from app.models.source import ModelDir
from app.models.tokenization import split_pair_budget
from app.settings import Settings

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


class Qwen3RerankerBackend(RerankBackend):
    kind = "qwen3-reranker"
    scores_are_probabilities = True

    @classmethod
    def matches(cls, model_dir: ModelDir) -> bool:
        return model_dir.model_type == "qwen3" and "Qwen3ForCausalLM" in model_dir.architectures

    def __init__(
        self,
        model_dir: ModelDir,
        *,
        name: str,
        device: torch.device,
        dtype: torch.dtype,
        settings: Settings,
    ) -> None:
        self.device = device
        model = AutoModelForCausalLM.from_pretrained(model_dir.path, dtype=dtype)
        # Only two vocabulary rows of the LM head matter: run the decoder, then a 2-row
        # projection at the last position instead of full-vocabulary logits for every token.
        self.decoder = model.get_decoder().to(device).eval()
        tokenizer = AutoTokenizer.from_pretrained(model_dir.path)
        answer_ids = [tokenizer.convert_tokens_to_ids(word) for word in ("no", "yes")]
        if any(not isinstance(i, int) or i == tokenizer.unk_token_id for i in answer_ids):
            raise ModelLoadError(f"model {model_dir.ref}: tokenizer has no 'yes'/'no' tokens")
        head = model.get_output_embeddings()
        # Rows (no, yes), kept in float32: the score is a difference of two close logits.
        self.answer_head = head.weight[answer_ids].detach().to(device, torch.float32)
        bias = getattr(head, "bias", None)
        self.answer_bias = (
            None if bias is None else bias[answer_ids].detach().to(device, torch.float32)
        )
        del model
        limit = min(
            settings.qwen_rerank_max_length, int(self.decoder.config.max_position_embeddings)
        )
        pad = tokenizer.pad_token_id
        self.pad_id = int(
            pad if pad is not None else tokenizer.convert_tokens_to_ids("<|endoftext|>")
        )
        # The transformers wrapper is dropped after start-up, so its Rust tokenizer is ours.
        backend: Tokenizer = tokenizer.backend_tokenizer
        backend.no_truncation()
        backend.no_padding()
        try:
            self.tokenizer = PairPromptTokenizer(backend, settings.qwen_rerank_instruction, limit)
        except ValueError as exc:
            raise ModelLoadError(f"model {model_dir.ref}: {exc} (QWEN_RERANK_MAX_LENGTH)") from None
        self.info = ModelInfo(
            name=name,
            kind=self.kind,
            source=str(model_dir.path),
            max_length=limit,
            extra={"instruction": settings.qwen_rerank_instruction},
        )

    def tokenize_pairs(
        self, query: str, passages: Sequence[str], truncation_side: TruncationSide | None = None
    ) -> list[TokenizedPair]:
        return self.tokenizer.encode_pairs(query, passages, truncation_side)

    @torch.inference_mode()
    def score(self, batch: Sequence[TokenizedPair]) -> np.ndarray:
        # Left padding: the last position is every row's final prompt token.
        ids, mask = pad_batch([p.ids for p in batch], self.pad_id, self.device, left=True)
        last = self.decoder(input_ids=ids, attention_mask=mask).last_hidden_state[:, -1]
        logits = last.float() @ self.answer_head.T
        if self.answer_bias is not None:
            logits = logits + self.answer_bias
        # softmax over (no, yes), taking yes.
        return torch.sigmoid(logits[:, 1] - logits[:, 0]).cpu().numpy()
