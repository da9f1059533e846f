"""Qwen3-Reranker: a causal LM asked whether a document meets a query; score = P("yes").

The prompt is the model card's: a fixed system turn, a user turn
``<Instruct>: {instruction}\\n<Query>: {query}\\n<Document>: {doc}``, and the assistant
prefix with an empty think block. The score is softmax over the ``no``/``yes`` logits at the
last position, i.e. sigmoid(yes - no), so it is already a probability.

The prompt's tokenization is the family's front (``app/models/fronts/qwen3_reranker.py``),
which the API process holds without torch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM, AutoTokenizer

from app.errors import ModelLoadError
from app.models.base import ModelInfo, TokenizedPair
from app.models.fronts.qwen3_reranker import PairPromptTokenizer, Qwen3RerankerFront
from app.models.runtime import pad_batch
from app.models.source import ModelDir
from app.settings import Settings


class Qwen3RerankerBackend(Qwen3RerankerFront):
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
