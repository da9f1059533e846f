"""Qwen3-Embedding: a decoder-only model whose embedding is the last token's hidden state.

As the model card defines it: texts end with ``<|endoftext|>`` (current tokenizers append it
through their post-processor; for an older tokenizer without one we install it), batches are
left-padded so the last position is every row's last real token, the pooled state is
L2-normalised, and a query is prefixed with ``Instruct: {task}\\nQuery:``. Matryoshka-trained,
so clients may ask for fewer dimensions. Parity with sentence-transformers' ``lasttoken``
pooling is tested.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from tokenizers.processors import TemplateProcessing
from transformers import AutoModel, AutoTokenizer, PreTrainedTokenizerBase

from app.errors import ModelLoadError
from app.models.base import (
    Head,
    ItemEmbedding,
    ModelInfo,
    TokenizedText,
)
from app.models.fronts.qwen3_embedding import Qwen3EmbeddingFront, query_prompt
from app.models.pooling import l2_normalize
from app.models.runtime import pad_batch
from app.models.source import ModelDir
from app.models.tokenization import TextTokenizer
from app.settings import Settings

END_OF_TEXT = "<|endoftext|>"


def ensure_end_of_text(tokenizer: PreTrainedTokenizerBase) -> int:
    """Make the tokenizer append ``<|endoftext|>`` to every text, as the model expects.

    Returns the token's id. A tokenizer that already appends it is left as it is.
    """
    eod_id = tokenizer.convert_tokens_to_ids(END_OF_TEXT)
    if not isinstance(eod_id, int) or eod_id == tokenizer.unk_token_id:
        raise ValueError(f"the tokenizer has no {END_OF_TEXT} token")
    backend = tokenizer.backend_tokenizer
    probe = backend.encode("probe", add_special_tokens=True).ids
    if not probe or probe[-1] != eod_id:
        backend.post_processor = TemplateProcessing(
            single=f"$A:0 {END_OF_TEXT}:0",
            pair=f"$A:0 {END_OF_TEXT}:0 $B:1 {END_OF_TEXT}:1",
            special_tokens=[(END_OF_TEXT, eod_id)],
        )
    return eod_id


class Qwen3EmbeddingBackend(Qwen3EmbeddingFront):
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
        # AutoModel loads the bare Qwen3Model from either checkpoint layout (with or without
        # the ``model.`` prefix of a causal-LM save); no LM head is kept.
        self.encoder = AutoModel.from_pretrained(model_dir.path, dtype=dtype)
        self.encoder.to(device).eval()
        tokenizer = AutoTokenizer.from_pretrained(model_dir.path)
        try:
            ensure_end_of_text(tokenizer)
        except ValueError as exc:
            raise ModelLoadError(f"model {model_dir.ref}: {exc}") from None
        limit = min(
            settings.qwen_embed_max_length, int(self.encoder.config.max_position_embeddings)
        )
        self.tokenizer = TextTokenizer(tokenizer, limit)
        self.query_prefix = query_prompt(settings.qwen_embed_query_task)
        self.info = ModelInfo(
            name=name,
            kind=self.kind,
            source=str(model_dir.path),
            max_length=limit,
            dimension=int(self.encoder.config.hidden_size),
            extra={
                "pooling": "lasttoken",
                "normalized": True,
                "query_task": settings.qwen_embed_query_task,
            },
        )

    @torch.inference_mode()
    def embed(self, batch: Sequence[TokenizedText], heads: frozenset[Head]) -> list[ItemEmbedding]:
        # Left padding puts every row's final token (the appended <|endoftext|>) last.
        ids, mask = pad_batch([t.ids for t in batch], self.tokenizer.pad_id, self.device, left=True)
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        dense = l2_normalize(hidden[:, -1]).cpu().numpy()
        return [ItemEmbedding(dense=row) for row in dense]
