"""Any sentence-transformers dense encoder: a transformers encoder, then the pooling and the
normalisation that the model's own ``modules.json`` declares.

Supported module chain: Transformer → Pooling (cls / mean / max / mean_sqrt_len_tokens /
lasttoken, alone or combined) → optional Normalize. Anything else (Dense, LayerNorm, …) fails
start-up with a line naming the module, rather than serving vectors the model never meant.
The query/document prompts of ``config_sentence_transformers.json`` are prefixed as
sentence-transformers does. Parity with ``SentenceTransformer.encode`` is tested.

A mean-pooled model does late chunking: a text sent with ``spans`` gets the mean of each
span's token states (normalised if the model normalises) instead of its own vector.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import AutoModel

from app.models.base import (
    Head,
    ItemEmbedding,
    ModelInfo,
    TokenizedText,
)
from app.models.fronts.sentence_transformer import (
    SentenceTransformerFront,
    position_limit,
    read_layout,
)
from app.models.late_pooling import row_spans, span_means
from app.models.pooling import l2_normalize, pool
from app.models.pretrained_tokenizer import load_tokenizer
from app.models.runtime import pad_batch
from app.models.source import ModelDir
from app.models.tokenization import TextTokenizer
from app.models.transfer import to_host
from app.settings import Settings


class SentenceTransformerBackend(SentenceTransformerFront):
    def __init__(
        self,
        model_dir: ModelDir,
        *,
        name: str,
        device: torch.device,
        dtype: torch.dtype,
        settings: Settings,
    ) -> None:
        self.layout = read_layout(model_dir)
        self.device = device
        self.encoder = AutoModel.from_pretrained(self.layout.transformer_dir, dtype=dtype)
        self.encoder.to(device).eval()
        tokenizer = load_tokenizer(self.layout.transformer_dir)
        limit = min(
            settings.bge_embed_max_length,
            self.layout.max_seq_length or settings.bge_embed_max_length,
            position_limit(self.encoder.config),
        )
        self.left_padding = tokenizer.padding_side == "left"
        self.truncation_side = tokenizer.truncation_side  # type: ignore[misc]
        self.tokenizer = TextTokenizer(tokenizer, limit, truncation_side=self.truncation_side)
        hidden = int(self.encoder.config.hidden_size)
        self.info = ModelInfo(
            name=name,
            kind=self.kind,
            source=str(model_dir.path),
            max_length=limit,
            dimension=hidden * len(self.layout.pooling),
            extra={"pooling": "+".join(self.layout.pooling), "normalized": self.layout.normalize},
        )
        # Late chunking pools a chunk's tokens as the model pools a text's: only a mean-pooled
        # model's vector is that (right padding keeps span positions as sent; a lower-cased
        # text could move the chunks' character offsets).
        self.pools_spans = (
            self.layout.pooling == ("mean",)
            and not self.left_padding
            and not self.layout.do_lower_case
        )
        # one pass over a document may use every position (MiniLM: 512, not its 256 limit)
        self.window_tokens = min(settings.bge_embed_max_length, position_limit(self.encoder.config))

    @torch.inference_mode()
    def embed(self, batch: Sequence[TokenizedText], heads: frozenset[Head]) -> list[ItemEmbedding]:
        ids, mask = pad_batch(
            [t.ids for t in batch], self.tokenizer.pad_id, self.device, left=self.left_padding
        )
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        vectors = pool(hidden, mask, self.layout.pooling)
        spans = row_spans(batch)
        wanted = [vectors]
        if spans:
            # late chunking (only offered for mean pooling): the mean of each span's tokens
            wanted.append(span_means(hidden, spans))
        if self.layout.normalize:
            wanted = [l2_normalize(v) for v in wanted]
        arrays = to_host(wanted)
        out: list[ItemEmbedding] = []
        chunk_rows = iter(arrays[1]) if spans else iter(())
        for row, text in enumerate(batch):
            if text.spans is None:
                out.append(ItemEmbedding(dense=arrays[0][row]))
            else:
                out.append(
                    ItemEmbedding(
                        chunks=[ItemEmbedding(dense=next(chunk_rows)) for _ in text.spans]
                    )
                )
        return out
